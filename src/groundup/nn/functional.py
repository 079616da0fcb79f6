"""The functions of neural nets, each composed from the engine's primitive ops.

``groundup.nn.functional`` (``F``), like PyTorch's: softmax, cross-entropy, layer norm,
GELU, attention ... written as the formula, with tensor ops whose gradients the engine
already knows. Backward needs nothing new: the chain rule runs through the pieces. This is
the tier to read. Training runs the same functions from :mod:`groundup.nn.fused`, where each
is one kernel with a hand-derived backward (fewer passes over memory); a test binds every
fused function to its definition here (values and gradients, float64).

Unlike PyTorch, ``cross_entropy`` takes the class scores in the LAST dimension for every
shape: (N, C) with targets (N,), or (B, T, C) with targets (B, T).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from groundup.tensor import ops
from groundup.tensor.backend import array_module
from groundup.tensor.creation import _rng, cat
from groundup.tensor.function import DimError, DtypeError, OpError
from groundup.tensor.tensor import Tensor, where

__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "causal_self_attention",
    "hardtanh",
    "leaky_relu",
    "nll_loss",
    "silu",
    "softplus",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "gelu_linear",
    "layer_norm",
    "linear",
    "log_softmax",
    "one_hot",
    "relu",
    "rms_norm",
    "rotary_embedding",
    "scaled_dot_product_attention",
    "softmax",
    "tanh",
]


# ================================================================ activations


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def relu(x: Tensor) -> Tensor:
    return x.relu()


def silu(x: Tensor) -> Tensor:
    """SiLU (swish): x * sigmoid(x), Llama's activation."""
    return x * x.sigmoid()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x (a ReLU that keeps a small gradient)."""
    return x.relu() - (-x).relu() * negative_slope


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]."""
    return x.clamp(min_val, max_val)


