"""Every experiment row's SeqIO task on real corpora: prepare -> rank -> vocabulary -> additions -> tasks.

The demo corpus always runs; the shared corpora (blog, Enron, Amazon) run when ../shared/data is present. Each is
a few users' first documents, prepared with the dataset's own gin configuration, ranked with all five strategies
and the real MiniLM encoder, and given every addition by `runner.build_additions` (SumCtx and SynCtx models,
SumCtxInd trained on a headline corpus, SynCtxInd keywords) with a tiny model trained for two steps. Then every row
of the experiment, the author-distinction task and the +AuthorPred mixture must yield examples on train and test
whose tokens decode to the paper's prompt fields.
"""

import json
import os
import pathlib

import gin
import pytest

import seqio

# About 45-80 s per corpus on 2 cores (MiniLM ranking and weak labels, three tiny stage models), so marked like the
# other tests that train a tiny model end to end; CI runs them.
pytestmark = pytest.mark.slow

import tasks  # noqa: E402
from personalize import gin_config  # noqa: E402
from personalize.author_distinction.pairs import INSTRUCTION as AUTHOR_INSTRUCTION  # noqa: E402
from personalize.author_distinction.pairs import training_only_users  # noqa: E402
from personalize.corpus.demo_corpus import generate_demo_corpus  # noqa: E402
from personalize.corpus.fields import get_path  # noqa: E402
from personalize.corpus.loaders.jsonl import FieldMapping  # noqa: E402
from personalize.experiment.artifacts import ArtifactStore  # noqa: E402
from personalize.experiment import runner  # noqa: E402
from personalize.experiment.runner import DEFAULT_ROWS, ZERO_SHOT, TrainingSettings, build_additions  # noqa: E402
from personalize.generation.inputs import INSTRUCTION  # noqa: E402
from personalize.models.t5.config import T5Config  # noqa: E402
from personalize.pipeline.additions import Addition  # noqa: E402
from personalize.pipeline.beam_ranking import rank_dataset  # noqa: E402
from personalize.pipeline.ranked import RankedDataset  # noqa: E402
from personalize.preparation.dataset import PreparedDataset  # noqa: E402
from personalize.preparation.run import prepare_dataset  # noqa: E402
from personalize.summarization import headline_corpus  # noqa: E402
from personalize.summarization.halves import trains_summarizer  # noqa: E402
from personalize.summarization.seq2seq_examples import read_examples  # noqa: E402
from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary, train_vocabulary  # noqa: E402

NUM_USERS = 4  # at least: the user split then gives 2 training users, 1 validation and 1 test user
# Each user's first documents only, so ranking embeds a few hundred texts; enough for the paper's 5 examples per user.
FIRST_DOCUMENTS = {"blog_authorship": 8, "enron_sent": 12, "amazon2023_users": 8}
MODEL = T5Config(emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64, num_encoder_layers=1, num_decoder_layers=1,
                 dropout_rate=0.0, dtype="float32")
STAGE_TRAINING = TrainingSettings(train_steps=2, batch_size=8, inputs_length=128, targets_length=16, warmup_steps=1,
                                  num_beams=1, decode_batch_size=8)
LENGTHS = {"inputs": 1024, "targets": 128}
FIELDS = ("user id:", "passage start:", "summary:", "important words:", "past passages:")
ROW_FIELDS = {  # the paper's prompt fields of each row, in order
    "ImmedCtx": ("passage start:",),
    "UserID": ("user id:", "passage start:"),
    **{r: ("passage start:", "past passages:")
       for r in ("RecentDoc", "RankDocBM25", "RankDocDense", "RankSnippet", "RankDocBySnpt")},
    "+SumCtxInd": ("passage start:", "summary:", "past passages:"),
    "+SumCtx": ("passage start:", "summary:", "past passages:"),
    "+SynCtxInd": ("passage start:", "summary:", "important words:", "past passages:"),
    "+SynCtx": ("passage start:", "summary:", "important words:", "past passages:"),
}


@pytest.fixture(scope="module", autouse=True)
def wordnet():
    """SynCtx's weak labels read WordNet: skipped, saying so, only where there is none (run.sh brings it)."""
    from personalize.synthesis.synonyms import default_wordnet_dir, has_wordnet

    if not has_wordnet(default_wordnet_dir()):
        pytest.skip(f"no WordNet database in {default_wordnet_dir()} (bash run.sh brings Debian's wordnet-base "
                    "where it can; or set PERSONALIZE_WORDNET_DIR)")


