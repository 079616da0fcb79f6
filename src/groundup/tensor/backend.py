"""The array module behind the tensor engine, kept in one place.

Every op reaches arrays through ``xp``, never by importing NumPy itself, so a GPU array
library with NumPy's interface (CuPy, for one) can slot in here without touching the ops.
"""

from __future__ import annotations

from typing import Any

import numpy

xp: Any = numpy

# float32 is the default for float data, as in PyTorch: half the memory and twice the BLAS
# speed of float64, and plenty of precision for training. float64 is for gradient checks.
default_float = numpy.float32


def to_dtype(dtype: Any) -> Any:
    """Turn ``"float64"``, ``numpy.float64`` or ``None`` into a numpy dtype (or None).

    >>> to_dtype("float32")
    dtype('float32')
    """
    if dtype is None:
        return None
    try:
        return xp.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"dtype must be a numpy dtype or its name like 'float32', got {dtype!r}"
        ) from None
