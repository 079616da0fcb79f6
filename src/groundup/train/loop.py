"""The training loop: an importable function, not a script.

    history = train(model, batches, optimizer, TrainConfig(max_steps=1000, lr=3e-4))

Each step: set the learning rate from the schedule, draw ``batches.get("train", step)``,
forward, backward, clip, update. Every ``eval_interval`` steps (and at the last step) the
model is evaluated on ``eval_batches`` fixed batches of "val" (or, with ``eval_batches=None``,
on the whole split). The loop never prints and
draws no random numbers of its own: the batches are a function of (seed, step) and the
model's dropout generators are saved in checkpoints, so a run resumed from step k
(``train(..., start_step=k, history=h)``) continues exactly like the uninterrupted run.

The model is called as ``model(X, Y)`` and must return the loss, or ``(logits, loss)``
(the language-model contract). Anything else: pass ``loss_fn(model, X, Y) -> loss``.

With a BLAS of several threads, each step's forward and backward run over them, a shard of
the batch's rows on each (:mod:`groundup.train.shards`). Under ``mpiexec``,
``train(..., world=distributed.world())`` is data-parallel: each rank computes on its rows
of the same global batch and the gradients are summed before the one step
(:mod:`groundup.train.distributed`); the losses and weights are those of one process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from groundup._check import non_negative_int, positive_int
from groundup.nn.module import evaluating
from groundup.optim import clip_grad_norm_, lr_scheduler

# ---------------------------------------------------------------- configuration


@dataclass
class TrainConfig:
    """How to train; saved in config.json under "training"."""

    max_steps: int = 1000  # optimisation steps of the whole run (a resumed run counts from 0)
    lr: float = 1e-3  # the peak learning rate; the schedule scales it, and the loop writes it
    #                   into every parameter group (the optimiser's own lr is overwritten)
    schedule: str = "constant"  # "constant", "step_decay" or "warmup_cosine"
    warmup_steps: int = 0  # warmup_cosine: steps of linear ramp-up (a cold Adam is unstable)
    min_lr: float = 0.0  # warmup_cosine: the floor the cosine reaches (nanoGPT: lr / 10)
    decay_steps: int | None = None  # warmup_cosine: where the cosine ends (None: max_steps)
    step_size: int | None = None  # step_decay: steps between drops (None: max_steps // 2)
    gamma: float = 0.1  # step_decay: the factor of each drop (makemore: 0.1 -> 0.01)
    grad_clip: float | None = None  # max global gradient norm (None: no clipping)
    eval_interval: int = 0  # evaluate every this many steps (0: only after the last step)
    eval_batches: int | None = 20  # batches per evaluation; None: the whole split; 0: off
    log_interval: int = 1  # keep a history row every this many steps
    seed: int = 0  # the run's seed, for the record (model init and batches take it)

    def __post_init__(self) -> None:
        for name in ("max_steps", "log_interval"):
            value = getattr(self, name)
            setattr(self, name, positive_int(value, name))
        for name in ("warmup_steps", "eval_interval", "eval_batches"):
            value = getattr(self, name)
            if name == "eval_batches" and value is None:
                continue
            setattr(self, name, non_negative_int(value, name))
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be positive or None, got {self.grad_clip!r}")
        lr_scheduler.get_schedule(self.schedule)  # raises on an unknown name
        self.lr_at(0)  # raises on inconsistent schedule parameters

    def lr_at(self, step: int) -> float:
        """The learning rate of ``step`` under this config's schedule."""
        if self.schedule == "warmup_cosine":
            decay = self.max_steps if self.decay_steps is None else self.decay_steps
            return lr_scheduler.warmup_cosine(step, self.lr, self.warmup_steps, decay, self.min_lr)
        if self.schedule == "step_decay":
            size = self.step_size if self.step_size is not None else max(1, self.max_steps // 2)
            return lr_scheduler.step_decay(step, self.lr, size, self.gamma)
        return lr_scheduler.constant(step, self.lr)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Rebuild from ``to_dict()``; unknown keys raise (a typo should not pass silently)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"TrainConfig: unknown fields {unknown}; known: {sorted(known)}")
        return cls(**d)


# ---------------------------------------------------------------- history

COLUMNS = ("step", "train_loss", "val_loss", "lr", "grad_norm", "items_per_sec", "seconds")


