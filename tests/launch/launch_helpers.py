"""Helpers for the launch-script tests: run a script with bash, split its printed commands like a shell."""

import os
import pathlib
import shlex
import shutil
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch"


def run_script(name, *args, env=None, cwd=None):
    environment = {**os.environ, **(env or {})}
    return subprocess.run(["bash", str(LAUNCH / name), *args], capture_output=True, text=True, env=environment,
                          cwd=cwd or REPO, timeout=60)


def printed_commands(result):
    """Each printed line as the argv a shell would build from it."""
    assert result.returncode == 0, result.stderr
    return [shlex.split(line) for line in result.stdout.splitlines() if line.strip()]


def tool_dir(directory, tools):
    """A PATH of symlinks to just `tools`, to show what a script does when something else is missing."""
    directory.mkdir()
    for tool in tools:
        path = shutil.which(tool)
        assert path, f"{tool} is needed by this test"
        (directory / tool).symlink_to(path)
    return str(directory)
