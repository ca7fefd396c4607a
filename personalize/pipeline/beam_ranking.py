"""The ranking stage at dataset scale: a prepared dataset in, ranked contexts for every strategy out (Apache Beam).

    document shards --key by user--.
                                   +-- CoGroupByKey --> RankUsers (one user at a time) --> (split, shard) --.
    example shards  --key by user--'                                                                       |
    every (split, shard) slot ----------------------------------------------------- CoGroupByKey --> WriteShard
                                                                                                       |
                                                                          all shards written --> WriteManifest

Determinism and restarts: a user's examples go to shard `shard_of(user_id, num_shards)` (md5, as the prepared
dataset), a shard's lines are sorted by example_id and every record is serialised with sorted keys, so the same input
always gives byte-identical shards. Each shard is written under a temporary name and renamed; the manifest is
removed when a run starts and written after every shard, so a killed run leaves a directory readers refuse, and a
re-run overwrites every shard (no duplicate, no missing example) and removes stale temporary files.

Runners (everything after the stage's own flags is passed to Beam's PipelineOptions):
  personalize rank --prepared_dir=P --output_dir=O                                  # DirectRunner, this machine
  personalize rank ... --runner=DataflowRunner --project=PROJ --region=us-central1 \\
      --temp_location=gs://BUCKET/tmp --beam_arg=--extra_package=dist/personalize-0.1.0-py3-none-any.whl
      (prepared_dir and output_dir may be gs:// paths; build the wheel with `pip wheel --no-deps . -w dist`)
  personalize rank ... --runner=FlinkRunner --beam_arg=--flink_master=HOST:8081 --beam_arg=--environment_type=LOOPBACK
  personalize rank ... --runner=SparkRunner --beam_arg=--spark_master_url=spark://HOST:7077
  personalize rank ... --in_process                    # no Beam at all: the same per-user function, shard by shard
"""

from __future__ import annotations

import collections
import functools
import json
import sys
import uuid
from typing import Any, Iterable, Sequence

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import Metrics, MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from personalize.corpus.document import Document
from personalize.pipeline import ranked
from personalize.pipeline.rank_contexts import (EncoderFactory, PrefetchedEncoder, RankingSettings, UserRanker,
                                                analyzed_document, embedding_texts, index_statistics,
                                                load_text_encoder)
from personalize.preparation.dataset import MANIFEST as PREPARED_MANIFEST
from personalize.preparation.dataset import PreparedDataset, shard_name, shard_of
from personalize.preparation.example import Example
from personalize.preparation.splits import SPLITS
from personalize.retrieval.bm25 import CollectionStatistics

METRICS_NAMESPACE = "personalize.rank"
TEMPORARY_MARK = ".tmp-"


def _read_json(path: str) -> Any:
    if not FileSystems.exists(path):
        raise FileNotFoundError(f"{path}: missing")
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return json.loads(handle.read().decode("utf-8"))


def read_prepared_manifest(prepared_dir: str) -> dict[str, Any]:
    path = FileSystems.join(prepared_dir, PREPARED_MANIFEST)
    if not FileSystems.exists(path):
        raise FileNotFoundError(f"{prepared_dir} is not a prepared dataset (no {PREPARED_MANIFEST}); "
                                "run `personalize prepare` first")
    return _read_json(path)


