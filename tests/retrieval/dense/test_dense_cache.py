"""The embedding cache: hits, misses, de-duplication, persistence across runs, atomic shards."""

from __future__ import annotations

import glob
import json
import os
from typing import Sequence

import numpy as np
import pytest

from personalize.retrieval.dense.cache import CachedEncoder, EmbeddingCache, text_key


class CountingEncoder:
    """Deterministic fake encoder that records every text it is asked to encode."""

    name = "counting-v1"
    dim = 3

    def __init__(self):
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        vectors = np.array([[len(t) + 1.0, t.count("a") + 1.0, 1.0] for t in texts], dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _expected(texts: Sequence[str]) -> np.ndarray:
    return CountingEncoder().encode(texts)


def test_text_key_is_the_sha1_of_the_utf8_text():
    assert text_key("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"


def test_second_call_encodes_nothing_and_duplicates_are_encoded_once(tmp_path):
    inner = CountingEncoder()
    encoder = CachedEncoder(encoder=inner, cache_dir=str(tmp_path))
    texts = ["banana", "apple", "banana", "kiwi"]
    np.testing.assert_array_equal(encoder.encode(texts), _expected(texts))
    assert inner.calls == [["banana", "apple", "kiwi"]]
    np.testing.assert_array_equal(encoder.encode(texts[::-1]), _expected(texts[::-1]))
    assert len(inner.calls) == 1


def test_partial_hit_encodes_only_new_texts(tmp_path):
    inner = CountingEncoder()
    encoder = CachedEncoder(encoder=inner, cache_dir=str(tmp_path))
    encoder.encode(["banana", "apple"])
    out = encoder.encode(["apple", "cherry", "banana", "cherry"])
    assert inner.calls[1] == ["cherry"]
    np.testing.assert_array_equal(out, _expected(["apple", "cherry", "banana", "cherry"]))


def test_a_later_run_reads_the_cache_from_disk(tmp_path):
    CachedEncoder(encoder=CountingEncoder(), cache_dir=str(tmp_path)).encode(["one", "two"])
    CachedEncoder(encoder=CountingEncoder(), cache_dir=str(tmp_path)).encode(["three"])
    later = CountingEncoder()
    out = CachedEncoder(encoder=later, cache_dir=str(tmp_path)).encode(["three", "one", "two"])
    assert later.calls == []
    np.testing.assert_array_equal(out, _expected(["three", "one", "two"]))
    folder = os.path.join(str(tmp_path), "counting-v1")
    with open(os.path.join(folder, "meta.json")) as f:
        assert json.load(f) == {"encoder": "counting-v1", "dim": 3}
    assert len(glob.glob(os.path.join(folder, "shard-*.npy"))) == 2


def test_incomplete_shards_and_temporary_files_are_ignored(tmp_path):
    cache = EmbeddingCache(directory=str(tmp_path), encoder_name="enc", dim=3)
    cache.add(keys=[text_key("kept")], vectors=_expected(["kept"]))
    folder = os.path.join(str(tmp_path), "enc")
    # A writer that died after the .npy and before its .sha1 index, and one that died mid-write.
    np.save(os.path.join(folder, "shard-dead.npy"), _expected(["lost"]))
    with open(os.path.join(folder, "shard-x.sha1.tmp-123"), "w") as f:
        f.write(text_key("lost") + "\n")
    reopened = EmbeddingCache(directory=str(tmp_path), encoder_name="enc", dim=3)
    assert len(reopened) == 1 and text_key("kept") in reopened and text_key("lost") not in reopened
    with pytest.raises(KeyError):
        reopened.get([text_key("lost")])


def test_encoders_do_not_share_entries_and_dim_mismatch_is_an_error(tmp_path):
    first = EmbeddingCache(directory=str(tmp_path), encoder_name="enc-a", dim=3)
    first.add(keys=[text_key("t")], vectors=_expected(["t"]))
    assert text_key("t") not in EmbeddingCache(directory=str(tmp_path), encoder_name="enc-b", dim=3)
    with pytest.raises(ValueError, match="meta.json"):
        EmbeddingCache(directory=str(tmp_path), encoder_name="enc-a", dim=4)
    with pytest.raises(ValueError, match="plain folder name"):
        EmbeddingCache(directory=str(tmp_path), encoder_name="../escape", dim=3)


def test_compact_merges_shards_and_keeps_every_vector(tmp_path):
    encoder = CachedEncoder(encoder=CountingEncoder(), cache_dir=str(tmp_path))
    for batch in (["a"], ["bb", "a"], ["ccc"]):
        encoder.encode(batch)
    folder = os.path.join(str(tmp_path), "counting-v1")
    assert len(glob.glob(os.path.join(folder, "shard-*.sha1"))) == 3
    encoder.cache.compact()
    assert len(glob.glob(os.path.join(folder, "shard-*.sha1"))) == 1
    assert len(glob.glob(os.path.join(folder, "shard-*.npy"))) == 1
    later = CountingEncoder()
    out = CachedEncoder(encoder=later, cache_dir=str(tmp_path)).encode(["ccc", "a", "bb"])
    assert later.calls == []
    np.testing.assert_array_equal(out, _expected(["ccc", "a", "bb"]))


def test_cached_dense_encoder_matches_uncached(tiny_model, tmp_path):
    from personalize.retrieval.dense.encode import DenseEncoder

    dense = DenseEncoder(model=tiny_model, batch_size=4)
    texts = ["first text", "second", "first text", ""]
    cached = CachedEncoder(encoder=dense, cache_dir=str(tmp_path))
    np.testing.assert_allclose(cached.encode(texts), dense.encode(texts), atol=1e-6)
    assert os.path.isdir(os.path.join(str(tmp_path), tiny_model.name))
