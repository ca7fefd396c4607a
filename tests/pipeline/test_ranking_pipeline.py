"""The ranking stage: the per-user function, in-process and Beam runs giving identical bytes, and restarts."""

import argparse
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from personalize.cli import rank as rank_cli
from personalize.corpus.demo_corpus import generate_demo_corpus
from personalize.corpus.document import Document
from personalize.pipeline import beam_ranking
from personalize.pipeline.rank_contexts import RankingSettings, index_statistics, rank_user_contexts
from personalize.pipeline.ranked import RankedDataset
from personalize.preparation.dataset import PreparedDataset, write_prepared_dataset
from personalize.preparation.example import Example
from personalize.preparation.prepare import prepare_corpus

pytestmark = pytest.mark.slow  # Beam pipelines, one on Beam's portable job server

ALL = ("RecentDoc", "RankDocBM25", "RankDocDense", "RankSnippet", "RankDocBySnpt")


class HashingEncoder:
    """A tiny deterministic stand-in for a dense encoder: hashed bag of lower-cased words, L2-normalised."""

    dim = 32

    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


@pytest.fixture(scope="module")
def prepared_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("prepared")
    corpus = prepare_corpus(generate_demo_corpus(num_users=6))
    write_prepared_dataset(output_dir=str(directory), documents_by_user=corpus.documents_by_user,
                           examples=corpus.examples, num_shards=2, settings={})
    return str(directory)


def _files(directory):
    return {name: open(os.path.join(directory, name), "rb").read() for name in sorted(os.listdir(directory))}


def _run(runner, *, prepared_dir, output_dir, strategies=ALL, num_shards=2):
    settings = RankingSettings(strategies=tuple(strategies))
    common = dict(prepared_dir=prepared_dir, output_dir=output_dir, settings=settings,
                  encoder_factory=HashingEncoder, num_shards=num_shards, manifest_settings=settings.to_json())
    if runner == "in_process":
        return beam_ranking.run_in_process(**common)
    return beam_ranking.run_beam(**common, pipeline_args=["--runner=DirectRunner"])


@pytest.fixture(scope="module")
def in_process_dir(prepared_dir, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("in_process"))
    counts = _run("in_process", prepared_dir=prepared_dir, output_dir=output)
    return output, counts


def test_user_records_have_the_documented_format_and_one_encoder_call(prepared_dir):
    dataset = PreparedDataset(prepared_dir)
    documents = dataset.documents_by_user()["user000"]
    examples = [e for split in ("train", "validation", "test") for e in dataset.examples(split)
                if e.user_id == "user000"]
    encoder = HashingEncoder()
    records = rank_user_contexts(documents=documents, examples=examples, settings=RankingSettings(strategies=ALL),
                                 encoder=encoder, statistics=index_statistics(dataset.documents()))
    assert encoder.calls == 1  # queries, documents and snippets of the user embedded together, once
    assert [r["example_id"] for r in records] == [e.example_id for e in examples]
    first = records[0]
    assert set(first) == {"example_id", "user_id", "doc_id", "split", "title", "immediate_context", "target",
                          "contexts"}
    assert list(first["contexts"]) == list(ALL)
    by_id = {d.doc_id: d for d in documents}
    for record, example in zip(records, examples):
        # The past documents, most recent first, joined by newlines (each title, newline, body), cut at 2,500.
        recent = record["contexts"]["RecentDoc"]
        newest_first = list(reversed(example.context_doc_ids))
        full = "\n".join(f"{by_id[i].title}\n{by_id[i].body}" for i in newest_first)
        assert recent["text"] == full[:2500]
        assert recent["entry_ids"] == newest_first[:len(recent["entry_ids"])]
    assert all("#" in entry for entry in first["contexts"]["RankSnippet"]["entry_ids"])
    for record in records:
        for context in record["contexts"].values():
            assert len(context["text"]) <= 2500 and len(context["scores"]) == len(context["entry_ids"])
    assert max(len(r["contexts"]["RecentDoc"]["text"]) for r in records) == 2500


