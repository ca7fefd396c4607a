"""The suite's own set-up: it sets its device count (tests/conftest.py), so an XLA_FLAGS or JAX_NUM_CPU_DEVICES in
the environment neither skips the sharding tests nor changes what they run on; and a hung test fails the run
(pytest-timeout, configured in pyproject.toml) instead of stalling it."""

import os
import re
import signal
import pathlib
import subprocess
import sys
import textwrap
import time

import jax
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]

THIS_TEST = "tests/test_suite_setup.py::test_the_suite_runs_on_eight_cpu_devices"


def test_the_suite_runs_on_eight_cpu_devices():
    assert len(jax.devices("cpu")) == 8
    assert jax.device_count() >= 8
    assert os.environ["XLA_FLAGS"].split().count("--xla_force_host_platform_device_count=8") == 1


def _environment(**changes):
    """This process's environment with `changes`; without JAX_NUM_CPU_DEVICES, which a test run in-process before
    may have left (split_cpu_into_devices sets it for the workers it starts) and which would win over XLA_FLAGS."""
    return {**{k: v for k, v in os.environ.items() if k != "JAX_NUM_CPU_DEVICES"}, **changes}


def _pytest(environment_changes):
    """Runs the test above in a fresh pytest, not quiet: the header says the devices and the flags."""
    env = _environment(**environment_changes)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", THIS_TEST]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("environment, flags", [
    # XLA_FLAGS set for another reason: the flag is kept and the count added.
    ({"XLA_FLAGS": "--xla_dump_hlo_as_text"}, "--xla_dump_hlo_as_text --xla_force_host_platform_device_count=8"),
    # Another count, and JAX's own setting that would win over it: both replaced, the other flags kept.
    ({"XLA_FLAGS": "--xla_force_host_platform_device_count=2 --xla_dump_hlo_as_text", "JAX_NUM_CPU_DEVICES": "1"},
     "--xla_dump_hlo_as_text --xla_force_host_platform_device_count=8"),
], ids=["other_flag", "other_count"])
def test_a_run_under_the_environments_flags_has_eight_devices_and_says_so(environment, flags):
    result = _pytest(environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout and "skipped" not in result.stdout
    assert f"jax: 8 cpu devices; XLA_FLAGS={flags} (" in result.stdout
    assert "tests/conftest.py changed the environment's" in result.stdout


def test_jax_started_before_the_suite_with_another_count_stops_the_session_at_start():
    # What a plugin that ran JAX work before tests/conftest.py would leave: a backend with 2 devices.
    result = subprocess.run(
        [sys.executable, "-c", "import jax, sys, pytest; jax.devices(); "
                               f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '{THIS_TEST}']))"],
        cwd=REPO, env=_environment(XLA_FLAGS="--xla_force_host_platform_device_count=2"),
        capture_output=True, text=True, timeout=300)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "the test suite needs 8 CPU devices and JAX started with 2" in result.stdout + result.stderr


HUNG_TEST = textwrap.dedent("""
    import subprocess, sys

    def test_reads_a_silent_child():
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        print("CHILD", child.pid, flush=True)
        child.stdout.readline()  # what a resume test's blocking read does when its child hangs
""")


def test_a_test_blocked_on_a_silent_child_fails_the_run_after_the_configured_timeout(tmp_path):
    (tmp_path / "test_hung.py").write_text(HUNG_TEST)
    started = time.monotonic()
    # The repository's pytest settings, with the timeout shortened from its 600 s.
    result = subprocess.run([sys.executable, "-m", "pytest", "-s", "-p", "no:cacheprovider",
                             "-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path), "-o", "timeout=3",
                             str(tmp_path / "test_hung.py")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    child = re.findall(r"CHILD (\d+)", result.stdout)
    for pid in child:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert child, result.stdout + result.stderr
    assert result.returncode != 0 and elapsed < 50, (elapsed, result.stdout + result.stderr)
    output = result.stdout + result.stderr
    assert "timeout: 3.0s" in output and "timeout method: thread" in output
    assert "+ Timeout +" in output and "child.stdout.readline()" in output  # every thread's stack, the hung line too