def _write_atomically(path: str, payload: bytes) -> None:
    temporary = f"{path}{TEMPORARY_MARK}{uuid.uuid4().hex}"
    with FileSystems.create(temporary, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        handle.write(payload)
    FileSystems.rename([temporary], [path])


def record_line(record: dict[str, Any]) -> str:
    """The one serialisation of a ranked record, so every runner writes the same bytes."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def write_ranked_shard(*, output_dir: str, split: str, index: int, num_shards: int,
                       lines: Iterable[tuple[str, str]]) -> tuple[str, int, str, int]:
    """Writes one shard from (example_id, line) pairs, sorted by example_id; returns (split, index, name, count)."""
    ordered = sorted(lines)
    for (first, _), (second, _) in zip(ordered, ordered[1:]):
        if first == second:
            raise ValueError(f"example {first!r} was ranked twice (split {split}, shard {index})")
    name = shard_name(split, index, num_shards)
    _write_atomically(FileSystems.join(output_dir, name), "".join(line + "\n" for _, line in ordered).encode("utf-8"))
    return split, index, name, len(ordered)


def ranked_manifest(*, strategies: Sequence[str], num_shards: int, splits: Sequence[str],
                    written: Iterable[tuple[str, int, str, int]], settings: dict[str, Any]) -> dict[str, Any]:
    written = sorted(written)
    if len(written) != len(splits) * num_shards:
        raise ValueError(f"expected {len(splits) * num_shards} shards, {len(written)} were written")
    return {
        "format": ranked.FORMAT,
        "strategies": list(strategies),
        "num_shards": num_shards,
        "shards": {split: [name for s, _, name, _ in written if s == split] for split in splits},
        "counts": {split: sum(count for s, _, _, count in written if s == split) for split in splits},
        "settings": settings,
    }


def _remove_leftovers(*, output_dir: str, manifest: dict[str, Any]) -> None:
    """Deletes temporary files of killed runs, and shards of earlier runs with another shard count or split list."""
    keep = {name for names in manifest["shards"].values() for name in names}
    patterns = [FileSystems.join(output_dir, f"{split}-*-of-*.jsonl*") for split in SPLITS]
    patterns.append(FileSystems.join(output_dir, f"{ranked.MANIFEST}{TEMPORARY_MARK}*"))
    stale = [metadata.path for result in FileSystems.match(patterns) for metadata in result.metadata_list
             if metadata.path.rsplit("/", 1)[-1] not in keep]
    if stale:
        FileSystems.delete(stale)


def finish_output(*, output_dir: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """The last step of a run: leftovers removed, then the manifest (which makes the directory readable)."""
    _remove_leftovers(output_dir=output_dir, manifest=manifest)
    _write_atomically(FileSystems.join(output_dir, ranked.MANIFEST),
                      (json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
    return manifest


def start_output(output_dir: str) -> None:
    """Marks the directory unfinished before any shard is (re)written."""
    if not FileSystems.exists(output_dir):
        FileSystems.mkdirs(output_dir)
    manifest = FileSystems.join(output_dir, ranked.MANIFEST)
    if FileSystems.exists(manifest):
        FileSystems.delete([manifest])


class CollectionStatisticsFn(beam.CombineFn):
    """BM25's collection statistics (N, total terms, df) over every document, combined across workers."""

    def create_accumulator(self) -> tuple[int, int, collections.Counter]:
        return 0, 0, collections.Counter()

    def add_input(self, accumulator, record: dict[str, Any]):
        doc_count, total_terms, doc_freq = accumulator
        analyzed = analyzed_document(Document.from_json(record))
        if analyzed.length == 0:
            return accumulator
        doc_freq.update(analyzed.term_freqs.keys())
        return doc_count + 1, total_terms + analyzed.length, doc_freq

    def merge_accumulators(self, accumulators):
        doc_count, total_terms, doc_freq = 0, 0, collections.Counter()
        for count, terms, freqs in accumulators:
            doc_count, total_terms = doc_count + count, total_terms + terms
            doc_freq.update(freqs)
        return doc_count, total_terms, doc_freq

    def extract_output(self, accumulator) -> CollectionStatistics:
        doc_count, total_terms, doc_freq = accumulator
        return CollectionStatistics(doc_count=doc_count, total_terms=total_terms, doc_freq=dict(doc_freq))


class RankUsers(beam.DoFn):
    """Ranks the examples of one user; loads the dense encoder once per worker in setup()."""

    def __init__(self, *, settings: RankingSettings, encoder_factory: EncoderFactory | None, num_shards: int):
        self.settings = settings
        self.encoder_factory = encoder_factory
        self.num_shards = num_shards

    def setup(self) -> None:
        self.encoder = self.encoder_factory() if self.settings.needs_encoder else None
        self.ranker: UserRanker | None = None
        self.users = Metrics.counter(METRICS_NAMESPACE, "users")
        self.users_without_examples = Metrics.counter(METRICS_NAMESPACE, "users_without_examples")
        self.examples_in = Metrics.counter(METRICS_NAMESPACE, "examples_in")
        self.examples_out = Metrics.counter(METRICS_NAMESPACE, "examples_out")
        self.entries = {name: Metrics.counter(METRICS_NAMESPACE, f"{name}/entries")
                        for name in self.settings.strategies}
        self.empty = {name: Metrics.counter(METRICS_NAMESPACE, f"{name}/empty_contexts")
                      for name in self.settings.strategies}

    def process(self, element: tuple[str, dict[str, list[dict[str, Any]]]],
                statistics: CollectionStatistics | None = None):
        if self.ranker is None:
            self.ranker = UserRanker(settings=self.settings, encoder=self.encoder, statistics=statistics)
        user_id, grouped = element
        examples = [Example.from_json(record) for record in grouped["examples"]]
        if not examples:
            self.users_without_examples.inc()
            return
        documents = [Document.from_json(record) for record in grouped["documents"]]
        if not documents:
            raise ValueError(f"user {user_id!r} has {len(examples)} examples but no documents in the prepared dataset")
        self.users.inc()
        self.examples_in.inc(len(examples))
        shard = shard_of(user_id, self.num_shards)
        for record in self.ranker(documents=documents, examples=examples):
            self.examples_out.inc()
            for name, context in record["contexts"].items():
                if context["entry_ids"]:
                    self.entries[name].inc(len(context["entry_ids"]))
                if not context["text"]:
                    self.empty[name].inc()
            yield (record["split"], shard), (record["example_id"], record_line(record))


def _read_records(pipeline: beam.Pipeline, *, label: str, paths: Sequence[str]) -> beam.PCollection:
    return (pipeline
            | f"{label}Shards" >> beam.Create(list(paths))
            | f"Read{label}" >> beam.io.ReadAllFromText()
            | f"Parse{label}" >> beam.Map(json.loads))


def build_ranking_pipeline(pipeline: beam.Pipeline, *, prepared_dir: str, output_dir: str, settings: RankingSettings,
                           encoder_factory: EncoderFactory | None, num_shards: int,
                           manifest_settings: dict[str, Any], splits: Sequence[str] | None = None
                           ) -> beam.PCollection:
    """Adds the stage to `pipeline`; returns the PCollection holding the manifest once it is written.

    Every document is read (BM25 statistics cover the whole collection) but only `splits` (default: all) ranked.
    """
    prepared = read_prepared_manifest(prepared_dir)
    splits = ranked_splits(prepared, splits)

    def paths(prefix: str) -> list[str]:
        return [FileSystems.join(prepared_dir, name) for name in prepared["shards"][prefix]]

    documents = _read_records(pipeline, label="Documents", paths=paths("documents"))
    examples = (
        [_read_records(pipeline, label=f"Examples_{split}", paths=paths(split)) for split in splits]
        | "AllExamples" >> beam.Flatten())
    side_inputs = {}
    if settings.needs_index_statistics:
        statistics = documents | "Bm25Statistics" >> beam.CombineGlobally(CollectionStatisticsFn())
        side_inputs["statistics"] = beam.pvalue.AsSingleton(statistics)
    lines = ({"documents": documents | "KeyDocumentsByUser" >> beam.Map(lambda r: (r["user_id"], r)),
              "examples": examples | "KeyExamplesByUser" >> beam.Map(lambda r: (r["user_id"], r))}
             | "GroupByUser" >> beam.CoGroupByKey()
             | "RankUsers" >> beam.ParDo(RankUsers(settings=settings, encoder_factory=encoder_factory,
                                                   num_shards=num_shards), **side_inputs))
    slots = (pipeline
             | "ShardSlots" >> beam.Create([((split, index), None) for split in splits for index in range(num_shards)]))

    def write(element: tuple[tuple[str, int], dict[str, list]]) -> tuple[str, int, str, int]:
        (split, index), grouped = element
        return write_ranked_shard(output_dir=output_dir, split=split, index=index, num_shards=num_shards,
                                  lines=grouped["lines"])

    def manifest(written: list[tuple[str, int, str, int]]) -> dict[str, Any]:
        return finish_output(output_dir=output_dir, manifest=ranked_manifest(
            strategies=settings.strategies, num_shards=num_shards, splits=splits, written=written,
            settings=manifest_settings))

    return ({"lines": lines, "slots": slots}
            | "GroupByShard" >> beam.CoGroupByKey()
            | "WriteShards" >> beam.Map(write)
            | "AllShards" >> beam.combiners.ToList()
            | "WriteManifest" >> beam.Map(manifest))


def ranked_splits(prepared: dict[str, Any], requested: Sequence[str] | None = None) -> list[str]:
    """The splits to rank, in SPLITS order: `requested` (all by default), each present in the prepared dataset."""
    present = [split for split in SPLITS if split in prepared["shards"]]
    if requested is None:
        return present
    unknown = sorted(set(requested) - set(present))
    if unknown:
        raise ValueError(f"splits {unknown} are not in the prepared dataset; it has {present}")
    return [split for split in present if split in requested]


def counters(result: beam.runners.runner.PipelineResult) -> dict[str, int]:
    """The stage's non-zero Beam counters after a run (committed values where the runner has them)."""
    found = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]
    values: dict[str, int] = {}
    for counter in found:
        value = counter.committed if counter.committed is not None else counter.attempted
        values[counter.key.metric.name] = values.get(counter.key.metric.name, 0) + int(value or 0)
    return {name: value for name, value in sorted(values.items()) if value}


