"""The Tensor: an n-dimensional array that remembers how it was made.

Stage 1's scalar ``Value`` scaled up. Every op on Tensors runs a ``Function``: its
``forward`` computes the output array with NumPy and keeps what the derivative will need;
its ``backward`` turns the output's gradient into each input's gradient (the chain rule, one
op at a time). The output Tensor points at that Function (``_ctx``), and the Function at its
inputs (``parents``), so the whole computation is a graph that ``backward()`` walks from the
loss back to the leaves, in reverse topological order.

This module holds ``Tensor`` itself: its attributes, its methods (each a call of one op) and
``backward()``. The graph machinery (grad mode, ``Function``, the backward pass) is in
:mod:`groundup.tensor.function`, the constructors in :mod:`groundup.tensor.creation`, and
the primitive ops in :mod:`groundup.tensor.ops`;
the functions composed from them in :mod:`groundup.nn.functional`, their fused kernels in
:mod:`groundup.nn.fused`.
"""

from __future__ import annotations

import builtins
import functools
import math
import numbers
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy

from groundup.tensor import ops
from groundup.tensor.backend import (
    CPU,
    Device,
    array_module,
    default_float,
    device_of,
    get_device,
    is_device_name,
    to_dtype,
    to_host,
)
from groundup.tensor.function import DimError, Function, OpError, run_backward

_new_tensor = object.__new__
MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _as_shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _as_dim(dim: Any, ndim: int = -1) -> Any:
    """Accept a list of dims as PyTorch does (``sum(dim=[0, 1])``); NumPy wants a tuple.
    A 0-d tensor has one number and no axes, yet PyTorch lets ``dim`` be 0 or -1 there,
    meaning that number: the dims of a 0-d tensor become None."""
    dim = tuple(dim) if isinstance(dim, list) else dim
    if ndim == 0 and dim is not None:
        dims = dim if isinstance(dim, tuple) else (dim,)
        if all(isinstance(d, int) and d in (0, -1) for d in dims):
            return None
    return dim


_Method = TypeVar("_Method", bound=Callable[..., Any])


def numpy_names(method: _Method) -> _Method:
    """Accept NumPy's ``axis=`` and ``keepdims=`` as ``dim=`` and ``keepdim=``, as PyTorch
    does for every op that takes a dim (``x.sum(axis=0)``, ``torch.cat(ts, axis=1)``)."""

    @functools.wraps(method)
    def accepting_axis(*args: Any, **kwargs: Any) -> Any:
        for numpy_name, name in (("axis", "dim"), ("keepdims", "keepdim")):
            if numpy_name in kwargs:
                if name in kwargs:
                    raise TypeError(f"{method.__name__}: got both {name}= and {numpy_name}=")
                kwargs[name] = kwargs.pop(numpy_name)
        return method(*args, **kwargs)

    return accepting_axis  # type: ignore[return-value]


def _dim(dim: int, ndim: int, op: str) -> int:
    """``dim`` as a non-negative axis (-1 is the last), or PyTorch's IndexError."""
    n = max(ndim, 1)  # a 0-d tensor takes dim 0 or -1
    if not -n <= dim < n:
        raise DimError(
            f"{op}: dim {dim} is out of range for a {ndim}-d tensor (expected {-n}..{n - 1})"
        )
    return dim % n


def _as_index(index: Any, xp: Any) -> Any:
    """An index as NumPy takes it: Tensors and sequences (lists; tuples and ranges inside
    the index tuple) become arrays, and a 0-d integer tensor an int (PyTorch treats it as
    one)."""
    if isinstance(index, tuple):
        return tuple(_index_part(p, (list, tuple, range), xp) for p in index)
    return _index_part(index, (list, range), xp)


def _index_part(p: Any, sequences: tuple[type, ...], xp: Any) -> Any:
    if isinstance(p, Tensor):
        p = p.data
    elif isinstance(p, sequences):
        p = xp.asarray(p) if len(p) else xp.zeros(0, dtype=numpy.int64)  # type: ignore[arg-type]
    if isinstance(p, numpy.ndarray) and xp is not numpy:  # a host index for device data
        p = xp.asarray(p)
    if isinstance(p, xp.ndarray) and p.ndim == 0 and p.dtype.kind in "iu":
        return int(p)
    return p


def _is_int(p: Any) -> bool:
    return isinstance(p, (int, numpy.integer)) and not isinstance(p, bool)


