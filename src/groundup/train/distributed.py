"""Data parallelism over MPI: many workers, one model, one optimizer step.

    mpiexec -n 2 groundup train gpt --batch-size 32      # the command line; or in Python:

    world = distributed.world()                           # rank and size (MPI only if size > 1)
    train(model, batches, optimizer, config, world=world)

This is what PyTorch's DistributedDataParallel, Horovod and nanoGPT's ``torchrun`` path do:
every worker (a *rank*) holds the whole model, draws the same global batch and computes the
loss and the gradient on its slice of it; an *allreduce* sums the slices' gradients, so
every rank ends with the gradient of the whole batch and applies the same optimizer step.
After the first broadcast no weights travel, only gradients. MPI (through ``mpi4py``)
carries the bytes; nothing here is a home-made transport.

Why the summed gradient is the large-batch gradient. The loss is the mean over the batch's
n targets, L = (1/n) sum_i l_i. Cut the batch into shards S_r of n_r targets; rank r
computes its own mean L_r = (1/n_r) sum_{i in S_r} l_i. Then L = sum_r (n_r / n) L_r, and
the gradient is linear: grad L = sum_r (n_r / n) grad L_r. So each rank scales its gradient
by its share of the targets, n_r / n, and the allreduce sums. With equal shards that is the
plain average; with an uneven split (a batch of 32 on 3 ranks: 11, 11, 10 rows) or ignored
targets (GPT on words pads with -1), the weights keep the result exact.

Reading order: the world (rank, size); the shards of a batch; the ring allreduce, written
from scratch on point-to-point messages (the readable tier: a test binds it to MPI's own
Allreduce, which training uses); the gradient buckets; one data-parallel step, dropout
included; then the cost model that says when the messages, not the maths, set the pace.

Dropout. A single process draws one mask over the whole batch. Here each rank draws the
mask of the whole batch from the same generator and keeps its rows
(:func:`sharded_generators`), so the masks, the generator states in checkpoints and
therefore the run are those of one process, whatever the number of ranks. (nanoGPT instead
seeds each rank differently: as good statistically, but not the same run, and resuming on
another number of ranks would change it.) The price is that every rank draws the masks of
all ranks; with dropout 0 nothing is drawn.

BatchNorm is refused: its statistics over a shard are not those of the global batch
(PyTorch's SyncBatchNorm allreduces them; groundup does not).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from groundup._launch import launched_size
from groundup.train.checkpoint import generator_states, set_generator_states
from groundup.train.loop import _target_count

# ---------------------------------------------------------------- the world


@dataclass(frozen=True)
class World:
    """The group of processes training one model: ``size`` ranks, this one is ``rank``.

    ``comm`` is mpi4py's ``MPI.COMM_WORLD`` (or anything with its methods) when ``size > 1``;
    the one-process world has none, and its collectives return their input.
    """

    size: int = 1
    rank: int = 0
    comm: Any = None

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that writes files and prints."""
        return self.rank == 0

    def shard(self, n: int) -> tuple[int, int]:
        """This rank's rows ``[lo, hi)`` of a batch of ``n`` rows (see :func:`shard_bounds`)."""
        return shard_bounds(n, self.size, self.rank)

    def allreduce_sum(self, value: float) -> float:
        """The sum of a number over all ranks (the same on each)."""
        return value if self.size == 1 else float(self.comm.allreduce(value))

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank (pickled: small Python objects only)."""
        return obj if self.size == 1 else self.comm.bcast(obj, root=0)

    def barrier(self) -> None:
        """Wait until every rank is here."""
        if self.size > 1:
            self.comm.Barrier()


@functools.lru_cache(maxsize=1)
def world() -> World:
    """This process's :class:`World`, made once (MPI starts once per process).

    Outside ``mpiexec`` (or with ``-n 1``) it is ``World()`` and mpi4py is not imported.
    """
    size = launched_size()
    if size == 1:
        return World()
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError(
            f"mpiexec started {size} processes; training on several needs mpi4py: "
            "pip install 'groundup[mpi]'"
        ) from None
    comm = MPI.COMM_WORLD
    return World(comm.Get_size(), comm.Get_rank(), comm)


# ---------------------------------------------------------------- shards of a batch


def shard_bounds(n: int, size: int, rank: int) -> tuple[int, int]:
    """Rows ``[lo, hi)`` of a batch of ``n`` rows that ``rank`` of ``size`` takes: contiguous,
    as even as possible, the first ``n % size`` ranks one row more (``np.array_split``).

    >>> [shard_bounds(32, 3, r) for r in range(3)]
    [(0, 11), (11, 22), (22, 32)]
    """
    base, extra = divmod(n, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def shard_weights(Y: Any, size: int) -> list[float]:
    """Each rank's share ``n_r / n`` of the batch's targets (ignored -1 targets do not count);
    ValueError when a shard holds none (more ranks than rows, or a shard all padding)."""
    counts = [_target_count(Y[slice(*shard_bounds(len(Y), size, r))]) for r in range(size)]
    if min(counts) == 0:
        raise ValueError(
            f"a batch of {len(Y)} rows cannot feed {size} ranks: rank {counts.index(0)} gets "
            "no target; expected a batch size of at least one row per rank (mpiexec -n)"
        )
    total = sum(counts)
    return [c / total for c in counts]


# ---------------------------------------------------------------- ring allreduce, from scratch


def ring_allreduce(comm: Any, array: np.ndarray) -> np.ndarray:
    """The sum of ``array`` over all ranks, by the ring algorithm, on point-to-point messages.

    The ranks stand in a ring; each talks only to its neighbours. The array is cut into N
    chunks. *Reduce-scatter*: in each of N - 1 steps every rank sends one chunk to its right
    neighbour and adds the chunk arriving from its left one; after them, rank r holds the
    full sum of chunk r + 1. *All-gather*: N - 1 more steps pass the finished chunks around
    the ring. Each rank sends 2 (N - 1) chunks of size/N: about twice the array, whatever N,
    which is why the ring is bandwidth-optimal (and why its 2 (N - 1) latencies hurt at large
    N; see :func:`allreduce_seconds`). Every chunk is summed once, by one rank, and copied
    to the others, so all ranks hold bit-identical results.

    This is the readable tier; training calls MPI's ``Allreduce``, and a test checks that
    the two agree.
    """
    size, rank = comm.Get_size(), comm.Get_rank()
    out = np.array(array, copy=True).reshape(-1)
    chunks = np.array_split(out, size)  # views into out
    right, left = (rank + 1) % size, (rank - 1) % size
    incoming = np.empty_like(chunks[0])  # the first chunk is the largest
    for step in range(size - 1):  # reduce-scatter
        send, mine = chunks[(rank - step) % size], chunks[(rank - step - 1) % size]
        received = incoming[: len(mine)]
        comm.Sendrecv(send, dest=right, recvbuf=received, source=left)
        mine += received
    for step in range(size - 1):  # all-gather: chunk rank + 1 is complete; pass it on
        send, mine = chunks[(rank + 1 - step) % size], chunks[(rank - step) % size]
        comm.Sendrecv(send, dest=right, recvbuf=mine, source=left)
    return out.reshape(np.shape(array))


# ---------------------------------------------------------------- gradient buckets

BUCKET_BYTES = 25 * 2**20  # PyTorch DDP's default bucket_cap_mb: a few calls per step


class GradientBuckets:
    """The gradients of ``params`` packed into a few flat buffers of about ``bucket_bytes``.

    One allreduce per parameter would pay the network's latency once per tensor (a GPT has
    dozens); a few buckets pay it a few times. DDP also starts each bucket's allreduce as
    soon as its gradients are ready, overlapping the messages with the rest of the backward
    pass; here the backward finishes first, so the buckets only bound the number and size of
    the messages. The buffers are allocated once and reused every step.
    """

    def __init__(self, params: list[Any], bucket_bytes: int = BUCKET_BYTES) -> None:
        self.buckets: list[tuple[list[tuple[Any, int, int]], np.ndarray, np.ndarray]] = []
        by_dtype: dict[Any, list[Any]] = {}
        for p in params:
            by_dtype.setdefault(p.data.dtype, []).append(p)
        for dtype, group in by_dtype.items():
            slots: list[tuple[Any, int, int]] = []
            size = 0
            for p in group:
                slots.append((p, size, size + p.data.size))
                size += p.data.size
                if size * dtype.itemsize >= bucket_bytes:
                    self._add(slots, size, dtype)
                    slots, size = [], 0
            if slots:
                self._add(slots, size, dtype)

    def _add(self, slots: list[tuple[Any, int, int]], size: int, dtype: Any) -> None:
        self.buckets.append((slots, np.empty(size, dtype), np.empty(size, dtype)))

    def allreduce_(self, world: World, scale: float) -> None:
        """Every ``p.grad`` becomes the sum over ranks of ``scale * p.grad`` (in place).

        A parameter without a gradient sends zeros and keeps None (the model is the same on
        every rank, so the same parameters lack one everywhere).
        """
        for slots, send, received in self.buckets:
            for p, lo, hi in slots:
                if p.grad is None:
                    send[lo:hi] = 0
                else:
                    np.multiply(p.grad.reshape(-1), scale, out=send[lo:hi])
            world.comm.Allreduce(send, received)  # MPI's SUM, the default op
            for p, lo, hi in slots:
                if p.grad is not None:
                    p.grad[...] = received[lo:hi].reshape(p.grad.shape)


def broadcast_model(model: Any, world: World) -> None:
    """Give every rank rank 0's weights, buffers and random generator states (in place), so
    that all start from the same point even if their models were built differently."""
    if world.size == 1:
        return
    for array in [p.data for p in model.parameters()] + [b.data for b in model.buffers()]:
        world.comm.Bcast(array, root=0)
    set_generator_states(model, world.broadcast(generator_states(model)))


# ---------------------------------------------------------------- one data-parallel step


class _RowsOfBatch(np.random.Generator):
    """A Generator that, asked for ``random`` numbers shaped like this rank's rows, draws
    them for the whole batch and returns this rank's rows: the stream advances as in one
    process. It shares the original's bit generator, so the states saved are the same."""

    lo: int
    hi: int
    batch: int

    def random(self, size: Any = None, dtype: Any = np.float64, out: Any = None) -> Any:
        shape = (size,) if isinstance(size, (int, np.integer)) else size
        if out is None and shape and shape[0] == self.hi - self.lo:
            return super().random((self.batch, *shape[1:]), dtype=dtype)[self.lo : self.hi]
        return super().random(size, dtype=dtype, out=out)


