"""The two tiers of groundup.nn: the definitions composed from primitives (functional) and
the fused kernels (fused). Known answers and hard cases run on both; every fused function
equals its definition, values and gradients (float64)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import groundup
import groundup.nn.functional as functional
import groundup.nn.fused as fused
import groundup.tensor.threads as tensor_threads
from groundup import Tensor


def leaf(a: Any) -> Tensor:
    return Tensor(np.asarray(a, dtype=np.float64), dtype="float64", requires_grad=True)


def value_and_grads(fn: Callable[..., Tensor], *arrays: np.ndarray, seed: int = 0):
    leaves = [leaf(a) for a in arrays]
    out = fn(*leaves)
    out.backward(np.random.default_rng(seed).standard_normal(out.shape))
    return out.data, [t.grad for t in leaves]


def assert_same(fused: Callable[..., Tensor], composed: Callable[..., Tensor], *arrays):
    """The fused op and its composition from primitives agree, forward and backward."""
    v1, g1 = value_and_grads(fused, *arrays)
    v2, g2 = value_and_grads(composed, *arrays)
    np.testing.assert_allclose(v1, v2, rtol=1e-10, atol=1e-12)
    for a, b in zip(g1, g2, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


TIER_NAMES = ["functional", "fused", "fused-numpy"]  # fused-numpy: the kernels turned off
TIERS = pytest.mark.parametrize("F", TIER_NAMES, indirect=True)


@pytest.fixture
def F(request, monkeypatch):
    """The tier named by the test's parameter; fused runs numba's kernels when installed."""
    if request.param == "fused-numpy":
        monkeypatch.setattr(fused, "_KERNELS", None)
    return functional if request.param == "functional" else fused


JIT = pytest.mark.parametrize("jit", [True, False], ids=["kernels", "numpy"])
rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4, 5))


# ---------------------------------------------------------------- known answers


@TIERS
def test_softmax_known_answer(F):
    y = F.softmax(Tensor([[0.0, math.log(3.0)]], dtype="float64"))
    np.testing.assert_allclose(y.data, [[0.25, 0.75]])


@TIERS
def test_cross_entropy_of_uniform_logits_is_log_classes(F):
    loss = F.cross_entropy(groundup.zeros(8, 27), np.arange(8))
    assert loss.item() == pytest.approx(math.log(27), rel=1e-6)


@TIERS
def test_gelu_known_values(F):
    x = Tensor([0.0, 1.0, -1.0], dtype="float64")
    exact = [0.0, 0.8413447460685429, -0.15865525393145707]  # x Phi(x), Phi(1) = 0.8413...
    np.testing.assert_allclose(F.gelu(x).data, exact, rtol=1e-14)  # PyTorch's default form
    tanh = [0.0, 0.8411919906082768, -0.15880800939172324]
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").data, tanh, rtol=1e-12)


@TIERS
def test_rms_norm_known_answer(F):
    # [3, 4]: mean of squares 12.5, so y = [3, 4] / sqrt(12.5) = [0.8485..., 1.1313...]
    y = F.rms_norm(Tensor([[3.0, 4.0]], dtype="float64"), 2, eps=0.0)
    np.testing.assert_allclose(y.data, [[3 / math.sqrt(12.5), 4 / math.sqrt(12.5)]])
    assert (y.data**2).mean() == pytest.approx(1.0)


@TIERS
def test_rotary_embedding_turns_each_pair_by_its_angle(F):
    """Position 1, head size 2: one pair, frequency 1, so (1, 0) turns by 1 radian."""
    cos, sin = functional.rope_cos_sin([0, 1], head_dim=2, dtype=np.float64)
    y = F.rotary_embedding(Tensor([[1.0, 0.0], [1.0, 0.0]], dtype="float64"), cos, sin)
    np.testing.assert_allclose(y.data, [[1.0, 0.0], [math.cos(1.0), math.sin(1.0)]])


@TIERS
def test_rotary_dot_product_depends_on_the_distance_only(F):
    """q at m, k at n: <R(m) q, R(n) k> is the same for (m, n) = (2, 0), (7, 5), (1000, 998)."""
    q, k = (Tensor(rng.standard_normal((1, 8)), dtype="float64") for _ in range(2))
    dots = []
    for m, n in [(2, 0), (7, 5), (1000, 998)]:
        cq, sq = functional.rope_cos_sin([m], 8, dtype=np.float64)
        ck, sk = functional.rope_cos_sin([n], 8, dtype=np.float64)
        dots.append(float((F.rotary_embedding(q, cq, sq) * F.rotary_embedding(k, ck, sk)).sum()))
    np.testing.assert_allclose(dots, dots[0], rtol=1e-9)


def test_rotate_half_twice_is_minus_the_identity():
    x = Tensor(rng.standard_normal((2, 6)), dtype="float64")
    np.testing.assert_array_equal(functional.rotate_half(functional.rotate_half(x)).data, -x.data)


@TIERS
def test_rms_norm_and_rotary_check_their_inputs(F):
    with pytest.raises(ValueError, match="rms_norm: input"):
        F.rms_norm(Tensor(X), 4)
    cos, sin = functional.rope_cos_sin([0, 1], head_dim=4)
    with pytest.raises(ValueError, match="rotary_embedding: x"):
        F.rotary_embedding(Tensor(np.ones((2, 5))), cos, sin)  # odd head size
    with pytest.raises(ValueError, match="rotary_embedding: x"):
        F.rotary_embedding(Tensor(np.ones((2, 6))), cos, sin)  # cos for another head size


@TIERS
def test_causal_self_attention_checks_its_inputs(F):
    """qkv must be (B, T, 3C) with C a multiple of n_head, a whole number >= 1."""
    for qkv, n_head, match in [((2, 5, 13), 2, r"qkv \(2, 5, 13\)"),
                               ((5, 12), 2, r"qkv \(5, 12\)"),
                               ((2, 5, 12), 0, "n_head must be"),
                               ((2, 5, 12), 2.0, "n_head must be")]:  # fmt: skip
        with pytest.raises(ValueError, match="causal_self_attention: " + match):
            F.causal_self_attention(Tensor(np.ones(qkv)), n_head)


@TIERS
def test_rms_norm_default_eps_is_the_dtype_epsilon(F):
    x = Tensor(np.zeros((1, 3)), dtype="float32", requires_grad=True)
    y = F.rms_norm(x, 3)  # 0 / sqrt(0 + eps): 0, not nan
    y.sum().backward()
    assert np.isfinite(y.data).all() and np.isfinite(x.grad).all()


@TIERS
def test_one_hot_known_answer(F):
    y = F.one_hot(np.array([0, 2]), 3)
    assert y.dtype == np.int64
    assert y.tolist() == [[1, 0, 0], [0, 0, 1]]
    assert F.one_hot(Tensor([1, 3])).shape == (2, 4)


# ---------------------------------------------------------------- the two tiers agree


def _cases():
    """(name, call(tier, *tensors), arrays): every function of the fused tier."""
    t = np.random.default_rng(1).integers(0, 5, size=(3, 4))
    t_ignored = np.where(t == 2, -1, t)
    idx = np.array([[0, 3, 3], [1, 0, 3]])
    q, k, v = (rng.standard_normal((2, 3, 4, 5)) for _ in range(3))
    qkv = rng.standard_normal((2, 5, 18))
    add = rng.standard_normal((4, 4))
    keep = rng.random((4, 4)) > 0.3
    keep[:, 0] = True  # every query may look at one key at least
    keep_b = rng.random((2, 1, 4, 4)) > 0.3  # a mask per batch row, the same for each head
    keep_b[..., 0] = True
    xb = rng.standard_normal((6, 3, 2))
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    w5, b5 = rng.standard_normal(5), rng.standard_normal(5)
    cos, sin = functional.rope_cos_sin(np.arange(3, 7), 6, theta=100.0, dtype=np.float64)

    def sdpa(**kwargs):  # attention of (q, k, v) with these arguments, in tier m
        return lambda m, q, k, v: m.scaled_dot_product_attention(q, k, v, **kwargs)

    return [
        ("gelu", lambda m, x: m.gelu(x), [X * 3]),
        ("gelu tanh", lambda m, x: m.gelu(x, approximate="tanh"), [X * 3]),
        ("softmax", lambda m, x: m.softmax(x, dim=1), [X]),
        ("softmax last", lambda m, x: m.softmax(x), [X * 30]),
        # a transposed output: the gradient reaches the softmax as a strided view
        ("softmax last strided grad", lambda m, x: m.softmax(x).transpose(0, 2), [X]),
        ("log_softmax", lambda m, x: m.log_softmax(x, dim=0), [X]),
        ("cross_entropy", lambda m, x: m.cross_entropy(x, t), [X]),
        ("cross_entropy sum", lambda m, x: m.cross_entropy(x, t, reduction="sum"), [X]),
        (
            "cross_entropy none ignore",
            lambda m, x: m.cross_entropy(x, t_ignored, ignore_index=-1, reduction="none"),
            [X],
        ),  # fmt: skip
        (
            "cross_entropy ignore",
            lambda m, x: m.cross_entropy(x, t_ignored, ignore_index=-1),
            [X],
        ),  # fmt: skip
        ("layer_norm", lambda m, x, w, b: m.layer_norm(x, 5, w, b), [X, w5, b5]),
        ("layer_norm 2 dims", lambda m, x: m.layer_norm(x, (4, 5)), [X]),
        ("layer_norm bias only", lambda m, x, b: m.layer_norm(x, 5, None, b), [X, b5]),
        ("layer_norm weight only", lambda m, x, w: m.layer_norm(x, 5, w), [X, w5]),
        (
            "layer_norm strided",
            lambda m, x, w, b: m.layer_norm(x.transpose(0, 2), 3, w, b),
            [X, w5[:3], b5[:3]],
        ),  # fmt: skip
        ("gelu tanh strided", lambda m, x: m.gelu(x.transpose(0, 1), approximate="tanh"), [X]),
        ("rms_norm", lambda m, x, w: m.rms_norm(x, 5, w, eps=1e-5), [X, w5]),
        ("rms_norm 2 dims no weight", lambda m, x: m.rms_norm(x, (4, 5)), [X]),
        (
            "rotary_embedding",
            lambda m, x: m.rotary_embedding(x, cos, sin),
            [rng.standard_normal((2, 3, 4, 6))],
        ),  # fmt: skip
        (
            "batch_norm train",
            lambda m, x, w, b: m.batch_norm(x, rm.copy(), rv.copy(), w, b, training=True),
            [xb, w5[:3], b5[:3]],
        ),  # fmt: skip
        (
            "batch_norm eval",
            lambda m, x, w, b: m.batch_norm(x, rm, rv, w, b, training=False),
            [xb, w5[:3], b5[:3]],
        ),  # fmt: skip
        (
            "linear",
            lambda m, x, w, b: m.linear(x, w, b),
            [X, rng.standard_normal((2, 5)), rng.standard_normal(2)],
        ),  # fmt: skip
        ("linear no bias", lambda m, x, w: m.linear(x, w), [X, rng.standard_normal((2, 5))]),
        (
            "gelu_linear tanh",  # one node in the fast tier: gelu(x) made again for dW
            lambda m, x, w, b: m.gelu_linear(x * 3, w, b, approximate="tanh"),
            [X, rng.standard_normal((2, 5)), rng.standard_normal(2)],
        ),  # fmt: skip
        (
            "gelu_linear tanh no bias strided",
            lambda m, x, w: m.gelu_linear(x.transpose(0, 1), w, approximate="tanh"),
            [X, rng.standard_normal((2, 5))],
        ),  # fmt: skip
        (
            "gelu_linear exact",
            lambda m, x, w, b: m.gelu_linear(x, w, b),
            [X, rng.standard_normal((2, 5)), rng.standard_normal(2)],
        ),  # fmt: skip
        ("embedding", lambda m, w: m.embedding(idx, w), [rng.standard_normal((4, 5))]),
        ("dropout", lambda m, x: m.dropout(x, 0.3, generator=3), [X]),
        ("attention", sdpa(), [q, k, v]),
        ("attention causal", sdpa(is_causal=True), [q, k, v]),
        (
            "attention causal, fewer queries than keys",
            lambda m, q, k, v: m.scaled_dot_product_attention(q[:, :, :2], k, v, is_causal=True),
            [q, k, v],
        ),  # fmt: skip
        (
            "attention causal strided",
            lambda m, q, k, v: m.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
            ),
            [q, k, v],
        ),  # fmt: skip
        ("attention bool mask per batch", sdpa(attn_mask=keep_b), [q, k, v]),
        # matmul lays its output out like its inputs: the kernels must not work on a copy
        (
            "attention causal fortran",
            sdpa(is_causal=True),
            [np.asfortranarray(a) for a in (q, k, v)],
        ),
        ("attention bool fortran", sdpa(attn_mask=keep), [np.asfortranarray(a) for a in (q, k, v)]),
        (
            "embedding padding",
            lambda m, w: m.embedding(idx, w, padding_idx=3),
            [rng.standard_normal((4, 5))],
        ),  # fmt: skip
        ("attention float mask", sdpa(attn_mask=add), [q, k, v]),
        ("attention bool mask", sdpa(attn_mask=keep), [q, k, v]),
        ("attention dropout", sdpa(dropout_p=0.2, generator=4), [q, k, v]),
        # 2 heads of 3 from (B, T, 3C) = (2, 5, 18): heads side by side in, side by side out
        ("causal_self_attention", lambda m, x: m.causal_self_attention(x, 2), [qkv]),
        ("causal_self_attention one head", lambda m, x: m.causal_self_attention(x, 1), [qkv]),
        (
            "causal_self_attention dropout",
            lambda m, x: m.causal_self_attention(x, 3, dropout_p=0.2, generator=5),
            [qkv],
        ),  # fmt: skip
        (
            "causal_self_attention strided",  # qkv a view, as a model's may be
            lambda m, x: m.causal_self_attention(x.transpose(0, 1), 2),
            [rng.standard_normal((5, 2, 18))],
        ),  # fmt: skip
    ]


CASES = _cases()


@JIT
@pytest.mark.parametrize("name, call, arrays", CASES, ids=[c[0] for c in CASES])
def test_every_fused_function_equals_its_definition(name, call, arrays, jit, monkeypatch):
    """The fast tier is the readable tier, faster: same values, same gradients, with the
    compiled kernels and with NumPy's code alike."""
    if not jit:
        monkeypatch.setattr(fused, "_KERNELS", None)
    assert_same(lambda *t: call(fused, *t), lambda *t: call(functional, *t), *arrays)


