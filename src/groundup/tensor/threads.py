"""Independent tasks on every core the BLAS may use, each with a BLAS of one thread.

NumPy's matrix products run on its BLAS's threads (OpenBLAS, in NumPy's wheels), as many
as ``OPENBLAS_NUM_THREADS`` or ``OMP_NUM_THREADS`` said when NumPy loaded. After each
threaded product, OpenBLAS's workers spin for the next one, about 0.1 s (2**28 cycles, its
``OPENBLAS_THREAD_TIMEOUT``). Attention is many small products with a kernel between each
two: split over two BLAS threads, every product pays for the split, and the GPT's attention
at the lecture's shape took longer on two threads than on one (293 against 217 ms a step).
Threads of our own, one product each, would share the second core with the spinner.

:func:`spread` runs a list of tasks over the BLAS's thread count instead: this thread and
workers of ours, each with its share of the tasks. For the while, it stops OpenBLAS's
workers (OpenBLAS starts them again at its next threaded product, 0.06-0.09 ms here) and
sets the BLAS to one thread, so every product runs on the thread that asked for it; then it
sets the count back. Every thread's share should be a millisecond or more: a worker here
takes 0.06-0.09 ms to wake. Tasks run here, in order, when the BLAS has one thread, when it
is not an OpenBLAS this can drive (MKL, Apple's Accelerate), or while another spread runs.
While a spread runs the BLAS has one thread for the whole process, other threads' products
included, and OpenBLAS's workers are stopped under it: a program whose own threads run
threaded products beside a training step should give the BLAS one thread (or train with
``GROUNDUP_JIT=0``, which runs no kernels and spreads nothing).
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["blas_kernel", "blas_threads", "spread"]


class _OpenBLAS:
    """OpenBLAS's thread controls: get and set the thread count, stop the workers."""

    # names as NumPy's wheels (scipy-openblas, 64-bit ints) and as plain builds export them
    GET = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
           "scipy_openblas_get_num_threads", "openblas_get_num_threads")  # fmt: skip
    SET = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
           "scipy_openblas_set_num_threads", "openblas_set_num_threads")  # fmt: skip
    STOP = ("blas_thread_shutdown_",)
    CORE = ("scipy_openblas_get_corename64_", "openblas_get_corename64_",
            "scipy_openblas_get_corename", "openblas_get_corename")  # fmt: skip

    def __init__(self, lib: Any) -> None:
        self.get, self.set, self.stop = (self.first(lib, names) for names in
                                         (self.GET, self.SET, self.STOP))  # fmt: skip
        self.get.restype = ctypes.c_int
        self.set.argtypes = [ctypes.c_int]
        self.set.restype = None
        self.stop.restype = ctypes.c_int
        try:
            self.core: Any = self.first(lib, self.CORE)
            self.core.restype = ctypes.c_char_p
        except AttributeError:  # an older OpenBLAS: the kernels cannot be asked
            self.core = None

    @staticmethod
    def first(lib: Any, names: Sequence[str]) -> Any:
        for name in names:
            if hasattr(lib, name):
                return getattr(lib, name)
        raise AttributeError(names[0])


_BLAS: Any = False  # not looked for yet


def _openblas_paths() -> list[str]:
    """Where NumPy's OpenBLAS may be: the copy its wheels ship beside it first (SciPy's
    wheels ship another, which this must not drive), then any this process has loaded
    (Linux; a NumPy built on the system's OpenBLAS)."""
    import numpy

    here = os.path.dirname(numpy.__file__)
    paths = []
    for folder in (os.path.join(here, os.pardir, "numpy.libs"), os.path.join(here, ".dylibs")):
        paths += sorted(glob.glob(os.path.join(folder, "*openblas*")))
    try:
        with open("/proc/self/maps") as maps:
            paths += [line.split()[-1] for line in maps if "openblas" in line.lower()]
    except OSError:  # not Linux
        pass
    return list(dict.fromkeys(p for p in paths if os.path.isfile(p)))


