"""The fast tier's attention against torch's scaled_dot_product_attention: the output and
the three gradients, over the lengths and options that take different paths through the
kernels (one block, causal blocks from T = 256, lengths that do not fill a block, keys
longer than queries, k and v shared across heads, masks, a gradient for v alone)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

import groundup.nn.fused as fused  # noqa: E402
from groundup import Tensor  # noqa: E402

B, H, D = 2, 3, 16
VARIANTS = ["causal", "full", "longer keys", "shared k v", "bool mask", "float mask", "v only"]


def case(T: int, variant: str, rng: np.random.Generator) -> tuple[list, dict, list[bool]]:
    """(q, k, v) arrays, the keyword arguments, and which inputs need a gradient."""
    S = T + 7 if variant == "longer keys" else T
    heads = 1 if variant == "shared k v" else H
    q = rng.standard_normal((B, H, T, D))
    k, v = rng.standard_normal((B, heads, S, D)), rng.standard_normal((B, heads, S, D))
    kwargs: dict = {"is_causal": variant in ("causal", "shared k v", "v only")}
    if variant == "bool mask":  # True: may attend (torch's convention, and ours)
        mask = rng.random((T, S)) < 0.7
        mask[:, 0] = True  # every query sees a key
        kwargs["attn_mask"] = mask
    if variant == "float mask":
        kwargs["attn_mask"], kwargs["scale"] = rng.standard_normal((1, T, S)), -0.5
    grads = [variant != "v only", variant != "v only", True]
    return [q, k, v], kwargs, grads


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("T", [1, 5, 64, 65, 256, 257, 300])
def test_attention_matches_torch(T, variant, dtype):
    rng = np.random.default_rng(T)
    arrays, kwargs, grads = case(T, variant, rng)
    arrays = [a.astype(dtype) for a in arrays]
    mask = kwargs.get("attn_mask")
    if mask is not None and mask.dtype != bool:
        kwargs["attn_mask"] = mask = mask.astype(dtype)
    ref = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads, strict=True)]
    ref_kwargs = dict(kwargs, attn_mask=None if mask is None else torch.tensor(mask))
    want = TF.scaled_dot_product_attention(*ref, **ref_kwargs)
    g = rng.standard_normal(want.shape).astype(dtype)
    want.backward(torch.tensor(g))

    ours = [Tensor(a, dtype=dtype, requires_grad=r) for a, r in zip(arrays, grads, strict=True)]
    got = fused.scaled_dot_product_attention(*ours, **kwargs)
    got.backward(g)

    tol = dict(rtol=1e-9, atol=1e-10) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(got.data, want.detach().numpy(), **tol)
    for mine, theirs in zip(ours, ref, strict=True):
        if theirs.requires_grad:
            np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **tol)
        else:
            assert mine.grad is None
