"""What the language models share: the contract, and sampling from a model.

Every model of stages 2-4 is called as ``model(idx, targets=None) -> (logits, loss)``
(``loss`` is None without targets) and continues ids with ``model.generate(idx,
max_new_tokens, temperature=, top_k=, top_p=, seed=)``. The bigram and the MLP see a fixed
window of the last ``block_size`` ids, so they share one ``generate``
(:class:`FixedContextLM`); GPT and Llama share theirs, with a KV cache
(:class:`groundup.models.transformer.TransformerLM`). :func:`sample_words` and
:func:`decode_words` turn generated rows into words.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundup import _check, nn
from groundup.models.sampling import sample_next
from groundup.tensor import Tensor
from groundup.tensor.backend import to_host


def _ids(idx: Any, name: str = "idx") -> np.ndarray:
    """Token ids as an int64 array, from a Tensor, a list or an array."""
    ids = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer token ids, got dtype {ids.dtype}")
    return ids.astype(np.int64, copy=False)


def generate_fixed_context(
    model: Any,
    idx: Any,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Autoregressive sampling for a model that sees the last ``model.block_size`` ids
    (the bigram, the MLP): left-pad a short context with the boundary (id 0), predict, draw
    with :func:`~groundup.models.sampling.sample_next`, append, repeat. Runs in eval mode
    (BatchNorm uses its running statistics) and restores the mode afterwards.

    Returns the int64 array (B, T + max_new_tokens).
    """
    ids = _ids(idx)
    if ids.ndim == 1:
        ids = ids[:, None]
    if ids.ndim != 2:
        raise ValueError(f"generate: idx must have shape (B, T), got {ids.shape}")
    max_new_tokens = _check.non_negative_int(max_new_tokens, "generate: max_new_tokens")
    rng = _check.generator(seed, "seed")
    T = model.block_size
    with nn.evaluating(model):
        for _ in range(max_new_tokens):
            context = ids[:, -T:]
            if context.shape[1] < T:  # pad on the left with the boundary token
                pad = np.zeros((len(ids), T - context.shape[1]), dtype=np.int64)
                context = np.concatenate([pad, context], axis=1)
            logits, _ = model(context)
            logits = to_host(logits.data if logits.ndim == 2 else logits.data[:, -1])  # (B, V)
            nxt = sample_next(logits, rng, temperature, top_k, top_p)
            ids = np.concatenate([ids, nxt[:, None]], axis=1)
    return ids


class FixedContextLM:
    """The ``generate`` of a model that sees the last ``block_size`` ids (bigram, MLP):
    ``model.generate(idx, ...)`` is ``generate_fixed_context(model, idx, ...)``."""

    block_size: int
    generate = generate_fixed_context


def decode_words(ids: Any, tokenizer: Any, skip: int = 1) -> list[str]:
    """Words from generated rows: drop the first ``skip`` ids (the prompt), cut each row at
    its first boundary (id 0).

    >>> from groundup.tokenizers import CharTokenizer
    >>> decode_words(np.array([[0, 1, 2, 0, 1]]), CharTokenizer.from_words(["ab"]))
    ['ab']
    """
    words = []
    for row in np.asarray(ids)[:, skip:].tolist():
        words.append(tokenizer.decode(row[: row.index(0)] if 0 in row else row))
    return words


def sample_words(
    model: Any,
    tokenizer: Any,
    n: int,
    max_len: int = 30,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | np.random.Generator | None = None,
) -> list[str]:
    """``n`` words from a character model: start from the boundary, stop at the next one
    (or after ``max_len`` characters)."""
    if n == 0:
        return []
    start = np.zeros((n, 1), dtype=np.int64)
    ids = model.generate(start, max_len + 1, temperature, top_k, top_p, seed)
    return decode_words(ids, tokenizer)