def test_dense_strategies_without_encoder_fail_clearly(prepared_dir):
    dataset = PreparedDataset(prepared_dir)
    example = next(dataset.examples("train"))
    with pytest.raises(ValueError, match=r"need a dense encoder"):
        rank_user_contexts(documents=dataset.documents_by_user()[example.user_id], examples=[example],
                           settings=RankingSettings(strategies=("RankSnippet",)))
    with pytest.raises(ValueError, match="unknown ranking strategies"):
        RankingSettings(strategies=("RankEverything",))


def test_beam_output_equals_in_process_output_byte_for_byte(prepared_dir, in_process_dir, tmp_path):
    reference, reference_counts = in_process_dir
    output = str(tmp_path / "beam")
    counts = _run("beam", prepared_dir=prepared_dir, output_dir=output)
    assert _files(output) == _files(reference)
    assert counts == reference_counts
    prepared = PreparedDataset(prepared_dir).manifest["counts"]
    total = sum(prepared[split] for split in ("train", "validation", "test"))
    assert counts["users"] == 6 and counts["examples_in"] == counts["examples_out"] == total
    ranked = RankedDataset(output)
    assert ranked.manifest["counts"] == {split: prepared[split] for split in ("train", "validation", "test")}
    assert ranked.strategies == list(ALL)
    for split in ranked.splits:
        for shard in range(2):
            ids = [r["example_id"] for r in ranked.examples(split, shard=shard)]
            assert ids == sorted(ids)
            assert all(int(hashlib.md5(r.split("/")[0].encode()).hexdigest(), 16) % 2 == shard for r in ids)


def test_rerun_after_a_killed_run_gives_identical_output(prepared_dir, in_process_dir, tmp_path):
    reference, _ = in_process_dir
    output = tmp_path / "rerun"
    _run("beam", prepared_dir=prepared_dir, output_dir=str(output), strategies=("RecentDoc",))
    # A killed run: some shards gone, one half-written temporary file, shards of another shard count, no manifest.
    (output / "train-00001-of-00002.jsonl").unlink()
    (output / "test-00000-of-00002.jsonl").unlink()
    (output / "validation-00000-of-00002.jsonl.tmp-deadbeef").write_text('{"half": ')
    (output / "train-00000-of-00003.jsonl").write_text("stale\n")
    (output / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        RankedDataset(str(output))
    _run("beam", prepared_dir=prepared_dir, output_dir=str(output))
    assert _files(str(output)) == _files(reference)


@pytest.fixture
def beam_job_server():
    """Beam's own job server (Python): the portable runner protocol that Flink's and Spark's job servers speak."""
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as client:
            if client.connect_ex(("localhost", port)) == 0:
                break
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"Beam's local job server did not start on port {port}")
        time.sleep(0.2)
    yield f"localhost:{port}"
    server.terminate()
    server.wait(timeout=30)


def test_the_portable_runner_path_of_flink_and_spark_gives_the_same_output(prepared_dir, in_process_dir, tmp_path,
                                                                           beam_job_server):
    # FlinkRunner and SparkRunner submit Python pipelines to a job server over this same protocol, with the same
    # SDK harness running our DoFns; only the job server executing the stages differs.
    reference, reference_counts = in_process_dir
    output = str(tmp_path / "portable")
    settings = RankingSettings(strategies=ALL)
    counts = beam_ranking.run_beam(prepared_dir=prepared_dir, output_dir=output, settings=settings,
                                   encoder_factory=HashingEncoder, num_shards=2, manifest_settings=settings.to_json(),
                                   pipeline_args=["--runner=PortableRunner", f"--job_endpoint={beam_job_server}",
                                                  "--environment_type=LOOPBACK"])
    assert _files(output) == _files(reference)
    assert counts == reference_counts


def test_in_process_refuses_to_reshard(prepared_dir, tmp_path):
    with pytest.raises(ValueError, match="reshard"):
        _run("in_process", prepared_dir=prepared_dir, output_dir=str(tmp_path), num_shards=3)


