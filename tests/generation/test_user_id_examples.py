"""UserID's extra documents follow the thresholds the prepared dataset was made with, not fixed numbers."""

from personalize.cli.main import main
from personalize.generation.user_id_examples import held_out_user_examples, preparation_thresholds
from personalize.preparation.dataset import PreparedDataset
from personalize.preparation.immediate_context import immediate_context


def test_extra_documents_use_the_preparations_gin_thresholds(tmp_path):
    prepared = str(tmp_path / "demo")
    assert main(["prepare", "--dataset", "demo", "--output_dir", prepared, "--num_shards", "2",
                 "--gin.prepare.prepare_corpus.min_target_chars=400",
                 "--gin.prepare.prepare_corpus.immediate_context_chars=60"]) == 0
    assert preparation_thresholds(prepared_dir=prepared) == {"min_target_chars": 400, "immediate_context_chars": 60}
    dataset = PreparedDataset(prepared)
    documents = {d.doc_id: d for d in dataset.documents()}
    held_out: dict[str, float] = {}  # a validation/test user -> the time of their first held-out example
    for split in ("validation", "test"):
        for example in dataset.examples(split):
            held_out[example.user_id] = min(example.timestamp, held_out.get(example.user_id, float("inf")))
    earlier = [d for d in documents.values() if d.user_id in held_out and d.timestamp < held_out[d.user_id]]
    # The demo has held-out users' earlier documents of 301-400 characters: targets at 300, not at 400.
    assert any(300 < len(d.body) <= 400 for d in earlier)
    extra = list(held_out_user_examples(prepared_dir=prepared))
    assert {e["doc_id"] for e in extra} == {d.doc_id for d in earlier if len(d.body) > 400}
    for example in extra:
        document = documents[example["doc_id"]]
        assert example["target"] == document.body
        assert example["immediate_context"] == immediate_context(title=document.title, body=document.body,
                                                                 num_chars=60)
        assert example["immediate_context"].endswith(document.body[:60]) and document.body[60:61]


def test_a_dataset_without_a_preparation_config_uses_prepare_corpus_defaults(tmp_path):
    from personalize.preparation.dataset import write_prepared_dataset

    path = str(tmp_path / "p")
    write_prepared_dataset(output_dir=path, documents_by_user={}, examples=[], num_shards=1, settings={})
    assert preparation_thresholds(prepared_dir=path) == {"min_target_chars": 300, "immediate_context_chars": 150}
