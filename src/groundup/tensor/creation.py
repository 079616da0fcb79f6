"""Making tensors: ``tensor``, ``zeros``, ``ones``, ``randn``, ``arange``, ``cat``, ``stack``,
``where``, as PyTorch spells them. Float data defaults to float32; randomness comes from a
seed or a ``numpy.random.Generator``, never from global state. Each takes ``device=``
("cpu" by default, or "cuda"); random draws are made on the host and copied over, so a seed
gives the same numbers on every device."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy

from groundup._check import generator
from groundup.tensor import ops
from groundup.tensor.backend import default_float, get_device, to_dtype
from groundup.tensor.tensor import Tensor, _as_shape, numpy_names


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> Tensor:
    """``groundup.tensor([1.0, 2.0])``: same as ``Tensor(...)``, PyTorch's spelling."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


_rng = generator  # an int seed, a Generator (as is) or None: groundup._check


def _float_dtype(dtype: Any) -> Any:
    return default_float if dtype is None else to_dtype(dtype)


def _xp(device: Any) -> Any:
    """The array module of ``device`` (NumPy when None)."""
    return numpy if device is None else get_device(device).xp


def _to(data: Any, device: Any) -> Any:
    """Host data moved to ``device`` (left on the host when None or "cpu")."""
    return data if device is None else get_device(device).to_device(data)


def zeros(
    *shape: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    data = _xp(device).zeros(_as_shape(shape), dtype=_float_dtype(dtype))
    return Tensor._wrap(data).requires_grad_(requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    data = _xp(device).ones(_as_shape(shape), dtype=_float_dtype(dtype))
    return Tensor._wrap(data).requires_grad_(requires_grad)


def randn(
    *shape: Any,
    dtype: Any = None,
    requires_grad: bool = False,
    generator: Any = None,
    device: Any = None,
) -> Tensor:
    """Standard normal samples from ``generator`` (int seed, Generator or None)."""
    dt = _float_dtype(dtype)
    data = _rng(generator).standard_normal(_as_shape(shape), dtype=numpy.float64).astype(dt)
    return Tensor._wrap(_to(data, device)).requires_grad_(requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """``arange(5)`` -> [0, 1, 2, 3, 4]; integers give int64, floats float32."""
    if end is None:
        start, end = 0, start
    dt = to_dtype(dtype)
    if dt is None:
        floats = any(isinstance(v, float) for v in (start, end, step))
        dt = default_float if floats else numpy.int64
    return Tensor._wrap(_xp(device).arange(start, end, step, dtype=dt)).requires_grad_(
        requires_grad
    )


def _join_inputs(op: str, tensors: Sequence[Tensor], dim: int, new_dim: bool) -> list[Tensor]:
    """Check what cat/stack get, so a mistake names the op, not a NumPy internal."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors, got none")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {type(t).__name__} at position {i}")
    ndim = tensors[0].ndim + new_dim
    if ndim == 0:
        raise ValueError(f"{op}: 0-d tensors have no dim to join along; use stack")
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a {ndim}-d result (expected {-ndim}..{ndim - 1})"
        )
    return tensors


@numpy_names
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    return ops.Cat.apply(*_join_inputs("cat", tensors, dim, new_dim=False), dim=dim)


@numpy_names
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along a new dimension."""
    return ops.Stack.apply(*_join_inputs("stack", tensors, dim, new_dim=True), dim=dim)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor._wrap(t.xp.zeros_like(t.data, dtype=to_dtype(dtype))).requires_grad_(
        requires_grad
    )


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor._wrap(t.xp.ones_like(t.data, dtype=to_dtype(dtype))).requires_grad_(requires_grad)


def full(
    shape: Any,
    fill_value: float,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """A tensor of ``shape`` holding ``fill_value`` (float32 unless ``dtype``)."""
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    data = _xp(device).full(shape, fill_value, dtype=_float_dtype(dtype))
    return Tensor._wrap(data).requires_grad_(requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None) -> Tensor:
    return Tensor._wrap(t.xp.full_like(t.data, fill_value, dtype=to_dtype(dtype)))


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """The identity matrix (n, m), float32 unless ``dtype``."""
    return Tensor._wrap(_xp(device).eye(n, m, dtype=_float_dtype(dtype)))


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None) -> Tensor:
    """``steps`` evenly spaced numbers from ``start`` to ``end``, both included."""
    return Tensor._wrap(_xp(device).linspace(start, end, steps, dtype=_float_dtype(dtype)))


def randint(
    low: int, high: int | None = None, size: Any = (), generator: Any = None, device: Any = None
) -> Tensor:
    """Random int64s in [low, high) (``randint(high, size=...)`` from 0), from a seed or a
    Generator."""
    if high is None:
        low, high = 0, low
    size = tuple(size) if isinstance(size, (tuple, list)) else (size,)
    data = _rng(generator).integers(low, high, size=size, dtype=numpy.int64)
    return Tensor._wrap(_to(data, device))
