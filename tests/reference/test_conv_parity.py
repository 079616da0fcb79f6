"""Convolution and pooling against PyTorch beyond the parity table: the layers (same
weights in, same outputs and gradients out), max pooling's indices and which entry wins,
interpolate's index arithmetic at the rounding edges, the exception types, and a small
CNN trained side by side. (The ops themselves are rows of test_tensor_parity.py.)"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

import groundup.nn as nn  # noqa: E402
import groundup.nn.functional as F  # noqa: E402
from groundup import Tensor  # noqa: E402

TOL = {"rtol": 1e-10, "atol": 1e-10}
RNG = np.random.default_rng(0)


def copy_weights(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def run_both(ours, theirs, x, **kw):
    """Forward both on x (float64) with one random upstream gradient; compare the output,
    the input's gradient and every parameter's gradient."""
    xo, xt = Tensor(x, dtype="float64", requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo, **kw), theirs(xt, **kw)
    g = RNG.standard_normal(tuple(yt.shape))
    yo.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), **TOL)
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), **TOL)
    grads = {n: p.grad for n, p in ours.named_parameters()}
    assert set(grads) == {n for n, _ in theirs.named_parameters()}
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), **TOL, err_msg=name)


LAYERS = {
    "conv2d": lambda m: m.Conv2d(4, 6, 3, stride=2, padding=1),
    "conv2d groups dilation": lambda m: m.Conv2d(
        4, 6, (3, 2), padding=(2, 1), dilation=(2, 1), groups=2
    ),
    "conv2d same reflect": lambda m: m.Conv2d(4, 3, 4, padding="same", padding_mode="reflect"),
    "conv2d circular": lambda m: m.Conv2d(4, 3, 3, padding=2, padding_mode="circular"),
    "conv2d replicate no bias": lambda m: m.Conv2d(
        4, 2, 3, padding=1, padding_mode="replicate", bias=False
    ),
    "conv_transpose2d": lambda m: m.ConvTranspose2d(
        4, 6, 3, stride=2, padding=1, output_padding=1, groups=2
    ),
    "maxpool2d": lambda m: m.MaxPool2d(3, 2, 1, ceil_mode=True),
    "avgpool2d": lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False),
    "adaptive": lambda m: m.AdaptiveAvgPool2d((3, None)),
    "upsample": lambda m: m.Upsample(scale_factor=1.5, mode="bilinear", align_corners=False),
    "flatten": lambda m: m.Flatten(),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_2d_layers_match_torch(name):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch: 'same' with an even kernel may copy
        theirs = LAYERS[name](torch.nn).double()
        ours = LAYERS[name](nn).double()
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        assert repr(ours) == repr(theirs)
        run_both(ours, theirs, RNG.standard_normal((2, 4, 7, 6)))


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.Conv1d(4, 6, 3, stride=2, padding=1, groups=2),
        lambda m: m.Conv1d(4, 3, 2, padding="same", dilation=3, padding_mode="circular"),
        lambda m: m.ConvTranspose1d(4, 2, 3, stride=3, padding=1, output_padding=2),
        lambda m: m.MaxPool1d(2, 1, 1, dilation=2),
        lambda m: m.AvgPool1d(3, 2, 1, ceil_mode=True),
        lambda m: m.AdaptiveAvgPool1d(4),
    ],
    ids=["conv1d", "conv1d-same", "conv_transpose1d", "maxpool1d", "avgpool1d", "adaptive1d"],
)
def test_1d_layers_match_torch(make):
    torch.manual_seed(1)
    theirs = make(torch.nn).double()
    ours = make(nn).double()
    copy_weights(ours, theirs)
    assert repr(ours) == repr(theirs)
    run_both(ours, theirs, RNG.standard_normal((2, 4, 9)))


def test_conv_transpose_output_size_matches_torch():
    torch.manual_seed(2)
    theirs = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    ours = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, dtype="float64")
    copy_weights(ours, theirs)
    run_both(ours, theirs, RNG.standard_normal((1, 3, 4, 5)), output_size=(8, 9))


def test_default_init_has_torchs_shapes_and_bounds():
    for make in (
        lambda m: m.Conv2d(6, 9, (3, 2), groups=3),
        lambda m: m.ConvTranspose2d(6, 4, 3, groups=2),
        lambda m: m.Conv1d(3, 5, 4),
    ):
        theirs, ours = make(torch.nn), make(nn)
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
        bound = 1 / np.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) and the bias: U(+-bound)
        for (n, p), (tn, tp) in zip(
            ours.named_parameters(), theirs.named_parameters(), strict=True
        ):
            assert n == tn and p.shape == tuple(tp.shape)
            assert np.abs(p.data).max() <= bound and float(tp.detach().abs().max()) <= bound
        assert np.abs(ours.weight.data).max() > 0.8 * bound  # the whole range is used


# ---------------------------------------------------------------- max pooling's indices


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1)),
        dict(kernel_size=2, stride=1, padding=1, dilation=2),  # windows of only padding
    ],
)
def test_max_pool_indices_and_gradients_match_torch(kw):
    x = RNG.standard_normal((2, 3, 5, 6))
    x[0, 0, 1, :] = x[0, 0, 1, 0]  # ties: the first one wins
    x[0, 1, 2, 2] = np.nan  # a nan wins, the last of them
    x[0, 1, 3, 3] = np.nan
    x[1, 2] = -np.inf  # nothing above -inf: the first entry inside the image
    xo, xt = Tensor(x, dtype="float64", requires_grad=True), torch.tensor(x, requires_grad=True)
    vo, io = F.max_pool2d(xo, **kw, return_indices=True)
    vt, it = TF.max_pool2d(xt, **kw, return_indices=True)
    np.testing.assert_array_equal(vo.data, vt.detach().numpy())
    np.testing.assert_array_equal(io.data, it.numpy())
    assert io.dtype == np.int64
    inside = (it.numpy() >= 0) & (it.numpy() < 30)  # PyTorch may point outside the plane
    if inside.all():
        g = RNG.standard_normal(vo.shape)
        vo.backward(g)
        vt.backward(torch.tensor(g))
        np.testing.assert_array_equal(np.isnan(xo.grad), np.isnan(xt.grad.numpy()))
        np.testing.assert_allclose(xo.grad, xt.grad.numpy(), atol=1e-12)


def test_max_pool1d_indices_match_torch():
    x = RNG.standard_normal((2, 3, 11))
    vo, io = F.max_pool1d(Tensor(x, dtype="float64"), 3, 2, 1, return_indices=True)
    vt, it = TF.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(io.data, it.numpy())
    np.testing.assert_array_equal(vo.data, vt.numpy())


# ---------------------------------------------------------------- interpolate's arithmetic


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear"])
def test_interpolate_indices_agree_at_every_size(mode, dtype):
    """Every input size 1..24 to every output size 1..24, and common scale factors: the
    nearest indices are PyTorch's exactly, even where float32 rounding decides them; linear
    values agree to a few float32 ulps (PyTorch's compiled loop may fuse multiply-adds)."""
    tdtype = getattr(torch, dtype)
    for n in range(1, 25):
        x = np.arange(n, dtype=dtype).reshape(1, 1, n) * 1.5 + 0.25
        calls = [dict(size=m) for m in range(1, 25)]
        calls += [
            dict(scale_factor=f)
            for f in (0.3, 0.5, 0.7, 1.1, 1.5, 2.0, 2.2, 3.0, 10 / 3)
            if int(n * f) >= 1
        ]
        for kw in calls:
            for ac in [None] if mode != "linear" else [False, True]:
                ours = F.interpolate(Tensor(x, dtype=dtype), mode=mode, align_corners=ac, **kw)
                ref = TF.interpolate(
                    torch.tensor(x, dtype=tdtype), mode=mode, align_corners=ac, **kw
                ).numpy()
                if mode == "linear":
                    np.testing.assert_allclose(
                        ours.data,
                        ref,
                        rtol=1e-6 if dtype == "float32" else 1e-15,
                        err_msg=f"{n} {kw} {ac}",
                    )
                else:
                    np.testing.assert_array_equal(ours.data, ref, err_msg=f"{n} {kw}")


# ---------------------------------------------------------------- errors: PyTorch's types


def _zeros(*shape):
    return np.zeros(shape)


ERRORS = {
    "conv channels": lambda m: m.F.conv2d(m.t(_zeros(2, 4, 5, 5)), m.t(_zeros(8, 3, 3, 3))),
    "conv groups": lambda m: m.F.conv2d(m.t(_zeros(2, 4, 5, 5)), m.t(_zeros(3, 2, 3, 3)), groups=2),
    "conv kernel too big": lambda m: m.F.conv2d(m.t(_zeros(1, 4, 2, 2)), m.t(_zeros(4, 4, 3, 3))),
    "conv 2-D input": lambda m: m.F.conv2d(m.t(_zeros(5, 5)), m.t(_zeros(4, 4, 3, 3))),
    "conv stride 0": lambda m: m.F.conv2d(
        m.t(_zeros(1, 4, 5, 5)), m.t(_zeros(4, 4, 3, 3)), stride=0
    ),
    "conv same strided": lambda m: m.F.conv2d(
        m.t(_zeros(1, 4, 5, 5)), m.t(_zeros(4, 4, 3, 3)), padding="same", stride=2
    ),
    "conv bias": lambda m: m.F.conv2d(
        m.t(_zeros(1, 4, 5, 5)), m.t(_zeros(4, 4, 3, 3)), m.t(_zeros(3))
    ),
    "conv1d 4-D input": lambda m: m.F.conv1d(m.t(_zeros(1, 4, 5, 5)), m.t(_zeros(4, 4, 3))),
    "transpose output padding": lambda m: m.F.conv_transpose2d(
        m.t(_zeros(1, 4, 5, 5)), m.t(_zeros(4, 2, 3, 3)), stride=2, output_padding=2
    ),
    "transpose too small": lambda m: m.F.conv_transpose2d(
        m.t(_zeros(1, 4, 5, 5)), m.t(_zeros(4, 2, 3, 3)), padding=5
    ),
    "max_pool pad": lambda m: m.F.max_pool2d(m.t(_zeros(1, 3, 5, 5)), 3, padding=2),
    "max_pool too small": lambda m: m.F.max_pool2d(m.t(_zeros(1, 3, 5, 5)), 6),
    "max_pool 2-D": lambda m: m.F.max_pool2d(m.t(_zeros(5, 5)), 2),
    "avg_pool 2-D": lambda m: m.F.avg_pool2d(m.t(_zeros(5, 5)), 2),
    "avg_pool divisor 0": lambda m: m.F.avg_pool2d(m.t(_zeros(1, 1, 4, 4)), 2, divisor_override=0),
    "pad odd": lambda m: m.F.pad(m.t(_zeros(2, 3)), (1, 2, 3)),
    "pad reflect too much": lambda m: m.F.pad(m.t(_zeros(1, 2, 5)), (5, 1), "reflect"),
    "pad reflect 1-D": lambda m: m.F.pad(m.t(_zeros(5)), (1, 1), "reflect"),
    "pad mode": lambda m: m.F.pad(m.t(_zeros(1, 2, 5)), (1, 1), "mirror"),
    "pad circular wraps": lambda m: m.F.pad(m.t(_zeros(1, 2, 5)), (6, 1), "circular"),
    "interpolate neither": lambda m: m.F.interpolate(m.t(_zeros(1, 1, 4))),
    "interpolate both": lambda m: m.F.interpolate(m.t(_zeros(1, 1, 4)), size=2, scale_factor=2),
    "interpolate align nearest": lambda m: m.F.interpolate(
        m.t(_zeros(1, 1, 4)), size=2, align_corners=True
    ),
    "interpolate linear 4-D": lambda m: m.F.interpolate(
        m.t(_zeros(1, 1, 4, 4)), size=2, mode="linear"
    ),
    "interpolate 2-D": lambda m: m.F.interpolate(m.t(_zeros(4, 4)), size=2),
    "interpolate ints": lambda m: m.F.interpolate(m.t(np.zeros((1, 1, 2, 2), dtype=int)), size=3),
    "unfold 2-D": lambda m: m.F.unfold(m.t(_zeros(4, 4)), 2),
    "fold blocks": lambda m: m.F.fold(m.t(_zeros(2, 27, 8)), (5, 5), 3),
    "unfold ints": lambda m: m.F.unfold(m.t(np.zeros((1, 1, 3, 3), dtype=int)), 2),
    "fold ints": lambda m: m.F.fold(m.t(np.zeros((1, 4, 4), dtype=int)), 3, 2),
    "max_pool1d ints": lambda m: m.F.max_pool1d(m.t(np.zeros((1, 2, 4), dtype=int)), 2),
    "adaptive ints": lambda m: m.F.adaptive_avg_pool2d(m.t(np.zeros((1, 2, 4), dtype=int)), 2),
    "tensor unfold size": lambda m: m.t(_zeros(10)).unfold(0, 11, 1),
    "tensor unfold dim": lambda m: m.t(_zeros(10)).unfold(1, 2, 1),
}


class _Ours:
    F = F
    t = staticmethod(lambda a: Tensor(a, dtype="float64" if a.dtype.kind == "f" else None))


class _Torch:
    F = TF
    t = staticmethod(torch.tensor)


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_have_pytorchs_types(name):
    with pytest.raises(Exception) as theirs:
        ERRORS[name](_Torch)
    with pytest.raises(Exception) as ours:
        ERRORS[name](_Ours)
    assert isinstance(ours.value, type(theirs.value)), (
        f"{name}: ours {type(ours.value).__name__}: {ours.value}; "
        f"PyTorch {type(theirs.value).__name__}: {theirs.value}"
    )


# ---------------------------------------------------------------- a CNN, side by side


def test_cnn_trains_like_torch():
    """conv-relu-pool-conv-relu-pool-linear, same weights and batches, SGD in float64: the
    losses of 5 steps agree, so every gradient of the stack does."""

    def make(m):
        return m.Sequential(
            m.Conv2d(1, 4, 3, padding=1),
            m.ReLU(),
            m.MaxPool2d(2),
            m.Conv2d(4, 8, 3, padding=1),
            m.ReLU(),
            m.MaxPool2d(2),
            m.Flatten(),
            m.Linear(8 * 2 * 2, 10),
        )

    torch.manual_seed(0)
    theirs, ours = make(torch.nn).double(), make(nn).double()
    copy_weights(ours, theirs)
    from groundup.optim import SGD

    opt_o, opt_t = SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    rng = np.random.default_rng(3)
    for _ in range(5):
        x, y = rng.random((8, 1, 8, 8)), rng.integers(0, 10, 8)
        lo = F.cross_entropy(ours(Tensor(x, dtype="float64")), y)
        lt = TF.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        assert lo.item() == pytest.approx(lt.item(), rel=1e-10)
        opt_o.zero_grad()
        lo.backward()
        opt_o.step()
        opt_t.zero_grad()
        lt.backward()
        opt_t.step()


def test_integer_inputs_give_torchs_integers():
    x = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5) - 70  # negative sums: division toward 0
    w = np.arange(4 * 3 * 3 * 3).reshape(4, 3, 3, 3) % 5 - 2
    calls = [
        lambda m: m.F.conv2d(m.t(x), m.t(w), padding=1, stride=2),
        lambda m: m.F.conv_transpose2d(m.t(x), m.t(w[:3, :2])),
        lambda m: m.F.avg_pool2d(m.t(x), 2),
        lambda m: m.F.avg_pool2d(m.t(x), 3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda m: m.F.avg_pool2d(m.t(x), 2, divisor_override=3),
        lambda m: m.F.avg_pool1d(m.t(x[:, :, 0]), 2),
        lambda m: m.F.max_pool2d(m.t(x), 2),
        lambda m: m.F.pad(m.t(x), (1, 1, 2, 0), "reflect"),
        lambda m: m.t(x).unfold(3, 2, 1),
    ]
    for call in calls:
        ours, theirs = call(_Ours), call(_Torch)
        assert ours.dtype == np.int64 and theirs.dtype == torch.int64
        np.testing.assert_array_equal(ours.data, theirs.numpy())
