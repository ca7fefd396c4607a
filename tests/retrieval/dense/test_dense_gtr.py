"""GTR (T5 encoder + mean pooling + dense + normalise) against sentence-transformers on a random tiny model.

Everything is built here: a SentencePiece vocabulary trained on generated words, a random T5EncoderModel and a
sentence-transformers pipeline around it, saved to a temporary folder and read back by both implementations.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil

import numpy as np
import pytest
import sentence_transformers
import sentencepiece
import torch
import transformers
from sentence_transformers.sentence_transformer import modules as st_modules

from personalize.retrieval.dense.encode import DenseEncoder


MAX_SEQ_LENGTH = 24


def _words(rng: random.Random, count: int) -> list[str]:
    return ["".join(rng.choice("abcdefghijklmnoprstuw") for _ in range(rng.randint(2, 7))) for _ in range(count)]


def _vocabulary(rng: random.Random) -> list[tuple[str, float]]:
    vocabulary = _words(rng, 120)
    lines = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(3, 12))) for _ in range(400)]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, vocab_size=150, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False, minloglevel=2)
    processor = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    return [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]


@pytest.fixture(scope="module")
def gtr_folder(tmp_path_factory) -> str:
    rng = random.Random(0)
    root = tmp_path_factory.mktemp("gtr")
    transformer_dir, st_dir = str(root / "t5"), str(root / "st")
    tokenizer = transformers.T5Tokenizer(vocab=_vocabulary(rng), extra_ids=0)
    tokenizer.save_pretrained(transformer_dir)
    config = transformers.T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, num_heads=4, d_ff=48,
                                   num_layers=2, feed_forward_proj="gated-gelu", relative_attention_num_buckets=8,
                                   relative_attention_max_distance=16)
    torch.manual_seed(0)
    transformers.T5EncoderModel(config).save_pretrained(transformer_dir)
    model = sentence_transformers.SentenceTransformer(modules=[
        st_modules.Transformer(transformer_dir, max_seq_length=MAX_SEQ_LENGTH),
        st_modules.Pooling(32, "mean"),
        st_modules.Dense(32, 24, bias=False, activation_function=torch.nn.Identity()),
        st_modules.Normalize(),
    ], device="cpu")
    model.save(st_dir)
    return st_dir


def _texts() -> list[str]:
    rng = random.Random(1)
    vocabulary = _words(rng, 60)
    texts = [" ".join(rng.choice(vocabulary) for _ in range(n)) for n in (1, 3, 8, 15, 40, 2)]
    return texts + ["", "Unseen Words, ÜPPER case & punctuation!", "  spaces   around\tand\ninside  "]


def test_gtr_embeddings_match_sentence_transformers(gtr_folder):
    from personalize.retrieval.dense.gtr import load_gtr

    texts = _texts()
    reference = sentence_transformers.SentenceTransformer(gtr_folder, device="cpu")
    expected = reference.encode(texts, convert_to_numpy=True)
    model = load_gtr(path=gtr_folder)
    assert model.dim == 24 and model.tokenizer.max_seq_length == MAX_SEQ_LENGTH
    ids = model.tokenizer.encode(texts)
    assert max(len(i) for i in ids) == MAX_SEQ_LENGTH and all(i[-1] == 1 for i in ids)
    got = DenseEncoder(model=model, batch_size=4).encode(texts)
    cosines = np.sum(got * expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert np.all(cosines > 0.9999), cosines


def test_gtr_reads_dense_weights_from_pytorch_model_bin(gtr_folder, tmp_path):
    from safetensors.numpy import load_file

    from personalize.retrieval.dense.gtr import load_gtr

    folder = str(tmp_path / "gtr-bin")
    shutil.copytree(gtr_folder, folder)
    dense_weights = load_file(os.path.join(folder, "2_Dense", "model.safetensors"))
    os.remove(os.path.join(folder, "2_Dense", "model.safetensors"))
    torch.save({k: torch.from_numpy(v) for k, v in dense_weights.items()},
               os.path.join(folder, "2_Dense", "pytorch_model.bin"))
    from_bin, from_safetensors = load_gtr(path=folder), load_gtr(path=gtr_folder)
    texts = _texts()[:3]
    np.testing.assert_array_equal(DenseEncoder(model=from_bin).encode(texts),
                                  DenseEncoder(model=from_safetensors).encode(texts))
    # The folder name is not part of the identity; the weights are.
    assert from_bin.name == from_safetensors.name


def test_gtr_rejects_unsupported_pooling(gtr_folder, tmp_path):
    from personalize.retrieval.dense.gtr import load_gtr

    folder = str(tmp_path / "gtr-max")
    shutil.copytree(gtr_folder, folder)
    pooling_file = os.path.join(folder, "1_Pooling", "config.json")
    with open(pooling_file) as f:
        pooling = json.load(f)
    pooling["pooling_mode"] = "max"
    with open(pooling_file, "w") as f:
        json.dump(pooling, f)
    with pytest.raises(ValueError, match="only mean pooling"):
        load_gtr(path=folder)


def test_gtr_reads_the_older_sentence_transformers_layout(gtr_folder, tmp_path):
    """Published gtr-t5-* folders were saved by sentence-transformers 2.x: short module type names,
    pooling_mode_*_tokens flags and max_seq_length in sentence_bert_config.json."""
    from personalize.retrieval.dense.gtr import load_gtr

    folder = str(tmp_path / "gtr-v2")
    shutil.copytree(gtr_folder, folder)
    modules_file = os.path.join(folder, "modules.json")
    with open(modules_file) as f:
        modules = json.load(f)
    for module in modules:
        module["type"] = "sentence_transformers.models." + module["type"].rsplit(".", 1)[-1]
    with open(modules_file, "w") as f:
        json.dump(modules, f)
    with open(os.path.join(folder, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
                   "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}, f)
    with open(os.path.join(folder, "sentence_bert_config.json"), "w") as f:
        json.dump({"max_seq_length": 12, "do_lower_case": False}, f)
    model = load_gtr(path=folder)
    assert model.tokenizer.max_seq_length == 12
    assert model.name != load_gtr(path=gtr_folder).name
    texts = _texts()
    reference = sentence_transformers.SentenceTransformer(gtr_folder, device="cpu")
    reference.max_seq_length = 12
    expected = reference.encode(texts, convert_to_numpy=True)
    got = DenseEncoder(model=model).encode(texts)
    cosines = np.sum(got * expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert np.all(cosines > 0.9999), cosines