@pytest.fixture(scope="module", autouse=True)
def compilation_cache(tmp_path_factory):
    """As in run_experiment: every stage model here has one shape, so XLA compiles each train/decode step once."""
    import jax

    names = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs")
    saved = {name: getattr(jax.config, name) for name in names}
    runner.use_compilation_cache(str(tmp_path_factory.mktemp("jax-compilation-cache")))
    yield
    for name, value in saved.items():
        jax.config.update(name, value)


def _prepare_with_gin(*, dataset: str, output_dir: pathlib.Path, **overrides) -> PreparedDataset:
    gin_config.parse_gin([f"datasets/{dataset}.gin"], [])
    gin_config.configured(prepare_dataset)(output_dir=str(output_dir), num_shards=2, log=lambda line: None, **overrides)
    return PreparedDataset(str(output_dir))


def _prepare_small_subset(*, dataset: str, shared_data: pathlib.Path, root: pathlib.Path) -> str:
    """Users whose first documents preparation keeps, those with the least text first (ranking costs per text),
    as few as give NUM_USERS and training users in both SumCtx halves (each half trains or is summarized)."""
    gin_config.parse_gin([f"datasets/{dataset}.gin"], [])
    user_field = FieldMapping.parse(gin.query_parameter("run.prepare_dataset.fields")).user_id
    (gin_path,) = gin.query_parameter("run.prepare_dataset.paths")
    lines: dict[str, list[str]] = {}
    with open(shared_data.joinpath(*pathlib.Path(gin_path).parts[-2:]), encoding="utf-8") as handle:
        for line in handle:
            user_lines = lines.setdefault(str(get_path(json.loads(line), user_field)), [])
            if len(user_lines) < FIRST_DOCUMENTS[dataset]:
                user_lines.append(line)

    def prepare(name: str, users: list[str]) -> PreparedDataset:
        path = root / f"{name}.jsonl"
        path.write_text("".join(line for user in users for line in lines[user]), encoding="utf-8")
        return _prepare_with_gin(dataset=dataset, output_dir=root / name, paths=[str(path)])

    kept = prepare("candidates", list(lines)).documents_by_user()
    users = sorted(kept, key=lambda user: sum(map(len, lines[user])))
    for count in range(NUM_USERS, len(users) + 1):
        subset = prepare(f"subset-{count}", users[:count])
        halves = {trains_summarizer(user_id=u, example_id=u) for u in training_only_users(prepared=subset)}
        if halves == {True, False}:
            return subset.path
    raise AssertionError(f"{dataset}: no subset of {len(users)} kept users has training users in both halves")


def _additions_and_tasks(*, name: str, prepared_dir: str, headlines: str, root: pathlib.Path):
    ranked_dir = str(root / "ranked")
    rank_dataset(prepared_dir=prepared_dir, output_dir=ranked_dir, in_process=True)
    vocabulary_path = train_vocabulary(prepared_dir=prepared_dir, output_path=str(root / "spm.model"), vocab_size=200)
    additions = build_additions(
        store=ArtifactStore(str(root / "artifacts"), log=lambda line: None), rows=DEFAULT_ROWS,
        prepared_dir=prepared_dir, ranked_dir=ranked_dir, ranked_key={"corpus": name}, base_ranking="RankDocBySnpt",
        base_summary="SumCtx", vocabulary_path=vocabulary_path, model_config=MODEL, training=STAGE_TRAINING,
        sumctxind_corpus=headlines, sumctxind_checkpoint=None)
    vocabulary = load_vocabulary(path=vocabulary_path)
    registered = tasks.register_dataset(name=name, ranked_dir=ranked_dir, additions=additions, vocabulary=vocabulary,
                                        prepared_dir=prepared_dir, multitask_row="+SynCtx")
    return ranked_dir, additions, vocabulary, registered


def _decoded(*, name: str, split: str, vocabulary) -> list[tuple[str, str]]:
    """(inputs, targets) of every example, decoded from the tokens the model reads."""
    dataset = seqio.get_mixture_or_task(name).get_dataset(sequence_length=LENGTHS, split=split, shuffle=False,
                                                          num_epochs=1)
    return [(vocabulary.decode(e["inputs"].tolist()), vocabulary.decode(e["targets"].tolist()))
            for e in dataset.as_numpy_iterator()]


