"""The pre-training corpus: training users' documents, a held-out part of them, and the two objectives' tasks.

Which users are read is the `users` setting, and neither choice reads a user with a validation or test example, so
nothing a held-out user wrote is seen before evaluation:
- 'training' (default): the prepared dataset's training-only users (`training_only_users`);
- 'not_held_out': every user of the corpus the dataset was prepared from, those preparation dropped for too few
  examples included (their documents are reloaded from the manifest's load settings and de-duplicated per user as
  preparation does). On Amazon reviews this is about 5x the training users' documents. A few of their documents, picked by a hash of (seed, user,
document) and so independent of file order, are held out of training: validation loss and the copy probe run on
them. Span corruption examples are stored as token ids (T5 corrupts tokens, not words); the whole-document
denoising examples are text, as `denoising.py` writes them. A SeqIO mixture samples both at `denoising_rate`.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Iterator, Sequence

from personalize.author_distinction.pairs import training_only_users
from personalize.corpus.document import Document
from personalize.preparation.dataset import PreparedDataset
from personalize.pretraining.denoising import denoising_examples, document_text
from personalize.pretraining.span_corruption import chunk_tokens_for, example_seed, span_corruption
from personalize.summarization.seq2seq_examples import read_examples, write_examples_dir

SPAN_CORRUPTION = "SpanCorruption"
SPLITS = ("train", "validation")


@dataclasses.dataclass(frozen=True)
class PretrainingCorpus:
    """Training users' documents split into those trained on and those held out (validation, copy probe)."""

    train: tuple[Document, ...]
    held_out: tuple[Document, ...]
    users: int


USERS = ("training", "not_held_out")


def held_out_users(*, prepared: PreparedDataset) -> set[str]:
    """Users with a validation or test example: never pre-trained on."""
    return {example.user_id for split in ("validation", "test") for example in prepared.examples(split)}


def source_documents_not_held_out(*, prepared: PreparedDataset) -> list[Document]:
    """The documents of the corpus `prepared` was made from, of every user without a validation or test example,
    de-duplicated per user (same title and body) as preparation does."""
    from personalize.corpus.errors import RecordReport
    from personalize.corpus.sources import load_documents
    from personalize.preparation.deduplicate import deduplicate_user_documents

    settings = prepared.manifest.get("settings", {})
    if "format" not in settings:
        raise ValueError(f"{prepared.path}: the manifest records no load settings; prepare it again to pre-train "
                         "on users='not_held_out'")
    missing = [path for path in settings.get("paths", []) if not os.path.exists(path)]
    if missing:
        raise FileNotFoundError(f"{prepared.path}: users='not_held_out' rereads the prepared corpus, but "
                                f"{', '.join(missing)} is absent (paths are relative to where it was prepared)")
    excluded = held_out_users(prepared=prepared)
    report = RecordReport(source=", ".join(settings.get("paths", [])) or settings["format"],
                          skip_bad=settings.get("skip_bad", False))
    by_user: dict[str, list[Document]] = {}
    for document in load_documents(format=settings["format"], paths=settings.get("paths", []), report=report,
                                   fields=settings.get("fields"), options=settings.get("loader_options")):
        if document.user_id not in excluded:
            by_user.setdefault(document.user_id, []).append(document)
    return [document for user in sorted(by_user) for document in deduplicate_user_documents(by_user[user])[0]]


def training_corpus(*, prepared_dir: str, held_out_documents: int, seed: int,
                    users: str = "training") -> PretrainingCorpus:
    """The non-empty documents of the `users` (see the module docstring), `held_out_documents` of them held out."""
    if users not in USERS:
        raise ValueError(f"users must be one of {', '.join(USERS)}; got {users!r}")
    prepared = PreparedDataset(prepared_dir)
    if users == "training":
        kept = training_only_users(prepared=prepared)
        documents = [d for d in prepared.documents() if d.user_id in kept and document_text(d).strip()]
    else:
        documents = [d for d in source_documents_not_held_out(prepared=prepared) if document_text(d).strip()]
        kept = {d.user_id for d in documents}
    if not documents:
        raise ValueError(f"{prepared_dir}: no documents of users without validation or test examples to pre-train "
                         f"on (users={users!r}; a temporal split holds every user out)")
    if held_out_documents < 1 or held_out_documents >= len(documents):
        raise ValueError(f"held_out_documents must be in [1, {len(documents) - 1}] for {prepared_dir} "
                         f"({len(documents)} documents), got {held_out_documents}")
    ranked = sorted(documents, key=lambda d: example_seed(seed=seed, key=f"held-out:{d.user_id}/{d.doc_id}"))
    by_id = lambda d: (d.user_id, d.doc_id)  # noqa: E731
    return PretrainingCorpus(train=tuple(sorted(ranked[held_out_documents:], key=by_id)),
                             held_out=tuple(sorted(ranked[:held_out_documents], key=by_id)), users=len(kept))


