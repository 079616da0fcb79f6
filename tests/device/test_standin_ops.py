"""Every op, forward and backward, through the stand-in GPU: the same values and gradients
as on the CPU, and no device array ever handed to NumPy (the stand-in raises if one is).

The stand-in computes with NumPy underneath, so agreement is exact: any difference is a
bug in how an op finds its array module, not rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from gpu_standin import DeviceArray

import groundup
import groundup.nn.functional as GF
import groundup.nn.fused as fused
from groundup import Tensor

rng = np.random.default_rng(0)


def _x(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def _pos(*shape: int) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


# name -> (inputs as host arrays (floats get gradients), fn(F, *tensors) -> Tensor)
Case = tuple[list[np.ndarray], Callable[..., Any]]
IDS = np.array([[1, 0, 3], [2, 2, 4]])
MASK = _x(4, 5)
CASES: dict[str, Case] = {
    # elementwise
    "add_broadcast": ([_x(2, 3), _x(3)], lambda F, a, b: a + b),
    "sub_scalar": ([_x(2, 3)], lambda F, a: 2.0 - a - 1),
    "mul_div": ([_x(2, 3), _pos(2, 1)], lambda F, a, b: a * b / (b + 1.0)),
    "rdiv": ([_pos(4)], lambda F, a: 1.0 / a),
    "pow": ([_pos(3, 2)], lambda F, a: a**3 + a**0.5 + a**0),
    "rpow": ([_x(3)], lambda F, a: 2.0**a),
    "exp_log": ([_pos(2, 3)], lambda F, a: a.exp() + a.log() + a.log2()),
    "tanh_sigmoid_relu": ([_x(5)], lambda F, a: a.tanh() + a.sigmoid() + a.relu()),
    "sqrt_rsqrt_abs": ([_pos(4)], lambda F, a: a.sqrt() + a.rsqrt() + (-a).abs() + a.square()),
    "clamp": ([_x(6)], lambda F, a: a.clamp(-0.5, 0.5) + a.clamp_min(0) + a.clamp_max(0.1)),
    "clamp_tensor": ([_x(6), _x(6)], lambda F, a, b: a.clamp(min=b)),
    "maximum_minimum": ([_x(4), _x(4)], lambda F, a, b: a.maximum(b) + a.minimum(b)),
    "trig": ([_x(5) * 0.5], lambda F, a: a.sin() + a.cos() + a.tan() + a.asin() + a.acos()),
    "atan_atan2": ([_x(4), _x(4)], lambda F, a, b: a.atan() + a.atan2(b)),
    "sinh_cosh_erf": ([_x(4)], lambda F, a: a.sinh() + a.cosh() + a.erf()),
    "rounding": (
        [_x(5) * 3],
        lambda F, a: a.floor() + a.ceil() + a.trunc() + a.round() + a.frac() + a.sign(),
    ),
    "compare": (
        [_x(5), _x(5)],
        lambda F, a, b: a.where_(a > b, b) if False else groundup.where(a > b, a, b),
    ),
    "where_scalar": ([_x(5)], lambda F, a: groundup.where(a > 0, a, 0.0)),
    # reductions
    "sum_mean": ([_x(2, 3, 4)], lambda F, a: a.sum() + a.mean(dim=1).sum() + a.sum((0, 2)).sum()),
    "var_std": ([_x(3, 4)], lambda F, a: a.var(dim=0).sum() + a.std() + a.var(correction=0)),
    "max_min": (
        [_x(3, 4)],
        lambda F, a: a.max() + a.max(dim=1).values.sum() + a.min(dim=0)[0].sum(),
    ),
    "amax_amin": ([_x(3, 4)], lambda F, a: a.amax(dim=1) + a.amin(dim=1)),
    "logsumexp": ([_x(3, 4)], lambda F, a: a.logsumexp(dim=-1)),
    "prod": ([_pos(3, 4)], lambda F, a: a.prod(dim=1)),
    "argmax_argmin": (
        [_x(3, 4)],
        lambda F, a: a * (a.argmax(dim=1).float().sum() + a.argmin().float()),
    ),
    "any_all": (
        [_x(3, 4)],
        lambda F, a: a * float((a > 0).any()) * float((a > -9).all(dim=1).all()),
    ),
    # matmul
    "matmul_batched": ([_x(2, 3, 4), _x(4, 5)], lambda F, a, b: a @ b),
    "matmul_vec": ([_x(4), _x(4, 2)], lambda F, a, b: a @ b),
    # movement
    "reshape_view_flatten": ([_x(2, 3, 4)], lambda F, a: a.reshape(6, 4).view(4, 6).flatten()),
    "squeeze_unsqueeze": ([_x(2, 1, 3)], lambda F, a: a.squeeze(1).unsqueeze(0)),
    "expand": ([_x(2, 1)], lambda F, a: a.expand(2, 3) * a.expand_as(Tensor(np.ones((2, 3))))),
    "transpose_permute_T": (
        [_x(2, 3, 4)],
        lambda F, a: (
            a.transpose(0, 2).permute(2, 1, 0) + a.T.T + a.permute(0, 2, 1).transpose(1, 2)
        ),
    ),
    "flip_roll": ([_x(3, 4)], lambda F, a: a.flip(0) + a.roll(1, 1)),
    "cat_stack": (
        [_x(2, 3), _x(2, 3)],
        lambda F, a, b: groundup.cat([a, b], 1).sum() + groundup.stack([a, b]).sum((0, 1)),
    ),
    "split": ([_x(5, 2)], lambda F, a: a.split(2)[0].sum() + a.split([1, 4])[1].sum()),
    "tril_triu": ([_x(4, 4)], lambda F, a: a.tril() + a.triu(1)),
    "repeat_tile": ([_x(2, 3)], lambda F, a: a.repeat(2, 1).sum() + a.tile((1, 2)).sum()),
    "repeat_interleave": ([_x(3)], lambda F, a: a.repeat_interleave(2)),
    "diagonal_trace": ([_x(3, 3)], lambda F, a: a.diagonal() + a.trace() + a.diag_embed().sum(0)),
    "unfold": ([_x(2, 7)], lambda F, a: a.unfold(1, 3, 2)),
    # selection
    "getitem_basic": ([_x(4, 5)], lambda F, a: a[1:3, ::2] * a[0, -1]),
    "getitem_ints_list": ([_x(4, 5)], lambda F, a: a[[0, 2, 2]].sum(0) + a[:, [1, 1]].sum(1).sum()),
    "getitem_host_array": ([_x(4, 5)], lambda F, a: a[np.array([3, 0, 3])]),
    "getitem_mask": (
        [_x(4, 5)],
        lambda F, a: a[a > 0].sum() + a[np.array([True, False, True, False])].sum(),
    ),
    "getitem_torch_order": ([_x(3, 4, 5)], lambda F, a: a[0, :, [1, 2]]),
    "masked_fill": (
        [_x(3, 4)],
        lambda F, a: a.masked_fill(a < 0, 0.5) + a.masked_fill(np.eye(3, 4, dtype=bool), 1.0),
    ),
    "gather_take": (
        [_x(3, 4)],
        lambda F, a: (
            a.gather(1, Tensor(np.array([[0, 3], [1, 1], [2, 0]]))).sum()
            + a.take_along_dim(Tensor(np.array([[1], [0], [3]])), 1).sum()
        ),
    ),
    "index_select": ([_x(3, 4)], lambda F, a: a.index_select(1, [3, 0])),
    "masked_select": ([_x(3, 4)], lambda F, a: a.masked_select(a > 0.1)),
    "scatter": (
        [_x(3, 4), _x(3, 2)],
        lambda F, a, b: (
            a.scatter(1, np.array([[0, 1], [2, 3], [1, 0]]), b)
            + a.scatter(1, np.array([[0], [1], [2]]), 2.0)
        ),
    ),
    "scatter_add_reduce": (
        [_x(3, 4), _x(3, 2)],
        lambda F, a, b: (
            a.scatter_add(1, np.array([[0, 0], [3, 3], [1, 2]]), b)
            + a.scatter_reduce(1, np.array([[0, 0], [3, 3], [1, 2]]), b, "amax")
        ),
    ),
    "scatter_mean_prod": (
        [_x(3, 4), _x(3, 2)],
        lambda F, a, b: (
            a.scatter_reduce(1, np.array([[0, 0], [3, 3], [1, 2]]), b, "mean")
            + a.scatter_reduce(1, np.array([[0, 0], [3, 3], [1, 2]]), b, "prod")
        ),
    ),
    "nonzero": (
        [_x(3, 4)],
        lambda F, a: a * float(len(a.nonzero())) + a[groundup.where(a > 0)].sum(),
    ),
    # scans, sorting
    "cumsum_cumprod": ([_pos(3, 4)], lambda F, a: a.cumsum(1) + a.cumprod(0)),
    "cummax_cummin": ([_x(3, 4)], lambda F, a: a.cummax(1).values + a.cummin(0).values),
    "sort_argsort": (
        [_x(3, 4)],
        lambda F, a: a.sort(dim=1).values + a.sort(descending=True)[0] + a.argsort(dim=0).float(),
    ),
    "topk_kthvalue": (
        [_x(3, 5)],
        lambda F, a: a.topk(2).values.sum() + a.kthvalue(2, dim=1).values.sum(),
    ),
    "median": ([_x(3, 5)], lambda F, a: a.median() + a.median(dim=1).values.sum()),
    "einsum": ([_x(2, 3), _x(3, 4)], lambda F, a, b: groundup.einsum("ij,jk->ik", a, b)),
    "cast": ([_x(3)], lambda F, a: a.double().float() + a.to("float64").to(a.dtype)),
    # nn functions (both tiers)
    "softmax_log_softmax": ([_x(2, 5)], lambda F, a: F.softmax(a, -1) + F.log_softmax(a, -1)),
    "cross_entropy": ([_x(2, 3, 5)], lambda F, a: F.cross_entropy(a, IDS)),
    "cross_entropy_ignore_weight": (
        [_x(6, 5)],
        lambda F, a: F.cross_entropy(
            a, np.array([1, -100, 3, 0, 4, 4]), weight=np.arange(1.0, 6.0)
        ),
    ),
    "cross_entropy_probs": (
        [_x(4, 5), _pos(4, 5)],
        lambda F, a, p: F.cross_entropy(a, p / p.sum(-1, keepdim=True)),
    ),
    "cross_entropy_torch_layout": ([_x(2, 5, 3)], lambda F, a: F.cross_entropy(a, IDS)),
    "nll_loss": ([_x(3, 5)], lambda F, a: F.nll_loss(F.log_softmax(a, -1), np.array([0, 4, 2]))),
    "bce": (
        [_x(3, 4)],
        lambda F, a: (
            F.binary_cross_entropy(a.sigmoid(), np.ones((3, 4)) * 0.3)
            + F.binary_cross_entropy_with_logits(a, np.zeros((3, 4)))
        ),
    ),
    "gelu": ([_x(3, 4)], lambda F, a: F.gelu(a) + F.gelu(a, approximate="tanh")),
    "activations": (
        [_x(3, 4)],
        lambda F, a: F.silu(a) + F.leaky_relu(a) + F.hardtanh(a) + F.softplus(a),
    ),
    "layer_norm": ([_x(2, 3, 4), _x(4), _x(4)], lambda F, a, w, b: F.layer_norm(a, (4,), w, b)),
    "rms_norm": ([_x(2, 3, 4), _x(4)], lambda F, a, w: F.rms_norm(a, (4,), w)),
    "batch_norm": (
        [_x(4, 3), _x(3), _x(3)],
        lambda F, a, w, b: F.batch_norm(a, None, None, w, b, training=True),
    ),
    "batch_norm_eval": (
        [_x(4, 3)],
        lambda F, a: F.batch_norm(
            a, groundup.zeros(3, device=a.device), groundup.ones(3, device=a.device), training=False
        ),
    ),
    "linear": ([_x(2, 4), _x(3, 4), _x(3)], lambda F, a, w, b: F.linear(a, w, b)),
    "embedding": ([_x(5, 3)], lambda F, w: F.embedding(IDS, w)),
    "embedding_tensor_ids": ([_x(5, 3)], lambda F, w: F.embedding(Tensor(IDS, device=w.device), w)),
    "one_hot": ([_x(2, 3, 5)], lambda F, a: a * F.one_hot(Tensor(IDS, device=a.device), 5).float()),
    "attention_causal": (
        [_x(2, 2, 4, 3), _x(2, 2, 4, 3), _x(2, 2, 4, 3)],
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
    ),
    "attention_masks": (
        [_x(1, 4, 3), _x(1, 5, 3), _x(1, 5, 3)],
        lambda F, q, k, v: (
            F.scaled_dot_product_attention(q, k, v, attn_mask=np.tril(np.ones((4, 5), bool)))
            + F.scaled_dot_product_attention(q, k, v, attn_mask=MASK)
        ),
    ),
    "attention_gqa": (
        [_x(1, 2, 2, 3, 4), _x(1, 2, 1, 3, 4), _x(1, 2, 1, 3, 4)],
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
    ),
    "rotary": (
        [_x(1, 2, 3, 4)],
        lambda F, a: F.rotary_embedding(a, *GF.rope_cos_sin(np.arange(3), 4)),
    ),
    "dropout_off": ([_x(3, 4)], lambda F, a: F.dropout(a, 0.5, training=False) + F.dropout(a, 0.0)),
    "pad": (
        [_x(1, 2, 3, 3)],
        lambda F, a: (
            F.pad(a, (1, 1, 2, 0)).sum()
            + F.pad(a, (1, 1, 1, 0), mode="reflect").sum()
            + F.pad(a, (1, 2, 0, 1), mode="replicate").sum()
            + F.pad(a, (1, 1, 1, 1), mode="circular").sum()
        ),
    ),
    "conv2d": (
        [_x(1, 2, 5, 5), _x(3, 2, 3, 3), _x(3)],
        lambda F, a, w, b: F.conv2d(a, w, b, stride=2, padding=1),
    ),
    "conv1d_transpose": (
        [_x(1, 2, 6), _x(2, 3, 3)],
        lambda F, a, w: (
            F.conv_transpose1d(a, w, stride=2).sum() + F.conv1d(a, w.transpose(0, 1)).sum()
        ),
    ),
    "max_pool": (
        [_x(1, 2, 5, 5)],
        lambda F, a: (
            F.max_pool2d(a, 2, ceil_mode=True).sum() + F.max_pool1d(a[0], 3, padding=1).sum()
        ),
    ),
    "max_pool_indices": (
        [_x(1, 1, 4, 4)],
        lambda F, a: a.flatten()[F.max_pool2d(a, 2, return_indices=True)[1].flatten()],
    ),
    "avg_pool": (
        [_x(1, 2, 5, 5)],
        lambda F, a: (
            F.avg_pool2d(a, 3, 2, padding=1, count_include_pad=False).sum()
            + F.avg_pool1d(a[0], 2).sum()
            + F.avg_pool2d(a, 2, divisor_override=3).sum()
        ),
    ),
    "adaptive_avg_pool": (
        [_x(1, 2, 5, 7)],
        lambda F, a: F.adaptive_avg_pool2d(a, (2, 3)).sum() + F.adaptive_avg_pool1d(a[0], 3).sum(),
    ),
    "interpolate": (
        [_x(1, 1, 3, 4)],
        lambda F, a: (
            sum(
                F.interpolate(a, scale_factor=2, mode=m).sum()
                for m in ("nearest", "nearest-exact", "bilinear", "bicubic", "area")
            )
            + F.interpolate(a, size=(5, 5), mode="bilinear", align_corners=True).sum()
        ),
    ),
    "fold_unfold": ([_x(1, 2, 4, 4)], lambda F, a: F.fold(F.unfold(a, 2), (4, 4), 2)),
}


def _run(
    fn: Callable[..., Any], arrays: list[np.ndarray], F: Any, device: str
) -> tuple[Any, list[Any]]:
    """The output and the inputs' gradients (as host arrays) of ``fn`` on ``device``."""
    leaves = [Tensor(a, dtype="float64", requires_grad=True, device=device) for a in arrays]
    out = fn(F, *leaves)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(Tensor(weights, dtype=out.dtype, device=device))
    assert out.device == device
    return out.numpy(), [None if t.grad is None else _host(t.grad) for t in leaves]