def _generators(model: Any) -> list[tuple[Any, str, np.random.Generator]]:
    """(module, attribute, generator) for every Generator the model's modules hold
    (Dropout's, attention's); one generator may appear under several."""
    return [(module, attr, value) for module in model.modules()
            for attr, value in list(vars(module).items())
            if isinstance(value, np.random.Generator)]  # fmt: skip


@contextlib.contextmanager
def sharded_generators(model: Any, lo: int, hi: int, batch: int) -> Iterator[None]:
    """Within the block, every Generator the model's modules hold (Dropout's, attention's)
    draws batch-shaped masks for the whole batch and keeps rows ``[lo, hi)``."""
    swapped, wrappers = [], {}
    for module, attr, value in _generators(model):
        if id(value) not in wrappers:  # one wrapper per generator: a shared one stays
            wrapper = _RowsOfBatch(value.bit_generator)  # shared
            wrapper.lo, wrapper.hi, wrapper.batch = lo, hi, batch
            wrappers[id(value)] = wrapper
        swapped.append((module, attr, value))
        setattr(module, attr, wrappers[id(value)])
    try:
        yield
    finally:
        for module, attr, value in swapped:
            setattr(module, attr, value)


class DataParallel:
    """What one rank does in each training step (``train(..., world=world)`` builds it when
    the world has several ranks): take its shard of the global batch, compute the loss and
    the gradient there, scale them by its share of the targets, and sum both over the ranks.

    Building it checks the model and broadcasts rank 0's weights.
    """

    def __init__(self, model: Any, params: list[Any], world: World) -> None:
        from groundup.nn.layers import BatchNorm1d

        if any(isinstance(m, BatchNorm1d) for m in model.modules()):
            raise ValueError(
                f"BatchNorm on {world.size} ranks would use each shard's statistics, not the "
                "batch's; train it in one process (data parallelism refuses BatchNorm)"
            )
        self.model, self.world = model, world
        unique = list({id(p): p for p in params}.values())  # a tied weight once
        self.buckets = GradientBuckets(unique)
        broadcast_model(model, world)

    def backward(self, X: Any, Y: Any, loss_fn: Any = None) -> float:
        """Forward and backward on this rank's rows of the global batch ``(X, Y)``; after it
        every parameter's ``.grad`` holds the gradient of the whole batch, the same on every
        rank. Returns the loss of the whole batch."""
        from groundup.train.shards import forward_backward  # it builds on this module

        weights = shard_weights(Y, self.world.size)
        lo, hi = self.world.shard(len(Y))
        with sharded_generators(self.model, lo, hi, len(Y)):  # over the rank's threads too
            loss = forward_backward(self.model, X[lo:hi], Y[lo:hi], loss_fn)
        weight = weights[self.world.rank]
        self.buckets.allreduce_(self.world, weight)
        return self.world.allreduce_sum(loss * weight)


