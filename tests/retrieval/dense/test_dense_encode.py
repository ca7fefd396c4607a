"""The encoding service: bucketing, packing, batching order, padding rows, compile options, sharding."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from personalize.retrieval.dense.encode import (DenseEncoder, batch_rows, bucket_batches, default_bucket_lengths,
                                                pack_batches, texts_per_row)

pytestmark = pytest.mark.slow  # compiles the encoder for many shapes, runs a child on 4 devices

# The tiny model keeps 16 ids: [CLS], up to 14 characters, [SEP].
TEXTS = ["a", "longer than fourteen characters", "", "mid text", "bb", "x" * 100, "mid text", "ccc"]


def test_default_bucket_lengths_end_at_max_seq_length():
    assert default_bucket_lengths(max_seq_length=256) == (16, 24, 32, 48, 64, 96, 128, 192, 256)
    assert default_bucket_lengths(max_seq_length=40) == (16, 24, 32, 40)
    assert default_bucket_lengths(max_seq_length=8) == (8,)


def test_bucket_batches_takes_longest_first_and_pads_to_the_longest_members_bucket():
    batches = bucket_batches(lengths=[3, 20, 5, 17, 3, 40, 9], batch_size=2, bucket_lengths=(8, 16, 32, 64))
    assert [(members.tolist(), length) for members, length in batches] == [
        ([5, 1], 64), ([3, 6], 32), ([2, 0], 8), ([4], 8)]
    with pytest.raises(ValueError, match="largest bucket"):
        bucket_batches(lengths=[65], batch_size=2, bucket_lengths=(64,))


def test_pack_batches_fills_each_longest_text_row_with_the_shortest_texts():
    batches = pack_batches(lengths=[3, 20, 5, 17, 3, 40, 9], batch_size=2, bucket_lengths=(8, 16, 32, 64))
    assert [(b.rows, b.length) for b in batches] == [(2, 64)]
    (batch,) = batches
    # Row 0: the 40-token text, then 3, 3, 5 and 9 tokens (60 of 64); row 1: 20 and 17.
    assert batch.members.tolist() == [5, 4, 0, 2, 6, 1, 3]
    assert batch.row.tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert batch.offset.tolist() == [0, 40, 43, 46, 51, 0, 20]
    assert batch.slot.tolist() == [0, 1, 2, 3, 4, 0, 1]
    with pytest.raises(ValueError, match="largest bucket"):
        pack_batches(lengths=[65], batch_size=2, bucket_lengths=(64,))


def test_pack_batches_places_every_text_once_within_its_row():
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 65, size=300)
    batches = pack_batches(lengths=lengths, batch_size=8, bucket_lengths=(16, 32, 64))
    members = np.concatenate([b.members for b in batches])
    assert sorted(members.tolist()) == list(range(lengths.size))
    for b in batches:
        assert b.rows <= 8 and b.row.max() == b.rows - 1
        ends = b.offset + lengths[b.members]
        assert ends.max() <= b.length
        for row in range(b.rows):
            in_row = b.row == row
            assert in_row.sum() <= texts_per_row(b.length)
            assert sorted(b.slot[in_row].tolist()) == list(range(in_row.sum()))
            spans = sorted(zip(b.offset[in_row], ends[in_row]))
            assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))


def test_batch_rows_shrinks_only_the_short_last_batch():
    assert batch_rows(count=64, batch_size=64, multiple=1) == 64
    assert batch_rows(count=5, batch_size=64, multiple=1) == 8
    assert batch_rows(count=1, batch_size=64, multiple=4) == 4
    assert batch_rows(count=33, batch_size=48, multiple=1) == 48


def test_order_is_preserved_across_batches(tiny_model):
    together = DenseEncoder(model=tiny_model, batch_size=3).encode(TEXTS)
    single = DenseEncoder(model=tiny_model, batch_size=1)
    one_by_one = np.concatenate([single.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)
    assert together.shape == (len(TEXTS), 16) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(together[3], together[6])
    assert not np.allclose(together[0], together[1])


def test_bucketing_equals_padding_everything_to_max_length(tiny_model):
    bucketed = DenseEncoder(model=tiny_model, batch_size=4, bucket_lengths=(4, 8, 16)).encode(TEXTS)
    unbucketed = DenseEncoder(model=tiny_model, batch_size=len(TEXTS), bucket_lengths=(16,)).encode(TEXTS)
    np.testing.assert_allclose(bucketed, unbucketed, atol=1e-6)
    with pytest.raises(ValueError, match="shorter than max_seq_length"):
        DenseEncoder(model=tiny_model, bucket_lengths=(4, 8))


@pytest.mark.parametrize("batch_size", [1, 2, 8])
def test_packed_rows_encode_each_text_as_if_alone(tiny_model, tiny_packed_model, batch_size):
    texts = TEXTS + ["q", "rr", "a b c", "z" * 9, "", "0123456789abc"]
    packed = DenseEncoder(model=tiny_packed_model, batch_size=batch_size)
    assert packed.pack and not DenseEncoder(model=tiny_packed_model, pack=False).pack
    expected = DenseEncoder(model=tiny_model, batch_size=batch_size).encode(texts)
    np.testing.assert_allclose(packed.encode(texts), expected, atol=1e-5)


def test_cpu_compiler_options_reach_the_encoders_compile(tiny_model):
    model = dataclasses.replace(tiny_model, cpu_compiler_options={"xla_cpu_no_such_option": True})
    with pytest.raises(Exception, match="xla_cpu_no_such_option"):
        DenseEncoder(model=model).encode(TEXTS)


def test_long_texts_are_truncated_not_rejected(tiny_model):
    encoder = DenseEncoder(model=tiny_model, batch_size=2)
    assert encoder.bucket_lengths == (16,)
    out = encoder.encode(["a" * 14, "a" * 14 + "z" * 50])
    np.testing.assert_array_equal(out[0], out[1])


def test_empty_input_and_progress_report(tiny_model):
    assert DenseEncoder(model=tiny_model).encode([]).shape == (0, 16)
    stream = io.StringIO()
    DenseEncoder(model=tiny_model, batch_size=2, progress_min_texts=1, progress_interval_s=0.0,
                 progress_stream=stream).encode(TEXTS)
    lines = stream.getvalue().splitlines()
    assert lines and lines[-1].startswith(f"dense encode: {len(TEXTS)}/{len(TEXTS)} texts")
    assert "texts/s" in lines[-1] and "ETA" in lines[-1]


def test_sharded_over_four_devices_matches_one_device(tiny_model, tmp_path):
    """Runs in a subprocess: the number of fake CPU devices is fixed when jax starts."""
    expected = DenseEncoder(model=tiny_model, batch_size=4).encode(TEXTS)
    out_file = str(tmp_path / "sharded.npy")
    script = textwrap.dedent(f"""
        import jax, numpy as np, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from conftest import make_tiny_model
        from personalize.retrieval.dense.encode import DenseEncoder
        assert jax.device_count() == 4, jax.devices()
        encoder = DenseEncoder(model=make_tiny_model(), batch_size=6)
        assert encoder.batch_size == 8
        np.save({out_file!r}, encoder.encode({TEXTS!r}))
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env["PYTHONPATH"] = repo_root + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_allclose(np.load(out_file), expected, atol=1e-6)
