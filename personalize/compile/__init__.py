"""Ahead-of-time compilation for TPU slices on a CPU host: prove that a pod configuration fits before renting it.

With libtpu installed, JAX describes the devices of any TPU slice without a TPU; the project's real train step
(and decode step) compiled for those devices reports XLA's per-device memory and cost (MaxText's train_compile
does the same for its models). `personalize compile` is the command line.
"""