# ---------------------------------------------------------------- the cost model


def allreduce_seconds(
    n_bytes: float, world_size: int, latency: float = 5e-6, bandwidth: float = 12.5e9
) -> float:
    """Time of a ring allreduce of ``n_bytes`` over ``world_size`` workers:

        T = 2 (N - 1) * latency + 2 (N - 1) / N * n_bytes / bandwidth

    (2 (N - 1) steps, each paying the latency once and moving a chunk of n_bytes / N).
    Defaults: a 100 Gb/s InfiniBand-class network, 5 us per message, 12.5 GB/s.
    """
    if world_size == 1:
        return 0.0
    steps = 2 * (world_size - 1)
    return steps * latency + steps / world_size * n_bytes / bandwidth


def step_seconds(
    num_parameters: int,
    tokens: int,
    world_size: int,
    flops: float = 10e12,
    latency: float = 5e-6,
    bandwidth: float = 12.5e9,
    bytes_per_gradient: float = 4,
) -> dict[str, float]:
    """One data-parallel step of a global batch of ``tokens`` over ``world_size`` workers:
    ``{"compute": s, "latency": s, "bandwidth": s, "comm_share": fraction}``.

    Compute is 6 FLOPs per parameter per token (2 forward, 4 backward; Kaplan et al. 2020)
    on the worker's ``tokens / N``, at ``flops`` per second (default 10 TFLOP/s: a GPU at
    modest utilisation); communication is one allreduce of every gradient, not overlapped
    with the backward pass (DDP overlaps them, which hides up to the backward's share).
    """
    compute = 6 * num_parameters * (tokens / world_size) / flops
    comm = allreduce_seconds(num_parameters * bytes_per_gradient, world_size, latency, bandwidth)
    wait = allreduce_seconds(0, world_size, latency, bandwidth)  # the latency part alone
    return {
        "compute": compute,
        "latency": wait,
        "bandwidth": comm - wait,
        "comm_share": comm / (compute + comm),
    }


