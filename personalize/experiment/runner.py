"""`personalize experiment`: one corpus through every stage to the paper's results table.

Stages, each an artifact keyed by a hash of its configuration (so a repeated run reuses what is done and
an interrupted run continues, training from its last checkpoint): prepare -> rank (every strategy at once)
-> vocabulary -> starting point (imported T5 weights, or a denoising pre-training for from-scratch models)
-> additions (summaries, keywords) -> per row: train (its own artifact), decode the test split (another, so that a
new decoding setting does not retrain) -> results table.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time
from typing import Any, Callable, Mapping, Sequence

from personalize.console import format_duration
from personalize.experiment.artifacts import ArtifactStore, config_hash
from personalize.experiment.orderings import check_orderings, write_orderings
from personalize.experiment.paper_results import PAPER_COUNTERPART
from personalize.experiment.results_table import build_results, write_results
from personalize.pretraining.run import PretrainingSettings

DEFAULT_ROWS = ("ImmedCtx", "UserID", "ZeroShot", "RecentDoc", "RankDocBM25", "RankDocDense", "RankSnippet",
                "RankDocBySnpt", "+SumCtxInd", "+SumCtx", "+SynCtxInd", "+SynCtx", "+AuthorPred")
# The paper's LLMZeroShot counterpart: the starting checkpoint, not fine-tuned, decoding the base ranking's prompt.
ZERO_SHOT = "ZeroShot"
TRAINING_RECORD = "training.json"


# sumctxind_corpus: the training users' own titled documents as a headline-generation corpus (body -> title).
TRAINING_HEADLINES = "training-headlines"
HEADLINES_FILE = "headlines.jsonl"


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """How each model is trained and decoded: the recipe of personalize.training.recipe (the paper's Adafactor at
    0.001 with linear warm-up and rsqrt decay, until validation converges; `train_steps` is the limit) and beam 4.

    `alpha` is the beam search's length penalty (T5X's 0.6); with `alpha_candidates` it is chosen per row instead,
    by validation ROUGE-L on the first `alpha_validation_examples` validation examples (decoding/alpha_selection.py).
    """

    train_steps: int = 2000
    batch_size: int = 16
    inputs_length: int = 1024
    targets_length: int = 512
    learning_rate: float = 0.001
    warmup_steps: int = 100
    eval_period: int = 100
    patience: int = 3
    decode_batch_size: int = 16
    num_beams: int = 4
    alpha: float = 0.6
    alpha_candidates: tuple[float, ...] = ()
    alpha_validation_examples: int = 64
    max_test_examples: int | None = None
    seed: int = 0


# Settings that decide only how a trained model decodes: changing one re-decodes a row, it does not retrain it.
DECODING_FIELDS = ("num_beams", "alpha", "alpha_candidates", "alpha_validation_examples", "max_test_examples")
DECODING_RECORD = "decoding.json"
LABEL_PROBE_RECORD = "author_labels.json"


def training_key(training: TrainingSettings) -> dict[str, Any]:
    """The settings a row's training depends on (its artifact key)."""
    return {name: value for name, value in dataclasses.asdict(training).items() if name not in DECODING_FIELDS}


def decoding_key(training: TrainingSettings) -> dict[str, Any]:
    """The settings a row's decoding depends on, beside the trained row it decodes."""
    return {name: getattr(training, name) for name in (*DECODING_FIELDS, "decode_batch_size", "inputs_length",
                                                       "targets_length")}