def test_the_table_covers_every_fused_function():
    # a name the fast tier shares with the definitions (no kernel of its own) needs no row
    shared = {n for n in fused.__all__ if getattr(fused, n) is getattr(functional, n)}
    names = {c[0].split()[0] for c in CASES} | shared
    assert set(fused.__all__) == set(functional.__all__) <= names | {"scaled_dot_product_attention"}
    assert fused.one_hot is functional.one_hot and fused.relu is functional.relu
    assert {"conv2d", "max_pool2d", "softplus"} <= shared


# ---------------------------------------------------------------- each tier == its formula


@TIERS
def test_softmax_equals_composed(F):
    def composed(x):
        e = (x - x.max(dim=1, keepdim=True).values).exp()
        return e / e.sum(dim=1, keepdim=True)

    assert_same(lambda x: F.softmax(x, dim=1), composed, X)


@TIERS
def test_log_softmax_equals_composed(F):
    def composed(x):
        m = x.max(dim=-1, keepdim=True).values
        return x - m - (x - m).exp().sum(dim=-1, keepdim=True).log()

    assert_same(F.log_softmax, composed, X)


@pytest.mark.parametrize("ignore_index", [None, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@TIERS
def test_cross_entropy_equals_composed(F, ignore_index, reduction):
    t = np.random.default_rng(1).integers(0, 5, size=(3, 4))

    def composed(x):
        logp = F.log_softmax(x, dim=-1)
        picked = -logp[np.arange(3)[:, None], np.arange(4)[None, :], t]
        keep = np.ones(t.shape) if ignore_index is None else (t != ignore_index) * 1.0
        picked = picked * Tensor(keep, dtype="float64")
        if reduction == "none":
            return picked
        return picked.sum() / (keep.sum() if reduction == "mean" else 1.0)

    def fused(x):
        return F.cross_entropy(x, t, ignore_index=ignore_index, reduction=reduction)

    assert_same(fused, composed, X)


@TIERS
def test_gelu_equals_composed(F):
    def composed(x):
        return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)).tanh())

    assert_same(lambda x: F.gelu(x, approximate="tanh"), composed, X)
    assert_same(F.gelu, lambda x: 0.5 * x * (1 + (x / math.sqrt(2)).erf()), X)


