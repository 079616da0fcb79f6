"""Data parallelism (groundup.train.distributed), in one process: the shards of a batch, the
ring allreduce, and N ranks as threads whose gradients, losses and weights must equal one
process's, dropout and an uneven split included. The runs under a real ``mpiexec`` are in
test_distributed_mpi.py. No mpi4py is needed here."""

from __future__ import annotations

import functools
import operator
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from gpt_batches import single_process_grads, tiny_gpt, word_batch
from hypothesis import given
from hypothesis import strategies as st

from groundup._launch import launched_rank, launched_size, local_size
from groundup.models.gpt import GPT
from groundup.optim import AdamW
from groundup.train import ArrayBatches, TrainConfig, train
from groundup.train import distributed as dist
from groundup.train.distributed import World

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- N ranks as threads


class _Group:
    def __init__(self, size: int) -> None:
        self.size = size
        self.slots: list = [None] * size
        self.barrier = threading.Barrier(size, timeout=60)  # a bug fails, never hangs


class ThreadComm:
    """The few mpi4py calls groundup makes, for ranks that are threads of this process.

    Every call is collective: each rank puts its value in its slot, all wait, all read, all
    wait again. Sums go in rank order, so every rank gets the same bits (as MPI's do).
    """

    def __init__(self, group: _Group, rank: int) -> None:
        self.group, self.rank = group, rank

    def Get_size(self) -> int:
        return self.group.size

    def Get_rank(self) -> int:
        return self.rank

    def _exchange(self, value):
        self.group.slots[self.rank] = value
        self.group.barrier.wait()
        values = list(self.group.slots)
        self.group.barrier.wait()
        return values

    def Allreduce(self, send, received):
        received[...] = functools.reduce(operator.add, self._exchange(np.array(send)))

    def allreduce(self, value):
        return functools.reduce(operator.add, self._exchange(value))

    def Bcast(self, buf, root=0):
        buf[...] = self._exchange(np.array(buf))[root]

    def bcast(self, obj, root=0):
        return self._exchange(obj)[root]

    def allgather(self, obj):
        return self._exchange(obj)

    def Barrier(self):
        self.group.barrier.wait()

    def Sendrecv(self, sendbuf, dest, recvbuf, source):
        sent = self._exchange((dest, np.array(sendbuf)))
        to, data = sent[source]
        assert to == self.rank, f"rank {source} sent to {to}, not to {self.rank}"
        recvbuf[...] = data


