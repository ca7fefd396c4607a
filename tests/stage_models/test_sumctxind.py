"""SumCtxInd: a public summarization corpus trains the model (or an imported checkpoint is used as it is), and the
ranked entries of every example, both halves of train included, are summarized."""

import dataclasses
import json
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import serialization, traverse_util

from personalize.models.t5.checkpoint_import import CheckpointImportError
from personalize.models.t5.network import Transformer
from personalize.pipeline.additions import Addition
from personalize.pipeline.ranked import RankedDataset
from personalize.stage_models.train_apply import train_and_apply
from personalize.summarization.context_independent import write_corpus_examples, write_sumctxind_inputs
from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary
from test_train_and_apply import CONFIG, SETTINGS


def _write_inline_t5x_checkpoint(folder, config):
    """A T5X `checkpoint` msgpack file with every array inline (the importer reads this form too)."""
    tokens = jnp.ones((1, 3), jnp.int32)
    shapes = jax.eval_shape(lambda: Transformer(config).init(jax.random.PRNGKey(0), tokens, tokens,
                                                             enable_dropout=False))
    flat = traverse_util.flatten_dict(nn.unbox(shapes["params"]))
    rng = np.random.default_rng(0)
    target = traverse_util.unflatten_dict({k: rng.normal(size=v.shape).astype(np.float32) for k, v in flat.items()})
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "checkpoint"), "wb") as handle:
        handle.write(serialization.msgpack_serialize(
            {"version": 3, "optimizer": {"target": target, "state": {"step": np.array(1000, np.int32)}}}))
    return folder


@pytest.fixture
def sumctxind_dirs(stage_dirs, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"document": f"garden river letter {i}. market winter.",
                                          "summary": "garden river."}) + "\n" for i in range(8)))
    write_corpus_examples(train_path=str(corpus), validation_path=None, output_dir=str(tmp_path / "corpus"))
    write_sumctxind_inputs(ranked_dir=stage_dirs["ranked"], output_dir=str(tmp_path / "inputs"))
    return {"corpus": str(tmp_path / "corpus"), "inputs": str(tmp_path / "inputs")}


@pytest.mark.slow
def test_imported_summarizer_summarizes_every_example(stage_dirs, sumctxind_dirs, tmp_path):
    vocab_size = load_vocabulary(path=stage_dirs["vocabulary"]).vocab_size
    config = dataclasses.replace(CONFIG, vocab_size=-(-vocab_size // 128) * 128)
    checkpoint = _write_inline_t5x_checkpoint(str(tmp_path / "checkpoint_1000"), config)
    output = str(tmp_path / "SumCtxInd")
    result = train_and_apply(examples_dir=sumctxind_dirs["corpus"], apply_dir=sumctxind_dirs["inputs"],
                             output_dir=output, variant="SumCtxInd", vocabulary_path=stage_dirs["vocabulary"],
                             initial_checkpoint=checkpoint, checkpoint_format="t5x", **{**SETTINGS, "train_steps": 0})
    assert result["trained"] is False
    assert not os.path.exists(os.path.join(output, "model"))
    ranked = RankedDataset(stage_dirs["ranked"])
    addition = Addition(output)
    assert addition.variant == "SumCtxInd"
    for split in ranked.splits:
        values = addition.values(split)
        assert sorted(values) == sorted(r["example_id"] for r in ranked.examples(split))
        assert all(isinstance(text, str) for text in values.values())


def test_imported_checkpoint_of_another_shape_is_refused(stage_dirs, sumctxind_dirs, tmp_path):
    checkpoint = _write_inline_t5x_checkpoint(str(tmp_path / "checkpoint_1000"),
                                              dataclasses.replace(CONFIG, emb_dim=8, head_dim=4))
    expected = (r"checkpoint_1000/checkpoint: parameter decoder/decoder_norm/scale has shape \(8,\), "
                r"the config needs \(16,\)")
    with pytest.raises(CheckpointImportError, match=expected):
        train_and_apply(examples_dir=sumctxind_dirs["corpus"], apply_dir=sumctxind_dirs["inputs"],
                        output_dir=str(tmp_path / "out"), variant="SumCtxInd", vocabulary_path=stage_dirs["vocabulary"],
                        initial_checkpoint=checkpoint, **{**SETTINGS, "train_steps": 0})
