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

from groundup.tensor.backend import xp
from groundup.tensor.creation import _rng
from groundup.tensor.function import OpError
from groundup.tensor.tensor import Tensor, where

__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "hardtanh",
    "leaky_relu",
    "nll_loss",
    "silu",
    "softplus",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "layer_norm",
    "linear",
    "log_softmax",
    "one_hot",
    "relu",
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
    if x.ndim == 0:  # one number: a distribution over one class
        return softmax(x.reshape(1), 0).reshape(())
    e = (x - x.max(dim=dim, keepdim=True)[0].detach()).exp()
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log softmax(x) = x - m - log(sum_j e^(x_j - m)): the log-sum-exp trick, never log(0)."""
    check_float(x, "log_softmax")
    if x.ndim == 0:
        return log_softmax(x.reshape(1), 0).reshape(())
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
        input: logits (C,), (N, C) or (B, T, C); the class dimension is the last one.
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
    log_probs = log_softmax(input, dim=-1)
    if is_probabilities(target):
        return soft_cross_entropy(log_probs, target, weight, ignore_index, reduction,
                                  label_smoothing)  # fmt: skip
    loss = nll_loss(log_probs, target, weight, ignore_index=ignore_index, reduction=reduction)
    if not label_smoothing:
        return loss
    # the uniform part of the smoothed target: -sum_c w_c log p_c per row, reduced as nll is
    t, kept, w = class_weights(log_probs, target, weight, ignore_index, reduction)
    w_c = 1.0 if weight is None else Tensor._wrap(array_of(weight).astype(input.dtype))
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
        q = q * Tensor._wrap(array_of(weight).astype(log_probs.dtype))
    losses = -(log_probs * q).sum(dim=-1)
    return reduced(losses, losses.numel(), reduction)


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The negative log-likelihood of ``target`` under log-probabilities ``input``
    (..., C), classes in the last dim: ``cross_entropy`` is ``nll_loss(log_softmax(x))``.
    ``weight`` (C,) scales each row by its target's weight; "mean" divides by their sum."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    t, kept, w = class_weights(input, target, weight, ignore_index, reduction)
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
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
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
    return Tensor._wrap(xp.eye(num_classes, dtype=xp.int64)[ids])


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
    return x * Tensor._wrap(dropout_mask(x.shape, p, x.data.dtype, generator))


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


# ================================================================ shared by both tiers
# The checks at the edge (the public functions above and their fused twins call the same
# ones) and the pieces that are no kernel: masks, running statistics.


def intarray_of(x: Any, name: str, op: str) -> Any:
    """Class indices / token ids as an int ndarray, from a Tensor, array or list."""
    arr = x.data if isinstance(x, Tensor) else xp.asarray(x)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must hold integers, got dtype {arr.dtype}")
    return arr


def check_float(x: Tensor, op: str) -> None:
    if x.data.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating-point tensor, got dtype {x.dtype}; convert with .float()"
        )


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


def is_probabilities(target: Any) -> bool:
    """Float targets are class probabilities (PyTorch's rule); integers are class ids."""
    return bool(
        (target.data if isinstance(target, Tensor) else xp.asarray(target)).dtype.kind == "f"
    )


def check_probabilities(log_probs: Tensor, target: Any, ignore_index: int, reduction: str) -> Any:
    """Probability targets as a Tensor of the logits' dtype, once their shape is checked."""
    q = target if isinstance(target, Tensor) else Tensor._wrap(xp.asarray(target))
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
    kept = t.reshape(-1) != ignore_index if ignore_index is not None else xp.ones(t.size, bool)
    if weight is None:
        return t, kept, kept.astype(log_probs.dtype)
    w = array_of(weight).astype(log_probs.dtype, copy=False)
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
    return Tensor._wrap(xp.asarray(a, dtype=like.dtype))


def check_cross_entropy(logits: Tensor, targets: Any, ignore_index: Any, reduction: str) -> Any:
    """The targets as an int array, after checking their shape, range and the reduction."""
    t = intarray_of(targets, "targets", "cross_entropy")
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


def check_layer_norm(x: Tensor, normalized_shape: Any) -> tuple[int, ...]:
    """normalized_shape as a tuple, checked against the end of x's shape."""
    if isinstance(normalized_shape, numbers.Integral):  # 4, or np.int64(4) from a shape
        shape: tuple[int, ...] = (int(normalized_shape),)
    else:
        shape = tuple(int(s) for s in normalized_shape)
    if x.shape[len(x.shape) - len(shape) :] != shape:
        raise ValueError(f"layer_norm: input {x.shape} does not end in normalized_shape {shape}")
    return shape


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


def array_of(a: Any) -> Any:
    """The array of a Tensor, or the array itself (running statistics may be either)."""
    return a.data if isinstance(a, Tensor) else a


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
    ids = intarray_of(idx, "idx", "embedding")
    if ids.size and (ids.min() < 0 or ids.max() >= weight.shape[0]):
        bad = ids.min() if ids.min() < 0 else ids.max()
        raise IndexError(f"embedding: index {bad} is out of range for {weight.shape[0]} rows")
    return ids


def padding_row(padding_idx: int | None, num_embeddings: int) -> int | None:
    """``padding_idx`` as a row number (-1 is the last), or PyTorch's AssertionError."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(
            f"embedding: padding_idx must be within num_embeddings ({num_embeddings}), "
            f"got {padding_idx}"
        )
    return padding_idx % num_embeddings


def check_dropout(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")


def dropout_mask(shape: tuple[int, ...], p: float, dtype: Any, generator: Any) -> Any:
    """Kept entries scaled by 1/(1-p), so the expected output equals the input."""
    keep = _rng(generator).random(shape, dtype=xp.float32) >= p
    return keep.astype(dtype) * (1.0 / (1.0 - p))


@lru_cache(maxsize=16)
def causal_mask(T: int, S: int) -> Any:
    """True above the diagonal: the future positions a query may not look at."""
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
        mask = causal_mask(q.shape[-2], k.shape[-2])
    elif attn_mask is not None:
        m = attn_mask.data if isinstance(attn_mask, Tensor) else xp.asarray(attn_mask)
        if m.dtype == bool:
            mask = ~m
        else:
            additive = m.astype(q.data.dtype, copy=False)
    return mask, additive, 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale


def attention_dropout(q: Tensor, k: Tensor, p: float, generator: Any) -> Any:
    """The dropout mask of the attention weights, (..., T, S)."""
    batch = xp.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    return dropout_mask(batch + (q.shape[-2], k.shape[-2]), p, q.data.dtype, generator)