def comm_dominates_from(num_parameters: int, tokens: int, **hardware: float) -> int:
    """The smallest number of workers (a power of 2) at which a step spends more time
    communicating than computing."""
    n = 1
    while step_seconds(num_parameters, tokens, n, **hardware)["comm_share"] <= 0.5:
        n *= 2
    return n


# the sizes of docs/distributed.md's table: parameters at their vocabularies
COST_SIZES = {"baby": 809_856, "lecture": 10_770_816, "gpt2 (small)": 124_439_808}
COST_TOKENS = 2**19  # GPT-2's batch: 512 sequences of 1,024 tokens
COST_WORKERS = (8, 64, 1024)


def cost_table(tokens: int = COST_TOKENS, **hardware: float) -> str:
    """The cost model as a Markdown table (docs/distributed.md prints it; a test checks the
    page against this function)."""
    lines = [
        "| model | parameters | workers | compute | latency | bandwidth | communication share |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, params in COST_SIZES.items():
        for n in COST_WORKERS:
            s = step_seconds(params, tokens, n, **hardware)
            lines.append(
                f"| {name} | {params:,} | {n:,} | {_ms(s['compute'])} | {_ms(s['latency'])} "
                f"| {_ms(s['bandwidth'])} | {s['comm_share']:.0%} |"
            )
    return "\n".join(lines) + "\n"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:,.0f} us"
