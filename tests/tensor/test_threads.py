"""groundup.tensor.threads: tasks spread over the BLAS's threads, each product on one."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from groundup.tensor import threads


@pytest.fixture
def two_blas_threads():
    """NumPy's OpenBLAS on two threads for the test (the suite runs it on one)."""
    blas = threads._blas()
    if blas is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS this module can drive")
    before = blas.get()
    blas.set(2)
    yield blas
    blas.set(before)


def test_spread_runs_every_task_once_in_contiguous_shares_on_two_threads(two_blas_threads):
    ran: list[tuple[int, str]] = []
    tasks = [lambda i=i: ran.append((i, threading.current_thread().name)) for i in range(5)]
    threads.spread(tasks)
    assert sorted(i for i, _ in ran) == list(range(5))
    names = dict(ran)
    assert names[0] == names[1] == threading.current_thread().name  # this thread: 0, 1
    assert names[2] == names[3] == names[4] != names[0]  # a worker: 2, 3, 4
    assert two_blas_threads.get() == 2  # set back


def test_spread_products_run_on_one_blas_thread_and_give_the_same_numbers(two_blas_threads):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 300, 200)), rng.standard_normal((4, 200, 100))
    out, counts = np.empty((4, 300, 100)), []

    def product(i: int) -> None:
        counts.append(two_blas_threads.get())
        np.matmul(a[i], b[i], out=out[i])

    threads.spread([lambda i=i: product(i) for i in range(4)])
    assert counts == [1, 1, 1, 1]
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)


def test_spread_raises_the_first_error_once_every_share_is_done(two_blas_threads):
    done = []

    def fail(message: str) -> None:
        raise ValueError(message)

    tasks = [lambda: fail("first"), lambda: done.append(1), lambda: fail("second")]
    with pytest.raises(ValueError, match="first"):
        threads.spread(tasks)
    assert done == [1] and two_blas_threads.get() == 2
    threads.spread([lambda: done.append(2), lambda: done.append(3)])  # the workers still run
    assert sorted(done) == [1, 2, 3]


def test_spread_inside_a_spread_or_with_most_one_runs_in_order_here(two_blas_threads):
    here = threading.current_thread().name
    inner: list[tuple[str, int]] = []

    def outer(i: int) -> None:
        me = threading.current_thread().name
        threads.spread([lambda j=j: inner.append((threading.current_thread().name, j))
                        for j in range(3)])  # fmt: skip
        assert [name for name, _ in inner[-3:]] == [me] * 3

    threads.spread([lambda: outer(0), lambda: outer(1)])
    assert len(inner) == 6
    order: list[str] = []
    threads.spread([lambda: order.append(threading.current_thread().name)] * 3, most=1)
    assert order == [here] * 3


def test_one_blas_thread_runs_the_tasks_in_order_here():
    blas = threads._blas()
    if blas is not None:
        before = blas.get()
        blas.set(1)
    try:
        order: list[tuple[int, str]] = []
        threads.spread([lambda i=i: order.append((i, threading.current_thread().name))
                        for i in range(3)])  # fmt: skip
        assert order == [(i, threading.current_thread().name) for i in range(3)]
        assert threads.blas_threads() == 1
    finally:
        if blas is not None:
            blas.set(before)


def test_no_task_outlives_its_spread(two_blas_threads):
    """A worker holds nothing of a share once it is done: the arrays a task refers to (a
    backward's gradients) are freed when the caller lets go of them, not at the next spread."""
    import gc
    import weakref

    class Task:
        def __call__(self) -> None:
            pass

    tasks = [Task(), Task(), Task()]
    refs = [weakref.ref(t) for t in tasks]
    threads.spread(tasks)
    del tasks
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_an_interrupted_wait_leaves_the_next_spread_new_workers(two_blas_threads, monkeypatch):
    """Interrupted while it waits for a worker (a second Ctrl-C), spread gives up those
    workers: one still at its share would otherwise say 'done' to the next spread early."""
    workers = threads._workers(1)

    def interrupted(i: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(workers, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        threads.spread([lambda: None, lambda: None])
    assert threads._WORKERS is not workers and two_blas_threads.get() == 2
    ran: list[int] = []
    threads.spread([lambda: ran.append(1), lambda: ran.append(2)])
    assert sorted(ran) == [1, 2]
