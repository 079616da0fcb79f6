"""The array modules behind the tensor engine: NumPy on the CPU, CuPy on a GPU.

An op never names an array library. It asks its inputs: ``array_module(a)`` is NumPy for
a NumPy array and CuPy for a CuPy array, one dict lookup on the array's type, so the same
``forward`` and ``backward`` run on either device. ``Function.apply`` does the lookup
once per op and hands the module to the op as ``self.xp``; a Tensor's methods read
``self.xp``.

A *device* is a name (``"cpu"``, ``"cuda"``) with its array module and the two copies
across the bus (``to_device``, ``to_host``). The CPU is always here. CUDA is registered on
first use, by importing CuPy then and only then (``groundup.cuda``): importing groundup
never imports CuPy, and without CuPy everything runs on the CPU as before. The tests
register a stand-in device the same way (``register_device``): NumPy arrays in a wrapper
that refuses every NumPy call, so an op that leaks device data into NumPy fails on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numpy

# float32 is the default for float data, as in PyTorch: half the memory and twice the BLAS
# speed of float64, and plenty of precision for training. float64 is for gradient checks.
default_float = numpy.float32


class Device:
    """Where a tensor's data lives, printed as PyTorch prints it (``cpu``, ``cuda:0``).

    Compares equal to its name, so ``t.device == "cuda"`` reads as in PyTorch's tests.
    """

    __slots__ = ("type", "index", "xp", "array_type", "to_device", "to_host")

    def __init__(
        self,
        type: str,
        xp: Any,
        array_type: type,
        to_device: Callable[[Any], Any],
        to_host: Callable[[Any], Any],
        index: int | None = None,
    ) -> None:
        self.type, self.index, self.xp, self.array_type = type, index, xp, array_type
        self.to_device, self.to_host = to_device, to_host

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return other in (self.type, str(self))
        return isinstance(other, Device) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash(str(self))


CPU = Device("cpu", numpy, numpy.ndarray, numpy.asarray, numpy.asarray)

# device type -> Device; array type -> Device (the per-op lookup). Only the CPU is known at
# import; "cuda" is added by groundup.cuda when CuPy is asked for.
_DEVICES: dict[str, Device] = {"cpu": CPU}
_BY_ARRAY_TYPE: dict[type, Device] = {numpy.ndarray: CPU}

# Called with a device type that is not registered (groundup.cuda installs one for "cuda"
# that imports CuPy); it registers the device or raises an error that says what to install.
_finders: dict[str, Callable[[], None]] = {}


def register_device(device: Device) -> None:
    """Make ``device`` known: tensors may be moved to it, and ops on its arrays find its
    module. Registering a type again replaces it (the tests swap in a stand-in "cuda")."""
    old = _DEVICES.get(device.type)
    if old is not None:
        _BY_ARRAY_TYPE.pop(old.array_type, None)
    _DEVICES[device.type] = device
    _BY_ARRAY_TYPE[device.array_type] = device


def unregister_device(type: str) -> None:
    """Forget the device ``type`` (the tests' stand-in, after a test)."""
    old = _DEVICES.pop(type, None)
    if old is not None and type != "cpu":
        _BY_ARRAY_TYPE.pop(old.array_type, None)


def get_device(device: Any) -> Device:
    """``"cpu"``, ``"cuda"``, ``"cuda:0"`` or a :class:`Device` as a registered Device.

    Raises a one-line error naming the device when it is unknown or not available (for
    CUDA without CuPy, the error says what to install).
    """
    if isinstance(device, Device):
        return device
    if not isinstance(device, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda', got {device!r}")
    name, _, index = device.partition(":")
    if index not in ("", "0"):
        raise ValueError(f"device {device!r}: only one GPU (index 0) is supported")
    found = _DEVICES.get(name)
    if found is None and name in _finders:
        _finders[name]()  # imports the library, registers the device or raises
        found = _DEVICES.get(name)
    if found is None:
        known = ", ".join(sorted({*_DEVICES, *_finders}))
        raise ValueError(f"device {device!r} is not one of: {known}")
    return found


def is_device_name(value: Any) -> bool:
    """Whether ``value`` names a device (``Tensor.to`` takes a device or a dtype)."""
    if isinstance(value, Device):
        return True
    return isinstance(value, str) and value.partition(":")[0] in {*_DEVICES, *_finders}


def device_of(a: Any) -> Device:
    """The device an array lives on."""
    found = _BY_ARRAY_TYPE.get(type(a))
    if found is None:
        found = _slow_device_of(a)
    return found


def array_module(a: Any) -> Any:
    """The array module (NumPy, CuPy, the tests' stand-in) that computes on ``a``.

    One dict lookup on ``type(a)``: cheap enough to run on every op.
    """
    found = _BY_ARRAY_TYPE.get(type(a))
    if found is None:
        found = _slow_device_of(a)
    return found.xp


def _slow_device_of(a: Any) -> Device:
    """An array type met for the first time: a NumPy subclass (memmap) or a NumPy scalar
    lives on the CPU; anything else is not an array we know."""
    if isinstance(a, numpy.ndarray):
        _BY_ARRAY_TYPE[type(a)] = CPU
        return CPU
    if isinstance(a, numpy.generic):  # not remembered: apply must still wrap scalars
        return CPU
    for device in list(_DEVICES.values()):
        if isinstance(a, device.array_type):
            _BY_ARRAY_TYPE[type(a)] = device
            return device
    raise TypeError(f"not an array of any known device: {type(a).__name__}")


def to_host(a: Any) -> Any:
    """A NumPy copy of a device array (the array itself when it is already NumPy's)."""
    device = device_of(a)
    return a if device is CPU else device.to_host(a)


def errstate(xp: Any, **kinds: str) -> Any:
    """``numpy.errstate(**kinds)`` for NumPy; a GPU raises no floating-point warnings, and
    CuPy has no errstate, so there it is a block that does nothing."""
    return xp.errstate(**kinds) if xp is numpy else nullcontext()


def to_dtype(dtype: Any) -> Any:
    """Turn ``"float64"``, ``numpy.float64`` or ``None`` into a numpy dtype (or None).

    CuPy uses NumPy's dtypes, so one dtype serves every device.

    >>> to_dtype("float32")
    dtype('float32')
    """
    if dtype is None:
        return None
    try:
        return numpy.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"dtype must be a numpy dtype or its name like 'float32', got {dtype!r}"
        ) from None
