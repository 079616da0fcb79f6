"""The few validators the edges of the library share (configs, constructors, the CLI's
helpers), so that a bad argument fails at once with one line naming it, the value, and what
was expected. Inside the library code trusts its callers. Imports nothing of groundup.

>>> positive_int(3, "n_layer")
3
>>> probability(1.5, "dropout")
Traceback (most recent call last):
ValueError: dropout must be a probability in [0, 1], got 1.5
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


def _is_int(value: Any) -> bool:
    """An int or a NumPy int, not a bool (True is an int to Python, never a size to us)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int >= 1 (NumPy ints accepted)."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def non_negative_int(value: Any, name: str) -> int:
    """``value`` as an int >= 0 (NumPy ints accepted)."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return int(value)


def probability(value: Any, name: str) -> float:
    """``value`` as a float in [0, 1] (NumPy floats accepted, bools refused)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def one_of(value: Any, choices: Iterable[Any], name: str) -> Any:
    """``value`` itself, when it is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def generator(seed: Any, name: str = "generator") -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int seed, a Generator (returned as is, so one
    generator can drive a whole model), or None (fresh entropy). Global state is never used.

    >>> generator(0).integers(10) == generator(0).integers(10)
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or _is_int(seed):
        return np.random.default_rng(None if seed is None else int(seed))
    raise TypeError(f"{name} must be an int seed, a numpy.random.Generator or None, got {seed!r}")
