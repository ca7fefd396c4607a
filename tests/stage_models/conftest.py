"""A tiny ranked dataset, SumCtx/SynCtx examples directories over it, and a tiny SentencePiece vocabulary."""

import io
import json
import os

import pytest

from personalize.pipeline.ranked import RankedDataset
from personalize.summarization.seq2seq_examples import SUMMARIZER_INSTRUCTION, write_weak_label_examples

WORDS = ["garden", "river", "letter", "market", "winter", "castle", "pencil", "orange", "bridge", "forest"]
NUM_SHARDS = 2
# 8 training users (one example each: the hash halves split them), 2 validation and 2 test users.
USERS = {**{f"train-user-{i}": "train" for i in range(8)}, "val-user-0": "validation", "val-user-1": "validation",
         "test-user-0": "test", "test-user-1": "test"}


def _text(index: int, count: int) -> str:
    return " ".join(WORDS[(index + k) % len(WORDS)] for k in range(count))


def _record(index: int, user_id: str, split: str) -> dict:
    return {"example_id": f"{user_id}-e0", "user_id": user_id, "doc_id": f"{user_id}-d0", "split": split,
            "title": None, "immediate_context": f"about {_text(index, 3)}", "target": f"{_text(index, 12)}.",
            "contexts": {"RankDocBySnpt": {"entry_ids": [f"{user_id}-p0"], "scores": [1.0],
                                           "text": f"{_text(index + 1, 10)}. {_text(index + 2, 10)}."}}}


def write_ranked(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    records = {split: [] for split in ("train", "validation", "test")}
    for index, (user_id, split) in enumerate(USERS.items()):
        records[split].append(_record(index, user_id, split))
    shards = {}
    for split, split_records in records.items():
        names = [f"{split}-{k:05d}-of-{NUM_SHARDS:05d}.jsonl" for k in range(NUM_SHARDS)]
        for k, name in enumerate(names):
            with open(os.path.join(path, name), "w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r) + "\n" for r in split_records[k::NUM_SHARDS])
        shards[split] = names
    with open(os.path.join(path, "manifest.json"), "w", encoding="utf-8") as handle:
        json.dump({"format": "personalize.ranked/1", "strategies": ["RankDocBySnpt"], "num_shards": NUM_SHARDS,
                   "shards": shards, "settings": {}}, handle)
    return path


def write_vocabulary(path: str) -> str:
    import sentencepiece

    lines = [" ".join(WORDS[k:] + WORDS[:k]) for k in range(len(WORDS))]
    lines += [SUMMARIZER_INSTRUCTION, "List the important words. passage start: past passages: summarize: , ."]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(lines * 5), model_writer=model, vocab_size=60,
                                             hard_vocab_limit=False, num_threads=1, model_type="unigram",
                                             minloglevel=2)
    with open(path, "wb") as handle:
        handle.write(model.getvalue())
    return path


@pytest.fixture(scope="session")
def stage_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("stage")
    ranked = write_ranked(str(root / "ranked"))
    dataset = RankedDataset(ranked)
    directories = {"ranked": ranked, "vocabulary": write_vocabulary(str(root / "spm.model"))}
    labels = {"SumCtx": lambda r: r["contexts"]["RankDocBySnpt"]["text"].split(".")[0] + ".",
              "SynCtx": lambda r: ", ".join(r["target"].rstrip(".").split()[:3])}
    for variant, label in labels.items():
        directories[variant] = str(root / f"{variant}-examples")
        write_weak_label_examples(ranked=dataset, strategy="RankDocBySnpt", variant=variant,
                                  instruction=SUMMARIZER_INSTRUCTION, label=label,
                                  output_dir=directories[variant])
    return directories