def run_beam(*, prepared_dir: str, output_dir: str, settings: RankingSettings,
             encoder_factory: EncoderFactory | None, num_shards: int, manifest_settings: dict[str, Any],
             pipeline_args: Sequence[str], splits: Sequence[str] | None = None) -> dict[str, int]:
    """Runs the stage on the runner named in `pipeline_args` (DirectRunner by default); returns the counters."""
    options = PipelineOptions(list(pipeline_args))
    start_output(output_dir)
    pipeline = beam.Pipeline(options=options)
    build_ranking_pipeline(pipeline, prepared_dir=prepared_dir, output_dir=output_dir, settings=settings,
                           encoder_factory=encoder_factory, num_shards=num_shards,
                           manifest_settings=manifest_settings, splits=splits)
    result = pipeline.run()
    result.wait_until_finish()
    return counters(result)


def run_in_process(*, prepared_dir: str, output_dir: str, settings: RankingSettings,
                   encoder_factory: EncoderFactory | None, num_shards: int,
                   manifest_settings: dict[str, Any], splits: Sequence[str] | None = None) -> dict[str, int]:
    """The same stage without Beam, one prepared shard at a time (memory: one shard); returns the same counters.

    Prepared shard k holds exactly the users whose ranked examples go to shard k, so num_shards must equal the
    prepared dataset's; use the Beam path to reshard.
    """
    dataset = PreparedDataset(prepared_dir)
    if num_shards != dataset.manifest["num_shards"]:
        raise ValueError(f"in-process ranking writes the prepared dataset's {dataset.manifest['num_shards']} shards, "
                         f"not {num_shards}; run with Beam to reshard")
    splits = ranked_splits(dataset.manifest, splits)
    start_output(output_dir)
    encoder = PrefetchedEncoder(encoder_factory()) if settings.needs_encoder else None
    ranker = UserRanker(
        settings=settings,
        encoder=encoder,
        statistics=index_statistics(dataset.documents()) if settings.needs_index_statistics else None)
    counts: collections.Counter[str] = collections.Counter()
    written = []
    for index in range(num_shards):
        documents: dict[str, list[Document]] = collections.defaultdict(list)
        for document in dataset.documents(shard=index):
            documents[document.user_id].append(document)
        examples: dict[str, list[Example]] = collections.defaultdict(list)
        for split in splits:
            for example in dataset.examples(split, shard=index):
                examples[example.user_id].append(example)
        counts["users_without_examples"] += len(set(documents) - set(examples))
        if encoder is not None:  # one batched call for the shard instead of one small call per user
            encoder.prefetch([text for user_id in sorted(examples) if documents.get(user_id)
                              for text in embedding_texts(documents=documents[user_id], examples=examples[user_id],
                                                          settings=settings)])
        lines: dict[str, list[tuple[str, str]]] = {split: [] for split in splits}
        for user_id in sorted(examples):
            if not documents.get(user_id):
                raise ValueError(f"user {user_id!r} has examples but no documents in shard {index} of {prepared_dir}")
            counts["users"] += 1
            counts["examples_in"] += len(examples[user_id])
            for record in ranker(documents=documents[user_id], examples=examples[user_id]):
                counts["examples_out"] += 1
                for name, context in record["contexts"].items():
                    counts[f"{name}/entries"] += len(context["entry_ids"])
                    counts[f"{name}/empty_contexts"] += not context["text"]
                lines[record["split"]].append((record["example_id"], record_line(record)))
        for split in splits:
            written.append(write_ranked_shard(output_dir=output_dir, split=split, index=index, num_shards=num_shards,
                                              lines=lines[split]))
        print(f"rank: shard {index + 1}/{num_shards} written, {counts['users']:,} users and "
              f"{counts['examples_out']:,} examples so far", file=sys.stderr, flush=True)
    finish_output(output_dir=output_dir, manifest=ranked_manifest(
        strategies=settings.strategies, num_shards=num_shards, splits=splits, written=written,
        settings=manifest_settings))
    return {name: value for name, value in sorted(counts.items()) if value}