@dataclass
class History:
    """One row per logged step, as parallel lists (ready for plotting).

    ``val_loss`` and ``grad_norm`` hold None where not measured. ``items_per_sec`` counts
    targets: tokens for language models, examples for classifiers. ``seconds`` is the wall
    time since the run began (continued across resumes).
    """

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    grad_norm: list[float | None] = field(default_factory=list)
    items_per_sec: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def append(self, row: dict[str, Any]) -> None:
        for name in COLUMNS:
            getattr(self, name).append(row.get(name))

    def __len__(self) -> int:
        return len(self.step)

    def rows(self) -> list[dict[str, Any]]:
        return [
            dict(zip(COLUMNS, values, strict=True)) for values in zip(*self._columns(), strict=True)
        ]

    def _columns(self) -> list[list[Any]]:
        return [getattr(self, name) for name in COLUMNS]

    def val_curve(self) -> tuple[list[int], list[float]]:
        """(steps, val losses) where the model was evaluated."""
        pairs = [(s, v) for s, v in zip(self.step, self.val_loss, strict=True) if v is not None]
        return [s for s, _ in pairs], [v for _, v in pairs]

    def loss_series(self) -> dict[str, tuple[list[int], list[float]]]:
        """``{"train": (steps, losses), "val": (steps, losses)}``, the input of
        ``groundup.viz.plots.plot_loss_curve`` (val only when evaluated)."""
        series = {"train": (list(self.step), list(self.train_loss))}
        if any(v is not None for v in self.val_loss):
            series["val"] = self.val_curve()
        return series

    @property
    def best_val_loss(self) -> float | None:
        _, losses = self.val_curve()
        return min(losses) if losses else None

    def truncate(self, step: int) -> History:
        """The rows before ``step`` (for resuming from a checkpoint taken at ``step``)."""
        keep = sum(1 for s in self.step if s < step)
        return History(*[col[:keep] for col in self._columns()])

    def to_dict(self) -> dict[str, list[Any]]:
        return {name: list(getattr(self, name)) for name in COLUMNS}

    @classmethod
    def from_dict(cls, d: dict[str, list[Any]]) -> History:
        return cls(**{name: list(d.get(name, [])) for name in COLUMNS})

    def to_csv(self) -> str:
        """CSV text, header first; empty cells where None; floats written with repr (exact)."""
        lines = [",".join(COLUMNS)]
        for row in self.rows():
            lines.append(",".join("" if row[c] is None else repr(row[c]) for c in COLUMNS))
        return "\n".join(lines) + "\n"

    @classmethod
    def from_csv(cls, text: str) -> History:
        lines = text.strip().splitlines()
        header = lines[0].split(",") if lines else []
        if tuple(header) != COLUMNS:
            raise ValueError(f"history.csv: header {header} differs from {list(COLUMNS)}")
        history = cls()
        for line in lines[1:]:
            cells = line.split(",")
            row: dict[str, Any] = {
                c: (None if v == "" else float(v)) for c, v in zip(COLUMNS, cells, strict=True)
            }
            row["step"] = int(cells[0])
            history.append(row)
        return history


# ---------------------------------------------------------------- evaluation


def _target_count(Y: Any) -> int:
    """How many targets a batch holds: integer targets of -1 are padding (ignored)."""
    Y = np.asarray(Y)
    return int(np.count_nonzero(Y != -1)) if Y.dtype.kind in "iu" else int(Y.size)


def _loss_of(model: Any, X: Any, Y: Any, loss_fn: Callable | None) -> Any:
    if loss_fn is not None:
        loss = loss_fn(model, X, Y)
    else:
        out = model(X, Y)
        loss = out[1] if isinstance(out, tuple) else out
    if loss is None:
        who = "loss_fn(model, X, Y)" if loss_fn is not None else "model(X, Y)"
        raise ValueError(f"{who} returned no loss; pass loss_fn(model, X, Y) -> loss Tensor")
    return loss


def evaluate(
    model: Any,
    batches: Any,
    split: str = "val",
    num_batches: int | None = 20,
    loss_fn: Callable | None = None,
    world: Any = None,
) -> float:
    """Mean loss of ``model`` on ``split``, under ``no_grad`` and in eval mode.

    ``num_batches=n`` averages ``batches.get(split, i)`` for ``i < n`` (the same batches at
    every call, so successive evaluations are comparable); ``num_batches=None`` covers the
    whole split once through ``batches.iter_split(split)``. Each batch weighs by its number
    of targets (integer targets of -1, the padding language models ignore, do not count).
    The model's train/eval mode is restored afterwards. With a ``world`` of several ranks
    (:mod:`groundup.train.distributed`) each rank evaluates its rows of every batch and the
    sums are added up: every rank returns the loss one process would.
    """
    if num_batches is None:
        if not hasattr(batches, "iter_split"):
            raise ValueError("num_batches=None needs batches with iter_split(split)")
        chunks: Any = batches.iter_split(split)
    else:
        if num_batches < 1:
            raise ValueError(f"num_batches must be a positive int or None, got {num_batches}")
        chunks = (batches.get(split, i) for i in range(num_batches))
    sharded = world is not None and world.size > 1
    total, count = 0.0, 0
    with evaluating(model):
        for X, Y in chunks:
            if sharded:
                lo, hi = world.shard(len(Y))
                X, Y = X[lo:hi], Y[lo:hi]
            n = _target_count(Y)
            if n:  # an empty shard (a batch smaller than the world) adds nothing
                total += float(_loss_of(model, X, Y, loss_fn).item()) * n
                count += n
    if sharded:
        total, count = world.allreduce_sum(total), int(world.allreduce_sum(count))
    if count == 0:
        raise ValueError(f"evaluate: split {split!r} gave no batches")
    return total / count


