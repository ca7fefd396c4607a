import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
from queue import Empty, Queue

import numpy as np
import pytest
import resumable_run

pytestmark = pytest.mark.slow  # trains a tiny model in process and twice in a killed and restarted child

SCRIPT = pathlib.Path(resumable_run.__file__)
STEPS = 7


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return resumable_run.run(model_dir=str(tmp_path_factory.mktemp("reference")), train_steps=STEPS, block_at=-1)


@contextlib.contextmanager
def _started(model_dir, block_at):
    """The training script as a child process (it inherits the suite's eight devices); killed if the test fails."""
    process = subprocess.Popen([sys.executable, str(SCRIPT), str(model_dir), str(STEPS), str(block_at)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _read_until(process, marker, *, timeout):
    """The child's lines up to the one with `marker`; an error when it ends or stays silent past `timeout`.

    The lines are read by a thread, so a child that hangs without printing cannot block the test past its deadline.
    """
    lines, queue = [], Queue()

    def forward():
        for line in process.stdout:
            queue.put(line)
        queue.put(None)

    threading.Thread(target=forward, daemon=True).start()
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = queue.get(timeout=left)
        except Empty:
            break
        if line is None:
            break
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} not seen within {timeout} s; output:\n{''.join(lines)}")


def _wait_for(path, *, timeout):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def test_killed_run_resumes_at_the_same_data_position(tmp_path, uninterrupted):
    with _started(tmp_path, block_at=5) as process:
        _read_until(process, "BLOCKED", timeout=240)
        _wait_for(tmp_path / "checkpoints" / "4" / "commit_success.txt", timeout=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert not (tmp_path / "final_params.npz").exists()

    with _started(tmp_path, block_at=-1) as restarted:
        output, _ = restarted.communicate(timeout=240)
    assert restarted.returncode == 0, output
    assert "resumed from checkpoint step 4 at data position 4" in output
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 5, 6, 7]  # step 5 ran before the kill and again after the restart
    resumed = np.load(tmp_path / "final_params.npz")
    assert sorted(resumed.files) == sorted(uninterrupted)
    for name, expected in uninterrupted.items():
        np.testing.assert_allclose(resumed[name], expected, rtol=1e-6, atol=1e-7, err_msg=name)
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["6", "7"]


def test_unreadable_latest_checkpoint_falls_back_to_the_previous(tmp_path, uninterrupted, capsys, caplog):
    resumable_run.run(model_dir=str(tmp_path), train_steps=4, block_at=-1)
    latest = tmp_path / "checkpoints" / "4"
    for path in latest.rglob("*"):
        if path.is_file():
            path.write_bytes(b"not a checkpoint")
    capsys.readouterr()
    params = resumable_run.run(model_dir=str(tmp_path), train_steps=STEPS, block_at=-1)
    assert "checkpoints/4 is unreadable" in caplog.text
    assert "falling back to the previous checkpoint" in caplog.text
    assert "resumed from checkpoint step 2 at data position 2" in capsys.readouterr().out
    assert (tmp_path / "checkpoints" / "4.unreadable").is_dir()
    for name, expected in uninterrupted.items():
        np.testing.assert_allclose(params[name], expected, rtol=1e-6, atol=1e-7, err_msg=name)
