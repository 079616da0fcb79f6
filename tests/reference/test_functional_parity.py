"""Both tiers (groundup.nn.functional, the definitions, and groundup.nn.fused, the kernels)
against torch.nn.functional on the hard cases: huge logits, ties, masked rows, a tensor used
twice, large embedding tables (float64)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

import groundup.nn.functional as functional  # noqa: E402
import groundup.nn.fused as fused  # noqa: E402
from groundup import Tensor  # noqa: E402

rng = np.random.default_rng(0)
TIERS = pytest.mark.parametrize("F", [functional, fused], ids=["functional", "fused"])


def leaf(a):
    return Tensor(np.asarray(a, dtype=np.float64), dtype="float64", requires_grad=True)


@TIERS
def test_batch_norm_updates_running_stats_like_pytorch(F):
    x = rng.standard_normal((8, 3))
    rm, rv = np.zeros(3), np.ones(3)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    F.batch_norm(leaf(x), rm, rv, training=True, momentum=0.1)
    TF.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.1)
    np.testing.assert_allclose(rm, trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv, trv.numpy(), rtol=1e-12)  # unbiased variance, as PyTorch
    rm_t = Tensor(np.zeros(3))  # Tensors as buffers are updated in place too
    F.batch_norm(leaf(x), rm_t, Tensor(np.ones(3)), training=True)
    assert np.abs(rm_t.data).sum() > 0


@TIERS
def test_softmax_and_cross_entropy_on_huge_logits(F):
    big = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]])
    for dtype in ("float32", "float64"):
        x = Tensor(big, dtype=dtype, requires_grad=True)
        y = F.softmax(x)
        ls = F.log_softmax(x)
        loss = F.cross_entropy(x, np.array([1, 2]))
        (y.sum() + ls.sum() + loss).backward()
        for arr in (y.data, ls.data, loss.data, x.grad):
            assert np.isfinite(arr).all()
        t = torch.tensor(big)
        np.testing.assert_allclose(y.data, TF.softmax(t, -1).numpy(), atol=1e-6)
        want = TF.cross_entropy(t, torch.tensor([1, 2])).item()
        assert loss.item() == pytest.approx(want, rel=1e-6)


@TIERS
def test_cross_entropy_all_ignored_gives_zero_gradient_like_torch(F):
    # a batch made only of padding: the loss is nan (0/0) but the gradient must stay 0,
    # or one such batch turns every parameter into nan
    logits = leaf(np.random.default_rng(0).standard_normal((2, 3, 4)))
    targets = np.full((2, 3), -1)
    F.cross_entropy(logits, targets, ignore_index=-1).backward()
    t = torch.tensor(logits.data, requires_grad=True)
    TF.cross_entropy(t.reshape(6, 4), torch.tensor(targets).reshape(6), ignore_index=-1).backward()
    np.testing.assert_array_equal(logits.grad, t.grad.numpy().reshape(2, 3, 4))
    assert np.all(logits.grad == 0)


def test_max_with_ties_matches_pytorch_convention():
    data = [[1.0, 3.0, 3.0], [2.0, 2.0, 1.0]]
    x, t = leaf(data), torch.tensor(data, requires_grad=True)
    values, indices = x.max(dim=1)
    tv, ti = t.max(dim=1)
    assert indices.tolist() == ti.tolist() == [1, 0]  # the first maximum
    values.sum().backward()
    tv.sum().backward()
    np.testing.assert_array_equal(x.grad, t.grad.numpy())  # all of it to that index
    x2, t2 = leaf(data), torch.tensor(data, requires_grad=True)
    x2.max().backward()
    t2.max().backward()
    np.testing.assert_array_equal(x2.grad, t2.grad.numpy())  # tied maxima share it equally
    np.testing.assert_array_equal(x2.grad, [[0, 0.5, 0.5], [0, 0, 0]])


@TIERS
def test_masked_fill_minus_inf_then_softmax_keeps_one_entry(F):
    x = leaf(rng.standard_normal((2, 4)))
    mask = np.array([[False, True, True, True], [False, False, True, True]])
    y = F.softmax(x.masked_fill(mask, float("-inf")), dim=-1)
    y.backward(np.ones((2, 4)))
    assert y.data[0].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert np.isfinite(x.grad).all() and np.all(x.grad[mask] == 0)
    t = torch.tensor(x.data, requires_grad=True)
    TF.softmax(t.masked_fill(torch.tensor(mask), float("-inf")), -1).backward(torch.ones(2, 4))
    np.testing.assert_allclose(x.grad, t.grad.numpy(), atol=1e-15)


@TIERS
def test_tensor_used_twice_matches_pytorch(F):
    a = rng.standard_normal((3, 3))
    x, t = leaf(a), torch.tensor(a, requires_grad=True)
    (F.softmax(x @ x, dim=0) * x).sum().backward()
    (TF.softmax(t @ t, dim=0) * t).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


@TIERS
def test_attention_with_huge_scores_uses_row_max_and_matches_pytorch(F):
    # scores spread far beyond exp's range: the per-row max path, after masking
    q = rng.standard_normal((1, 2, 5, 4)) * 40
    k = rng.standard_normal((1, 2, 5, 4)) * 40
    v = rng.standard_normal((1, 2, 5, 4))
    ours = [leaf(a) for a in (q, k, v)]
    ref = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    y = F.scaled_dot_product_attention(*ours, is_causal=True)
    ty = TF.scaled_dot_product_attention(*ref, is_causal=True)
    w = rng.standard_normal(y.shape)
    y.backward(w)
    ty.backward(torch.tensor(w))
    assert np.isfinite(y.data).all()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=1e-10)
    for t, r in zip(ours, ref, strict=True):
        np.testing.assert_allclose(t.grad, r.grad.numpy(), atol=1e-8)


@TIERS
def test_embedding_backward_on_a_large_table_matches_pytorch(F):
    # a BPE-sized table with repeated ids: every repeat adds its gradient
    idx = np.random.default_rng(2).integers(0, 300, size=(4, 50))
    W = rng.standard_normal((300, 3))
    w, tw = leaf(W), torch.tensor(W, requires_grad=True)
    g = rng.standard_normal((4, 50, 3))
    F.embedding(idx, w).backward(g)
    TF.embedding(torch.tensor(idx), tw).backward(torch.tensor(g))
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), atol=1e-12)


def test_slices_of_one_tensor_accumulate_with_dense_uses():
    # basic-index gradients are added into the parent's slice by the engine; mixing them
    # with whole-tensor uses, on leaves and on interior tensors, must still add up
    a = np.random.default_rng(0).standard_normal((3, 2, 4))
    x, t = Tensor(a, dtype="float64", requires_grad=True), torch.tensor(a, requires_grad=True)
    for lib_x in (x, t):
        h = lib_x * 2.0  # interior
        q, k, v = h[0], h[1], h[2]
        y = (q * k).sum() + (v * h[:, 0, None]).sum() + h.sum() + (lib_x[1:] ** 2).sum()
        y.backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- float16 and ints (issue 15)


@TIERS
def test_float16_softmax_and_log_softmax_match_torch(F):
    # rows 20 apart: float16's exp underflows below -17, so it must compute in float32
    x = np.array([[0.0, 1.0, -3.0], [20.0, 21.0, 17.0], [-5.0, 15.0, 15.5]], dtype=np.float16)
    g = rng.standard_normal(x.shape).astype(np.float16)
    for ours_fn, ref_fn in ((F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)):
        t = Tensor(x, dtype="float16", requires_grad=True)
        r = torch.tensor(x, requires_grad=True)
        y, ry = ours_fn(t, dim=-1), ref_fn(r, dim=-1)
        y.backward(g)
        ry.backward(torch.tensor(g))
        assert y.dtype == np.float16 and t.grad.dtype == np.float16
        # within one float16 step (PyTorch rounds log_softmax's shifted input to float16)
        np.testing.assert_allclose(y.data, ry.detach().numpy(), rtol=2e-3, atol=1e-4)
        np.testing.assert_allclose(t.grad, r.grad.numpy(), rtol=1e-2, atol=1e-3)


@TIERS
def test_float16_attention_matches_torch(F):
    q = (rng.standard_normal((1, 2, 4, 8)) * 4).astype(np.float16)
    k = (rng.standard_normal((1, 2, 4, 8)) * 4).astype(np.float16)
    v = rng.standard_normal((1, 2, 4, 8)).astype(np.float16)
    ours = [Tensor(a, dtype="float16", requires_grad=True) for a in (q, k, v)]
    ref = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    y = F.scaled_dot_product_attention(*ours, is_causal=True)
    ry = TF.scaled_dot_product_attention(*ref, is_causal=True)
    assert y.dtype == np.float16 and np.isfinite(y.data).all()
    np.testing.assert_allclose(y.data, ry.detach().numpy(), rtol=1e-2, atol=1e-2)
    g = rng.standard_normal(y.shape).astype(np.float16)
    y.backward(g)
    ry.backward(torch.tensor(g))
    for t, r in zip(ours, ref, strict=True):
        assert t.grad.dtype == np.float16
        np.testing.assert_allclose(t.grad, r.grad.numpy(), rtol=5e-2, atol=5e-2)


@TIERS
def test_layer_norm_of_ints_raises_torchs_type(F):
    with pytest.raises(Exception) as theirs:
        TF.layer_norm(torch.tensor([1, 2, 3]), (3,))
    with pytest.raises(type(theirs.value)):
        F.layer_norm(Tensor([1, 2, 3]), 3)


@TIERS
def test_nan_logits_in_an_ignored_row_leave_the_loss_finite_as_torch(F):
    # issue 15: an ignored row must not count, not even as nan * 0
    x = np.random.default_rng(3).standard_normal((3, 4))
    x[1] = np.nan
    for kw in ({}, {"reduction": "sum"}, {"weight": np.linspace(0.5, 2.0, 4)}):
        logits = leaf(x)
        loss = F.cross_entropy(logits, np.array([0, -100, 2]), **kw)
        t = torch.tensor(x, requires_grad=True)
        tw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
        want = TF.cross_entropy(t, torch.tensor([0, -100, 2]), **tw)
        assert np.isfinite(loss.item())
        assert loss.item() == pytest.approx(want.item(), rel=1e-12)
        loss.backward()
        want.backward()
        np.testing.assert_allclose(logits.grad[[0, 2]], t.grad.numpy()[[0, 2]], rtol=1e-12)
    none = F.cross_entropy(leaf(x), np.array([0, -100, 2]), reduction="none")
    assert none.data[1] == 0.0 and np.isfinite(none.data).all()


@TIERS
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_reads_pytorchs_class_dim_when_the_target_says_so(F, reduction):
    """(N, C, d) logits with (N, d) class ids or (N, C, d) probabilities: PyTorch's layout,
    classes in dim 1; (B, T, C) with (B, T) ids stays groundup's (classes last)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5, 7))
    ids = rng.integers(0, 5, size=(4, 7))
    probs = rng.dirichlet(np.ones(5), size=(4, 7)).transpose(0, 2, 1)
    for target in (ids, probs):
        ours = Tensor(x, dtype="float64", requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        a = F.cross_entropy(ours, target, reduction=reduction)
        b = TF.cross_entropy(theirs, torch.tensor(target), reduction=reduction)
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
        a.sum().backward()
        b.sum().backward()
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    nll = F.nll_loss(F.log_softmax(Tensor(x, dtype="float64"), dim=1), ids, reduction=reduction)
    want = TF.nll_loss(
        torch.log_softmax(torch.tensor(x), 1), torch.tensor(ids), reduction=reduction
    )
    np.testing.assert_allclose(nll.data, want.numpy(), rtol=1e-10, atol=1e-12)
    last = rng.integers(0, 7, size=(4, 5))  # (B, T) = input.shape[:-1]: classes last
    got = F.cross_entropy(Tensor(x, dtype="float64"), last, reduction=reduction).data
    want = TF.cross_entropy(torch.tensor(x).reshape(-1, 7), torch.tensor(last).reshape(-1),
                            reduction=reduction).numpy()  # fmt: skip
    np.testing.assert_allclose(got.reshape(-1) if reduction == "none" else got,
                               want, rtol=1e-10, atol=1e-12)  # fmt: skip
