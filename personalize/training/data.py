"""Batches for training and evaluation: a SeqIO task or mixture, or any iterable of batch dicts (tests).

A batch is a dict of [batch, length] int arrays in EncDecFeatureConverter's format. Each process reads its own
shard of the examples (`batch_size / num_shards` per batch, where processes of one model-parallel group share a
shard: `partitioning.shardings.data_shard_of_process`); `global_batch` joins the shards.
"""

import dataclasses
import importlib
import itertools
from collections.abc import Iterable, Iterator, Mapping

import jax
import numpy as np


@dataclasses.dataclass(frozen=True)
class SeqioBatches:
    """A SeqIO task or mixture, converted and batched; `iterate(start=n)` skips the first n batches."""

    mixture_or_task_name: str
    task_feature_lengths: Mapping[str, int]
    split: str
    batch_size: int
    shuffle: bool
    seed: int | None = None
    pack: bool = True
    use_cached: bool = False
    repeat: bool = True
    mixture_or_task_module: str | None = None

    def _dataset(self, shard: tuple[int, int] | None):
        import seqio  # heavy (TensorFlow): imported only when a SeqIO dataset is really read

        if self.mixture_or_task_module:
            importlib.import_module(self.mixture_or_task_module)
        index, processes = shard or (jax.process_index(), jax.process_count())
        if self.batch_size % processes:
            raise ValueError(f"batch_size {self.batch_size} is not divisible by {processes} data shards")
        provider = seqio.get_mixture_or_task(self.mixture_or_task_name)
        dataset = provider.get_dataset(
            sequence_length=dict(self.task_feature_lengths),
            split=self.split,
            use_cached=self.use_cached,
            shuffle=self.shuffle,
            seed=self.seed,
            shard_info=seqio.ShardInfo(index=index, num_shards=processes),
            num_epochs=None if self.repeat else 1,
        )
        converter = seqio.EncDecFeatureConverter(pack=self.pack)
        dataset = converter(dataset, dict(self.task_feature_lengths))
        per_process = self.batch_size // processes
        if self.repeat:
            return dataset.batch(per_process, drop_remainder=True)
        # One pass (evaluation): the last batch is padded with all-zero rows (loss weight 0, as T5X pads eval
        # batches), so every batch splits evenly over the data-parallel devices and compiles once.
        import tensorflow as tf

        def pad(batch):
            return {name: tf.pad(value, [[0, per_process - tf.shape(value)[0]]] + [[0, 0]] * (value.shape.rank - 1))
                    for name, value in batch.items()}

        return dataset.batch(per_process, drop_remainder=False).map(pad)

    def iterate(self, *, start: int = 0, shard: tuple[int, int] | None = None) -> Iterator[dict[str, np.ndarray]]:
        """Batches from `start` on; `shard` = (index, count) of this process's data shard (default: by process)."""
        dataset = self._dataset(shard)
        if start:
            dataset = dataset.skip(start)
        return iter(dataset.as_numpy_iterator())


def iterate_batches(data: SeqioBatches | Iterable[Mapping[str, np.ndarray]], *, start: int = 0,
                    shard: tuple[int, int] | None = None) -> Iterator:
    """An iterator over `data` from batch `start` on (the data position a checkpoint recorded)."""
    if isinstance(data, SeqioBatches):
        return data.iterate(start=start, shard=shard)
    return itertools.islice(iter(data), start, None)
