"""Retrieval over a user's past documents (paper, stage 1): sentences and snippets, BM25 in-process and in Lucene.

Import the submodules you use; importing this package starts nothing (the JVM starts on first Lucene use).
"""
