"""Optimisers, clipping and schedules: known answers and properties (no autograd needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundup.optim import SGD, Adam, AdamW, clip_grad_norm_, lr_scheduler


class P:
    """A stand-in parameter: all an optimiser needs is ``.data`` and ``.grad``."""

    def __init__(self, data, grad=None):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None if grad is None else np.array(grad, dtype=np.float64)


def test_sgd_plain_step_known_answer():
    p = P([1.0, -2.0], grad=[0.5, 1.0])
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.95, -2.1])


def test_sgd_momentum_first_buffer_is_the_gradient():
    p = P([0.0], grad=[1.0])
    opt = SGD([p], lr=1.0, momentum=0.9)
    opt.step()  # buf = 1 -> p = -1
    opt.step()  # buf = 0.9 + 1 = 1.9 -> p = -2.9
    np.testing.assert_allclose(p.data, [-2.9])


def test_sgd_weight_decay_adds_l2_gradient():
    p = P([2.0], grad=[0.0])
    SGD([p], lr=0.5, weight_decay=0.1).step()  # g = 0.2 -> p = 2 - 0.1
    np.testing.assert_allclose(p.data, [1.9])


def test_adam_first_step_moves_by_lr_in_sign_direction():
    # bias correction makes the first Adam step lr * g / (|g| + eps') = lr * sign(g)
    p = P([1.0, 1.0, 1.0], grad=[3.0, -0.001, 100.0])
    Adam([p], lr=0.01, eps=1e-12).step()
    np.testing.assert_allclose(p.data, [0.99, 1.01, 0.99], rtol=1e-9)


def test_adamw_decay_is_decoupled():
    # zero gradient: Adam's update is 0, only the decay acts: p *= 1 - lr * wd
    p = P([4.0], grad=[0.0])
    AdamW([p], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(p.data, [4.0 * (1 - 0.05)])
    q = P([4.0], grad=[0.0])
    Adam([q], lr=0.1, weight_decay=0.5).step()  # L2: g = 2, first step = -lr * sign
    np.testing.assert_allclose(q.data, [3.9])


def test_param_groups_override_defaults_and_skip_missing_grads():
    a, b, c = P([1.0], grad=[1.0]), P([1.0], grad=[1.0]), P([1.0])
    opt = SGD([{"params": [a]}, {"params": [b, c], "lr": 0.5}], lr=0.1)
    opt.step()
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    np.testing.assert_allclose([a.data[0], b.data[0], c.data[0]], [0.9, 0.5, 1.0])


def test_zero_grad_sets_none():
    p = P([1.0], grad=[1.0])
    opt = SGD([p], lr=0.1)
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        lambda ps: Adam(ps, lr=0.01, weight_decay=0.01),
        lambda ps: AdamW(ps, lr=0.01, weight_decay=0.1),
    ],
)
def test_state_dict_round_trip_continues_identically(make):
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(6, 2, 3))
    ref = [P(np.ones((2, 3)))]
    opt = make(ref)
    for g in grads:
        ref[0].grad = g.copy()
        opt.step()
    # a second optimiser runs 3 steps, is saved, a fresh one loads and does the other 3
    half = [P(np.ones((2, 3)))]
    opt1 = make(half)
    for g in grads[:3]:
        half[0].grad = g.copy()
        opt1.step()
    saved = opt1.state_dict()
    opt2 = make(half)
    opt2.load_state_dict(saved)
    for g in grads[3:]:
        half[0].grad = g.copy()
        opt2.step()
    np.testing.assert_array_equal(half[0].data, ref[0].data)


def test_state_dict_is_a_copy_and_checks_shapes():
    p = P([1.0, 2.0], grad=[1.0, 1.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["momentum_buffer"][0] = 99.0
    assert opt.state[id(p)]["momentum_buffer"][0] == 1.0
    other = SGD([P([1.0, 2.0, 3.0])], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="shape"):
        other.load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="param groups"):
        SGD([{"params": [P([1.0])]}, {"params": [P([1.0])]}], lr=0.1).load_state_dict(sd)


# ------------------------------------------------------------------ clipping


def test_clip_grad_norm_known_answer():
    a, b = P([0.0, 0.0], grad=[3.0, 0.0]), P([0.0], grad=[4.0])  # joint norm 5
    norm = clip_grad_norm_([a, b, P([1.0])], max_norm=1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(np.r_[a.grad, b.grad], np.r_[3.0, 0.0, 4.0] / (5 + 1e-6))


def test_clip_grad_norm_leaves_small_gradients_alone():
    a = P([0.0], grad=[0.5])
    assert clip_grad_norm_([a], 1.0) == pytest.approx(0.5)
    assert a.grad[0] == 0.5


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=20), st.floats(0.01, 100))
def test_clip_grad_norm_property_result_norm_at_most_max(values, max_norm):
    p = P(np.zeros(len(values)), grad=values)
    before = clip_grad_norm_([p], max_norm)
    assert before == pytest.approx(float(np.linalg.norm(values)), rel=1e-9, abs=1e-12)
    assert np.linalg.norm(p.grad) <= max_norm * (1 + 1e-9)


# ------------------------------------------------------------------ schedules


def test_schedules_known_answers():
    assert lr_scheduler.constant(123, 0.1) == 0.1
    assert lr_scheduler.step_decay(99, 0.1, 100, 0.1) == pytest.approx(0.1)
    assert lr_scheduler.step_decay(100, 0.1, 100, 0.1) == pytest.approx(0.01)
    wc = lr_scheduler.warmup_cosine
    assert wc(0, 1.0, 9, 20) == pytest.approx(0.1)
    assert wc(10, 1.0, 10, 20) == pytest.approx(1.0)
    assert wc(15, 1.0, 10, 20) == pytest.approx(0.5)
    assert wc(20, 1.0, 10, 20, 0.1) == pytest.approx(0.1)
    assert wc(10**6, 1.0, 10, 20, 0.1) == 0.1
    assert lr_scheduler.get_schedule("warmup_cosine") is wc
    assert wc(15, 1.0, 10, 20, 1.0) == 1.0  # min_lr == lr: constant after warmup


@given(st.integers(0, 500), st.integers(0, 50), st.integers(50, 400))
def test_warmup_cosine_stays_between_min_and_max(step, warmup, max_steps):
    lr = lr_scheduler.warmup_cosine(step, 1.0, warmup, max_steps, 0.1)
    assert (0.0 < lr <= 1.0 + 1e-12) and (step < warmup or lr >= 0.1 - 1e-12)
    assert not math.isnan(lr)


def test_single_parameter_is_not_iterated_row_by_row():
    # iterating a Parameter walks its rows (copies without gradients): clip used to
    # return 0.0 and clip nothing, an optimiser used to update throwaway rows
    from groundup.nn import Parameter

    p = Parameter(np.ones(3))
    p.grad = np.full(3, 3.0)
    assert clip_grad_norm_(p, 1.0) == pytest.approx(math.sqrt(27))
    np.testing.assert_allclose(np.linalg.norm(p.grad), 1.0, rtol=1e-5)
    opt = SGD([{"params": p}], lr=0.5)  # a lone tensor inside a group is fine (PyTorch too)
    opt.step()
    np.testing.assert_allclose(p.data, 1.0 - 0.5 * p.grad)


def test_clip_grad_norm_takes_a_numpy_max_norm():
    # np.float32(1.0) (a value read from an array or config) was refused as not a number
    p = P([0.0, 0.0], grad=[3.0, 4.0])
    assert clip_grad_norm_([p], np.float32(1.0)) == pytest.approx(5.0)
    np.testing.assert_allclose(np.linalg.norm(p.grad), 1.0, rtol=1e-5)


def test_optimisers_take_numpy_hyperparameters():
    # np.float32(0.1) was refused: "lr must be a number >= 0.0, got np.float32(0.1)"
    opt = Adam([P([1.0], grad=[1.0])], lr=np.float32(0.1), betas=(np.float64(0.9), 0.99))
    opt.step()


def test_sgd_default_lr_is_pytorchs():
    assert SGD([P(np.zeros(2))]).param_groups[0]["lr"] == 1e-3


def test_amsgrad_keeps_the_largest_second_moment():
    p = P(np.zeros(1))
    opt = Adam([p], lr=0.1, betas=(0.9, 0.5), amsgrad=True)  # v forgets fast, its max not
    for g in (3.0, 0.1):
        p.grad = np.array([g])
        opt.step()
    state = opt.state_dict()["state"][0]
    assert state["max_exp_avg_sq"][0] > state["exp_avg_sq"][0]  # the 3.0 step is remembered


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "make",
    [
        lambda ps: Adam(ps, lr=0.05, betas=(0.5, 0.9), weight_decay=0.01),
        lambda ps: Adam(ps, lr=0.02, maximize=True),
        lambda ps: AdamW(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        lambda ps: AdamW(ps, lr=0.05, weight_decay=0.0, maximize=True),
    ],
    ids=["adam-l2", "adam-maximize", "adamw", "adamw-maximize"],
)
def test_adam_kernel_equals_the_numpy_passes(make, dtype, monkeypatch):
    """The compiled one-loop update (numba installed) lands where NumPy's passes do."""
    from groundup.nn import fused

    if fused.kernels() is None:
        pytest.skip("numba is not installed")

    def run():
        rng = np.random.default_rng(0)
        p = P([0.0])
        p.data = rng.standard_normal((3, 4)).astype(dtype)
        opt = make([p])
        for _ in range(5):
            p.grad = rng.standard_normal((3, 4)).astype(dtype)
            opt.step()
        return p.data, opt.state[id(p)]["exp_avg_sq"]

    with_kernel = run()
    monkeypatch.setattr(fused, "_KERNELS", None)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    for a, b in zip(with_kernel, run(), strict=True):
        np.testing.assert_allclose(a, b, **tol)


