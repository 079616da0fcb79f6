"""CUDA through CuPy: the "cuda" device, registered the first time it is asked for.

CuPy is an optional extra (``pip install -e ".[cuda]"`` installs ``cupy-cuda12x``). It is
imported here and nowhere else, and only when a program asks for "cuda" (or calls
:func:`is_available`): importing groundup, or running on the CPU, never imports it.
"""

from __future__ import annotations

import importlib
from typing import Any

from groundup.tensor import backend
from groundup.tensor.backend import default_float

INSTALL_HINT = (
    'CUDA needs CuPy: install it with pip install -e ".[cuda]" (the cupy-cuda12x wheel, '
    "for CUDA 12 drivers)"
)

_import_error: str | None = None  # why the last attempt failed (not retried: it is slow)

# TF32 rounds a float32 matmul's inputs to 10 mantissa bits for the tensor cores: several
# times faster on an A100/H100, and not float32 any more. Off, as in PyTorch since 1.12.
_allow_tf32 = False


def _cupy() -> Any:
    """Import CuPy and check that a GPU answers; raise RuntimeError saying what is missing."""
    global _import_error
    if _import_error is not None:
        raise RuntimeError(_import_error)
    try:
        cupy = importlib.import_module("cupy")
    except ImportError:
        _import_error = INSTALL_HINT
        raise RuntimeError(_import_error) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # no driver, or a driver too old for the wheel
        _import_error = f"CuPy is installed but finds no usable GPU ({e})"
        raise RuntimeError(_import_error) from None
    if count == 0:
        _import_error = "CuPy is installed but finds no GPU"
        raise RuntimeError(_import_error)
    return cupy


def _register() -> None:
    """The finder backend.get_device calls for "cuda": import CuPy, register the device."""
    cupy = _cupy()
    backend.register_device(
        backend.Device("cuda", cupy, cupy.ndarray, cupy.asarray, cupy.asnumpy, index=0)
    )
    _apply_tf32(cupy)


backend._finders["cuda"] = _register


def is_available() -> bool:
    """Whether ``device="cuda"`` works here: CuPy imports and sees a GPU (or a stand-in
    "cuda" device is registered, as in the tests)."""
    if "cuda" in backend._DEVICES:
        return True
    try:
        _register()
    except RuntimeError:
        return False
    return True


def default_device() -> str:
    """What ``--device auto`` means: "cuda" when it is available, else "cpu"."""
    return "cuda" if is_available() else "cpu"


def synchronize() -> None:
    """Wait until the GPU has finished its queued work (timing needs it; results do not:
    every copy to the host waits already). Nothing to do on a stand-in or without CUDA."""
    device = backend._DEVICES.get("cuda")
    if device is not None and hasattr(device.xp, "cuda"):
        device.xp.cuda.Device().synchronize()


def set_allow_tf32(allow: bool) -> None:
    """Let float32 matmuls use TF32 tensor cores (PyTorch's
    ``torch.backends.cuda.matmul.allow_tf32``). Off by default: results then stay float32."""
    global _allow_tf32
    _allow_tf32 = bool(allow)
    device = backend._DEVICES.get("cuda")
    if device is not None and hasattr(device.xp, "cuda"):
        _apply_tf32(device.xp)


def _apply_tf32(cupy: Any) -> None:
    # CuPy reads CUPY_TF32 once, when float32 matmul first asks for its compute type; this
    # sets it at run time instead (its values: 1 is cuBLAS's default, 7 is TF32).
    linalg = getattr(cupy._core, "_routines_linalg", None)
    if linalg is None:  # a CuPy without the switch: set CUPY_TF32=1 in the environment
        return
    mode = getattr(linalg, "COMPUTE_TYPE_TF32" if _allow_tf32 else "COMPUTE_TYPE_DEFAULT",
                   7 if _allow_tf32 else 1)  # fmt: skip
    linalg.set_compute_type(default_float, mode)
