"""Weight initialisation: fill a tensor in place with numbers of the right scale.

Why scale matters: a layer ``y = x @ W.T`` with ``fan_in`` inputs of variance 1 gives
outputs of variance ``fan_in * var(W)``. Keeping activations (and gradients) near variance 1
through many layers needs ``std(W) = gain / sqrt(fan_in)`` (Kaiming He et al., 2015), where
the gain makes up for what the nonlinearity squashes: 5/3 for tanh, sqrt(2) for ReLU.

Every function takes ``generator``: an int seed, a ``numpy.random.Generator`` (pass one
shared generator to initialise a whole model reproducibly) or None (fresh randomness).
They modify ``t.data`` in place and return ``t``, like ``torch.nn.init``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from groundup._check import generator

as_generator = generator  # an int seed, a Generator (as is) or None: groundup._check


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain of a nonlinearity (PyTorch's table): ``calculate_gain("tanh") -> 5/3``."""
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nonlinearity {nonlinearity!r} is not supported")


def _fill(t: Any, values: np.ndarray) -> Any:
    t.data[...] = values.astype(t.data.dtype, copy=False)
    return t


def _fans(t: Any) -> tuple[int, int]:
    shape = t.data.shape
    if len(shape) < 2:
        raise ValueError(f"fan in/out need a tensor of at least 2 dims, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive  # weight is (out, in, ...)


def uniform_(t: Any, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Any:
    """Fill with U(a, b)."""
    return _fill(t, as_generator(generator).uniform(a, b, size=t.data.shape))


def normal_(t: Any, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Any:
    """Fill with N(mean, std^2)."""
    return _fill(t, as_generator(generator).normal(mean, std, size=t.data.shape))


def constant_(t: Any, value: float) -> Any:
    """Fill with ``value``."""
    t.data[...] = value
    return t


def zeros_(t: Any) -> Any:
    """Fill with 0."""
    return constant_(t, 0.0)


def ones_(t: Any) -> Any:
    """Fill with 1."""
    return constant_(t, 1.0)


def kaiming_normal_(
    t: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "tanh", generator: Any = None
) -> Any:
    """N(0, std^2) with ``std = gain / sqrt(fan)``.

    The default nonlinearity is tanh (gain 5/3, the makemore networks of stages 2-3);
    PyTorch's default is ``nonlinearity="leaky_relu"`` with ``a=0``, i.e. gain sqrt(2).
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode))
    return normal_(t, 0.0, std, generator)


def kaiming_uniform_(
    t: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "tanh", generator: Any = None
) -> Any:
    """U(-bound, bound) with ``bound = sqrt(3) * gain / sqrt(fan)`` (same variance as
    :func:`kaiming_normal_`). ``Linear``'s default is this with ``a=sqrt(5)``,
    ``nonlinearity="leaky_relu"``: bound ``1 / sqrt(fan_in)``."""
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode))
    return uniform_(t, -bound, bound, generator)


def xavier_uniform_(t: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """U(-b, b), ``b = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, generator)


def xavier_normal_(t: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """N(0, std^2), ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _fan(t: Any, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(t)
    return fan_in if mode == "fan_in" else fan_out
