"""Native libraries' writes to file descriptor 2 stay off the console, unless the block fails."""

import os
import subprocess
import sys

SCRIPT = """
import os, sys
from personalize.console import native_stderr_quieted
class Reported(Exception):
    pass
with native_stderr_quieted():
    os.write(2, b"NOISE-QUIET\\n")
try:
    with native_stderr_quieted(expected=(Reported,)):
        os.write(2, b"NOISE-EXPECTED\\n")
        raise Reported()
except Reported:
    pass
try:
    with native_stderr_quieted():
        os.write(2, b"CONTEXT-OF-FAILURE\\n")
        raise RuntimeError("boom")
except RuntimeError:
    pass
os.write(2, b"AFTER\\n")
"""


def test_noise_is_kept_off_and_shown_only_with_a_failure():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    assert result.stderr.splitlines() == ["CONTEXT-OF-FAILURE", "AFTER"]