def test_adam_kernel_constants_follow_each_group_step_and_lr(monkeypatch):
    """The kernel's constants, made once per group and step, still differ where they must:
    two groups (lr, decay), a learning rate changed between steps, and a parameter whose
    first gradient comes late (its own step count): NumPy's passes land on the same."""
    from groundup.nn import fused

    if fused.kernels() is None:
        pytest.skip("numba is not installed")

    def run():
        rng = np.random.default_rng(3)
        ps = [P([0.0]) for _ in range(4)]
        for p in ps:
            p.data = rng.standard_normal((2, 3)).astype("float32")
        opt = AdamW([{"params": ps[:2], "weight_decay": 0.1},
                     {"params": ps[2:], "weight_decay": 0.0, "lr": 0.01}], lr=0.05)  # fmt: skip
        for step in range(6):
            for i, p in enumerate(ps):
                late = i == 3 and step < 3
                p.grad = None if late else rng.standard_normal((2, 3)).astype("float32")
            opt.param_groups[0]["lr"] = 0.05 / (1 + step)  # a schedule
            opt.step()
        return [p.data for p in ps]

    with_kernel = run()
    monkeypatch.setattr(fused, "_KERNELS", None)
    for a, b in zip(with_kernel, run(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_norm_kernel_equals_numpy(dtype, monkeypatch):
    """The compiled sum of squares (float64, one pass) gives NumPy's norm and scaling."""
    from groundup.nn import fused

    if fused.kernels() is None:
        pytest.skip("numba is not installed")

    def run():
        rng = np.random.default_rng(1)
        ps = [P([0.0]) for _ in range(3)]
        for p, shape in zip(ps, [(50, 7), (7,), (3, 2, 5)], strict=True):
            p.data = rng.standard_normal(shape).astype(dtype)
            p.grad = (10 * rng.standard_normal(shape)).astype(dtype)
        return clip_grad_norm_(ps, 1.0), [p.grad for p in ps]

    (norm, grads) = run()
    monkeypatch.setattr(fused, "_KERNELS", None)
    (want, want_grads) = run()
    assert norm == pytest.approx(want, rel=1e-12)
    for a, b in zip(grads, want_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
