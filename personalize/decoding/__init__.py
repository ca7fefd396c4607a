"""Decoding for the generator: beam search (the paper's beam size 4), greedy and temperature sampling."""
