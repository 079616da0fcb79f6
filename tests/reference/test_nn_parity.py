"""Every layer against its PyTorch twin: same weights in, same outputs and the same input
and weight gradients out (float64, 1e-8)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import groundup.nn as nn  # noqa: E402
from groundup import Tensor  # noqa: E402

TOL = {"rtol": 1e-8, "atol": 1e-8}


def copy_weights(ours, theirs):
    """Load ours with PyTorch's weights (so the comparison starts from the same point)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def run_both(ours, theirs, x, int_input=False, seed=0):
    """Forward both with a random upstream gradient; return (ours, theirs) outputs/grads."""
    if int_input:
        xo, xt = x, torch.tensor(x)
    else:
        xo = Tensor(x, requires_grad=True, dtype="float64")
        xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    g = np.random.default_rng(seed).normal(size=yt.shape)
    yo.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), **TOL)
    if not int_input:
        np.testing.assert_allclose(xo.grad, xt.grad.numpy(), **TOL)
    ours_grads = {n: p.grad for n, p in ours.named_parameters()}
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours_grads[name], p.grad.numpy(), **TOL, err_msg=name)
    return yo, yt


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    torch.manual_seed(0)
    theirs = torch.nn.Linear(5, 3, bias=bias).double()
    ours = nn.Linear(5, 3, bias=bias, dtype="float64")
    copy_weights(ours, theirs)
    run_both(ours, theirs, RNG.normal(size=(4, 6, 5)))


def test_embedding():
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(7, 4).double()
    ours = nn.Embedding(7, 4, dtype="float64")
    copy_weights(ours, theirs)
    run_both(ours, theirs, np.array([[0, 3, 3], [6, 1, 3]]), int_input=True)


@pytest.mark.parametrize("bias", [True, False])
def test_layernorm(bias):
    theirs = torch.nn.LayerNorm(6, bias=bias).double()
    with torch.no_grad():
        theirs.weight.normal_()
        if bias:
            theirs.bias.normal_()
    ours = nn.LayerNorm(6, bias=bias, dtype="float64")
    copy_weights(ours, theirs)
    run_both(ours, theirs, RNG.normal(2.0, 3.0, size=(3, 4, 6)))


@pytest.mark.parametrize("eps", [None, 1e-5])
def test_rmsnorm(eps):
    theirs = torch.nn.RMSNorm(6, eps=eps).double()
    with torch.no_grad():
        theirs.weight.normal_()
    ours = nn.RMSNorm(6, eps=eps, dtype="float64")
    copy_weights(ours, theirs)
    assert repr(ours) == repr(theirs)
    run_both(ours, theirs, RNG.normal(2.0, 3.0, size=(3, 4, 6)))


@pytest.mark.parametrize("shape", [(8, 5), (4, 5, 3)])
def test_batchnorm1d_train_then_eval(shape):
    theirs = torch.nn.BatchNorm1d(5, momentum=0.2).double()
    with torch.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    ours = nn.BatchNorm1d(5, momentum=0.2, dtype="float64")
    copy_weights(ours, theirs)
    for seed in range(3):  # training: batch statistics, running statistics move
        run_both(ours, theirs, RNG.normal(1.0, 2.0, size=shape), seed=seed)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), **TOL, err_msg=key)
    ours.eval()
    theirs.eval()
    for p in [*ours.parameters()]:
        p.grad = None
    theirs.zero_grad()
    run_both(ours, theirs, RNG.normal(size=shape), seed=9)  # eval: running statistics


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_edges(p):
    run_both(nn.Dropout(p), torch.nn.Dropout(p), RNG.normal(size=(4, 5)))


def test_dropout_eval_is_identity():
    run_both(nn.Dropout(0.5).eval(), torch.nn.Dropout(0.5).eval(), RNG.normal(size=(4, 5)))


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.GELU(), torch.nn.GELU()),
        (nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")),
    ],
    ids=["tanh", "relu", "gelu", "gelu-tanh"],
)
def test_activations(ours, theirs):
    run_both(ours, theirs, RNG.normal(size=(3, 7)))


