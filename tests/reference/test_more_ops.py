"""The ops learners reach for beyond the primitives, each composed from them: values and
gradients against torch (float64), and the constructors' values and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import groundup  # noqa: E402
from groundup import Tensor  # noqa: E402

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((3, 4))
TIES = np.array([[1.0, 2.0, -1.0], [0.0, 0.0, 3.0]])
POS = RNG.random((3, 4)) + 0.5

CASES = {
    "add": (lambda a, b: a.add(b), [A, B]),
    "sub": (lambda a, b: a.sub(b), [A, B]),
    "mul": (lambda a, b: a.mul(b), [A, B]),
    "div": (lambda a, b: a.div(b), [A, POS]),
    "pow": (lambda a: a.pow(3), [A]),
    "matmul": (lambda a, b: a.matmul(b.transpose(0, 1)), [A, B]),
    "abs": (lambda a: a.abs(), [A]),
    "abs at 0": (lambda a: a.abs(), [np.array([0.0, -1.0, 2.0])]),
    "square": (lambda a: a.square(), [A]),
    "rsqrt": (lambda a: a.rsqrt(), [POS]),
    "log2": (lambda a: a.log2(), [POS]),
    "maximum": (lambda a, b: a.maximum(b), [A, B]),
    "minimum": (lambda a, b: a.minimum(b), [A, B]),
    "maximum ties": (lambda a, b: a.maximum(b), [TIES, TIES[::-1].copy()]),
    "minimum ties": (lambda a, b: a.minimum(b), [TIES, TIES[::-1].copy()]),
    "std": (lambda a: a.std(dim=1), [A]),
    "std all, correction 0": (lambda a: a.std(correction=0), [A]),
    "logsumexp": (lambda a: a.logsumexp(dim=1), [A * 50]),
    "logsumexp keepdim": (lambda a: a.logsumexp(dim=0, keepdim=True), [A]),
    "logsumexp two dims": (lambda a: a.logsumexp(dim=(0, 1)), [A]),
    "flip": (lambda a: a.flip(0) * 2, [A]),
    "flip two dims": (lambda a: a.flip((0, -1)) * 2, [A]),
    "tril": (lambda a: a.tril(), [A]),
    "triu 1": (lambda a: a.triu(1), [A]),
    "tril -1": (lambda a: a.tril(-1), [A]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_composed_op_matches_torch(name):
    fn, arrays = CASES[name]
    ours = [Tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, r = fn(*ours), fn(*refs)
    np.testing.assert_allclose(y.data, r.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = RNG.standard_normal(y.shape)
    y.backward(w)
    r.backward(torch.tensor(w))
    for t, rt in zip(ours, refs, strict=True):
        np.testing.assert_allclose(t.grad, rt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_predicates_and_argmin_match_torch():
    x = np.array([[1.0, np.nan, -np.inf], [0.0, 2.0, np.inf]])
    ours, ref = Tensor(x, dtype="float64"), torch.tensor(x)
    for name in ("isnan", "isinf", "isfinite"):
        assert getattr(ours, name)().tolist() == getattr(ref, name)().tolist()
    b = ours.isfinite()
    assert b.any().item() and not b.all().item() and b.all(dim=1).tolist() == [False, False]
    assert Tensor(A).argmin().item() == torch.tensor(A).argmin().item()
    assert Tensor(A).argmin(dim=1).tolist() == torch.tensor(A).argmin(dim=1).tolist()


def test_constructors_match_torch():
    x = groundup.randn(2, 3, generator=0)
    pairs = [
        (groundup.zeros_like(x), torch.zeros_like(torch.zeros(2, 3))),
        (groundup.ones_like(x), torch.ones_like(torch.zeros(2, 3))),
        (groundup.full((2, 2), 7.5), torch.full((2, 2), 7.5)),
        (groundup.full_like(x, 3.0), torch.full_like(torch.zeros(2, 3), 3.0)),
        (groundup.eye(3), torch.eye(3)),
        (groundup.eye(2, 3), torch.eye(2, 3)),
        (groundup.linspace(0, 1, 5), torch.linspace(0, 1, 5)),
    ]
    for ours, ref in pairs:
        assert ours.dtype == np.float32 and ours.shape == tuple(ref.shape)
        np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-6)
    r = groundup.randint(3, 7, (1000,), generator=1)
    assert r.dtype == np.int64 and r.shape == (1000,)
    assert r.data.min() == 3 and r.data.max() == 6
    assert (groundup.randint(5, size=(4,), generator=2).data < 5).all()
    np.testing.assert_array_equal(groundup.randint(9, size=3, generator=4).data,
                                  groundup.randint(9, size=3, generator=4).data)  # fmt: skip


ACTIVATIONS = {
    "silu": (lambda F, x: F.silu(x), lambda x: torch.nn.functional.silu(x)),
    "leaky_relu": (
        lambda F, x: F.leaky_relu(x, 0.2),
        lambda x: torch.nn.functional.leaky_relu(x, 0.2),
    ),  # fmt: skip
    "hardtanh": (
        lambda F, x: F.hardtanh(x, -0.5, 0.7),
        lambda x: torch.nn.functional.hardtanh(x, -0.5, 0.7),
    ),  # fmt: skip
    "softplus": (lambda F, x: F.softplus(x), lambda x: torch.nn.functional.softplus(x)),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_match_torch(name):
    import groundup.nn.functional as functional
    import groundup.nn.fused as fused

    ours_fn, ref_fn = ACTIVATIONS[name]
    x = np.concatenate([A.ravel() * 5, [0.3, -0.3, 60.0, -60.0]])
    for F in (functional, fused):
        t, r = Tensor(x, dtype="float64", requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ry = ours_fn(F, t), ref_fn(r)
        np.testing.assert_allclose(y.data, ry.detach().numpy(), rtol=1e-10, atol=1e-12)
        y.sum().backward()
        ry.sum().backward()
        np.testing.assert_allclose(t.grad, r.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_and_bce_with_logits_match_torch(reduction):
    import groundup.nn.functional as F

    logp = np.log(np.random.default_rng(1).dirichlet(np.ones(5), size=6))
    t = np.array([0, 4, 2, -1, 1, 3])
    ours = Tensor(logp, dtype="float64", requires_grad=True)
    ref = torch.tensor(logp, requires_grad=True)
    y = F.nll_loss(ours, t, ignore_index=-1, reduction=reduction)
    r = torch.nn.functional.nll_loss(ref, torch.tensor(t), ignore_index=-1, reduction=reduction)
    np.testing.assert_allclose(y.data, r.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    r.sum().backward()
    np.testing.assert_allclose(ours.grad, ref.grad.numpy(), rtol=1e-12)

    z, labels = A * 10, (B > 0).astype(np.float64)
    zt, zr = Tensor(z, dtype="float64", requires_grad=True), torch.tensor(z, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(zt, labels)
    ref_loss = torch.nn.functional.binary_cross_entropy_with_logits(zr, torch.tensor(labels))
    np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=1e-12)
    loss.backward()
    ref_loss.backward()
    np.testing.assert_allclose(zt.grad, zr.grad.numpy(), rtol=1e-10, atol=1e-14)
