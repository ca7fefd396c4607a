"""Denoising examples: a document with spans replaced by sentinels in, the whole document out.

The paper fine-tunes pretrained T5 models, which already copy text from their inputs. A model trained from scratch
(the CPU demo, or a study without T5 weights) must first learn that, or every row collapses to a generic passage
and personal context cannot help. This objective teaches it: word spans are replaced by T5 sentinels
(`<extra_id_N>`) and the target is the full original text (text infilling with full reconstruction, the T5
paper's "BERT-style" family), mixed with span corruption by `personalize pretrain` (corpus.py), which feeds it only
training users' documents, so no validation or test user's text is seen before evaluation.
"""

from __future__ import annotations

import hashlib
import random
from typing import Iterable, Iterator

from personalize.corpus.document import Document

VARIANT = "Denoising"
MAX_SENTINELS = 100  # T5 vocabularies carry <extra_id_0> ... <extra_id_99>


def document_text(document: Document) -> str:
    """What the generator writes: the title line (when there is one) and the body, as in x_t and the targets."""
    return f"{document.title}\n{document.body}" if document.title else document.body


def corrupt_spans(*, text: str, rng: random.Random, span_start_rate: float, max_span_words: int) -> str:
    """`text` with word spans (1..max_span_words words, each starting with probability span_start_rate) replaced
    by consecutive sentinels; newlines are kept as they are."""
    if not 0.0 <= span_start_rate < 1.0:
        raise ValueError(f"span_start_rate must be in [0, 1), got {span_start_rate}")
    if max_span_words < 1:
        raise ValueError(f"max_span_words must be >= 1, got {max_span_words}")
    lines = []
    sentinel = 0
    for line in text.split("\n"):
        words, out, index = line.split(" "), [], 0
        while index < len(words):
            if sentinel < MAX_SENTINELS and rng.random() < span_start_rate:
                out.append(f"<extra_id_{sentinel}>")
                sentinel += 1
                index += rng.randint(1, max_span_words)
            else:
                out.append(words[index])
                index += 1
        lines.append(" ".join(out))
    return "\n".join(lines)


def denoising_examples(*, documents: Iterable[Document], copies: int, seed: int, span_start_rate: float,
                       max_span_words: int, prefix: str = "") -> Iterator[dict[str, str]]:
    """`copies` differently corrupted examples of each document; each document's corruption depends only on the
    seed and its id, so the examples do not change with the order documents arrive in.

    `prefix` starts every input (T5's task prefixes, UL2's mode tokens): without one, a denoising input (text with
    a few sentinels, the whole text out) looks like a span-corruption input (the same, only the spans out), so a
    mixture of both asks the decoder to guess which output is wanted.
    """
    for document in documents:
        text = document_text(document)
        digest = hashlib.sha256(f"{seed}:{document.user_id}:{document.doc_id}".encode("utf-8")).hexdigest()
        rng = random.Random(int(digest, 16))
        for copy in range(copies):
            yield {"example_id": f"{document.user_id}/{document.doc_id}/{copy}", "targets": text,
                   "inputs": prefix + corrupt_spans(text=text, rng=rng, span_start_rate=span_start_rate,
                                                    max_span_words=max_span_words)}
