"""Known answers for the ops of issue 16, with NumPy alone (the torch parity is in
tests/reference/test_ops_issue16.py): erf to float64 rounding, PyTorch's conventions
(halves to even, zero gradients of step functions, ties, zeros in products), dtypes and
the errors at the edges."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import groundup
from groundup import Tensor
from groundup.tensor import gradcheck
from groundup.tensor.ops import erf_array


def leaf(a, dtype="float64"):
    return Tensor(np.asarray(a, dtype=np.float64), dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------- elementwise


def test_erf_is_exact_to_float64_rounding():
    x = np.concatenate(
        [np.linspace(-8, 8, 40001), np.geomspace(1e-300, 30, 2000), -np.geomspace(1e-300, 30, 2000)]
    )
    want = np.array([math.erf(v) for v in x])
    got = erf_array(x)
    assert np.abs(got - want).max() <= 3e-16
    assert (np.abs(got - want) <= 5e-16 * np.abs(want)).all()  # relative, down to tiny x
    edges = erf_array(np.array([np.inf, -np.inf, np.nan, -0.0, 1e300]))
    assert edges[:2].tolist() == [1.0, -1.0] and np.isnan(edges[2])
    assert math.copysign(1.0, edges[3]) == -1.0 and edges[4] == 1.0


@given(st.floats(-6, 6))
def test_erf_gradient_is_the_scaled_normal_density(v):
    x = leaf([v])
    x.erf().sum().backward()
    assert x.grad[0] == pytest.approx(2 / math.sqrt(math.pi) * math.exp(-v * v), rel=1e-14)


def test_trigonometry_known_values_and_identities():
    x = Tensor([0.0, math.pi / 6, math.pi / 4], dtype="float64")
    np.testing.assert_allclose(x.sin().data, [0.0, 0.5, math.sqrt(0.5)], atol=1e-15)
    np.testing.assert_allclose(x.cos().data, [1.0, math.sqrt(0.75), math.sqrt(0.5)], atol=1e-15)
    np.testing.assert_allclose(x.tan().data, [0.0, 1 / math.sqrt(3), 1.0], atol=1e-15)
    y = Tensor([-0.5, 0.0, 0.5], dtype="float64")
    np.testing.assert_allclose(y.asin().data + y.acos().data, [math.pi / 2] * 3, atol=1e-15)
    np.testing.assert_allclose(groundup.atan2(Tensor([1.0, -1.0]), Tensor([-1.0, -1.0])).data,
                               [3 * math.pi / 4, -3 * math.pi / 4], rtol=1e-6)  # fmt: skip
    z = Tensor([-2.0, 0.0, 3.0], dtype="float64")
    np.testing.assert_allclose((z.cosh() ** 2 - z.sinh() ** 2).data, [1.0] * 3, rtol=1e-12)
    assert Tensor([1, 2]).sin().dtype == np.float32  # ints compute in the default float


@pytest.mark.parametrize("name", ["sin", "cos", "tan", "asin", "atan", "sinh", "cosh", "erf"])
def test_elementwise_gradients(name):
    x = np.array([-0.7, -0.2, 0.1, 0.4, 0.8])
    assert gradcheck(lambda t: getattr(t, name)(), x)
    assert gradcheck(lambda a, b: a.atan2(b), x, x[::-1] + 0.05)


def test_step_functions_round_halves_to_even_and_have_zero_gradient():
    x = leaf([0.5, 1.5, 2.5, -0.5, -1.7, 2.345])
    assert x.round().tolist() == [0.0, 2.0, 2.0, -0.0, -2.0, 2.0]
    assert x.round(decimals=1).tolist()[-1] == pytest.approx(2.3)
    assert groundup.round(Tensor([1234.5]), decimals=-2).tolist() == [1200.0]
    assert x.floor().tolist() == [0.0, 1.0, 2.0, -1.0, -2.0, 2.0]
    assert x.ceil().tolist() == [1.0, 2.0, 3.0, -0.0, -1.0, 3.0]
    assert x.trunc().tolist() == [0.0, 1.0, 2.0, -0.0, -1.0, 2.0]
    assert x.sign().tolist() == [1.0, 1.0, 1.0, -1.0, -1.0, 1.0]
    np.testing.assert_allclose(x.frac().data, [0.5, 0.5, 0.5, -0.5, -0.7, 0.345], atol=1e-12)
    for op in ("round", "floor", "ceil", "trunc", "sign"):
        y = getattr(x, op)()
        assert y.requires_grad  # in the graph, as PyTorch: its gradient is zero, not missing
        x.grad = None
        (y * 3).sum().backward()
        assert x.grad.tolist() == [0.0] * 6
    x.grad = None
    x.frac().sum().backward()
    assert x.grad.tolist() == [1.0] * 6


def test_step_functions_keep_integers():
    i = Tensor([-2, 0, 3])
    for op in ("round", "floor", "ceil", "trunc", "sign"):
        assert getattr(i, op)().dtype == np.int64
    assert i.sign().tolist() == [-1, 0, 1]
    assert np.isnan(Tensor([np.nan]).sign().item())
