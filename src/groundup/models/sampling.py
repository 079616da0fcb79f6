"""Turning a model's next-token logits into a choice: temperature, top-k, top-p.

Shared by every language model of the journey (bigram, MLP, GPT), so that
`--temperature`, `--top-k` and `--top-p` mean the same thing at every stage.
Pure NumPy; randomness comes in as a `numpy.random.Generator`.
"""

from __future__ import annotations

import numpy as np

from groundup._check import generator


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64. Subtract the row max first: exp(1000) overflows,
    and the probabilities are unchanged."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def filter_logits(
    logits: np.ndarray, top_k: int | None = None, top_p: float | None = None
) -> np.ndarray:
    """Set to -inf every logit outside the top-k and outside the nucleus of mass top_p.

    >>> filter_logits(np.array([[1.0, 3.0, 2.0]]), top_k=2).tolist()
    [[-inf, 3.0, 2.0]]

    The nucleus keeps the smallest set of most likely tokens whose probability reaches
    top_p, so the most likely token always survives.
    """
    out = np.array(logits, dtype=np.float64, copy=True)
    if out.ndim != 2:
        raise ValueError(f"logits must have shape (B, V), got {out.shape}")
    V = out.shape[-1]
    if top_k is not None:
        if not isinstance(top_k, (int, np.integer)) or top_k < 1:
            raise ValueError(f"top_k must be a positive int, got {top_k!r}")
        if top_k < V:
            kth = np.partition(out, V - top_k, axis=-1)[:, V - top_k : V - top_k + 1]  # (B, 1)
            out[out < kth] = -np.inf
    if top_p is not None:
        if not 0.0 < float(top_p) <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
        if top_p < 1.0:
            order = np.argsort(-out, axis=-1, kind="stable")  # most likely first
            sorted_probs = np.take_along_axis(softmax_rows(out), order, axis=-1)
            mass_before = np.cumsum(sorted_probs, axis=-1) - sorted_probs
            drop_sorted = mass_before >= top_p  # the token that crosses top_p is kept
            drop = np.zeros_like(drop_sorted)
            np.put_along_axis(drop, order, drop_sorted, axis=-1)
            out[drop] = -np.inf
    return out


def sample_next(
    logits: np.ndarray,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray:
    """Draw one token id per row of `logits` (B, V); returns an int64 array (B,).

    temperature 0 means greedy (argmax); above 1 flattens the distribution, below 1
    sharpens it.
    """
    logits = np.asarray(logits)
    if logits.ndim == 1:
        logits = logits[None, :]
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (B, V), got {logits.shape}")
    if not temperature >= 0:  # NaN too
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    if temperature == 0:
        return np.asarray(logits.argmax(axis=-1), dtype=np.int64)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        scaled = logits / temperature  # (1e-300 is 0 in float32)
    if not np.isfinite(scaled[np.isfinite(logits)]).all():  # a tiny temperature overflowed: shift
        z = np.asarray(logits, dtype=np.float64)  # first, so the largest logit scales to 0
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.nan_to_num((z - z.max(axis=-1, keepdims=True)) / temperature, nan=-np.inf)
    probs = softmax_rows(filter_logits(scaled, top_k, top_p))
    # inverse-CDF sampling, one uniform per row: vectorised and reproducible for a seed
    u = rng.random((probs.shape[0], 1))
    cdf = np.cumsum(probs, axis=-1)
    ids = (cdf < u * cdf[:, -1:]).sum(axis=-1)
    return np.minimum(ids, probs.shape[-1] - 1).astype(np.int64)


as_generator = generator  # an int seed, a Generator (as is) or None: groundup._check
