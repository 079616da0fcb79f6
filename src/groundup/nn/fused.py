"""The fast tier: the functions of :mod:`groundup.nn.functional`, each as one fused kernel.

:mod:`groundup.nn.functional` composes each function from primitive ops, the definition to
read. Here the same function is one :class:`~groundup.tensor.Function`: the forward does the
maths in as few passes over memory as it can (in place where it may), and the backward is
derived by hand, so training skips the graph of small steps. Read each as: the formula, the
forward, and the derivative right below it. ``tests/nn/test_functional.py`` checks that every
function here equals its definition there, values and gradients, in float64; the layers and
models call these. Arguments are checked by the same helpers as the definitions'.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from groundup.nn import functional
from groundup.nn.functional import (
    array_of,
    attention_dropout,
    attention_in_float32,
    attention_inputs,
    check_batch_norm,
    check_cross_entropy,
    check_dropout,
    check_embedding,
    check_float,
    check_gelu,
    check_heads,
    check_layer_norm,
    check_linear,
    check_rotary,
    classes_last,
    dropout_mask,
    half_or_scalar,
    is_half,
    is_probabilities,
    legacy_reduction,
    padding_row,
    rms_eps,
    update_running_stats,
)
from groundup.tensor.backend import array_module, errstate
from groundup.tensor.function import Function
from groundup.tensor.ops import erf_array, reshaped, unbroadcast
from groundup.tensor.tensor import Tensor
from groundup.tensor.threads import blas_kernel, blas_threads, spread

__all__ = list(functional.__all__)  # the same functions, by the same names


# ---------------------------------------------------------------- the compiled kernels
# With numba installed, the hot functions run the loops of groundup.nn.kernels on NumPy
# float32 and float64 arrays; on anything else (no numba, CuPy, float16) the NumPy code
# below each `if k:` runs. GROUNDUP_JIT=0 turns the kernels off.

_KERNELS: Any = False  # not looked for yet
_LOOKING = threading.Lock()  # the shards of a step may ask first on two threads at once


def kernels() -> Any:
    """groundup.nn.kernels, compiled on first use; None without numba or with GROUNDUP_JIT=0."""
    global _KERNELS
    if _KERNELS is False:
        with _LOOKING:
            if _KERNELS is False:  # set once found: a thread asking meanwhile waits here
                found: Any = None
                if os.environ.get("GROUNDUP_JIT", "1") != "0":
                    try:
                        from groundup.nn import kernels as found
                    except ImportError:  # numba missing (or broken): NumPy does the work
                        found = None
                _KERNELS = found
    return _KERNELS


def kernels_for(x: Any) -> Any:
    """The kernels, when they can run on ``x`` (a NumPy float32/float64 array); else None."""
    if type(x) is not np.ndarray or x.dtype not in _JIT_DTYPES:
        return None
    return kernels()


_JIT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# no kernel needed: one op each already, or rarely on a hot path
one_hot, relu, tanh = functional.one_hot, functional.relu, functional.tanh
silu, leaky_relu, hardtanh, softplus = (
    functional.silu, functional.leaky_relu, functional.hardtanh, functional.softplus)  # fmt: skip
nll_loss = functional.nll_loss
binary_cross_entropy = functional.binary_cross_entropy
binary_cross_entropy_with_logits = functional.binary_cross_entropy_with_logits


# ---------------------------------------------------------------- fast row reductions
# NumPy reduces a short contiguous last axis one row at a time (a loop call per row); a
# matrix-vector product with a vector of ones does all rows in one BLAS call instead.


def _row_sum(a: Any) -> Any:
    """Sum over the last axis, keeping it: ``a.sum(-1, keepdims=True)``, via one GEMV."""
    n = a.shape[-1]
    return (a.reshape(-1, n) @ array_module(a).ones(n, dtype=a.dtype)).reshape(*a.shape[:-1], 1)


def _row_dot(a: Any, b: Any) -> Any:
    """``(a * b).sum(-1, keepdims=True)`` without materialising ``a * b``."""
    xp = array_module(a)
    if hasattr(xp, "vecdot"):  # NumPy >= 2.0
        return xp.vecdot(a, b)[..., None]
    return xp.einsum("...i,...i->...", a, b)[..., None]


# exp(x) overflows float32 above ~88 and loses all precision below ~-87
_SAFE_RANGE = 80.0


def _global_shift(x: Any) -> Any:
    """One number to subtract from every row before exp, or None.

    Softmax subtracts each row's max so that exp cannot overflow. When every entry lies
    within 80 of the global max M, M serves every row (exp(x - M) <= 1, and no row
    underflows to all zeros), and two global reductions are far cheaper than a per-row max.
    None when the range is wider (huge logits, a -inf mask, nan).
    """
    hi, lo = x.max(), x.min()
    return hi if hi - lo < _SAFE_RANGE else None


def _softmax_last(x: Any) -> Any:
    """Softmax over the last axis of a float array, as a new array."""
    if not x.size:
        return x.copy()
    shift = _global_shift(x)
    if jit := kernels_for(x):  # attention's loop: exp, sum and divide per row
        y = np.array(x, order="C")
        rows = y.reshape(1, -1, y.shape[-1])
        top, seen = np.empty(rows.shape[:2]), np.full(rows.shape[1], rows.shape[2])
        jit.scores_softmax(rows, y.dtype.type(1), None, seen, top, np.empty_like(top), shift)
        return y
    y = x - (shift if shift is not None else x.max(axis=-1, keepdims=True))
    array_module(y).exp(y, out=y)
    y *= 1.0 / _row_sum(y)
    return y


# ================================================================ activations


class GELU(Function):
    """GELU, tanh approximation (GPT-2): 0.5 x (1 + tanh(z/2)), z = 2c (x + 0.044715 x^3).

    Computed as x * sigmoid(z), the same function (0.5 (1 + tanh(z/2)) = sigmoid(z)): one
    exp is cheaper than NumPy's tanh. With s = sigmoid(z) and c = sqrt(2/pi):
    d/dx = s + x s (1 - s) dz/dx, dz/dx = 2c (1 + 3 * 0.044715 x^2).
    """

    C = math.sqrt(2.0 / math.pi)
    K = 0.044715

    @classmethod
    def constants(cls, x: Any) -> Any:
        """c, k, 0.5, 1 and 3 k for the kernels, in x's dtype (and tanh's ratio in float32)."""
        tanh = kernels().TANH32 if x.dtype == np.float32 else ()
        return np.array([cls.C, cls.K, 0.5, 1.0, 3 * cls.K, *tanh], dtype=x.dtype)

    @classmethod
    def kernel_forward(cls, k: Any, x: Any, y: Any) -> Any:
        """y = GELU(x) by the kernels, x and y C-ordered of one shape."""
        x, out, const = x.reshape(-1), y.reshape(-1), cls.constants(x)
        if x.dtype == np.float32:
            k.gelu32_forward(x, const, out)
            return y
        t = np.empty_like(x)
        k.gelu_inner(x, const, t)
        np.tanh(t, out=t)
        k.gelu_outer(x, t, const, out)
        return y

    @classmethod
    def kernel_backward(cls, k: Any, g: Any, x: Any, dx: Any) -> Any:
        """dx = g GELU'(x) by the kernels, all C-ordered of one shape. dx must not be g: over
        its input, the compiled loop fails its overlap check and runs one float at a time
        (3M floats: 13.7 against 1.07 ms, 1 thread)."""
        g, x, out, const = g.reshape(-1), x.reshape(-1), dx.reshape(-1), cls.constants(x)
        if x.dtype == np.float32:
            k.gelu32_backward(g, x, const, out)
            return dx
        t = np.empty_like(x)
        k.gelu_inner(x, const, t)
        np.tanh(t, out=t)
        k.gelu_backward(g, x, t, const, out)
        return dx

    def forward(self, x: Any) -> Any:
        if k := kernels_for(x):  # float32: one loop; float64: two around NumPy's tanh
            self.x = x = np.ascontiguousarray(x)
            self.kernel = True  # tanh(z) is made again: memory over one pass
            return self.kernel_forward(k, x, np.empty_like(x))
        s = x * x  # s = sigmoid(z), computed in place
        s *= -2 * self.C * self.K
        s -= 2 * self.C
        s *= x  # -z
        with errstate(self.xp, over="ignore"):  # e^-z = inf for very negative x: s = 0, right
            self.xp.exp(s, out=s)
        s += 1
        self.xp.reciprocal(s, out=s)
        self.x, self.s = x, s
        return x * s

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if hasattr(self, "kernel"):  # the forward ran the kernels
            g = np.ascontiguousarray(grad, dtype=self.x.dtype)
            return (self.kernel_backward(kernels(), g, self.x, np.empty_like(self.x)),)
        x, s = self.x, self.s
        d = x * x
        d *= 6 * self.C * self.K
        d += 2 * self.C
        d *= x  # x dz/dx
        s1 = 1 - s
        s1 *= s
        d *= s1  # x s (1 - s) dz/dx
        d += s
        d *= grad
        return (d,)


class ExactGELU(Function):
    """GELU, exact form: x Phi(x), Phi(x) = 0.5 (1 + erf(x / sqrt(2))) the normal CDF.

    d/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi) the normal density.
    """

    def forward(self, x: Any) -> Any:
        cdf = erf_array(x * (1.0 / math.sqrt(2.0))).astype(x.dtype, copy=False)
        cdf += 1
        cdf *= 0.5
        self.x, self.cdf = x, cdf
        return x * cdf

    def backward(self, grad: Any) -> tuple[Any, ...]:
        x = self.x
        d = x * x
        d *= -0.5
        self.xp.exp(d, out=d)
        d *= x * (1.0 / math.sqrt(2.0 * math.pi))  # x phi(x)
        d += self.cdf
        d *= grad
        return (d,)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """`groundup.nn.functional.gelu`, as one kernel (either form)."""
    check_gelu(approximate)
    return GELU.apply(x) if approximate == "tanh" else ExactGELU.apply(x)


# ================================================================ softmax family


class Softmax(Function):
    """softmax(x)_i = e^(x_i - m) / sum_j e^(x_j - m), m = max_j x_j.

    Subtracting the row max first keeps e^x from overflowing; the result is unchanged.
    Backward: dx = y * (g - sum(g * y)).
    """

    def forward(self, x: Any, dim: int) -> Any:
        last = dim in (-1, x.ndim - 1)
        y = _softmax_last(x if last else self.xp.moveaxis(x, dim, -1))
        y = y if last else self.xp.moveaxis(y, -1, dim)
        self.y, self.dim = y, dim
        return y

    def backward(self, grad: Any) -> tuple[Any, ...]:
        y = self.y
        last = self.dim in (-1, y.ndim - 1)
        if last and (jit := kernels_for(y)) and y.flags.c_contiguous and y.size:
            dx, n = np.array(grad, dtype=y.dtype, order="C"), y.shape[-1]  # worked in place
            jit.softmax_backward(dx.reshape(1, -1, n), y.reshape(1, -1, n), y.dtype.type(1))
            return (dx,)
        if last:
            s = _row_dot(grad, y)
        else:
            s = (grad * y).sum(axis=self.dim, keepdims=True)
        dx = grad - s
        dx *= y
        return (dx,)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    check_float(x, "softmax")
    if (widened := half_or_scalar(softmax, x, dim)) is not None:
        return widened
    return Softmax.apply(x, dim=dim)


class LogSoftmax(Function):
    """log_softmax(x) = x - m - log(sum e^(x - m)): the log-sum-exp trick, never log(0).

    Backward: dx = g - softmax(x) * sum(g).
    """

    def forward(self, x: Any, dim: int) -> Any:
        shifted = x - x.max(axis=dim, keepdims=True)
        lse = self.xp.log(self.xp.exp(shifted).sum(axis=dim, keepdims=True))
        shifted -= lse
        self.out, self.dim = shifted, dim
        return shifted

    def backward(self, grad: Any) -> tuple[Any, ...]:
        dx = self.xp.exp(self.out)
        dx *= grad.sum(axis=self.dim, keepdims=True)
        self.xp.subtract(grad, dx, out=dx)
        return (dx,)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    check_float(x, "log_softmax")
    if (widened := half_or_scalar(log_softmax, x, dim)) is not None:
        return widened
    return LogSoftmax.apply(x, dim=dim)


class CrossEntropy(Function):
    """Mean (or sum, or per-row) of -log softmax(logits)[target], classes in the last dim.

    Backward per row: softmax(logits) - one_hot(target), times the row's weight (1/count
    for "mean"; 0 for ignored rows).
    """

    def forward(self, logits: Any, targets: Any, ignore_index: Any, reduction: str) -> Any:
        C = logits.shape[-1]
        x = logits.reshape(-1, C)
        t = targets.reshape(-1)
        rows = self.xp.arange(t.shape[0])
        ignored = None if ignore_index is None else t == ignore_index
        valid = None if ignored is None or not ignored.any() else ~ignored
        if valid is not None:
            t = self.xp.where(valid, t, 0)  # any class will do for an ignored row; masked below
        if k := kernels_for(x):  # the lines below in one loop
            x = np.ascontiguousarray(x)
            e, sumexp, losses = (
                np.empty_like(x),
                np.empty(len(x), x.dtype),
                np.empty(len(x), x.dtype),
            )
            k.cross_entropy_rows(x, t, e, sumexp, losses)
        else:
            e = x - x.max(axis=1, keepdims=True)  # shifted logits
            picked = e[rows, t]
            self.xp.exp(e, out=e)
            sumexp = e.sum(axis=1)
            losses = self.xp.log(sumexp)
            losses -= picked  # -log p_target = log sum e^z - z_target
        if valid is not None:
            losses[~valid] = 0  # not a multiplication by 0: a row of nan logits stays out
        count = t.shape[0] if valid is None else int(valid.sum())
        self.e, self.sumexp, self.t, self.rows, self.valid = e, sumexp, t, rows, valid
        self.shape, self.count, self.reduction = logits.shape, count, reduction
        if reduction == "none":
            return losses.reshape(targets.shape)
        total = losses.sum()
        if reduction == "sum":
            return total
        return total / count if count else self.xp.asarray(self.xp.nan, dtype=logits.dtype)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if self.reduction == "none":
            w = grad.reshape(-1)
        else:
            # every row ignored: the mean is nan (0/0, as PyTorch), but no row pulls on the
            # logits, so the gradient is 0, not nan that would poison the parameters
            count = self.count if self.count else 1
            scale = grad / count if self.reduction == "mean" else grad
            w = self.xp.full(self.t.shape[0], scale, dtype=self.e.dtype)
        if self.valid is not None:
            w = w * self.valid
        if k := kernels_for(self.e):  # the two lines below as one loop
            dx = np.empty_like(self.e)
            k.cross_entropy_backward(self.e, self.t, self.sumexp, w.astype(self.e.dtype), dx)
        else:
            dx = self.e * (w / self.sumexp)[:, None]  # softmax * weight
            dx[self.rows, self.t] -= w  # - one_hot * weight
        return (reshaped(dx, self.shape),)


def cross_entropy(input: Tensor, target: Any, weight: Any = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:  # fmt: skip
    """`groundup.nn.functional.cross_entropy`, as one kernel for what training runs (class
    ids, no class weights, no smoothing); the other cases are the definition itself."""
    if weight is not None or label_smoothing or is_probabilities(target):
        return functional.cross_entropy(
            input, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing
        )
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = classes_last(input, target)
    t = check_cross_entropy(input, target, ignore_index, reduction)
    return CrossEntropy.apply(input, ignore_index=ignore_index, reduction=reduction, targets=t)


# ================================================================ normalisation


class _Norm(Function):
    """What LayerNorm and RMSNorm share: the backward of the kernels' path, where the forward
    kept x2 (rows, n), w1 (the weight or ones), each row's mean and rstd, and center."""

    x2: Any
    w1: Any
    weight: Any
    mean: Any
    rstd: Any
    center: float
    shape: tuple[int, ...]

    def forward_kernel(self, k: Any, x: Any, weight: Any, bias: Any, n: int, eps: float,
                       center: float) -> Any:  # fmt: skip
        """One loop: each row's statistics, then its output; keeps what the backward reads."""
        x2 = np.ascontiguousarray(x.reshape(-1, n))  # rows to normalise, each of n numbers
        w = weight.reshape(-1) if weight is not None else np.ones(n, x.dtype)
        b = bias.reshape(-1) if bias is not None else np.zeros(n, x.dtype)
        y, mean, rstd = np.empty_like(x2), np.empty(len(x2)), np.empty(len(x2))  # float64
        k.layer_norm_forward(x2, w, b, eps, center, y, mean, rstd)
        self.x2, self.w1, self.mean, self.rstd, self.weight = x2, w, mean, rstd, weight
        self.center = center
        return y.reshape(x.shape)

    def backward_kernel(self, grad: Any) -> tuple[Any, ...]:
        x2, w = self.x2, self.weight
        k, n = kernels(), x2.shape[1]
        g2 = np.ascontiguousarray(grad.reshape(-1, n), dtype=x2.dtype)
        dx = np.empty(self.shape, x2.dtype)  # not a view: the engine may sum into it
        dw, db = np.zeros(n), np.zeros(n)  # column sums, in float64
        k.layer_norm_backward(g2, x2, self.w1, self.mean, self.rstd, self.center,
                              dx.reshape(x2.shape), dw, db)  # fmt: skip
        gw = reshaped(dw.astype(x2.dtype), w.shape) if w is not None else None
        gb = reshaped(db.astype(x2.dtype), w.shape) if w is not None else None
        return (dx, gw, gb)[: len(self.parents)]  # type: ignore[arg-type]


