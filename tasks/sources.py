"""seqio.FunctionDataSource dataset functions: rendered text pairs from the ranked shards and the pairs file.

Formatting happens in Python in the generator (one place, shared with tests and inspection); the tf.data side
only tokenizes. Shuffling reorders the ranked shards by the seed; the Task's shuffle buffer mixes examples.
"""

from __future__ import annotations

import random
from typing import Callable, Mapping

from personalize.author_distinction.pairs import training_pairs
from personalize.generation.examples import render_example, row_examples
from personalize.generation.rows import Row
from personalize.generation.user_id_examples import held_out_user_examples
from personalize.pipeline.ranked import RankedDataset

GENERATION_FIELDS = ("inputs", "targets", "example_id", "user_id", "inputs_head", "inputs_entries")
PAIR_FIELDS = ("inputs", "targets", "pair_id")
LIST_FIELDS = ("inputs_entries",)  # a list of strings: the past passages' entries, for trimming by priority


def _string_dataset(generate: Callable, fields: tuple[str, ...]):
    import tensorflow as tf

    signature = {field: tf.TensorSpec(shape=(None,) if field in LIST_FIELDS else (), dtype=tf.string)
                 for field in fields}
    return tf.data.Dataset.from_generator(
        lambda: ({field: record[field] for field in fields} for record in generate()), output_signature=signature
    )


def generation_dataset_fn(*, row: Row, ranked_dir: str, additions: Mapping[str, str], prepared_dir: str | None):
    """The dataset_fn(split, shuffle_files, seed) of one row. UserID's train split adds held-out users' earlier
    documents (see personalize.generation.user_id_examples)."""

    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None):
        order = list(range(len(RankedDataset(ranked_dir).shard_paths(split))))
        if shuffle_files:
            random.Random(seed).shuffle(order)

        def generate():
            yield from row_examples(row=row, ranked_dir=ranked_dir, split=split, additions=additions, shard_order=order)
            if row.user_id and split == "train":
                for example in held_out_user_examples(prepared_dir=prepared_dir):
                    yield render_example(row=row, example=example)

        return _string_dataset(generate, GENERATION_FIELDS)

    return dataset_fn


def author_distinction_dataset_fn(*, prepared_dir: str, num_pairs: int | None, pair_seed: int):
    """Training pairs only: validation and test users never provide author-distinction data."""

    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None):
        if split != "train":
            raise ValueError(f"author distinction has only a train split, not {split!r}")
        pairs = training_pairs(prepared_dir=prepared_dir, num_pairs=num_pairs, seed=pair_seed)
        return _string_dataset(lambda: iter(pairs), PAIR_FIELDS)

    return dataset_fn
