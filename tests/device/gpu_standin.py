"""A stand-in GPU for a machine without one: NumPy arrays behind a wall.

``DeviceArray`` holds a NumPy array but is not one: NumPy cannot see inside it
(``__array__``, ``__array_function__`` and ``__array_ufunc__`` all refuse), and its own
operators refuse a host array on the other side. ``standin`` is its array module: every
NumPy function, unwrapping device arrays, computing with NumPy, wrapping the results, and
refusing host arrays among the arguments, as CuPy refuses them. Only ``asarray``/``array``
(the copy to the device) take host data, and only ``asnumpy`` gives it back.

So an op that reaches for the global NumPy with device data, or mixes a host array into a
device computation without a copy, fails here on a CPU exactly where it would fail (or
silently copy across the bus) on a GPU. Registered as the "cuda" device by the
``standin_cuda`` fixture (conftest.py).

Like CuPy, the stand-in returns 0-d arrays where NumPy returns scalars, has no
``errstate`` and no ``flags.writeable``, and refuses Python lists where an array is meant
(``argsort([2, 1])``); it takes them where CuPy does (shapes, ``asarray``).
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np


class LeakError(TypeError):
    """Device data met NumPy (or host data met device data) without an explicit copy."""


def _leak(what: str) -> LeakError:
    return LeakError(f"stand-in device array: {what}; copy explicitly (asarray / asnumpy)")


class Flags:
    """CuPy's flags: contiguity and ownership, and no ``writeable`` (nothing is read-only)."""

    def __init__(self, a: np.ndarray) -> None:
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = a.flags.owndata


