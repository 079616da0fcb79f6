"""Gradient clipping: cap the size of one update when a batch produces a huge gradient."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


def clip_grad_norm_(params: Iterable[Any], max_norm: float) -> float:
    """Scale all gradients together so that their joint L2 norm is at most ``max_norm``.

    The norm is taken over every gradient as if they were one long vector,
    ``sqrt(sum_p ||grad_p||^2)``; when it exceeds ``max_norm`` every gradient is multiplied
    by ``max_norm / (norm + 1e-6)`` (PyTorch's formula, the 1e-6 guards against 0 / 0).
    Parameters without a gradient are skipped. Returns the norm *before* clipping, the
    number worth logging.
    """
    if isinstance(max_norm, bool) or not (isinstance(max_norm, numbers.Real) and max_norm > 0):
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    # a lone tensor is one parameter (as in PyTorch), not an iterable of its rows
    params = [params] if hasattr(params, "data") and hasattr(params, "grad") else params
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    total = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for g in grads:
            g *= scale
    return total
