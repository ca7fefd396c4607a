"""SumCtx weak labels: greedy, order-preserving, each ranked-entry snippet at most once, never across two entries."""

import glob
import itertools
import json

import numpy as np
import pytest

from ranked_fixtures import HashEncoder, ranked_record, sentence_splitter, write_ranked
from personalize.pipeline.ranked import RankedDataset
from personalize.ranking.context import entry_lengths, join_entries
from personalize.summarization.context_dependent import write_sumctx_examples
from personalize.summarization.seq2seq_examples import read_examples
from personalize.summarization.weak_labels import entry_snippets, pick_snippets, summary_weak_label, text_snippets


class TableEncoder:
    """Fixed vectors per text (normalised), so similarities are hand-computable."""

    def __init__(self, table):
        self.table = {text: np.asarray(v, dtype=np.float32) / np.linalg.norm(v) for text, v in table.items()}

    def encode(self, texts):
        return np.stack([self.table[text] for text in texts])


ENCODER = TableEncoder({
    "T1.": [1, 0, 0], "T2.": [0.9, 0.1, 0], "T3.": [0, 0, 1],
    "E0.": [0, 0.2, 1], "E1.": [1, 0, 0], "E2.": [0.7, 0.7, 0],
})


def test_pick_snippets_hand_worked():
    # T1 -> E1 (cos 1.0). T2 also prefers E1 (0.99) but it is taken -> E2 (0.78). T3 -> E0 (0.98).
    assert pick_snippets(target_snippets=["T1.", "T2.", "T3."], entry_snippets=["E0.", "E1.", "E2."],
                         encoder=ENCODER) == [1, 2, 0]
    # Fewer entries than target snippets: later target snippets pick nothing.
    assert pick_snippets(target_snippets=["T1.", "T2.", "T3."], entry_snippets=["E1."], encoder=ENCODER) == [0]
    assert pick_snippets(target_snippets=[], entry_snippets=["E1."], encoder=ENCODER) == []
    assert pick_snippets(target_snippets=["T1."], entry_snippets=[], encoder=ENCODER) == []


def test_ties_go_to_the_earlier_entry():
    encoder = TableEncoder({"T.": [1, 0], "A.": [0, 1], "B.": [0, 1]})
    assert pick_snippets(target_snippets=["T."], entry_snippets=["A.", "B."], encoder=encoder) == [0]


def test_summary_weak_label_joins_in_target_order():
    label = summary_weak_label(target_snippets=["T1.", "T2.", "T3."], entries=[["E0."], ["E1.", "E2."]], encoder=ENCODER)
    assert label == "E1. E2. E0."


def test_label_uses_only_entry_snippets_each_at_most_once():
    encoder = HashEncoder()
    for trial in range(20):
        rng = np.random.default_rng(trial)
        entries = [f"entry {trial} {i} {rng.integers(1000)}." for i in range(int(rng.integers(1, 6)))]
        targets = [f"target {trial} {i}." for i in range(int(rng.integers(1, 8)))]
        picked = pick_snippets(target_snippets=targets, entry_snippets=entries, encoder=encoder)
        assert len(picked) == min(len(entries), len(targets))
        assert len(set(picked)) == len(picked)
        assert all(0 <= index < len(entries) for index in picked)
        label = summary_weak_label(target_snippets=targets, entries=[entries[:2], entries[2:]], encoder=encoder)
        pieces = sentence_splitter(label)
        assert len(pieces) == len(set(pieces)) == len(picked)
        assert set(pieces) <= set(entries)


def test_text_snippets_are_the_retrieval_snippets():
    sentence = "This sentence has exactly fifty characters in it!! "
    snippets = text_snippets(sentence * 6)
    assert len(snippets) == 2 and len(snippets[0]) >= 250 and snippets[1].startswith("This sentence")


def test_entry_snippets_split_each_entry_on_its_own():
    # A titled document's text holds a newline (title, newline, body) like the separator; the third entry is cut
    # by the character budget (here 150) after 28 characters.
    body = "Roses need water every day. " * 3
    texts = ["My garden\n" + body.strip(), "Short entry. Two sentences.", "Tomatoes ripen late this year. " * 3]
    context, kept = join_entries(texts=texts, max_chars=150, separator="\n")
    lengths = entry_lengths(texts=texts, context=context, separator="\n")
    assert kept == 3 and lengths == [93, 27, 28]
    assert entry_snippets(context={"text": context, "entry_chars": lengths}, separator="\n") == [
        [texts[0]], ["Short entry. Two sentences."], ["Tomatoes ripen late this yea"]]
    # A ranking made before entry lengths were recorded: cut at every separator (never across two entries).
    legacy = entry_snippets(context={"text": "First doc.\nSecond doc."}, separator="\n")
    assert legacy == [["First doc."], ["Second doc."]]
    with pytest.raises(ValueError, match="do not cut the context into its entries"):
        entry_snippets(context={"text": "First doc.\nSecond doc.", "entry_chars": [4, 5]}, separator="\n")


def _straddle_ranked_dir(tmp_path):
    """Training users with three short past documents each (one snippet each) and a d_t of two snippets."""
    sentence = "The garden grew tall sunflowers again this year. "  # 49 characters and a space
    records = {"train": [], "validation": [], "test": []}
    for i in range(12):
        split = "train" if i < 8 else ("validation" if i < 10 else "test")
        past = {f"u{i}-p{k}": f"Past document {k} of user {i} talks about topic {k}. It has two sentences, {k}."
                for k in range(3)}
        records[split].append(ranked_record(example_id=f"u{i}-e", user_id=f"u{i}", split=split, past=past,
                                            target=(sentence * 7).strip()))
    return write_ranked(tmp_path / "ranked", records)


def test_a_label_never_straddles_two_entries(tmp_path):
    ranked_dir = _straddle_ranked_dir(tmp_path)
    output = str(tmp_path / "sumctx")
    write_sumctx_examples(ranked_dir=ranked_dir, output_dir=output, encoder=HashEncoder())
    by_id = {r["example_id"]: r for split in ("train", "validation", "test")
             for r in RankedDataset(ranked_dir).examples(split)}
    labelled = [*read_examples(examples_dir=output, name="train"), *read_examples(examples_dir=output, name="validation")]
    assert labelled
    for example in labelled:
        entries = by_id[example["example_id"]]["contexts"]["RankDocBySnpt"]["text"].split("\n")
        # d_t has two snippets (six sentences, 299 characters, then one), so two picks; each a whole past document
        # (under 250 characters: one snippet).
        assert example["targets"] in {f"{a} {b}" for a, b in itertools.permutations(entries, 2)}, example


def test_lengths_that_do_not_fit_the_context_fail_naming_the_example(tmp_path):
    ranked_dir = _straddle_ranked_dir(tmp_path)
    shard = sorted(glob.glob(f"{ranked_dir}/train-*.jsonl"))[0]
    records = [json.loads(line) for line in open(shard, encoding="utf-8")]
    records[0]["contexts"]["RankDocBySnpt"]["entry_chars"][0] += 1
    with open(shard, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    with pytest.raises(ValueError, match=f"example '{records[0]['example_id']}', RankDocBySnpt: entry lengths"):
        write_sumctx_examples(ranked_dir=ranked_dir, output_dir=str(tmp_path / "out"), encoder=HashEncoder())
