"""One training step's forward and backward, split by rows over the BLAS's threads.

    optimizer.zero_grad()
    loss = forward_backward(model, X, Y)   # what loss = model(X, Y)[1]; loss.backward() does

With one BLAS thread this is exactly that. With n > 1 (``OPENBLAS_NUM_THREADS``), the batch
is cut into n shards of rows, and each thread runs the forward and the backward of its shard
with a BLAS of one thread (:func:`groundup.tensor.threads.spread`): data parallelism, as
:mod:`groundup.train.distributed` does over processes, but over threads that share the model,
so there is nothing to send. The gradients of all shards are added into the same ``.grad``
arrays (the engine adds into a leaf's under a lock).

Why. A product split over two BLAS threads runs on both cores, but the work between products
(layer norm, GELU, softmax, the optimizer's loops) runs on the caller's thread alone, and a
kernel of a millisecond is too short to repay handing half of it to a second thread. Shards
hand over once per step: every kernel of the step runs on both cores, each on its rows.

Why the sum is the batch's gradient: each shard's loss is the mean over its n_r targets, so
the batch's is sum_r (n_r / n) L_r, and each shard backpropagates from its weight n_r / n
(:func:`groundup.train.distributed.shard_weights`; padding targets of -1 do not count). The
result is the batch's gradient up to the order of the additions, so the last bits differ
from one thread's. Two shards give the same bits every time (a + b is b + a); from three
on, the order in which the shards' gradients arrive, and so the last bits, may vary from
run to run.

Dropout: one thread draws each mask for the whole batch, from the model's generators, in
the forward's order. Here each shard draws from its own copy of every generator the whole
batch's masks and keeps its rows (as the ranks of :mod:`groundup.train.distributed` do), so
the masks, and the generators' states after the step (what checkpoints save), are one
thread's. The price: every shard makes all the draws. (Only ``random`` of a shard's rows,
as dropout draws, is widened to the batch's; any other draw each shard makes alike from its
copy, deterministic but not one thread's.)

A step runs in one piece, as on one thread, when the BLAS has one thread, when the model is
not on the CPU, when it is too small for the hand-over to pay (under :data:`SHARD_FLOPS`),
when a shard would get no target, and when the model has a BatchNorm (its statistics over
a shard are not the batch's).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from groundup.nn.layers import BatchNorm1d
from groundup.tensor.threads import blas_threads, spread
from groundup.train.distributed import _generators, _RowsOfBatch, shard_bounds, shard_weights
from groundup.train.loop import _loss_of, _target_count

__all__ = ["SHARD_FLOPS", "forward_backward", "shard_count"]

SHARD_FLOPS = 2**31  # 6 * parameters * targets a step must reach before it is split


def shard_count(model: Any, X: Any, Y: Any) -> int:
    """How many shards :func:`forward_backward` cuts the batch ``(X, Y)`` into (1: none)."""
    n = min(blas_threads(), len(Y))
    if n <= 1:
        return 1
    params = list(model.parameters())
    if not params or not all(type(p.data) is np.ndarray for p in params):
        return 1
    if 6 * sum(p.data.size for p in params) * np.size(Y) < SHARD_FLOPS:
        return 1
    if any(isinstance(m, BatchNorm1d) for m in model.modules()):
        return 1
    bounds = [shard_bounds(len(Y), n, r) for r in range(n)]
    if min(_target_count(Y[lo:hi]) for lo, hi in bounds) == 0:
        return 1
    return n


# ---------------------------------------------------------------- dropout masks

_SHARD = threading.local()  # .copies: the running shard's own copy of each generator


class _ShardsGenerator(np.random.Generator):
    """Stands in for one of the model's generators while the shards run: every draw comes
    from the running shard's own copy of it (``_SHARD.copies``)."""

    def __init__(self, original: np.random.Generator) -> None:
        super().__init__(original.bit_generator)
        self.key = id(original)


