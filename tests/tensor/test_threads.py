"""groundup.tensor.threads: tasks spread over the BLAS's threads, each product on one."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading

import numpy as np
import pytest

from groundup.tensor import threads


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


# ---------------------------------------------------------------- backward passes on threads


def test_backward_passes_on_threads_add_into_shared_leaves_without_losing_any():
    """Two threads backpropagate at once into the same large leaves (as the shards of a
    training step do): every gradient is added, none lost to a race on the += of another."""
    from groundup import Tensor

    rng = np.random.default_rng(0)
    leaves = [Tensor(rng.standard_normal(200_000).astype(np.float32), requires_grad=True)
              for _ in range(3)]  # fmt: skip
    rounds, start = 40, threading.Barrier(2)

    def run() -> None:
        start.wait()
        for _ in range(rounds):
            (leaves[0] * 2.0 + leaves[1] * leaves[2]).sum().backward()

    workers = [threading.Thread(target=run) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    n = 2 * rounds
    np.testing.assert_allclose(leaves[0].grad, np.full(200_000, 2.0 * n), rtol=1e-6)
    np.testing.assert_allclose(leaves[1].grad, n * leaves[2].data, rtol=1e-4, atol=1e-4)


def test_a_leaf_sliced_by_rows_in_two_backward_passes_on_threads_gets_both():
    """Thread A has added the gradient of W[1] and not yet that of W[0] when thread B adds
    its W[0]: the leaf's gradient must hold both (a zeroed start, not rows left to fill
    that A would later overwrite)."""
    from groundup import Tensor
    from groundup.tensor import Function

    paused, resume = threading.Event(), threading.Event()

    class Pause(Function):  # the identity, whose backward waits for thread B
        def forward(self, x):
            return x.copy()

        def backward(self, grad):
            paused.set()
            assert resume.wait(10)
            return (grad,)

    W = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    root_a = (W[1] + Pause.apply(W[0])).sum()  # backward: W[1], the pause, then W[0]
    a = threading.Thread(target=root_a.backward)
    a.start()
    assert paused.wait(10)
    W[0].sum().backward()  # thread B: this one
    resume.set()
    a.join()
    np.testing.assert_array_equal(W.grad, [[2.0] * 3, [1.0] * 3, [0.0] * 3, [0.0] * 3])


def test_blas_kernel_names_the_kernels_openblas_runs_as_coretype_forced_them():
    """An AVX-512 CPU may run OpenBLAS's AVX2 kernels (OPENBLAS_CORETYPE=Haswell, as some
    machines set it): blas_kernel says which ran, and attention's k^T copy follows it."""
    if threads.blas_kernel() is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS that names its kernels")
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("Haswell kernels are x86-64's")
    code = ("from groundup.tensor.threads import blas_kernel; from groundup.nn import fused; "
            "print(blas_kernel(), fused.copy_pays())")  # fmt: skip
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()  # fmt: skip
    assert out == ["haswell", "False"]


@pytest.mark.parametrize("kernel, pays", [("skylakex", True), ("cooperlake", True),
                                          ("haswell", False), ("zen", False)])  # fmt: skip
def test_the_kT_copy_is_made_for_openblas_avx512_kernels_only(kernel, pays, monkeypatch):
    from groundup.nn import fused

    monkeypatch.setattr(fused, "blas_kernel", lambda: kernel)
    assert fused._copy_pays() is pays