def _model(model_config: Any, vocab_size: int):
    from personalize.models.t5.network import Transformer

    padded = -(-vocab_size // 128) * 128  # T5 pads the embedding rows to a multiple of 128
    return Transformer(config=dataclasses.replace(model_config, vocab_size=padded))


def _checked_partitioner(training: TrainingSettings):
    from personalize.partitioning.partitioner import make_partitioner

    partitioner = make_partitioner(num_partitions=1)
    replicas = partitioner.mesh.shape["data"]
    for name, size in (("batch_size", training.batch_size), ("decode_batch_size", training.decode_batch_size)):
        if size % replicas:
            raise ValueError(f"TrainingSettings.{name}={size} must be a multiple of the {replicas} data-parallel devices")
    return partitioner


def train_row(
    *,
    directory: str,
    task_name: str,
    predict_task_name: str,
    model_config: Any,
    vocab_size: int,
    training: TrainingSettings,
    pretrained_params: Any = None,
) -> None:
    """Trains one row's generator in `directory` (resuming from its checkpoints) and records the chosen step.

    `task_name` may be a mixture (+AuthorPred); `predict_task_name` is the generation task whose validation split
    decides when training stops; the chosen (best validation) step is recorded in training.json.
    `pretrained_params` (imported T5 weights or the pre-training) start a row without a checkpoint.
    """
    from personalize.training.recipe import train_until_converged

    model = _model(model_config, vocab_size)
    partitioner = _checked_partitioner(training)
    started = time.perf_counter()
    trained = train_until_converged(
        task_name=task_name, model_dir=directory, model=model,
        lengths={"inputs": training.inputs_length, "targets": training.targets_length}, partitioner=partitioner,
        train_steps=training.train_steps, batch_size=training.batch_size, learning_rate=training.learning_rate,
        warmup_steps=training.warmup_steps, validation_task_name=predict_task_name, eval_period=training.eval_period,
        patience=training.patience, eval_batch_size=training.decode_batch_size, seed=training.seed,
        pretrained_params=pretrained_params)
    record = {"chosen_step": trained.chosen_step, "last_step": trained.last_step,
              "stopped_early": trained.stopped_early, "train_steps_limit": training.train_steps}
    with open(os.path.join(directory, TRAINING_RECORD), "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1)
    _log(f"  trained {task_name}: step {trained.last_step} of at most {training.train_steps}, chose step "
         f"{trained.chosen_step} (best validation loss) in {format_duration(time.perf_counter() - started)}")


def record_zero_shot(directory: str) -> None:
    """The ZeroShot row is not trained: its "chosen step" is the starting checkpoint's, 0."""
    with open(os.path.join(directory, TRAINING_RECORD), "w", encoding="utf-8") as handle:
        json.dump({"chosen_step": 0, "last_step": 0, "stopped_early": False, "train_steps_limit": 0}, handle)


def trained_params(*, directory: str, model_config: Any, vocab_size: int, training: TrainingSettings) -> Any:
    """The chosen params of a row `train_row` finished in `directory`."""
    from personalize.training.recipe import finished_model

    finished = finished_model(model_dir=directory, model=_model(model_config, vocab_size),
                              lengths={"inputs": training.inputs_length, "targets": training.targets_length},
                              partitioner=_checked_partitioner(training), train_steps=training.train_steps)
    if finished is None:
        raise RuntimeError(f"{directory}: the row's training did not finish; run the experiment again to resume it")
    return finished.params


def decode_row(*, directory: str, predict_task_name: str, model_config: Any, vocab_size: int,
               training: TrainingSettings, params: Any) -> None:
    """Decodes the test split with beam search into predictions-test.jsonl, with `training.alpha` or the alpha
    chosen on validation among `training.alpha_candidates` (recorded, with every candidate's scores, in
    decoding.json)."""
    from personalize.decoding.alpha_selection import select_alpha
    from personalize.decoding.predict_task import predict_split

    model = _model(model_config, vocab_size)
    partitioner = _checked_partitioner(training)

    def decode(split: str, alpha: float, path: str, max_examples: int | None) -> None:
        started = time.perf_counter()
        count = predict_split(
            task_name=predict_task_name, split=split, model=model, params=params, partitioner=partitioner,
            task_feature_lengths={"inputs": training.inputs_length, "targets": training.targets_length},
            output_path=path, batch_size=training.decode_batch_size, num_beams=training.num_beams, alpha=alpha,
            max_examples=max_examples)
        _log(f"  decoded {predict_task_name} {split} (alpha {alpha:g}): {count} examples in "
             f"{format_duration(time.perf_counter() - started)}")

    record: dict[str, Any] = {"alpha": training.alpha, "chosen_on": None, "sweep": []}
    if training.alpha_candidates:
        record = select_alpha(
            candidates=training.alpha_candidates, directory=directory, log=_log,
            decode_validation=lambda alpha, path: decode("validation", alpha, path,
                                                         training.alpha_validation_examples))
        record["chosen_on"] = "validation ROUGE-L"
        _log(f"  chose alpha {record['alpha']:g} (best validation ROUGE-L)")
    with open(os.path.join(directory, DECODING_RECORD), "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1)
    decode("test", record["alpha"], os.path.join(directory, "predictions-test.jsonl"), training.max_test_examples)


def probe_author_labels(*, directory: str, predictions_path: str, predict_task_name: str, model_config: Any,
                        vocab_size: int, training: TrainingSettings, params: Any, alpha: float) -> None:
    """The +AuthorPred row's label probe (author_distinction/label_probe.py) on its test predictions, in
    author_labels.json: how likely "true" / "false" are under the generation inputs, against what the beam chose."""
    import seqio

    from personalize.author_distinction.label_probe import describe, label_probe
    from personalize.decoding.predict_task import task_examples

    with open(predictions_path, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    lengths = {"inputs": training.inputs_length, "targets": training.targets_length}
    examples = task_examples(task_name=predict_task_name, split="test", task_feature_lengths=lengths,
                             max_examples=len(records))
    for example, record in zip(examples, records, strict=True):
        example_id = example["example_id"]
        example_id = example_id.decode("utf-8") if isinstance(example_id, bytes) else str(example_id)
        if example_id != record["example_id"]:
            raise ValueError(f"{predictions_path}: record {record['example_id']!r} is not the task's test example "
                             f"{example_id!r} at that position; decode the row again")
    vocabulary = seqio.get_mixture_or_task(predict_task_name).output_features["targets"].vocabulary
    probe = label_probe(inputs=[example["inputs"] for example in examples],
                        predictions=[record["prediction"] for record in records], vocabulary=vocabulary,
                        model=_model(model_config, vocab_size), params=params, inputs_length=training.inputs_length,
                        targets_length=training.targets_length, alpha=alpha, batch_size=training.decode_batch_size)
    with open(os.path.join(directory, LABEL_PROBE_RECORD), "w", encoding="utf-8") as handle:
        json.dump(probe, handle, indent=1)
    _log(f"  {describe(probe)}")


def _recorded(directory: str, record: str, key: str) -> Any:
    """One value of a row's JSON record, or None where the record was not written."""
    path = os.path.join(directory, record)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)[key]


def chosen_alpha(directory: str) -> float | None:
    """The length penalty a row's test predictions were decoded with (decoding.json)."""
    alpha = _recorded(directory, DECODING_RECORD, "alpha")
    return None if alpha is None else float(alpha)


def chosen_step(directory: str) -> int | None:
    """The step a row's predictions come from (training.json), or None for a row trained before it was recorded."""
    step = _recorded(directory, TRAINING_RECORD, "chosen_step")
    return None if step is None else int(step)


def use_compilation_cache(directory: str) -> None:
    """Rows share model shapes: XLA's persistent cache compiles each train/decode step once for all rows and runs."""
    import jax

    jax.config.update("jax_compilation_cache_dir", directory)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def checkpoint_fingerprint(path: str) -> list[tuple[str, int, int]]:
    """(relative name, size, mtime in ns) of every file of a checkpoint: a checkpoint written again at the same path
    (a new pre-training) makes new rows, without hashing gigabytes of weights."""
    if os.path.isfile(path):
        return [(os.path.basename(path), os.path.getsize(path), os.stat(path).st_mtime_ns)]
    found = []
    for root, _, names in os.walk(path):
        for name in sorted(names):
            file = os.path.join(root, name)
            found.append((os.path.relpath(file, path), os.path.getsize(file), os.stat(file).st_mtime_ns))
    if not found:
        raise FileNotFoundError(f"initial_checkpoint {path}: no checkpoint files there")
    return sorted(found)


def starting_point(
    *,
    store: ArtifactStore,
    initial_checkpoint: str | None,
    initial_checkpoint_format: str,
    pretraining: PretrainingSettings | None,
    prepared_dir: str,
    prepared_key: Mapping[str, Any],
    vocabulary_path: str,
    model_config: Any,
    vocab_size: int,
) -> tuple[dict[str, Any], Any]:
    """(what the models start from, as an artifact key; its params, or None for random weights)."""
    if initial_checkpoint and pretraining:
        raise ValueError("give initial_checkpoint (a pretrained T5) or pretraining (for a from-scratch model), "
                         "not both")
    model = _model(model_config, vocab_size)
    if initial_checkpoint:
        from personalize.stage_models.train_apply import imported_params

        key = {"checkpoint": os.path.abspath(initial_checkpoint), "format": initial_checkpoint_format,
               "files": checkpoint_fingerprint(initial_checkpoint)}
        _log(f"[start] fine-tuning from {initial_checkpoint} ({initial_checkpoint_format})")
        return key, imported_params(path=initial_checkpoint, checkpoint_format=initial_checkpoint_format,
                                    config=model.config)
    if pretraining is None:
        return {}, None
    from personalize.pretraining.run import pretrain
    from personalize.pretraining.stage import CHECKPOINT_DIR
    from personalize.stage_models.train_apply import imported_params

    key = {"prepared": config_hash(prepared_key), "vocabulary": vocabulary_path,
           "model": model_config.function_fields(), "pretraining": pretraining.artifact_key()}
    directory = store.build("pretrained", key, lambda d: pretrain(
        prepared_dir=prepared_dir, output_dir=d, vocabulary_path=vocabulary_path, model_config=model_config,
        settings=pretraining), resumable=True)
    params = imported_params(path=os.path.join(directory, CHECKPOINT_DIR), checkpoint_format="hf",
                             config=model.config)
    return {"pretrained": config_hash(key)}, params


def _training_headlines(*, store: ArtifactStore, prepared_dir: str, ranked_key: Mapping[str, Any]) -> str | None:
    """The headline corpus (body -> title) of the training users' documents, or None when they have no titles."""
    from personalize.summarization.headline_corpus import write_prepared_headline_corpus

    directory = store.build("headline-corpus", {"prepared": ranked_key["prepared"]}, lambda d: (
        write_prepared_headline_corpus(prepared_dir=prepared_dir, output_path=os.path.join(d, HEADLINES_FILE))))
    path = os.path.join(directory, HEADLINES_FILE)
    if os.path.getsize(path) == 0:
        _log(f"[SumCtxInd] the training users' documents have no titles ({path} is empty)")
        return None
    return path


def build_additions(
    *,
    store: ArtifactStore,
    rows: Sequence[str],
    prepared_dir: str,
    ranked_dir: str,
    ranked_key: Mapping[str, Any],
    base_ranking: str,
    base_summary: str,
    vocabulary_path: str,
    model_config: Any,
    training: TrainingSettings,
    sumctxind_corpus: str | None,
    sumctxind_checkpoint: str | None,
    start_key: Mapping[str, Any] | None = None,
    pretrained_params: Any = None,
    embedding_cache_dir: str | None = None,
    wordnet_dir: str | None = None,
) -> dict[str, str]:
    """Summaries and keywords the requested rows need (stages 3-4), each an artifact: variant -> directory.

    The stage models start from `pretrained_params` (what `start_key` names: imported T5 weights or the denoising
    pre-training), as the paper's start from T5; a SumCtxInd checkpoint without a corpus is used as it is.
    SumCtx's weak labels use the ranking's dense encoder (`ranked_key["encoder"]`) through its embedding cache;
    SynCtx's use the WordNet 3.0 database in `wordnet_dir` (None: the installed one, synonyms.default_wordnet_dir).
    """
    from personalize.pipeline.rank_contexts import load_text_encoder
    from personalize.stage_models.train_apply import train_and_apply
    from personalize.summarization.context_independent import write_corpus_examples, write_sumctxind_inputs
    from personalize.summarization.run import write_sumctx_training_examples
    from personalize.synthesis.run import write_synctx_training_examples, write_synctxind
    from personalize.synthesis.synonyms import default_wordnet_dir

    wanted = {row.lstrip("+") for row in rows}
    if wanted & {"SynCtxInd", "SynCtx"}:
        wanted.add(base_summary)
    if "SumCtxInd" in wanted and sumctxind_corpus == TRAINING_HEADLINES:
        sumctxind_corpus = _training_headlines(store=store, prepared_dir=prepared_dir, ranked_key=ranked_key)
    if "SumCtxInd" in wanted and not (sumctxind_corpus or sumctxind_checkpoint):
        _log("[SumCtxInd] not built: give a summarization corpus (sumctxind_corpus) or a checkpoint "
             "(sumctxind_checkpoint)")
        wanted.discard("SumCtxInd")
    stage = {"ranked": config_hash(ranked_key), "base_ranking": base_ranking, "vocabulary": vocabulary_path,
             "model": model_config.function_fields(), "training": dataclasses.asdict(training),
             "start": dict(start_key or {})}
    model_settings = dict(vocabulary_path=vocabulary_path, model_config=model_config, train_steps=training.train_steps,
                          ranked_dir=ranked_dir, batch_size=training.batch_size,
                          inputs_length=training.inputs_length, targets_length=training.targets_length,
                          learning_rate=training.learning_rate, warmup_steps=training.warmup_steps,
                          eval_period=training.eval_period, patience=training.patience,
                          decode_method="beam" if training.num_beams > 1 else "greedy",
                          num_beams=max(training.num_beams, 1), alpha=training.alpha,
                          decode_batch_size=training.decode_batch_size, seed=training.seed,
                          pretrained_params=pretrained_params)
    additions: dict[str, str] = {}
    if "SynCtxInd" in wanted:
        additions["SynCtxInd"] = store.build("synctxind", ranked_key, lambda d: write_synctxind(
            prepared_dir=prepared_dir, ranked_dir=ranked_dir, output_dir=d))
    if "SumCtx" in wanted:
        # "labels": per-entry snippets (a label never straddles two past documents), not the re-split context
        examples = store.build("sumctx-examples", ranked_key | {"strategy": base_ranking, "labels": "per-entry"},
                               lambda d: (
            write_sumctx_training_examples(ranked_dir=ranked_dir, output_dir=d, strategy=base_ranking,
                                           encoder=load_text_encoder(encoder=ranked_key.get("encoder", "minilm"),
                                                                     cache_dir=embedding_cache_dir))))
        additions["SumCtx"] = store.build("sumctx", stage, lambda d: train_and_apply(
            examples_dir=examples, output_dir=d, variant="SumCtx", **model_settings), resumable=True)
    if "SynCtx" in wanted:
        examples = store.build("synctx-examples", ranked_key | {"strategy": base_ranking}, lambda d: (
            write_synctx_training_examples(prepared_dir=prepared_dir, ranked_dir=ranked_dir, output_dir=d,
                                           strategy=base_ranking, wordnet_dir=wordnet_dir or default_wordnet_dir())))
        additions["SynCtx"] = store.build("synctx", stage, lambda d: train_and_apply(
            examples_dir=examples, output_dir=d, variant="SynCtx", **model_settings), resumable=True)
    if "SumCtxInd" in wanted:
        key = stage | {"corpus": sumctxind_corpus, "checkpoint": sumctxind_checkpoint}
        inputs = store.build("sumctxind-inputs", ranked_key | {"strategy": base_ranking}, lambda d: (
            write_sumctxind_inputs(ranked_dir=ranked_dir, output_dir=d, strategy=base_ranking)))

        def summarize(directory: str) -> None:
            corpus = os.path.join(directory, "corpus")
            if sumctxind_corpus:
                write_corpus_examples(train_path=sumctxind_corpus, validation_path=None, output_dir=corpus)
            settings = dict(model_settings)
            if sumctxind_checkpoint:
                settings["pretrained_params"] = None
                if not sumctxind_corpus:
                    settings["train_steps"] = 0
            train_and_apply(examples_dir=corpus if sumctxind_corpus else inputs, apply_dir=inputs,
                            output_dir=os.path.join(directory, "addition"), variant="SumCtxInd",
                            initial_checkpoint=sumctxind_checkpoint, **settings)

        additions["SumCtxInd"] = os.path.join(store.build("sumctxind", key, summarize, resumable=True), "addition")
    return additions


def row_additions(*, row: str, additions: Mapping[str, str], base_summary: str, multitask_row: str) -> list[str]:
    """The stage outputs a row's prompt uses: its artifact key names these alone, so running a subset of rows (or
    adding a stage later) reuses every row whose inputs did not change."""
    if row == "+AuthorPred":
        return row_additions(row=multitask_row, additions=additions, base_summary=base_summary,
                             multitask_row=multitask_row)
    used = {"+SumCtx": ["SumCtx"], "+SumCtxInd": ["SumCtxInd"], "+SynCtx": [base_summary, "SynCtx"],
            "+SynCtxInd": [base_summary, "SynCtxInd"]}.get(row, [])
    return [name for name in used if name in additions]


def run_experiment(
    *,
    output_dir: str,
    prepare: Callable[..., Any],
    model_config: Any,
    rows: Sequence[str] = DEFAULT_ROWS,
    strategies: Sequence[str] = ("RecentDoc", "RankDocBM25", "RankDocDense", "RankSnippet", "RankDocBySnpt"),
    base_ranking: str = "RankDocBySnpt",
    encoder: str = "minilm",
    vocabulary_size: int = 2000,
    vocabulary_path: str | None = None,
    training: TrainingSettings = TrainingSettings(),
    stage_training: TrainingSettings = TrainingSettings(num_beams=1),
    base_summary: str = "SumCtx",
    sumctxind_corpus: str | None = None,
    sumctxind_checkpoint: str | None = None,
    initial_checkpoint: str | None = None,
    initial_checkpoint_format: str = "hf",
    pretraining: PretrainingSettings | None = None,
    wordnet_dir: str | None = None,
    prepare_config: Mapping[str, Any] | None = None,
    corpus: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Runs every requested row and writes results.md / results.csv / plots in `output_dir`.

    `stage_training` trains the SumCtx / SynCtx models (num_beams=1: greedy decoding); +SumCtxInd runs when a
    public summarization corpus (document/summary JSONL) or a summarizer checkpoint (T5X) is given.
    Every model starts from `initial_checkpoint` (a local T5 checkpoint, as the paper starts from T5), from a
    denoising `pretraining` on the training users' documents (from-scratch models), or from random weights.
    `wordnet_dir`: the WordNet 3.0 database of +SynCtx (None: the installed one). Before the first stage, every
    outside resource these rows use, and `corpus` (the format, paths and fields `prepare` reads, when given), is
    checked (personalize/preflight.py): a PreflightError lists all that is missing, and nothing is written.
    """
    from personalize.preflight import experiment_problems, raise_problems
    from personalize.synthesis.synonyms import default_wordnet_dir

    experiment_started = time.perf_counter()
    wordnet_dir = wordnet_dir or default_wordnet_dir()
    raise_problems(experiment_problems(
        output_dir=output_dir, rows=rows, strategies=strategies, encoder=encoder, wordnet_dir=wordnet_dir,
        vocabulary_path=vocabulary_path, initial_checkpoint=initial_checkpoint, sumctxind_corpus=sumctxind_corpus,
        sumctxind_checkpoint=sumctxind_checkpoint, base_summary=base_summary, corpus=corpus,
        training_headlines=TRAINING_HEADLINES))

    import tasks
    from personalize.generation.rows import row_slug
    from personalize.pipeline.beam_ranking import rank_dataset
    from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary, train_vocabulary

    store = ArtifactStore(os.path.join(output_dir, "artifacts"), log=_log)
    use_compilation_cache(os.path.join(output_dir, "artifacts", "jax-compilation-cache"))
    prepared_key = {"prepare": dict(prepare_config or {})}
    prepared_dir = store.build("prepared", prepared_key, lambda d: prepare(output_dir=d))
    with open(os.path.join(prepared_dir, "manifest.json"), encoding="utf-8") as handle:
        dataset_name = json.load(handle)["settings"]["name"]

    ranked_key = {"prepared": config_hash(prepared_key), "strategies": list(strategies), "encoder": encoder}
    embedding_cache_dir = os.path.join(output_dir, "artifacts", "embedding-cache")
    ranked_dir = store.build("ranked", ranked_key, lambda d: rank_dataset(
        prepared_dir=prepared_dir, output_dir=d, strategies=tuple(strategies), encoder=encoder, in_process=True,
        cache_dir=embedding_cache_dir))

    if vocabulary_path is None:
        vocabulary_key = {"prepared": config_hash(prepared_key), "size": vocabulary_size}
        vocabulary_dir = store.build("vocabulary", vocabulary_key, lambda d: train_vocabulary(
            prepared_dir=prepared_dir, output_path=os.path.join(d, "spm.model"), vocab_size=vocabulary_size))
        vocabulary_path = os.path.join(vocabulary_dir, "spm.model")
    vocabulary = load_vocabulary(path=vocabulary_path)

    start_key, start_params = starting_point(
        store=store, initial_checkpoint=initial_checkpoint, initial_checkpoint_format=initial_checkpoint_format,
        pretraining=pretraining, prepared_dir=prepared_dir, prepared_key=prepared_key,
        vocabulary_path=vocabulary_path, model_config=model_config, vocab_size=vocabulary.vocab_size)
    additions = build_additions(
        store=store, rows=rows, prepared_dir=prepared_dir, ranked_dir=ranked_dir, ranked_key=ranked_key,
        base_ranking=base_ranking, base_summary=base_summary, vocabulary_path=vocabulary_path,
        model_config=model_config, training=stage_training, sumctxind_corpus=sumctxind_corpus,
        sumctxind_checkpoint=sumctxind_checkpoint, start_key=start_key, pretrained_params=start_params,
        embedding_cache_dir=embedding_cache_dir, wordnet_dir=wordnet_dir)

    slug = "".join(c if c.isalnum() else "_" for c in dataset_name.lower())
    # The paper adds author distinction on top of the best single task: +SynCtx when it runs.
    multitask_row = "+SynCtx" if "SynCtx" in additions and base_summary in additions else base_ranking
    registered = set(tasks.register_dataset(name=slug, ranked_dir=ranked_dir, additions=additions,
                                            vocabulary=vocabulary, prepared_dir=prepared_dir,
                                            base_ranking=base_ranking, base_summary=base_summary,
                                            multitask_row=multitask_row))
    predictions: dict[str, str] = {}
    label_probe_path: str | None = None
    steps: dict[str, int | None] = {}
    alphas: dict[str, float | None] = {}
    skipped: dict[str, str] = {}
    for row in rows:
        prompt_row = base_ranking if row == ZERO_SHOT else row
        name = tasks.task_name(dataset=slug, row=prompt_row)
        if name not in registered:
            skipped[row] = "its inputs are not available in this run (see README: stage status)"
            _log(f"[{row}] skipped: {skipped[row]}")
            continue
        if row == ZERO_SHOT and start_params is None:
            skipped[row] = "no starting checkpoint: the models start from random weights"
            _log(f"[{row}] skipped: {skipped[row]}")
            continue
        row_key = {"row": row, "ranked": config_hash(ranked_key),
                   "additions": row_additions(row=row, additions=additions, base_summary=base_summary,
                                              multitask_row=multitask_row),
                   "vocabulary": vocabulary_path, "model": model_config.function_fields(),
                   "training": training_key(training), "start": start_key}
        decoded = tasks.task_name(dataset=slug, row=multitask_row) if row == "+AuthorPred" else name
        if row == ZERO_SHOT:
            trained_dir = store.build(f"row-{row_slug(row)}", row_key, record_zero_shot)
            params_of = lambda: start_params  # noqa: E731
        else:
            trained_dir = store.build(f"row-{row_slug(row)}", row_key, lambda d: train_row(
                directory=d, task_name=name, predict_task_name=decoded, model_config=model_config,
                vocab_size=vocabulary.vocab_size, training=training, pretrained_params=start_params), resumable=True)
            params_of = lambda: trained_params(  # noqa: E731
                directory=trained_dir, model_config=model_config, vocab_size=vocabulary.vocab_size,
                training=training)
        decoded_dir = store.build(
            f"decoded-{row_slug(row)}", {"row": row_key, "decoding": decoding_key(training)},
            lambda d: decode_row(directory=d, predict_task_name=decoded, model_config=model_config,
                                 vocab_size=vocabulary.vocab_size, training=training, params=params_of()))
        predictions[row] = os.path.join(decoded_dir, "predictions-test.jsonl")
        steps[row] = chosen_step(trained_dir)
        alphas[row] = chosen_alpha(decoded_dir)
        if row == "+AuthorPred":
            probe_dir = store.build("author-labels", {"row": row_key, "decoding": decoding_key(training)},
                                    lambda d: probe_author_labels(
                                        directory=d, predictions_path=predictions[row], predict_task_name=decoded,
                                        model_config=model_config, vocab_size=vocabulary.vocab_size,
                                        training=training, params=params_of(), alpha=alphas[row]))
            label_probe_path = os.path.join(probe_dir, LABEL_PROBE_RECORD)

    _log(f"[results] scoring {len(predictions)} row{'s' if len(predictions) != 1 else ''}")
    scoring_started = time.perf_counter()
    # Rows without past passages measure context use against the base ranking's passages, when it ran.
    results = build_results(predictions=predictions, context_row=base_ranking if base_ranking in predictions else None,
                            steps={row: step for row, step in steps.items() if step is not None},
                            alphas={row: alpha for row, alpha in alphas.items() if alpha is not None})
    paper_dataset = PAPER_COUNTERPART.get(dataset_name)
    paths = write_results(results, output_dir=output_dir, title=f"{dataset_name} (test split)",
                          paper_dataset=paper_dataset)
    paths["orderings"] = write_orderings(
        check_orderings(predictions=predictions, base_ranking=base_ranking, base_summary=base_summary,
                        multitask_row=multitask_row),
        output_dir=output_dir, title=f"{dataset_name} (test split)")
    _log(f"[results] scored in {format_duration(time.perf_counter() - scoring_started)}; the experiment took "
         f"{format_duration(time.perf_counter() - experiment_started)}")
    with open(os.path.join(output_dir, "skipped_rows.json"), "w", encoding="utf-8") as handle:
        json.dump(skipped, handle, indent=1)
    for kind in ("markdown", "orderings"):
        with open(paths[kind], encoding="utf-8") as handle:
            print(handle.read())
    if label_probe_path:
        from personalize.author_distinction.label_probe import describe

        shutil.copyfile(label_probe_path, os.path.join(output_dir, LABEL_PROBE_RECORD))
        with open(label_probe_path, encoding="utf-8") as handle:
            print(f"+AuthorPred {describe(json.load(handle))} ({os.path.join(output_dir, LABEL_PROBE_RECORD)})")
    for row, reason in skipped.items():
        print(f"not run: {row} ({reason})")
    tables = [paths[kind] for kind in ("markdown", "csv", "orderings")]
    print(f"results: {', '.join(tables)}")
    print(f"plots: {', '.join(path for path in paths.values() if path not in tables)}")
    return paths
