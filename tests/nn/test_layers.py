"""Layers: default initialisation statistics, shapes and modes (PyTorch parity
lives in tests/reference/test_nn_parity.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup.nn as nn
from groundup import Tensor


def test_linear_default_init_is_pytorch_uniform():
    layer = nn.Linear(64, 500, generator=0)
    bound = 1 / math.sqrt(64)
    w, b = layer.weight.data, layer.bias.data
    assert w.shape == (500, 64) and b.shape == (500,) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)  # U(-a, a): std a/sqrt(3)


def test_same_seed_same_model_shared_generator_differs():
    a, b = nn.Linear(3, 3, generator=5), nn.Linear(3, 3, generator=5)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    g = np.random.default_rng(5)
    c, d = nn.Linear(3, 3, generator=g), nn.Linear(3, 3, generator=g)
    assert not np.array_equal(c.weight.data, d.weight.data)


def test_linear_shapes_and_dtype():
    layer = nn.Linear(4, 2, bias=False, dtype="float64")
    y = layer(np.ones((5, 7, 4)))  # arrays accepted, leading dims kept
    assert y.shape == (5, 7, 2) and y.dtype == np.float64 and layer.bias is None


def test_embedding_init_and_lookup():
    emb = nn.Embedding(1000, 20, generator=0)
    assert emb.weight.data.std() == pytest.approx(1.0, rel=0.02)
    out = emb(np.array([[1, 2], [3, 1]]))
    np.testing.assert_array_equal(out.data[0, 0], emb.weight.data[1])
    assert out.shape == (2, 2, 20)


def test_layernorm_normalises():
    ln = nn.LayerNorm(8, dtype="float64")
    y = ln(Tensor(np.random.default_rng(0).normal(3.0, 5.0, size=(4, 8)), dtype="float64"))
    np.testing.assert_allclose(y.data.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.data.var(-1), 1, rtol=1e-3)
    assert nn.LayerNorm(3, bias=False).bias is None


def test_rmsnorm_scales_to_unit_root_mean_square_without_centring():
    rms = nn.RMSNorm(8, eps=1e-6, dtype="float64")
    x = np.random.default_rng(0).normal(3.0, 5.0, size=(4, 8))
    y = rms(Tensor(x, dtype="float64")).data
    np.testing.assert_allclose((y**2).mean(-1), 1, rtol=1e-6)
    np.testing.assert_allclose(y / x, (y / x)[:, :1] * np.ones(8))  # only a scale per row
    assert [name for name, _ in rms.named_parameters()] == ["weight"]  # no bias
    assert repr(rms) == "RMSNorm((8,), eps=1e-06, elementwise_affine=True)"
    assert nn.RMSNorm(3, elementwise_affine=False).weight is None


def test_batchnorm_running_stats_and_eval():
    bn = nn.BatchNorm1d(3, momentum=0.5, dtype="float64")
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(10, 3))
    bn(x)
    np.testing.assert_allclose(bn.running_mean.data, 0.5 * x.mean(0))
    np.testing.assert_allclose(bn.running_var.data, 0.5 + 0.5 * x.var(0, ddof=1))
    assert int(bn.num_batches_tracked.data) == 1
    bn.eval()
    one = bn(x[:1])  # a single example works in eval mode, and changes nothing
    np.testing.assert_allclose(
        one.data, (x[:1] - bn.running_mean.data) / np.sqrt(bn.running_var.data + 1e-5)
    )
    assert int(bn.num_batches_tracked.data) == 1


def test_dropout_edges_scaling_and_determinism():
    x = Tensor(np.ones((200, 50)))
    assert np.array_equal(nn.Dropout(0.0)(x).data, x.data)
    assert (nn.Dropout(1.0)(x).data == 0).all()
    y = nn.Dropout(0.3, generator=0)(x).data
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.7)}
    assert (y == 0).mean() == pytest.approx(0.3, abs=0.02)
    a, b = nn.Dropout(0.5, generator=1), nn.Dropout(0.5, generator=1)
    assert np.array_equal(a(x).data, b(x).data)
    assert not np.array_equal(a(x).data, a(x).data)  # one generator, fresh masks each call
    d = nn.Dropout(0.5).eval()
    assert np.array_equal(d(x).data, x.data)


def test_activations():
    x = Tensor(np.array([-2.0, 0.0, 2.0]), dtype="float64")
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh(x.data))
    np.testing.assert_allclose(nn.ReLU()(x).data, [0, 0, 2])
    assert nn.GELU()(x).data[2] == pytest.approx(1.9544997361036416, rel=1e-14)  # 2 Phi(2)
    assert nn.GELU("tanh")(x).data[2] == pytest.approx(1.9545977, rel=1e-6)  # GPT-2's form


def test_mlp_overfits_one_batch():
    from groundup.optim import Adam

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)), rng.normal(size=(16, 1))
    model = nn.Sequential(nn.Linear(4, 32, generator=0), nn.Tanh(), nn.Linear(32, 1, generator=1))
    opt = Adam(model.parameters(), lr=0.01)
    for _ in range(300):
        loss = ((model(x) - Tensor(y)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-2


def test_dropout_takes_a_numpy_probability():
    # np.float32(0.5) was refused as "not a probability in [0, 1]"
    assert nn.Dropout(np.float32(0.5)).p == 0.5


def test_numpy_ints_work_as_sizes_and_seeds():
    # LayerNorm(np.int64(4)) raised "not iterable"; generator=np.int64(0) was "not an int seed"
    assert nn.LayerNorm(np.int64(4)).normalized_shape == (4,)
    a = nn.Linear(2, 3, generator=np.int64(7)).weight.data
    np.testing.assert_array_equal(a, nn.Linear(2, 3, generator=7).weight.data)
    import groundup

    np.testing.assert_array_equal(
        groundup.randn(3, generator=np.int64(1)).data, groundup.randn(3, generator=1).data
    )


def test_embedding_padding_idx_starts_at_zero_and_stays_there():
    emb = nn.Embedding(5, 3, padding_idx=-1, generator=0)
    assert emb.padding_idx == 4 and repr(emb) == "Embedding(5, 3, padding_idx=4)"
    assert emb.weight.data[4].tolist() == [0.0, 0.0, 0.0] and emb.weight.data[0].any()
    emb(np.array([[4, 1, 4]])).sum().backward()
    assert emb.weight.grad[4].tolist() == [0.0, 0.0, 0.0]
    assert emb.weight.grad[1].tolist() == [1.0, 1.0, 1.0]