def rank_dataset(*, prepared_dir: str, output_dir: str,
                 strategies: Sequence[str] = ("RecentDoc", "RankDocBM25", "RankDocDense", "RankSnippet",
                                              "RankDocBySnpt"),
                 max_chars: int = 2500, separator: str = "\n", bm25_statistics: str = "index",
                 encoder: str = "minilm", encoder_path: str | None = None, cache_dir: str | None = None,
                 num_shards: int | None = None, splits: Sequence[str] | None = None, in_process: bool = False,
                 pipeline_args: Sequence[str] = ()) -> dict[str, int]:
    """The ranking stage's entry point (bound by gin/ranking/rank.gin); returns the run's counters.

    The prepared dataset and the dense encoder's weights are checked first (personalize/preflight.py)."""
    from personalize.preflight import raise_problems, ranking_problems

    raise_problems(ranking_problems(prepared_dir=prepared_dir, strategies=strategies, encoder=encoder,
                                    encoder_path=encoder_path))
    settings = RankingSettings(strategies=tuple(strategies), max_chars=max_chars, separator=separator,
                               bm25_statistics=bm25_statistics)
    encoder_factory = (functools.partial(load_text_encoder, encoder=encoder, path=encoder_path, cache_dir=cache_dir)
                       if settings.needs_encoder else None)
    num_shards = num_shards or int(read_prepared_manifest(prepared_dir)["num_shards"])
    manifest_settings = {**settings.to_json(), "prepared_dir": prepared_dir,
                         "encoder": encoder if settings.needs_encoder else None,
                         "encoder_path": encoder_path if settings.needs_encoder else None}
    if in_process:
        if pipeline_args:
            raise ValueError(f"Beam options {list(pipeline_args)} given with in_process=True, which runs no Beam")
        return run_in_process(prepared_dir=prepared_dir, output_dir=output_dir, settings=settings,
                              encoder_factory=encoder_factory, num_shards=num_shards,
                              manifest_settings=manifest_settings, splits=splits)
    return run_beam(prepared_dir=prepared_dir, output_dir=output_dir, settings=settings,
                    encoder_factory=encoder_factory, num_shards=num_shards, manifest_settings=manifest_settings,
                    pipeline_args=pipeline_args, splits=splits)
