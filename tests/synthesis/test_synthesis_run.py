"""The gin-configured synthesis stages end to end on a tiny prepared + ranked dataset."""

import json
import os

import pytest

from personalize.corpus.document import Document
from personalize.pipeline.additions import Addition
from personalize.preparation.dataset import write_prepared_dataset
from personalize.preparation.example import Example
from personalize.summarization.halves import trains_summarizer
from personalize.summarization.seq2seq_examples import read_examples
from personalize.synthesis import run

BODIES = ["Roses and tulips in the garden.", "The garden roses need water.", "Water roses, water tulips.",
          "My roses bloom in the garden again."]
USERS = ["ann", "bea", "cal", "dan", "eve", "fay", "gus", "hal"]  # letters only: each name is one word


def _datasets(tmp_path):
    documents, examples, ranked = {}, [], {"train": [], "validation": [], "test": []}
    for u, user in enumerate(USERS):
        documents[user] = [Document(user_id=user, doc_id=f"{user}-{i}", timestamp=float(i), body=f"{body} {user}")
                           for i, body in enumerate(BODIES)]
        split = "train" if u < 6 else ("validation" if u == 6 else "test")
        example = Example(example_id=f"{user}-3", user_id=user, doc_id=f"{user}-3", timestamp=3.0, title=None,
                          target=documents[user][3].body, immediate_context="My roses",
                          context_doc_ids=(f"{user}-0", f"{user}-1", f"{user}-2"), split=split)
        examples.append(example)
        ranked[split].append({**example.to_json(), "contexts": {"RankDocBySnpt": {
            "entry_ids": [f"{user}-1"], "scores": [1.0], "text": documents[user][1].body}}})
    prepared_dir = str(tmp_path / "prepared")
    write_prepared_dataset(output_dir=prepared_dir, documents_by_user=documents, examples=examples, num_shards=2,
                           settings={})
    ranked_dir = tmp_path / "ranked"
    ranked_dir.mkdir()
    shards = {}
    for split, records in ranked.items():
        (ranked_dir / f"{split}-00000-of-00001.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        shards[split] = [f"{split}-00000-of-00001.jsonl"]
    (ranked_dir / "manifest.json").write_text(json.dumps({"format": "personalize.ranked/1", "num_shards": 1,
                                                          "strategies": ["RankDocBySnpt"], "shards": shards}))
    return prepared_dir, str(ranked_dir)


def test_synctxind_stage_with_gin(tmp_path):
    prepared_dir, ranked_dir = _datasets(tmp_path)
    output = str(tmp_path / "synctxind")
    run.main(["--stage=SynCtxInd", f"--output_dir={output}", "--gin_file=synthesis/synctxind.gin",
              f"--gin.run.write_synctxind.prepared_dir='{prepared_dir}'",
              f"--gin.run.write_synctxind.ranked_dir='{ranked_dir}'"])
    # IDF over the 6 training users' 24 documents: each shared word is in at least 12 of them (idf <= ln 2 < 1.5);
    # a training user's name is in 4 (ln 6 = 1.79), a validation/test user's is unseen (ln 24).
    values = Addition(output).values("test")
    assert values == {"hal-3": ["hal"]}
    assert Addition(output).values("train")["ann-3"] == ["ann"]
    assert "write_synctxind.min_idf = 1.5" in open(os.path.join(output, "config.gin")).read()
    assert os.path.exists(os.path.join(output, run.FREQUENCIES_FILE))
    assert "write_synctxind.idf_base = 'e'" in open(os.path.join(output, "config.gin")).read()


def test_synctxind_idf_base_is_a_gin_setting(tmp_path):
    prepared_dir, ranked_dir = _datasets(tmp_path)
    flags = [f"--gin.run.write_synctxind.prepared_dir='{prepared_dir}'",
             f"--gin.run.write_synctxind.ranked_dir='{ranked_dir}'"]
    output = str(tmp_path / "synctxind-log10")
    run.main(["--stage=SynCtxInd", f"--output_dir={output}", "--gin_file=synthesis/synctxind.gin", *flags,
              "--gin.run.write_synctxind.idf_base='10'"])
    # With log10 the names fall under the floor: log10 6 = 0.78 (training user), log10 24 = 1.38 (unseen).
    assert Addition(output).values("test") == {"hal-3": []}
    assert Addition(output).values("train")["ann-3"] == []
    with pytest.raises(ValueError, match="idf_base must be one of"):
        run.main(["--stage=SynCtxInd", f"--output_dir={tmp_path / 'bad'}", "--gin_file=synthesis/synctxind.gin",
                  *flags, "--gin.run.write_synctxind.idf_base='ln'"])


def test_synctx_stage_with_gin_identity_matching(tmp_path):
    prepared_dir, ranked_dir = _datasets(tmp_path)
    output = str(tmp_path / "synctx")
    run.main(["--stage=SynCtx", f"--output_dir={output}", "--gin_file=synthesis/synctx.gin",
              f"--gin.run.write_synctx_training_examples.prepared_dir='{prepared_dir}'",
              f"--gin.run.write_synctx_training_examples.ranked_dir='{ranked_dir}'",
              "--gin.run.write_synctx_training_examples.wordnet_dir=None",
              "--gin.run.write_synctx_training_examples.use_word_vectors=False",
              "--gin.run.write_synctx_training_examples.min_idf=0.0"])
    trained = list(read_examples(examples_dir=output, name="train"))
    assert {r["example_id"] for r in trained} == {
        f"{user}-3" for user in USERS[:6] if trains_summarizer(user_id=user, example_id="")}
    # Ranked entry "The garden roses need water. NAME" vs d_t "My roses bloom in the garden again. NAME":
    # matches garden, roses, NAME (once each); IDF order: NAME (1.79) before garden, roses (0), then the word.
    for record in trained:
        user = record["example_id"][:-2]
        assert record["targets"] == f"{user}, garden, roses"
        assert record["inputs"].startswith("List the important words of the past passages for the passage start. "
                                           "passage start: My roses past passages: The garden roses need water.")
    assert [r["example_id"] for r in read_examples(examples_dir=output, name="validation")] == ["gus-3"]
    assert [r["example_id"] for r in read_examples(examples_dir=output, name="apply-test")] == ["hal-3"]
