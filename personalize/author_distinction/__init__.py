"""The multitask auxiliary task (AuthorPred): were two passages written by the same author?"""