def test_sequential_stack():
    torch.manual_seed(1)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Tanh(),
        torch.nn.Linear(8, 8), torch.nn.LayerNorm(8), torch.nn.GELU(approximate="tanh"),
        torch.nn.Linear(8, 2),
    ).double()  # fmt: skip
    ours = nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(),
        nn.Linear(8, 8), nn.LayerNorm(8), nn.GELU(approximate="tanh"),
        nn.Linear(8, 2),
    ).double()  # fmt: skip
    copy_weights(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    run_both(ours, theirs, RNG.normal(size=(6, 4)))


def test_repr_matches_torch():
    ours = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.LayerNorm(3), nn.BatchNorm1d(3),
                         nn.ModuleList([nn.ReLU(), nn.Embedding(5, 2)]))  # fmt: skip
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3),
        torch.nn.Tanh(),
        torch.nn.LayerNorm(3),
        torch.nn.BatchNorm1d(3),
        torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Embedding(5, 2)]),
    )
    assert repr(ours) == repr(theirs)


def test_default_init_distributions_match_torch():
    """Same family and scale as PyTorch's defaults (the generators differ, so compare
    bounds and moments over many draws)."""
    torch.manual_seed(0)
    t = torch.nn.Linear(100, 400)
    o = nn.Linear(100, 400, generator=0)
    tw, ow = t.weight.detach().numpy(), o.weight.data
    assert abs(np.abs(tw).max() - np.abs(ow).max()) < 1e-3
    assert ow.std() == pytest.approx(tw.std(), rel=0.03)
    assert nn.Embedding(400, 100, generator=0).weight.data.std() == pytest.approx(
        torch.nn.Embedding(400, 100).weight.detach().std().item(), rel=0.03
    )


@given(
    st.lists(st.integers(1, 5), min_size=0, max_size=2),
    st.integers(1, 6),
    st.integers(1, 6),
    st.integers(0, 2**31),
)
def test_property_linear_and_layernorm_any_shape(lead, fan_in, fan_out, seed):
    rng = np.random.default_rng(seed)
    theirs = torch.nn.Linear(fan_in, fan_out).double()
    ours = nn.Linear(fan_in, fan_out, dtype="float64")
    copy_weights(ours, theirs)
    run_both(ours, theirs, rng.normal(size=(*lead, fan_in)), seed=seed)
    theirs = torch.nn.LayerNorm(fan_out).double()
    ours = nn.LayerNorm(fan_out, dtype="float64")
    run_both(ours, theirs, rng.normal(size=(*lead, 2, fan_out)), seed=seed)


@pytest.mark.parametrize("shape", [(6, 3), (6, 3, 4)])
def test_batchnorm_momentum_none_is_the_cumulative_average_like_torch(shape):
    # momentum=None was accepted, then crashed in forward on 1 - None
    rng = np.random.default_rng(0)
    ours = nn.BatchNorm1d(3, momentum=None, dtype="float64")
    ref = torch.nn.BatchNorm1d(3, momentum=None).double()
    batches = [rng.standard_normal(shape) for _ in range(3)]
    for x in batches:
        ours(Tensor(x, dtype="float64"))
        ref(torch.tensor(x))
    axes = (0,) if len(shape) == 2 else (0, 2)
    np.testing.assert_allclose(
        ours.running_mean.data, np.mean([x.mean(axis=axes) for x in batches], 0)
    )
    np.testing.assert_allclose(ours.running_mean.data, ref.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.running_var.data, ref.running_var.numpy(), atol=1e-12)
    ours.eval()
    ref.eval()
    x = rng.standard_normal(shape)
    want = ref(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(Tensor(x, dtype="float64")).data, want, atol=1e-10)