def run_ranks(size: int, fn):
    """``fn(world)`` on ``size`` ranks (threads); the list of their results, by rank."""
    group = _Group(size)
    results: list = [None] * size
    errors: list = []

    def rank_main(rank: int) -> None:
        try:
            results[rank] = fn(World(size, rank, ThreadComm(group, rank)))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
            group.barrier.abort()

    threads = [threading.Thread(target=rank_main, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        first = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
        raise (first or errors)[0]
    return results


# ---------------------------------------------------------------- the world and its shards


@given(st.integers(0, 200), st.integers(1, 16))
def test_shards_cover_the_batch_in_order_as_evenly_as_possible(n, size):
    bounds = [dist.shard_bounds(n, size, r) for r in range(size)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds[:-1], bounds[1:], strict=True))  # contiguous
    sizes = [hi - lo for lo, hi in bounds]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
    assert sizes == [len(part) for part in np.array_split(np.arange(n), size)]


def test_shard_weights_count_targets_not_rows():
    Y = np.array([[1, 2, -1, -1], [3, -1, -1, -1], [1, 2, 3, 4], [5, 6, 7, -1]])  # 2, 1, 4, 3
    assert dist.shard_weights(Y, 2) == [3 / 10, 7 / 10]
    assert dist.shard_weights(Y, 3) == [3 / 10, 4 / 10, 3 / 10]  # rows 2, 1, 1
    assert dist.shard_weights(np.arange(10), 3) == [0.4, 0.3, 0.3]  # classifiers: rows


def test_the_launchers_environment_says_size_rank_and_neighbours():
    assert (launched_size({}), launched_rank({}), local_size({})) == (1, 0, 1)
    mpich = {"PMI_SIZE": "4", "PMI_RANK": "3", "MPI_LOCALNRANKS": "2"}
    assert (launched_size(mpich), launched_rank(mpich), local_size(mpich)) == (4, 3, 2)
    ompi = {"OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1"}
    assert (launched_size(ompi), launched_rank(ompi)) == (2, 1)


def test_one_process_is_a_world_of_one_and_never_imports_mpi4py():
    code = (
        "import sys; from groundup.train import distributed as d; w = d.world(); "
        "print(w.size, w.rank, w.allreduce_sum(2.5), w.broadcast('x'), 'mpi4py' in sys.modules)"
    )
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["1", "0", "2.5", "x", "False"], out.stderr


def test_under_mpiexec_without_mpi4py_the_command_says_what_to_install():
    code = (
        "import sys; sys.modules['mpi4py'] = None; from groundup.app.cli import main; "
        "sys.exit(main(['train', 'gpt', '--max-iters', '1']))"
    )
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "PMI_SIZE": "2",
           "PMI_RANK": "0", "OMP_NUM_THREADS": "1"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert out.stderr.splitlines() == [
        "groundup: error: mpiexec started 2 processes; training on several needs mpi4py: "
        "pip install 'groundup[mpi]'"
    ]


# ---------------------------------------------------------------- the ring allreduce


@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("length", [1, 4, 17])
def test_the_ring_allreduce_sums_over_the_ranks(size, length):
    def rank_main(world):
        x = np.arange(length, dtype=np.int64) * (world.rank + 1) + world.rank
        return dist.ring_allreduce(world.comm, x.reshape(-1, 1))

    results = run_ranks(size, rank_main)
    ranks = np.arange(size)[:, None]
    expected = (np.arange(length)[None, :] * (ranks + 1) + ranks).sum(axis=0).reshape(-1, 1)
    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_the_ring_gives_every_rank_the_same_bits():
    def rank_main(world):
        x = np.random.default_rng(world.rank).normal(size=1000).astype(np.float32)
        return dist.ring_allreduce(world.comm, x)

    results = run_ranks(3, rank_main)
    assert all(np.array_equal(results[0], r) for r in results[1:])
    exact = sum(np.random.default_rng(r).normal(size=1000).astype(np.float64) for r in range(3))
    np.testing.assert_allclose(results[0], exact, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- one step, N ranks


@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_summed_shard_gradients_are_the_whole_batch_gradient(size, dropout):
    """7 rows of uneven lengths on 2 or 3 ranks: the weighted, summed gradient equals one
    process's, dropout masks included (each rank keeps its rows of the whole batch's mask)."""
    X, Y = word_batch()
    loss1, grads1 = single_process_grads(tiny_gpt(dropout), X, Y)

    def rank_main(world):
        model = tiny_gpt(dropout)
        params = list(model.parameters())
        loss = dist.DataParallel(model, params, world).backward(X, Y)
        return loss, {n: p.grad.copy() for n, p in model.named_parameters()}

    for loss, grads in run_ranks(size, rank_main):
        assert loss == pytest.approx(loss1, rel=1e-12)
        for name, grad in grads.items():
            np.testing.assert_allclose(grad, grads1[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_the_ranks_start_from_rank_0s_weights():
    def rank_main(world):
        model = GPT(tiny_gpt(0.1).config, seed=world.rank)  # built differently on purpose
        dist.DataParallel(model, list(model.parameters()), world)
        return {n: p.data.copy() for n, p in model.named_parameters()}, model.transformer.drop

    (weights0, drop0), (weights1, drop1) = run_ranks(2, rank_main)
    for name in weights0:
        np.testing.assert_array_equal(weights0[name], weights1[name])
    assert drop0.generator.bit_generator.state == drop1.generator.bit_generator.state


def test_small_buckets_give_the_same_gradients():
    X, Y = word_batch(rows=4)
    _, grads1 = single_process_grads(tiny_gpt(0.0), X, Y)

    def rank_main(world):
        model = tiny_gpt(0.0)
        parallel = dist.DataParallel(model, list(model.parameters()), world)
        parallel.buckets = dist.GradientBuckets(list(model.parameters()), bucket_bytes=2048)
        parallel.backward(X, Y)
        return len(parallel.buckets.buckets), {n: p.grad for n, p in model.named_parameters()}

    for count, grads in run_ranks(2, rank_main):
        assert count > 3  # several buckets really were used
        for name, grad in grads.items():
            np.testing.assert_allclose(grad, grads1[name], rtol=1e-10, atol=1e-12)


def test_training_on_three_ranks_is_the_one_process_run():
    """train(..., world=...) with AdamW, clipping and dropout: the per-step losses and the
    final weights of one process, on an odd batch (5 rows on 3 ranks)."""
    rng = np.random.default_rng(0)
    X, Y = rng.integers(0, 11, size=(50, 8)), rng.integers(0, 11, size=(50, 8))
    config = TrainConfig(max_steps=4, lr=1e-2, schedule="warmup_cosine", warmup_steps=1,
                         grad_clip=0.5, eval_batches=0)  # fmt: skip

    def run(world):
        model = tiny_gpt(0.1)
        batches = ArrayBatches({"train": (X, Y)}, batch_size=5, seed=1)
        history = train(model, batches, AdamW(model.parameters(), lr=1e-2), config, world=world)
        return history.train_loss, {n: p.data.copy() for n, p in model.named_parameters()}

    losses1, weights1 = run(None)
    for losses, weights in run_ranks(3, run):
        np.testing.assert_allclose(losses, losses1, rtol=1e-10)
        for name, w in weights.items():
            np.testing.assert_allclose(w, weights1[name], rtol=1e-9, atol=1e-12, err_msg=name)


# ---------------------------------------------------------------- the cost model


def test_the_allreduce_cost_is_latency_plus_bytes_over_bandwidth():
    # 2 workers: 2 messages, each of half the bytes
    assert dist.allreduce_seconds(1e9, 2, latency=1e-3, bandwidth=1e9) == pytest.approx(1.002)
    assert dist.allreduce_seconds(1e9, 1) == 0.0
    # many workers: each still sends about twice the array, but pays 2 (N - 1) latencies
    t = dist.allreduce_seconds(1e9, 1000, latency=0.0, bandwidth=1e9)
    assert t == pytest.approx(2 * 999 / 1000)
    assert dist.allreduce_seconds(0, 1000, latency=1e-5) == pytest.approx(2 * 999 * 1e-5)


def test_a_step_computes_6_flops_per_parameter_and_token():
    s = dist.step_seconds(1_000_000, 4096, 4, flops=1e12, latency=0.0, bandwidth=4e9)
    assert s["compute"] == pytest.approx(6 * 1e6 * 1024 / 1e12)
    assert s["bandwidth"] == pytest.approx(2 * 3 / 4 * 4e6 / 4e9) and s["latency"] == 0.0
    comm = s["bandwidth"]
    assert s["comm_share"] == pytest.approx(comm / (comm + s["compute"]))
    n = dist.comm_dominates_from(1_000_000, 4096, flops=1e12)
    assert dist.step_seconds(1_000_000, 4096, n, flops=1e12)["comm_share"] > 0.5
    assert dist.step_seconds(1_000_000, 4096, n // 2, flops=1e12)["comm_share"] <= 0.5


def test_the_docs_page_shows_the_cost_models_table():
    page = (REPO / "docs" / "distributed.md").read_text(encoding="utf-8")
    assert dist.cost_table() in page
    for name, params in dist.COST_SIZES.items():
        n = dist.comm_dominates_from(params, dist.COST_TOKENS)
        assert f"| {name} | {n:,} |" in page, (name, n)
