"""Helpers of the summarization tests: a hand-written ranked-contexts directory and fake encoders."""

import hashlib
import json
import os

import numpy as np

STRATEGY = "RankDocBySnpt"
SEPARATOR = "\n"


def ranked_record(*, example_id, user_id, split, past, target):
    """A ranked record whose context is the entry texts `past` ({entry_id: text}) joined as ranking joins them,
    with each entry's length (`entry_chars`) as ranking records it."""
    return {"example_id": example_id, "user_id": user_id, "doc_id": example_id, "split": split, "title": None,
            "immediate_context": f"start of {example_id}", "target": target,
            "contexts": {STRATEGY: {"entry_ids": list(past), "scores": [1.0] * len(past),
                                    "text": SEPARATOR.join(past.values()),
                                    "entry_chars": [len(text) for text in past.values()]}}}


def write_ranked(path, records_by_split, num_shards=2):
    os.makedirs(path, exist_ok=True)
    shards = {}
    for split, records in records_by_split.items():
        names = [f"{split}-{i:05d}-of-{num_shards:05d}.jsonl" for i in range(num_shards)]
        for index, name in enumerate(names):
            with open(os.path.join(path, name), "w", encoding="utf-8") as handle:
                for record in records[index::num_shards]:
                    handle.write(json.dumps(record) + "\n")
        shards[split] = names
    with open(os.path.join(path, "manifest.json"), "w", encoding="utf-8") as handle:
        json.dump({"format": "personalize.ranked/1", "strategies": [STRATEGY], "num_shards": num_shards,
                   "shards": shards, "settings": {"separator": SEPARATOR, "max_chars": 2500}}, handle)
    return str(path)


class HashEncoder:
    """Deterministic unit vectors from a text's hash: a fake dense encoder."""

    def encode(self, texts):
        rows = [np.random.default_rng(int(hashlib.md5(text.encode()).hexdigest()[:8], 16)).normal(size=8) for text in texts]
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), 8)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def sentence_splitter(text):
    """One snippet per sentence: enough for the tests (the real splitter is the retrieval stage's)."""
    return [part.strip() + "." for part in text.split(".") if part.strip()]
