"""Denoising pre-training for generators trained from scratch (the stand-in for a pretrained T5 checkpoint)."""
