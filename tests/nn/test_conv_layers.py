"""The convolution and pooling layers: PyTorch's default initialisation, shapes, reprs,
padding modes and a tiny CNN that learns (PyTorch parity of the
layers is in tests/reference/test_conv_parity.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup.nn as nn
import groundup.nn.functional as F
from groundup import Tensor
from groundup.optim import Adam


def test_conv2d_default_init_is_pytorch_kaiming_uniform():
    conv = nn.Conv2d(6, 64, (3, 5), groups=2, generator=0)
    fan_in = 3 * 3 * 5  # in_channels / groups * kernel entries
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)): sqrt(3) * sqrt(1/3) / sqrt(fan_in)
    w, b = conv.weight.data, conv.bias.data
    assert w.shape == (64, 3, 3, 5) and b.shape == (64,) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    t = nn.ConvTranspose2d(4, 6, 3, groups=2, generator=0)
    assert t.weight.shape == (4, 3, 3, 3)  # (in, out / groups, kh, kw)
    assert np.abs(t.weight.data).max() <= 1 / math.sqrt(3 * 9)  # fan_in: weight.shape[1] * k


def test_same_seed_same_layer_and_float64():
    a, b = nn.Conv1d(2, 3, 4, generator=7), nn.Conv1d(2, 3, 4, generator=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert nn.Conv2d(1, 2, 3, bias=False, dtype="float64").weight.dtype == np.float64
    assert nn.Conv2d(1, 2, 3, bias=False).bias is None


def test_shapes_through_every_layer():
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    assert nn.Conv2d(3, 5, 3, stride=2, padding=1)(x).shape == (2, 5, 4, 4)
    assert nn.Conv2d(3, 5, 3, padding="same", dilation=2)(x).shape == (2, 5, 8, 8)
    assert nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)(x).shape == (
        2, 4, 16, 16)  # fmt: skip
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    values, indices = nn.MaxPool2d(3, 2, 1, return_indices=True)(x)
    assert values.shape == indices.shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(3, stride=1, padding=1)(x).shape == (2, 3, 8, 8)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)
    assert nn.Upsample(scale_factor=2, mode="bilinear")(x).shape == (2, 3, 16, 16)
    assert nn.Flatten()(x).shape == (2, 192) and nn.Flatten(0, 1)(x).shape == (6, 8, 8)
    s = x[:, :, 0]  # (N, C, L)
    assert nn.Conv1d(3, 4, 3, padding=1)(s).shape == (2, 4, 8)
    assert nn.ConvTranspose1d(3, 4, 2, stride=2)(s).shape == (2, 4, 16)
    assert nn.MaxPool1d(2)(s).shape == nn.AvgPool1d(2)(s).shape == (2, 3, 4)
    assert nn.AdaptiveAvgPool1d(3)(s).shape == (2, 3, 3)


def test_conv_transpose_output_size_picks_the_output_padding():
    up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    x = np.zeros((1, 2, 4, 4), dtype=np.float32)
    assert up(x).shape == (1, 2, 7, 7)
    assert up(x, output_size=(8, 8)).shape == (1, 2, 8, 8)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_mode_pads_with_f_pad_first(mode):
    x = Tensor(np.random.default_rng(1).standard_normal((1, 2, 5, 6)), dtype="float64")
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, generator=0, dtype="float64")
    want = F.conv2d(F.pad(x, (2, 2, 1, 1), mode), conv.weight, conv.bias)
    np.testing.assert_allclose(conv(x).data, want.data, rtol=1e-12)
    same = nn.Conv1d(2, 2, 4, padding="same", padding_mode=mode, generator=0, dtype="float64")
    assert same(x[:, :, 0]).shape == (1, 2, 6)


def test_reprs_read_like_pytorch():
    assert repr(nn.Conv2d(1, 8, 3)) == "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))"
    conv = nn.Conv2d(2, 4, (3, 5), 2, 1, groups=2, bias=False, padding_mode="reflect")
    assert repr(conv) == (
        "Conv2d(2, 4, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), groups=2, "
        "bias=False, padding_mode=reflect)"
    )
    assert repr(nn.ConvTranspose2d(4, 2, 2, stride=2, output_padding=1)) == (
        "ConvTranspose2d(4, 2, kernel_size=(2, 2), stride=(2, 2), output_padding=(1, 1))"
    )
    assert repr(nn.MaxPool2d(2)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool2d(3, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=0)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"


def test_layers_save_and_load_their_weights():
    a, b = nn.Conv2d(2, 3, 3, generator=1), nn.Conv2d(2, 3, 3, generator=2)
    b.load_state_dict(a.state_dict())
    assert list(a.state_dict()) == ["weight", "bias"]
    x = np.ones((1, 2, 4, 4), dtype=np.float32)
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_a_tiny_cnn_overfits_a_batch():
    """A tiny CNN overfits a batch: the loss falls well below ln(10) (a smoke test that the
    pieces backpropagate together)."""
    rng = np.random.default_rng(0)
    X, y = rng.random((16, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 16)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, generator=0),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10, generator=1),
    )
    opt = Adam(model.parameters(), lr=0.02)
    first = None
    for _ in range(60):
        loss = F.cross_entropy(model(X), y)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first == pytest.approx(math.log(10), abs=0.3)
    assert loss.item() < 0.5