def span_corruption_examples(*, documents: Sequence[Document], encode, vocab_size: int, chunk_tokens: int,
                             copies: int, seed: int, noise_density: float,
                             mean_noise_span_length: float) -> Iterator[dict[str, Any]]:
    """`copies` corruptions of every `chunk_tokens`-long chunk of every document (token ids, no EOS).

    `encode` maps text to token ids; each example's noise depends only on the seed and its
    user/document/chunk/copy key.
    """
    for document in documents:
        tokens = list(encode(document_text(document)))
        for start in range(0, len(tokens), chunk_tokens):
            chunk = tokens[start:start + chunk_tokens]
            for copy in range(copies):
                key = f"{document.user_id}/{document.doc_id}/{start // chunk_tokens}/{copy}"
                inputs, targets = span_corruption(tokens=chunk, vocab_size=vocab_size,
                                                  seed=example_seed(seed=seed, key=key), noise_density=noise_density,
                                                  mean_noise_span_length=mean_noise_span_length)
                yield {"example_id": key, "inputs": inputs, "targets": targets}


def write_objective_examples(*, corpus: PretrainingCorpus, output_dir: str, vocabulary: Any, inputs_length: int,
                             copies: int, seed: int, noise_density: float, mean_noise_span_length: float,
                             denoising_span_start_rate: float, denoising_max_span_words: int,
                             denoising_prefix: str = "") -> dict[str, str]:
    """Writes output_dir/span_corruption and output_dir/denoising (train = trained-on documents, validation =
    held-out ones); returns {objective: directory}. Directories with a manifest are kept as they are."""
    chunk_tokens = chunk_tokens_for(inputs_length=inputs_length, noise_density=noise_density,
                                    mean_noise_span_length=mean_noise_span_length)
    span_dir = os.path.join(output_dir, "span_corruption")
    denoising_dir = os.path.join(output_dir, "denoising")
    if not os.path.exists(os.path.join(span_dir, "manifest.json")):
        settings = {"chunk_tokens": chunk_tokens, "copies": copies, "seed": seed, "noise_density": noise_density,
                    "mean_noise_span_length": mean_noise_span_length, "vocab_size": vocabulary.vocab_size}
        write_examples_dir(output_dir=span_dir, variant=SPAN_CORRUPTION, settings=settings, files={
            split: span_corruption_examples(documents=documents, encode=vocabulary.encode,
                                            vocab_size=vocabulary.vocab_size, chunk_tokens=chunk_tokens,
                                            copies=copies, seed=seed, noise_density=noise_density,
                                            mean_noise_span_length=mean_noise_span_length)
            for split, documents in (("train", corpus.train), ("validation", corpus.held_out))})
    if not os.path.exists(os.path.join(denoising_dir, "manifest.json")):
        settings = {"copies": copies, "seed": seed, "span_start_rate": denoising_span_start_rate,
                    "max_span_words": denoising_max_span_words, "prefix": denoising_prefix}
        write_examples_dir(output_dir=denoising_dir, variant="Denoising", settings=settings, files={
            split: denoising_examples(documents=documents, copies=copies, seed=seed,
                                      span_start_rate=denoising_span_start_rate,
                                      max_span_words=denoising_max_span_words, prefix=denoising_prefix)
            for split, documents in (("train", corpus.train), ("validation", corpus.held_out))})
    return {"span_corruption": span_dir, "denoising": denoising_dir}


def _token_dataset_fn(examples_dir: str):
    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None):
        import tensorflow as tf

        del shuffle_files, seed  # one file per split; the task's buffer shuffles examples
        signature = {"inputs": tf.TensorSpec(shape=(None,), dtype=tf.int32),
                     "targets": tf.TensorSpec(shape=(None,), dtype=tf.int32),
                     "example_id": tf.TensorSpec(shape=(), dtype=tf.string)}
        return tf.data.Dataset.from_generator(
            lambda: ({"inputs": r["inputs"], "targets": r["targets"], "example_id": r["example_id"]}
                     for r in read_examples(examples_dir=examples_dir, name=split)),
            output_signature=signature)

    return dataset_fn


def register_pretraining_mixture(*, name: str, directories: dict[str, str], vocabulary: Any,
                                 denoising_rate: float) -> str:
    """Registers `name`: span corruption (token ids) and, at `denoising_rate`, whole-document denoising.

    Rate 0 is span corruption alone, 1 denoising alone. Safe to call twice. Returns the mixture's name.
    """
    import seqio

    from personalize.stage_models.task import register_stage_task
    from tasks import features

    if not 0.0 <= denoising_rate <= 1.0:
        raise ValueError(f"denoising_rate must be in [0, 1], got {denoising_rate}")
    span_task, denoising_task = f"{name}_span_corruption", f"{name}_denoising"
    seqio.TaskRegistry.remove(span_task)
    seqio.TaskRegistry.add_provider(span_task, seqio.Task(
        span_task,
        source=seqio.FunctionDataSource(_token_dataset_fn(os.path.abspath(directories["span_corruption"])),
                                        splits=SPLITS),
        preprocessors=[seqio.CacheDatasetPlaceholder(), seqio.preprocessors.append_eos_after_trim],
        output_features=features.output_features(vocabulary)))
    register_stage_task(name=denoising_task, examples_dir=directories["denoising"], vocabulary=vocabulary)
    rates = [(task, rate) for task, rate in ((span_task, 1.0 - denoising_rate), (denoising_task, denoising_rate))
             if rate > 0]
    seqio.MixtureRegistry.remove(name)
    seqio.MixtureRegistry.add_provider(name, seqio.Mixture(name, rates))
    return name
