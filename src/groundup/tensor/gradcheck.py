"""Numerical gradient checking: the engine's second opinion on every backward.

The derivative is the limit of (f(x + eps) - f(x - eps)) / 2 eps, so with a small eps and
float64 arithmetic, central differences approximate each gradient entry to about eps^2.
Slow (two forward passes per input entry) and therefore for small tensors only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from groundup.tensor.backend import to_host
from groundup.tensor.tensor import Tensor


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s backward against central differences, in float64.

    Every float input becomes a float64 leaf that requires grad (integer inputs, such as
    class indices, pass through untouched). A non-scalar output is reduced to a scalar by a
    fixed random weighting, so every output entry counts.

    Returns True, or raises AssertionError naming the input and the worst entry.

    >>> gradcheck(lambda x: (x * x).sum(), Tensor([1.0, 2.0]))
    True
    """
    leaves = []
    for x in inputs:
        data = to_host(x.data) if isinstance(x, Tensor) else np.asarray(x)  # checked on the CPU
        if data.dtype.kind == "f":
            # C order, so that perturbing the flat view below perturbs the leaf itself
            data = np.ascontiguousarray(data, dtype=np.float64)
            leaves.append(Tensor(data, dtype=np.float64, requires_grad=True))
        else:
            leaves.append(x)
    out = fn(*leaves)
    weights = np.random.default_rng(seed).standard_normal(out.shape)

    def scalar(*args: Any) -> float:
        return float((fn(*args).data * weights).sum())

    out.backward(weights)
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, Tensor) or not leaf.requires_grad:
            continue
        analytic = leaf.grad if leaf.grad is not None else np.zeros_like(leaf.data)
        numeric = np.zeros_like(leaf.data)
        flat, num = leaf.data.reshape(-1), numeric.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            up = scalar(*leaves)
            flat[j] = orig - eps
            down = scalar(*leaves)
            flat[j] = orig
            num[j] = (up - down) / (2 * eps)
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if (err > 0).any():
            k = int(err.argmax())
            raise AssertionError(
                f"gradcheck: input {i} (shape {leaf.shape}) entry {k}: backward gives "
                f"{analytic.reshape(-1)[k]:.8g}, central differences give "
                f"{numeric.reshape(-1)[k]:.8g} (atol={atol}, rtol={rtol})"
            )
    return True
