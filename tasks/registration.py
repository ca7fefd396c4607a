"""Registering one dataset's SeqIO tasks (one per experiment row) and its +AuthorPred mixture.

`register_dataset` is explicit and idempotent: it first removes every name it could have registered for that
dataset, then registers the rows whose inputs exist, so calling it again (also with other inputs) is safe.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from personalize.generation.rows import GENERATION_ROWS, MULTITASK_ROW, experiment_rows, row_slug
from personalize.metrics.text_metrics import GENERATION_METRICS, exact_match
from personalize.pipeline.additions import VARIANT_FIELDS, Addition
from personalize.pipeline.ranked import RankedDataset
from tasks import features, sources

VERSION = "v1"
AUTHOR_DISTINCTION = "AuthorDistinction"
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def task_name(*, dataset: str, row: str) -> str:
    """The SeqIO name of a row's task (or, for '+AuthorPred', its mixture): personalize_{dataset}_{row}_v1."""
    if not _NAME.match(dataset):
        raise ValueError(f"dataset name {dataset!r} may only use letters, digits and '_' (it goes into task names)")
    known = (*GENERATION_ROWS, MULTITASK_ROW, AUTHOR_DISTINCTION)
    if row not in known:
        raise ValueError(f"unknown row {row!r}; known: {known}")
    return f"personalize_{dataset}_{row_slug(row)}_{VERSION}"


def _vocabulary(vocabulary):
    if isinstance(vocabulary, str):
        from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary

        return load_vocabulary(path=vocabulary)
    return vocabulary


def _checked_additions(additions: Mapping[str, str]) -> dict[str, str]:
    for variant, path in additions.items():
        if variant not in VARIANT_FIELDS:
            raise ValueError(f"unknown addition {variant!r}; known: {sorted(VARIANT_FIELDS)}")
        found = Addition(path).variant
        if found != variant:
            raise ValueError(f"{path} holds the {found!r} addition, but was given as {variant!r}")
    return dict(additions)


def unregister_dataset(*, name: str) -> None:
    import seqio

    seqio.MixtureRegistry.remove(task_name(dataset=name, row=MULTITASK_ROW))
    for row in (*GENERATION_ROWS, AUTHOR_DISTINCTION):
        seqio.TaskRegistry.remove(task_name(dataset=name, row=row))


def register_dataset(
    *,
    name: str,
    ranked_dir: str,
    additions: Mapping[str, str] = {},
    vocabulary: Any,
    prepared_dir: str | None = None,
    base_ranking: str = "RankDocBySnpt",
    base_summary: str = "SumCtx",
    multitask_row: str = "+SynCtx",
    num_author_pairs: int | None = None,
    author_pairs_seed: int = 0,
) -> list[str]:
    """Registers the dataset's tasks and mixture; returns the registered names.

    A row is registered only when its inputs exist: a ranking row when the ranked manifest lists its strategy,
    +Sum*/+Syn* when their additions are given (and the base ranking exists), UserID and author distinction
    when `prepared_dir` is given (they need documents beyond the ranked examples), and the +AuthorPred mixture
    (`multitask_row` and author distinction, rates 1:1) when both exist. `vocabulary` is a seqio vocabulary or
    the path of a SentencePiece model.
    """
    import seqio

    task_name(dataset=name, row="ImmedCtx")  # validates the name before anything is removed
    ranked = RankedDataset(ranked_dir)
    strategies = set(ranked.strategies)
    additions = _checked_additions(additions)
    vocabulary = _vocabulary(vocabulary)
    output_features = features.output_features(vocabulary)
    splits = sorted(ranked.splits)
    unregister_dataset(name=name)

    registered = []
    for row in experiment_rows(base_ranking=base_ranking, base_summary=base_summary):
        needs = [v for v in (row.summary, row.keywords) if v is not None]
        if row.ranking is not None and row.ranking not in strategies:
            continue
        if any(variant not in additions for variant in needs) or (row.user_id and prepared_dir is None):
            continue
        task = seqio.Task(
            task_name(dataset=name, row=row.name),
            source=seqio.FunctionDataSource(
                sources.generation_dataset_fn(row=row, ranked_dir=ranked_dir, additions=additions, prepared_dir=prepared_dir),
                splits=splits,
            ),
            preprocessors=features.preprocessors(),
            output_features=output_features,
            metric_fns=list(GENERATION_METRICS),
        )
        seqio.TaskRegistry.add_provider(task.name, task)
        registered.append(task.name)

    if prepared_dir is not None:
        author = seqio.Task(
            task_name(dataset=name, row=AUTHOR_DISTINCTION),
            source=seqio.FunctionDataSource(
                sources.author_distinction_dataset_fn(prepared_dir=prepared_dir, num_pairs=num_author_pairs,
                                                      pair_seed=author_pairs_seed),
                splits=["train"],
            ),
            preprocessors=features.preprocessors(),
            output_features=output_features,
            metric_fns=[exact_match],
        )
        seqio.TaskRegistry.add_provider(author.name, author)
        registered.append(author.name)
        base = task_name(dataset=name, row=multitask_row)
        if base in registered:
            mixture = seqio.Mixture(task_name(dataset=name, row=MULTITASK_ROW), [(base, 1.0), (author.name, 1.0)])
            seqio.MixtureRegistry.add_provider(mixture.name, mixture)
            registered.append(mixture.name)
    return registered


def register_datasets(*, datasets: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    """Registers each entry's dataset (keyword arguments of `register_dataset`); the gin-bindable edge."""
    registered = []
    for entry in datasets:
        if "name" not in entry or "ranked_dir" not in entry or "vocabulary" not in entry:
            raise ValueError(f"a dataset entry needs name, ranked_dir and vocabulary; got keys {sorted(entry)}")
        registered += register_dataset(**entry)
    return registered
