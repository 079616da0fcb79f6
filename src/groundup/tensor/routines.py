"""PyTorch's free-function spellings of the Tensor methods: ``groundup.sin(x)`` is
``x.sin()`` as ``torch.sin(x)`` is, ``groundup.gather(x, 1, idx)`` is ``x.gather(1, idx)``.

Each is one line that calls the method, where the op itself is written (tensor.py); the
constructors and ``cat``/``stack``/``where`` are in creation.py.
"""

from __future__ import annotations

from typing import Any

from groundup.tensor.einsum import einsum
from groundup.tensor.function import OpError
from groundup.tensor.tensor import Tensor, numpy_names

__all__ = [
    "abs",
    "acos",
    "add",
    "all",
    "allclose",
    "amax",
    "amin",
    "any",
    "arccos",
    "arcsin",
    "arctan",
    "arctan2",
    "argmax",
    "argmin",
    "argsort",
    "asin",
    "atan",
    "atan2",
    "ceil",
    "clamp",
    "clamp_max",
    "clamp_min",
    "clip",
    "cos",
    "cosh",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "diag",
    "diag_embed",
    "diagonal",
    "div",
    "divide",
    "einsum",
    "erf",
    "exp",
    "fix",
    "flatten",
    "flip",
    "floor",
    "frac",
    "gather",
    "index_select",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "kthvalue",
    "log",
    "log2",
    "log_softmax",
    "logsumexp",
    "masked_fill",
    "masked_select",
    "matmul",
    "max",
    "maximum",
    "mean",
    "median",
    "meshgrid",
    "min",
    "minimum",
    "mul",
    "multiply",
    "neg",
    "negative",
    "nonzero",
    "numel",
    "permute",
    "pow",
    "prod",
    "relu",
    "repeat_interleave",
    "reshape",
    "roll",
    "round",
    "rsqrt",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "sgn",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "softmax",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "std",
    "sub",
    "subtract",
    "sum",
    "swapaxes",
    "swapdims",
    "take_along_dim",
    "tan",
    "tanh",
    "tile",
    "topk",
    "trace",
    "transpose",
    "tril",
    "triu",
    "true_divide",
    "trunc",
    "unsqueeze",
    "var",
]


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


# ---------------------------------------------------------------- elementwise


def abs(input: Any) -> Tensor:  # noqa: A001 (PyTorch's name)
    return _tensor(input).abs()


def exp(input: Any) -> Tensor:
    return _tensor(input).exp()


def log(input: Any) -> Tensor:
    return _tensor(input).log()


def log2(input: Any) -> Tensor:
    return _tensor(input).log2()


def sqrt(input: Any) -> Tensor:
    return _tensor(input).sqrt()


def rsqrt(input: Any) -> Tensor:
    return _tensor(input).rsqrt()


def square(input: Any) -> Tensor:
    return _tensor(input).square()


def tanh(input: Any) -> Tensor:
    return _tensor(input).tanh()


def sigmoid(input: Any) -> Tensor:
    return _tensor(input).sigmoid()


def relu(input: Any) -> Tensor:
    return _tensor(input).relu()


def sin(input: Any) -> Tensor:
    return _tensor(input).sin()


def cos(input: Any) -> Tensor:
    return _tensor(input).cos()


def tan(input: Any) -> Tensor:
    return _tensor(input).tan()


def asin(input: Any) -> Tensor:
    return _tensor(input).asin()


def acos(input: Any) -> Tensor:
    return _tensor(input).acos()


def atan(input: Any) -> Tensor:
    return _tensor(input).atan()


def atan2(input: Any, other: Any) -> Tensor:
    return _tensor(input).atan2(other)


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2


def sinh(input: Any) -> Tensor:
    return _tensor(input).sinh()


def cosh(input: Any) -> Tensor:
    return _tensor(input).cosh()


def erf(input: Any) -> Tensor:
    return _tensor(input).erf()


def floor(input: Any) -> Tensor:
    return _tensor(input).floor()


def ceil(input: Any) -> Tensor:
    return _tensor(input).ceil()


def trunc(input: Any) -> Tensor:
    return _tensor(input).trunc()


fix = trunc


