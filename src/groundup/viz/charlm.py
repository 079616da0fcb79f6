"""Pictures of stages 2-3: the bigram count table and the learned character embeddings.

Both return a matplotlib ``Figure`` (and save it when given a path); matplotlib comes with the
``viz`` extra and is imported inside the functions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup.viz.figures import new_figure, save


def plot_bigram_counts(
    counts: Any,
    labels: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    title: str = "bigram counts: row = this character, column = the next",
) -> Any:
    """The (V, V) count table as a heatmap, each cell labelled with its pair and count.

    Args:
        counts: a (V, V) array of counts, or a fitted ``CountingBigram``.
        labels: the V characters (``tokenizer.itos``); taken from the model when given one.
        path: where to save the PNG (optional).

    Returns:
        The matplotlib Figure.
    """
    if hasattr(counts, "counts") and hasattr(counts, "tokenizer"):
        labels = labels if labels is not None else counts.tokenizer.itos
        counts = counts.counts
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"plot_bigram_counts: counts must be a (V, V) array, got {counts.shape}")
    V = counts.shape[0]
    labels = list(labels) if labels is not None else [str(i) for i in range(V)]
    if len(labels) != V:
        raise ValueError(
            f"plot_bigram_counts: labels must have one entry per row ({V}), got {len(labels)}"
        )
    size = max(4.0, 0.6 * V)
    fig = new_figure((size, size))
    ax = fig.add_subplot()
    ax.imshow(counts, cmap="Blues")
    fontsize = 7 if V <= 30 else 5
    dark = counts > 0.5 * counts.max()  # white text where the cell is dark blue
    for i in range(V):
        for j in range(V):
            color = "white" if dark[i, j] else "gray"
            pair, count = labels[i] + labels[j], str(counts[i, j])
            ax.text(j, i, pair, ha="center", va="bottom", color=color, fontsize=fontsize)
            ax.text(j, i, count, ha="center", va="top", color=color, fontsize=fontsize)
    ax.set_axis_off()
    ax.set_title(title)
    return save(fig, path)


def _embedding_table(obj: Any) -> Any:
    """``obj`` itself, or the weight of the first Embedding inside a model."""
    if not hasattr(obj, "modules"):
        return obj
    from groundup.nn import Embedding

    for module in obj.modules():
        if isinstance(module, Embedding):
            return module.weight
    raise ValueError(
        f"embedding_coordinates: {type(obj).__name__} has no Embedding; pass a (V, d) table"
    )


def embedding_coordinates(weights: Any) -> np.ndarray:
    """2-D coordinates of (V, d) embeddings: the two columns themselves when d = 2, otherwise
    the projection on the two principal components (centred SVD). A model stands for its
    first Embedding's table (the character embeddings of the MLP, the GPT's wte)."""
    weights = _embedding_table(weights)
    W = np.asarray(getattr(weights, "data", weights), dtype=np.float64)
    if W.ndim != 2 or W.shape[1] < 2:
        raise ValueError(
            f"embedding_coordinates: weights must be a (V, d) array with d >= 2, got {W.shape}"
        )
    if W.shape[1] == 2:
        return W
    centred = W - W.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ Vt[:2].T  # (V, 2)


def plot_embeddings(
    weights: Any,
    labels: Sequence[str],
    path: str | os.PathLike[str] | None = None,
    title: str | None = None,
) -> Any:
    """Scatter of the character embeddings, each point labelled with its character.

    Characters the model treats alike (the vowels, say) end up close together.

    Args:
        weights: the (V, d) embedding table (an array, a Tensor or Parameter), or a model
            (its first Embedding is used); d > 2 is projected on its two principal components.
        labels: the V characters (``tokenizer.itos``).
        path: where to save the PNG (optional).
    """
    weights = _embedding_table(weights)
    xy = embedding_coordinates(weights)
    labels = list(labels)
    if len(labels) != len(xy):
        raise ValueError(
            f"plot_embeddings: labels must have one entry per embedding row ({len(xy)}), "
            f"got {len(labels)}"
        )
    fig = new_figure((6, 6))
    ax = fig.add_subplot()
    ax.scatter(xy[:, 0], xy[:, 1], s=200, color="tab:blue", alpha=0.4)
    for (x, y), label in zip(xy, labels, strict=True):
        ax.text(x, y, label, ha="center", va="center", color="black")
    ax.grid(True, alpha=0.3)
    d = np.asarray(getattr(weights, "data", weights)).shape[1]
    ax.set_title(title or ("embeddings" if d == 2 else f"embeddings (d={d}): first two PCs"))
    return save(fig, path)
