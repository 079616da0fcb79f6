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


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed large blocks for reuse instead of unmapping them.

    NumPy allocates a fresh array for every temporary. By default glibc serves each large
    one (over 128 KiB-32 MiB) with a new mmap and unmaps it on free, so every op pays a
    page fault per 4 KiB page on first touch: a quarter of a GPT step's time on these
    machines. Raising the thresholds lets freed blocks be reused. Returns whether it
    applied (False off glibc, e.g. macOS or musl, where nothing changes).

    It changes the whole process's allocator, so the library never calls it on its own
    (importing groundup changes nothing): the ``groundup`` command calls it at start-up,
    and a script of your own may call it before it trains.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    ok = mallopt(m_mmap_threshold, 32 * 2**20)  # glibc's maximum: larger stays mmapped
    ok &= mallopt(m_trim_threshold, 512 * 2**20)  # keep up to 512 MiB of freed heap
    ok &= mallopt(m_top_pad, 64 * 2**20)  # grow the heap in 64 MiB steps
    return bool(ok)
