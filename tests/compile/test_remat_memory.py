"""T5Config.remat_policy as `personalize compile` sees it: 'full' needs fewer temporary bytes per TPU device than
'none' when activations dominate; skipped without libtpu."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("libtpu")

pytestmark = pytest.mark.slow  # two compiles for a TPU slice in child processes (~30-60 s each on 2 cores)

# A tiny width with many heads (128 per device on the model axis of 2): the attention matrices
# [batch, heads, q, k] dominate the saved activations, as they do for T5-11B at the paper's lengths, while the
# compile stays short. Measured on a 2-core host (temporaries per device): none 491 MB, minimal 147 MB, full 128 MB.
COMMAND = ["compile", "--topology=v5e-4", "--gin_file=models/t5_1_1/tiny.gin", "--gin_file=runs/finetune.gin",
           "--gin_file=partitioning/1d.gin", "--gin.NUM_PARTITIONS=2",
           "--gin.TASK_FEATURE_LENGTHS={'inputs': 128, 'targets': 16}", "--gin.BATCH_SIZE=16",
           "--gin.T5Config.num_heads=256", "--gin.T5Config.head_dim=4", "--gin.T5Config.num_encoder_layers=4",
           "--gin.T5Config.num_decoder_layers=1", "--gin.T5Config.vocab_size=256"]


def _report(policy: str, directory, *overrides: str) -> dict:
    """The command line as a user runs it, from a directory without the repository's ignored `runs/` folder (see
    test_compile_command.py)."""
    result = subprocess.run([sys.executable, "-m", "personalize.cli.main", *COMMAND, *overrides,
                             f"--gin.T5Config.remat_policy='{policy}'", f"--output_json={policy}.json"],
                            cwd=directory, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads((directory / f"{policy}.json").read_text())


def test_full_remat_needs_fewer_temporaries_per_device_than_none(tmp_path):
    none, full = (_report(policy, tmp_path) for policy in ("none", "full"))
    assert full["memory"]["temporaries"] < 0.5 * none["memory"]["temporaries"]
    assert full["parameter_bytes_per_device"] == none["parameter_bytes_per_device"]
    # The price: the backward pass recomputes each layer's forward pass.
    assert full["xla_flops_per_step"] > none["xla_flops_per_step"]


def test_full_remat_keeps_no_attention_sized_tensor_per_layer(tmp_path):
    """The stack's relative position bias is computed inside each layer from the shared table: a [batch, heads,
    q, k] bias passed to every layer would leave one cotangent of that size per layer alive until they are summed,
    the largest term of T5-11B's temporaries (12 GiB a chip on v4-128 with a model axis of 8)."""
    def temporaries(layers: int) -> int:
        directory = tmp_path / f"layers{layers}"
        directory.mkdir()
        report = _report("full", directory, f"--gin.T5Config.num_encoder_layers={layers}")
        return report["memory"]["temporaries"]

    # Per device: 8 examples (data axis 2) x 128 heads (model axis 2) x 128 x 128 in bfloat16.
    attention_tensor = 8 * 128 * 128 * 128 * 2
    growth_per_layer = (temporaries(6) - temporaries(2)) / 4
    assert growth_per_layer < 0.5 * attention_tensor
