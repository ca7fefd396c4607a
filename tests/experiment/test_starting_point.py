"""What every model of an experiment starts from: random weights, `personalize pretrain`'s stage, or a T5 checkpoint."""

import jax
import numpy as np
import pytest

from personalize.experiment.artifacts import ArtifactStore
from personalize.experiment.runner import PretrainingSettings, starting_point, train_row, trained_params, TrainingSettings
from personalize.models.t5.config import T5Config
from tests.stage_models.conftest import write_vocabulary
from tests.tasks import tiny_corpus

pytestmark = pytest.mark.slow  # trains experiment rows and a pre-training (~75 s on 2 cores)

CONFIG = T5Config(emb_dim=16, num_heads=2, head_dim=8, mlp_dim=32, num_encoder_layers=1, num_decoder_layers=1,
                  dropout_rate=0.0, dtype="float32")
VOCAB_SIZE = 154  # the pieces of write_vocabulary and T5's 100 sentinels
PRETRAINING = PretrainingSettings(train_steps=2, batch_size=8, inputs_length=64, targets_length=64, warmup_steps=1,
                                  copies=1, held_out_documents=2, eval_period=2)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("start")
    prepared = tiny_corpus.write_prepared(str(root / "prepared"))
    vocabulary = write_vocabulary(str(root / "spm.model"))
    from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary

    assert load_vocabulary(path=vocabulary).vocab_size == VOCAB_SIZE
    return root, prepared, vocabulary


def _start(store, prepared, vocabulary, **overrides):
    settings = dict(store=store, initial_checkpoint=None, initial_checkpoint_format="hf", pretraining=None,
                    prepared_dir=prepared, prepared_key={"prepared": "tiny"}, vocabulary_path=vocabulary,
                    model_config=CONFIG, vocab_size=VOCAB_SIZE)
    return starting_point(**(settings | overrides))


def test_from_scratch_by_default_and_not_both_starts(setup):
    root, prepared, vocabulary = setup
    store = ArtifactStore(str(root / "scratch"), log=lambda line: None)
    assert _start(store, prepared, vocabulary) == ({}, None)
    with pytest.raises(ValueError, match="not both"):
        _start(store, prepared, vocabulary, initial_checkpoint="/some/t5", pretraining=PRETRAINING)


def test_pretraining_is_an_artifact_built_once_and_rows_start_from_it(setup, tmp_path):
    root, prepared, vocabulary = setup
    logs = []
    store = ArtifactStore(str(root / "pretrained"), log=logs.append)
    key, params = _start(store, prepared, vocabulary, pretraining=PRETRAINING)
    assert set(key) == {"pretrained"} and params is not None
    assert any(line.startswith("[pretrained] building") for line in logs)
    logs.clear()
    again_key, again = _start(store, prepared, vocabulary, pretraining=PRETRAINING)
    assert again_key == key and any(line.startswith("[pretrained] reusing") for line in logs)
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(again)):
        np.testing.assert_array_equal(a, b)


def test_a_row_trained_at_a_negligible_learning_rate_keeps_the_params_it_started_from(setup, tmp_path):
    import tasks

    root, prepared, vocabulary = setup
    _, params = _start(ArtifactStore(str(root / "pretrained"), log=lambda line: None), prepared, vocabulary,
                       pretraining=PRETRAINING)
    from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary

    ranked = tiny_corpus.write_ranked(str(tmp_path / "ranked"))
    tasks.register_dataset(name="startrow", ranked_dir=ranked, vocabulary=load_vocabulary(path=vocabulary),
                           prepared_dir=prepared, multitask_row="RankDocBySnpt")
    training = TrainingSettings(train_steps=1, batch_size=8, inputs_length=32, targets_length=16, learning_rate=1e-12,
                                warmup_steps=1, num_beams=1, decode_batch_size=8, max_test_examples=2)
    train_row(directory=str(tmp_path / "row"), task_name=tasks.task_name(dataset="startrow", row="ImmedCtx"),
              predict_task_name=tasks.task_name(dataset="startrow", row="ImmedCtx"), model_config=CONFIG,
              vocab_size=VOCAB_SIZE, training=training, pretrained_params=params)
    trained = trained_params(directory=str(tmp_path / "row"), model_config=CONFIG, vocab_size=VOCAB_SIZE,
                             training=training)
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(trained)):
        np.testing.assert_allclose(a, b, atol=1e-7)
