"""CUDA kernels for the fast tier, written with CuPy's ElementwiseKernel: one pass over
memory where the NumPy-shaped code of :mod:`groundup.nn.fused` makes several.

Imported only when CuPy is present (``kernels()`` imports it on first call); nothing here
runs on the CPU. Each kernel must equal its composed definition in
:mod:`groundup.nn.functional` (``tests/device/test_cuda_kernels.py``, which skips without a
GPU, and ``benchmarks/gpu_check.sh``). UNMEASURED: no GPU was available when these were
written; they are not wired into the layers yet, so the GPU path runs ``nn.fused`` through
CuPy until the check has passed on a GPU.

Written so far: GELU (tanh form) forward and backward, and AdamW's update. Still to write:
softmax/attention, layer_norm, cross_entropy and embedding backward (docs/gpu.md).
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

# GELU's tanh form: 0.5 x (1 + tanh(c (x + 0.044715 x^3))), c = sqrt(2 / pi). With
# t = tanh(u), u = c (x + 0.044715 x^3): d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 0.044715 x^2)
_GELU_FORWARD = """
    const T c = 0.7978845608028654;
    T u = c * (x + (T)0.044715 * x * x * x);
    y = (T)0.5 * x * ((T)1 + tanh(u));
"""
_GELU_BACKWARD = """
    const T c = 0.7978845608028654;
    T u = c * (x + (T)0.044715 * x * x * x);
    T t = tanh(u);
    T du = c * ((T)1 + (T)3 * (T)0.044715 * x * x);
    dx = g * ((T)0.5 * ((T)1 + t) + (T)0.5 * x * ((T)1 - t * t) * du);
"""
# AdamW (decoupled decay), in place on p, m, v: PyTorch's order of operations
_ADAMW = """
    p = p * ((T)1 - lr * wd);
    m = m + (g - m) * ((T)1 - beta1);
    v = v * beta2 + ((T)1 - beta2) * g * g;
    p = p - step_size * (m / (sqrt(v) / bias2_sqrt + eps));
"""


@lru_cache(maxsize=1)
def kernels() -> dict[str, Any]:
    """The compiled kernels (CuPy compiles each on its first call, per dtype)."""
    cupy = importlib.import_module("cupy")
    ek = cupy.ElementwiseKernel
    return {
        "gelu_forward": ek("T x", "T y", _GELU_FORWARD, "groundup_gelu_forward"),
        "gelu_backward": ek("T x, T g", "T dx", _GELU_BACKWARD, "groundup_gelu_backward"),
        "adamw": ek(
            "T g, T lr, T wd, T beta1, T beta2, T step_size, T bias2_sqrt, T eps",
            "T p, T m, T v",
            _ADAMW,
            "groundup_adamw",
        ),
    }


def gelu_tanh(x: Any) -> Any:
    """GELU's tanh form of a CuPy array, one kernel."""
    return kernels()["gelu_forward"](x)


def gelu_tanh_backward(x: Any, grad: Any) -> Any:
    """The gradient of :func:`gelu_tanh` at ``x`` times ``grad``, one kernel."""
    return kernels()["gelu_backward"](x, grad)


def adamw_(
    p: Any, grad: Any, m: Any, v: Any, lr: float, wd: float, betas: tuple[float, float],
    eps: float, t: int,
) -> None:  # fmt: skip
    """One AdamW step on CuPy arrays in place (``p``, ``m``, ``v``), as ``optim.AdamW``."""
    beta1, beta2 = betas
    dt = p.dtype.type
    kernels()["adamw"](
        grad, dt(lr), dt(wd), dt(beta1), dt(beta2), dt(lr / (1 - beta1**t)),
        dt((1 - beta2**t) ** 0.5), dt(eps), p, m, v,
    )  # fmt: skip
