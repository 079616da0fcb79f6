"""The CuPy kernels of nn/fused_cuda.py against their composed definitions, on a real GPU
(they are CUDA code: the stand-in cannot run them). Skipped without one."""

from __future__ import annotations

import numpy as np
import pytest

from groundup.tensor import cuda

pytestmark = pytest.mark.skipif(
    not cuda.is_available(), reason="needs a GPU and CuPy (pip install -e '.[cuda]')"
)


def test_gelu_kernels_equal_the_definition():
    import groundup.nn.functional as F
    from groundup import Tensor
    from groundup.nn import fused_cuda

    x_host = np.random.default_rng(0).standard_normal((64, 33)) * 4
    g_host = np.random.default_rng(1).standard_normal((64, 33))
    x = Tensor(x_host, dtype="float64", requires_grad=True)
    F.gelu(x, approximate="tanh").backward(Tensor(g_host, dtype="float64"))
    dev = Tensor(x_host, dtype="float64", device="cuda")
    g = Tensor(g_host, dtype="float64", device="cuda")
    y = fused_cuda.gelu_tanh(dev.data)
    dx = fused_cuda.gelu_tanh_backward(dev.data, g.data)
    np.testing.assert_allclose(
        Tensor(y).numpy(),
        F.gelu(Tensor(x_host, dtype="float64"), approximate="tanh").numpy(),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(Tensor(dx).numpy(), x.grad, rtol=1e-10, atol=1e-12)


def test_adamw_kernel_equals_the_optimiser():
    from groundup import Tensor, optim
    from groundup.nn import Parameter, fused_cuda

    rng = np.random.default_rng(0)
    p0, grads = rng.standard_normal(50), [rng.standard_normal(50) for _ in range(3)]
    p = Parameter(p0.copy())
    opt = optim.AdamW([p], lr=1e-2, weight_decay=0.1, betas=(0.9, 0.99), eps=1e-8)
    dev = Tensor(p0, dtype="float64", device="cuda").data
    m, v = dev * 0, dev * 0
    for t, g in enumerate(grads, start=1):
        p.grad = g.copy()
        opt.step()
        fused_cuda.adamw_(dev, Tensor(g, device="cuda", dtype="float64").data, m, v,
                          1e-2, 0.1, (0.9, 0.99), 1e-8, t)  # fmt: skip
    np.testing.assert_allclose(Tensor(dev).numpy(), p.data, rtol=1e-12, atol=1e-14)
