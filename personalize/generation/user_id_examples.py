"""UserID's extra training examples: the paper trains the UserID baseline on val/test users' documents too.

Kept simple and leak-free: a validation or test user contributes the documents strictly earlier than all of
their own validation/test examples, each as a (immediate context -> document) example, by the preparation's own
rules: a body longer than its `min_target_chars`, and x_t its title and first `immediate_context_chars` characters.
Both thresholds are read from what the prepared dataset was made with (`preparation_thresholds`), so a gin
override at preparation (e.g. min_target_chars=500) holds here too.
"""

from __future__ import annotations

import inspect
import os
from typing import Iterator

from gin import config as gin_config
from gin import config_parser

from personalize.preparation.dataset import PreparedDataset
from personalize.preparation.immediate_context import immediate_context
from personalize.preparation.prepare import prepare_corpus

PREPARATION_CONFIG = "config.gin"
THRESHOLDS = ("min_target_chars", "immediate_context_chars")


def preparation_thresholds(*, prepared_dir: str) -> dict[str, int]:
    """`min_target_chars` and `immediate_context_chars` of the preparation that wrote `prepared_dir`.

    Read from the operative gin config `personalize prepare` writes beside the data; a directory without one (written
    by code, not the CLI) was made with `prepare_corpus`'s defaults, which are then used.
    """
    parameters = inspect.signature(prepare_corpus).parameters
    thresholds = {name: int(parameters[name].default) for name in THRESHOLDS}
    path = os.path.join(prepared_dir, PREPARATION_CONFIG)
    if not os.path.exists(path):
        return thresholds
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        statements = list(config_parser.ConfigParser(text, gin_config.ParserDelegate(skip_unknown=True)))
    except SyntaxError as error:
        raise ValueError(f"{path}:{error.lineno}: not a readable gin config ({error.msg})") from None
    for statement in statements:
        if (isinstance(statement, config_parser.BindingStatement) and not statement.scope
                and statement.selector.rpartition(".")[2] == "prepare_corpus" and statement.arg_name in THRESHOLDS):
            if not isinstance(statement.value, int):
                raise ValueError(f"{path}: prepare_corpus.{statement.arg_name} = {statement.value!r} is not an integer")
            thresholds[statement.arg_name] = statement.value
    return thresholds


def held_out_user_examples(*, prepared_dir: str) -> Iterator[dict]:
    """Example records (the ranked format's example_id, user_id, immediate_context, target) of val/test users."""
    dataset = PreparedDataset(prepared_dir)
    thresholds = preparation_thresholds(prepared_dir=prepared_dir)
    cutoff: dict[str, float] = {}
    for split in ("validation", "test"):
        for example in dataset.examples(split):
            cutoff[example.user_id] = min(example.timestamp, cutoff.get(example.user_id, float("inf")))
    for document in dataset.documents():
        if document.user_id not in cutoff or document.timestamp >= cutoff[document.user_id]:
            continue
        if len(document.body) <= thresholds["min_target_chars"]:
            continue
        yield {
            "example_id": f"userid-extra:{document.user_id}:{document.doc_id}",
            "user_id": document.user_id,
            "doc_id": document.doc_id,
            "timestamp": document.timestamp,
            "immediate_context": immediate_context(title=document.title, body=document.body,
                                                   num_chars=thresholds["immediate_context_chars"]),
            "target": document.body,
        }
