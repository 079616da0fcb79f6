"""Learning-rate schedules as plain functions of the step number.

A schedule is just ``lr_at_step = f(step, lr, ...)``; the training loop writes the value into
every parameter group before each update. No scheduler objects, no hidden state, so a
resumed run needs nothing but its step number to continue on the same curve.

* :func:`constant`: ``lr`` throughout.
* :func:`step_decay`: ``lr * gamma ** (step // step_size)`` (makemore: 0.1, then 0.01).
* :func:`warmup_cosine`: linear warmup, then a half cosine down to ``min_lr`` (nanoGPT).
"""

from __future__ import annotations

import math
from collections.abc import Callable


def constant(step: int, lr: float) -> float:
    """``constant(500, 0.1) -> 0.1``."""
    return lr


def step_decay(step: int, lr: float, step_size: int, gamma: float = 0.1) -> float:
    """Multiply ``lr`` by ``gamma`` every ``step_size`` steps.

    ``step_decay(99, 0.1, 100, 0.1) -> 0.1``; ``step_decay(100, 0.1, 100, 0.1) -> 0.01``.
    """
    if step_size < 1:
        raise ValueError(f"step_size must be a positive int, got {step_size}")
    return lr * gamma ** (step // step_size)


def warmup_cosine(
    step: int, lr: float, warmup_steps: int, max_steps: int, min_lr: float = 0.0
) -> float:
    """Linear warmup to ``lr`` over ``warmup_steps``, then cosine decay to ``min_lr`` at
    ``max_steps``; ``min_lr`` afterwards (nanoGPT's ``get_lr``).

    Warmup is ``lr * (step + 1) / (warmup_steps + 1)`` so that step 0 already moves a little;
    the decay is ``min_lr + (lr - min_lr) * (1 + cos(pi * ratio)) / 2`` with ``ratio`` going
    from 0 at the end of warmup to 1 at ``max_steps``.
    ``warmup_cosine(10, 1.0, 10, 20, 0.0) -> 1.0``; ``warmup_cosine(15, 1.0, 10, 20) -> 0.5``.
    """
    if warmup_steps < 0 or max_steps < warmup_steps:
        raise ValueError(
            f"need 0 <= warmup_steps <= max_steps, got warmup_steps={warmup_steps}, "
            f"max_steps={max_steps}"
        )
    if not 0 <= min_lr <= lr:
        raise ValueError(f"need 0 <= min_lr <= lr, got min_lr={min_lr}, lr={lr}")
    if step < warmup_steps:
        return lr * (step + 1) / (warmup_steps + 1)
    if step >= max_steps:
        return min_lr
    ratio = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * ratio))


SCHEDULES: dict[str, Callable[..., float]] = {
    "constant": constant,
    "step_decay": step_decay,
    "warmup_cosine": warmup_cosine,
}


def get_schedule(name: str) -> Callable[..., float]:
    """The schedule function called ``name`` (one of :data:`SCHEDULES`)."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {name!r}")
    return SCHEDULES[name]
