"""gin/partitioning/tpu_*.gin: they parse after runs/finetune.gin, bind the partitioner's real arguments, and their
mesh divides the slice, the batch and the model's dimensions."""

import inspect

import pytest

import gin

import personalize.training.finetune  # noqa: F401  (the files bind finetune.train)
from personalize.partitioning import partitioner

from personalize import gin_config  # noqa: E402
from personalize.partitioning.axis_rules import standard_logical_axis_rules  # noqa: E402

# The paper's two model shapes (PAPER.md: T5.1.1 XXL and T5 1.0 11B).
MODELS = {
    "xxl": {"embed": 4096, "heads": 64, "mlp": 10240, "vocab": 32128},
    "11b": {"embed": 1024, "heads": 128, "mlp": 65536, "vocab": 32128},
}
# file -> (JAX devices of the slice, chips per host, model, microbatches the file promises)
FILES = {
    "tpu_v4_256_xxl.gin": (128, 4, "xxl", 4),
    "tpu_v5e_256_xxl.gin": (256, 4, "xxl", 2),
    "tpu_v5e_256_11b.gin": (256, 4, "11b", 4),
    "tpu_v4_128_11b.gin": (64, 4, "11b", 1),
}


@pytest.fixture(params=sorted(FILES))
def parsed(request):
    name = request.param
    gin_config.parse_gin(["runs/finetune.gin", f"partitioning/{name}"], [])
    yield name, gin.get_bindings("partitioner.make_partitioner")
    gin.clear_config()


def test_the_bindings_are_make_partitioners_arguments(parsed):
    _, bound = parsed
    inspect.signature(partitioner.make_partitioner).bind(**bound)
    assert set(bound) == {"num_partitions", "parameter_partitioning_dims", "activation_partitioning_dims"}


def test_it_overrides_the_run_files_microbatches(parsed):
    name, _ = parsed
    assert gin.query_parameter("finetune.train.num_microbatches") == FILES[name][3]


def test_the_mesh_divides_the_slice_the_batch_and_the_model(parsed):
    name, bound = parsed
    devices, per_host, model, microbatches = FILES[name]
    partitions = bound["num_partitions"]
    assert devices % partitions == 0
    data = devices // partitions
    batch = gin.query_parameter("%BATCH_SIZE")
    assert batch % (data * microbatches) == 0, "every data replica gets whole examples in every microbatch"
    assert batch % (devices // per_host) == 0, "every host reads whole examples"
    dims = MODELS[model]
    for axis in ("heads", "mlp", "vocab"):
        assert dims[axis] % partitions == 0, f"{axis} {dims[axis]} does not split over {partitions}"
    if bound["parameter_partitioning_dims"] == 2:
        assert dims["embed"] % data == 0, f"embed {dims['embed']} does not split over data {data}"


@pytest.mark.parametrize("name", ["tpu_v4_256_xxl.gin", "tpu_v5e_256_xxl.gin"])
def test_a_four_chip_model_axis_builds_on_faked_devices(name):
    """The gin-configured partitioner itself, on the test suite's 8 faked CPU devices (model axis 4, 2-D)."""
    gin_config.parse_gin(["runs/finetune.gin", f"partitioning/{name}"], [])
    try:
        built = gin_config.configured(partitioner.make_partitioner)()
    finally:
        gin.clear_config()
    assert dict(built.mesh.shape) == {"data": 2, "model": 4}
    assert built.rules == standard_logical_axis_rules(parameter_partitioning_dims=2)
    assert ("embed", "data") in built.rules