def _check_generation_inputs(*, row: str, examples: list[tuple[str, str]]) -> None:
    fields = ROW_FIELDS[row]
    assert examples, row
    for inputs, targets in examples:
        assert inputs.startswith(f"{INSTRUCTION} {fields[0]} "), (row, inputs[:200])
        positions = [inputs.find(field) for field in fields]
        assert -1 not in positions and positions == sorted(positions), (row, inputs[:400])
        assert not {field for field in FIELDS if field in inputs} - set(fields), (row, inputs[:400])
        assert targets, row


def _check_every_row(*, name: str, prepared_dir: str, headlines: str, root: pathlib.Path) -> None:
    ranked_dir, additions, vocabulary, registered = _additions_and_tasks(
        name=name, prepared_dir=prepared_dir, headlines=headlines, root=root)
    ranked = RankedDataset(ranked_dir)
    assert set(additions) == {"SumCtxInd", "SumCtx", "SynCtxInd", "SynCtx"}
    # SumCtxInd's summarizer trained on exactly the headline corpus, and summarized every ranked example.
    corpus = read_examples(examples_dir=os.path.join(os.path.dirname(additions["SumCtxInd"]), "corpus"), name="train")
    with open(headlines, encoding="utf-8") as handle:
        assert [e["targets"] for e in corpus] == [json.loads(line)["summary"] for line in handle]
    for split in ("train", "test"):
        assert set(Addition(additions["SumCtxInd"]).values(split)) == {r["example_id"] for r in ranked.examples(split)}

    author = tasks.task_name(dataset=name, row="AuthorDistinction")
    task_rows = [row for row in DEFAULT_ROWS if row != ZERO_SHOT]  # ZeroShot decodes the base ranking's task
    assert sorted(registered) == sorted([author] + [tasks.task_name(dataset=name, row=row) for row in task_rows])
    pairs = _decoded(name=author, split="train", vocabulary=vocabulary)
    assert pairs and all(i.startswith(f"{AUTHOR_INSTRUCTION} passage 1: ") and " passage 2: " in i for i, _ in pairs)
    assert {t for _, t in pairs} == {"true", "false"}
    assert seqio.get_mixture_or_task(author).splits == ("train",)  # held-out users never give author pairs
    for row in task_rows:
        for split in ("train", "test"):
            examples = _decoded(name=tasks.task_name(dataset=name, row=row), split=split, vocabulary=vocabulary)
            if row != "+AuthorPred":
                _check_generation_inputs(row=row, examples=examples)
                continue
            # The mixture: +SynCtx and author distinction on train; +SynCtx alone on test (seqio skips a task
            # without the split), which is what run_experiment decodes for this row.
            generation = [e for e in examples if not e[0].startswith(AUTHOR_INSTRUCTION)]
            _check_generation_inputs(row="+SynCtx", examples=generation)
            assert (len(generation) < len(examples)) == (split == "train"), split


def test_demo_corpus_every_row(tmp_path):
    prepared = _prepare_with_gin(dataset="demo", output_dir=tmp_path / "prepared",
                                 loader_options={"seed": 0, "num_users": NUM_USERS, "documents_per_user": (10, 11)})
    headlines = str(tmp_path / "headlines.jsonl")
    report = headline_corpus.write_prepared_headline_corpus(prepared_dir=prepared.path, output_path=headlines)
    assert report.kept > 0 and report.skipped == {"user not selected": report.read - report.kept}
    _check_every_row(name="demo", prepared_dir=prepared.path, headlines=headlines, root=tmp_path)


@pytest.mark.parametrize("dataset", ["blog_authorship", "enron_sent", "amazon2023_users"])
def test_shared_corpus_every_row(dataset, shared_data, tmp_path):
    prepared_dir = _prepare_small_subset(dataset=dataset, shared_data=shared_data, root=tmp_path)
    headlines = str(tmp_path / "headlines.jsonl")
    report = headline_corpus.write_prepared_headline_corpus(prepared_dir=prepared_dir, output_path=headlines)
    if dataset == "blog_authorship":  # posts have no titles: the summarizer learns headlines of another corpus
        assert report.kept == 0 and set(report.skipped) == {"no title", "user not selected"}
        report = headline_corpus.write_headline_corpus(documents=generate_demo_corpus(num_users=3),
                                                       output_path=headlines, source="demo")
    assert report.kept > 0
    _check_every_row(name=dataset, prepared_dir=prepared_dir, headlines=headlines, root=tmp_path)
