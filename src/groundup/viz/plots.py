"""Plots shared by the stages: loss curves, and the decision boundary of a 2-D classifier.

matplotlib is imported inside each function (``pip install 'groundup[viz]'``), and
figures are made with ``matplotlib.figure.Figure`` directly: no pyplot, no global state,
no window; they display in notebooks and save headless.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from groundup.viz.figures import new_figure

Series = Sequence[float] | Mapping[str, Sequence[float] | tuple[Sequence[float], Sequence[float]]]


def _save(fig: Any, path: str | Path | None) -> None:
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)


def plot_loss_curve(
    series: Series,
    path: str | Path | None = None,
    title: str | None = None,
    ylabel: str = "loss",
    logy: bool = False,
) -> Any:
    """Plot one or more curves against the step; returns the matplotlib Figure.

    Args:
        series: a list of y values (x = 0, 1, 2, ...), or a dict ``name -> ys`` or
            ``name -> (xs, ys)`` for several labelled curves (e.g. train and val loss
            measured at different steps).
        path: where to save the picture (PNG, SVG, PDF by suffix); None saves nothing.
        title: the figure title.
        ylabel: the y axis label.
        logy: log scale on y (losses that fall by orders of magnitude).

    Example:
        >>> fig = plot_loss_curve({"train": [3.2, 2.5, 2.1], "val": ([0, 2], [3.3, 2.4])})
    """
    curves = _as_curves(series)
    fig = new_figure((6.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for name, (xs, ys) in curves.items():
        ax.plot(xs, ys, label=name, marker="o" if len(xs) < 30 else None, markersize=3)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(curves) > 1 or next(iter(curves)) != "":
        ax.legend()
    ax.grid(alpha=0.3)
    _save(fig, path)
    return fig


def _as_curves(series: Series) -> dict[str, tuple[list[float], list[float]]]:
    """Normalise the accepted forms of ``series`` to ``{name: (xs, ys)}``."""
    if isinstance(series, Mapping):
        if not series:
            raise ValueError("series must hold at least one curve, got an empty dict")
        curves = {}
        for name, curve in series.items():
            if isinstance(curve, tuple) and len(curve) == 2 and _is_sequence(curve[0]):
                xs, ys = list(curve[0]), list(curve[1])  # type: ignore[arg-type]
                if len(xs) != len(ys):
                    raise ValueError(f"series[{name!r}]: {len(xs)} x values but {len(ys)} y")
            else:
                ys = list(curve)  # type: ignore[arg-type]
                xs = list(range(len(ys)))
            curves[str(name)] = (xs, ys)
        return curves
    ys = list(series)
    if not ys:
        raise ValueError("series must hold at least one value, got an empty list")
    return {"": (list(range(len(ys))), ys)}


def _is_sequence(x: Any) -> bool:
    return hasattr(x, "__len__") and not isinstance(x, str)


def plot_decision_boundary(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    path: str | Path | None = None,
    title: str | None = None,
    resolution: int = 100,
) -> Any:
    """Colour the plane by the sign of ``model``'s score, with the data points on top.

    Args:
        model: a ``groundup.scalar.MLP`` (evaluated with NumPy from its weights, fast),
            or any callable mapping ``[x0, x1]`` to a score (a Value or a float).
        X: points (n, 2); y: labels (n,) in {-1, +1}.
        path: where to save the picture; None saves nothing.
        resolution: grid points per axis.

    Returns the matplotlib Figure.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or len(y) != len(X):
        raise ValueError(f"X must be (n, 2) with y (n,), got X {X.shape} and y {y.shape}")
    pad = 0.5
    x0 = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    x1 = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    grid0, grid1 = np.meshgrid(x0, x1)  # (resolution, resolution) each
    points = np.stack([grid0.ravel(), grid1.ravel()], axis=1)  # (resolution^2, 2)
    scores = _scores(model, points).reshape(grid0.shape)

    fig = new_figure((5.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    ax.contourf(grid0, grid1, scores > 0, levels=[-0.5, 0.5, 1.5], cmap="RdBu", alpha=0.35)
    ax.contour(grid0, grid1, scores, levels=[0.0], colors="k", linewidths=1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", vmin=-1, vmax=1, s=25, edgecolors="k")
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    if title:
        ax.set_title(title)
    _save(fig, path)
    return fig


def _scores(model: Any, points: np.ndarray) -> np.ndarray:
    """The model's score for each point (n, 2) -> (n,)."""
    layers = getattr(model, "layers", None)
    if layers is not None and all(hasattr(layer, "neurons") for layer in layers):
        return _mlp_scores(layers, points)
    return np.array([_to_float(model(row)) for row in points.tolist()])


def _mlp_scores(layers: Sequence[Any], points: np.ndarray) -> np.ndarray:
    """A scalar MLP's forward pass with NumPy: the same maths, on the whole grid at once."""
    h = points
    for layer in layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons])  # (nout, nin)
        b = np.array([n.b.data for n in layer.neurons])  # (nout,)
        h = h @ W.T + b  # (n, nout)
        if layer.neurons[0].nonlin:
            h = np.maximum(h, 0.0)
    return h[:, 0]


def _to_float(score: Any) -> float:
    if isinstance(score, list | tuple):
        score = score[0]
    return float(getattr(score, "data", score))


def smoothed_loss_curves(history: Any, points: int = 200) -> dict[str, tuple[list, list]]:
    """Train loss averaged over windows (a batch-32 loss is noisy: makemore plots the mean of
    each 1,000 steps), plus the val estimates where the loop measured them."""
    steps, losses = list(history.step), list(history.train_loss)
    window = max(1, len(losses) // points)
    xs, ys = [], []
    for start in range(0, len(losses) - window + 1, window):
        xs.append(steps[start + window - 1])
        ys.append(sum(losses[start : start + window]) / window)
    curves = {f"train (mean of {window} steps)" if window > 1 else "train": (xs, ys)}
    val_steps, val_losses = history.val_curve()
    if val_steps:
        curves["val (estimate)"] = (val_steps, val_losses)
    return curves