def softplus(x: Tensor) -> Tensor:
    """log(1 + e^x), a smooth ReLU, computed as relu(x) + log(1 + e^-|x|): e^x never
    overflows."""
    return x.relu() + ((-x.abs()).exp() + 1.0).log()


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU, a smooth ReLU: x times the probability that a standard normal is below x,
    x Phi(x) = 0.5 x (1 + erf(x / sqrt(2))) (``approximate="none"``, PyTorch's default).

    ``approximate="tanh"`` is GPT-2's form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
    which the GPT model asks for by name.
    """
    check_gelu(approximate)
    if approximate == "tanh":
        return 0.5 * x * (1.0 + (math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)).tanh())
    return 0.5 * x * (1.0 + (x * (1.0 / math.sqrt(2.0))).erf())


# ================================================================ softmax family


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """softmax(x)_i = e^(x_i - m) / sum_j e^(x_j - m), m = max_j x_j.

    Subtracting the max keeps e^x from overflowing (e^1000 is inf) and leaves the result
    unchanged, so m is a constant to the gradient: it is detached.
    """
    check_float(x, "softmax")
    if (widened := half_or_scalar(softmax, x, dim)) is not None:
        return widened
    e = (x - x.max(dim=dim, keepdim=True)[0].detach()).exp()
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log softmax(x) = x - m - log(sum_j e^(x_j - m)): the log-sum-exp trick, never log(0)."""
    check_float(x, "log_softmax")
    if (widened := half_or_scalar(log_softmax, x, dim)) is not None:
        return widened
    shifted = x - x.max(dim=dim, keepdim=True)[0].detach()
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits ``input`` (..., C) against ``target``: the mean over the rows
    of -log softmax(input)[target], PyTorch's ``F.cross_entropy`` with the classes last.

    Args:
        input: logits (C,), (N, C) or (B, T, C); the class dimension is the last one
            (PyTorch's (N, C, d1, ...) is read too, when the target's shape says so: see
            :func:`classes_last`).
        target: class indices shaped like ``input`` minus its last dim (a Tensor or int
            array), or class probabilities shaped like ``input`` (floats).
        weight: one weight per class (C,): each row's loss is scaled by its target's weight,
            and "mean" divides by the sum of those weights (PyTorch's weighted mean).
        ignore_index: a target value whose rows count neither in the loss nor the mean.
        reduction: "mean", "sum" or "none" (per row, 0 where ignored); ``size_average`` and
            ``reduce`` are PyTorch's older spelling of it.
        label_smoothing: eps in [0, 1]: the target is (1 - eps) one-hot + eps / C uniform.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = classes_last(input, target)
    log_probs = log_softmax(input, dim=-1)
    if is_probabilities(target):
        return soft_cross_entropy(log_probs, target, weight, ignore_index, reduction,
                                  label_smoothing)  # fmt: skip
    loss = nll_loss(log_probs, target, weight, ignore_index=ignore_index, reduction=reduction)
    if not label_smoothing:
        return loss
    # the uniform part of the smoothed target: -sum_c w_c log p_c per row, reduced as nll is
    t, kept, w = class_weights(log_probs, target, weight, ignore_index, reduction)
    w_c = 1.0 if weight is None else Tensor._wrap(array_of(weight, input.xp).astype(input.dtype))
    smooth = where(Tensor._wrap(kept.reshape(t.shape)), -(log_probs * w_c).sum(dim=-1), 0.0)
    C = input.shape[-1]
    return loss * (1 - label_smoothing) + reduced(smooth, w[kept].sum(), reduction) * (
        label_smoothing / C)  # fmt: skip


def soft_cross_entropy(
    log_probs: Tensor, target: Any, weight: Any, ignore_index: int, reduction: str,
    label_smoothing: float,
) -> Tensor:  # fmt: skip
    """Cross-entropy against class probabilities: -sum_c w_c q_c log p_c per row, q the
    target smoothed towards uniform; "mean" divides by the number of rows."""
    q = check_probabilities(log_probs, target, ignore_index, reduction)
    C = log_probs.shape[-1]
    if label_smoothing:
        q = q * (1 - label_smoothing) + label_smoothing / C
    if weight is not None:
        q = q * Tensor._wrap(array_of(weight, log_probs.xp).astype(log_probs.dtype))
    losses = -(log_probs * q).sum(dim=-1)
    return reduced(losses, losses.numel(), reduction)


def nll_loss(
    input: Tensor, target: Any, weight: Any = None, size_average: bool | None = None,
    ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """The negative log-likelihood of ``target`` under log-probabilities ``input``
    (..., C), classes in the last dim: ``cross_entropy`` is ``nll_loss(log_softmax(x))``.
    ``weight`` (C,) scales each row by its target's weight; "mean" divides by their sum."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = classes_last(input, target)
    t, kept, w = class_weights(input, target, weight, ignore_index, reduction)
    xp = input.xp
    rows = xp.where(kept, t.reshape(-1), 0)  # any class will do for an ignored row
    picked = input.reshape(-1, input.shape[-1])[xp.arange(rows.shape[0]), rows]
    # where, not a multiplication by 0: an ignored row of nan logits must not make nan
    losses = where(Tensor._wrap(kept), -picked * Tensor._wrap(w), 0.0)
    return reduced(losses.reshape(*t.shape), w[kept].sum(), reduction)


def reduced(losses: Tensor, count: Any, reduction: str) -> Tensor:
    """The per-row losses reduced: as they are, summed, or summed over ``count`` (the rows,
    or their weights); nothing to count gives nan (0/0, as PyTorch)."""
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    return total / float(count) if count else total + math.nan


def binary_cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-w [y log p + (1 - y) log(1 - p)] for probabilities ``input`` p in [0, 1] and
    targets y; each log is held at -100 or above, as PyTorch (log 0 would be -inf)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    p, y = input, check_binary(input, target, reduction, "binary_cross_entropy")
    losses = -(y * log_at_least(p, -100.0) + (1 - y) * log_at_least(1 - p, -100.0))
    if weight is not None:
        losses = losses * as_float(weight, input)
    return reduced(losses, losses.numel(), reduction)


def log_at_least(p: Tensor, low: float) -> Tensor:
    """max(log p, low), with gradient 0 below: log(0) is -inf and its slope 1/0. The log
    reads p held at e^low, so that a zero p never divides by zero in the backward pass."""
    floor = math.exp(low)
    return where(p.data > floor, p.clamp(min=floor).log(), low)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Any, weight: Any = None, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", pos_weight: Any = None,
) -> Tensor:  # fmt: skip
    """binary_cross_entropy(sigmoid(z), y), computed stably as softplus(z) - y z (no
    sigmoid to round to 0 or 1). ``pos_weight`` (one per class, the last dim) scales the
    positive term: (1 - y) z + (1 + (pos_weight - 1) y) softplus(-z)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    z, y = input, check_binary(input, target, reduction, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        losses = softplus(z) - y * z
    else:
        losses = (1 - y) * z + ((as_float(pos_weight, z) - 1) * y + 1) * softplus(-z)
    if weight is not None:
        losses = losses * as_float(weight, input)
    return reduced(losses, losses.numel(), reduction)


# ================================================================ normalisation


def layer_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over each sample's last
    ``len(normalized_shape)`` dims; biased variance (divide by N), as PyTorch."""
    shape = check_layer_norm(x, normalized_shape)
    dims = tuple(range(-len(shape), 0))
    xc = x - x.mean(dim=dims, keepdim=True)
    # centre once more: when a row's entries are close, the mean's own rounding (float32)
    # dominates x - mean; the second mean is that error, and subtracting it is exact maths
    xc = xc - xc.mean(dim=dims, keepdim=True)
    var = (xc * xc).mean(dim=dims, keepdim=True)
    y = xc / (var + eps).sqrt()
    if weight is not None:
        y = y * weight
    return y + bias if bias is not None else y


def rms_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """y = x / sqrt(mean(x^2) + eps) * weight, over each sample's last
    ``len(normalized_shape)`` dims (Zhang & Sennrich 2019; Llama's norm).

    LayerNorm without the centring and without the bias: only the scale of each vector is
    normalised. ``eps=None`` is the dtype's machine epsilon, as PyTorch.
    """
    shape = check_layer_norm(x, normalized_shape, "rms_norm")
    dims = tuple(range(-len(shape), 0))
    y = x * ((x * x).mean(dim=dims, keepdim=True) + rms_eps(x, eps)).rsqrt()
    return y * weight if weight is not None else y


def batch_norm(
    x: Tensor,
    running_mean: Any,
    running_var: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation, PyTorch's ``F.batch_norm``, over (N, C) or (N, C, L): each
    channel C normalised with the batch's statistics in training, the running ones in eval.

    In training the running statistics (arrays or Tensors, updated in place) move toward the
    batch's: ``r = (1 - momentum) r + momentum * batch``, the running variance taking the
    unbiased (N - 1) batch variance, as PyTorch does.
    """
    axes, cshape = check_batch_norm(x, running_mean, running_var, training)
    if training:
        mean = x.mean(dim=axes, keepdim=True)
        var = x.var(dim=axes, keepdim=True, correction=0)
        update_running_stats(x.data, running_mean, running_var, momentum, axes)
    else:  # fixed statistics: y is an affine function of x
        mean = Tensor._wrap(array_of(running_mean).astype(x.data.dtype).reshape(cshape))
        var = Tensor._wrap(array_of(running_var).astype(x.data.dtype).reshape(cshape))
    y = (x - mean) / (var + eps).sqrt()
    if weight is not None:
        y = y * weight.reshape(*cshape)
    return y + bias.reshape(*cshape) if bias is not None else y


# ================================================================ linear and embedding


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, weight W shaped (out_features, in_features), as PyTorch."""
    check_linear(x, weight, bias)
    y = x @ weight.transpose(0, 1)
    return y + bias if bias is not None else y


def gelu_linear(x: Tensor, weight: Tensor, bias: Tensor | None = None,
                approximate: str = "none") -> Tensor:  # fmt: skip
    """linear(gelu(x), weight, bias): a GPT's MLP after its first Linear. One function so
    that the fast tier can make it one node that keeps x alone (gelu(x), the widest
    activation, is made again in its backward)."""
    return linear(gelu(x, approximate), weight, bias)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by integer ids ``input`` of any
    shape: ``weight[input]``, the same as ``one_hot(input) @ weight`` without the zeros.
    The row ``padding_idx`` is read as it is but gets no gradient (padding never learns)."""
    ids = check_embedding(input, weight)
    pad = padding_row(padding_idx, weight.shape[0])
    rows = weight[ids]
    if pad is None:
        return rows
    # where the id is the padding row, a detached copy: the value, without the gradient
    return where(Tensor._wrap((ids == pad)[..., None]), weight.detach()[ids], rows)


def one_hot(idx: Any, num_classes: int = -1) -> Tensor:
    """(..., num_classes) int64 tensor with a 1 at each index (``.float()`` it for matmul)."""
    ids = intarray_of(idx, "idx", "one_hot")
    if num_classes < 0:
        num_classes = int(ids.max()) + 1
    if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
        raise IndexError(
            f"one_hot: class values must be in [0, {num_classes}), got {ids.min()}..{ids.max()}"
        )
    xp = array_module(ids)
    return Tensor._wrap(xp.eye(num_classes, dtype=np.int64)[ids])


# ================================================================ dropout


def dropout(x: Tensor, p: float = 0.5, training: bool = True, generator: Any = None) -> Tensor:
    """Zero each entry with probability ``p`` in training, scaling the rest by 1/(1-p) so
    that the expected output equals the input; the identity in evaluation.

    ``generator``: a ``numpy.random.Generator`` (pass the same one every step), an int seed
    (the same mask every call) or None (fresh randomness).
    """
    check_dropout(p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return x * Tensor._wrap(dropout_mask(x.shape, p, x.data.dtype, generator, x.xp))


# ================================================================ rotary position embedding


def rotate_half(x: Tensor) -> Tensor:
    """[x1, x2] -> [-x2, x1] on the two halves of the last dim: pair i (x1[i], x2[i]) turned
    by 90 degrees. ``rotate_half(rotate_half(x)) == -x``."""
    h = x.shape[-1] // 2
    return cat([-x[..., h:], x[..., :h]], dim=-1)


def rotary_embedding(x: Tensor, cos: Any, sin: Any) -> Tensor:
    """Rotary position embedding (RoPE, Su et al. 2021): x cos + rotate_half(x) sin.

    _Pair i of each vector, (x[i], x[i + D/2]) (Hugging Face's "rotate half" layout), turns
    by the angle ``position * theta^(-2i/D)``; ``cos`` and ``sin`` hold those angles'
    cosines and sines, (T, D) or anything broadcasting to x (..., T, D) (see
    :func:`rope_cos_sin`). Rotating a query at position m and a key at position n makes
    their dot product depend on m - n only: attention sees relative positions.
    """
    c, s = check_rotary(x, cos, sin)
    return x * Tensor._wrap(c) + rotate_half(x) * Tensor._wrap(s)


# ================================================================ attention


def scaled_dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    generator: Any = None,
) -> Tensor:
    """softmax(q k^T / sqrt(D) + mask) v, as PyTorch's ``F.scaled_dot_product_attention``.

    Each query position takes a weighted average of the values, weighted by how well its
    query matches each key. Inputs (..., T, D), (..., S, D), (..., S, Dv).

    Args:
        attn_mask: boolean (True = may attend, PyTorch's convention) or float (added to
            the scores), broadcasting to (..., T, S).
        dropout_p: dropout on the attention weights (pass 0.0 in evaluation).
        is_causal: position t attends to positions <= t only.
        scale: defaults to 1/sqrt(D).
    """
    if is_half(q):
        wide = attention_in_float32(q, k, v, attn_mask)
        out = scaled_dot_product_attention(*wide, dropout_p, is_causal, scale, generator)
        return out.to(q.dtype)
    mask, additive, s = attention_inputs(q, k, attn_mask, is_causal, scale)
    att = q @ k.transpose(-2, -1) * s  # (..., T, S): every query against every key
    if additive is not None:  # a float mask Tensor stays in the graph: it may be learned
        learned = isinstance(attn_mask, Tensor) and attn_mask.requires_grad
        att = att + (attn_mask if learned else Tensor._wrap(additive))
    if mask is not None:  # True where attention is NOT allowed: weight e^-inf = 0
        att = att.masked_fill(mask, -math.inf)
    att = softmax(att, dim=-1)
    if dropout_p > 0.0:
        att = att * Tensor._wrap(attention_dropout(q, k, dropout_p, generator))
    return att @ v


def causal_self_attention(
    qkv: Tensor, n_head: int, dropout_p: float = 0.0, generator: Any = None
) -> Tensor:
    """Causal self-attention of ``n_head`` heads side by side, as a GPT runs it.

    ``qkv`` (B, T, 3C) holds each position's query, key and value side by side (C each,
    what one Linear of 3C outputs makes), each cut into heads of D = C / n_head; the result
    (B, T, C) holds the heads' outputs side by side again, for the projection after them.
    Each head is :func:`scaled_dot_product_attention` with ``is_causal=True``.
    """
    B, T, C = check_heads(qkv, n_head)
    heads = qkv.view(B, T, 3, n_head, C // n_head).permute(2, 0, 3, 1, 4)  # (3, B, H, T, D)
    q, k, v = heads[0], heads[1], heads[2]
    y = scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True,
                                     generator=generator)  # fmt: skip
    return y.transpose(1, 2).reshape(B, T, C)  # (B, T, H, D) -> (B, T, C)


# ================================================================ convolution and pooling
# Images are (N, C, H, W) (sequences (N, C, L)); unbatched (C, H, W) works too, as in
# PyTorch. All of it rests on one movement primitive, the sliding windows of
# ``Tensor.unfold`` (a view; its backward scatter-adds each window back where it came from),
# and on matmul: a convolution is every window of the image (im2col) times every filter,
# a pooling is a max or a mean over every window. Backward needs nothing new.

_Pair = tuple[int, int]  # one int per spatial dim, (H, W), as the helpers below receive them

__all__ += [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "fold",
    "interpolate",
    "max_pool1d",
    "max_pool2d",
    "pad",
    "unfold",
]


def pad(
    input: Tensor,  # noqa: A002 (PyTorch's names, here and below)
    pad: Sequence[int],
    mode: str = "constant",
    value: float | None = None,
) -> Tensor:
    """Pad the last dims, as PyTorch's ``F.pad``: ``pad = (left, right)`` pads the last dim,
    ``(left, right, top, bottom)`` the last two, and so on; a negative amount crops.

    Modes: "constant" (``value``, default 0), "reflect" (mirrored, the edge entry not
    repeated: ``[1, 2, 3]`` padded by 2 is ``[3, 2, 1, 2, 3, 2, 1]``), "replicate" (the edge
    entry repeated), "circular" (wrapped around). Each is a concatenation of slices of the
    input, so the gradient needs nothing new.
    """
    check_pad(input, pad, mode, value)
    x = input
    for i in range(len(pad) // 2):  # (left, right) of the last dim first
        x = _pad_dim(x, x.ndim - 1 - i, pad[2 * i], pad[2 * i + 1], mode, value)
    return x


def _pad_dim(x: Tensor, dim: int, left: int, right: int, mode: str, value: Any) -> Tensor:
    def part(t: Tensor, start: int, stop: int | None, step: int = 1) -> Tensor:
        return t[_along(dim, slice(start, stop, step))]

    crop = max(-left, 0), max(-right, 0)  # a negative amount crops
    if mode == "circular" and any(crop):  # PyTorch wraps around what the crop leaves
        x, crop = part(x, crop[0], x.shape[dim] - crop[1]), (0, 0)
    left, right, n = max(left, 0), max(right, 0), x.shape[dim]
    if mode == "constant":
        fill = 0 if value is None else value
        edge = [x.shape[:dim] + (k,) + x.shape[dim + 1 :] for k in (left, right)]
        before, after = (Tensor._wrap(x.xp.full(s, fill, dtype=x.dtype)) for s in edge)
    elif mode == "reflect":  # entries 1..left, mirrored: the edge itself is not repeated
        before = part(x, left, 0, -1)
        after = part(x, n - 2, n - 2 - right if n - 2 - right >= 0 else None, -1)
    elif mode == "replicate":
        sizes = [[-1] * x.ndim for _ in range(2)]
        sizes[0][dim], sizes[1][dim] = left, right
        before, after = part(x, 0, 1).expand(*sizes[0]), part(x, n - 1, n).expand(*sizes[1])
    else:  # circular: the end comes round before the start, the start after the end
        before, after = part(x, n - left, n), part(x, 0, right)
    if left or right:
        x = cat([t for t in (before, x, after) if t.shape[dim]], dim)
    return part(x, crop[0], x.shape[dim] - crop[1]) if any(crop) else x


def _windows(x: Tensor, kernel: _Pair, stride: _Pair, dilation: _Pair) -> Tensor:
    """(N, C, H, W) -> (N, C, OH, OW, kh, kw): the kh x kw window at every position, a view.
    ``x.unfold(2, kh, sh).unfold(3, kw, sw)``, with the entries of a window ``dilation``
    apart."""
    rows = ops.Unfold.apply(x, dim=2, size=kernel[0], step=stride[0], dilation=dilation[0])
    return ops.Unfold.apply(rows, dim=3, size=kernel[1], step=stride[1], dilation=dilation[1])


def _overlap_add(windows: Tensor, size: _Pair, stride: _Pair, dilation: _Pair) -> Tensor:
    """(N, C, OH, OW, kh, kw) -> (N, C, H, W): every window added into the positions it
    covers, where windows overlap their entries add up (col2im: the adjoint of _windows)."""
    rows = ops.Fold.apply(windows, dim=3, length=size[1], step=stride[1], dilation=dilation[1])
    return ops.Fold.apply(rows, dim=2, length=size[0], step=stride[0], dilation=dilation[0])


def unfold(
    input: Tensor,  # noqa: A002
    kernel_size: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
) -> Tensor:
    """im2col, PyTorch's ``F.unfold``: every ``kernel_size`` window of a (N, C, H, W) image
    as one column, (N, C * kh * kw, L) for L = OH * OW windows, entries in the order of
    ``weight.reshape(out_channels, -1)`` of a conv2d."""
    x, unbatched = _batched(input, 4, "unfold", "3-D (unbatched) or 4-D (batched)", DimError)
    check_float(x, "unfold")
    k, d, p, s = check_unfold(x, kernel_size, dilation, padding, stride)
    x = pad(x, (p[1], p[1], p[0], p[0]))
    windows = _windows(x, k, s, d)  # (N, C, OH, OW, kh, kw)
    N, C, OH, OW = windows.shape[:4]
    cols = windows.permute(0, 1, 4, 5, 2, 3).reshape(N, C * k[0] * k[1], OH * OW)
    return cols[0] if unbatched else cols


def fold(
    input: Tensor,  # noqa: A002
    output_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
) -> Tensor:
    """col2im, PyTorch's ``F.fold``: the columns of :func:`unfold` (N, C * kh * kw, L) added
    back into an (N, C, H, W) image, overlapping entries summed. It is unfold's adjoint, not
    its inverse: ``fold(unfold(x))`` counts each pixel once per window that holds it."""
    x, unbatched = _batched(input, 3, "fold", "2-D (unbatched) or 3-D (batched)", DimError)
    check_float(x, "fold")
    size, k, d, p, s, windows = check_fold(x, output_size, kernel_size, dilation, padding, stride)
    N, C = x.shape[0], x.shape[1] // (k[0] * k[1])
    cols = x.reshape(N, C, k[0], k[1], *windows).permute(0, 1, 4, 5, 2, 3)  # (N, C, OH, OW, kh, kw)
    out = _overlap_add(cols, (size[0] + 2 * p[0], size[1] + 2 * p[1]), s, d)
    out = out[:, :, p[0] : p[0] + size[0], p[1] : p[1] + size[1]]  # padding dropped
    return out[0] if unbatched else out


def conv2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in every deep-learning library), PyTorch's
    ``F.conv2d``: out[n, o] = bias[o] + sum over c, i, j of weight[o, c, i, j] *
    x[n, c, i * dilation + stride * y, j * dilation + stride * x] on the zero-padded input.

    Args:
        input: (N, C, H, W) or (C, H, W).
        weight: (out_channels, C / groups, kh, kw).
        padding: an int, a pair, "valid" (none) or "same" (the output keeps H and W;
            stride 1 only; an even kernel pads one more at the end, as PyTorch).
        groups: the channels split into this many groups, each convolved with its own
            out_channels / groups filters (groups = C: a depthwise convolution).

    Written as im2col: every window of the image becomes a row, and one matmul with the
    filters (a row each) gives every output at once.
    """
    x, unbatched = _batched(input, 4, "conv2d", "3D (unbatched) or 4D (batched)", OpError)
    s, pads, d = check_conv(x, weight, bias, stride, padding, dilation, groups, 2, "conv2d")
    out = _conv(x, weight, bias, s, pads, d, groups)
    return out[0] if unbatched else out


def _conv(
    x: Tensor, weight: Tensor, bias: Tensor | None, stride: _Pair, pads: tuple[int, ...],
    dilation: _Pair, groups: int,
) -> Tensor:  # fmt: skip
    """conv2d of a batched input, its arguments already checked; pads (top, bottom, left,
    right)."""
    N, G = x.shape[0], groups
    O, _, kh, kw = weight.shape
    x = pad(x, (pads[2], pads[3], pads[0], pads[1]))  # zeros around the image
    windows = _windows(x, (kh, kw), stride, dilation)  # (N, C, OH, OW, kh, kw)
    OH, OW = windows.shape[2:4]
    rows = windows.permute(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, G, -1)  # a row per window
    rows = rows.transpose(0, 1)  # (G, N*OH*OW, C/G*kh*kw): im2col, per group
    filters = weight.reshape(G, O // G, -1).transpose(1, 2)  # (G, C/G*kh*kw, O/G)
    out = rows @ filters  # (G, N*OH*OW, O/G): every window against every filter
    out = out.transpose(0, 1).reshape(N, OH, OW, O).permute(0, 3, 1, 2)  # (N, O, OH, OW)
    return out + bias.reshape(1, O, 1, 1) if bias is not None else out


def conv1d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
    stride: int | Sequence[int] = 1, padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1, groups: int = 1,
) -> Tensor:  # fmt: skip
    """1-D convolution over (N, C, L) or (C, L), PyTorch's ``F.conv1d``: a conv2d of
    images one row high (weight (out_channels, C / groups, k))."""
    x, unbatched = _batched(input, 3, "conv1d", "2D (unbatched) or 3D (batched)", OpError)
    (s,), pads, (d,) = check_conv(x, weight, bias, stride, padding, dilation, groups, 1, "conv1d")
    out = _conv(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), (0, 0, *pads), (1, d), groups)
    out = out.squeeze(2)  # (N, O, 1, OL) -> (N, O, OL)
    return out[0] if unbatched else out


def conv_transpose2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """Transposed convolution, PyTorch's ``F.conv_transpose2d``: the map whose matrix is
    the transpose of conv2d's, i.e. the gradient conv2d sends back to its input, used as a
    layer that upsamples. Each input pixel stamps its channels' weighted kernels onto the
    output, ``stride`` apart; where stamps overlap they add (col2im).

    Args:
        input: (N, C, H, W) or (C, H, W).
        weight: (C, out_channels / groups, kh, kw) (in before out: conv2d's, transposed).
        padding: cropped from each side of the result (the padding the matching conv2d
            would add); output_padding: extra rows and columns at the end, to reach the
            size of a conv2d input that a stride > 1 rounded away.

    Output H = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1.
    """
    x, unbatched = _batched(input, 4, "conv_transpose2d", "3D (unbatched) or 4D (batched)", OpError)
    s, p, op, d = check_conv_transpose(
        x, weight, bias, stride, padding, output_padding, groups, dilation, 2, "conv_transpose2d"
    )
    out = _conv_transpose(x, weight, bias, s, p, op, d, groups)
    return out[0] if unbatched else out


def _conv_transpose(
    x: Tensor, weight: Tensor, bias: Tensor | None, stride: _Pair, padding: _Pair,
    output_padding: _Pair, dilation: _Pair, groups: int,
) -> Tensor:  # fmt: skip
    N, C, H, W = x.shape
    G, (_, Og, kh, kw) = groups, weight.shape
    rows = x.permute(0, 2, 3, 1).reshape(N * H * W, G, C // G).transpose(0, 1)
    # rows: (G, N*H*W, C/G), a row per input pixel
    stamps = rows @ weight.reshape(G, C // G, Og * kh * kw)  # (G, N*H*W, Og*kh*kw)
    stamps = stamps.transpose(0, 1).reshape(N, H, W, G * Og, kh, kw)
    stamps = stamps.permute(0, 3, 1, 2, 4, 5)  # (N, O, H, W, kh, kw): a kernel-sized window each
    # the padded output that a conv2d with these arguments would read
    size = (
        (H - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0],
        (W - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1],
    )
    out = _overlap_add(stamps, size, stride, dilation)  # (N, O, H', W')
    ph, pw = padding
    out = out[:, :, ph : size[0] - ph, pw : size[1] - pw]  # drop conv2d's padding
    return out + bias.reshape(1, G * Og, 1, 1) if bias is not None else out


def conv_transpose1d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
    stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0, groups: int = 1, dilation: int | Sequence[int] = 1,
) -> Tensor:  # fmt: skip
    """Transposed 1-D convolution over (N, C, L) or (C, L), PyTorch's
    ``F.conv_transpose1d``: conv_transpose2d of images one row high."""
    x, unbatched = _batched(input, 3, "conv_transpose1d", "2D (unbatched) or 3D (batched)", OpError)
    (s,), (p,), (op,), (d,) = check_conv_transpose(
        x, weight, bias, stride, padding, output_padding, groups, dilation, 1, "conv_transpose1d"
    )
    out = _conv_transpose(
        x.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), (0, p), (0, op), (1, d), groups
    )
    out = out.squeeze(2)
    return out[0] if unbatched else out


def max_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The largest entry of every ``kernel_size`` window, PyTorch's ``F.max_pool2d``.

    ``stride`` defaults to ``kernel_size`` (windows side by side); ``padding`` (at most half
    the window) never wins; ``ceil_mode`` keeps a last, partial window. The gradient goes to
    the first maximum of each window. ``return_indices=True`` also returns where each
    maximum is, as a flat index into its (H, W) plane.
    """
    x, unbatched = _batched(input, 4, "max_pool2d", "3D or 4D (batch mode)", OpError)
    k, s, p, d = check_pool(x, kernel_size, stride, padding, dilation, "max_pool2d")
    values, indices = _max_pool(x, k, s, p, d, ceil_mode, "max_pool2d")
    if unbatched:
        values, indices = values[0], indices[0]
    return (values, indices) if return_indices else values


def _max_pool(
    x: Tensor, k: _Pair, s: _Pair, p: _Pair, d: _Pair, ceil_mode: bool, op: str
) -> tuple[Tensor, Tensor]:
    N, C, H, W = x.shape
    OH, OW = check_pool_output(x, k, s, p, d, ceil_mode, op)
    low = -math.inf if x.data.dtype.kind == "f" else np.iinfo(x.data.dtype).min
    ends = [
        (o - 1) * st + dl * (kk - 1) + 1 - n - pp  # how far the last window reaches
        for o, st, dl, kk, n, pp in zip((OH, OW), s, d, k, (H, W), p, strict=True)
    ]
    x = pad(x, (p[1], ends[1], p[0], ends[0]), value=low)  # padding never wins a max
    windows = _windows(x, k, s, d).reshape(N, C, OH, OW, k[0] * k[1])
    pick = _max_entry(windows.data, k, s, p, d)  # (N, C, OH, OW): which entry is the max
    values = ops.TakeAlongDim.apply(windows, indices=pick[..., None], dim=-1, keepdim=False)
    # where it is: the window's corner plus the offset inside it, in unpadded coordinates
    xp = x.xp
    row = xp.arange(OH)[:, None] * s[0] - p[0] + (pick // k[1]) * d[0]
    col = xp.arange(OW)[None, :] * s[1] - p[1] + (pick % k[1]) * d[1]
    return values, Tensor._wrap(row * W + col)


def _max_entry(windows: Any, k: Any, s: Any, p: Any, d: Any) -> Any:
    """The entry of each window that max pooling picks, by PyTorch's rule: the first
    maximum; a nan wins (the last one); a window of nothing but -inf keeps its first entry
    inside the image. The gradient goes to this entry."""
    xp = array_module(windows)
    pick = windows.argmax(axis=-1)
    nan = xp.isnan(windows)
    if nan.any():
        last_nan = windows.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
        pick = xp.where(nan.any(axis=-1), last_nan, pick)
    if windows.dtype.kind == "f":
        lowest = xp.take_along_axis(windows, pick[..., None], axis=-1)[..., 0] == -math.inf
        if lowest.any():  # the first window entry at row >= 0 and column >= 0
            OH, OW = windows.shape[2:4]
            first = [
                xp.maximum(0, -(-(pp - xp.arange(o) * st) // dl))  # ceil, clipped at 0
                for o, st, pp, dl in zip((OH, OW), s, p, d, strict=True)
            ]
            inside = first[0][:, None] * k[1] + first[1][None, :]
            pick = xp.where(lowest, inside, pick)
    return pick


def max_pool1d(
    input: Tensor, kernel_size: int | Sequence[int],  # noqa: A002
    stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1, ceil_mode: bool = False, return_indices: bool = False,
) -> Any:  # fmt: skip
    """The largest entry of every window of a (N, C, L) or (C, L) sequence, PyTorch's
    ``F.max_pool1d``: max_pool2d of images one row high."""
    x, unbatched = _batched(input, 3, "max_pool1d", "2D or 3D (batch mode)", OpError)
    check_float(x, "max_pool1d")  # PyTorch has no integer kernel here (max_pool2d has one)
    (k,), (s,), (p,), (d,) = check_pool(x, kernel_size, stride, padding, dilation, "max_pool1d")
    values, indices = _max_pool(
        x.unsqueeze(2), (1, k), (1, s), (0, p), (1, d), ceil_mode, "max_pool1d"
    )
    values, indices = values.squeeze(2), Tensor._wrap(indices.data[:, :, 0])
    if unbatched:
        values, indices = values[0], indices[0]
    return (values, indices) if return_indices else values


def avg_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of every ``kernel_size`` window, PyTorch's ``F.avg_pool2d``.

    A window's sum is divided by its size, counting the zero padding
    (``count_include_pad=True``, the default) or only the real entries; never the part of
    a ``ceil_mode`` window past the padding. ``divisor_override`` divides every sum by
    that number instead.
    """
    x, unbatched = _batched(input, 4, "avg_pool2d", "3D or 4D (batch mode)", DimError)
    k, s, p, _ = check_pool(x, kernel_size, stride, padding, 1, "avg_pool2d")
    check_divisor(divisor_override)
    out = _avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override, "avg_pool2d")
    return out[0] if unbatched else out


def _avg_pool(
    x: Tensor,
    k: _Pair,
    s: _Pair,
    p: _Pair,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor: int | None,
    op: str,
) -> Tensor:
    N, C, H, W = x.shape
    OH, OW = check_pool_output(x, k, s, p, (1, 1), ceil_mode, op)
    ends = [
        (o - 1) * st + kk - n - pp
        for o, st, kk, n, pp in zip((OH, OW), s, k, (H, W), p, strict=True)
    ]
    x = pad(x, (p[1], ends[1], p[0], ends[0]))  # zeros add nothing to a sum
    sums = _windows(x, k, s, (1, 1)).sum(dim=(-2, -1))  # (N, C, OH, OW)
    if divisor is not None:
        sizes: Any = np.asarray(divisor)
    else:  # (OH, OW): each window's size
        counts = [
            _window_counts(n, kk, st, pp, o, count_include_pad)
            for n, kk, st, pp, o in zip((H, W), k, s, p, (OH, OW), strict=True)
        ]
        sizes = np.multiply.outer(*counts)
    sizes = x.xp.asarray(sizes)  # planned on the host, used where the data is
    if sums.data.dtype.kind != "f":  # integers divide toward zero, as PyTorch's do
        return Tensor._wrap((sums.data / sizes).astype(sums.data.dtype))
    return sums / Tensor._wrap(sizes.astype(sums.data.dtype))


def _window_counts(n: int, k: int, stride: int, padding: int, out: int, with_pad: bool) -> Any:
    """How many entries each pooling window along one dim averages (PyTorch's rule: the
    padding counts if ``with_pad``, the overhang of a ceil_mode window never does).

    >>> _window_counts(5, 3, 2, 1, 3, True).tolist()   # windows -1..1, 1..3, 3..5
    [3, 3, 3]
    """
    start = np.arange(out) * stride - padding
    end = np.minimum(start + k, n + padding)
    if not with_pad:
        start, end = np.maximum(start, 0), np.minimum(end, n)
    return end - start


def avg_pool1d(
    input: Tensor, kernel_size: int | Sequence[int],  # noqa: A002
    stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
    ceil_mode: bool = False, count_include_pad: bool = True,
) -> Tensor:  # fmt: skip
    """The mean of every window of a (N, C, L) or (C, L) sequence, PyTorch's
    ``F.avg_pool1d``: avg_pool2d of images one row high."""
    x, unbatched = _batched(input, 3, "avg_pool1d", "2 to 3 dimensions", OpError)
    (k,), (s,), (p,), _ = check_pool(x, kernel_size, stride, padding, 1, "avg_pool1d")
    out = _avg_pool(
        x.unsqueeze(2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad, None, "avg_pool1d"
    )
    out = out.squeeze(2)
    return out[0] if unbatched else out


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average over an ``output_size`` grid of windows that tile the image, PyTorch's
    ``F.adaptive_avg_pool2d`` (an int, a pair, or None in a pair to keep that size).

    Output row i averages input rows floor(i H / OH) to ceil((i + 1) H / OH): windows of
    unequal sizes, so nothing slides; averaging the rows, then the columns, is a product
    with an (OH, H) and a (W, OW) averaging matrix.
    """
    x, unbatched = _batched(input, 4, "adaptive_avg_pool2d", "3D or 4D", OpError)
    check_float(x, "adaptive_avg_pool2d")
    OH, OW = check_adaptive(x, output_size, 2, "adaptive_avg_pool2d")
    H, W = x.shape[2:]
    rows = on_device_of(x, _averaging_matrix(H, OH, x.data.dtype))  # (OH, H)
    cols = on_device_of(x, _averaging_matrix(W, OW, x.data.dtype).T)  # (W, OW)
    out = rows @ x @ cols  # (N, C, OH, OW)
    return out[0] if unbatched else out


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average over ``output_size`` windows that tile a (N, C, L) or (C, L) sequence,
    PyTorch's ``F.adaptive_avg_pool1d`` (see :func:`adaptive_avg_pool2d`)."""
    x, unbatched = _batched(input, 3, "adaptive_avg_pool1d", "2D or 3D", OpError)
    check_float(x, "adaptive_avg_pool1d")
    (OL,) = check_adaptive(x, output_size, 1, "adaptive_avg_pool1d")
    out = x @ on_device_of(x, _averaging_matrix(x.shape[2], OL, x.data.dtype).T)  # (N, C, OL)
    return out[0] if unbatched else out


def _averaging_matrix(n: int, out: int, dtype: Any) -> Any:
    """(out, n): row i averages entries floor(i n / out) up to ceil((i + 1) n / out).

    >>> _averaging_matrix(3, 2, float).tolist()
    [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]
    """
    i = np.arange(out)
    start, end = (i * n) // out, -((-(i + 1) * n) // out)  # floor, and ceil
    j = np.arange(n)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def interpolate(
    input: Tensor,  # noqa: A002
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W), PyTorch's
    ``F.interpolate``, to ``size`` or to ``floor(n * scale_factor)``.

    Modes: "nearest" (the input at floor(i * in / out)), "nearest-exact" (at the centres:
    floor((i + 0.5) * in / out)), "linear" / "bilinear" / "trilinear" (between the two
    nearest inputs, per dim), "bicubic" (4 inputs, cubic weights, A = -0.75), "area"
    (adaptive average pooling). ``align_corners=True`` maps the corner pixels' centres onto
    each other; False (the default) their outer edges. One dim at a time, the last first,
    each output is a weighted sum of inputs picked by index (the gradient scatters back).
    """
    sizes, scales = check_interpolate(
        input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias
    )
    if mode == "area":
        area = adaptive_avg_pool1d if input.ndim == 3 else adaptive_avg_pool2d
        return area(input, sizes)
    x = input
    for dim in reversed(range(2, input.ndim)):  # as PyTorch sums: the last dim innermost
        n, out, scale = input.shape[dim], sizes[dim - 2], scales[dim - 2]
        taps = _interpolation_taps(mode, n, out, scale, bool(align_corners), x.data.dtype)
        x = _weighted_taps(x, dim, taps)
    return x


def _weighted_taps(x: Tensor, dim: int, taps: list[tuple[Any, Any]]) -> Tensor:
    """sum over taps j of weight_j * x[..., index_j, ...] along ``dim`` (weight None: 1)."""
    terms = []
    for index, weight in taps:
        term = x[_along(dim, index)]
        along = weight.reshape((-1,) + (1,) * (x.ndim - 1 - dim)) if weight is not None else None
        terms.append(term if along is None else term * on_device_of(x, along))
    out = terms[0]
    for term in terms[1:]:
        out = out + term  # tap 0 first, as PyTorch adds them
    return out


def _interpolation_taps(
    mode: str, n: int, out: int, scale: float | None, align_corners: bool, dtype: Any
) -> list[tuple[Any, Any]]:
    """For output positions 0..out-1 along one dim: [(input index, weight), ...], the inputs
    each output sums (weight None: 1). PyTorch's arithmetic, in float32 for nearest and in
    the input's float type for the others, so the indices agree at the rounding edges."""
    dst = np.arange(out)
    ft = np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(np.float32)
    i = dst.astype(ft)
    if align_corners:  # the centres of the corner pixels meet
        ratio = ft.type(n - 1) / ft.type(out - 1) if out > 1 else ft.type(0.0)
    else:  # input positions per output position
        ratio = ft.type(1.0 / scale) if scale else ft.type(n) / ft.type(out)
    if mode == "nearest":  # the input at floor(i * in / out)
        return [
            (np.minimum(np.floor((ratio * i).astype(np.float32)).astype(np.int64), n - 1), None)
        ]
    real = ratio * i if align_corners else ratio * (i + ft.type(0.5)) - ft.type(0.5)  # centres
    if mode == "nearest-exact":  # the input whose centre is nearest
        real = (np.maximum(real, 0).astype(np.float64) + 0.5).astype(np.float32)
        return [(np.minimum(np.floor(real).astype(np.int64), n - 1), None)]
    if mode == "bicubic":
        return _cubic_taps(real, n, ft)
    if out == n:  # the same size: each output is its input (PyTorch copies)
        return [(dst, None)]
    real = np.maximum(real, ft.type(0.0))  # outputs before the first centre take the first
    i0 = np.minimum(np.floor(real).astype(np.int64), n - 1)
    lam = np.clip(real - i0.astype(ft), 0, 1).astype(ft)  # how far towards the next input
    i1 = i0 + (i0 < n - 1)
    return [(i0, (ft.type(1.0) - lam).astype(ft)), (i1, lam)]


def _cubic_taps(real: Any, n: int, ft: Any) -> list[tuple[Any, Any]]:
    """Bicubic: the 4 inputs around each position with Keys' cubic weights (A = -0.75, as
    PyTorch), indices clamped to the edge."""
    A = ft.type(-0.75)
    i = np.minimum(np.floor(real).astype(np.int64), n - 1)
    t = np.clip(real - i.astype(ft), 0, 1).astype(ft)  # where between inputs i and i + 1

    def near(x: Any) -> Any:  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x: Any) -> Any:  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    return [(np.clip(i - 1 + j, 0, n - 1), w.astype(ft)) for j, w in enumerate(weights)]


def _along(dim: int, index: Any) -> tuple[Any, ...]:
    """An index that applies ``index`` to dim ``dim`` only: ``x[_along(2, i)]`` is
    ``x[:, :, i]``."""
    return (slice(None),) * dim + (index,)


def _batched(x: Tensor, ndim: int, op: str, expected: str, error: type) -> tuple[Tensor, bool]:
    """(x with a batch dim, whether it had none): PyTorch takes unbatched inputs too."""
    if x.ndim not in (ndim - 1, ndim):
        raise error(f"{op}: expected {expected} input, got input of size {list(x.shape)}")
    return (x.unsqueeze(0), True) if x.ndim == ndim - 1 else (x, False)


# ---------------------------------------------------------------- checks (conv and pooling)
# PyTorch's checks with PyTorch's exception types (OpError is its RuntimeError), each
# message prefixed by the op.


def _ints(value: Any, n: int, name: str, op: str) -> tuple[int, ...]:
    """An int or a sequence of n ints, as an n-tuple."""
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    t = tuple(int(v) for v in value)
    if len(t) != n:
        raise OpError(
            f"{op}: expected {name} to be a single integer value or a list of {n} values to "
            f"match the convolution dimensions, but got {name}={list(t)}"
        )
    return t


def _greater_than_zero(op: str, name: str, values: Any) -> None:
    """PyTorch's refusal of a kernel size, stride or dilation <= 0 (``values`` as it shows
    them)."""
    if any(v <= 0 for v in values):
        raise OpError(f"{op}: {name} should be greater than zero, but got {values}")


def check_conv(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    n: int,
    op: str,
) -> Any:
    """(stride, padding as (before, after) for each dim flattened, dilation) for a batched
    input, after PyTorch's checks of a convolution."""
    if weight.ndim != n + 2:
        raise OpError(
            f"{op}: weight must be {n + 2}-D (out_channels, in_channels / groups, kernel), "
            f"got weight of size {list(weight.shape)}"
        )
    s, d = _ints(stride, n, "stride", op), _ints(dilation, n, "dilation", op)
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise OpError(f"{op}: Invalid padding string: {padding!r}")
        if padding == "same" and any(v != 1 for v in s):
            raise OpError(f"{op}: padding='same' is not supported for strided convolutions")
        totals = [dl * (k - 1) if padding == "same" else 0 for dl, k in zip(d, kernel, strict=True)]
        pads = tuple(v for t in totals for v in (t // 2, t - t // 2))  # the odd one at the end
    else:
        pads = tuple(v for q in _ints(padding, n, "padding", op) for v in (q, q))
    if groups <= 0:
        raise OpError(f"{op}: non-positive groups is not supported")
    if any(v <= 0 for v in s):
        raise OpError(f"{op}: non-positive stride is not supported")
    if any(v < 0 for v in pads):
        raise OpError(f"{op}: negative padding is not supported")
    _greater_than_zero(op, "dilation", list(d))
    if weight.dtype != x.dtype or (bias is not None and bias.dtype != x.dtype):
        raise OpError(
            f"{op}: input {x.dtype}, weight {weight.dtype}"
            + (f" and bias {bias.dtype}" if bias is not None else "")
            + ": expected one dtype (PyTorch does not promote here)"
        )
    O = weight.shape[0]
    if O % groups:
        raise OpError(
            f"{op}: Given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {list(weight.shape)} instead"
        )
    if x.shape[1] != weight.shape[1] * groups:
        raise OpError(
            f"{op}: Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{x.shape[1]} channels instead"
        )
    if bias is not None and tuple(bias.shape) != (O,):
        raise OpError(
            f"{op}: Given weight of size {list(weight.shape)}, expected bias to be "
            f"1-dimensional with {O} elements, but got bias of size {list(bias.shape)} instead"
        )
    padded = [size + pads[2 * i] + pads[2 * i + 1] for i, size in enumerate(x.shape[2:])]
    span = [dl * (k - 1) + 1 for dl, k in zip(d, kernel, strict=True)]
    if any(p < k for p, k in zip(padded, span, strict=True)):
        raise OpError(
            f"{op}: Calculated padded input size per channel: ({' x '.join(map(str, padded))})."
            f" Kernel size: ({' x '.join(map(str, span))}). Kernel size can't be greater than "
            "actual input size"
        )
    return s, pads, d


def check_conv_transpose(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
    n: int,
    op: str,
) -> Any:
    """(stride, padding, output_padding, dilation), each an n-tuple, after PyTorch's checks
    of a transposed convolution."""
    if weight.ndim != n + 2:
        raise OpError(
            f"{op}: weight must be {n + 2}-D (in_channels, out_channels / groups, kernel), "
            f"got weight of size {list(weight.shape)}"
        )
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints, not str")
    s, p = _ints(stride, n, "stride", op), _ints(padding, n, "padding", op)
    op_, d = _ints(output_padding, n, "output_padding", op), _ints(dilation, n, "dilation", op)
    if groups <= 0:
        raise OpError(f"{op}: non-positive groups is not supported")
    if any(v <= 0 for v in s):
        raise OpError(f"{op}: non-positive stride is not supported")
    if any(v < 0 for v in p + op_):
        raise OpError(f"{op}: negative padding is not supported")
    _greater_than_zero(op, "dilation", list(d))
    if any(o >= st and o >= dl for o, st, dl in zip(op_, s, d, strict=True)):
        raise OpError(
            f"{op}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding={list(op_)}, stride={list(s)}, dilation={list(d)}"
        )
    if weight.dtype != x.dtype or (bias is not None and bias.dtype != x.dtype):
        raise OpError(f"{op}: input {x.dtype} and weight {weight.dtype}: expected one dtype")
    C = weight.shape[0]
    if C % groups:
        raise OpError(
            f"{op}: Given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {list(weight.shape)} instead"
        )
    if x.shape[1] != C:
        raise OpError(
            f"{op}: Given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {C} channels, but got {x.shape[1]} channels instead"
        )
    O = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (O,):
        raise OpError(
            f"{op}: Given transposed=1, weight of size {list(weight.shape)}, expected bias to "
            f"be 1-dimensional with {O} elements, but got bias of size {list(bias.shape)}"
        )
    out = [
        (size - 1) * st - 2 * pp + dl * (k - 1) + o + 1
        for size, st, pp, dl, k, o in zip(x.shape[2:], s, p, d, weight.shape[2:], op_, strict=True)
    ]
    if any(v <= 0 for v in out):
        raise OpError(
            f"{op}: Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}). "
            f"Calculated output size per channel: ({' x '.join(map(str, out))}). Output size "
            "is too small"
        )
    return s, p, op_, d


def check_pool(
    x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, op: str
) -> Any:
    """(kernel, stride, padding, dilation), each a tuple of one int per spatial dim, after
    PyTorch's checks of a pooling (stride None or empty: the kernel)."""
    n = x.ndim - 2

    def ints(value: Any, name: str) -> tuple[int, ...]:
        if isinstance(value, numbers.Integral):
            return (int(value),) * n
        t = tuple(int(v) for v in value)
        if len(t) == 1:
            return t * n
        if len(t) != n:
            which = "a single int, or a tuple of two ints" if n == 2 else "a single int"
            raise OpError(f"{op}: {name} must either be {which}")
        return t

    k = ints(kernel_size, "kernel_size")
    s = (
        k
        if stride is None or (not isinstance(stride, numbers.Integral) and not len(stride))
        else ints(stride, "stride")
    )
    p, d = ints(padding, "padding"), ints(dilation, "dilation")
    _greater_than_zero(op, "kernel size", list(k))
    _greater_than_zero(op, "stride", list(s))
    _greater_than_zero(op, "dilation", list(d))
    if any(v < 0 for v in p):
        raise OpError(f"{op}: pad must be non-negative, but got pad: {list(p)}")
    for pp, kk, dl in zip(p, k, d, strict=True):
        if pp > (dl * (kk - 1) + 1) // 2:
            raise OpError(
                f"{op}: pad should be at most half of effective kernel size, but got "
                f"pad={pp}, kernel_size={kk} and dilation={dl}"
            )
    return k, s, p, d


def check_pool_output(
    x: Tensor,
    k: tuple[int, int],
    s: tuple[int, int],
    p: tuple[int, int],
    d: tuple[int, int],
    ceil_mode: bool,
    op: str,
) -> tuple[int, int]:
    """The output size of a pooling, PyTorch's formula; ceil_mode keeps a partial last
    window only if it starts inside the input or its left padding."""
    sizes = []
    for n, kk, st, pp, dl in zip(x.shape[2:], k, s, p, d, strict=True):
        out = (n + 2 * pp - dl * (kk - 1) - 1 + (st - 1 if ceil_mode else 0)) // st + 1
        if ceil_mode and (out - 1) * st >= n + pp:
            out -= 1
        sizes.append(out)
    if any(v < 1 for v in sizes):
        c = x.shape[1]
        raise OpError(
            f"{op}: Given input size: ({'x'.join(map(str, (c, *x.shape[2:])))}). Calculated "
            f"output size: ({'x'.join(map(str, (c, *sizes)))}). Output size is too small"
        )
    return sizes[0], sizes[1]


def check_divisor(divisor_override: int | None) -> None:
    if divisor_override is not None and divisor_override == 0:
        raise OpError("avg_pool2d: divisor must be not zero")


def check_adaptive(x: Tensor, output_size: Any, n: int, op: str) -> tuple[int, ...]:
    """The output size of an adaptive pooling: an int, or one per dim (None keeps it)."""
    sizes = (
        (output_size,) * n
        if isinstance(output_size, numbers.Integral) or output_size is None
        else tuple(output_size)
    )
    if len(sizes) != n:
        raise OpError(f"{op}: output_size must be {n} ints, got {output_size!r}")
    out = tuple(x.shape[2 + i] if v is None else int(v) for i, v in enumerate(sizes))
    if any(v < 0 for v in out):
        raise OpError(f"{op}: output_size must be non-negative, got {out}")
    return out


def check_unfold(x: Tensor, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> Any:
    """(kernel, dilation, padding, stride) pairs for a batched (N, C, H, W) input."""
    k, d = _ints(kernel_size, 2, "kernel_size", "unfold"), _ints(dilation, 2, "dilation", "unfold")
    p, s = _ints(padding, 2, "padding", "unfold"), _ints(stride, 2, "stride", "unfold")
    _check_sliding("unfold", k, d, p, s)
    blocks = [
        (n + 2 * pp - dl * (kk - 1) - 1) // st + 1
        for n, kk, dl, pp, st in zip(x.shape[2:], k, d, p, s, strict=True)
    ]
    if any(b < 1 for b in blocks):
        raise OpError(
            f"unfold: Given input with spatial size {tuple(x.shape[2:])}, kernel_size={k}, "
            f"dilation={d}, padding={p}, calculated shape of the array of sliding blocks as "
            f"{tuple(blocks)}, but its components must be at least one."
        )
    return k, d, p, s


def check_fold(
    x: Tensor, output_size: Any, kernel_size: Any, dilation: Any, padding: Any, stride: Any
) -> Any:
    """(output size, kernel, dilation, padding, stride, windows (OH, OW)) for a batched
    (N, C * kh * kw, L) input."""
    size = _ints(output_size, 2, "output_size", "fold")
    k, d = _ints(kernel_size, 2, "kernel_size", "fold"), _ints(dilation, 2, "dilation", "fold")
    p, s = _ints(padding, 2, "padding", "fold"), _ints(stride, 2, "stride", "fold")
    _check_sliding("fold", k, d, p, s)
    if x.shape[1] % (k[0] * k[1]):
        raise OpError(
            f"fold: Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={x.shape[1]} and kernel_size={k}."
        )
    blocks = tuple(
        (n + 2 * pp - dl * (kk - 1) - 1) // st + 1
        for n, kk, dl, pp, st in zip(size, k, d, p, s, strict=True)
    )
    if any(b < 1 for b in blocks) or x.shape[2] != blocks[0] * blocks[1]:
        raise OpError(
            f"fold: Given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, "
            f"stride={s}, expected size of input's dimension 2 to match the calculated number "
            f"of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
            f"input.size(2)={x.shape[2]}."
        )
    return size, k, d, p, s, blocks


def _check_sliding(op: str, k: Any, d: Any, p: Any, s: Any) -> None:
    _greater_than_zero(op, "kernel size", k)
    _greater_than_zero(op, "dilation", d)
    if any(v < 0 for v in p):
        raise OpError(f"{op}: padding should be non-negative, but got {p}")
    _greater_than_zero(op, "stride", s)


def check_pad(x: Tensor, pad: Sequence[int], mode: str, value: Any) -> None:
    """PyTorch's checks of F.pad: even length, at most two per dim, the modes' limits."""
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise OpError("pad: Padding length must be divisible by 2")
    if len(pad) // 2 > x.ndim:
        raise OpError(
            f"pad: Padding length should be less than or equal to two times the input "
            f"dimension but got padding length {len(pad)} and input of dimension {x.ndim}"
        )
    if mode != "constant":
        if value is not None and value != 0:
            raise OpError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
        if len(pad) not in (2, 4, 6) or x.ndim not in (len(pad) // 2 + 1, len(pad) // 2 + 2):
            raise NotImplementedError(
                f"pad: Padding size {len(pad)} is not supported for {x.ndim}D input tensor "
                f"in mode {mode!r}: (left, right) pads the last dim of a 2D or 3D input, "
                "4 numbers the last 2 dims of a 3D or 4D input, 6 the last 3 of a 4D or 5D one"
            )
    for i in range(len(pad) // 2):
        dim, (left, right) = x.ndim - 1 - i, pad[2 * i : 2 * i + 2]
        n = x.shape[dim]
        if n + left + right < 0 or (mode != "constant" and n + left + right <= 0):
            raise OpError(
                f"pad: the padding {(left, right)} leaves size {n + left + right} of dim "
                f"{dim} (size {n}) of input {list(x.shape)}"
            )
        if mode == "reflect" and (left >= n or right >= n):
            raise OpError(
                f"pad: Padding size should be less than the corresponding input dimension, "
                f"but got: padding ({left}, {right}) at dimension {dim} of input {list(x.shape)}"
            )
        if mode == "circular" and max(left, right) > n - max(-left, 0) - max(-right, 0):
            raise OpError("pad: Padding value causes wrapping around more than once.")


_INTERPOLATION_DIMS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


def check_interpolate(
    x: Tensor,
    size: Any,
    scale_factor: Any,
    mode: str,
    align_corners: Any,
    recompute_scale_factor: Any,
    antialias: bool,
) -> Any:
    """(output sizes, scales: the scale_factor PyTorch passes on, or None) after PyTorch's
    checks of F.interpolate."""
    check_float(x, "interpolate")
    modes = ("nearest", "nearest-exact", "area", *_INTERPOLATION_DIMS)
    if x.ndim not in (3, 4, 5) or mode not in modes:
        raise NotImplementedError(
            f"interpolate: Input Error: Only 3D, 4D and 5D input Tensors supported (got "
            f"{x.ndim}D) for the modes: {' | '.join(modes)} (got {mode})"
        )
    if align_corners is not None and mode not in _INTERPOLATION_DIMS:
        raise ValueError(
            "interpolate: align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | bicubic | trilinear"
        )
    if mode in _INTERPOLATION_DIMS and x.ndim != _INTERPOLATION_DIMS[mode]:
        raise NotImplementedError(
            f"interpolate: Got {x.ndim}D input, but {mode} mode needs "
            f"{_INTERPOLATION_DIMS[mode]}D input"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented")
    if mode == "area" and x.ndim == 5:
        raise NotImplementedError("interpolate: mode 'area' of 5-D input is not implemented")
    n = x.ndim - 2
    if (size is None) == (scale_factor is None):
        which = "only one of" if size is not None else "either"
        raise ValueError(f"interpolate: {which} size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(
                "interpolate: recompute_scale_factor is not meaningful with an explicit size."
            )
        sizes = (size,) * n if isinstance(size, numbers.Integral) else tuple(size)
        if any(not isinstance(v, numbers.Integral) for v in sizes):
            raise TypeError(f"interpolate: expected size to be ints, got {size!r}")
        scales: tuple[Any, ...] = (None,) * n
    else:
        scales = (
            (scale_factor,) * n if isinstance(scale_factor, numbers.Real) else tuple(scale_factor)
        )
        if len(scales) != n:
            raise ValueError(
                f"interpolate: Input and scale_factor must have the same number of spatial "
                f"dimensions, but got input with spatial dimensions of {list(x.shape[2:])} "
                f"and scale_factor of shape {scale_factor}."
            )
        sizes = tuple(
            math.floor(float(m) * float(f)) for m, f in zip(x.shape[2:], scales, strict=True)
        )
        if recompute_scale_factor:
            scales = (None,) * n
    if len(sizes) != n:
        raise ValueError(
            f"interpolate: Input and output must have the same number of spatial dimensions, "
            f"but got input with spatial dimensions of {list(x.shape[2:])} and output size of "
            f"{size}."
        )
    if any(v <= 0 for v in sizes) or any(v <= 0 for v in x.shape[2:]):
        raise OpError(
            f"interpolate: Input and output sizes should be greater than 0, but got input "
            f"{tuple(x.shape[2:])} output {tuple(sizes)}"
        )
    return tuple(int(v) for v in sizes), scales


# ================================================================ shared by both tiers
# The checks at the edge (the public functions above and their fused twins call the same
# ones) and the pieces that are no kernel: masks, running statistics.


def intarray_of(x: Any, name: str, op: str, xp: Any = np) -> Any:
    """Class indices / token ids as an int array of module ``xp``, from a Tensor, array or
    list (a host array goes to ``xp``'s device)."""
    arr = x.data if isinstance(x, Tensor) else xp.asarray(x)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must hold integers, got dtype {arr.dtype}")
    return arr


def check_float(x: Tensor, op: str) -> None:
    if x.data.dtype.kind != "f":
        raise DtypeError(
            f"{op}: expected a floating-point tensor, got dtype {x.dtype}; convert with .float()"
        )


def half_or_scalar(fn: Any, x: Tensor, dim: int) -> Tensor | None:
    """``fn(x, dim)`` (a softmax) for the inputs it does not take as they are, else None:
    float16 in float32 (see :func:`is_half`); one number as a distribution over one class."""
    if is_half(x):
        return fn(x.float(), dim).to(x.dtype)
    if x.ndim == 0:
        return fn(x.reshape(1), 0).reshape(())
    return None


def is_half(x: Tensor) -> bool:
    """float16 computes in float32 and rounds the result back, as PyTorch does: its exp
    underflows to 0 below -17, so a softmax row 20 below another's max would be 0 / 0."""
    return x.data.dtype == np.float16


def check_gelu(approximate: str) -> None:
    if approximate not in ("none", "tanh"):
        raise OpError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's older ``size_average``/``reduce`` flags as a ``reduction``: when either is
    given, reduce=False means "none", else size_average=False means "sum" (both default
    True)."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def check_reduction(reduction: str, op: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def classes_last(input: Tensor, target: Any) -> tuple[Tensor, Any]:
    """PyTorch's losses take an (N, C, d1, ...) input, classes in dim 1; groundup's models
    give (B, T, C), classes last. Move dim 1 last when the target says the input is in
    PyTorch's layout: class ids shaped (N, d1, ...) rather than ``input.shape[:-1]``, or
    probabilities of an input with more than 2 dims (PyTorch's rule; then they move too).

    ``classes_last(logits (4, 5, 7), ids (4, 7))`` -> logits (4, 7, 5), ids (4, 7).
    """
    if input.ndim <= 2:
        return input, target
    last = (0, *range(2, input.ndim), 1)
    if is_probabilities(target):
        target = target if isinstance(target, Tensor) else on_device_of(input, target)
        return input.permute(last), target.permute(last)
    shape = tuple(target.shape if hasattr(target, "shape") else np.shape(target))
    torch_layout = (input.shape[0], *input.shape[2:])
    if shape == torch_layout and shape != tuple(input.shape[:-1]):
        return input.permute(last), target
    return input, target


def is_probabilities(target: Any) -> bool:
    """Float targets are class probabilities (PyTorch's rule); integers are class ids."""
    return bool(
        (target.dtype if hasattr(target, "dtype") else np.asarray(target).dtype).kind == "f"
    )


def check_probabilities(log_probs: Tensor, target: Any, ignore_index: int, reduction: str) -> Any:
    """Probability targets as a Tensor of the logits' dtype, once their shape is checked."""
    q = target if isinstance(target, Tensor) else on_device_of(log_probs, target)
    check_reduction(reduction, "cross_entropy")
    if q.shape != log_probs.shape:
        raise TypeError(
            f"cross_entropy: targets must hold integers (class ids of shape "
            f"{log_probs.shape[:-1]}) or be class probabilities of the logits' shape "
            f"{log_probs.shape}, got {q.dtype} of shape {q.shape}"
        )
    if ignore_index != -100:
        raise OpError("cross_entropy: ignore_index is not supported for probability targets")
    return q if q.dtype == log_probs.dtype else q.to(log_probs.dtype)


def class_weights(
    log_probs: Tensor, target: Any, weight: Any, ignore_index: Any, reduction: str
) -> tuple[Any, Any, Any]:
    """(targets, which rows count, each row's weight: its class's, 0 where ignored)."""
    t = check_cross_entropy(log_probs, target, ignore_index, reduction)
    xp = log_probs.xp
    kept = t.reshape(-1) != ignore_index if ignore_index is not None else xp.ones(t.size, bool)
    if weight is None:
        return t, kept, kept.astype(log_probs.dtype)
    w = array_of(weight, xp).astype(log_probs.dtype, copy=False)
    if w.shape != (log_probs.shape[-1],):
        raise ValueError(
            f"cross_entropy: weight must hold one number per class, shape "
            f"({log_probs.shape[-1]},), got {w.shape}"
        )
    return t, kept, xp.where(kept, w[xp.where(kept, t.reshape(-1), 0)], 0).astype(w.dtype)


def check_binary(x: Tensor, target: Any, reduction: str, op: str) -> Tensor:
    """The targets of a binary cross-entropy as a Tensor of x's dtype and shape."""
    check_reduction(reduction, op)
    y = as_float(target, x)
    if y.shape != x.shape:
        raise ValueError(f"{op}: target {y.shape} must have the input's shape {x.shape}")
    if op == "binary_cross_entropy" and x.numel() and (x.data.min() < 0 or x.data.max() > 1):
        raise OpError(f"{op}: every input must be a probability in [0, 1]")
    return y


def as_float(a: Any, like: Tensor) -> Tensor:
    """A Tensor, array or number as a Tensor of ``like``'s float dtype (kept in the graph
    when it is a Tensor of that dtype already)."""
    if isinstance(a, Tensor):
        return a if a.dtype == like.dtype else a.to(like.dtype)
    return Tensor._wrap(like.xp.asarray(a, dtype=like.dtype))


def on_device_of(like: Tensor, a: Any) -> Tensor:
    """An array or list (often planned on the host: indices, weights, a mask) as a
    constant Tensor on ``like``'s device."""
    return Tensor._wrap(like.xp.asarray(a))


def check_cross_entropy(logits: Tensor, targets: Any, ignore_index: Any, reduction: str) -> Any:
    """The targets as an int array, after checking their shape, range and the reduction."""
    t = intarray_of(targets, "targets", "cross_entropy", logits.xp)
    if t.shape != logits.shape[:-1]:
        raise ValueError(
            f"cross_entropy: logits {logits.shape} need targets of shape {logits.shape[:-1]} "
            f"(classes in the last dim), got {t.shape}"
        )
    check_reduction(reduction, "cross_entropy")
    if t.size:
        check = t if ignore_index is None else t[t != ignore_index]
        C = logits.shape[-1]
        if check.size and (check.min() < 0 or check.max() >= C):
            bad = check.min() if check.min() < 0 else check.max()
            raise IndexError(f"cross_entropy: target {bad} is out of range for {C} classes")
    return t


def check_layer_norm(x: Tensor, normalized_shape: Any, op: str = "layer_norm") -> tuple[int, ...]:
    """normalized_shape as a tuple, checked against the end of x's shape."""
    check_float(x, "layer_norm")  # ints have no mean to subtract (PyTorch raises too)
    if isinstance(normalized_shape, numbers.Integral):  # 4, or np.int64(4) from a shape
        shape: tuple[int, ...] = (int(normalized_shape),)
    else:
        shape = tuple(int(s) for s in normalized_shape)
    if x.shape[len(x.shape) - len(shape) :] != shape:
        raise ValueError(f"{op}: input {x.shape} does not end in normalized_shape {shape}")
    return shape


def rms_eps(x: Tensor, eps: float | None) -> float:
    """The epsilon of rms_norm: the given one, or the dtype's machine epsilon (PyTorch's)."""
    return float(np.finfo(x.data.dtype).eps) if eps is None else float(eps)


def check_rotary(x: Tensor, cos: Any, sin: Any) -> tuple[Any, Any]:
    """cos and sin as arrays of x's dtype, after checking that they fit x (..., T, D)."""
    c, s = x.xp.asarray(array_of(cos)), x.xp.asarray(array_of(sin))  # host-made: moved
    D = x.shape[-1] if x.ndim else 0
    if D % 2 or c.shape != s.shape or c.ndim < 1 or c.shape[-1] != D:
        raise ValueError(
            f"rotary_embedding: x {x.shape} needs an even last dim and cos, sin of one shape "
            f"ending in it, got cos {c.shape}, sin {s.shape}"
        )
    return c.astype(x.data.dtype, copy=False), s.astype(x.data.dtype, copy=False)


def rope_cos_sin(
    positions: Any, head_dim: int, theta: float = 10000.0, dtype: Any = None
) -> tuple[Any, Any]:
    """The cosines and sines of RoPE's angles, each (T, head_dim), for integer positions (T,).

    _Pair i turns at frequency theta^(-2i / head_dim): the first pairs fast (position in
    the small), the last slowly (position in the large). Angles are computed in float64:
    a position of 100,000 times a frequency of 1 keeps its precision.

    >>> cos, sin = rope_cos_sin([0, 1], head_dim=4)
    >>> cos.shape, float(cos[0, 0]), round(float(sin[1, 0]), 4)
    ((2, 4), 1.0, 0.8415)
    """
    inv_freq = 1.0 / theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.outer(np.asarray(positions, dtype=np.float64), inv_freq)  # (T, D/2)
    angles = np.concatenate([angles, angles], axis=-1)  # (T, D): pair i is (i, i + D/2)
    dt = np.float32 if dtype is None else dtype
    return np.cos(angles).astype(dt), np.sin(angles).astype(dt)


def check_batch_norm(
    x: Tensor, running_mean: Any, running_var: Any, training: bool
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes the statistics run over, and the shape a per-channel vector broadcasts as."""
    if x.ndim not in (2, 3):
        raise ValueError(f"batch_norm: input must be (N, C) or (N, C, L), got {x.shape}")
    axes = (0,) if x.ndim == 2 else (0, 2)
    if training and x.shape[0] * (x.shape[2] if x.ndim == 3 else 1) <= 1:
        raise ValueError(
            f"batch_norm: training needs more than 1 value per channel, got input {x.shape}"
        )
    if not training and (running_mean is None or running_var is None):
        raise ValueError(
            "batch_norm: evaluation (training=False) needs running_mean and running_var"
        )
    cshape = (1, x.shape[1]) if x.ndim == 2 else (1, x.shape[1], 1)
    return axes, cshape


def array_of(a: Any, xp: Any = None) -> Any:
    """The array of a Tensor, or the array itself (running statistics may be either); with
    ``xp``, a list or host array becomes an array of that module."""
    if isinstance(a, Tensor):
        return a.data
    return a if xp is None else xp.asarray(a)


def update_running_stats(
    x: Any, running_mean: Any, running_var: Any, momentum: float, axes: tuple[int, ...]
) -> tuple[Any, Any]:
    """Move the running statistics (in place) toward the batch's; returns the batch's
    (mean, biased variance) per channel."""
    n = x.size // x.shape[1]
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    rm, rv = array_of(running_mean), array_of(running_var)
    if rm is not None:
        rm *= 1 - momentum
        rm += momentum * mean
    if rv is not None:
        rv *= 1 - momentum
        rv += momentum * var * (n / (n - 1))  # the unbiased batch variance, as PyTorch
    return mean, var


def check_heads(qkv: Tensor, n_head: int) -> tuple[int, int, int]:
    """(B, T, C) of a (B, T, 3C) qkv whose C splits into n_head heads."""
    if isinstance(n_head, bool) or not isinstance(n_head, numbers.Integral) or n_head < 1:
        raise ValueError(f"causal_self_attention: n_head must be a whole number >= 1, "
                         f"got {n_head!r}")  # fmt: skip
    if qkv.ndim != 3 or qkv.shape[-1] % (3 * n_head):
        raise ValueError(
            f"causal_self_attention: qkv {qkv.shape} must be (B, T, 3C) with C a multiple "
            f"of n_head {n_head}"
        )
    B, T, C3 = qkv.shape
    return B, T, C3 // 3


def check_linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    in_ok = x.ndim >= 1 and weight.ndim == 2 and x.shape[-1] == weight.shape[-1]
    bias_ok = bias is None or (weight.ndim == 2 and tuple(bias.shape) == (weight.shape[0],))
    if not (in_ok and bias_ok):
        raise ValueError(
            f"linear: input {x.shape} @ weight {weight.shape}^T: input features "
            f"{x.shape[-1] if x.ndim else None} and weight in_features "
            f"{weight.shape[-1] if weight.ndim else None} differ"
            + (f", or bias {bias.shape} does not fit" if bias is not None else "")
        )


def check_embedding(idx: Any, weight: Tensor) -> Any:
    ids = intarray_of(idx, "idx", "embedding", weight.xp)
    if ids.size and (ids.min() < 0 or ids.max() >= weight.shape[0]):
        bad = ids.min() if ids.min() < 0 else ids.max()
        raise IndexError(f"embedding: index {bad} is out of range for {weight.shape[0]} rows")
    return ids


def padding_row(padding_idx: int | None, num_embeddings: int) -> int | None:
    """``padding_idx`` as a row number (-1 is the last), or PyTorch's AssertionError."""
    if padding_idx is None:
        return None
    if not isinstance(padding_idx, numbers.Integral) or isinstance(padding_idx, bool):
        raise TypeError(f"embedding: padding_idx must be an int or None, got {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(
            f"embedding: padding_idx must be within num_embeddings ({num_embeddings}), "
            f"got {padding_idx}"
        )
    return padding_idx % num_embeddings


def check_dropout(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")


def dropout_mask(shape: tuple[int, ...], p: float, dtype: Any, generator: Any, xp: Any = np) -> Any:
    """Kept entries scaled by 1/(1-p), so the expected output equals the input.

    On the CPU the mask is drawn from ``generator`` itself. On a GPU, drawing millions of
    numbers on the host and copying them over would cost more than the layer: the host
    generator draws one seed instead, and the device's generator the mask, so a seeded run
    is still reproducible (and resumable), though its masks differ from the CPU's.
    """
    rng = _rng(generator)
    if xp is np:
        keep = rng.random(shape, dtype=np.float32) >= p
    else:
        seed = int(rng.integers(2**63))
        keep = xp.random.default_rng(seed).random(shape, dtype=np.float32) >= p
    return keep.astype(dtype) * (1.0 / (1.0 - p))


@lru_cache(maxsize=16)
def causal_mask(T: int, S: int, xp: Any = np) -> Any:
    """True above the diagonal: the future positions a query may not look at (an array
    of module ``xp``, made once per size and device)."""
    return xp.triu(xp.ones((T, S), dtype=bool), k=1)


def attention_inputs(
    q: Tensor, k: Tensor, attn_mask: Any, is_causal: bool, scale: float | None
) -> tuple[Any, Any, float]:
    """(mask where attention is NOT allowed, additive float mask, scale), from the user's
    ``attn_mask`` (True = may attend) or ``is_causal``."""
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    mask = additive = None
    if is_causal:
        mask = causal_mask(q.shape[-2], k.shape[-2], q.xp)
    elif attn_mask is not None:
        m = attn_mask.data if isinstance(attn_mask, Tensor) else q.xp.asarray(attn_mask)
        if m.dtype == bool:
            mask = ~m
        else:
            additive = m.astype(q.data.dtype, copy=False)
    return mask, additive, 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale


def attention_in_float32(
    q: Tensor, k: Tensor, v: Tensor, attn_mask: Any
) -> tuple[Tensor, Tensor, Tensor, Any]:
    """q, k, v and a float mask widened to float32 (a boolean mask as it is)."""
    if isinstance(attn_mask, Tensor) and attn_mask.data.dtype.kind == "f":
        attn_mask = attn_mask.float()
    elif attn_mask is not None and not isinstance(attn_mask, Tensor):
        m = q.xp.asarray(attn_mask)
        attn_mask = m if m.dtype == bool else m.astype(np.float32)
    return q.float(), k.float(), v.float(), attn_mask


def attention_dropout(q: Tensor, k: Tensor, p: float, generator: Any) -> Any:
    """The dropout mask of the attention weights, (..., T, S)."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    return dropout_mask(batch + (q.shape[-2], k.shape[-2]), p, q.data.dtype, generator, q.xp)