@TIERS
def test_layer_norm_equals_composed(F):
    def composed(x, w, b):
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True, correction=0)
        return (x - mean) / (var + 1e-5) ** 0.5 * w + b

    w, b = rng.standard_normal(5), rng.standard_normal(5)
    assert_same(lambda x, w, b: F.layer_norm(x, 5, w, b), composed, X, w, b)


@pytest.mark.parametrize("training", [True, False])
@TIERS
def test_batch_norm_equals_composed(F, training):
    x = rng.standard_normal((6, 3, 2))
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5

    def composed(x, w, b):
        if training:
            mean = x.mean(dim=(0, 2), keepdim=True)
            var = x.var(dim=(0, 2), keepdim=True, correction=0)
        else:
            mean = Tensor(rm.reshape(1, 3, 1), dtype="float64")
            var = Tensor(rv.reshape(1, 3, 1), dtype="float64")
        return (x - mean) / (var + 1e-5) ** 0.5 * w.reshape(1, 3, 1) + b.reshape(1, 3, 1)

    def fused(x, w, b):
        return F.batch_norm(x, rm.copy(), rv.copy(), w, b, training=training)

    assert_same(fused, composed, x, rng.standard_normal(3), rng.standard_normal(3))


@TIERS
def test_linear_equals_composed(F):
    w, b = rng.standard_normal((2, 5)), rng.standard_normal(2)
    assert_same(F.linear, lambda x, w, b: x @ w.transpose(0, 1) + b, X, w, b)
    assert_same(lambda x, w: F.linear(x, w), lambda x, w: x @ w.transpose(0, 1), X, w)