class DeviceArray:
    """A NumPy array NumPy may not touch."""

    __slots__ = ("_a",)
    __array_ufunc__ = None  # ndarray + DeviceArray: NumPy defers to our __radd__, which refuses
    __array_priority__ = 1000

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise _leak("NumPy asked for its data (np.asarray, a NumPy function, a host array op)")

    def __array_function__(self, *args: Any, **kwargs: Any) -> Any:
        raise _leak(f"a NumPy function was called on it ({getattr(args[0], '__name__', '?')})")

    # the attributes CuPy arrays have
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: Flags(self._a))
    T = property(lambda self: DeviceArray(self._a.T))

    @property
    def base(self) -> Any:
        return None if self._a.base is None else DeviceArray(self._a.base)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:  # methods: reshape, sum, astype, max ...
        if name.startswith("__"):
            raise AttributeError(name)
        value = getattr(self._a, name)
        if callable(value):
            return _wrapped(value, name, method=True)
        return wrap(value)

    # Python's conversions sync with the device, as CuPy's do: allowed
    def item(self) -> Any:
        return self._a.item()

    def tolist(self) -> Any:
        return self._a.tolist()

    def get(self) -> np.ndarray:  # cupy.ndarray.get(): the copy to the host
        return self._a.copy()

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __index__(self) -> int:
        return self._a.__index__()

    def __bool__(self) -> bool:
        return bool(self._a)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Any:
        return (wrap(x) for x in self._a)

    def __repr__(self) -> str:
        return repr(self._a)

    def __format__(self, spec: str) -> str:
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __getitem__(self, index: Any) -> Any:
        return wrap(self._a[unwrap_index(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        self._a[unwrap_index(index)] = unwrap(value)

    def __hash__(self) -> int:
        return id(self)


def unwrap(x: Any) -> Any:
    """The NumPy array inside a device array; a host array here is a leak."""
    if type(x) is DeviceArray:
        return x._a
    if isinstance(x, np.ndarray):
        raise _leak(f"a host array of shape {x.shape} met device data")
    if isinstance(x, (list, tuple)):
        return type(x)(unwrap(v) for v in x)
    return x


def unwrap_index(index: Any) -> Any:
    """An index may hold device arrays, ints, slices, lists of ints; not host arrays."""
    if isinstance(index, tuple):
        return tuple(unwrap_index(p) for p in index)
    if type(index) is DeviceArray:
        return index._a
    if isinstance(index, np.ndarray):
        raise _leak(f"a host index array of shape {index.shape} indexed device data")
    return index


def wrap(x: Any) -> Any:
    """NumPy results as device arrays (scalars as 0-d arrays, as CuPy returns them)."""
    if isinstance(x, np.ndarray):
        return DeviceArray(x)
    if isinstance(x, np.generic):
        return DeviceArray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(wrap(v) for v in x)
    if isinstance(x, list):
        return [wrap(v) for v in x]
    if isinstance(x, np.random.Generator):
        return _Namespace(x, "random.Generator")
    return x


def _binary(name: str) -> Any:
    def method(self: DeviceArray, other: Any) -> Any:
        return wrap(getattr(self._a, name)(unwrap(other)))

    method.__name__ = name
    return method


def _unary(name: str) -> Any:
    def method(self: DeviceArray) -> Any:
        return wrap(getattr(self._a, name)())

    method.__name__ = name
    return method


for _name in (
    "add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow rpow "
    "matmul rmatmul and rand or ror xor rxor lshift rshift eq ne lt le gt ge "
    "iadd isub imul itruediv ifloordiv imod ipow iand ior ixor imatmul"
).split():
    setattr(DeviceArray, f"__{_name}__", _binary(f"__{_name}__"))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(DeviceArray, f"__{_name}__", _unary(f"__{_name}__"))


def _inplace(name: str) -> Any:
    # a += b must keep the same wrapper (others may hold it): NumPy's in-place op then us
    def method(self: DeviceArray, other: Any) -> Any:
        getattr(self._a, name)(unwrap(other))
        return self

    method.__name__ = name
    return method


for _name in "iadd isub imul itruediv ifloordiv imod ipow iand ior ixor".split():
    setattr(DeviceArray, f"__{_name}__", _inplace(f"__{_name}__"))


def _refuse_lists(name: str, args: tuple[Any, ...]) -> None:
    """CuPy takes no Python sequence of numbers where an array is meant."""
    if args and isinstance(args[0], (list, tuple)) and name not in _TAKES_SEQUENCES:
        if any(isinstance(v, (int, float, bool)) for v in args[0]):
            raise TypeError(f"stand-in {name}: a Python sequence is not an array; asarray it")


_TAKES_SEQUENCES = {
    "asarray", "array", "zeros", "ones", "empty", "full", "broadcast_shapes", "concatenate",
    "stack", "vstack", "hstack", "meshgrid", "ix_", "result_type", "default_rng", "reshape",
    "normal", "random", "standard_normal", "integers", "uniform", "ravel_multi_index",
}  # fmt: skip


def _wrapped(fn: Any, name: str, method: bool = False) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        if not method:  # a method's first argument is a shape or an axis, never data
            _refuse_lists(name, args)
        args = tuple(unwrap(a) for a in args)
        kwargs = {k: unwrap(v) for k, v in kwargs.items()}
        return wrap(fn(*args, **kwargs))

    call.__name__ = name
    return call


class _Namespace:
    """A NumPy namespace (the module, np.random, np.lib.stride_tricks, a ufunc, a
    Generator) whose callables unwrap, compute and wrap."""

    def __init__(self, inner: Any, name: str) -> None:
        self._inner, self._name = inner, name

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if isinstance(value, (types.ModuleType, np.ufunc)) or (
            isinstance(value, np.random.Generator)
        ):
            return _Namespace(value, name)
        if isinstance(value, type) or not callable(value):
            return value  # dtypes, np.integer, nan, inf, newaxis: the same on every device
        return _wrapped(value, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # a ufunc: np.exp(x)
        return _wrapped(self._inner, self._name)(*args, **kwargs)


class _StandinModule(_Namespace):
    """The stand-in's ``cupy``: NumPy's functions on device arrays, plus the copies."""

    ndarray = DeviceArray

    def __init__(self) -> None:
        super().__init__(np, "standin")

    def asarray(self, a: Any, dtype: Any = None, **kwargs: Any) -> DeviceArray:
        """The copy to the device (cupy.asarray): host data is welcome here."""
        if type(a) is DeviceArray:
            return a if dtype is None or a.dtype == dtype else DeviceArray(a._a.astype(dtype))
        return DeviceArray(np.array(_host_data(a), dtype=dtype, copy=True))

    def array(self, a: Any, dtype: Any = None, copy: bool = True, **kwargs: Any) -> DeviceArray:
        if type(a) is DeviceArray:
            return DeviceArray(np.array(a._a, dtype=dtype, copy=copy))
        return DeviceArray(np.array(_host_data(a), dtype=dtype, copy=True))

    def asnumpy(self, a: Any) -> np.ndarray:
        """The copy to the host (cupy.asnumpy)."""
        return a._a.copy() if type(a) is DeviceArray else np.asarray(a)

    def __getattr__(self, name: str) -> Any:
        if name in _CUPY_LACKS:
            raise AttributeError(f"module 'cupy' has no attribute {name!r}")
        return super().__getattr__(name)


_CUPY_LACKS = {"errstate", "seterr", "geterr"}  # a GPU raises no floating-point warnings


def _host_data(a: Any) -> Any:
    """Data for a copy to the device: host arrays, numbers, nested lists (which may hold
    device scalars, as ``[x.max(), 0]`` does)."""
    if isinstance(a, (list, tuple)):
        return [_host_data(v) for v in a]
    return a._a if type(a) is DeviceArray else a


standin = _StandinModule()


def to_device(a: Any) -> DeviceArray:
    return standin.asarray(a)


def to_host(a: Any) -> np.ndarray:
    return standin.asnumpy(a)
