"""SumCtx weak labels: greedy, order-preserving, each ranked-entry snippet at most once."""

import numpy as np

from ranked_fixtures import HashEncoder, sentence_splitter
from personalize.summarization.weak_labels import pick_snippets, summary_weak_label


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
    label = summary_weak_label(target="T1. T2. T3.", ranked_text="E0. E1. E2.", encoder=ENCODER,
                               split_snippets=sentence_splitter)
    assert label == "E1. E2. E0."


def test_label_uses_only_entry_snippets_each_at_most_once():
    encoder = HashEncoder()
    for trial in range(20):
        rng = np.random.default_rng(trial)
        entries = [f"entry {trial} {i} {rng.integers(1000)}" for i in range(int(rng.integers(1, 6)))]
        targets = [f"target {trial} {i}" for i in range(int(rng.integers(1, 8)))]
        picked = pick_snippets(target_snippets=targets, entry_snippets=entries, encoder=encoder)
        assert len(picked) == min(len(entries), len(targets))
        assert len(set(picked)) == len(picked)
        assert all(0 <= index < len(entries) for index in picked)
        label = summary_weak_label(target=". ".join(targets) + ".", ranked_text=". ".join(entries) + ".",
                                   encoder=encoder, split_snippets=sentence_splitter)
        pieces = sentence_splitter(label)
        assert len(pieces) == len(set(pieces)) == len(picked)
        assert set(pieces) <= {entry + "." for entry in entries}


def test_default_splitter_is_the_retrieval_snippets():
    from personalize.summarization.weak_labels import default_snippet_splitter

    sentence = "This sentence has exactly fifty characters in it!! "
    snippets = default_snippet_splitter()(sentence * 6)
    assert len(snippets) == 2 and len(snippets[0]) >= 250 and snippets[1].startswith("This sentence")
