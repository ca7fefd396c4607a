"""Our lines on the console, not third-party libraries' noise.

`set_up_console` is what the command line (personalize.cli.main) does before a command runs: Python logging and
warnings of other libraries (absl, TensorFlow, Beam, JAX, Orbax, ...) reach the console only at ERROR, our own
loggers (`personalize.*`, `tasks.*`) at WARNING, and the lines that native code (TensorFlow's and XLA's C++ logging)
writes to file descriptor 2 below FATAL are dropped; `--verbose` lets all of it through. Every stage of our own
prints a header and ends with its wall time (`format_duration`).

libtpu (when compiling for a TPU slice) and the JVM (Lucene, through Pyserini) write warnings straight to file
descriptor 2, past Python's sys.stderr. Inside `native_stderr_quieted` they go to a temporary file and reach the
console only when the block fails, so a real error keeps its context.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import warnings
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


OUR_LOGGERS = ("personalize", "tasks")

# Native log lines below FATAL (absl / glog format, "I1202 19:55:35.626548    2000 port.cc:153] ...", or with the
# seconds since the epoch when logged before absl is initialised: "I0000 00:00:1796241105.626548 ..."), the
# banner absl prints before its logging is initialised, and the continuation of TensorFlow's CPU-feature notice.
NATIVE_NOISE = re.compile(
    r"[IWE]\d{4} \d\d:\d\d:\d+(\.\d+)? +\d+ [^ \]]+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|WARNING: Logging before InitGoogle\(\) is written to STDERR"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags"
)

# The filter is a child process, so the lines written just before a native crash (abort, segfault) still reach the
# console: it reads until every writer has closed the pipe, in its own session (Ctrl-C does not end it first).
_FILTER_SCRIPT = """
import re, sys
noise = re.compile(sys.argv[1].encode())
for line in sys.stdin.buffer:
    if not noise.match(line):
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
"""


class _OursOrErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or record.name.partition(".")[0] in OUR_LOGGERS


def format_duration(seconds: float) -> str:
    """A stage's wall time: 0.4s, 41s, 2m 05s, 1h 02m."""
    if seconds < 9.95:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(round(seconds), 60)
    if not minutes:
        return f"{seconds}s"
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def set_up_console(*, verbose: bool = False) -> None:
    """The command line's console, set once before a command runs (not for in-process callers such as tests).

    One root logging handler, so that no message is printed twice (TensorFlow adds a handler of its own to its logger
    when the root logger has none, and every record then reaches the console through both); stdout is line-buffered,
    so its lines keep their place among stderr's and a forked child cannot print a buffered line a second time.
    Unless `verbose`: other libraries' logging only at ERROR, their Python warnings not at all, and native code's
    log lines below FATAL dropped from file descriptor 2 (`NATIVE_NOISE`).
    """
    sys.stdout.reconfigure(line_buffering=True)
    if not verbose:
        _filter_native_stderr()
        warnings.simplefilter("ignore")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    if not verbose:
        handler.addFilter(_OursOrErrors())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def _filter_native_stderr() -> None:
    """File descriptor 2 becomes a pipe through a filter (a child process) that drops `NATIVE_NOISE`; Python's own
    sys.stderr keeps writing to the console directly, so our lines and tracebacks keep their order."""
    sys.stdout.flush()
    sys.stderr.flush()
    console = os.dup(2)
    try:
        child = subprocess.Popen([sys.executable, "-I", "-S", "-c", _FILTER_SCRIPT, NATIVE_NOISE.pattern],
                                 stdin=subprocess.PIPE, stdout=console, start_new_session=True)
    except OSError:  # no process to spare: the console stays as it is, noise included
        os.close(console)
        return
    os.dup2(child.stdin.fileno(), 2)
    child.stdin.close()
    sys.stderr = os.fdopen(os.dup(console), "w", buffering=1, encoding=sys.stderr.encoding,
                           errors="backslashreplace")

    def close() -> None:
        sys.stderr.flush()
        os.dup2(console, 2)  # the pipe's last write end in this process: the filter reads to its end and exits
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a child process of ours still holds the pipe; the filter outlives us
            pass

    atexit.register(close)
