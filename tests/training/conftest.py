import os

# Eight fake CPU devices for the sharding tests; only effective if jax is not imported yet in this process.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
