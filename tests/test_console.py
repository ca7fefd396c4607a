"""The console: native libraries' writes to file descriptor 2 stay off it inside `native_stderr_quieted` unless the
block fails; on the command line other libraries' noise is hidden unless --verbose, each progress line is printed
once, each stage ends with its wall time, and the experiment ends with its table and the paths of its results."""

import os
import re
import subprocess
import sys

import pytest

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


# What a new user's console must not show by default (TensorFlow's and XLA's C++ start-up lines, absl's and Beam's
# Python warnings) and what `personalize --verbose` lets through.
THIRD_PARTY_NOISE = ("oneDNN", "cuda", "absl::InitializeLog", "FunctionDataset", "features_length", "apitools")

CONSOLE_SCRIPT = """
import logging, os, sys, warnings
from personalize.console import set_up_console
set_up_console(verbose=sys.argv[1] == "verbose")
os.write(2, b"I0000 00:00:1796241105.626548    2000 port.cc:153] oneDNN custom operations are on.\\n")
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
os.write(2, b"E1202 19:55:35.123456    2000 cuda_platform.cc:52] failed call to cuInit\\n")
logging.getLogger("absl").warning("Using an uncached FunctionDataset")
logging.warning("apitools not found")
warnings.warn("a library's UserWarning")
logging.getLogger("absl").error("A-LIBRARY-ERROR")
logging.getLogger("personalize.training.checkpoints").warning("OUR-WARNING")
print("OUR-STDOUT-LINE")
print("OUR-STDERR-LINE", file=sys.stderr)
import tensorflow as tf
tf.get_logger().error("TF-ERROR")
os.write(2, b"F1202 19:55:35.123456    2000 x.cc:52] Check failed: A-NATIVE-CRASH\\n")
import resource
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
os.abort()  # as a native FATAL does: no atexit, no flush
"""


def _console(mode):
    result = subprocess.run([sys.executable, "-c", CONSOLE_SCRIPT, mode], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(__file__)), timeout=120)
    assert result.returncode != 0  # the abort
    return result.stdout, result.stderr


def test_the_console_hides_other_libraries_noise_and_keeps_ours_errors_and_a_crash():
    out, err = _console("quiet")
    assert out.splitlines() == ["OUR-STDOUT-LINE"]
    for noise in THIRD_PARTY_NOISE + ("UserWarning",):
        assert noise not in out + err
    # one line each: TensorFlow's logger has no handler of its own beside the root logger's
    assert [line for line in err.splitlines() if "ERROR" in line or "OUR-" in line] == [
        "ERROR:absl:A-LIBRARY-ERROR", "WARNING:personalize.training.checkpoints:OUR-WARNING", "OUR-STDERR-LINE",
        "ERROR:tensorflow:TF-ERROR"]
    # a native FATAL line written just before the process dies still reaches the console
    assert err.splitlines()[-1] == "F1202 19:55:35.123456    2000 x.cc:52] Check failed: A-NATIVE-CRASH"


def test_verbose_lets_other_libraries_lines_through_each_once():
    out, err = _console("verbose")
    for noise in ("oneDNN", "absl::InitializeLog", "cuInit", "FunctionDataset", "apitools", "UserWarning"):
        assert noise in err
    assert err.count("TF-ERROR") == 1 and err.count("OUR-WARNING") == 1


# A one-row experiment on the demo corpus small enough for a test: RecentDoc only (no encoder), 2 steps from the
# shipped tiny pre-trained start, 8 test examples.
TINY_EXPERIMENT = [
    "experiment", "--dataset", "demo", "--rows", "RecentDoc", "--gin_file=experiments/cpu_demo.gin",
    "--gin.runner.run_experiment.strategies=('RecentDoc',)", "--gin.runner.run_experiment.base_ranking='RecentDoc'",
    "--gin.runner.TrainingSettings.train_steps=2", "--gin.runner.TrainingSettings.eval_period=1",
    "--gin.runner.TrainingSettings.inputs_length=128", "--gin.runner.TrainingSettings.targets_length=32",
    "--gin.runner.TrainingSettings.max_test_examples=8",
]


DURATION = r"(\d+(\.\d)?s|\d+m \d\ds|\d+h \d\dm)"  # personalize.console.format_duration


def _personalize(*args):
    """The command as a user's shell runs it: stdout and stderr on one console, none of the suite's settings."""
    env = {name: value for name, value in os.environ.items() if name not in ("XLA_FLAGS", "TF_CPP_MIN_LOG_LEVEL")}
    result = subprocess.run([sys.executable, "-m", "personalize.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, timeout=400,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def tiny_experiment(tmp_path_factory):
    output = tmp_path_factory.mktemp("console") / "run"
    return output, _personalize(*TINY_EXPERIMENT, "--output_dir", str(output))


@pytest.mark.slow
def test_the_experiment_console_shows_our_lines_once_each_stage_timed_and_ends_with_the_results(tiny_experiment):
    output, console = tiny_experiment
    for noise in THIRD_PARTY_NOISE:
        assert noise.lower() not in console.lower(), noise
    lines = console.splitlines()
    progress = [line for line in lines if re.match(r"\[(train|validation)\] step |  (trained|decod)", line)]
    assert len(progress) >= 6 and len(progress) == len(set(progress)), progress
    for step in (1, 2):
        assert sum(line.startswith(f"[train] step {step} ") for line in lines) == 1
    built = [re.match(r"\[([\w-]+)\] building ", line).group(1) for line in lines if " building " in line]
    assert built == ["prepared", "ranked", "row-recentdoc", "decoded-recentdoc"]
    for stage in built + ["results"]:
        assert sum(bool(re.fullmatch(rf"\[{stage}\] (built|scored) in {DURATION}(;.*)?", line)) for line in lines) == 1
    assert re.search(rf"trained personalize_demo_recentdoc_v1: .* in {DURATION}$", console, re.M)
    assert re.search(rf"decoded personalize_demo_recentdoc_v1 test \(alpha 0.6\): 8 examples in {DURATION}$", console, re.M)
    # the end: the table, then where the results and plots are
    table = lines.index("### demo (test split)")
    assert lines[table + 4].startswith("| RecentDoc |")
    written = lines[-2].removeprefix("results: ").split(", ")
    assert lines[-2].startswith("results: ")
    assert written[:2] == [str(output / "results.md"), str(output / "results.csv")]
    assert all(os.path.exists(path) for path in written)
    plots = lines[-1].removeprefix("plots: ").split(", ")
    assert lines[-1].startswith("plots: ") and len(plots) == 4
    assert all(path.endswith(".png") and os.path.exists(path) for path in plots)


@pytest.mark.slow
def test_verbose_shows_the_libraries_lines(tiny_experiment):
    output, _ = tiny_experiment
    console = _personalize("--verbose", *TINY_EXPERIMENT, "--output_dir", str(output))  # reuses every artifact
    assert "[row-recentdoc] reusing" in console
    assert "absl::InitializeLog" in console or "oneDNN" in console  # TensorFlow's native start-up lines


def test_wall_times_read_as_a_person_writes_them():
    from personalize.console import format_duration

    assert [format_duration(s) for s in (0.04, 9.94, 9.96, 41.2, 59.6, 125, 3599.6, 3725)] == [
        "0.0s", "9.9s", "10s", "41s", "1m 00s", "2m 05s", "1h 00m", "1h 02m"]
