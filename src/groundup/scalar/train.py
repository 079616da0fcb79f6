"""Training a scalar MLP: the max-margin loss and plain gradient descent.

The moons demo of the original micrograd: every point is a list of two Values, the
loss is the SVM hinge ``relu(1 - y * score)`` averaged over points plus a little L2,
and each step nudges every parameter against its gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from groundup.scalar.engine import Value
from groundup.scalar.nn import Module


def hinge_loss(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    alpha: float = 1e-4,
    parameters: Sequence[Value] | None = None,
) -> tuple[Value, float]:
    """Max-margin loss of ``model`` on points ``X`` with labels ``y`` in {-1, +1}.

    loss = mean_i relu(1 - y_i * score_i) + alpha * sum_p p^2

    A point costs nothing once it is on the right side with a margin of 1; the L2 term
    keeps the weights small. Returns the loss (a Value to call ``backward`` on) and the
    accuracy (fraction of points whose score has the sign of their label).
    """
    X = X.tolist() if hasattr(X, "tolist") else X  # numpy rows -> Python floats (faster)
    y = y.tolist() if hasattr(y, "tolist") else y
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(
            f"X and y must be non-empty and of equal length, got {len(X)} and {len(y)}"
        )
    scores = [model([Value(xi) for xi in row]) for row in X]
    losses = [(1 - yi * score).relu() for yi, score in zip(y, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    params = model.parameters() if parameters is None else parameters
    reg_loss = alpha * sum(p * p for p in params)
    accuracy = sum((yi > 0) == (score.data > 0) for yi, score in zip(y, scores, strict=True)) / len(
        y
    )
    return data_loss + reg_loss, accuracy


def fit(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    steps: int = 100,
    lr: float = 1.0,
    alpha: float = 1e-4,
    on_step: Callable[[dict[str, float]], None] | None = None,
    start_step: int = 0,
) -> list[dict[str, float]]:
    """Full-batch gradient descent with the hinge loss; returns the history, one dict a step.

    The learning rate decays linearly from ``lr`` to ``0.1 * lr`` (the original micrograd
    demo's schedule): big steps to get going, small ones to settle.
    Each history row: ``{"step", "loss", "accuracy", "lr"}`` (loss and accuracy measured
    before that step's update). ``on_step(row)`` is called after each step. ``start_step``
    continues a run that stopped after that many steps (the rows returned are the new ones).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    params = model.parameters()
    history: list[dict[str, float]] = []
    for step in range(start_step, steps):
        loss, accuracy = hinge_loss(model, X, y, alpha=alpha, parameters=params)
        model.zero_grad()
        loss.backward()
        step_lr = lr * (1.0 - 0.9 * step / steps)
        for p in params:
            p.data -= step_lr * p.grad
        row = {"step": step, "loss": loss.data, "accuracy": accuracy, "lr": step_lr}
        del loss  # free this step's graph now, before the next step builds its own
        history.append(row)
        if on_step is not None:
            on_step(row)
    return history


def accuracy(model: Any, X: Sequence, y: Sequence) -> float:
    """Fraction of points classified right (sign of the score equals the label)."""
    X = X.tolist() if hasattr(X, "tolist") else X
    y = y.tolist() if hasattr(y, "tolist") else y
    right = sum((yi > 0) == (_data(model(list(row))) > 0) for row, yi in zip(X, y, strict=True))
    return right / len(y)


def one_neuron_graph(model: Any, points: Sequence[Sequence[float]]) -> Value:
    """One hidden neuron of `model` on one input point, labelled (x1.., w1.., b, out) and
    back-propagated: the small graph a learner can read, data and grads filled, spelled in
    ``+`` and ``*`` (``Neuron.spelled_out``) rather than training's single ``dot`` node.

    The neuron and the point are the first pair (first-layer neurons in order, then the
    points) where the neuron is *live*: a ReLU at zero passes no gradient, and a graph of
    zero gradients would show nothing flowing back. With no live pair, the first neuron on
    the first point. The model's gradients are zeroed first and hold this one backward
    afterwards."""
    neurons = model.layers[0].neurons
    neuron, point = next(
        ((n, p) for n in neurons for p in points if n([float(v) for v in p]).data > 0),
        (neurons[0], points[0]),
    )
    for i, w in enumerate(neuron.w):
        w.label = f"w{i + 1}"
    neuron.b.label = "b"
    x = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(point)]
    out = neuron.spelled_out(x)
    out.label = "out"
    model.zero_grad()
    out.backward()
    return out


def _data(score: Value | float) -> float:
    return score.data if isinstance(score, Value) else float(score)