# ---------------------------------------------------------------- training


def train(
    model: Any,
    batches: Any,
    optimizer: Any,
    config: TrainConfig,
    on_step: Callable[[dict[str, Any]], None] | None = None,
    on_eval: Callable[[int, float, History], None] | None = None,
    *,
    start_step: int = 0,
    history: History | None = None,
    loss_fn: Callable | None = None,
    world: Any = None,
) -> History:
    """Train ``model`` for steps ``start_step .. config.max_steps - 1``; return the History.

    Args:
        model: a Module; ``model(X, Y)`` returns the loss or ``(logits, loss)``.
        batches: anything with ``get(split, step) -> (X, Y)`` (see groundup.train.batches).
        optimizer: a groundup.optim optimiser over the model's parameters.
        config: the TrainConfig (schedule, clipping, evaluation, logging).
        on_step: called after every step with a dict (step, train_loss, lr, grad_norm,
            items_per_sec, seconds, val_loss or None): the CLI's progress bar hooks here.
        on_eval: called after every evaluation as ``on_eval(step, val_loss, history)``,
            e.g. a :class:`~groundup.train.checkpoint.Checkpointer`.
        start_step: where to resume; ``history`` the history so far (rows before it).
        loss_fn: ``loss_fn(model, X, Y) -> loss`` for models without the (X, Y) contract.
        world: a :class:`~groundup.train.distributed.World` of several ranks (``mpiexec``)
            trains data-parallel: every rank draws the global batch of each step, computes
            on its rows, and the gradients are summed before the same step everywhere (the
            losses and weights are those of one process). None or one rank: this process.
    """
    if not 0 <= start_step <= config.max_steps:
        raise ValueError(f"start_step must be in [0, {config.max_steps}], got {start_step}")
    history = History() if history is None else history
    evaluating = config.eval_batches != 0 and "val" in getattr(batches, "splits", ("val",))
    last = config.max_steps - 1
    parallel = None
    from groundup.train.shards import forward_backward  # it builds on this module

    if world is not None and world.size > 1:  # only then: one process never imports MPI
        from groundup.train.distributed import DataParallel

        params = [p for g in optimizer.param_groups for p in g["params"]]
        parallel = DataParallel(model, params, world)
    model.train()
    offset = history.seconds[-1] if history.seconds else 0.0
    t0 = time.perf_counter()
    t_log, items = t0, 0
    for step in range(start_step, config.max_steps):
        lr = config.lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        X, Y = batches.get("train", step)
        if parallel is None:  # over the BLAS's threads, a shard of rows each, when it pays
            optimizer.zero_grad()
            train_loss = forward_backward(model, X, Y, loss_fn)
        else:  # this rank's rows, then the gradients of the whole batch summed over ranks
            optimizer.zero_grad()
            train_loss = parallel.backward(X, Y, loss_fn)
        grad_norm = None
        if config.grad_clip is not None:
            params = [p for g in optimizer.param_groups for p in g["params"]]
            grad_norm = clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        if not math.isfinite(train_loss):
            raise FloatingPointError(
                f"train loss became {train_loss} at step {step} (lr {lr:g}); lower lr or "
                "set grad_clip"
            )
        items += int(np.size(Y))
        now = time.perf_counter()
        row = {"step": step, "train_loss": train_loss, "val_loss": None, "lr": lr,
               "grad_norm": grad_norm, "items_per_sec": items / max(now - t_log, 1e-9),
               "seconds": offset + now - t0}  # fmt: skip
        interval = config.eval_interval or config.max_steps
        if evaluating and (step % interval == interval - 1 or step == last):
            row["val_loss"] = evaluate(model, batches, "val", config.eval_batches, loss_fn, world)
        if row["val_loss"] is not None or step % config.log_interval == 0 or step == last:
            history.append(row)
            t_log, items = time.perf_counter(), 0
        if on_step is not None:
            on_step(row)
        if row["val_loss"] is not None and on_eval is not None:
            on_eval(step, row["val_loss"], history)
    return history