def _host(a: Any) -> np.ndarray:
    return a._a.copy() if type(a) is DeviceArray else np.asarray(a)


@pytest.mark.parametrize("tier", ["definition", "fused"])
@pytest.mark.parametrize("name", list(CASES))
def test_op_on_the_standin_equals_the_cpu(name, tier, standin_cuda):
    arrays, fn = CASES[name]
    F = GF if tier == "definition" else fused
    cpu_out, cpu_grads = _run(fn, arrays, F, "cpu")
    dev_out, dev_grads = _run(fn, arrays, F, "cuda")
    np.testing.assert_allclose(dev_out, cpu_out, rtol=1e-12, atol=1e-12)
    for g_cpu, g_dev in zip(cpu_grads, dev_grads, strict=True):
        assert (g_cpu is None) == (g_dev is None)
        if g_cpu is not None:
            np.testing.assert_allclose(g_dev, g_cpu, rtol=1e-12, atol=1e-12)


def test_gradients_stay_on_the_device(standin_cuda):
    x = Tensor(_x(3, 4), requires_grad=True, device="cuda")
    (x.exp() * 2).sum().backward()
    assert type(x.grad) is DeviceArray


def test_dropout_on_the_device_keeps_the_expected_fraction(standin_cuda):
    x = groundup.ones(2000, device="cuda")
    for F in (GF, fused):
        y = F.dropout(x, 0.25, generator=np.random.default_rng(0))
        assert type(y.data) is DeviceArray
        values = y.numpy()
        assert set(np.unique(values).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
        assert 0.2 < (values == 0).mean() < 0.3
