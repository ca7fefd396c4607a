"""Our lines on the console, not native libraries' start-up noise.

libtpu (when compiling for a TPU slice) and the JVM (Lucene, through Pyserini) write warnings straight to file
descriptor 2, past Python's sys.stderr. Inside `native_stderr_quieted` they go to a temporary file and reach the
console only when the block fails, so a real error keeps its context.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Iterator

SHOWN_ON_ERROR_CHARS = 4000


@contextlib.contextmanager
def native_stderr_quieted(*, expected: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Silences file descriptor 2 for the block; the captured text (its last SHOWN_ON_ERROR_CHARS characters) is
    written out if the block raises anything but an `expected` exception (one the caller reports itself)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except expected:
            raise
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode("utf-8", "replace")[-SHOWN_ON_ERROR_CHARS:])
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
