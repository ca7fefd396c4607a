"""Test-suite set-up: eight faked CPU devices so sharding tests run without an accelerator.

The suite sets its own device count, whatever the environment says: XLA_FLAGS keeps every other flag it has and
gets `--xla_force_host_platform_device_count=8` (appended, or replacing another count), and JAX_NUM_CPU_DEVICES,
which would win over the flag, is removed. The pytest header says what the environment had and what was changed.
Where JAX has nevertheless started with another count (a plugin ran JAX work before this file), the session stops
at start with that message instead of skipping the sharding tests.
"""

import os
import pathlib
import re

DEVICE_COUNT = 8
_COUNT_FLAG = re.compile(r"--xla_force_host_platform_device_count(=\S*)?")


def with_device_count(xla_flags: str, count: int = DEVICE_COUNT) -> str:
    """XLA_FLAGS with every other flag kept and exactly one device-count flag, set to `count`."""
    kept = _COUNT_FLAG.sub("", xla_flags).split()
    return " ".join([*kept, f"--xla_force_host_platform_device_count={count}"])


_ENVIRONMENT = {name: os.environ.get(name) for name in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
os.environ["XLA_FLAGS"] = with_device_count(os.environ.get("XLA_FLAGS", ""))
os.environ.pop("JAX_NUM_CPU_DEVICES", None)  # it wins over the flag, in this process and in the ones tests start
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402
import pytest  # noqa: E402

# Start the CPU backend now, so no command line run in-process (`--cpu_devices`) changes the device count.
jax.devices()

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _device_problem() -> str | None:
    cpu = len(jax.devices("cpu"))
    if cpu != DEVICE_COUNT:
        return (f"the test suite needs {DEVICE_COUNT} CPU devices and JAX started with {cpu}: something imported and "
                f"ran JAX before tests/conftest.py set XLA_FLAGS (environment: {_ENVIRONMENT})")
    if jax.device_count() < DEVICE_COUNT:
        return (f"the default JAX backend is {jax.default_backend()} with {jax.device_count()} device(s); the "
                f"sharding tests need {DEVICE_COUNT}: run the suite with JAX_PLATFORMS=cpu")
    return None


def pytest_configure(config):
    problem = _device_problem()
    if problem:
        raise pytest.UsageError(problem)


def pytest_report_header(config):
    changed = {name: value for name, value in _ENVIRONMENT.items() if value and value != os.environ.get(name)}
    line = f"jax: {jax.device_count()} {jax.default_backend()} devices; XLA_FLAGS={os.environ['XLA_FLAGS']}"
    if changed:
        line += f" (tests/conftest.py changed the environment's {changed})"
    return line


@pytest.fixture
def shared_data() -> pathlib.Path:
    """The real corpora beside the repository; tests that need them skip when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (the shared real corpora are not part of the project)")
    return SHARED_DATA