@TIERS
def test_embedding_equals_getitem_and_one_hot_matmul(F):
    idx = np.array([[0, 3, 3], [1, 0, 3]])  # repeated ids: their gradients add
    W = rng.standard_normal((4, 5))
    assert_same(lambda w: F.embedding(idx, w), lambda w: w[idx], W)
    onehot = F.one_hot(idx, 4).to("float64")
    assert_same(lambda w: F.embedding(Tensor(idx), w), lambda w: onehot @ w, W)


@TIERS
def test_dropout_equals_mask_multiply_and_is_seeded(F):
    x = rng.standard_normal((50, 40))
    mask = (np.random.default_rng(3).random(x.shape, dtype=np.float32) >= 0.3) / 0.7
    assert_same(
        lambda t: F.dropout(t, 0.3, generator=np.random.default_rng(3)),
        lambda t: t * Tensor(mask, dtype="float64"),
        x,
    )
    kept = (F.dropout(leaf(x), 0.3, generator=5).data != 0).mean()
    assert 0.6 < kept < 0.8
    assert F.dropout(leaf(x), 0.3, training=False).data is not None
    np.testing.assert_array_equal(F.dropout(leaf(x), 0.3, training=False).data, x)
    np.testing.assert_array_equal(F.dropout(leaf(x), 1.0).data, 0 * x)
    with pytest.raises(ValueError, match="dropout: p must be"):
        F.dropout(leaf(x), 1.5)


@pytest.mark.parametrize("causal", [True, False])
@TIERS
def test_attention_equals_composed(F, causal):
    q, k, v = (rng.standard_normal((2, 3, 4, 5)) for _ in range(3))
    T = 4
    future = np.triu(np.ones((T, T), dtype=bool), k=1)

    def composed(q, k, v):
        att = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(5))
        if causal:
            att = att.masked_fill(future, float("-inf"))
        return F.softmax(att, dim=-1) @ v

    def fused(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    assert_same(fused, composed, q, k, v)


@TIERS
def test_attention_dropout_is_seeded_and_changes_output(F):
    q = leaf(rng.standard_normal((1, 2, 4, 3)))
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, generator=1).data
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, generator=1).data
    c = F.scaled_dot_product_attention(q, q, q).data
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# ---------------------------------------------------------------- hard cases


@TIERS
def test_cross_entropy_ignore_index_known_answer(F):
    logits = leaf(np.zeros((3, 4)))
    loss = F.cross_entropy(logits, np.array([1, -100, 2]), ignore_index=-100)
    loss.backward()
    assert loss.item() == pytest.approx(math.log(4))  # mean over the 2 counted rows
    assert np.all(logits.grad[1] == 0)
    np.testing.assert_allclose(logits.grad[0], [0.125, -0.375, 0.125, 0.125])
    all_ignored = F.cross_entropy(leaf(np.zeros((2, 4))), np.array([-1, -1]), ignore_index=-1)
    assert np.isnan(all_ignored.item())  # 0/0, as PyTorch


@TIERS
def test_cross_entropy_errors(F):
    with pytest.raises(ValueError, match=r"cross_entropy: logits \(2, 3, 4\) need targets"):
        F.cross_entropy(groundup.zeros(2, 3, 4), np.zeros(6, dtype=int))
    with pytest.raises(IndexError, match="target 4 is out of range for 4 classes"):
        F.cross_entropy(groundup.zeros(2, 4), np.array([0, 4]))
    with pytest.raises(TypeError, match="targets must hold integers"):
        F.cross_entropy(groundup.zeros(2, 4), np.array([0.0, 1.0]))