def _blas() -> _OpenBLAS | None:
    """NumPy's OpenBLAS, found once; None for any other BLAS (or none found)."""
    global _BLAS
    if _BLAS is False:  # set once found: a thread asking meanwhile looks too, not sees None
        found = None
        for path in _openblas_paths():
            try:
                found = _OpenBLAS(ctypes.CDLL(path))
                break
            except (OSError, AttributeError):
                continue
        _BLAS = found
    return _BLAS


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses for a product now; 1 when it cannot be asked."""
    blas = _blas()
    return max(1, blas.get()) if blas is not None else 1


def blas_kernel() -> str | None:
    """The CPU NumPy's OpenBLAS runs its kernels for, in lower case ("haswell", "skylakex",
    "zen"): the one it detected, or the one ``OPENBLAS_CORETYPE`` named when NumPy loaded
    (an AVX-512 CPU may run AVX2 kernels). None for another BLAS, or one that cannot say."""
    blas = _blas()
    if blas is None or blas.core is None:
        return None
    name = blas.core()
    return name.decode(errors="replace").strip().lower() if name else None


class _Workers:
    """Threads of ours that each run a share of the tasks when handed one; they wait on a
    lock between shares (no spinning), and do not outlive a fork."""

    def __init__(self, n: int) -> None:
        self.pid = os.getpid()
        self.shares: list[Sequence[Callable[[], Any]]] = [()] * n
        self.errors: list[BaseException | None] = [None] * n
        self.go = [threading.Lock() for _ in range(n)]
        self.done = [threading.Lock() for _ in range(n)]
        for i in range(n):
            self.go[i].acquire()
            self.done[i].acquire()
            threading.Thread(target=self.loop, args=(i,), daemon=True,
                             name=f"groundup-worker-{i}").start()  # fmt: skip

    def loop(self, i: int) -> None:
        while True:
            self.go[i].acquire()
            self.errors[i] = _run(self.shares[i])
            self.shares[i] = ()  # nothing of the share outlives it (its arrays are freed)
            self.done[i].release()

    def start(self, i: int, share: Sequence[Callable[[], Any]]) -> None:
        self.shares[i], self.errors[i] = share, None
        self.go[i].release()

    def wait(self, i: int) -> BaseException | None:
        self.done[i].acquire()
        return self.errors[i]


def _run(share: Sequence[Callable[[], Any]]) -> BaseException | None:
    """Run the tasks of a share in order; the error that stopped them, or None."""
    try:
        for task in share:
            task()
    except BaseException as error:  # handed to the caller of spread
        return error
    return None


_WORKERS: _Workers | None = None
_SPREADING = threading.Lock()  # held while a spread runs


def _workers(n: int) -> _Workers:
    global _WORKERS
    if _WORKERS is None or _WORKERS.pid != os.getpid() or len(_WORKERS.go) < n:
        _WORKERS = _Workers(n)
    return _WORKERS


def _discard(workers: _Workers) -> None:
    global _WORKERS
    if _WORKERS is workers:
        _WORKERS = None


def spread(tasks: Sequence[Callable[[], Any]], most: int | None = None) -> None:
    """Run independent ``tasks`` (functions of no arguments), in contiguous shares, one
    share per BLAS thread (``most`` threads at most), each thread's products on one BLAS
    thread; return when all are done, raising the first error any raised. In order on this
    thread when the BLAS has one thread (or is not OpenBLAS), when there is one task, when
    ``most`` is 1, or while another spread runs."""
    n = min(len(tasks), blas_threads(), len(tasks) if most is None else most)
    if n <= 1 or not _SPREADING.acquire(blocking=False):
        for task in tasks:
            task()
        return
    try:
        blas, workers = _blas(), _workers(n - 1)
        assert blas is not None  # blas_threads() > 1 found it
        shares = [tasks[len(tasks) * i // n : len(tasks) * (i + 1) // n] for i in range(n)]
        threads = blas.get()
        blas.set(1)
        blas.stop()  # its workers would spin on the cores ours take
        try:
            for i, share in enumerate(shares[1:]):
                workers.start(i, share)
            errors: list[BaseException | None] = []
            try:
                errors.append(_run(shares[0]))
            finally:  # every worker is done with its share before anything else happens
                try:
                    errors += [workers.wait(i) for i in range(n - 1)]
                except BaseException:  # a second Ctrl-C while waiting: a worker may still be
                    _discard(workers)  # at its share, so the next spread takes new ones
                    raise
        finally:
            blas.set(threads)
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first
    finally:
        _SPREADING.release()