def test_beam_reshards(prepared_dir, in_process_dir, tmp_path):
    reference, _ = in_process_dir
    output = str(tmp_path / "three")
    _run("beam", prepared_dir=prepared_dir, output_dir=output, strategies=("RecentDoc", "RankDocBM25"), num_shards=3)
    ranked, expected = RankedDataset(output), RankedDataset(reference)
    assert len(ranked.manifest["shards"]["train"]) == 3
    for split in ranked.splits:
        got = {r["example_id"]: r for r in ranked.examples(split)}
        want = {r["example_id"]: r for r in expected.examples(split)}
        assert got.keys() == want.keys()
        assert all(got[i]["contexts"]["RankDocBM25"] == want[i]["contexts"]["RankDocBM25"] for i in got)


def test_cli_in_process_without_dense_strategies_writes_config(prepared_dir, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    rank_cli.add_arguments(parser)
    output = tmp_path / "cli"
    args = parser.parse_args(["--prepared_dir", prepared_dir, "--output_dir", str(output), "--in_process",
                              "--strategies", "RecentDoc,RankDocBM25"])
    assert rank_cli.run_command(args, [], ["beam_ranking.rank_dataset.max_chars = 300"]) == 0
    config = (output / "config.gin").read_text()
    assert "beam_ranking.rank_dataset.max_chars = 300" in config
    assert "beam_ranking.rank_dataset.in_process = True" in config
    assert "beam_ranking.rank_dataset.strategies = ['RecentDoc', 'RankDocBM25']" in config
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["strategies"] == ["RecentDoc", "RankDocBM25"] and manifest["settings"]["encoder"] is None
    assert all(len(r["contexts"]["RankDocBM25"]["text"]) <= 300 for r in RankedDataset(str(output)).examples("test"))
    prepared = PreparedDataset(prepared_dir).manifest["counts"]
    total = sum(prepared[split] for split in ("train", "validation", "test"))
    assert f"examples_out: {total}" in capsys.readouterr().out


def test_cli_passes_beam_options_through():
    parser = argparse.ArgumentParser()
    rank_cli.add_arguments(parser)
    args = parser.parse_args(["--prepared_dir", "p", "--output_dir", "o", "--runner", "DataflowRunner",
                              "--project", "proj", "--region", "us-central1", "--temp_location", "gs://b/tmp",
                              "--beam_arg=--flink_master=host:8081"])
    assert rank_cli.pipeline_args(args) == ["--runner=DataflowRunner", "--project=proj", "--region=us-central1",
                                            "--temp_location=gs://b/tmp", "--flink_master=host:8081"]


def _doc(doc_id, timestamp, body):
    return Document(user_id="u", doc_id=doc_id, timestamp=timestamp, body=body)


def _example(doc_id, timestamp, context, query):
    return Example(example_id=f"u/{doc_id}", user_id="u", doc_id=doc_id, timestamp=timestamp, title=None,
                   target=query + " and more.", immediate_context=query, context_doc_ids=context, split="test")


def test_hand_made_user_orders_by_each_strategy_and_handles_no_past_documents():
    documents = [_doc("d1", 1.0, "Apple pie with cinnamon is my favourite dessert."),
                 _doc("d2", 2.0, "The train was late again this morning."),
                 _doc("d3", 3.0, "Rain all week, so no cycling for me.")]
    examples = [_example("d0", 0.5, (), "Apple pie"), _example("d4", 4.0, ("d1", "d2", "d3"), "Apple pie recipe")]
    records = rank_user_contexts(documents=documents, examples=examples,
                                 settings=RankingSettings(strategies=ALL, bm25_statistics="candidates"),
                                 encoder=HashingEncoder())
    assert all(c == {"entry_ids": [], "scores": [], "text": "", "entry_chars": []}
               for c in records[0]["contexts"].values())
    contexts = records[1]["contexts"]
    assert contexts["RecentDoc"]["entry_ids"] == ["d3", "d2", "d1"]
    assert contexts["RecentDoc"]["scores"] == [3.0, 2.0, 1.0]
    # Only d1 shares a term with the query; the others score 0 and follow, most recent first.
    assert contexts["RankDocBM25"]["entry_ids"] == ["d1", "d3", "d2"]
    assert contexts["RankDocBM25"]["scores"][0] > 0 and contexts["RankDocBM25"]["scores"][1:] == [0.0, 0.0]
    for name in ("RankDocDense", "RankDocBySnpt"):
        assert contexts[name]["entry_ids"][0] == "d1"
    assert contexts["RankSnippet"]["entry_ids"][0] == "d1#0"
    assert contexts["RankDocBM25"]["text"] == "\n".join(d.body for d in (documents[0], documents[2], documents[1]))


def test_missing_past_document_names_the_example():
    with pytest.raises(ValueError, match=r"example u/d4: past documents \['d9'\]"):
        rank_user_contexts(documents=[_doc("d1", 1.0, "text")], examples=[_example("d4", 4.0, ("d1", "d9"), "q")],
                           settings=RankingSettings(strategies=("RecentDoc",)))


def test_in_process_encodes_each_shard_in_one_batched_call(prepared_dir, tmp_path):
    encoders = []

    def factory():
        encoders.append(HashingEncoder())
        return encoders[-1]

    settings = RankingSettings(strategies=ALL)
    beam_ranking.run_in_process(prepared_dir=prepared_dir, output_dir=str(tmp_path), settings=settings,
                                encoder_factory=factory, num_shards=2, manifest_settings=settings.to_json())
    assert len(encoders) == 1 and encoders[0].calls == 2  # one call per shard, not one per user (6 users)


class WordEncoder:
    """One dimension per distinct word (no hashing collisions), L2-normalised: texts without a shared word have
    similarity exactly 0, so hand-made orderings are exact."""

    dim = 128

    def __init__(self):
        self.index = {}

    def encode(self, texts):
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, self.index.setdefault(word, len(self.index))] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