@TIERS
def test_repeated_indices_add_up_in_getitem_and_embedding(F):
    w = leaf(np.ones((3, 2)))
    w[np.array([0, 0, 2, 0])].sum().backward()
    assert w.grad.tolist() == [[3.0, 3.0], [0.0, 0.0], [1.0, 1.0]]
    w2 = leaf(np.ones((3, 2)))
    F.embedding(np.array([[2, 2], [2, 1]]), w2).sum().backward()
    assert w2.grad.tolist() == [[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]]
    with pytest.raises(IndexError, match="embedding: index 3 is out of range for 3 rows"):
        F.embedding(np.array([3]), w2)


@TIERS
def test_gelu_rejects_unknown_form_and_layer_norm_checks_shape(F):
    with pytest.raises(RuntimeError, match="gelu: approximate must be 'none' or 'tanh'"):
        F.gelu(groundup.zeros(2), approximate="erf")
    with pytest.raises(ValueError, match="layer_norm: input"):
        F.layer_norm(groundup.zeros(2, 3), 4)


@TIERS
def test_gelu_saturates_without_overflow_warnings_or_nan(F):
    import warnings

    for dtype in ("float32", "float64"):
        x = Tensor([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=dtype, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for approximate in ("none", "tanh"):
                x.grad = None
                y = F.gelu(x, approximate=approximate)
                y.sum().backward()
                np.testing.assert_allclose(y.data, [0.0, 0.0, 0.0, 100.0, 1e4])
                np.testing.assert_allclose(x.grad, [0.0, 0.0, 0.5, 1.0, 1.0])


@TIERS
def test_layer_norm_takes_a_numpy_int_normalized_shape(F):
    x = leaf(np.random.default_rng(0).standard_normal((2, 4)))
    np.testing.assert_allclose(F.layer_norm(x, np.int64(4)).data, F.layer_norm(x, (4,)).data)


@TIERS
def test_softmax_of_an_integer_tensor_says_so(F):
    # it failed inside NumPy with "Cannot cast ufunc 'exp' output ... to int64"
    for fn in (F.softmax, F.log_softmax):
        with pytest.raises(TypeError, match="expected a floating-point tensor, got dtype int64"):
            fn(Tensor([1, 2, 3]))


# ---------------------------------------------------------------- float16 and ints (issue 15)


@TIERS
def test_float16_softmax_rows_far_below_the_max_are_not_nan(F):
    # float16's exp underflows to 0 below -17: a row 20 below the global max was 0 / 0
    x = Tensor([[0.0, 1.0], [20.0, 21.0]], dtype="float16", requires_grad=True)
    for fn in (F.softmax, F.log_softmax):
        y = fn(x)
        y.backward(np.ones((2, 2)))
        assert y.dtype == np.float16 and x.grad.dtype == np.float16
        assert np.isfinite(y.data).all() and np.isfinite(x.grad).all()
        want = fn(Tensor(x.data, dtype="float32")).data.astype(np.float16)  # float32, rounded
        np.testing.assert_array_equal(y.data, want)
        x.grad = None


@TIERS
def test_float16_attention_computes_in_float32(F):
    q = Tensor([[[[0.0, 0.0], [5.0, 5.0]]]], dtype="float16", requires_grad=True)
    k = Tensor([[[[0.0, 0.0], [3.0, 3.0]]]], dtype="float16")
    mask = np.array([[0.0, -1.0], [0.0, 0.0]], dtype=np.float16)
    out = F.scaled_dot_product_attention(q, k, k, attn_mask=mask)
    out.sum().backward()
    assert out.dtype == np.float16 and q.grad.dtype == np.float16
    assert np.isfinite(out.data).all() and np.isfinite(q.grad).all()
    wide = [Tensor(t.data, dtype="float32") for t in (q, k)]
    want = F.scaled_dot_product_attention(wide[0], wide[1], wide[1], attn_mask=mask)
    np.testing.assert_array_equal(out.data, want.data.astype(np.float16))


@TIERS
def test_layer_norm_of_ints_raises_like_pytorch(F):
    # it returned [-1, 0, 1] (integer arithmetic); PyTorch has no int kernel and raises
    with pytest.raises(NotImplementedError, match="layer_norm: expected a floating-point"):
        F.layer_norm(Tensor([1, 2, 3]), 3)
    with pytest.raises(TypeError):
        F.layer_norm(Tensor([1, 2, 3]), 3)
    y = F.layer_norm(Tensor([1, 2, 3]).float(), 3)
    np.testing.assert_allclose(y.data, [-1.2247357, 0.0, 1.2247357], rtol=1e-6)


# ---------------------------------------------------------------- issue 16: loss options


@TIERS
def test_cross_entropy_weighted_mean_smoothing_and_probabilities_known_answers(F):
    logits = leaf(np.zeros((2, 4)))  # uniform: -log p = log 4 for every class
    t = np.array([1, 3])
    w = np.array([1.0, 2.0, 1.0, 6.0])
    loss = F.cross_entropy(logits, t, weight=w)
    assert loss.item() == pytest.approx(math.log(4))  # (2 + 6) log 4 / (2 + 6)
    assert F.cross_entropy(logits, t, weight=w, reduction="sum").item() == pytest.approx(
        8 * math.log(4))  # fmt: skip
    assert F.cross_entropy(logits, t, label_smoothing=0.3).item() == pytest.approx(math.log(4))
    q = np.full((2, 4), 0.25)
    assert F.cross_entropy(logits, q).item() == pytest.approx(math.log(4))  # probabilities
    x = leaf([[2.0, 0.0]])
    p = np.exp([2.0, 0.0]) / np.exp([2.0, 0.0]).sum()
    smoothed = F.cross_entropy(x, np.array([0]), label_smoothing=0.2)
    want = -(0.9 * np.log(p[0]) + 0.1 * np.log(p[1]))  # target (1 - 0.2) one-hot + 0.2 / 2
    assert smoothed.item() == pytest.approx(want, rel=1e-12)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(x, np.array([[1.0, 0.0]]), ignore_index=1)
    assert F.cross_entropy(x, np.array([0]), size_average=False).item() == pytest.approx(
        -np.log(p[0]))  # fmt: skip


@TIERS
def test_binary_cross_entropy_known_answers(F):
    p = leaf([0.5, 0.9, 0.0])
    y = np.array([1.0, 0.0, 0.0])
    loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_allclose(loss.data, [math.log(2), -math.log(0.1), 0.0], rtol=1e-12)
    assert F.binary_cross_entropy(Tensor([0.0]), np.array([1.0])).item() == pytest.approx(100)
    with pytest.raises(RuntimeError, match="probability in"):
        F.binary_cross_entropy(Tensor([1.5]), np.array([1.0]))
    z = leaf([0.0, 2.0])
    pw = F.binary_cross_entropy_with_logits(z, np.array([1.0, 1.0]), pos_weight=np.array(3.0),
                                            reduction="sum")  # fmt: skip
    assert pw.item() == pytest.approx(3 * (math.log(2) + math.log(1 + math.exp(-2.0))))


@TIERS
def test_embedding_padding_row_is_read_but_never_learns(F):
    w = leaf(np.arange(6.0).reshape(3, 2))
    out = F.embedding(np.array([0, 2, 2, 1]), w, padding_idx=2)
    np.testing.assert_array_equal(out.data, w.data[[0, 2, 2, 1]])  # its value, as it is
    out.sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
    w.grad = None
    F.embedding(np.array([0, 2]), w, padding_idx=-1).sum().backward()  # -1: the last row
    assert w.grad[2].tolist() == [0.0, 0.0]
    with pytest.raises(AssertionError, match="padding_idx must be within"):
        F.embedding(np.array([0]), w, padding_idx=3)


# ---------------------------------------------------------------- the kernels in float32


@pytest.mark.skipif(fused.kernels() is None, reason="numba is not installed")
@pytest.mark.parametrize("name, call, arrays", CASES, ids=[c[0] for c in CASES])
def test_float32_kernels_equal_the_numpy_code(name, call, arrays, monkeypatch):
    """The kernels compile once per dtype: float32 (what training runs) agrees with the
    NumPy code to float32's precision, values and gradients."""

    def run():
        leaves = [Tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
        out = call(fused, *leaves)
        out.backward(np.random.default_rng(0).standard_normal(out.shape).astype(np.float32))
        assert out.dtype == np.float32
        return [out.data] + [t.grad for t in leaves]

    with_kernels = run()
    monkeypatch.setattr(fused, "_KERNELS", None)
    for a, b in zip(with_kernels, run(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_groundup_jit_0_turns_the_kernels_off(monkeypatch):
    monkeypatch.setenv("GROUNDUP_JIT", "0")
    monkeypatch.setattr(fused, "_KERNELS", False)  # not looked for yet
    assert fused.kernels() is None and fused.kernels_for(np.ones(3)) is None


def test_kernels_run_only_on_numpy_float32_and_float64(monkeypatch):
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    assert fused.kernels_for(np.ones(3, np.float32)) is fused.kernels()
    assert fused.kernels_for(np.ones(3, np.float16)) is None  # float16: NumPy's code
    assert fused.kernels_for(np.ones(3, np.int64)) is None


def test_kernels_run_in_other_threads_too():
    """The kernels run on the caller's thread (no pool of their own), so threads, such as
    MPI ranks in tests, get them and their results, two threads at once."""
    import threading

    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    x = rng.standard_normal((64, 32)).astype(np.float32)
    want = fused.gelu(Tensor(x), approximate="tanh").data
    seen: list = []

    def run() -> None:
        seen.append((fused.kernels_for(x), fused.gelu(Tensor(x), approximate="tanh").data))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [k for k, _ in seen] == [fused.kernels()] * 2
    for _, y in seen:
        np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("mask", ["causal", "bool", "none"])
def test_attention_weights_made_again_in_the_backward_equal_the_kept_ones(mask, monkeypatch):
    """Large attention weights are not kept: the backward makes them again from q, k and
    each row's log-sum-exp. Forced here on small inputs (KEEP_BYTES = 0)."""
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(fused.Attention, "KEEP_BYTES", 0)
    q, k, v = (rng.standard_normal((2, 3, 4, 5)) for _ in range(3))
    keep = np.tril(np.ones((4, 4), dtype=bool)) | (rng.random((4, 4)) > 0.5)
    kwargs = {"causal": dict(is_causal=True), "bool": dict(attn_mask=keep), "none": {}}[mask]
    call = lambda m, *t: m.scaled_dot_product_attention(*t, **kwargs)  # noqa: E731
    assert_same(lambda *t: call(fused, *t), lambda *t: call(functional, *t), q, k, v)


@pytest.mark.parametrize("keep", [True, False], ids=["kept", "made-again"])
@pytest.mark.parametrize(
    "shapes",
    [((2, 3, 9, 4), (2, 3, 9, 4)), ((2, 1, 3, 9, 4), (2, 1, 1, 9, 4)), ((9, 4), (9, 4))],
    ids=["heads", "shared-kv", "one-matrix"],
)
def test_causal_attention_in_blocks_equals_the_composed_one(shapes, keep, monkeypatch):
    """Under a causal mask the kernels' path computes only the blocks of queries and keys
    below the diagonal; blocks of 2 rows here, over 9 positions (the last block short),
    with k and v shared across a query group as in grouped-query attention."""
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(fused.Attention, "BLOCK", 2)
    if not keep:
        monkeypatch.setattr(fused.Attention, "KEEP_BYTES", 0)
    (qs, ks) = shapes
    q, k, v = rng.standard_normal(qs), rng.standard_normal(ks), rng.standard_normal(ks)
    call = lambda m, *t: m.scaled_dot_product_attention(*t, is_causal=True)  # noqa: E731
    assert_same(lambda *t: call(fused, *t), lambda *t: call(functional, *t), q, k, v)
    a = Tensor(q.astype(np.float32))  # float32 too: the kernels' other compilation
    want = functional.scaled_dot_product_attention(a, a, a, is_causal=True).data
    got = fused.scaled_dot_product_attention(a, a, a, is_causal=True).data
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("copy", [True, False], ids=["k^T-copied", "k^T-a-view"])
def test_attention_with_kT_copied_or_a_view_equals_the_composed_one(copy, monkeypatch):
    """k^T (and v^T) go to the products as a C-ordered copy on CPUs where that pays
    (AVX-512), as a view elsewhere: both ways give the definition's values and gradients."""
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(fused, "COPY_PAYS", copy)
    heads = lambda m, x: m.causal_self_attention(x, 2)  # noqa: E731
    sdpa = lambda m, *t: m.scaled_dot_product_attention(*t, is_causal=True)  # noqa: E731
    qkv, (q, k, v) = rng.standard_normal((2, 7, 12)), rng.standard_normal((3, 2, 2, 7, 3))
    assert_same(lambda x: heads(fused, x), lambda x: heads(functional, x), qkv)
    assert_same(lambda *t: sdpa(fused, *t), lambda *t: sdpa(functional, *t), q, k, v)


@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
@pytest.mark.parametrize("how", ["blocks", "groups", "blocks-groups-made-again"])
def test_causal_self_attention_in_blocks_and_groups_equals_the_composed_one(
    how, threads, monkeypatch
):
    """The heads' op writes q's, k's and v's gradients into one (B, T, 3C) array: from
    blocks that add into k's and v's, from groups of heads, from each thread's groups."""
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    if threads > 1:
        if tensor_threads._blas() is None:
            pytest.skip("NumPy's BLAS is not an OpenBLAS groundup can drive")
        monkeypatch.setattr(fused.Attention, "SPREAD_FLOPS", 0)
        monkeypatch.setattr(fused, "blas_threads", lambda: threads)
    if "blocks" in how:
        monkeypatch.setattr(fused.Attention, "BLOCK", 2)
    if "groups" in how:
        monkeypatch.setattr(fused.Attention, "CACHE_BYTES", 0)
        monkeypatch.setattr(fused.Attention, "GROUP_BYTES", 1)
    if "made-again" in how:
        monkeypatch.setattr(fused.Attention, "KEEP_BYTES", 0)
    qkv = rng.standard_normal((3, 9, 12))  # batch 3, 9 positions, 2 heads of 2
    call = lambda m, x: m.causal_self_attention(x, 2)  # noqa: E731
    assert_same(lambda x: call(fused, x), lambda x: call(functional, x), qkv)


@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
@pytest.mark.parametrize("group_bytes", [1, 600], ids=["one-each", "some-each"])
@pytest.mark.parametrize("keep", [True, False], ids=["kept", "made-again"])
@pytest.mark.parametrize("mask", ["causal-blocks", "causal", "bool", "none"])
@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 2, 9, 4), (3, 2, 9, 4)),
        ((3, 1, 2, 9, 4), (3, 1, 1, 9, 4)),
        ((1, 2, 9, 4), (3, 2, 9, 4)),
    ],
    ids=["heads", "shared-kv", "shared-q"],
)
def test_attention_in_groups_of_heads_equals_the_composed_one(
    shapes, mask, keep, group_bytes, threads, monkeypatch
):
    """Large attention goes in groups of heads along the first batch dimension, each
    group's weights in the cache, and over the BLAS's threads when it has more than one.
    Forced here on small inputs: groups of one batch entry, or of a few (the last group
    short), on one thread or two, under every mask, with k and v or q shared (broadcast)
    across the first dimension."""
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    if threads > 1:
        blas = tensor_threads._blas()
        if blas is None:
            pytest.skip("NumPy's BLAS is not an OpenBLAS groundup can drive")
        monkeypatch.setattr(fused.Attention, "SPREAD_FLOPS", 0)
        monkeypatch.setattr(fused, "blas_threads", lambda: threads)
        spread = tensor_threads.spread
        counts = []

        def spread_on_two(tasks, most=None):  # the BLAS on two threads for each spread
            counts.append(most)
            before = blas.get()
            blas.set(2)
            try:
                spread(tasks, most)
            finally:
                blas.set(before)

        monkeypatch.setattr(fused, "spread", spread_on_two)
    monkeypatch.setattr(fused.Attention, "CACHE_BYTES", 0)
    monkeypatch.setattr(fused.Attention, "GROUP_BYTES", group_bytes)
    if mask == "causal-blocks":
        monkeypatch.setattr(fused.Attention, "BLOCK", 2)
    if not keep:
        monkeypatch.setattr(fused.Attention, "KEEP_BYTES", 0)
    (qs, ks) = shapes
    q, k, v = rng.standard_normal(qs), rng.standard_normal(ks), rng.standard_normal(ks)
    seen = np.tril(np.ones((9, 9), dtype=bool)) | (rng.random((9, 9)) > 0.5)
    kwargs = dict(attn_mask=seen) if mask == "bool" else dict(is_causal=mask.startswith("causal"))
    call = lambda m, *t: m.scaled_dot_product_attention(*t, **kwargs)  # noqa: E731
    assert_same(lambda *t: call(fused, *t), lambda *t: call(functional, *t), q, k, v)
    if threads > 1:
        assert counts == [2, 2]  # the forward and the backward each spread


def test_head_groups_cut_the_first_batch_dimension_with_the_last_group_short():
    """Groups of as many batch entries as fit the bytes, and one at least."""
    groups = fused.head_groups((5, 2), 100, 400)  # 2 entries (of 2 heads of 100 bytes) each
    assert [(h, r, shape) for h, r, shape in groups] == [
        (slice(0, 2), slice(0, 4), (2, 2)),
        (slice(2, 4), slice(4, 8), (2, 2)),
        (slice(4, 5), slice(8, 10), (1, 2)),
    ]
    assert len(fused.head_groups((5, 2), 100, 1)) == 5
    assert fused.head_groups((), 100, 1) == [(slice(None), slice(None), ())]


def test_layer_norm_kernel_centres_close_entries_exactly_in_float32():
    """Entries 1000 +- 0.001 in float32: the kernel's loops run in float32 but take the
    float64 mean off in two parts, so the output stays within 1e-5 of float64's (one
    float32 mean would be off by 0.03)."""
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    x = (1000 + rng.standard_normal((64, 384)) * 1e-3).astype(np.float32)
    got = fused.layer_norm(Tensor(x), (384,), eps=1e-12).data
    want = functional.layer_norm(Tensor(x.astype(np.float64)), (384,), eps=1e-12).data
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_kernels_divide_by_zero_as_numpy_does():
    """1 / 0 is inf in the kernels (NumPy's rule), not Python's ZeroDivisionError."""
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    att, top, total = np.zeros((1, 1, 0)), np.empty((1, 1)), np.empty((1, 1))
    fused.kernels().scores_softmax(att, 1.0, None, np.zeros(1, np.int64), top, total)
    assert total[0, 0] == 0 and top[0, 0] == -np.inf  # an empty row: its 1 / sum is 1 / 0


def exp_loop() -> Any:
    """A compiled loop out[i] = exp_(x[i]) over the kernels' exp (skips without numba)."""
    numba = pytest.importorskip("numba")
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    exp_ = fused.kernels().exp_

    @numba.njit
    def exp_all(x, out):
        for i in range(x.size):
            out[i] = exp_(x[i])

    return exp_all


@pytest.mark.parametrize(
    "dtype, lo, hi, ulps", [(np.float32, -87.3, 88.0, 1.0), (np.float64, -708.0, 709.0, 2.0)]
)
def test_kernels_exp_is_within_an_ulp_or_two(dtype, lo, hi, ulps):
    """The kernels compute exp themselves (a polynomial the compiler vectorises): within
    1 ulp in float32 and 2 in float64, against exp in long double; 0 for -inf and far
    below, 1 at 0, nan for nan."""
    exp_all = exp_loop()
    x = np.concatenate([np.linspace(lo, hi, 200_001), rng.uniform(-1, 1, 100_000)]).astype(dtype)
    got = np.empty_like(x)
    exp_all(x, got)
    exact = np.exp(x.astype(np.longdouble))
    error = np.abs(got - exact) / np.spacing(exact.astype(dtype))
    assert error.max() <= ulps
    edges = np.array([-np.inf, 2 * lo, 0.0, np.nan], dtype=dtype)
    exp_all(edges, got[:4])
    assert got[0] == got[1] == 0 and got[2] == 1 and np.isnan(got[3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_exp_converts_no_int64_to_float(dtype):
    """exp's 2^n is made from an int32 n: an int64 to float conversion has no vector form
    in AVX2, so one in the loop leaves it scalar (a softmax 2-4x slower on such a CPU)."""
    exp_all = exp_loop()
    x = np.zeros(8, dtype)
    exp_all(x, np.empty_like(x))
    llvm = "\n".join(exp_all.inspect_llvm().values())
    assert "sitofp i64" not in llvm


def test_gelu_linear_keeps_its_input_and_not_the_gelu_of_it():
    """The fast tier's gelu_linear is one node that holds x alone for its backward (a GPT's
    widest activation is gelu(x)), and its values and gradients are the two nodes' bits."""
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 8), (5, 8), (5,)))
    one = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    y = fused.gelu_linear(*one, approximate="tanh")
    arrays = [a for a in vars(y._ctx).values() if isinstance(a, np.ndarray) and a.size == x.size]
    assert len(arrays) == 1 and np.shares_memory(arrays[0], one[0].data)
    two = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    z = fused.linear(fused.gelu(two[0], approximate="tanh"), two[1], two[2])
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    z.backward(g)
    assert np.array_equal(y.data, z.data)
    for a, c in zip(one, two, strict=True):
        assert np.array_equal(a.grad.data, c.grad.data)


def test_causal_attention_keeps_its_blocks_of_weights_and_lets_each_go_once_used(monkeypatch):
    """In blocks, the weights below the diagonal are kept when they fit KEEP_BYTES (the
    backward makes none again) and the backward lets go of each as it is used."""
    if fused.kernels() is None:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(fused.Attention, "BLOCK", 2)
    qkv = Tensor(rng.standard_normal((2, 9, 12)), requires_grad=True)
    y = fused.causal_self_attention(qkv, 2)
    node = y._ctx
    blocks = node.blocks
    assert len(node.rows) == 5 and len(blocks) == 5 * len(node.groups)
    node.weights = None  # making them again would fail
    y.sum().backward()
    assert blocks == {}
