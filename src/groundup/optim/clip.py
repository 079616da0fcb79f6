"""Gradient clipping: cap the size of one update when a batch produces a huge gradient."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from groundup.nn.fused import kernels, kernels_for
from groundup.tensor.backend import array_module


def clip_grad_norm_(
    params: Iterable[Any],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> float:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is taken over every gradient as if they were one long vector: for
    ``norm_type`` p, ``(sum_p ||grad_p||_p^p)^(1/p)`` (2: the L2 norm), and for ``inf`` the
    largest absolute entry. When it exceeds ``max_norm`` every gradient is multiplied by
    ``max_norm / (norm + 1e-6)`` (PyTorch's formula, the 1e-6 guards against 0 / 0).
    Parameters without a gradient are skipped. Returns the norm *before* clipping, the
    number worth logging. ``error_if_nonfinite``: raise instead when the norm is nan or
    inf; ``foreach`` is accepted for PyTorch's signature and changes nothing.
    """
    if isinstance(max_norm, bool) or not (isinstance(max_norm, numbers.Real) and max_norm > 0):
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    p_norm = float(norm_type)  # "inf" too, as PyTorch
    # a lone tensor is one parameter (as in PyTorch), not an iterable of its rows
    params = [params] if hasattr(params, "data") and hasattr(params, "grad") else params
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    total = _total_norm(grads, p_norm)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}; set error_if_nonfinite=False to clip anyway"
        )
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for g in grads:
            g *= scale
    return total


def _total_norm(grads: list[Any], p: float) -> float:
    """The p-norm of all gradients as one vector, in float64, on their device (one number
    per gradient comes back to the host)."""
    xp = array_module(grads[0])
    if p == math.inf:
        return max(float(xp.abs(g).max()) if g.size else 0.0 for g in grads)
    if p == 2.0:
        if all(kernels_for(g) for g in grads):  # one pass each, no float64 copy
            return math.sqrt(sum(kernels().sum_of_squares(g.ravel()) for g in grads))
        return math.sqrt(sum(float(xp.square(g, dtype=np.float64).sum()) for g in grads))
    total = sum(float((xp.abs(g.astype(np.float64)) ** p).sum()) for g in grads)
    return total ** (1.0 / p)