def _forward_to_the_shards_copy(name: str) -> Callable[..., Any]:
    def draw(self: _ShardsGenerator, *args: Any, **kwargs: Any) -> Any:
        return getattr(_SHARD.copies[self.key], name)(*args, **kwargs)

    draw.__name__ = name
    return draw


for _name in ("random", "integers", "standard_normal", "normal", "uniform", "choice",
              "permutation", "shuffle", "binomial", "bytes"):  # fmt: skip
    setattr(_ShardsGenerator, _name, _forward_to_the_shards_copy(_name))


def _copy_for(g: np.random.Generator, lo: int, hi: int, batch: int) -> _RowsOfBatch:
    """A shard's own copy of ``g``: it draws masks for the whole batch and keeps rows
    [lo, hi), as one thread's draws would have come. When ``g`` already keeps a rank's rows
    of a larger batch (:func:`groundup.train.distributed.sharded_generators`), the shard's
    rows are rows of those."""
    rows = _RowsOfBatch(copy.deepcopy(g.bit_generator))
    if isinstance(g, _RowsOfBatch):
        rows.lo, rows.hi, rows.batch = g.lo + lo, g.lo + hi, g.batch
    else:
        rows.lo, rows.hi, rows.batch = lo, hi, batch
    return rows


@contextlib.contextmanager
def _shard_generators(model: Any, bounds: list[tuple[int, int]]) -> Iterator[list[dict]]:
    """Within the block, the model's generators draw from each running shard's copy (the
    list yielded: a dict per shard, id of the generator -> copy, for the shard to set as
    ``_SHARD.copies``). Every copy makes the draws of the whole batch, so all end where one
    thread's generator would; on success, the generators are set to that state."""
    held = _generators(model)  # every draw from them goes to the shard's copy, never shared
    if not held:
        yield [{} for _ in bounds]
        return
    originals = {id(g): g for _, _, g in held}
    copies = [{key: _copy_for(g, lo, hi, bounds[-1][1]) for key, g in originals.items()}
              for lo, hi in bounds]  # fmt: skip
    stand_ins = {key: _ShardsGenerator(g) for key, g in originals.items()}
    for module, attr, g in held:
        setattr(module, attr, stand_ins[id(g)])
    try:
        yield copies
        for key, g in originals.items():
            g.bit_generator.state = copies[0][key].bit_generator.state
    finally:
        for module, attr, g in held:
            setattr(module, attr, g)


# ---------------------------------------------------------------- one step


def forward_backward(model: Any, X: Any, Y: Any, loss_fn: Callable | None = None) -> float:
    """The loss of the batch ``(X, Y)``, its gradient added into every parameter's ``.grad``.

    ``model(X, Y)`` returns the loss or ``(logits, loss)``, or ``loss_fn(model, X, Y)`` does,
    as in :func:`groundup.train.loop.train`. Over :func:`shard_count` threads when that is
    more than one (see the module's docstring), else in one piece on this thread.
    """
    n = shard_count(model, X, Y)
    if n == 1:
        loss = _loss_of(model, X, Y, loss_fn)
        loss.backward()
        return float(loss.item())
    weights = shard_weights(Y, n)
    bounds = [shard_bounds(len(Y), n, r) for r in range(n)]
    losses = [0.0] * n

    def shard(r: int, copies: dict[int, Any]) -> None:
        lo, hi = bounds[r]
        _SHARD.copies = copies
        try:
            loss = _loss_of(model, X[lo:hi], Y[lo:hi], loss_fn)
        finally:
            _SHARD.copies = None  # the masks are drawn; the backward draws nothing
        loss.backward(np.full(loss.shape, weights[r], dtype=loss.data.dtype))
        losses[r] = float(loss.item()) * weights[r]

    with _shard_generators(model, bounds) as copies:
        spread([functools.partial(shard, r, copies[r]) for r in range(n)])
    return sum(losses)
