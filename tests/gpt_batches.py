"""A small GPT and batches of words padded with -1, for the tests that split a batch (the
MPI ranks of tests/train/test_distributed.py, the threads of tests/train/test_shards.py)
and compare with the whole batch in one piece."""

from __future__ import annotations

import numpy as np

from groundup.models.gpt import GPT, GPTConfig


def tiny_gpt(dropout: float = 0.0) -> GPT:
    config = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16,
                       dropout=dropout)  # fmt: skip
    return GPT(config, seed=3).double()


def word_batch(seed: int = 0, rows: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 8 tokens whose targets end in -1 padding, of different lengths."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 11, size=(rows, 8))
    Y = rng.integers(0, 11, size=(rows, 8))
    for row, length in enumerate(rng.integers(1, 9, size=rows)):
        Y[row, length:] = -1
    return X, Y


def single_process_grads(model, X, Y) -> tuple[float, dict[str, np.ndarray]]:
    """The loss of the whole batch in one piece, and a copy of every gradient."""
    _, loss = model(X, Y)
    loss.backward()
    return float(loss.item()), {n: p.grad.copy() for n, p in model.named_parameters()}