def round(input: Any, *, decimals: int = 0) -> Tensor:  # noqa: A001 (PyTorch's name)
    return _tensor(input).round(decimals=decimals)


def sign(input: Any) -> Tensor:
    return _tensor(input).sign()


sgn = sign


def frac(input: Any) -> Tensor:
    return _tensor(input).frac()


def clamp(input: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return _tensor(input).clamp(min, max)


clip = clamp


def maximum(input: Any, other: Any) -> Tensor:
    return _tensor(input).maximum(other)


def minimum(input: Any, other: Any) -> Tensor:
    return _tensor(input).minimum(other)


def matmul(input: Any, other: Any) -> Tensor:
    return _tensor(input) @ other


# ---------------------------------------------------------------- gather and scatter


@numpy_names
def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    return input.gather(dim, index)


@numpy_names
def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    return input.take_along_dim(indices, dim)


@numpy_names
def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    return input.index_select(dim, index)


def masked_select(input: Tensor, mask: Any) -> Tensor:
    return input.masked_select(mask)


@numpy_names
def scatter(
    input: Tensor, dim: int, index: Any, src: Any = None, value: Any = None, *,
    reduce: str | None = None,
) -> Tensor:  # fmt: skip
    return input.scatter(dim, index, src, value, reduce=reduce)


@numpy_names
def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    return input.scatter_add(dim, index, src)


@numpy_names
def scatter_reduce(
    input: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    return input.scatter_reduce(dim, index, src, reduce, include_self=include_self)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    return input.nonzero(as_tuple=as_tuple)


# ---------------------------------------------------------------- scans and products


@numpy_names
def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    return input.cumsum(dim, dtype=dtype)


@numpy_names
def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    return input.cumprod(dim, dtype=dtype)


@numpy_names
def cummax(input: Tensor, dim: int) -> Any:
    return input.cummax(dim)


@numpy_names
def cummin(input: Tensor, dim: int) -> Any:
    return input.cummin(dim)


@numpy_names
def prod(
    input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    return input.prod(dim, keepdim, dtype=dtype)


# ---------------------------------------------------------------- sorting and selecting


@numpy_names
def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
    return input.sort(dim, descending, stable=stable)


@numpy_names
def argsort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> Tensor:
    return input.argsort(dim, descending, stable=stable)


@numpy_names
def topk(
    input: Tensor,
    k: int,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,  # noqa: A002
) -> Any:
    return input.topk(k, dim, largest, sorted)


@numpy_names
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    return input.kthvalue(k, dim, keepdim)


@numpy_names
def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    return input.median(dim, keepdim)


# ---------------------------------------------------------------- movement


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    return input.roll(shifts, dims)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    return input.diagonal(offset, dim1, dim2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    return input.diag_embed(offset, dim1, dim2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    return input.diag(diagonal)


def trace(input: Tensor) -> Tensor:
    return input.trace()


def tile(input: Tensor, dims: Any) -> Tensor:
    return input.tile(dims)


@numpy_names
def repeat_interleave(
    input: Any, repeats: Any = None, dim: int | None = None, *, output_size: int | None = None
) -> Tensor:
    """``input.repeat_interleave(repeats, dim)``; with ``repeats`` alone (one tensor of
    counts), the indices 0, 1, ... each repeated that many times."""
    if repeats is None:
        counts = _tensor(input)
        xp = counts.xp
        return Tensor._wrap(xp.repeat(xp.arange(counts.numel()), counts.data))
    return _tensor(input).repeat_interleave(repeats, dim, output_size=output_size)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: output i holds tensor i's values along its dim.
    ``indexing="ij"`` (matrix) or ``"xy"`` (Cartesian: the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise OpError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [_tensor(t).reshape(-1) for t in tensors]
    where = list(range(len(ts)))  # the output dim each input runs along
    if indexing == "xy" and len(ts) > 1:
        where[0], where[1] = 1, 0
    shape = [0] * len(ts)
    for t, d in zip(ts, where, strict=True):
        shape[d] = t.shape[0]
    grids = []
    for t, d in zip(ts, where, strict=True):
        view = [1] * len(ts)
        view[d] = t.shape[0]
        grids.append(t.reshape(view).expand(*shape))
    return tuple(grids)


# ---------------------------------------------------------------- comparison


@numpy_names
def isclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    return _tensor(input).isclose(other, rtol, atol, equal_nan)


def allclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    return _tensor(input).allclose(other, rtol, atol, equal_nan)


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return input.clamp(min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return input.clamp(max=max)


# ---------------------------------------------------------------- arithmetic


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    return _tensor(input).add(other, alpha=alpha)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    return _tensor(input).sub(other, alpha=alpha)


subtract = sub


def mul(input: Any, other: Any) -> Tensor:
    return _tensor(input) * other


multiply = mul


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """input / other; ``rounding_mode="trunc"`` or ``"floor"`` rounds the quotient (its
    gradient is then 0, as for any rounding)."""
    x = _tensor(input)
    if rounding_mode is None:
        return x / other
    if rounding_mode not in ("trunc", "floor"):
        raise OpError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    xp = x.xp
    b = other.data if isinstance(other, Tensor) else xp.asarray(other)
    if x.dtype.kind in "iu" and b.dtype.kind in "iu":  # integers stay integers
        q = xp.floor_divide(x.data, b) if rounding_mode == "floor" else xp.fix(x.data / b)
        return Tensor._wrap(q.astype(xp.result_type(x.data, b)))
    q = x / other
    return q.floor() if rounding_mode == "floor" else q.trunc()


divide, true_divide = div, div


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001 (PyTorch's name)
    if not isinstance(input, Tensor):
        return exponent.__rpow__(input)  # a number ** a tensor
    return input.pow(exponent)


def neg(input: Any) -> Tensor:
    return -_tensor(input)


negative = neg


# ---------------------------------------------------------------- reductions


@numpy_names
def sum(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _tensor(input).sum(dim, keepdim)


@numpy_names
def mean(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).mean(dim, keepdim)


@numpy_names
def var(
    input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
    correction: int | None = None,
) -> Tensor:  # fmt: skip
    return input.var(dim, unbiased, keepdim, correction=correction)


@numpy_names
def std(
    input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
    correction: int | None = None,
) -> Tensor:  # fmt: skip
    return input.std(dim, unbiased, keepdim, correction=correction)


@numpy_names
def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """``input.max(dim, keepdim)``; ``max(input, other)`` with a tensor is ``maximum``."""
    if isinstance(dim, Tensor):
        return input.maximum(dim)
    return input.max(dim, keepdim)


@numpy_names
def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """``input.min(dim, keepdim)``; ``min(input, other)`` with a tensor is ``minimum``."""
    if isinstance(dim, Tensor):
        return input.minimum(dim)
    return input.min(dim, keepdim)


@numpy_names
def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return input.amax(dim, keepdim)


@numpy_names
def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return input.amin(dim, keepdim)


@numpy_names
def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return input.argmax(dim, keepdim)


@numpy_names
def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return input.argmin(dim, keepdim)


@numpy_names
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return input.logsumexp(dim, keepdim)


@numpy_names
def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return input.softmax(dim, dtype)


@numpy_names
def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return input.log_softmax(dim, dtype)


@numpy_names
def any(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _tensor(input).any(dim, keepdim)


@numpy_names
def all(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _tensor(input).all(dim, keepdim)


def isnan(input: Any) -> Tensor:
    return _tensor(input).isnan()


def isinf(input: Any) -> Tensor:
    return _tensor(input).isinf()


def isfinite(input: Any) -> Tensor:
    return _tensor(input).isfinite()


def numel(input: Tensor) -> int:
    return input.numel()


# ---------------------------------------------------------------- shapes


def reshape(input: Tensor, shape: Any) -> Tensor:
    return input.reshape(shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


@numpy_names
def squeeze(input: Tensor, dim: int | None = None) -> Tensor:
    return input.squeeze(dim)


@numpy_names
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return input.unsqueeze(dim)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return input.transpose(dim0, dim1)


swapaxes, swapdims = transpose, transpose


def permute(input: Tensor, dims: Any) -> Tensor:
    return input.permute(*dims)


def flip(input: Tensor, dims: Any) -> Tensor:
    return input.flip(dims)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return input.tril(diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return input.triu(diagonal)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> list[Tensor]:
    return tensor.split(split_size_or_sections, dim)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    return input.masked_fill(mask, value)
