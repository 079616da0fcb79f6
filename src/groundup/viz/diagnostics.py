"""Is the network healthy? Stage 3's diagnostics (makemore part 3), as data then pictures.

* **activations**: per tanh layer, mean, std, a histogram and the share of *saturated*
  units (|tanh| > 0.97), where the gradient 1 - tanh^2 is nearly 0 and learning stalls.
* **gradients**: per layer, the histogram of the gradient reaching the activations; healthy
  layers have similar spreads, a vanishing or exploding network does not.
* **weight gradients**: per weight matrix, the grad:data ratio std(grad) / std(weight).
* **update:data ratio**: per weight matrix and step, log10(std(lr * grad) / std(weight)):
  how much one step changes the weights relative to their size. Around -3 (1e-3) is the
  rule of thumb; far below learns too slowly, far above is unstable.

The ``*_stats`` functions take plain arrays (or Tensors) and return lists of dicts; the
``plot_*`` functions draw those dicts and need the ``viz`` extra (matplotlib).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from groundup.viz.figures import new_figure, save

SATURATION = 0.97  # |tanh(x)| above this: the local gradient 1 - t^2 is below 0.06


def _array(x: Any) -> np.ndarray:
    """NumPy values of an array, a Tensor or a Parameter (their ``.data``)."""
    data = x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else x
    return np.asarray(data, dtype=np.float64)


def tensor_stats(
    name: str, values: Any, bins: int = 50, saturation: float | None = None
) -> dict[str, Any]:
    """Mean, std, histogram (and share of |x| > saturation) of one array.

    >>> s = tensor_stats("h", np.array([-1.0, 0.0, 0.99, 0.5]), bins=2, saturation=0.97)
    >>> s["saturated"], s["counts"].tolist()
    (0.5, [1, 3])
    """
    x = _array(values).ravel()
    if x.size == 0:
        raise ValueError(f"tensor_stats: {name!r} has no values")
    counts, edges = np.histogram(x, bins=bins)
    stats = {
        "name": name,
        "mean": float(x.mean()),
        "std": float(x.std()),
        "counts": counts,
        "edges": edges,
    }
    if saturation is not None:
        stats["saturated"] = float((np.abs(x) > saturation).mean())
    return stats


def activation_stats(
    activations: Mapping[str, Any], bins: int = 50, saturation: float = SATURATION
) -> list[dict[str, Any]]:
    """Stats of each layer's tanh outputs, with ``saturated``: the share of |t| > 0.97."""
    return [tensor_stats(n, a, bins, saturation) for n, a in activations.items()]


def gradient_stats(gradients: Mapping[str, Any], bins: int = 50) -> list[dict[str, Any]]:
    """Stats of the gradients reaching each layer's outputs (``None`` gradients are skipped)."""
    return [tensor_stats(n, g, bins) for n, g in gradients.items() if g is not None]


def weight_gradient_stats(
    named_parameters: Iterable[tuple[str, Any]], bins: int = 50
) -> list[dict[str, Any]]:
    """Stats of the gradient of each weight matrix (2-D parameters), with ``grad_to_data``:
    std(grad) / std(weight)."""
    out = []
    for name, p in named_parameters:
        if p.ndim != 2 or p.grad is None:
            continue
        stats = tensor_stats(name, p.grad, bins)
        stats["shape"] = tuple(p.shape)
        stats["grad_to_data"] = stats["std"] / max(float(_array(p).std()), 1e-12)
        out.append(stats)
    return out


def update_to_data_ratios(
    named_parameters: Iterable[tuple[str, Any]], lr: float
) -> dict[str, float]:
    """log10(std(lr * grad) / std(weight)) of each weight matrix, for plain SGD's step.

    Call it after ``backward()`` and before (or right after) ``optimizer.step()``, once per
    step, and keep the dicts: :func:`plot_update_ratios` draws the list.
    """
    ratios = {}
    for name, p in named_parameters:
        if p.ndim != 2 or p.grad is None:
            continue
        update = lr * np.std(_array(p.grad))
        data = float(_array(p).std())
        ratios[name] = math.log10(update / data) if update > 0 and data > 0 else -math.inf
    return ratios


def layer_diagnostics(model: Any, X: Any, Y: Any, bins: int = 50) -> dict[str, list[dict]]:
    """One forward and backward pass of ``model`` on (X, Y) with its activations recorded
    (a model with ``record_activations`` and ``activations``, like ``MLPLanguageModel``).

    Returns ``{"activations": ..., "gradients": ..., "weights": ...}``: the stats of each
    tanh layer's output, of the gradient reaching it, and of each weight matrix's gradient.
    The parameters' ``.grad`` hold this batch's gradients afterwards.
    """
    if not hasattr(model, "record_activations"):
        raise TypeError(
            f"layer_diagnostics: {type(model).__name__} does not record its activations "
            "(expected a record_activations flag and an activations dict)"
        )
    previous = model.record_activations
    model.record_activations = True
    try:
        model.zero_grad()
        _, loss = model(X, Y)
        loss.backward()
    finally:
        model.record_activations = previous
    acts = model.activations
    return {
        "activations": activation_stats({n: a.data for n, a in acts.items()}, bins),
        "gradients": gradient_stats({n: a.grad for n, a in acts.items()}, bins),
        "weights": weight_gradient_stats(model.named_parameters(), bins),
    }


# -- pictures ---------------------------------------------------------------------------


def _plot_histograms(
    stats: Sequence[dict[str, Any]], title: str, path: str | os.PathLike[str] | None
) -> Any:
    if not stats:
        raise ValueError(f"{title}: no stats to plot")
    fig = new_figure((10, 4))
    ax = fig.add_subplot()
    legend = []
    for s in stats:
        centres = (s["edges"][:-1] + s["edges"][1:]) / 2
        ax.plot(centres, s["counts"])
        label = f"{s['name']}: mean {s['mean']:+.2g}, std {s['std']:.2g}"
        if "saturated" in s:
            label += f", saturated {100 * s['saturated']:.1f}%"
        if "grad_to_data" in s:
            label += f", grad:data {s['grad_to_data']:.2g}"
        legend.append(label)
    ax.legend(legend, fontsize=8)
    ax.set_title(title)
    return save(fig, path)


def plot_activation_histograms(
    stats: Sequence[dict[str, Any]], path: str | os.PathLike[str] | None = None
) -> Any:
    """One histogram line per tanh layer, the legend giving its % saturated."""
    return _plot_histograms(stats, "activation distribution (tanh outputs)", path)


def plot_gradient_histograms(
    stats: Sequence[dict[str, Any]], path: str | os.PathLike[str] | None = None
) -> Any:
    """One histogram line per layer's output gradient (or per weight matrix's gradient)."""
    return _plot_histograms(stats, "gradient distribution", path)


def plot_update_ratios(
    history: Sequence[Mapping[str, float]], path: str | os.PathLike[str] | None = None
) -> Any:
    """The update:data ratio (log10) of each weight matrix over the steps, with the
    1e-3 guide line."""
    if not history:
        raise ValueError("plot_update_ratios: history is empty")
    fig = new_figure((10, 4))
    ax = fig.add_subplot()
    for name in history[0]:
        ax.plot([h[name] for h in history], label=name)
    ax.axhline(-3, color="black", linestyle="--", linewidth=1, label="1e-3 (rule of thumb)")
    ax.set_xlabel("step")
    ax.set_ylabel("log10(update std / data std)")
    ax.set_title("update:data ratio")
    ax.legend(fontsize=8)
    return save(fig, path)
