"""Optimisers and clipping against torch.optim, float64: 20 steps land on the same weights."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from groundup.optim import SGD, Adam, AdamW, clip_grad_norm_  # noqa: E402


class P:
    def __init__(self, data):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None


def _loss(W1, b1, W2, x, y):
    return ((torch.tanh(x @ W1.T + b1) @ W2.T - y) ** 2).mean()


CASES = {
    "sgd_momentum_wd": (
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    ),
    "sgd_nesterov": (
        lambda ps: SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.01, nesterov=True),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.01, nesterov=True),
    ),
    "sgd_dampening_maximize": (
        lambda ps: SGD(ps, lr=0.05, momentum=0.9, dampening=0.3, maximize=True),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.3, maximize=True),
    ),
    "adam_amsgrad": (
        lambda ps: Adam(ps, lr=0.05, betas=(0.5, 0.9), weight_decay=0.01, amsgrad=True),
        lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.5, 0.9), weight_decay=0.01, amsgrad=True),
    ),  # fmt: skip
    "adamw_amsgrad_maximize": (
        lambda ps: AdamW(ps, lr=0.05, betas=(0.5, 0.9), amsgrad=True, maximize=True),
        lambda ps: torch.optim.AdamW(ps, lr=0.05, betas=(0.5, 0.9), amsgrad=True, maximize=True),
    ),
    "adam_wd": (
        lambda ps: Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.05),
        lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.05),
    ),
    "adamw_groups": (
        lambda ps: AdamW(
            [{"params": ps[:1], "weight_decay": 0.1}, {"params": ps[1:], "weight_decay": 0.0}],
            lr=0.02,
        ),
        lambda ps: torch.optim.AdamW(
            [{"params": ps[:1], "weight_decay": 0.1}, {"params": ps[1:], "weight_decay": 0.0}],
            lr=0.02,
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("clip", [None, 0.5])
def test_twenty_steps_match_torch(case, clip):
    make_ours, make_torch = CASES[case]
    rng = np.random.default_rng(1)
    init = [rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=(2, 5))]
    x = torch.tensor(rng.normal(size=(16, 3)))
    y = torch.tensor(rng.normal(size=(16, 2)))
    ours = [P(a) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    opt, topt = make_ours(ours), make_torch(theirs)
    for _ in range(20):
        # our gradients come from torch autograd at our weights: this tests the optimiser only
        leaves = [torch.tensor(p.data, requires_grad=True) for p in ours]
        _loss(*leaves, x, y).backward()
        for p, leaf in zip(ours, leaves, strict=True):
            p.grad = leaf.grad.numpy().copy()
        topt.zero_grad()
        _loss(*theirs, x, y).backward()
        if clip is not None:
            norm = clip_grad_norm_(ours, clip)
            tnorm = torch.nn.utils.clip_grad_norm_(theirs, clip)
            assert norm == pytest.approx(float(tnorm), rel=1e-6)
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_clip_grad_norm_equals_torch():
    rng = np.random.default_rng(2)
    grads = [rng.normal(size=(4, 3)) * 5, rng.normal(size=7)]
    ours = [P(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ours, theirs, grads, strict=True):
        p.grad, t.grad = g.copy(), torch.tensor(g)
    assert clip_grad_norm_(ours, 1.0) == pytest.approx(
        float(torch.nn.utils.clip_grad_norm_(theirs, 1.0)), rel=1e-12
    )
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, float("inf"), "inf"])
def test_clip_grad_norm_of_every_order_equals_torch(norm_type):
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=(4, 3)) * 5, rng.normal(size=7)]
    ours = [P(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ours, theirs, grads, strict=True):
        p.grad, t.grad = g.copy(), torch.tensor(g)
    want = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type=float(norm_type))
    assert clip_grad_norm_(ours, 1.5, norm_type=norm_type) == pytest.approx(float(want), rel=1e-12)
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_refuses_a_nonfinite_norm_when_asked():
    p = P(np.zeros(2))
    p.grad = np.array([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    t = torch.zeros(2, requires_grad=True)
    t.grad = torch.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_([t], 1.0, error_if_nonfinite=True)
