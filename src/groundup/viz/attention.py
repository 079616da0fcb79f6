"""Attention maps of a GPT: who looks at whom, for every layer and head.

:func:`attention_maps` returns the weights as an array (no matplotlib needed);
:func:`plot_attention_maps` draws them as a layer x head grid of heatmaps with the
characters on the axes (row = the token that looks, column = the token looked at).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup.viz.figures import new_figure, save


def _token_ids(text: Any, tokenizer: Any, block_size: int) -> list[int]:
    if isinstance(text, str):
        if tokenizer is None:
            raise ValueError(
                "attention_maps: text is a str, so a tokenizer is needed to "
                "encode it (pass tokenizer=...)"
            )
        ids = list(tokenizer.encode(text))
    else:
        ids = [int(i) for i in np.asarray(text).reshape(-1)]
    if not ids:
        raise ValueError("attention_maps: text must hold at least one token, got none")
    if len(ids) > block_size:
        raise ValueError(
            f"attention_maps: text is {len(ids)} tokens, more than block_size {block_size}"
        )
    return ids


def attention_maps(model: Any, text: Any, tokenizer: Any = None) -> np.ndarray:
    """Attention weights of ``model`` on ``text``: an array (n_layer, n_head, T, T).

    Args:
        model: a :class:`groundup.models.gpt.GPT`.
        text: a string (encoded with ``tokenizer``) or a sequence of token ids.
        tokenizer: anything with ``encode``; needed when text is a string.

    Row t of each (T, T) map is the weighted average that position t takes over the
    positions 0..t (each row sums to 1; entries above the diagonal are 0).
    """
    from groundup.nn import evaluating

    ids = np.asarray([_token_ids(text, tokenizer, model.config.block_size)])  # (1, T)
    tr = model.transformer
    maps = []
    with evaluating(model):
        x = tr.wte(ids) + tr.wpe(np.arange(ids.shape[1]))  # (1, T, C)
        for block in tr.h:
            maps.append(block.attn.attention_weights(block.ln_1(x))[0])  # (H, T, T)
            x = block(x)
    return np.stack(maps)  # (L, H, T, T)


def plot_attention_maps(
    weights: Any,
    labels: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    title: str = "attention: row = the token that looks, column = the token it looks at",
) -> Any:
    """Draw (n_layer, n_head, T, T) weights as a grid: one row per layer, one column per head.

    Args:
        weights: the array from :func:`attention_maps`.
        labels: the T tokens as strings (for a char model: ``list(text)``).
        path: where to save the PNG (optional).

    Returns:
        The matplotlib Figure.
    """
    weights = np.asarray(weights)
    if weights.ndim != 4 or weights.shape[-1] != weights.shape[-2]:
        raise ValueError(
            f"plot_attention_maps: weights must be (n_layer, n_head, T, T), got {weights.shape}"
        )
    L, H, T, _ = weights.shape
    labels = [str(i) for i in range(T)] if labels is None else list(labels)
    if len(labels) != T:
        raise ValueError(f"plot_attention_maps: labels must have T={T} entries, got {len(labels)}")
    shown = [repr(s)[1:-1] if s.isspace() or not s.isprintable() else s for s in labels]
    cell = max(1.6, 0.16 * T)
    fig = new_figure((cell * H + 1, cell * L + 1))
    axes = fig.subplots(L, H, squeeze=False)
    fontsize = 8 if T <= 24 else 6 if T <= 48 else 4
    for layer in range(L):
        for head in range(H):
            ax = axes[layer][head]
            ax.imshow(weights[layer, head], cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_xticks(range(T))
            ax.set_yticks(range(T))
            ax.set_xticklabels(shown, fontsize=fontsize)
            ax.set_yticklabels(shown, fontsize=fontsize)
            ax.tick_params(length=0)
            if layer == 0:
                ax.set_title(f"head {head}", fontsize=9)
            if head == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, path)
