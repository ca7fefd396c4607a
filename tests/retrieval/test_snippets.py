from personalize.corpus.document import Document
from personalize.retrieval.sentences import sentence_spans, split_sentences
from personalize.retrieval.snippets import Snippet, document_snippets, group_sentences


def test_sentences_keep_abbreviations_decimals_and_initials_together():
    text = "Mr. Smith paid 3.14 dollars at 5 p.m. on Monday! Did he? J. R. Tolkien wrote it, e.g. the Hobbit."
    assert split_sentences(text) == [
        "Mr. Smith paid 3.14 dollars at 5 p.m. on Monday!",
        "Did he?",
        "J. R. Tolkien wrote it, e.g. the Hobbit.",
    ]


def test_sentences_ellipses_quotes_and_lowercase_starts():
    text = 'I waited... and waited... Then "Stop." she said. i went home. see example.com now.'
    assert split_sentences(text) == [
        "I waited... and waited...",
        'Then "Stop." she said.',
        "i went home.",
        "see example.com now.",
    ]


def test_sentences_blank_lines_and_no_terminal_mark():
    assert split_sentences("First part\n\nSecond part\nstill second") == ["First part", "Second part\nstill second"]
    assert split_sentences("") == []
    assert split_sentences("   ") == []
    assert sentence_spans("  Hi there. Bye ") == [(2, 11), (12, 15)]


def test_sentences_long_runs_of_marks_as_bloggers_write_them():
    # Real blog posts: runs of dozens of periods glued to the next word. Such a run with no whitespace after it
    # is no boundary; splitting it used to backtrack exponentially and never returned.
    run = "." * 60
    assert split_sentences(f"relaxing on this trip{run}more to come . Bye!!!?! ok") == [
        f"relaxing on this trip{run}more to come .",
        "Bye!!!?!",
        "ok",
    ]
    assert split_sentences(f"Peace{run} Oh Yeah{run}!x") == [f"Peace{run}", f"Oh Yeah{run}!x"]


def test_group_sentences_closes_a_snippet_at_exactly_min_chars():
    first = "a" * 124 + "."  # 125 characters
    second = "b" * 124 + "."  # 125 characters: joined with one space, 251
    assert group_sentences(sentences=[first, second], min_chars=251) == [f"{first} {second}"]
    assert group_sentences(sentences=[first, second, "c."], min_chars=251) == [f"{first} {second}", "c."]
    # 250 exactly: 'x' * 249 + '.' reaches the limit alone.
    exact = "x" * 249 + "."
    assert group_sentences(sentences=[exact, "Next."], min_chars=250) == [exact, "Next."]


def test_single_long_sentence_and_short_document():
    long_sentence = "word " * 100 + "end."
    document = Document(user_id="u", doc_id="d1", timestamp=1.0, body=long_sentence.strip())
    assert document_snippets(document=document) == [Snippet(doc_id="d1", index=0, text=long_sentence.strip())]
    short = Document(user_id="u", doc_id="d2", timestamp=1.0, body="Short one. Another.")
    assert document_snippets(document=short) == [Snippet(doc_id="d2", index=0, text="Short one. Another.")]
    assert document_snippets(document=Document(user_id="u", doc_id="d3", timestamp=1.0, body="")) == []


def test_snippets_keep_doc_id_index_and_title_as_first_sentence():
    body = " ".join(f"Sentence number {i} is here and it is long enough to matter." for i in range(10))
    document = Document(user_id="u", doc_id="doc-7", timestamp=1.0, title="My title", body=body)
    snippets = document_snippets(document=document, min_chars=100)
    assert snippets[0].text.startswith("My title Sentence number 0")
    assert [s.index for s in snippets] == list(range(len(snippets)))
    assert {s.doc_id for s in snippets} == {"doc-7"}
    assert snippets[1].snippet_id == "doc-7#1"
    assert all(len(s.text) >= 100 for s in snippets[:-1])
    assert " ".join(s.text for s in snippets) == "My title " + body