# x_t shares words only with "violin"; the rest of d_t is about the garden, so d_t as the query would rank
# "tomato" first.
QUERY_DOCUMENTS = [_doc("violin", 1.0, "The violin concert with the orchestra was a wonderful evening of music."),
                   _doc("tomato", 2.0, "Tomato plants need compost, sunshine and careful watering in the garden."),
                   _doc("bicycle", 3.0, "My bicycle chain broke on the hill, so I walked home in the rain.")]
X_T = "Violin concert tonight"
D_T = X_T + " was short; then tomato plants, compost, watering and sunshine kept me in the garden until dark."
# The paper's ranking query is x_t. Only violin shares a word with it; tomato and bicycle score 0 and follow, the
# more recent first (tie_break_key). RecentDoc ignores the query.
X_T_ORDER = {"RecentDoc": ["bicycle", "tomato", "violin"], "RankDocBM25": ["violin", "bicycle", "tomato"],
             "RankDocDense": ["violin", "bicycle", "tomato"], "RankSnippet": ["violin#0", "bicycle#0", "tomato#0"],
             "RankDocBySnpt": ["violin", "bicycle", "tomato"]}


def _query_example(*, immediate_context):
    return Example(example_id="u/d4", user_id="u", doc_id="d4", timestamp=4.0, title=None, target=D_T,
                   immediate_context=immediate_context, context_doc_ids=("violin", "tomato", "bicycle"), split="test")


def _orders(example):
    (record,) = rank_user_contexts(documents=QUERY_DOCUMENTS, examples=[example], encoder=WordEncoder(),
                                   settings=RankingSettings(strategies=ALL, bm25_statistics="candidates"))
    return {name: context["entry_ids"] for name, context in record["contexts"].items()}


def test_the_ranking_query_is_x_t_never_d_t():
    assert _orders(_query_example(immediate_context=X_T)) == X_T_ORDER
    # The premise: with d_t as the query every query-based strategy would put tomato first, so the check above
    # tells the two queries apart.
    by_target = _orders(_query_example(immediate_context=D_T))
    for name in ALL[1:]:
        assert by_target[name][0].startswith("tomato") and by_target[name] != X_T_ORDER[name], name