class LayerNorm(_Norm):
    """y = (x - mean) / sqrt(var + eps) * w + b, statistics over the trailing dims.

    Biased variance (divide by N), as PyTorch. Backward with xhat the normalised input:
    dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = g * w.
    """

    def forward(self, x: Any, weight: Any = None, bias: Any = None, *, n: int, eps: float) -> Any:
        self.shape = x.shape
        if k := kernels_for(x):  # one loop: statistics and output row by row
            return self.forward_kernel(k, x, weight, bias, n, eps, center=1.0)
        x2 = x.reshape(-1, n)  # rows to normalise, each of n numbers
        xhat = x2 - _row_sum(x2) * (1.0 / n)
        xhat -= _row_sum(xhat) * (1.0 / n)  # the float32 mean's rounding (close entries)
        var = _row_dot(xhat, xhat) * (1.0 / n)
        rstd = (1.0 / self.xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat *= rstd
        self.xhat, self.rstd, self.weight = xhat, rstd, weight
        y = xhat * weight.reshape(-1) if weight is not None else xhat.copy()
        if bias is not None:
            y += bias.reshape(-1)
        return y.reshape(x.shape)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if hasattr(self, "x2"):  # the forward ran the kernel
            return self.backward_kernel(grad)
        xhat, rstd, w = self.xhat, self.rstd, self.weight
        parents = self.parents
        n = xhat.shape[1]
        g2 = grad.reshape(-1, n)
        w1 = w.reshape(-1) if w is not None else self.xp.ones(n, dtype=xhat.dtype)
        gx = gw = gb = None
        gxhat = g2 * xhat  # serves dw (column sums) and mean(dxhat * xhat) (row sums)
        if len(parents) > 1 and parents[1].requires_grad:  # type: ignore[arg-type, index]
            gw = reshaped(self.xp.ones(g2.shape[0], dtype=g2.dtype) @ gxhat, w.shape)
        if len(parents) > 2 and parents[2].requires_grad:  # type: ignore[arg-type, index]
            gb = reshaped(self.xp.ones(g2.shape[0], dtype=g2.dtype) @ g2, w.shape)
        if parents[0].requires_grad:  # type: ignore[index]
            m1 = (g2 @ w1)[:, None] * (1.0 / n)  # mean(dxhat), dxhat = g * w
            m2 = (gxhat @ w1)[:, None] * (1.0 / n)  # mean(dxhat * xhat)
            t = xhat * m2
            t += m1
            dx = g2 * w1 if w is not None else g2.copy()
            dx -= t
            dx *= rstd
            gx = reshaped(dx, self.shape)
        return (gx, gw, gb)[: len(parents)]  # type: ignore[arg-type]


def layer_norm(x: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:  # fmt: skip
    """`groundup.nn.functional.layer_norm`, as one kernel."""
    shape = check_layer_norm(x, normalized_shape)
    n = math.prod(shape)
    if weight is None and bias is not None:
        weight = Tensor._wrap(x.xp.ones(shape, dtype=x.dtype))
    inputs = [t for t in (x, weight, bias) if t is not None]
    return LayerNorm.apply(*inputs, n=n, eps=eps)


class RMSNorm(_Norm):
    """y = x / sqrt(mean(x^2) + eps) * w, statistics over the trailing dims: LayerNorm
    without the mean and the bias (and with LayerNorm's kernels, told not to centre).

    Backward with xhat = x * rstd the normalised input and dxhat = g * w:
    dx = rstd * (dxhat - xhat * mean(dxhat * xhat)), dw = sum of g * xhat over the rows.
    """

    def forward(self, x: Any, weight: Any = None, *, n: int, eps: float) -> Any:
        self.shape = x.shape
        if k := kernels_for(x):  # LayerNorm's loops, the mean left in (center 0), no bias
            return self.forward_kernel(k, x, weight, None, n, eps, center=0.0)
        x2 = x.reshape(-1, n)  # rows to normalise, each of n numbers
        rstd = (1.0 / self.xp.sqrt(_row_dot(x2, x2) * (1.0 / n) + eps)).astype(x.dtype, copy=False)
        xhat = x2 * rstd
        self.xhat, self.rstd, self.weight = xhat, rstd, weight
        y = xhat * weight.reshape(-1) if weight is not None else xhat.copy()
        return y.reshape(x.shape)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if hasattr(self, "x2"):  # the forward ran LayerNorm's kernel
            return self.backward_kernel(grad)
        xhat, rstd, w = self.xhat, self.rstd, self.weight
        parents = self.parents
        n = xhat.shape[1]
        g2 = grad.reshape(-1, n)
        gx = gw = None
        if len(parents) > 1 and parents[1].requires_grad:  # type: ignore[arg-type, index]
            gw = reshaped(self.xp.ones(g2.shape[0], dtype=g2.dtype) @ (g2 * xhat), w.shape)
        if parents[0].requires_grad:  # type: ignore[index]
            dxhat = g2 * w.reshape(-1) if w is not None else g2.copy()
            m2 = _row_dot(dxhat, xhat) * (1.0 / n)  # mean(dxhat * xhat)
            dxhat -= xhat * m2
            dxhat *= rstd
            gx = reshaped(dxhat, self.shape)
        return (gx, gw)[: len(parents)]  # type: ignore[arg-type]


def rms_norm(x: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:  # fmt: skip
    """`groundup.nn.functional.rms_norm`, as one kernel."""
    shape = check_layer_norm(x, normalized_shape, "rms_norm")
    inputs = [x] if weight is None else [x, weight]
    return RMSNorm.apply(*inputs, n=math.prod(shape), eps=rms_eps(x, eps))


class BatchNorm(Function):
    """Batch normalisation over (N, C) or (N, C, L): statistics per channel C.

    Training uses the batch's statistics (biased variance in the normalisation) and
    backpropagates through them like layer_norm; evaluation uses fixed running statistics,
    so y is an affine function of x there.
    """

    def forward(
        self,
        x: Any,
        weight: Any = None,
        bias: Any = None,
        *,
        axes: tuple[int, ...],
        mean: Any,
        var: Any,
        eps: float,
        batch_stats: bool,
    ) -> Any:
        shape = [1] * x.ndim
        shape[1] = x.shape[1]  # (1, C) or (1, C, 1): broadcasts along the channel dim
        self.axes, self.cshape, self.batch_stats = axes, tuple(shape), batch_stats
        rstd = (1.0 / self.xp.sqrt(var + eps)).astype(x.dtype, copy=False).reshape(shape)
        xhat = x - mean.astype(x.dtype, copy=False).reshape(shape)
        xhat *= rstd
        self.xhat, self.rstd, self.weight = xhat, rstd, weight
        y = xhat * weight.reshape(shape) if weight is not None else xhat.copy()
        if bias is not None:
            y += bias.reshape(shape)
        return y

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xhat, rstd, w, axes = self.xhat, self.rstd, self.weight, self.axes
        parents = self.parents
        gw = gb = gx = None
        if len(parents) > 1 and parents[1].requires_grad:  # type: ignore[arg-type, index]
            gw = (grad * xhat).sum(axis=axes)
        if len(parents) > 2 and parents[2].requires_grad:  # type: ignore[arg-type, index]
            gb = grad.sum(axis=axes)
        if parents[0].requires_grad:  # type: ignore[index]
            dxhat = grad * w.reshape(self.cshape) if w is not None else grad.copy()
            if self.batch_stats:
                m1 = dxhat.mean(axis=axes, keepdims=True)
                m2 = (dxhat * xhat).mean(axis=axes, keepdims=True)
                dxhat -= m1
                dxhat -= xhat * m2
            dxhat *= rstd
            gx = dxhat
        return (gx, gw, gb)[: len(parents)]  # type: ignore[arg-type]


def batch_norm(x: Tensor, running_mean: Any, running_var: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:  # fmt: skip
    """`groundup.nn.functional.batch_norm`, as one kernel."""
    axes, _ = check_batch_norm(x, running_mean, running_var, training)
    if training:
        mean, var = update_running_stats(x.data, running_mean, running_var, momentum, axes)
    else:
        mean, var = array_of(running_mean), array_of(running_var)
    if weight is None and bias is not None:
        weight = Tensor._wrap(x.xp.ones(x.shape[1], dtype=x.dtype))
    inputs = [t for t in (x, weight, bias) if t is not None]
    return BatchNorm.apply(*inputs, axes=axes, mean=mean, var=var, eps=eps, batch_stats=training)


# ================================================================ linear and embedding


class Linear(Function):
    """y = x W^T + b with W (out, in), as PyTorch's ``F.linear``; rows of x in one GEMM.

    Backward: dx = g W, dW = g^T x, db = sum of g over the rows.
    """

    def forward(self, x: Any, weight: Any, bias: Any = None) -> Any:
        x2 = x.reshape(-1, x.shape[-1])  # (..., in) -> (rows, in)
        y = x2 @ weight.T
        if bias is not None and (k := kernels_for(y)) and bias.dtype == y.dtype:
            k.add_bias(y, bias)
        elif bias is not None:
            y += bias
        self.x2, self.weight, self.shape = x2, weight, x.shape
        return y.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, grad: Any) -> tuple[Any, ...]:
        g2 = grad.reshape(-1, grad.shape[-1])  # (rows, out)
        parents = self.parents
        assert parents is not None  # set by apply before backward can run
        # The bias's column sums first, while g is in the cache from the op that made it:
        # +32-42 us on the two GEMMs of a (1024, 192) g, against +68 after them (1 thread)
        gb = None
        if len(parents) > 2 and parents[2].requires_grad:
            gb = self.xp.ones(g2.shape[0], dtype=g2.dtype) @ g2  # one GEMV
        gx = reshaped(g2 @ self.weight, self.shape) if parents[0].requires_grad else None
        gw = g2.T @ self.x2 if parents[1].requires_grad else None
        return (gx, gw, gb)[: len(parents)]

    def shape_error(self, shapes: list[tuple[int, ...]], error: Exception) -> str:
        return (
            f"linear: input {shapes[0]} @ weight {shapes[1]}^T: input features "
            f"{shapes[0][-1]} and weight in_features {shapes[1][-1]} differ"
            + (f", or bias {shapes[2]} does not fit" if len(shapes) > 2 else "")
        )


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`groundup.nn.functional.linear`, as one kernel."""
    check_linear(x, weight, bias)
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


class GELULinear(Linear):
    """linear(gelu(x), W, b), GELU's tanh form, as one node that keeps x and not gelu(x):
    the backward makes gelu(x) again for dW, one pass of the GELU kernel, where two nodes
    would keep both. In a GPT's MLP gelu(x) is the largest activation of a block (4C wide),
    a quarter of what a block keeps for its backward (75 MB of a lecture step's 477).

    Backward: a = gelu(x) again; dW = g^T a, db = sum of g over the rows,
    dx = (g W) gelu'(x).
    """

    def forward(self, x: Any, weight: Any, bias: Any = None) -> Any:  # type: ignore[override]
        x = np.ascontiguousarray(x)
        a = GELU.kernel_forward(kernels(), x, np.empty_like(x))
        y = super().forward(a, weight, bias)
        self.x2 = x.reshape(-1, x.shape[-1])  # x in a's place: a is freed
        return y

    def backward(self, grad: Any) -> tuple[Any, ...]:
        parents, k, x2 = self.parents, kernels(), self.x2
        assert parents is not None  # set by apply before backward can run
        if parents[1].requires_grad:  # dW wants a = gelu(x): made again, then let go
            self.x2 = GELU.kernel_forward(k, x2, np.empty_like(x2))
        gx, gw, *gb = super().backward(np.asarray(grad, dtype=x2.dtype))
        self.x2 = x2
        if gx is not None:
            gx = GELU.kernel_backward(k, gx, x2.reshape(gx.shape), np.empty_like(gx))
        return (gx, gw, *gb)


def gelu_linear(x: Tensor, weight: Tensor, bias: Tensor | None = None,
                approximate: str = "none") -> Tensor:  # fmt: skip
    """`groundup.nn.functional.gelu_linear`: one node for the tanh form (see
    :class:`GELULinear`), else :func:`gelu` then :func:`linear`."""
    tensors = [t for t in (x, weight, bias) if t is not None]
    one_dtype = all(isinstance(t, Tensor) and t.data.dtype == x.data.dtype for t in tensors)
    if approximate != "tanh" or not one_dtype or kernels_for(x.data) is None:
        return linear(gelu(x, approximate), weight, bias)  # each checks its inputs
    check_linear(x, weight, bias)
    return GELULinear.apply(*tensors)


class Embedding(Function):
    """Rows of ``weight`` picked by integer ids: ``weight[idx]``.

    Backward scatter-adds each output row's gradient into the row it came from; an id that
    appears twice collects both.
    """

    def forward(self, weight: Any, idx: Any, padding_idx: int | None) -> Any:
        self.idx, self.wshape, self.padding_idx = idx, weight.shape, padding_idx
        return weight[idx]

    def backward(self, grad: Any) -> tuple[Any, ...]:
        V, D = self.wshape
        if k := kernels_for(grad):  # one loop over the rows
            out = np.zeros((V, D), dtype=grad.dtype)
            g = np.ascontiguousarray(grad.reshape(-1, D))
            k.embedding_backward(g, np.ascontiguousarray(self.idx.reshape(-1)), out)
        else:  # scatter-add on the flat view: ufunc.at is fast in 1-D, ~10x slower on rows
            out = self.xp.zeros(V * D, dtype=grad.dtype)
            flat = (self.idx.reshape(-1, 1) * D + self.xp.arange(D)).reshape(-1)  # entry ids
            self.xp.add.at(out, flat, grad.reshape(-1))
            out = out.reshape(V, D)
        if self.padding_idx is not None:
            out[self.padding_idx] = 0  # the padding row never learns
        return (out,)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """`groundup.nn.functional.embedding`, as one kernel."""
    ids = check_embedding(input, weight)
    pad = padding_row(padding_idx, weight.shape[0])
    return Embedding.apply(weight, idx=ids, padding_idx=pad)


# ================================================================ dropout


class Dropout(Function):
    def forward(self, x: Any, mask: Any) -> Any:
        self.mask = mask
        return x * mask

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * self.mask,)


def dropout(x: Tensor, p: float = 0.5, training: bool = True, generator: Any = None) -> Tensor:
    """`groundup.nn.functional.dropout`, as one kernel."""
    check_dropout(p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return Dropout.apply(x, mask=dropout_mask(x.shape, p, x.dtype, generator, x.xp))


# ================================================================ rotary position embedding


class Rotary(Function):
    """y = x cos + rotate_half(x) sin, rotate_half([x1, x2]) = [-x2, x1].

    On the halves: y1 = x1 c1 - x2 s1, y2 = x2 c2 + x1 s2. A rotation is linear, and
    rotate_half's transpose is -rotate_half, so the backward is the rotation by the
    opposite angle: dx = g cos - rotate_half(g sin); dx1 = g1 c1 + (g s)2,
    dx2 = g2 c2 - (g s)1. Only cos and sin are kept for it.
    """

    def forward(self, x: Any, *, cos: Any, sin: Any) -> Any:
        h = x.shape[-1] // 2
        y = x * cos
        y[..., :h] -= x[..., h:] * sin[..., :h]
        y[..., h:] += x[..., :h] * sin[..., h:]
        self.cos, self.sin, self.h = cos, sin, h
        return y

    def backward(self, grad: Any) -> tuple[Any, ...]:
        h = self.h
        gs = grad * self.sin
        dx = grad * self.cos
        dx[..., :h] += gs[..., h:]
        dx[..., h:] -= gs[..., :h]
        return (dx,)


def rotary_embedding(x: Tensor, cos: Any, sin: Any) -> Tensor:
    """`groundup.nn.functional.rotary_embedding`, as one kernel."""
    c, s = check_rotary(x, cos, sin)
    return Rotary.apply(x, cos=c, sin=s)


# ================================================================ attention


def product(a: Any, b: Any, out: Any, add: bool) -> None:
    """out = a @ b, or out += a @ b."""
    if add:
        out += a @ b
    else:
        np.matmul(a, b, out=out)


def transposed(x: Any, copy: bool) -> Any:
    """x (..., S, D) as (..., D, S): a C-ordered copy if ``copy`` and :data:`COPY_PAYS`,
    else the view. With AVX-512 kernels, NumPy (OpenBLAS) multiplies by the copy about
    twice as fast as by the view for small heads (q k^T at 128 x (64, 32) by (32, 64): 0.34
    against 0.70 ms, 1 thread), more than the copy costs (0.14 ms): attention at the baby
    GPT's shape runs 11-13% faster, at 1 thread and at 2. With AVX2 kernels (an AMD
    EPYC) the view is the faster, copy included: 1.87 against 2.15 ms at the baby's shape,
    0.26 against 0.30 at the tiny's (q k^T, the GPT's views; whole training steps 0.991x
    and 0.996x, alternating in one process). In blocks (T = 256, 64 queries by up to 256
    keys) the copy is no faster (1.01x the time at 1 thread, 1.06x at 2), so the blocks
    take the view. Either way the product's bits are the same."""
    if copy and copy_pays():
        return np.ascontiguousarray(np.swapaxes(x, -1, -2))
    return np.swapaxes(x, -1, -2)


AVX512_KERNELS = ("skylakex", "cooperlake", "sapphirerapids")  # OpenBLAS's, by CPU name


def _copy_pays() -> bool:
    """Whether the BLAS multiplies with AVX-512 kernels: OpenBLAS's kernel family when it
    can say, else whether NumPy found AVX-512 on this CPU. The kernel family is what counts:
    on an AMD EPYC with AVX-512 (Zen 5) run with ``OPENBLAS_CORETYPE=Haswell``, the view was
    again the faster (the tiny GPT's attention forward and backward 1.32 against 1.34 ms, the
    baby's 6.44 against 6.58, 1 thread, alternating in one process), and with SkylakeX
    kernels there the copy (1.55 against 1.69, 4.93 against 5.30)."""
    kernel = blas_kernel()
    if kernel is not None:
        return kernel in AVX512_KERNELS
    import importlib

    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):  # 2.x, 1.x
        try:
            return bool(importlib.import_module(name).__cpu_features__.get("AVX512F"))
        except (ImportError, AttributeError):
            continue
    return False


# Whether a small head's k^T is worth a C-ordered copy, found on first use: asking OpenBLAS
# loads it through ctypes, which importing groundup must not do.
COPY_PAYS: bool | None = None


def copy_pays() -> bool:
    """:data:`COPY_PAYS`, found once."""
    global COPY_PAYS
    if COPY_PAYS is None:
        COPY_PAYS = _copy_pays()
    return COPY_PAYS


def head_groups(batch: tuple[int, ...], block_bytes: int, most: int) -> list[tuple[Any, ...]]:
    """The first of attention's batch dimensions cut into slices h whose heads' blocks of
    weights (``block_bytes`` each) take ``most`` bytes or the fewest over it: a list of
    (h, the same heads as rows of (R, ...) = (prod(batch), ...), the slice's batch shape).

    ``head_groups((8, 4), 2**14, 2**18)``: batch entries 0-3 (rows 0-15 of R = 32), then
    4-7 (rows 16-31), each of batch shape (4, 4).
    """
    if not batch:
        return [(slice(None), slice(None), batch)]
    B, inner = batch[0], math.prod(batch[1:])
    n = max(1, most // max(1, inner * block_bytes))  # entries of batch[0] in a group
    ends = [(i, min(i + n, B)) for i in range(0, B, n)]
    return [(slice(i, j), slice(i * inner, j * inner), (j - i,) + batch[1:]) for i, j in ends]


def heads_side_by_side(batch: tuple[int, ...], T: int, D: int, dtype: Any) -> Any:
    """An empty (*batch, T, D) array laid out in memory as (batch[0], T, *batch[1:], D):
    attention's output, whose heads a model then puts side by side with
    ``y.transpose(1, 2).reshape(B, T, C)``, a view of this layout instead of a copy."""
    if len(batch) < 2:
        return np.empty(batch + (T, D), dtype=dtype)
    return np.moveaxis(np.empty(batch[:1] + (T,) + batch[1:] + (D,), dtype=dtype), 1, -2)


class Attention(Function):
    """softmax(q k^T * scale + mask) v over (..., T, D) inputs, forward and backward fused.

    Backward, with A the attention weights and P = dropout(A):
    dv = P^T g; dP = g v^T; dA = dropout'(dP); dS = A * (dA - sum(dA * A)) (softmax);
    dq = dS k * scale; dk = dS^T q * scale; and for a float mask M added to the scores (a
    fourth input when it is a Tensor that needs a gradient), dM = dS.
    """

    def forward(
        self, q: Any, k: Any, v: Any, *inputs: Any, mask: Any, additive: Any, scale: float,
        drop: Any, causal: bool = False,
    ) -> Any:  # fmt: skip
        if (jit := kernels_for(q)) and additive is None and not inputs and drop is None:
            if self.kernels_fit(q, k, v):
                return self.forward_kernel(jit, q, k, v, mask, scale, causal)
        att = q @ self.xp.swapaxes(k, -1, -2)  # (..., T, S)
        att *= scale
        if inputs:  # the float mask as an input of the graph
            additive = inputs[0]
        if additive is not None:
            att += additive
        self.mask_shape: Any = additive.shape if inputs else None
        shift = _global_shift(att)  # before masking: -inf entries would rule it out
        if shift is not None:
            att -= shift
        if mask is not None:  # True where attention is NOT allowed
            self.xp.copyto(att, -self.xp.inf, where=mask)
        if shift is None:  # the max of each row's allowed entries
            att -= att.max(axis=-1, keepdims=True)
        self.xp.exp(att, out=att)
        att *= 1.0 / _row_sum(att)
        p = att if drop is None else att * drop
        self.q, self.k, self.v, self.scale = q, k, v, scale
        self.att, self.p, self.drop = att, p, drop
        return p @ v

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if hasattr(self, "rows"):  # the forward ran the kernels
            return self.backward_kernel(grad)
        q, k, v, att, p = self.q, self.k, self.v, self.att, self.p
        nq, nk, nv, *nm = self.needs()
        gv = unbroadcast(self.xp.swapaxes(p, -1, -2) @ grad, v.shape) if nv else None
        gq = gk = gm = None
        if nq or nk or any(nm):
            ds = grad @ self.xp.swapaxes(v, -1, -2)  # dP
            if self.drop is not None:
                ds *= self.drop
            ds -= _row_dot(ds, att)
            ds *= att  # dS: the gradient of the scores, and so of an added mask
            if any(nm):
                gm = unbroadcast(ds, self.mask_shape)
            ds *= self.scale
            if nq:
                gq = unbroadcast(ds @ k, q.shape)
            if nk:
                gk = unbroadcast(self.xp.swapaxes(ds, -1, -2) @ q, k.shape)
        return (gq, gk, gv, gm)[: 3 + len(nm)]

    def needs(self) -> tuple[bool, ...]:
        """Which of q, k, v (and a float mask that learns) need a gradient."""
        return tuple(p.requires_grad for p in self.parents)  # type: ignore[union-attr]

    def gradient_arrays(self, new: Any, needs: tuple[bool, ...]) -> tuple[Any, Any, Any]:
        """Where the kernels write the gradients of q, k and v (None: not needed); ``new``
        makes those that the blocks add into (np.zeros with blocks, else np.empty)."""
        batch, dtype = self.batch, self.q.dtype
        gq = np.empty(batch + self.q.shape[-2:], dtype) if needs[0] else None
        gk = new(batch + self.k.shape[-2:], dtype) if needs[1] else None
        gv = new(batch + self.v.shape[-2:], dtype) if needs[2] else None
        return gq, gk, gv

    def gradients(self, gq: Any, gk: Any, gv: Any) -> tuple[Any, ...]:
        """The kernels' gradients as backward returns them, one per input."""
        return tuple(None if x is None else unbroadcast(x, p.shape)
                     for x, p in ((gq, self.q), (gk, self.k), (gv, self.v)))  # fmt: skip

    # The kernels' path (no dropout, no float mask). Weights over KEEP_BYTES are not kept
    # but made again in the backward from q, k and each row's log-sum-exp (one more matmul):
    # all of the lecture's (T = 256) would be a sixth of the memory a training step holds.
    # Under a causal mask only the blocks below the diagonal count (7.9 of 12.6 MB a layer
    # there, kept: forward and backward 23.9 against 27.0 ms a layer made again, 1 thread).
    KEEP_BYTES = 8 * 2**20
    # Under a causal mask (T = S) the queries go in blocks: block [a, b) sees keys [0, b)
    # only, so every product skips the blocks above the diagonal (n blocks: (n + 1) / 2n of
    # the multiply-adds) and the loops stop at each block's last key. Blocks of T / 8 rows,
    # BLOCK at least, from 4 blocks on: thinner products are slow in BLAS and use one
    # thread of two. Attention's forward and backward at T = 256 (batch 8, 6 heads of 64, 1
    # thread): 44 ms against 61 as one block with a mask array; at T = 1024 (batch 2, blocks
    # of 128), 120 against 209 (benchmarks/kernel_facts.py).
    BLOCK = 64
    # When a block of weights of all heads takes more than CACHE_BYTES (a core's L2 cache
    # here), the heads go in groups (along the first batch dimension) of about GROUP_BYTES:
    # a group's weights are made, turned into probabilities and multiplied while they sit
    # in the cache, where all heads' weights went through memory once per pass. Attention
    # at T = 256 (batch 8, 6 heads of 64, the GPT's q k v views, 1 thread) forward and
    # backward: 42.3-43.0 against 47.5-48.4 ms (benchmarks/kernel_facts.py, item 8); at the
    # baby GPT's shape (2 MB) groups cost more calls than they save.
    CACHE_BYTES, GROUP_BYTES = 2**21, 2**19
    # With more than one BLAS thread, the groups go over the threads (one group or more
    # each, groundup.tensor.threads.spread), each product on one BLAS thread, when the
    # forward's two products take SPREAD_FLOPS or more: a spread costs 0.13-0.28 ms (waking
    # our worker, stopping OpenBLAS's and starting them again). At 2 threads, forward and
    # backward after a Linear's product: 23.1-25.0 against 31.6-48.3 ms at the lecture
    # GPT's shape (2**29.6 flops), 3.7-4.5 against 4.9-5.9 at the baby's (2**26)
    # (benchmarks/kernel_facts.py, item 9); whole baby steps took 1.4-3.9% less, tiny ones
    # (2**23) 2-13% more, so the tiny GPT's attention does not spread.
    SPREAD_FLOPS = 2**25

    @staticmethod
    def kernels_fit(q: Any, k: Any, v: Any) -> bool:
        """One dtype, and v's batch dimensions within q k^T's (the weights' shape)."""
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
        return q.dtype == k.dtype == v.dtype and np.broadcast_shapes(batch, v.shape[:-2]) == batch

    def forward_kernel(self, jit: Any, q: Any, k: Any, v: Any, mask: Any, scale: float,
                       causal: bool) -> Any:  # fmt: skip
        T, S = q.shape[-2], k.shape[-2]
        size = max(self.BLOCK, T // 8)
        if causal and T == S and T >= 4 * size:  # (first row, end row, end column) of each
            self.rows = [(a, min(a + size, T), min(a + size, T)) for a in range(0, T, size)]
        else:
            self.rows = [(0, T, S)]
        self.batch = batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])  # the weights'
        R = math.prod(batch)
        block = max((b - a) * c for a, b, c in self.rows) * q.itemsize  # the widest block
        most = self.GROUP_BYTES if R * block > self.CACHE_BYTES else R * block
        work = 2 * R * T * S * (q.shape[-1] + v.shape[-1])  # the two products' flops, at most
        self.threads = blas_threads() if work >= self.SPREAD_FLOPS else 1  # one group each
        self.groups = head_groups(batch, block, min(most, R * block // self.threads))
        self.hidden = None  # a causal mask needs no array: row i sees its first i + 1 keys
        if causal and T == S:
            self.seen = np.arange(1, T + 1)
        else:  # one block: every row sees its S keys but those masked
            self.seen = np.full(T, S)
            if mask is not None:  # True: not seen
                self.hidden = np.broadcast_to(mask, batch + (T, S)).reshape(R, T, S)
        top, total = np.empty((R, T)), np.empty((R, T))  # float64: each row's max and sum
        out = heads_side_by_side(batch, T, v.shape[-1], q.dtype)
        entries = R * sum((b - a) * c for a, b, c in self.rows)  # the weights', all blocks
        keep = entries * q.itemsize <= self.KEEP_BYTES
        self.att = np.empty(batch + (T, S), q.dtype) if keep and len(self.rows) == 1 else None
        # in blocks, each group's block of weights as the forward made it, by (group, row)
        self.blocks: dict[tuple[int, int], Any] | None = {} if keep and self.att is None else None
        kT = transposed(k, len(self.rows) == 1)
        spread([partial(self.forward_heads, i, group, jit, q, kT, v, scale, top, total, out)
                for i, group in enumerate(self.groups)], self.threads)  # fmt: skip
        self.q, self.k, self.v, self.scale = q, k, v, scale
        if not keep:
            self.lse = top + np.log(total)  # the weights are exp(scale * s - lse)
        return out

    def forward_heads(self, i: int, group: tuple[Any, ...], jit: Any, q: Any, kT: Any,
                      v: Any, scale: float, top: Any, total: Any, out: Any) -> None:  # fmt: skip
        """The forward for the heads h of group i (rows r of R): their share of ``out`` and
        of each row's max and sum (``top``, ``total``)."""
        h, r, shape = group
        for a, b, c in self.rows:  # each block's weights, one block in memory at a time
            w = self.weights(q, kT, h, shape, a, b, c)  # (..., b - a, c): q k^T, then weights
            jit.scores_softmax(w.reshape(-1, b - a, c), q.dtype.type(scale),
                               self.mask_rows(r, a, b), self.seen[a:b], top[r, a:b],
                               total[r, a:b])  # fmt: skip
            np.matmul(w, self.part(v, h)[..., :c, :], out=self.part(out, h)[..., a:b, :])
            if self.blocks is not None:
                self.blocks[i, a] = w

    def part(self, x: Any, h: slice) -> Any:
        """x's share of the heads h: x[h] where x has the batch's first dimension, else the
        whole of x, which broadcasts over it."""
        if len(self.batch) == 0 or x.ndim - 2 < len(self.batch) or x.shape[0] != self.batch[0]:
            return x
        return x[h]

    def mask_rows(self, r: slice, a: int, b: int) -> Any:
        """The boolean mask's rows [a, b) of the batch rows r (R, b - a, S), or None."""
        return None if self.hidden is None else self.hidden[r, a:b]

    def weights(self, q: Any, kT: Any, h: slice, shape: tuple[int, ...], a: int, b: int,
                c: int) -> Any:  # fmt: skip
        """q k^T for the heads h (of batch shape ``shape``), queries [a, b) and keys [0, c),
        from kT = transposed(k): into the kept weights, or a new C-ordered array (the
        kernels take its rows as views)."""
        w = (
            self.part(self.att, h)
            if self.att is not None
            else np.empty(shape + (b - a, c), dtype=q.dtype)
        )
        return np.matmul(self.part(q, h)[..., a:b, :], self.part(kT, h)[..., :c], out=w)

    def backward_kernel(self, grad: Any) -> tuple[Any, ...]:
        q, k, v = self.q, self.k, self.v
        scale, grad = q.dtype.type(self.scale), np.asarray(grad, dtype=q.dtype)
        new = np.empty if len(self.rows) == 1 else np.zeros  # blocks add into gk and gv
        gq, gk, gv = self.gradient_arrays(new, self.needs())
        copy = len(self.rows) == 1
        kept = self.att is not None or self.blocks is not None
        kT = None if kept else transposed(k, copy)  # to make the weights again
        vT: Any = transposed(v, copy) if gq is not None or gk is not None else None  # for dA
        spread([partial(self.backward_heads, i, group, scale, grad, kT, vT, gq, gk, gv)
                for i, group in enumerate(self.groups)], self.threads)  # fmt: skip
        return self.gradients(gq, gk, gv)

    def backward_heads(self, i: int, group: tuple[Any, ...], scale: Any, grad: Any, kT: Any,
                       vT: Any, gq: Any, gk: Any, gv: Any) -> None:  # fmt: skip
        """The backward for the heads h of group i (rows r of R): their share of the
        gradients (those not None)."""
        q, k, jit, blocks = self.q, self.k, kernels(), self.blocks
        kept, add = self.att is not None or blocks is not None, len(self.rows) > 1
        h, r, shape = group
        for a, b, c in self.rows:  # block by block: queries [a, b) against keys [0, c)
            if blocks is not None:  # let go of each block once used
                w = blocks.pop((i, a))
            elif kept:
                w = self.part(self.att, h)
            else:
                w = self.weights(q, kT, h, shape, a, b, c)
            if not kept:  # the weights again: q k^T, then exp(scale * s - lse)
                jit.scores_replay(w.reshape(-1, b - a, c), scale, self.mask_rows(r, a, b),
                                  self.seen[a:b], self.lse[r, a:b])  # fmt: skip
            g = self.part(grad, h)[..., a:b, :]
            if gv is not None:  # weights^T g
                product(np.swapaxes(w, -1, -2), g, self.part(gv, h)[..., :c, :], add)
            if gq is None and gk is None:
                continue
            ds = np.matmul(g, self.part(vT, h)[..., :c], out=np.empty_like(w))  # dA = g v^T
            jit.softmax_backward(ds.reshape(-1, b - a, c), w.reshape(-1, b - a, c), scale)
            if gq is not None:  # dS k, dS now dS * scale
                np.matmul(ds, self.part(k, h)[..., :c, :], out=self.part(gq, h)[..., a:b, :])
            if gk is not None:  # dS^T q
                product(np.swapaxes(ds, -1, -2), self.part(q, h)[..., a:b, :],
                        self.part(gk, h)[..., :c, :], add)  # fmt: skip

    def shape_error(self, shapes: list[tuple[int, ...]], error: Exception) -> str:
        return (
            f"scaled_dot_product_attention: q {shapes[0]}, k {shapes[1]}, v {shapes[2]} "
            f"do not fit (..., T, D), (..., S, D), (..., S, Dv): {error}"
        )


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None,
                                 generator: Any = None) -> Tensor:  # fmt: skip
    """`groundup.nn.functional.scaled_dot_product_attention`, as one kernel."""
    if is_half(q):  # in float32, as the definition
        wide = attention_in_float32(q, k, v, attn_mask)
        out = scaled_dot_product_attention(*wide, dropout_p, is_causal, scale, generator)
        return out.to(q.dtype)
    mask, additive, s = attention_inputs(q, k, attn_mask, is_causal, scale)
    drop = attention_dropout(q, k, dropout_p, generator) if dropout_p > 0.0 else None
    learned = isinstance(attn_mask, Tensor) and attn_mask.requires_grad and additive is not None
    inputs = (q, k, v, attn_mask) if learned else (q, k, v)  # a float mask that learns
    return Attention.apply(*inputs, mask=mask, additive=additive, scale=s, drop=drop,
                           causal=is_causal)  # fmt: skip


class HeadsAttention(Attention):
    """Causal self-attention from qkv (B, T, 3C) to (B, T, C), heads side by side, as one
    node: :class:`Attention` on views of qkv. The split into q, k and v and into heads, and
    the heads' merge after, take no nodes of their own; the backward writes the gradients
    of q, k and v into one (B, T, 3C) array, where the definition's slices would each be
    copied into the gradient of qkv (three passes over it).
    """

    def forward(self, qkv: Any, *, n_head: int, scale: float, drop: Any) -> Any:  # type: ignore[override]
        B, T, C3 = self.qkv_shape = qkv.shape
        self.n_head = n_head
        heads = qkv.reshape(B, T, 3, n_head, C3 // (3 * n_head)).transpose(2, 0, 3, 1, 4)
        mask = functional.causal_mask(T, T, self.xp)
        y = super().forward(heads[0], heads[1], heads[2], mask=mask, additive=None,
                            scale=scale, drop=drop, causal=True)  # fmt: skip
        return y.swapaxes(1, 2).reshape(B, T, C3 // 3)  # the kernels' y: already that layout

    def backward(self, grad: Any) -> tuple[Any, ...]:
        B, T, C3 = self.qkv_shape
        g = grad.reshape(B, T, self.n_head, -1).swapaxes(1, 2)  # (B, H, T, D), a view
        grads = super().backward(g)
        if hasattr(self, "rows"):  # the kernels wrote into one array: gradients() gave it
            return grads
        stacked = self.xp.stack([x.swapaxes(1, 2) for x in grads], axis=2)  # (B, T, 3, H, D)
        return (stacked.reshape(self.qkv_shape),)

    def needs(self) -> tuple[bool, ...]:
        return (True, True, True)  # backward runs only when qkv needs a gradient

    def gradient_arrays(self, new: Any, needs: tuple[bool, ...]) -> tuple[Any, Any, Any]:
        B, T, C3 = self.qkv_shape
        H = self.n_head
        self.grad_qkv = new((B, T, 3, H, C3 // (3 * H)), self.q.dtype)
        heads = self.grad_qkv.transpose(2, 0, 3, 1, 4)  # (3, B, H, T, D) views
        return heads[0], heads[1], heads[2]

    def gradients(self, gq: Any, gk: Any, gv: Any) -> tuple[Any, ...]:
        return (self.grad_qkv.reshape(self.qkv_shape),)

    def shape_error(self, shapes: list[tuple[int, ...]], error: Exception) -> str:
        return f"causal_self_attention: qkv {shapes[0]}: {error}"


def causal_self_attention(qkv: Tensor, n_head: int, dropout_p: float = 0.0,
                          generator: Any = None) -> Tensor:  # fmt: skip
    """`groundup.nn.functional.causal_self_attention`, as one kernel."""
    B, T, C = check_heads(qkv, n_head)
    if is_half(qkv):  # in float32, as the definition
        return causal_self_attention(qkv.float(), n_head, dropout_p, generator).to(qkv.dtype)
    drop = None
    if dropout_p > 0.0:  # the weights' mask, drawn as the definition draws it
        drop = dropout_mask((B, n_head, T, T), dropout_p, qkv.data.dtype, generator, qkv.xp)
    return HeadsAttention.apply(qkv, n_head=n_head, scale=1.0 / math.sqrt(C // n_head),
                                drop=drop)  # fmt: skip


# ================================================================ convolution and pooling
# No kernels: each is already one movement primitive (the sliding windows, a view, whose
# backward is one strided add per kernel offset) and one matmul, or a reduction, so the
# graph is a handful of nodes over big arrays. The definitions serve both tiers.
conv1d, conv2d = functional.conv1d, functional.conv2d
conv_transpose1d, conv_transpose2d = functional.conv_transpose1d, functional.conv_transpose2d
max_pool1d, max_pool2d = functional.max_pool1d, functional.max_pool2d
avg_pool1d, avg_pool2d = functional.avg_pool1d, functional.avg_pool2d
adaptive_avg_pool1d = functional.adaptive_avg_pool1d
adaptive_avg_pool2d = functional.adaptive_avg_pool2d
pad, unfold, fold, interpolate = (
    functional.pad, functional.unfold, functional.fold, functional.interpolate)  # fmt: skip
