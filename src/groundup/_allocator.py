"""A process-wide setting the library never applies on its own: glibc malloc's thresholds.

Called by the ``groundup`` command at start-up and by the benchmarks (for both frameworks
alike); see :func:`keep_freed_memory`.
"""

from __future__ import annotations


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed large blocks for reuse instead of unmapping them.

    NumPy allocates a fresh array for every temporary. By default glibc serves the large
    ones with mmap (over a threshold it moves between 128 KiB and 32 MiB) and gives freed
    memory at the heap's top back to the system, so a training step can touch its pages
    afresh each time, a page fault per 4 KiB: at the baby GPT 5,600-16,100 faults a step,
    where PyTorch's twin had none (``benchmarks/gpt_train.py --malloc default``, figures in
    docs/results.md). Raising the thresholds lets freed blocks be reused. One arena serves
    every thread: a thread with an arena of its own (glibc gives each new thread one, up to
    8 per core) keeps its freed blocks there, where no other thread reuses them, so the
    peaks of the threads' arenas add up (the lecture GPT's step in shards over two threads:
    +656.6 MB of peak against +591.6 with one arena). Returns whether it applied (False off
    glibc, e.g. macOS or musl, where nothing changes).

    It changes the whole process's allocator, so the library never calls it on its own
    (importing groundup changes nothing): the ``groundup`` command calls it at start-up,
    and a script of your own may call it before it trains. It imports nothing but ctypes,
    so calling it does not load NumPy (whose BLAS reads its thread count when it loads).
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold, m_arena_max = -1, -2, -3, -8
    ok = mallopt(m_mmap_threshold, 32 * 2**20)  # glibc's maximum: larger stays mmapped
    ok &= mallopt(m_trim_threshold, 512 * 2**20)  # keep up to 512 MiB of freed heap
    ok &= mallopt(m_top_pad, 64 * 2**20)  # grow the heap in 64 MiB steps
    ok &= mallopt(m_arena_max, 1)  # every thread's blocks in one heap, reused by all
    return bool(ok)
