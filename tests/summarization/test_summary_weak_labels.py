"""SumCtx weak labels: greedy, order-preserving, each ranked-entry snippet at most once, never across two entries."""

import glob
import itertools
import json

import numpy as np
import pytest

from ranked_fixtures import HashEncoder, ranked_record, sentence_splitter, write_ranked
from personalize.corpus.document import Document
from personalize.pipeline.ranked import RankedDataset
from personalize.ranking.context import join_entries
from personalize.retrieval.document_text import document_text
from personalize.retrieval.snippets import document_snippets
from personalize.summarization.context_dependent import write_sumctx_examples
from personalize.summarization.seq2seq_examples import read_examples
from personalize.summarization.weak_labels import (entry_snippets, entry_text, pick_snippets, shown_pieces,
                                                   summary_weak_label, text_snippets)


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
    label = summary_weak_label(target_snippets=["T1.", "T2.", "T3."], entry_snippets=[["E0."], ["E1.", "E2."]],
                               encoder=ENCODER)
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
        label = summary_weak_label(target_snippets=targets, entry_snippets=[entries[:2], entries[2:]],
                                   encoder=encoder)
        pieces = sentence_splitter(label)
        assert len(pieces) == len(set(pieces)) == len(picked)
        assert set(pieces) <= set(entries)


def test_text_snippets_are_the_retrieval_snippets():
    sentence = "This sentence has exactly fifty characters in it!! "
    snippets = text_snippets(sentence * 6)
    assert len(snippets) == 2 and len(snippets[0]) >= 250 and snippets[1].startswith("This sentence")


def test_shown_pieces_invert_the_ranking_join():
    texts = ["First doc.", "Second doc here.", "Third."]
    context, kept = join_entries(texts=texts, max_chars=20, separator="\n")
    assert (context, kept) == ("First doc.\nSecond do", 2)
    assert shown_pieces(context=context, texts=texts[:kept], separator="\n") == ["First doc.", "Second do"]
    assert shown_pieces(context="First doc.\nThird.", texts=["First doc.", "Third."], separator="\n") == [
        "First doc.", "Third."]
    with pytest.raises(ValueError, match="entry 1's text is not at character 11"):
        shown_pieces(context="First doc.\nSecond doc here.", texts=["First doc.", "Third."], separator="\n")
    with pytest.raises(ValueError, match="cut short but is not the last"):
        shown_pieces(context="First", texts=["First doc.", "Third."], separator="\n")
    with pytest.raises(ValueError, match="characters after its 1 entries"):
        shown_pieces(context="First doc.\nThird.", texts=["First doc."], separator="\n")


def test_entry_snippets_are_the_ranking_snippets_of_the_shown_part():
    body = "Roses need water. " * 20  # 360 characters: two snippets
    document = Document(user_id="u", doc_id="d", timestamp=0.0, title="My garden", body=body.strip())
    documents = {"d": document}
    whole = document_text(document)
    assert entry_text(entry_id="d", documents=documents) == whole
    assert entry_snippets(entry_id="d", piece=whole, documents=documents) == [
        s.text for s in document_snippets(document=document)]
    # The context cut the document 40 characters in: the title, then the body's first 30 characters.
    assert entry_snippets(entry_id="d", piece=whole[:40], documents=documents) == [
        "My garden Roses need water. Roses need w"]
    assert entry_snippets(entry_id="d", piece="My gar", documents=documents) == ["My gar"]
    # RankSnippet's entries are snippets 'doc_id#k': one snippet each.
    second = document_snippets(document=document)[1].text
    assert entry_text(entry_id="d#1", documents=documents) == second
    assert entry_snippets(entry_id="d#1", piece=second, documents=documents) == [second]
    with pytest.raises(KeyError, match="'e#0' is neither a document"):
        entry_text(entry_id="e#0", documents=documents)


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


def test_a_context_that_does_not_match_the_documents_fails_clearly(tmp_path):
    ranked_dir = _straddle_ranked_dir(tmp_path)
    shard = sorted(glob.glob(f"{ranked_dir}/train-*.jsonl"))[0]
    records = [json.loads(line) for line in open(shard, encoding="utf-8")]
    records[0]["contexts"]["RankDocBySnpt"]["text"] = records[0]["contexts"]["RankDocBySnpt"]["text"].replace(
        "talks", "writes")
    with open(shard, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    with pytest.raises(ValueError, match=f"example '{records[0]['example_id']}', RankDocBySnpt: the context is not"):
        write_sumctx_examples(ranked_dir=ranked_dir, output_dir=str(tmp_path / "out"), encoder=HashEncoder())
