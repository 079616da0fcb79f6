"""The primitive tensor ops: each a forward and its backward, side by side.

Grouped by family as in early tinygrad: elementwise, reductions, matmul, movement,
selection. ``forward`` receives numpy arrays and returns one; ``backward`` receives the
output's gradient ``grad`` and returns one gradient per input (None where the input does
not require grad). Every gradient is summed back to its input's shape, which is what
broadcasting owes the chain rule: an input used at many positions collects all their grads.

Backward never writes into ``grad`` or saved inputs (they may be shared); it may write into
arrays it just created.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from groundup.tensor.backend import CPU, array_module, default_float, device_of, errstate, to_host
from groundup.tensor.function import Function, SliceGrad


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` down to ``shape``, undoing numpy broadcasting.

    >>> unbroadcast(np.ones((4, 2, 3)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def reshaped(a: Any, shape: tuple[int, ...]) -> Any:
    """``a.reshape(shape)``, but ``a`` itself when it already has that shape.

    A reshape always makes a view, and the engine adopts only arrays that are not views:
    returning ``a`` lets a freshly computed gradient become ``.grad`` without a copy.
    """
    return a if a.shape == shape else a.reshape(shape)


def _expand_reduced(grad: Any, shape: tuple[int, ...], dim: Any, keepdim: bool) -> Any:
    """Put back the axes a reduction removed, so ``grad`` broadcasts against the input."""
    if dim is None:
        return grad.reshape((1,) * len(shape)) if not keepdim else grad
    if not keepdim:
        grad = array_module(grad).expand_dims(grad, dim)
    return grad


def _reduced_count(shape: tuple[int, ...], dim: Any) -> int:
    if dim is None:
        n = 1
        for s in shape:
            n *= s
        return n
    dims = dim if isinstance(dim, tuple) else (dim,)
    n = 1
    for d in dims:
        n *= shape[d]
    return n


# ================================================================ elementwise: binary


class Add(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, grad: Any) -> tuple[Any, ...]:
        a, b = self.parents  # type: ignore[misc]
        return (
            unbroadcast(grad, self.shapes[0]) if a.requires_grad else None,
            unbroadcast(grad, self.shapes[1]) if b.requires_grad else None,
        )


class Sub(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, grad: Any) -> tuple[Any, ...]:
        a, b = self.parents  # type: ignore[misc]
        return (
            unbroadcast(grad, self.shapes[0]) if a.requires_grad else None,
            unbroadcast(-grad, self.shapes[1]) if b.requires_grad else None,
        )


class Mul(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a * b

    def backward(self, grad: Any) -> tuple[Any, ...]:
        a, b = self.parents  # type: ignore[misc]
        # d(ab)/da = b, d(ab)/db = a
        return (
            unbroadcast(grad * self.b, self.a.shape) if a.requires_grad else None,
            unbroadcast(grad * self.a, self.b.shape) if b.requires_grad else None,
        )


class Div(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a / b

    def backward(self, grad: Any) -> tuple[Any, ...]:
        a, b = self.parents  # type: ignore[misc]
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        ga = grad / self.b
        gb = None
        if b.requires_grad:
            gb = unbroadcast(-ga * self.a / self.b, self.b.shape)
        return (unbroadcast(ga, self.a.shape) if a.requires_grad else None, gb)


# ================================================================ elementwise: unary


class Neg(Function):
    def forward(self, a: Any) -> Any:
        return -a

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (-grad,)


class Pow(Function):
    """``a ** p`` for a Python number ``p``."""

    def forward(self, a: Any, exponent: float) -> Any:
        self.a, self.p = a, exponent
        return a**exponent

    def backward(self, grad: Any) -> tuple[Any, ...]:
        # d(a^p)/da = p a^(p-1); a^0 is the constant 1, flat even at a = 0 (where 0^-1 = inf)
        if self.p == 0:
            return (self.xp.zeros_like(grad),)
        return (grad * (self.p * self.a ** (self.p - 1)),)


class RPow(Function):
    """``base ** x`` for a Python number ``base``: d/dx = base^x ln(base).

    A negative base is defined for integer-valued x only (nan elsewhere, and its gradient
    is nan); a zero base gives 0^0 = 1, 0^x = 0 for x > 0, with gradient 0 (as PyTorch).
    """

    def forward(self, x: Any, base: float) -> Any:
        with errstate(self.xp, invalid="ignore", divide="ignore"):
            out = self.xp.power(base, x)
        if x.dtype.kind != "f":  # an int tensor gives the default float, as in PyTorch
            out = out.astype(default_float)
        self.out, self.base = out, base
        return out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if self.base == 0:
            return (self.xp.zeros_like(grad),)
        log_base = math.log(self.base) if self.base > 0 else math.nan
        return (grad * self.out * log_base,)


class Exp(Function):
    def forward(self, a: Any) -> Any:
        self.out = self.xp.exp(a)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * self.out,)  # d(e^a)/da = e^a


class Log(Function):
    def forward(self, a: Any) -> Any:
        self.a = a
        return self.xp.log(a)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad / self.a,)  # d(ln a)/da = 1/a


class Tanh(Function):
    def forward(self, a: Any) -> Any:
        self.out = self.xp.tanh(a)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        g = self.out * self.out  # d tanh(a)/da = 1 - tanh(a)^2
        self.xp.subtract(1, g, out=g)
        g *= grad
        return (g,)


class ReLU(Function):
    def forward(self, a: Any) -> Any:
        self.out = self.xp.maximum(a, 0)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * (self.out > 0),)  # 1 where a > 0 (0 at a == 0, as PyTorch)


class Sigmoid(Function):
    def forward(self, a: Any) -> Any:
        # 1/(1+e^-a) overflows e^-a for very negative a; tanh form is stable everywhere
        self.out = 0.5 * (self.xp.tanh(0.5 * a) + 1)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * self.out * (1 - self.out),)  # s' = s (1 - s)


class Clamp(Function):
    def forward(self, a: Any, min: Any, max: Any) -> Any:  # noqa: A002 (PyTorch's names)
        self.keep = self.xp.ones(a.shape, dtype=bool)
        if min is not None:
            self.keep &= a >= min
        if max is not None:
            self.keep &= a <= max
        return self.xp.clip(a, min, max).astype(a.dtype, copy=False)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * self.keep,)  # 1 inside [min, max], boundaries included (PyTorch)


class Cast(Function):
    def forward(self, a: Any, dtype: Any) -> Any:
        self.dtype = a.dtype
        return a.astype(dtype)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad.astype(self.dtype),)


class ToDevice(Function):
    """A copy onto another device (``x.to("cuda")``): the gradient is copied back."""

    def forward(self, a: Any, device: Any) -> Any:
        self.source = device_of(a)
        return device.xp.asarray(to_host(a)) if device is not CPU else to_host(a)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if self.source is CPU:
            return (to_host(grad),)
        return (self.source.xp.asarray(to_host(grad)),)


# ================================================================ reductions


class Sum(Function):
    def forward(self, a: Any, dim: Any, keepdim: bool) -> Any:
        self.shape, self.dim, self.keepdim = a.shape, dim, keepdim
        return a.sum(axis=dim, keepdims=keepdim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        # every input entry contributed with slope 1: copy the gradient back over the axes
        g = _expand_reduced(grad, self.shape, self.dim, self.keepdim)
        return (self.xp.broadcast_to(g, self.shape),)


class Mean(Sum):
    """The sum divided by the count n of entries reduced: Sum's gradient, times 1/n."""

    def forward(self, a: Any, dim: Any, keepdim: bool) -> Any:
        self.shape, self.dim, self.keepdim = a.shape, dim, keepdim
        return a.mean(axis=dim, keepdims=keepdim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        n = _reduced_count(self.shape, self.dim)
        scale = 1.0 / n if n else math.nan  # an empty dim: the mean is nan, as in torch
        return super().backward((grad * scale).astype(grad.dtype, copy=False))


class Var(Function):
    """Variance over ``dim``, divided by N - correction (1: Bessel's unbiased estimate)."""

    def forward(self, a: Any, dim: Any, keepdim: bool, correction: int) -> Any:
        self.a, self.dim, self.keepdim = a, dim, keepdim
        self.n = _reduced_count(a.shape, dim) - correction
        return a.var(axis=dim, ddof=correction, keepdims=keepdim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        # d/da_i sum_j (a_j - mean)^2 / n = 2 (a_i - mean) / n  (the mean's own term sums to 0)
        centered = self.a - self.a.mean(axis=self.dim, keepdims=True)
        g = _expand_reduced(grad, self.a.shape, self.dim, self.keepdim)
        scale = 2.0 / self.n if self.n > 0 else math.nan  # N <= correction: nan, as torch
        return (centered * (g * scale).astype(grad.dtype, copy=False),)


class Amax(Function):
    """Max over ``dim`` (None, int or tuple); tied maxima share the gradient equally."""

    def forward(self, a: Any, dim: Any, keepdim: bool) -> Any:
        self.dim, self.keepdim = dim, keepdim
        out = a.max(axis=dim, keepdims=True)
        self.mask = a == out
        return out if keepdim else (out.reshape(()) if dim is None else out.squeeze(dim))

    def backward(self, grad: Any) -> tuple[Any, ...]:
        g = _expand_reduced(grad, self.mask.shape, self.dim, self.keepdim)
        count = self.mask.sum(axis=self.dim, keepdims=True)
        return (self.mask * (g / count).astype(grad.dtype, copy=False),)


class TakeAlongDim(Function):
    """``a`` at ``indices`` along ``dim`` (``max(dim)`` uses it: the gradient goes to the index)."""

    def forward(self, a: Any, indices: Any, dim: int, keepdim: bool) -> Any:
        self.shape, self.indices, self.dim, self.keepdim = a.shape, indices, dim, keepdim
        out = self.xp.take_along_axis(a, indices, axis=dim)
        return out if keepdim else out.squeeze(dim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        g = grad if self.keepdim else self.xp.expand_dims(grad, self.dim)
        out = self.xp.zeros(self.shape, dtype=grad.dtype)
        self.xp.put_along_axis(out, self.indices, g, axis=self.dim)
        return (out,)


# ================================================================ matmul


class MatMul(Function):
    """``a @ b`` with numpy's rules: batched over leading dims, broadcasting them."""

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        if a.ndim > 2 and b.ndim == 2:
            # (..., n, k) @ (k, m) is one GEMM over all the rows, not a loop of small ones
            return (a.reshape(-1, a.shape[-1]) @ b).reshape(*a.shape[:-1], b.shape[1])
        return a @ b

    def backward(self, grad: Any) -> tuple[Any, ...]:
        pa, pb = self.parents  # type: ignore[misc]
        a, b = self.a, self.b
        ga = gb = None
        if a.ndim > 2 and b.ndim == 2:
            g2 = grad.reshape(-1, grad.shape[-1])
            if pa.requires_grad:
                ga = reshaped(g2 @ b.T, a.shape)  # dL/da = dL/dy b^T
            if pb.requires_grad:
                gb = a.reshape(-1, a.shape[-1]).T @ g2  # dL/db = a^T dL/dy
            return ga, gb
        # a vector is a 1-row (left) or 1-column (right) matrix; restore that shape for grad
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if b.ndim == 1:
            grad = self.xp.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = self.xp.expand_dims(grad, -2)
        if pa.requires_grad:
            ga = unbroadcast(grad @ self.xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if pb.requires_grad:
            gb = unbroadcast(self.xp.swapaxes(a2, -1, -2) @ grad, b2.shape).reshape(b.shape)
        return ga, gb

    def shape_error(self, shapes: list[tuple[int, ...]], error: Exception) -> str:
        sa, sb = shapes
        if not sa or not sb:
            return f"matmul: {sa} @ {sb}: both operands need at least one dimension"
        k_a, k_b = sa[-1], (sb[-2] if len(sb) > 1 else sb[0])
        if k_a != k_b:
            return f"matmul: {sa} @ {sb}: inner sizes {k_a} and {k_b} differ"
        return f"matmul: {sa} @ {sb}: batch dimensions do not broadcast"


# ================================================================ movement


class Reshape(Function):
    def forward(self, a: Any, shape: tuple[int, ...]) -> Any:
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad.reshape(self.shape),)

    def shape_error(self, shapes: list[tuple[int, ...]], error: Exception) -> str:
        return f"reshape: cannot reshape a tensor of shape {shapes[0]}: {error}"


class Expand(Function):
    def forward(self, a: Any, shape: tuple[int, ...]) -> Any:
        self.shape = a.shape
        return self.xp.broadcast_to(a, shape)  # a read-only view: no copy

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (unbroadcast(grad, self.shape),)  # every copy of an entry sends its grad home

    def shape_error(self, shapes: list[tuple[int, ...]], error: Exception) -> str:
        return f"expand: cannot expand a tensor of shape {shapes[0]}: {error}"


class Transpose(Function):
    def forward(self, a: Any, dim0: int, dim1: int) -> Any:
        self.dims = dim0, dim1
        return self.xp.swapaxes(a, dim0, dim1)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (self.xp.swapaxes(grad, *self.dims),)


class Permute(Function):
    def forward(self, a: Any, dims: tuple[int, ...]) -> Any:
        self.dims = tuple(d % a.ndim for d in dims) if a.ndim else dims  # -1: the last
        return self.xp.transpose(a, dims)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        inverse = sorted(range(len(self.dims)), key=self.dims.__getitem__)  # undoes the permutation
        return (self.xp.transpose(grad, inverse),)


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) never repeats an entry; arrays can."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class GetItem(Function):
    def forward(self, a: Any, index: Any) -> Any:
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if _is_basic(self.index):  # the engine adds grad into the slice it came from
            return (SliceGrad(self.index, grad),)
        out = self.xp.zeros(self.shape, dtype=grad.dtype)
        self.xp.add.at(out, self.index, grad)  # an index array may name an entry twice: add both
        return (out,)

    def shape_error(self, shapes: list[tuple[int, ...]], error: Exception) -> str:
        return f"getitem: bad index for shape {shapes[0]}: {error}"


class Cat(Function):
    def forward(self, *arrays: Any, dim: int) -> Any:
        self.dim = dim
        self.bounds = list(itertools.accumulate(x.shape[dim] for x in arrays))[:-1]
        return self.xp.concatenate(arrays, axis=dim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return tuple(self.xp.split(grad, self.bounds, axis=self.dim))

    def shape_error(self, shapes: list[tuple[int, ...]], error: Exception) -> str:
        return f"cat: shapes {', '.join(map(str, shapes))} differ outside dim {self.dim}"


class Stack(Function):
    def forward(self, *arrays: Any, dim: int) -> Any:
        self.dim = dim
        return self.xp.stack(arrays, axis=dim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return tuple(self.xp.moveaxis(grad, self.dim, 0))

    def shape_error(self, shapes: list[tuple[int, ...]], error: Exception) -> str:
        return f"stack: all shapes must be equal, got {', '.join(map(str, shapes))}"


# ================================================================ selection


class MaskedFill(Function):
    def forward(self, a: Any, mask: Any, value: float) -> Any:
        self.mask = mask
        return self.xp.where(mask, self.xp.asarray(value, dtype=a.dtype), a)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        g = self.xp.where(self.mask, self.xp.zeros((), dtype=grad.dtype), grad)  # filled: slope 0
        return (unbroadcast(g, self.parents[0].shape),)  # type: ignore[index]


class Where(Function):
    def forward(self, a: Any, b: Any, condition: Any) -> Any:
        self.condition, self.shapes = condition, (a.shape, b.shape)
        return self.xp.where(condition, a, b)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        pa, pb = self.parents  # type: ignore[misc]
        zero = self.xp.zeros((), dtype=grad.dtype)
        ga = (
            unbroadcast(self.xp.where(self.condition, grad, zero), self.shapes[0])
            if pa.requires_grad
            else None
        )
        gb = (
            unbroadcast(self.xp.where(self.condition, zero, grad), self.shapes[1])
            if pb.requires_grad
            else None
        )
        return ga, gb


# ================================================================ sliding windows
# Convolution and pooling rest on one movement: the windows that slide along a dim. Unfold
# lays them out (a view, no copy: ``Tensor.unfold``); Fold is its adjoint, summing windows
# back into the positions they cover. Each one's backward is the other one's forward.


def fold_windows(windows: Any, dim: int, length: int, step: int, dilation: int) -> Any:
    """Sum overlapping windows back into a sequence: the adjoint of :class:`Unfold`.

    ``windows`` has the window count at ``dim`` and each window's entries in the last axis;
    entry k of window i lands at position ``i * step + k * dilation`` of a new axis of
    ``length`` at ``dim``. One strided add per offset k (col2im along one dim):

    >>> fold_windows(np.ones((3, 2)), 0, 4, 1, 1).tolist()   # windows [0,1] [1,2] [2,3]
    [1.0, 2.0, 2.0, 1.0]
    """
    shape = list(windows.shape[:-1])
    count, shape[dim] = shape[dim], length
    out = array_module(windows).zeros(shape, dtype=windows.dtype)
    index = [slice(None)] * len(shape)
    for k in range(windows.shape[-1]):
        start = k * dilation
        index[dim] = slice(start, start + step * (count - 1) + 1, step)
        out[tuple(index)] += windows[..., k]
    return out


def unfold_windows(a: Any, dim: int, size: int, step: int, dilation: int) -> Any:
    """Every window of ``size`` entries, ``dilation`` apart, one window every ``step``
    along ``dim``: the count of windows replaces ``dim``, the entries go in a new last axis.
    A view of ``a`` (NumPy's ``sliding_window_view``), no copy.

    >>> unfold_windows(np.arange(5), 0, 2, 2, 1).tolist()
    [[0, 1], [2, 3]]
    """
    span = dilation * (size - 1) + 1 if size else 0  # the positions one window reaches over
    windows = array_module(a).lib.stride_tricks.sliding_window_view(a, span, axis=dim)
    index = [slice(None)] * a.ndim
    index[dim] = slice(None, None, step)  # a window starts every `step` positions
    return windows[tuple(index) + (slice(None, None, dilation),)]  # every `dilation`-th entry


class Unfold(Function):
    """Sliding windows along ``dim`` (``Tensor.unfold``; ``dilation`` for convolutions).

    Backward: each position collects the gradients of every window entry it was, a
    scatter-add of the windows (:func:`fold_windows`).
    """

    def forward(self, a: Any, dim: int, size: int, step: int, dilation: int = 1) -> Any:
        self.dim, self.length, self.step, self.dilation = dim, a.shape[dim], step, dilation
        return unfold_windows(a, dim, size, step, dilation)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (fold_windows(grad, self.dim, self.length, self.step, self.dilation),)


class Fold(Function):
    """Overlapping windows summed into a sequence of ``length`` along ``dim`` (col2im along
    one dim; what transposed convolution and ``F.fold`` are made of).

    Backward: each window entry reads the gradient of the position it was added to, the
    windows of the gradient (:func:`unfold_windows`).
    """

    def forward(self, windows: Any, dim: int, length: int, step: int, dilation: int = 1) -> Any:
        self.dim, self.count, self.size = dim, windows.shape[dim], windows.shape[-1]
        self.step, self.dilation = step, dilation
        return fold_windows(windows, dim, length, step, dilation)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        g = unfold_windows(grad, self.dim, self.size, self.step, self.dilation)
        index = [slice(None)] * grad.ndim
        index[self.dim] = slice(0, self.count)  # `length` may leave room for more windows
        return (g[tuple(index)],)


# ================================================== elementwise: trigonometry, erf, rounding
# The functions whose derivative is a textbook line. tan, acos, sinh, cosh and frac are
# identities over these (tensor.py), so they need nothing new.


class Sin(Function):
    def forward(self, a: Any) -> Any:
        self.a = a
        return self.xp.sin(a)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * self.xp.cos(self.a),)  # d sin(a)/da = cos(a)


class Cos(Function):
    def forward(self, a: Any) -> Any:
        self.a = a
        return self.xp.cos(a)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (-grad * self.xp.sin(self.a),)  # d cos(a)/da = -sin(a)


class Asin(Function):
    def forward(self, a: Any) -> Any:
        self.a = a
        return self.xp.arcsin(a)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        with errstate(self.xp, divide="ignore", invalid="ignore"):  # |a| >= 1: inf or nan, as torch
            return (grad / self.xp.sqrt(1 - self.a * self.a),)  # d asin(a)/da = 1/sqrt(1 - a^2)


class Atan(Function):
    def forward(self, a: Any) -> Any:
        self.a = a
        return self.xp.arctan(a)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad / (1 + self.a * self.a),)  # d atan(a)/da = 1/(1 + a^2)


class Atan2(Function):
    """The angle of the point (x, y), in (-pi, pi]: atan(y / x) put in the right quadrant."""

    def forward(self, y: Any, x: Any) -> Any:
        self.y, self.x = y, x
        return self.xp.arctan2(y, x)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        py, px = self.parents  # type: ignore[misc]
        y, x = self.y, self.x
        with errstate(self.xp, divide="ignore", invalid="ignore"):  # the origin: nan, as torch
            g = grad / (x * x + y * y)  # d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2)
        return (
            unbroadcast(g * x, y.shape) if py.requires_grad else None,
            unbroadcast(-g * y, x.shape) if px.requires_grad else None,
        )


# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
# (1969), 631-638: the coefficients of his CALERF (netlib specfun), good to float64 rounding.
_ERF_SMALL = (
    (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
     3.20937758913846947e03, 1.85777706184603153e-1),
    (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
     2.84423683343917062e03),
)  # fmt: skip
_ERFC_MIDDLE = (
    (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
     2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
     2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8),
    (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
     1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
     3.43936767414372164e03, 1.23033935480374942e03),
)  # fmt: skip
_ERFC_LARGE = (
    (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
     1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2),
    (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
     6.05183413124413191e-2, 2.33520497626869185e-3),
)  # fmt: skip


def _rational(y: Any, coefficients: tuple[tuple[float, ...], tuple[float, ...]]) -> Any:
    """Cody's P(y) / Q(y) by Horner's rule: the numerator's last coefficient leads, the
    denominator's leading coefficient is 1."""
    num, den = coefficients
    n, d = num[-1] * y, y
    for a, b in zip(num[: len(den) - 1], den[:-1], strict=False):
        n, d = (n + a) * y, (d + b) * y
    return (n + num[len(den) - 1]) / (d + den[-1])


def _exp_minus_square(y: Any) -> Any:
    """e^(-y^2) without the rounding of y^2: with t = y cut to 1/16ths (t^2 is exact),
    y^2 = t^2 + (y - t)(y + t)."""
    xp = array_module(y)
    t = xp.trunc(y * 16) / 16
    return xp.exp(-t * t) * xp.exp(-(y - t) * (y + t))


def erf_array(x: Any) -> Any:
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt of a float array,
    in float64, within 1e-15 of the true value (NumPy has no erf).

    Three rational approximations: erf itself for |x| <= 0.46875, then erfc = 1 - erf,
    which is e^(-x^2) times a smooth factor, for |x| <= 4 and beyond (erfc(x) underflows
    to 0 past |x| ~ 27: erf is +-1 there).

    >>> erf_array(np.array([0.0, 0.5, -2.0])).round(6).tolist()
    [0.0, 0.5205, -0.995322]
    """
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    y = xp.abs(x)
    out = xp.empty_like(y)
    small, middle = y <= 0.46875, (y > 0.46875) & (y <= 4.0)
    large = ~(small | middle)  # nan goes here and stays nan
    s = x[small]
    out[small] = s * _rational(s * s, _ERF_SMALL)
    m = y[middle]
    out[middle] = 1.0 - _exp_minus_square(m) * _rational(m, _ERFC_MIDDLE)
    big = xp.minimum(y[large], 30.0)  # erfc(30) is 0 already; inf would give inf - inf
    z = 1.0 / (big * big)
    tail = (1.0 / math.sqrt(math.pi) - z * _rational(z, _ERFC_LARGE)) / big
    out[large] = 1.0 - _exp_minus_square(big) * tail
    return xp.copysign(out, x)  # erf is odd: erf(-x) = -erf(x)


class Erf(Function):
    def forward(self, a: Any) -> Any:
        self.a = a
        return erf_array(a).astype(a.dtype, copy=False)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        # d erf(a)/da = 2/sqrt(pi) e^(-a^2): the normal density, scaled
        return (grad * ((2.0 / math.sqrt(math.pi)) * self.xp.exp(-self.a * self.a)),)


class Rounding(Function):
    """A step function applied entrywise (floor, ceil, trunc, round, sign): flat between its
    jumps, so its gradient is 0 everywhere. PyTorch keeps such ops in the graph with that
    zero gradient, so ``x.round()`` of a tensor that requires grad requires grad too."""

    def forward(self, a: Any, fn: Any) -> Any:
        return fn(a)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (self.xp.zeros_like(grad),)


# ================================================================ selection by index: put, scatter
# gather is indexing (GetItem) with one index array per dim; these two write instead of read.
# ``index`` is a tuple of integer arrays that broadcast together, as NumPy's advanced index.


class IndexPut(Function):
    """``a`` with the entries at ``index`` replaced by ``src``: ``out[index] = src``.

    An overwritten entry of ``a`` has no say in the output (gradient 0); every entry of
    ``src`` gets the gradient at the place it was written to, even one that a repeated
    index overwrote again (as PyTorch, which gathers the gradient back through ``index``).
    """

    def forward(self, a: Any, src: Any, index: Any) -> Any:
        self.index, self.src_shape = index, src.shape
        out = a.copy()
        out[index] = src
        return out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        pa, ps = self.parents  # type: ignore[misc]
        ga = gs = None
        if pa.requires_grad:
            ga = grad.copy()
            ga[self.index] = 0
        if ps.requires_grad:
            gs = unbroadcast(grad[self.index], self.src_shape)
        return ga, gs


_FOLD = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}
_IDENTITY = {"sum": 0.0, "mean": 0.0, "prod": 1.0, "amax": -math.inf, "amin": math.inf}


def scatter_fold(a: Any, src: Any, index: Any, reduce: str, include_self: bool) -> Any:
    """``a`` with each ``src`` entry folded into ``out[index]`` by ``reduce``: every target
    entry becomes the sum, product, mean, max or min of the ``src`` entries sent to it
    (and of its own value when ``include_self``); entries nothing is sent to keep theirs.

    >>> scatter_fold(np.zeros(3), np.array([1.0, 2.0, 5.0]), (np.array([0, 0, 2]),), "sum", True)
    array([3., 0., 5.])
    """
    xp = array_module(a)
    out = a.copy()
    touched = xp.zeros(a.shape, dtype=bool)
    touched[index] = True
    if not include_self:  # start the touched entries from the reduction's identity
        start = _IDENTITY[reduce]
        if a.dtype.kind in "iu" and math.isinf(start):  # integers have no infinity
            start = xp.iinfo(a.dtype).min if start < 0 else xp.iinfo(a.dtype).max
        out[touched] = start
    getattr(xp, _FOLD[reduce]).at(out, index, src)  # NumPy's unbuffered in-place ufunc
    if reduce == "mean":
        count = xp.full(a.shape, 1 if include_self else 0, dtype=xp.int64)
        xp.add.at(count, index, 1)
        out = out / xp.maximum(count, 1) if a.dtype.kind == "f" else out // xp.maximum(count, 1)
    return out.astype(a.dtype, copy=False)


class ScatterReduce(Function):
    """:func:`scatter_fold` as an op, with PyTorch's gradients (``scatter_add`` is "sum").

    sum: each input's gradient is the output's at its target. mean: divided by the count.
    prod: the product of the *other* factors of the target, computed without dividing by
    zero. amax/amin: the output's gradient shared equally by the entries equal to the max.
    With ``include_self=False`` the target's own entry gets 0 where something was sent.
    """

    def forward(self, a: Any, src: Any, index: Any, reduce: str, include_self: bool) -> Any:
        self.a, self.src, self.index = a, src, index
        self.reduce, self.include_self = reduce, include_self
        self.out = scatter_fold(a, src, index, reduce, include_self)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        a, src, index, reduce = self.a, self.src, self.index, self.reduce
        if reduce == "sum":
            ga, gs = grad, grad[index]
        elif reduce == "mean":
            count = self.xp.full(a.shape, 1.0 if self.include_self else 0.0, dtype=grad.dtype)
            self.xp.add.at(count, index, 1.0)
            ga = grad / self.xp.maximum(count, 1.0)
            gs = ga[index]
        elif reduce == "prod":
            ga, gs = self._prod_grads(grad)
        else:  # amax, amin: the gradient is shared by every entry equal to the result
            self_hit = a == self.out
            src_hit = src == self.out[index]
            ties = self_hit.astype(grad.dtype)
            self.xp.add.at(ties, index, src_hit)
            share = grad / ties
            ga, gs = share * self_hit, share[index] * src_hit
        if not self.include_self:  # the target's own entry was left out where src arrived
            ga = ga.copy()
            ga[index] = 0
        return ga, gs

    def _prod_grads(self, grad: Any) -> tuple[Any, Any]:
        """d prod / d factor = the product of the other factors. out / factor gives it for
        a nonzero factor; a zero factor that is alone among its target's factors gets the
        product with itself replaced by 1 (PyTorch's formula)."""
        a, src, index, include_self = self.a, self.src, self.index, self.include_self
        a_ones = self.xp.where(a == 0, 1, a)
        ga = grad * scatter_fold(a_ones, src, index, "prod", include_self) / a_ones
        src_zero = src == 0
        zeros_at_target = self.xp.zeros(a.shape, dtype=self.xp.int64)
        self.xp.add.at(zeros_at_target, index, src_zero)
        lone_zero = src_zero & (zeros_at_target[index] == 1)
        without = scatter_fold(a, self.xp.where(lone_zero, 1, src), index, "prod", include_self)
        gs = self.xp.where(
            lone_zero,
            (grad * without)[index],
            (grad * self.out)[index] / self.xp.where(src_zero, 1, src),
        )
        return ga, gs


# ================================================================ scans and products


def _reversed_cumsum(a: Any, dim: int) -> Any:
    """``out_i = sum_{k >= i} a_k`` along ``dim``: how a scan sends gradients back."""
    xp = array_module(a)
    return xp.flip(xp.cumsum(xp.flip(a, dim), axis=dim), dim)


class CumSum(Function):
    def forward(self, a: Any, dim: int) -> Any:
        self.dim = dim
        return self.xp.cumsum(a, axis=dim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        # a_i is in every out_k with k >= i, with slope 1
        return (_reversed_cumsum(grad, self.dim),)


class CumProd(Function):
    """Running products ``out_k = a_0 a_1 ... a_k`` along ``dim``.

    d out_k / d a_i (k >= i) is the product of the other factors of out_k. Before the first
    zero that is out_k / a_i, so the gradient is reversed_cumsum(grad * out)_i / a_i. At the
    first zero a_z that division is 0 / 0: the products with a_z replaced by 1 are the
    products of the others. After it every product holds a_z = 0: the gradient is 0.
    """

    def forward(self, a: Any, dim: int) -> Any:
        self.a, self.dim = a, dim
        self.out = self.xp.cumprod(a, axis=dim)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        a, dim = self.a, self.dim
        zeros_so_far = self.xp.cumsum(a == 0, axis=dim)
        before = zeros_so_far == 0
        first_zero = (a == 0) & (zeros_so_far == 1)
        g = _reversed_cumsum(grad * self.out, dim) / self.xp.where(before, a, 1)
        skipping_zero = self.xp.cumprod(self.xp.where(first_zero, 1, a), axis=dim)
        at_zero = _reversed_cumsum(grad * skipping_zero, dim)
        return (self.xp.where(before, g, self.xp.where(first_zero, at_zero, 0)),)


class Prod(Function):
    """The product over ``dim`` (None: all entries). d prod / d a_i is the product of the
    others: prod / a_i for a nonzero a_i; with one zero in the group, the zero gets the
    product of the rest and the others 0; with two zeros, everything is 0 (as PyTorch)."""

    def forward(self, a: Any, dim: Any, keepdim: bool) -> Any:
        self.a, self.dim, self.keepdim = a, dim, keepdim
        self.out = a.prod(axis=dim, keepdims=True)
        if keepdim:
            return self.out
        return self.out.reshape(()) if dim is None else self.out.squeeze(dim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        a, dim = self.a, self.dim
        g = _expand_reduced(grad, a.shape, dim, self.keepdim)
        zero = a == 0
        zeros = zero.sum(axis=dim, keepdims=True)
        nonzero_a = self.xp.where(zero, 1, a)
        others = self.xp.where(
            zeros == 0, self.out / nonzero_a,
            self.xp.where(zero & (zeros == 1), nonzero_a.prod(axis=dim, keepdims=True), 0),
        )  # fmt: skip
        return (g * others.astype(grad.dtype, copy=False),)


# ================================================================ movement: roll


class Roll(Function):
    """Entries shifted along ``dims`` by ``shifts``, wrapping around (None: the flattened
    tensor); the gradient rolls back the other way."""

    def forward(self, a: Any, shifts: Any, dims: Any) -> Any:
        self.shifts, self.dims = shifts, dims
        return self.xp.roll(a, shifts, axis=dims)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        back = -self.shifts if isinstance(self.shifts, int) else tuple(-s for s in self.shifts)
        return (self.xp.roll(grad, back, axis=self.dims),)