def _torch_order(index: Any, xp: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """An index that mixes ints with index arrays, split into (the ints and slices, the
    index arrays), to apply one after the other; None when NumPy and PyTorch agree.

    PyTorch applies ints (and slices and None) first, then the index arrays to what is
    left: in ``x[0, :, idx]`` the dim ``idx`` makes comes after the slice's. NumPy counts
    the int as one more index array, and index arrays separated by a slice put their dim
    first, so NumPy gives the two dims the other way round. Where no int meets an index
    array (every model's case) the two rules agree.
    """
    if not isinstance(index, tuple):
        return None
    if not any(isinstance(p, xp.ndarray) for p in index) or not any(_is_int(p) for p in index):
        return None
    first: list[Any] = []
    rest: list[Any] = []
    for p in index:
        if _is_int(p):
            first.append(p)  # applied now, gone afterwards
        elif isinstance(p, xp.ndarray):
            first += [slice(None)] * (p.ndim if p.dtype == bool else 1)  # a mask spans its dims
            rest.append(p)
        elif p is None:
            first.append(None)
            rest.append(slice(None))  # the new size-1 dim
        elif p is Ellipsis:
            first.append(p)
            rest.append(p)
        else:  # a slice
            first.append(p)
            rest.append(slice(None))
    return tuple(first), tuple(rest)


def _int_array(index: Any, op: str, xp: Any, name: str = "index") -> Any:
    """Indices as an int array of module ``xp`` (from a Tensor, array or list), or
    PyTorch's RuntimeError."""
    arr = index.data if isinstance(index, Tensor) else xp.asarray(index)
    if isinstance(arr, numpy.ndarray) and xp is not numpy:  # a host index for device data
        arr = xp.asarray(arr)
    if arr.dtype.kind not in "iu":
        raise OpError(f"{op}: {name} must hold integers (int64), got dtype {arr.dtype}")
    return arr


def _along(dim: int, index: Any) -> tuple[Any, ...]:
    """The NumPy index that picks ``index[i, j, k]`` along ``dim`` and ``i, j, k`` along
    the other dims: what gather reads and scatter writes (``dim=1``: ``x[i, index[i, j]]``).

    >>> [a.tolist() for a in _along(1, np.array([[2, 0]]))]
    [[[0]], [[2, 0]]]
    """
    xp = array_module(index)
    return tuple(
        index if d == dim else xp.arange(n).reshape((n,) + (1,) * (index.ndim - d - 1))
        for d, n in enumerate(index.shape)
    )


# ---------------------------------------------------------------- Tensor


class Tensor:
    """An array with an optional gradient, shaped like ``torch.Tensor``.

    Args:
        data: a number, nested list or array. Float data becomes float32 unless ``dtype``
            says otherwise; integer data stays int64.
        requires_grad: whether ``backward()`` should fill ``.grad`` for this tensor.
        dtype: a numpy dtype or its name (``"float64"`` for gradient checks).
        device: ``"cpu"`` (the default for Python data and NumPy arrays) or ``"cuda"``; an
            array already on a device stays there unless ``device`` says otherwise.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_retain")
    data: Any
    __array_ufunc__ = None  # make `ndarray + Tensor` call Tensor.__radd__, not numpy
    __hash__ = object.__hash__  # == is elementwise (as in PyTorch); hash by identity

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        dt = to_dtype(dtype)
        source = _device_of_data(data)
        target = source if device is None else get_device(device)
        if source is not target and source is not CPU:
            data = source.to_host(data)  # one device to another goes through the host
        arr = target.xp.array(data, dtype=dt)  # a copy, as torch.tensor(data) makes
        if dt is None:
            if arr.dtype.kind == "f":
                arr = arr.astype(default_float, copy=False)
            elif arr.dtype.kind in "iu":
                arr = arr.astype(numpy.int64, copy=False)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"requires_grad=True needs a floating-point tensor, got dtype {arr.dtype}: "
                "a gradient is a rate of change, and integers do not change by small amounts"
            )
        self.data = arr
        self.grad: Any = None
        self.requires_grad = requires_grad
        self._ctx: Function | None = None
        self._retain = False

    # ------------------------------------------------------------ attributes

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def xp(self) -> Any:
        """The array module of this tensor's data: NumPy on the CPU, CuPy on a GPU."""
        return array_module(self.data)

    @property
    def device(self) -> Device:
        """Where the data lives: ``cpu`` or ``cuda:0`` (compares equal to "cpu", "cuda")."""
        return device_of(self.data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def op(self) -> str:
        """Name of the op that made this tensor ('' for a leaf), for drawing the graph."""
        return "" if self._ctx is None else type(self._ctx).__name__

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def size(self, dim: int | None = None) -> Any:
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                "item: only a one-element tensor converts to a Python number, "
                f"got shape {self.shape}"
            )
        return self.data.item()

    def __float__(self) -> float:  # float(t), as in PyTorch
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def numpy(self) -> Any:
        """The data as a NumPy array: the array itself on the CPU (shared, as in PyTorch),
        a copy from a GPU."""
        return to_host(self.data)

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        host = to_host(self.data)
        return host if dtype is None else host.astype(dtype)

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad=True needs a floating-point tensor, got {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` of this non-leaf tensor after backward (freed by default)."""
        self._retain = True

    def to(self, *args: Any, device: Any = None, dtype: Any = None) -> Tensor:
        """This tensor on another device or with another dtype (itself when nothing changes),
        as PyTorch's ``to``: ``x.to("cuda")``, ``x.to(float64)``, ``x.to("cpu", "float32")``,
        ``x.to(other)`` (other's device and dtype). The copy is in the graph: gradients
        flow back to the original device."""
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif is_device_name(a):
                device = a
            else:
                dtype = a
        out = self
        if device is not None:
            target = get_device(device)
            if target is not out.device:
                out = ops.ToDevice.apply(out, device=target)
        if dtype is not None:
            dt = to_dtype(dtype)
            if out.data.dtype != dt:
                out = ops.Cast.apply(out, dtype=dt)
        return out

    def cpu(self) -> Tensor:
        """This tensor in host memory (itself when it is there already)."""
        return self.to("cpu")

    def cuda(self) -> Tensor:
        """This tensor on the GPU (itself when it is there already)."""
        return self.to("cuda")

    def float(self) -> Tensor:
        return self.to(numpy.float32)

    def double(self) -> Tensor:
        return self.to(numpy.float64)

    def long(self) -> Tensor:
        return self.to(numpy.int64)

    def __repr__(self) -> str:
        host = to_host(self.data)
        body = repr(host)[len("array(") : -1] if host.ndim else repr(host.item())
        place = "" if self.device is CPU else f", device='{self.device}'"
        extra = place + (
            f", grad_fn=<{self.op}>"
            if self._ctx is not None
            else (", requires_grad=True" if self.requires_grad else "")
        )
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        return bool(self.data)

    # ------------------------------------------------------------ arithmetic operators

    def _lift(self, other: Any) -> Tensor:
        """A Python number as a constant of our dtype (float32 * 2.0 stays float32)."""
        if isinstance(other, Tensor):
            return other
        dt = self.data.dtype if self.data.dtype.kind == "f" else None
        return Tensor._wrap(self.xp.asarray(other, dtype=dt))

    def _floated(self, dtype: Any = None) -> Tensor:
        """Self as floats: an int or bool tensor becomes ``dtype`` (default float32), as
        PyTorch computes exp, sqrt or a division of ints. Ints carry no gradient to keep."""
        if self.data.dtype.kind == "f":
            return self
        return Tensor._wrap(self.data.astype(dtype or default_float))

    def _operands(self, other: Any, divide: bool = False) -> tuple[Tensor, Tensor]:
        """(self, other) promoted as PyTorch does: a float beats an int (an int tensor and
        0.5 give float32, an int64 and a float32 tensor give float32), and true division
        of ints gives the default float."""
        dtype = self.data.dtype
        if dtype.kind == "f":  # the common case first: a float tensor and a number or float
            if not isinstance(other, Tensor):
                return self, Tensor._wrap(self.xp.asarray(other, dtype=dtype))
            if other.data.dtype.kind == "f":
                return self, other
        b = self._lift(other)
        a_float, b_float = dtype.kind == "f", b.data.dtype.kind == "f"
        if a_float == b_float:
            return (self._floated(), b._floated()) if divide and not a_float else (self, b)
        if a_float:
            return self, b._floated(self.data.dtype)
        # self holds ints: a Python float means the default float, a float tensor its own
        if isinstance(other, Tensor):
            return self._floated(b.data.dtype), b
        a = self._floated()
        return a, Tensor._wrap(b.data.astype(a.data.dtype))

    def _reflected(self, other: Any, divide: bool = False) -> tuple[Tensor, Tensor]:
        """(other, self), promoted as by :meth:`_operands`: ``2 - x`` is ``Sub(2, x)``."""
        a, b = self._operands(other, divide)
        return b, a

    def __add__(self, other: Any) -> Tensor:
        return ops.Add.apply(*self._operands(other))

    def __radd__(self, other: Any) -> Tensor:
        return ops.Add.apply(*self._reflected(other))

    def __sub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(*self._operands(other))

    def __rsub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(*self._reflected(other))

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(*self._operands(other))

    def __rmul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(*self._reflected(other))

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(*self._operands(other, divide=True))

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(*self._reflected(other, divide=True))

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, Tensor):
            raise TypeError("pow: the exponent must be a Python number, got a Tensor")
        base = self if isinstance(exponent, numbers.Integral) else self._floated()  # int ** 0.5
        return ops.Pow.apply(base, exponent=exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return ops.RPow.apply(self, base=float(base))  # 2 ** x

    def __matmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self, self._lift(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self._lift(other), self)

    # comparisons give boolean tensors outside the graph (their derivative is zero)
    def _compare(self, other: Any, fn: Callable[[Any, Any], Any]) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(fn(self.data, other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, self.xp.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, self.xp.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, self.xp.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, self.xp.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, self.xp.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, self.xp.greater_equal)

    # ------------------------------------------------------------ elementwise

    def exp(self) -> Tensor:
        return ops.Exp.apply(self._floated())

    def log(self) -> Tensor:
        return ops.Log.apply(self._floated())

    def tanh(self) -> Tensor:
        return ops.Tanh.apply(self._floated())

    def relu(self) -> Tensor:
        return ops.ReLU.apply(self)

    def sigmoid(self) -> Tensor:
        return ops.Sigmoid.apply(self._floated())

    def sqrt(self) -> Tensor:
        return ops.Pow.apply(self._floated(), exponent=0.5)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (PyTorch names)
        """Entries limited to ``[min, max]`` (either may be None); the gradient passes where
        ``min <= x <= max``, boundaries included, as in PyTorch. Tensor bounds broadcast
        and get gradients of their own (see :meth:`_clamp_by_tensors`)."""
        if min is None and max is None:
            raise OpError("clamp: at least one of min and max must be given")
        if isinstance(min, (Tensor, self.xp.ndarray)) or isinstance(max, (Tensor, self.xp.ndarray)):
            return self._clamp_by_tensors(min, max)
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, numbers.Real)
            ):
                raise TypeError(f"clamp: {name} must be a real number or None, got {bound!r}")
        return ops.Clamp.apply(self, min=min, max=max)

    clip = clamp

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002
        return self.clamp(max=max)

    def _clamp_by_tensors(self, min: Any, max: Any) -> Tensor:  # noqa: A002
        """clamp with tensor bounds, as ``where``s that send the gradient where PyTorch does:
        to x inside [min, max]; to min where x < min < max; to max where x > max or the
        bounds cross (max < min: the result is max). Where none applies (x < min == max,
        or x is nan) the value is clamp's and no gradient flows."""
        bounds = {
            name: b if isinstance(b, Tensor) else Tensor(b) if isinstance(b, self.xp.ndarray)
            else self._operands(b)[1]  # a number: of our dtype (the default float for ints)
            for name, b in (("min", min), ("max", max)) if b is not None
        }  # fmt: skip
        x = self.data
        lo = bounds["min"].data if "min" in bounds else -math.inf
        hi = bounds["max"].data if "max" in bounds else math.inf
        inside = (x >= lo) & (x <= hi)
        to_min = (x < lo) & (lo < hi)
        to_max = (x > hi) | (hi < lo)
        arrays = [x] + [b.data for b in bounds.values()]
        floats = [a.dtype for a in arrays if a.dtype.kind == "f"]  # a float beats ints
        dtype = self.xp.result_type(*floats) if floats else self.xp.result_type(*arrays)
        out = Tensor._wrap(
            self.xp.minimum(self.xp.maximum(x, lo), hi).astype(dtype)
        )  # nan stays nan
        if "max" in bounds:
            out = where(to_max, bounds["max"], out)
        if "min" in bounds:
            out = where(to_min, bounds["min"], out)
        return where(inside, self, out)

    @numpy_names
    def isclose(
        self,
        other: Any,
        rtol: builtins.float = 1e-05,
        atol: builtins.float = 1e-08,
        equal_nan: bool = False,
    ) -> Tensor:
        """|self - other| <= atol + rtol |other|, entrywise (infinities equal themselves)."""
        b = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(
            self.xp.isclose(self.data, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
        )

    def allclose(
        self, other: Any, rtol: builtins.float = 1e-05, atol: builtins.float = 1e-08,
        equal_nan: bool = False,
    ) -> bool:  # fmt: skip
        """Whether every entry is close (``isclose``): a Python bool."""
        return bool(self.isclose(other, rtol, atol, equal_nan).data.all())

    # ------------------------------------------------------------ reductions

    @numpy_names
    def sum(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
        return ops.Sum.apply(self, dim=_as_dim(dim, self.ndim), keepdim=keepdim)

    @numpy_names
    def mean(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
        return ops.Mean.apply(self, dim=_as_dim(dim, self.ndim), keepdim=keepdim)

    @numpy_names
    def var(
        self,
        dim: int | tuple[int, ...] | None = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: int | None = None,
    ) -> Tensor:
        """Variance; ``correction=1`` divides by N-1 (Bessel, PyTorch's default), 0 by N.
        ``unbiased`` is PyTorch's older spelling: True is correction 1, False 0."""
        return ops.Var.apply(self, dim=_as_dim(dim, self.ndim), keepdim=keepdim,
                             correction=_correction(unbiased, correction))  # fmt: skip

    @numpy_names
    def max(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Any:
        """Largest entries, as in PyTorch.

        ``max()`` and ``max(dim=(0, 1))`` return the values; tied maxima share the gradient
        equally. ``max(dim=int)`` returns ``(values, indices)``; ``indices`` holds the first
        maximum of each row, and only that entry receives the gradient.
        """
        int_dim_of_0d = self.ndim == 0 and dim is not None and not isinstance(dim, (tuple, list))
        dim = _as_dim(dim, self.ndim)
        if int_dim_of_0d:  # the one number, at index 0
            return MaxResult(ops.Amax.apply(self, dim=None, keepdim=False),
                             Tensor._wrap(self.xp.asarray(0)))  # fmt: skip
        if dim is None or isinstance(dim, tuple):
            return ops.Amax.apply(self, dim=dim, keepdim=keepdim)
        indices = self.xp.expand_dims(self.data.argmax(axis=dim), dim)
        values = ops.TakeAlongDim.apply(self, indices=indices, dim=dim, keepdim=keepdim)
        idx = indices if keepdim else self.xp.squeeze(indices, dim)
        return MaxResult(values, Tensor._wrap(idx))

    @numpy_names
    def min(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Any:
        if self.data.dtype.kind != "f":  # bools and ints: no gradient, and -x would wrap
            return _int_min(self.data, _as_dim(dim, self.ndim), keepdim)
        if self.ndim == 0 and dim is not None and not isinstance(dim, (tuple, list)):
            values, indices = self.max(dim, keepdim)
            return MaxResult(values, indices)
        dim = _as_dim(dim, self.ndim)
        if dim is None or isinstance(dim, tuple):
            return -((-self).max(dim, keepdim))
        values, indices = (-self).max(dim, keepdim)
        return MaxResult(-values, indices)

    @numpy_names
    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return Tensor._wrap(self.xp.asarray(self.data.argmax()))
        return Tensor._wrap(self.data.argmax(axis=dim, keepdims=keepdim))

    # ------------------------------------------------------------ movement

    def reshape(self, *shape: Any) -> Tensor:
        return ops.Reshape.apply(self, shape=_as_shape(shape))

    def view(self, *shape: Any) -> Tensor:
        """Same as ``reshape`` (NumPy copies a non-contiguous input instead of failing)."""
        return ops.Reshape.apply(self, shape=_as_shape(shape))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        shape = self.data.shape
        end = end_dim % len(shape) if shape else 0
        new = shape[:start_dim] + (-1,) + shape[end + 1 :]
        return self.reshape(new) if shape else self.reshape(1)

    @numpy_names
    def unsqueeze(self, dim: int) -> Tensor:
        dim = dim if dim >= 0 else dim + self.data.ndim + 1
        return self.reshape(self.data.shape[:dim] + (1,) + self.data.shape[dim:])

    @numpy_names
    def squeeze(self, dim: int | None = None) -> Tensor:
        shape = self.data.shape
        if not shape and dim in (None, 0, -1):  # a 0-d tensor has nothing to squeeze
            return self
        if dim is None:
            return self.reshape(tuple(s for s in shape if s != 1))
        if shape[dim] != 1:
            return self
        dim %= len(shape)
        return self.reshape(shape[:dim] + shape[dim + 1 :])

    def expand(self, *sizes: Any) -> Tensor:
        """The tensor broadcast to ``sizes`` without copying (-1 keeps a dimension's size;
        new dimensions go in front), as in PyTorch. Its gradient sums over the copies."""
        sizes = _as_shape(sizes)
        shape = self.data.shape
        lead = len(sizes) - len(shape)
        if lead < 0:
            raise ValueError(
                f"expand: sizes {sizes} have fewer dimensions than the tensor's shape {shape}"
            )
        if any(s == -1 for s in sizes[:lead]):
            raise ValueError(f"expand: -1 is not allowed in a new leading dimension, got {sizes}")
        target = sizes[:lead] + tuple(
            old if new == -1 else new for old, new in zip(shape, sizes[lead:], strict=True)
        )
        return ops.Expand.apply(self, shape=target)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return ops.Transpose.apply(self, dim0=dim0, dim1=dim1)

    @property
    def T(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        return ops.Permute.apply(self, dims=tuple(reversed(range(self.data.ndim))))

    def permute(self, *dims: Any) -> Tensor:
        return ops.Permute.apply(self, dims=_as_shape(dims))

    def contiguous(self) -> Tensor:
        """No-op: NumPy ops accept strided arrays, so there is nothing to do."""
        return self

    def __getitem__(self, index: Any) -> Tensor:
        """``x[...]`` with PyTorch's rules: ints, slices, None, ``...``, integer or boolean
        arrays (Tensors, NumPy arrays, lists); where an int meets an index array, the int is
        applied first, as PyTorch does (see :func:`_torch_order`)."""
        index = _as_index(index, self.xp)
        split = _torch_order(index, self.xp)
        if split is None:
            return ops.GetItem.apply(self, index=index)
        first, rest = split
        return ops.GetItem.apply(ops.GetItem.apply(self, index=first), index=rest)

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> list[Tensor]:
        """Chunks of ``split_size`` along ``dim`` (the last may be smaller), as in PyTorch."""
        n = self.data.shape[dim]
        if isinstance(split_size, int):
            sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
        else:
            sizes = list(split_size)
        pieces, start = [], 0
        lead = (slice(None),) * (dim % self.data.ndim)
        for size in sizes:
            pieces.append(self[lead + (slice(start, start + size),)])
            start += size
        return pieces

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """Entries where ``mask`` is True replaced by ``value`` (broadcasting the mask)."""
        mask = mask.data if isinstance(mask, Tensor) else self.xp.asarray(mask)
        return ops.MaskedFill.apply(self, mask=mask, value=value)

    # ------------------------------------------------------------ composed from the above
    # PyTorch's method spellings and everyday ops, each an identity over the primitives
    # (their gradients come from the chain rule through the pieces).

    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self + (other if alpha == 1 else other * alpha)  # x + alpha * other

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any) -> Tensor:
        return self / other

    def pow(self, exponent: Any) -> Tensor:
        return self**exponent

    def matmul(self, other: Any) -> Tensor:
        return self @ other

    def abs(self) -> Tensor:  # |x| = relu(x) + relu(-x); gradient 0 at 0, as torch
        return self.relu() + (-self).relu()

    def square(self) -> Tensor:
        return self * self

    def rsqrt(self) -> Tensor:  # 1 / sqrt(x)
        return self._floated() ** -0.5

    def log2(self) -> Tensor:  # log2 x = ln x / ln 2
        return self.log() * (1.0 / math.log(2.0))

    def maximum(self, other: Any) -> Tensor:
        """Elementwise max of two tensors; where they tie, each gets half the gradient."""
        other = self._lift(other)
        tie = (self + other) * 0.5
        return where(self > other, self, where(self < other, other, tie))

    def minimum(self, other: Any) -> Tensor:
        """Elementwise min of two tensors; where they tie, each gets half the gradient."""
        other = self._lift(other)
        tie = (self + other) * 0.5
        return where(self < other, self, where(self > other, other, tie))

    @numpy_names
    def std(
        self, dim: int | tuple[int, ...] | None = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: int | None = None,
    ) -> Tensor:  # fmt: skip
        """Standard deviation, the square root of ``var`` (``correction`` as there)."""
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    @numpy_names
    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        """e^x / sum(e^x) along ``dim``, as exp(log_softmax): nothing overflows."""
        return self.log_softmax(dim, dtype).exp()

    @numpy_names
    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        """x - logsumexp(x) along ``dim``: the log of softmax, without taking log(0)."""
        x = self.to(dtype) if dtype is not None else self._floated()
        return x - x.logsumexp(dim, keepdim=True)

    @numpy_names
    def amax(self, dim: int | Sequence[int] = (), keepdim: bool = False) -> Tensor:
        """The max over ``dim`` (all dims when empty); tied maxima share the gradient."""
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        return self.max(dim=dims or tuple(range(self.ndim)), keepdim=keepdim)

    @numpy_names
    def amin(self, dim: int | Sequence[int] = (), keepdim: bool = False) -> Tensor:
        """The min over ``dim`` (all dims when empty); tied minima share the gradient."""
        return -((-self).amax(dim, keepdim))

    @numpy_names
    def logsumexp(self, dim: int | tuple[int, ...], keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``dim``, shifted by the max so exp cannot overflow."""
        dims = dim if isinstance(dim, tuple) else (dim,)
        m = self.max(dims, keepdim=True).detach()  # a constant shift: the result is unchanged
        out = (self - m).exp().sum(dims, keepdim=True).log() + m
        return out if keepdim else out.sum(dims)  # summing size-1 dims drops them

    @numpy_names
    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return Tensor._wrap(self.xp.asarray(self.data.argmin()))
        return Tensor._wrap(self.data.argmin(axis=dim, keepdims=keepdim))

    def flip(self, dims: int | Sequence[int]) -> Tensor:
        """The entries in reverse order along ``dims`` (a view: ``x[..., ::-1]``)."""
        flipped = _positive(dims if isinstance(dims, (tuple, list)) else (dims,), self.ndim)
        return self[tuple(slice(None, None, -1) if i in flipped else slice(None)
                          for i in range(self.ndim))]  # fmt: skip

    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle of the last two dims (the rest zeroed)."""
        return self.masked_fill(~self.xp.tri(*self.shape[-2:], k=diagonal, dtype=bool), 0.0)

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle of the last two dims (the rest zeroed)."""
        return self.masked_fill(self.xp.tri(*self.shape[-2:], k=diagonal - 1, dtype=bool), 0.0)

    def isnan(self) -> Tensor:
        return Tensor._wrap(self.xp.isnan(self.data))

    def isinf(self) -> Tensor:
        return Tensor._wrap(self.xp.isinf(self.data))

    def isfinite(self) -> Tensor:
        return Tensor._wrap(self.xp.isfinite(self.data))

    @numpy_names
    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return Tensor._wrap(self.xp.asarray(self.data.any(axis=dim, keepdims=keepdim)))

    @numpy_names
    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return Tensor._wrap(self.xp.asarray(self.data.all(axis=dim, keepdims=keepdim)))

    # ------------------------------------------------------------ sliding windows
    # Convolution and pooling start here (groundup.nn.functional builds them on it).

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Every window of ``size`` consecutive entries along ``dimension``, one starting
        every ``step``, as in PyTorch: that dim becomes the count of windows,
        ``(n - size) // step + 1``, and a new last dim holds each window's entries.

        A view (no copy); the gradient of a position sums over every window it is in.

        >>> groundup.arange(5).unfold(0, 2, 2).tolist()
        [[0, 1], [2, 3]]
        """
        if self.ndim == 0:  # PyTorch treats the one number as a sequence of length 1
            return self.reshape(1).unfold(0, size, step)[0].reshape(size)
        if not -self.ndim <= dimension < self.ndim:
            raise DimError(
                f"unfold: dimension {dimension} is out of range for a {self.ndim}-d tensor "
                f"(expected {-self.ndim}..{self.ndim - 1})"
            )
        dim = dimension % self.ndim
        if step <= 0:
            raise OpError(f"unfold: step is {step} but must be > 0")
        if not 0 <= size <= self.shape[dim]:
            raise OpError(
                f"unfold: maximum size for tensor at dimension {dimension} is "
                f"{self.shape[dim]} but size is {size}"
            )
        return ops.Unfold.apply(self, dim=dim, size=size, step=step)

    # ------------------------------------------------------------ gather and scatter
    # Reading and writing along one dim at positions an index tensor names. gather and
    # friends are indexing (GetItem, whose gradient scatter-adds back); scatter writes with
    # IndexPut, scatter_add/scatter_reduce fold with ScatterReduce (ops.py).

    def _index_along(self, op: str, dim: int, index: Any, src: Any = None) -> tuple[int, Any]:
        """(dim, index array) for gather/scatter, after PyTorch's checks: same number of
        dims, the index no larger than the input outside ``dim`` (nor than ``src``), and
        every index inside the input's size along ``dim``."""
        idx = _int_array(index, op, self.xp)
        dim = _dim(dim, self.ndim, op)
        shape = self.shape or (1,)
        if idx.ndim != len(shape) and not (idx.ndim == 0 and self.ndim <= 1):
            raise OpError(
                f"{op}: index {idx.shape} must have as many dims as the input {self.shape}"
            )
        idx = idx.reshape(idx.shape or (1,))
        for d, n in enumerate(idx.shape):
            if (d != dim and n > shape[d]) or (src is not None and n > (src.shape or (1,))[d]):
                what = f"the input {self.shape}" + (
                    f" or src {src.shape}" if src is not None else ""
                )
                raise OpError(f"{op}: index {idx.shape} is larger than {what} at dim {d}")
        if idx.size and (idx.min() < 0 or idx.max() >= shape[dim]):
            bad = idx.min() if idx.min() < 0 else idx.max()
            raise OpError(f"{op}: index {bad} is out of bounds for dim {dim} of size {shape[dim]}")
        return dim, idx

    @numpy_names
    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = self[index[i][j]][j]`` (dim 0), ``self[i][index[i][j]]`` (dim 1):
        entries picked along ``dim``; the output has the index's shape."""
        dim, idx = self._index_along("gather", dim, index)
        x = self.reshape(1) if self.ndim == 0 else self
        return x[_along(dim, idx)].reshape(
            _int_array(index, "gather", self.xp).shape
        )  # a 0-d index: 0-d

    @numpy_names
    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """gather after broadcasting ``self`` and ``indices`` outside ``dim`` (NumPy's
        ``take_along_axis``); ``dim=None`` reads the flattened tensor."""
        idx = _int_array(indices, "take_along_dim", self.xp, "indices")
        if dim is None:
            return self.reshape(-1).gather(0, idx.reshape(-1))
        dim = _dim(dim, self.ndim, "take_along_dim")
        rest = numpy.broadcast_shapes(_drop(self.shape, dim), _drop(idx.shape, dim))
        x = self.expand(*_put(rest, dim, self.shape[dim]))
        return x.gather(dim, self.xp.broadcast_to(idx, _put(rest, dim, idx.shape[dim])))

    @numpy_names
    def index_select(self, dim: int, index: Any) -> Tensor:
        """The slices at positions ``index`` (a vector) along ``dim``: ``x[:, index]``."""
        idx = _int_array(index, "index_select", self.xp)
        if idx.ndim > 1:
            raise DimError(f"index_select: index must be a vector, got shape {idx.shape}")
        dim = _dim(dim, self.ndim, "index_select")
        return self[(slice(None),) * dim + (idx.reshape(-1),)]

    def masked_select(self, mask: Any) -> Tensor:
        """The entries where ``mask`` (broadcast against self) is True, as a vector."""
        m = mask.data if isinstance(mask, Tensor) else self.xp.asarray(mask)
        shape = numpy.broadcast_shapes(self.shape, m.shape)
        return self.expand(*shape)[self.xp.broadcast_to(m.astype(bool, copy=False), shape)]

    @numpy_names
    def scatter(
        self, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: str | None = None
    ) -> Tensor:
        """A copy with ``out[index[i][j]][j] = src[i][j]`` (dim 0): entries written along
        ``dim`` at the positions ``index`` names; ``src`` a tensor or a number (``value``).
        ``reduce="add"`` or ``"multiply"`` folds instead of writing (see scatter_reduce)."""
        source = src if src is not None else value
        if source is None:
            raise TypeError("scatter: give src (a tensor or a number) or value")
        if reduce is not None:
            folds = {"add": "sum", "multiply": "prod"}
            if reduce not in folds:
                raise OpError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
            if not isinstance(source, Tensor):
                shape = _int_array(index, "scatter", self.xp).shape
                source = Tensor._wrap(self.xp.full(shape, source, dtype=self.dtype))
            return self.scatter_reduce(dim, index, source, folds[reduce])
        if isinstance(source, Tensor):
            self._same_dtype("scatter", source)
            dim, idx = self._index_along("scatter", dim, index, source)
            source = source.reshape(1) if source.ndim == 0 else source
            source = source[tuple(slice(0, n) for n in idx.shape)].reshape(idx.shape)
        else:  # a number, written everywhere the index points
            dim, idx = self._index_along("scatter", dim, index)
            source = Tensor._wrap(self.xp.asarray(source, dtype=self.dtype))
        x = self.reshape(1) if self.ndim == 0 else self
        out = ops.IndexPut.apply(x, source, index=_along(dim, idx))
        return out.reshape(()) if self.ndim == 0 else out

    @numpy_names
    def scatter_add(self, dim: int, index: Any, src: Tensor) -> Tensor:
        """A copy with ``src[i][j]`` added into ``out[index[i][j]][j]`` (dim 0); repeated
        indices add up."""
        return self.scatter_reduce(dim, index, src, "sum")

    @numpy_names
    def scatter_reduce(
        self, dim: int, index: Any, src: Tensor, reduce: str, *, include_self: bool = True
    ) -> Tensor:
        """A copy with the ``src`` entries sent to each position (``out[index[i][j]][j]``,
        dim 0) reduced into it: ``reduce`` is "sum", "prod", "mean", "amax" or "amin";
        ``include_self`` says whether the position's own value takes part."""
        reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # torch takes both
        if reduce not in ("sum", "prod", "mean", "amax", "amin"):
            raise OpError(
                f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin', "
                f"got {reduce!r}"
            )
        self._same_dtype("scatter_reduce", src)
        dim, idx = self._index_along("scatter_reduce", dim, index, src)
        region = src.reshape(1) if src.ndim == 0 else src
        region = region[tuple(slice(0, n) for n in idx.shape)].reshape(idx.shape)
        x = self.reshape(1) if self.ndim == 0 else self
        out = ops.ScatterReduce.apply(
            x, region, index=_along(dim, idx), reduce=reduce, include_self=include_self
        )
        return out.reshape(()) if self.ndim == 0 else out

    def _same_dtype(self, op: str, src: Any) -> None:
        if not isinstance(src, Tensor):
            raise TypeError(f"{op}: src must be a Tensor, got {type(src).__name__}")
        if src.dtype != self.dtype:
            raise OpError(
                f"{op}: src has dtype {src.dtype}, the input {self.dtype}: they must match"
            )

    def where(self, condition: Any, other: Any) -> Tensor:
        """``self`` where ``condition`` holds, else ``other`` (``groundup.where(c, self, o)``)."""
        return where(condition, self, other)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The indices of the nonzero entries: (n, ndim) int64, or one vector per dim."""
        found = self.xp.nonzero(self.data)
        if as_tuple:
            return tuple(Tensor._wrap(i) for i in found)
        return Tensor._wrap(
            self.xp.stack(found, axis=1) if found else self.xp.zeros((0, 0), numpy.int64)
        )

    # ------------------------------------------------------------ scans and products
    # CumSum, CumProd and Prod are primitives (ops.py); cummax and cummin are gathers at the
    # running argmax, so their gradient goes to the entry each running max came from.

    def _scan_input(self, op: str, dim: int, dtype: Any) -> tuple[Tensor, int]:
        x = self.to(dtype) if dtype is not None else self
        if x.data.dtype.kind in "bu":  # sums and products of bools count in int64, as torch
            x = x.to(numpy.int64)
        return (x.reshape(1) if x.ndim == 0 else x), _dim(dim, x.ndim, op)

    @numpy_names
    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        """Running sums along ``dim``: ``out_k = x_0 + ... + x_k``."""
        x, d = self._scan_input("cumsum", dim, dtype)
        return ops.CumSum.apply(x, dim=d).reshape(self.shape)

    @numpy_names
    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        """Running products along ``dim``; the gradient is right with zeros in the input."""
        x, d = self._scan_input("cumprod", dim, dtype)
        return ops.CumProd.apply(x, dim=d).reshape(self.shape)

    def _cumulative_extreme(self, op: str, dim: int, accumulate: Any) -> Any:
        x = self.reshape(1) if self.ndim == 0 else self
        d = _dim(dim, self.ndim, op)
        running = accumulate(x.data, axis=d)
        # the index of the latest entry equal to the running extreme (PyTorch's tie rule);
        # a nan is an extreme from there on, and each later nan takes over
        hit = (x.data == running) | (self.xp.isnan(x.data) if x.data.dtype.kind == "f" else False)
        positions = self.xp.arange(x.shape[d]).reshape((-1,) + (1,) * (x.ndim - d - 1))
        indices = self.xp.maximum.accumulate(self.xp.where(hit, positions, 0), axis=d)
        values = x.gather(d, indices)
        return MaxResult(values.reshape(self.shape), Tensor._wrap(indices.reshape(self.shape)))

    @numpy_names
    def cummax(self, dim: int) -> Any:
        """(values, indices): the running max along ``dim`` and where it was found."""
        return self._cumulative_extreme("cummax", dim, self.xp.maximum.accumulate)

    @numpy_names
    def cummin(self, dim: int) -> Any:
        """(values, indices): the running min along ``dim`` and where it was found."""
        return self._cumulative_extreme("cummin", dim, self.xp.minimum.accumulate)

    @numpy_names
    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """The product of the entries (over ``dim``); the gradient is right with zeros."""
        x = self.to(dtype) if dtype is not None else self
        if x.data.dtype.kind in "bu":
            x = x.to(numpy.int64)
        d = None if dim is None or self.ndim == 0 else _dim(dim, self.ndim, "prod")
        out = ops.Prod.apply(x, dim=d, keepdim=keepdim)
        return out.reshape(()) if self.ndim == 0 else out

    # ------------------------------------------------------------ sorting and selecting
    # The order comes from NumPy's (stable) argsort, outside the graph; the values are a
    # gather at those indices, so each value's gradient goes back to where it came from.

    @numpy_names
    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
        """(values, indices) sorted along ``dim``. Ties keep their order (a stable sort,
        whatever ``stable`` says); nan sorts as the largest value, as in PyTorch."""
        x = self.reshape(1) if self.ndim == 0 else self
        d = _dim(dim, self.ndim, "sort")
        order = _argsort(x.data, d, descending)
        return MaxResult(x.gather(d, order).reshape(self.shape),
                         Tensor._wrap(order.reshape(self.shape)))  # fmt: skip

    @numpy_names
    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        """The indices that sort the tensor along ``dim``."""
        return self.sort(dim, descending).indices

    @numpy_names
    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
        """(values, indices) of the ``k`` largest (``largest=False``: smallest) entries
        along ``dim``, largest first (always sorted, which ``sorted=False`` allows)."""
        d = _dim(dim, self.ndim, "topk")
        n = self.shape[d] if self.ndim else 1
        if not 0 <= k <= n:
            raise OpError(f"topk: k={k} is out of range for a dim of size {n}")
        values, indices = self.sort(d, descending=largest)
        if self.ndim == 0:
            return MaxResult(values, indices)
        keep = (slice(None),) * d + (slice(0, k),)
        return MaxResult(values[keep], Tensor._wrap(indices.data[keep]))

    @numpy_names
    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        """(values, indices) of the ``k``-th smallest entry (k from 1) along ``dim``."""
        d = _dim(dim, self.ndim, "kthvalue")
        n = self.shape[d] if self.ndim else 1
        if not 1 <= k <= n:
            raise OpError(f"kthvalue: k={k} is out of range for a dim of size {n}")
        return self._select_sorted(d, self.xp.full(_drop(self.shape, d), k - 1), keepdim)

    @numpy_names
    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """The lower median (the smaller of the two middle values), nan if there is one.

        ``median()`` returns the value, and ties share its gradient equally;
        ``median(dim)`` returns (values, indices), the gradient going to the index.
        """
        if dim is None:
            flat = self.reshape(-1)
            if flat.numel() == 0:
                return Tensor._wrap(self.xp.asarray(numpy.nan, dtype=self.dtype))
            nan = self.xp.isnan(flat.data) if self.dtype.kind == "f" else None
            if nan is None:  # integers: no gradient to share
                return Tensor._wrap(self.xp.sort(flat.data)[(flat.numel() - 1) // 2])
            m = float(numpy.nan if nan.any() else self.xp.sort(flat.data)[(flat.numel() - 1) // 2])
            hits = nan if nan.any() else flat.data == m
            # m + mean(x - m) over the entries equal to m: exactly m, and each of them gets
            # 1/count of the gradient (PyTorch's rule for a median that ties)
            return (flat[hits] - m).mean() + m
        d = _dim(dim, self.ndim, "median")
        data = self.data.reshape(self.shape or (1,))
        n = data.shape[d]
        nans = self.xp.isnan(data).sum(axis=d) if self.dtype.kind == "f" else 0
        position = self.xp.where(nans > 0, n - nans, (n - 1) // 2)  # nan sorts last: its first copy
        return self._select_sorted(d, self.xp.broadcast_to(position, _drop(data.shape, d)), keepdim)

    def _select_sorted(self, d: int, position: Any, keepdim: bool) -> Any:
        """(values, indices) of the entry at ``position`` (one per row) in sorted order."""
        x = self.reshape(1) if self.ndim == 0 else self
        order = _argsort(x.data, d, descending=False)
        indices = self.xp.take_along_axis(order, self.xp.expand_dims(position, d), axis=d)
        values = x.gather(d, indices)
        if not keepdim or self.ndim == 0:
            values, indices = values.squeeze(d), indices.squeeze(d)
        return MaxResult(values, Tensor._wrap(indices))

    # ------------------------------------------------------- movement: roll, diagonals, repeats
    # Roll is a primitive; diagonals are indexing with two index arrays (their gradient adds
    # back into the diagonal), repeats are expand + reshape (the gradient sums the copies).

    def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
        """Entries shifted by ``shifts`` along ``dims``, wrapping around; ``dims=None``
        rolls the flattened tensor (keeping its shape)."""
        shifts_t = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        if dims is None:
            if len(shifts_t) != 1:
                raise OpError(f"roll: {len(shifts_t)} shifts need as many dims, got dims=None")
            return ops.Roll.apply(self, shifts=int(shifts_t[0]), dims=None)
        dims_t = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if len(shifts_t) != len(dims_t):
            raise OpError(f"roll: shifts {shifts_t} and dims {dims_t} must have the same length")
        dims_t = tuple(_dim(d, self.ndim, "roll") for d in dims_t)
        return ops.Roll.apply(self, shifts=shifts_t, dims=dims_t)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The diagonal of the (dim1, dim2) matrices, ``x[..., i, i + offset]``, as a last
        dim (the other dims keep their order)."""
        d1, d2 = _dim(dim1, self.ndim, "diagonal"), _dim(dim2, self.ndim, "diagonal")
        if d1 == d2:
            raise OpError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
        rows, cols = _diagonal_positions(self.shape[d1], self.shape[d2], offset, self.xp)
        others = tuple(d for d in range(self.ndim) if d not in (d1, d2))
        return self.permute(*others, d1, d2)[..., rows, cols]  # (..., n1, n2) -> (..., L)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """Each vector of the last dim laid on the diagonal (``offset``) of new (dim1, dim2)
        matrices, zero elsewhere: the inverse of ``diagonal``."""
        ndim = self.ndim + 1
        d1, d2 = _dim(dim1, ndim, "diag_embed"), _dim(dim2, ndim, "diag_embed")
        if d1 == d2:
            raise OpError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
        x = self.reshape(1) if self.ndim == 0 else self
        n = x.shape[-1] + builtins.abs(offset)
        rows, cols = _diagonal_positions(n, n, offset, self.xp)
        blank = Tensor._wrap(self.xp.zeros(x.shape[:-1] + (n, n), dtype=x.dtype))
        square = ops.IndexPut.apply(blank, x, index=(Ellipsis, rows, cols))  # (..., n, n)
        batch = iter(range(ndim - 2))  # where each output dim comes from: batch, rows, cols
        return square.permute(*(ndim - 2 if p == d1 else ndim - 1 if p == d2 else next(batch)
                                for p in range(ndim)))  # fmt: skip

    def diag(self, diagonal: int = 0) -> Tensor:
        """A vector laid on the ``diagonal`` of a square matrix, or a matrix's diagonal."""
        if self.ndim == 1:
            return self.diag_embed(diagonal)
        if self.ndim == 2:
            return self.diagonal(diagonal)
        raise OpError(f"diag: expected a vector or a matrix, got shape {self.shape}")

    def trace(self) -> Tensor:
        """The sum of the main diagonal of a matrix."""
        if self.ndim != 2:
            raise OpError(f"trace: expected a matrix, got shape {self.shape}")
        return self.diagonal().sum()

    def repeat(self, *sizes: Any) -> Tensor:
        """The tensor tiled ``sizes[i]`` times along dim i (extra leading sizes add dims):
        ``x.repeat(2, 1)`` stacks two copies of x vertically."""
        sizes = _as_shape(sizes)
        if len(sizes) < self.ndim:
            raise OpError(
                f"repeat: {len(sizes)} sizes for a {self.ndim}-d tensor; give at least one per dim"
            )
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        spread = tuple(s for n in shape for s in (1, n))  # (1, n0, 1, n1, ...)
        copies = tuple(s for r, n in zip(sizes, shape, strict=True) for s in (r, n))
        tiled = self.reshape(spread).expand(*copies)  # (r0, n0, r1, n1, ...)
        return tiled.reshape(tuple(r * n for r, n in zip(sizes, shape, strict=True)))

    def tile(self, *dims: Any) -> Tensor:
        """``repeat`` with missing leading sizes taken as 1 (``x.tile(2)`` of a matrix
        repeats its columns)."""
        dims = _as_shape(dims)
        return self.repeat(*((1,) * (self.ndim - len(dims)) + tuple(dims)))

    def repeat_interleave(
        self, repeats: Any, dim: int | None = None, *, output_size: int | None = None
    ) -> Tensor:
        """Each entry (slice along ``dim``) repeated ``repeats`` times in place: [1, 2] ->
        [1, 1, 2, 2]; ``repeats`` an int or one count per entry; ``dim=None`` flattens."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else _dim(dim, self.ndim, "repeat_interleave")
        counts = repeats.data if isinstance(repeats, Tensor) else self.xp.asarray(repeats)
        n = x.shape[d] if x.ndim else 1
        if counts.ndim > 1 or counts.size not in (1, n) or (counts.size and counts.min() < 0):
            raise OpError(
                f"repeat_interleave: repeats must be one count or {n} non-negative counts, "
                f"got {counts.tolist()}"
            )
        return x.index_select(d, self.xp.repeat(self.xp.arange(n), counts.reshape(-1)))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(*other.shape)

    # ------------------------------------------------------------ trigonometry, erf, rounding
    # Sin, Cos, Asin, Atan, Atan2, Erf and Rounding are primitives (ops.py); the rest are
    # identities over them.

    def sin(self) -> Tensor:
        return ops.Sin.apply(self._floated())

    def cos(self) -> Tensor:
        return ops.Cos.apply(self._floated())

    def tan(self) -> Tensor:  # sin / cos; its gradient 1 + tan^2 = 1 / cos^2 follows
        x = self._floated()
        return x.sin() / x.cos()

    def asin(self) -> Tensor:
        return ops.Asin.apply(self._floated())

    def acos(self) -> Tensor:  # acos x = pi/2 - asin x
        return math.pi / 2 - self.asin()

    def atan(self) -> Tensor:
        return ops.Atan.apply(self._floated())

    def atan2(self, other: Any) -> Tensor:
        """The angle of the point (other, self) (x = other, y = self), in (-pi, pi]."""
        return ops.Atan2.apply(*self._operands(other, divide=True))

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2  # NumPy's names, as torch

    def sinh(self) -> Tensor:  # (e^x - e^-x) / 2
        x = self._floated()
        return (x.exp() - (-x).exp()) * 0.5

    def cosh(self) -> Tensor:  # (e^x + e^-x) / 2
        x = self._floated()
        return (x.exp() + (-x).exp()) * 0.5

    def erf(self) -> Tensor:
        """The error function, 2/sqrt(pi) * integral_0^x e^(-t^2) dt (GELU's exact form)."""
        return ops.Erf.apply(self._floated())

    def _step(self, fn: Callable[[Any], Any]) -> Tensor:
        if self.data.dtype.kind in "iub":  # integers are their own floor, ceil and round
            return Tensor._wrap(self.data.copy())
        return ops.Rounding.apply(self, fn=fn)

    def floor(self) -> Tensor:
        return self._step(self.xp.floor)

    def ceil(self) -> Tensor:
        return self._step(self.xp.ceil)

    def trunc(self) -> Tensor:
        """Round toward zero."""
        return self._step(self.xp.trunc)

    fix = trunc

    def round(self, *, decimals: int = 0) -> Tensor:
        """Round to ``decimals`` places, halves to even (``round(2.5) == 2``), as PyTorch."""
        return self._step(lambda a: self.xp.round(a, decimals))

    def sign(self) -> Tensor:
        """-1, 0 or 1 (nan stays nan); gradient 0."""
        if self.data.dtype.kind in "iub":
            return Tensor._wrap(self.xp.sign(self.data))
        return ops.Rounding.apply(self, fn=self.xp.sign)

    sgn = sign

    def frac(self) -> Tensor:
        """The fractional part, x - trunc(x) (keeps the sign of x); gradient 1."""
        return self - self.trunc()

    # ------------------------------------------------------------ backward

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Fill ``.grad`` of every leaf this tensor depends on (reverse-mode chain rule).

        Args:
            grad: d(something)/d(self); may be omitted when self holds one number
                (it is then 1, as in ``loss.backward()``).
            retain_graph: keep the saved arrays so that backward can run again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad; no tensor it was computed "
                "from has requires_grad=True (or it was computed under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be omitted only for a tensor with one element, "
                    f"got shape {self.shape}; pass grad= of that shape (or reduce with .sum())"
                )
            grad = self.xp.ones_like(self.data)
        else:
            grad = self.xp.asarray(
                grad.data if isinstance(grad, Tensor) else grad, dtype=self.data.dtype
            )
            if grad.shape != self.data.shape:
                raise ValueError(
                    f"backward: grad has shape {grad.shape}, expected {self.data.shape}"
                )
        run_backward(self, grad, retain_graph)

    @staticmethod
    def _wrap(data: Any) -> Tensor:
        """A leaf Tensor around an existing array, without copying or checks."""
        out = _new_tensor(Tensor)
        out.data = data
        out.grad = None
        out.requires_grad = False
        out._ctx = None
        out._retain = False
        return out


def _device_of_data(data: Any) -> Device:
    """The device of constructor data: an array's own, the CPU for Python data. A CuPy
    array from outside groundup registers CUDA on the way."""
    if type(data).__module__.partition(".")[0] == "cupy":
        get_device("cuda")
    try:
        return device_of(data)
    except TypeError:  # a number, a list: built on the host first
        return CPU


def _correction(unbiased: bool | None, correction: int | None) -> int:
    """Bessel's correction from either spelling (default 1, PyTorch's)."""
    if unbiased is not None and correction is not None:
        raise TypeError("var: give unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def _int_min(data: Any, dim: Any, keepdim: bool) -> Any:
    """``min`` of a bool or int tensor, straight from NumPy (no gradient to track)."""
    xp = array_module(data)
    if dim is None or isinstance(dim, tuple):
        return Tensor._wrap(xp.asarray(data.min(axis=dim, keepdims=keepdim)))
    values = data.min(axis=dim, keepdims=keepdim)
    indices = data.argmin(axis=dim, keepdims=keepdim)
    return MaxResult(Tensor._wrap(xp.asarray(values)), Tensor._wrap(xp.asarray(indices)))


def _argsort(data: Any, dim: int, descending: bool) -> Any:
    """Indices that sort ``data`` along ``dim``, ties in their original order, nan last
    (first when descending, as PyTorch: nan counts as the largest).

    Descending without breaking ties: sort the reversed array ascending, reverse back.
    """
    xp = array_module(data)
    if not descending:
        return xp.argsort(data, axis=dim, kind="stable")
    ascending = xp.argsort(xp.flip(data, dim), axis=dim, kind="stable")
    return xp.flip(data.shape[dim] - 1 - ascending, dim)


def _diagonal_positions(n1: int, n2: int, offset: int, xp: Any) -> tuple[Any, Any]:
    """Rows and columns of the ``offset`` diagonal of an (n1, n2) matrix: (i, i + offset).

    >>> [a.tolist() for a in _diagonal_positions(3, 3, -1, np)]
    [[1, 2], [0, 1]]
    """
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    i = xp.arange(length)
    return (i, i + offset) if offset >= 0 else (i - offset, i)


def _drop(shape: tuple[int, ...], dim: int) -> tuple[int, ...]:
    return shape[:dim] + shape[dim + 1 :]


def _put(shape: tuple[int, ...], dim: int, n: int) -> tuple[int, ...]:
    return shape[:dim] + (n,) + shape[dim:]


def _positive(dims: Any, ndim: int) -> set[int]:
    """Dims as non-negative ints (``-1`` is the last)."""
    return {d % ndim for d in dims} if ndim else set()


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """``input`` where ``condition`` is True, else ``other``: all three broadcast, and either
    value may be a Python number (types promote as in arithmetic: an int tensor and 0.5 give
    float32). ``where(condition)`` alone is ``condition.nonzero(as_tuple=True)``."""
    if isinstance(condition, Tensor):
        cond = condition.data
    else:  # a mask from Python or NumPy goes to the device of the values
        values = [t for t in (input, other) if isinstance(t, Tensor)]
        cond = (values[0].xp if values else numpy).asarray(condition)
    if input is None and other is None:
        return Tensor._wrap(cond).nonzero(as_tuple=True)
    if isinstance(input, Tensor):
        a, b = input._operands(other)
    elif isinstance(other, Tensor):
        b, a = other._operands(input)
    else:
        a, b = Tensor(input)._operands(other)
    return ops.Where.apply(a, b, condition=cond.astype(bool, copy=False))
