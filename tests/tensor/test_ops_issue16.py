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


# ---------------------------------------------------------------- indexing, gather, scatter


def test_an_int_meeting_an_index_array_is_applied_first_as_in_pytorch():
    x = groundup.randn(2, 3, 4, 5, 6, generator=0)
    idx = np.array([0, 1, 1, 0, 1, 0, 1])
    assert x[0, :, idx].shape == (3, 7, 5, 6)  # NumPy: (7, 3, 5, 6)
    assert x[1, :, 1:4:2, idx, 0:2].shape == (3, 2, 7, 2)
    assert x[0, ..., idx].shape == (3, 4, 5, 7)
    assert x[None, 0, :, idx].shape == (1, 3, 7, 5, 6)
    assert x[idx, :, 0].shape == (7, 3, 5, 6)  # separated arrays still go first
    assert x[:, idx, :, 0].shape == (2, 7, 4, 6)
    assert x[Tensor(1), :, idx].shape == (3, 7, 5, 6)  # a 0-d int tensor is an int
    np.testing.assert_array_equal(x[0, :, idx].data, x.data[0][:, idx])


def test_mixed_index_gradient_adds_repeats():
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    x[1, :, [0, 0, 3]].sum().backward()
    want = np.zeros((2, 3, 4))
    want[1, :, 0], want[1, :, 3] = 2.0, 1.0
    np.testing.assert_array_equal(x.grad, want)


def test_gather_and_scatter_known_answers():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    idx = np.array([[0, 0], [1, 0]])
    assert x.gather(1, idx).tolist() == [[1.0, 1.0], [4.0, 3.0]]
    assert groundup.gather(x, 0, idx).tolist() == [[1.0, 2.0], [3.0, 2.0]]
    z = groundup.zeros(2, 3)
    src = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert z.scatter(1, np.array([[2, 0], [1, 2]]), src).tolist() == [[2.0, 0.0, 1.0],
                                                                      [0.0, 4.0, 5.0]]  # fmt: skip
    assert z.scatter(0, np.array([[1, 0, 1]]), 9.0).tolist() == [[0.0, 9.0, 0.0], [9.0, 0.0, 9.0]]
    added = z.scatter_add(1, np.array([[0, 0, 2]]), src[:1])
    assert added.tolist() == [[3.0, 0.0, 3.0], [0.0, 0.0, 0.0]]
    ones = groundup.ones(1, 3)
    prod = ones.scatter_reduce(1, np.array([[0, 0, 2]]), src[:1] + 1, "prod", include_self=False)
    assert prod.tolist() == [[6.0, 1.0, 4.0]]
    mean = ones.scatter_reduce(1, np.array([[0, 0, 2]]), src[:1], "mean")
    np.testing.assert_allclose(mean.data, [[4.0 / 3.0, 1.0, 2.0]], rtol=1e-7)


def test_scatter_prod_gradient_with_zeros():
    # out = a * s0 * s1 at one target: d/ds0 = a * s1, and with s0 = 0 that is not 0 / 0
    a = leaf([2.0])
    s = leaf([0.0, 3.0])
    a.scatter_reduce(0, np.array([0, 0]), s, "prod").sum().backward()
    assert a.grad.tolist() == [0.0] and s.grad.tolist() == [6.0, 0.0]


def test_gather_scatter_refuse_like_pytorch():
    x = groundup.zeros(2, 3)
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dim 1 of size 3"):
        x.gather(1, np.array([[3]]))
    with pytest.raises(RuntimeError, match="as many dims"):
        x.gather(1, np.array([0]))
    with pytest.raises(RuntimeError, match="larger than the input"):
        x.gather(1, np.zeros((3, 1), dtype=np.int64))
    with pytest.raises(RuntimeError, match="must hold integers"):
        x.gather(1, np.zeros((1, 1)))
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        x.gather(2, np.zeros((1, 1), dtype=np.int64))
    with pytest.raises(RuntimeError, match="dtype"):
        x.scatter(0, np.zeros((1, 1), dtype=np.int64), groundup.zeros(1, 1, dtype="float64"))
    with pytest.raises(RuntimeError, match="reduce must be"):
        x.scatter_reduce(0, np.zeros((1, 1), dtype=np.int64), groundup.zeros(1, 1), "maximum")


def test_where_takes_numbers_and_promotes_like_arithmetic():
    c = Tensor([True, False])
    assert groundup.where(c, 1.0, 0).dtype == np.float32
    assert groundup.where(c, 1, 0).dtype == np.int64
    assert groundup.where(c, Tensor([1, 2]), 0.5).tolist() == [1.0, 0.5]
    assert groundup.where(c, Tensor([1.0, 2.0], dtype="float64"), 0.5).dtype == np.float64
    assert [t.tolist() for t in groundup.where(Tensor([[0, 3], [4, 0]]))] == [[0, 1], [1, 0]]
    assert Tensor([[0, 3], [4, 0]]).nonzero().tolist() == [[0, 1], [1, 0]]


def test_axis_and_keepdims_are_numpy_names_for_dim_and_keepdim():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert x.sum(axis=0, keepdims=True).tolist() == [[3.0, 5.0, 7.0]]
    assert x.max(axis=1).indices.tolist() == [2, 2]
    assert groundup.gather(x, axis=1, index=np.array([[0], [2]])).tolist() == [[0.0], [5.0]]
    with pytest.raises(TypeError, match="both dim= and axis="):
        x.sum(dim=0, axis=1)


# ---------------------------------------------------------------- scans and products


def test_cumsum_cumprod_known_answers_and_dtypes():
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.cumsum(1).tolist() == [[1.0, 3.0, 6.0], [4.0, 9.0, 15.0]]
    assert groundup.cumsum(x, dim=0).tolist() == [[1.0, 2.0, 3.0], [5.0, 7.0, 9.0]]
    assert x.cumprod(-1).tolist() == [[1.0, 2.0, 6.0], [4.0, 20.0, 120.0]]
    assert Tensor([True, False, True]).cumsum(0).tolist() == [1, 1, 2]
    assert Tensor([True, True]).cumsum(0).dtype == np.int64  # bools count in int64
    assert x.cumsum(0, dtype="float64").dtype == np.float64
    assert Tensor(2.0).cumsum(0).shape == ()


def test_products_with_zeros_have_pytorchs_gradients():
    # d/dx_i of a product is the product of the other factors, even where x_i = 0
    x = leaf([1.0, 2.0, 0.0, 3.0])
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 0.0, 6.0, 0.0]
    x = leaf([0.0, 2.0, 0.0, 3.0])
    x.prod().backward()
    assert x.grad.tolist() == [0.0] * 4
    x = leaf([1.0, 2.0, 0.0, 3.0, 0.0, 2.0])
    x.cumprod(0).sum().backward()  # torch: [3, 1, 8, 0, 0, 0]
    assert x.grad.tolist() == [3.0, 1.0, 8.0, 0.0, 0.0, 0.0]
    y = leaf([[2.0, 0.0], [3.0, 4.0]])
    y.prod(dim=1, keepdim=True).sum().backward()
    assert y.grad.tolist() == [[0.0, 2.0], [4.0, 3.0]]
    assert Tensor([[1, 2], [3, 4]]).prod(1).tolist() == [2, 12]


# zeros, and numbers whose products neither underflow nor overflow
FACTORS = st.one_of(st.just(0.0), st.floats(0.1, 3.0), st.floats(-3.0, -0.1))


@given(st.lists(FACTORS, min_size=1, max_size=6))
def test_cumprod_gradient_matches_finite_differences(values):
    assert gradcheck(lambda t: t.cumprod(0), np.array(values))


def test_cummax_cummin_take_the_latest_tie_and_nan_as_pytorch():
    v, i = Tensor([1.0, 1.0, 3.0, 2.0, 3.0]).cummax(0)
    assert v.tolist() == [1.0, 1.0, 3.0, 3.0, 3.0] and i.tolist() == [0, 1, 2, 2, 4]
    v, i = groundup.cummin(Tensor([2.0, 1.0, 1.0, 5.0]), 0)
    assert v.tolist() == [2.0, 1.0, 1.0, 1.0] and i.tolist() == [0, 1, 2, 2]
    v, i = Tensor([1.0, np.nan, 3.0, np.nan, 2.0]).cummax(0)
    assert np.isnan(v.data[1:]).all() and i.tolist() == [0, 1, 1, 3, 3]
    x = leaf([1.0, 3.0, 2.0])
    x.cummax(0).values.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 0.0]  # each running max sends its gradient home


# ---------------------------------------------------------------- sorting and selecting


def test_sort_is_stable_both_ways_and_puts_nan_with_the_largest():
    x = Tensor([1.0, 0.0, 1.0, 2.0, 0.0, 1.0])
    assert x.sort().indices.tolist() == [1, 4, 0, 2, 5, 3]
    assert x.sort(descending=True).indices.tolist() == [3, 0, 2, 5, 1, 4]  # ties in order
    assert groundup.argsort(x, descending=True).tolist() == [3, 0, 2, 5, 1, 4]
    y = Tensor([1.0, np.nan, 0.0])
    assert (
        y.sort().indices.tolist() == [2, 0, 1] and y.sort(descending=True).indices.tolist()[0] == 1
    )
    v = leaf([[3.0, 1.0, 2.0]])
    values, _ = v.sort(dim=1)
    (values * Tensor([[1.0, 10.0, 100.0]], dtype="float64")).sum().backward()
    assert v.grad.tolist() == [[100.0, 1.0, 10.0]]  # each value's gradient goes home


def test_topk_kthvalue_median_known_answers():
    x = Tensor([[3.0, 1.0, 4.0, 1.5, 9.0]])
    assert x.topk(2).values.tolist() == [[9.0, 4.0]] and x.topk(2).indices.tolist() == [[4, 2]]
    assert x.topk(2, largest=False).values.tolist() == [[1.0, 1.5]]
    assert x.kthvalue(2, dim=1).values.tolist() == [1.5]
    assert x.median().item() == 3.0  # 5 entries: the middle one
    assert Tensor([4.0, 1.0, 3.0, 2.0]).median().item() == 2.0  # even count: the lower middle
    values, indices = Tensor([[1.0, np.nan, 3.0], [3.0, 1.0, 2.0]]).median(dim=1)
    assert np.isnan(values.data[0]) and values.data[1] == 2.0 and indices.tolist() == [1, 2]
    with pytest.raises(RuntimeError, match="k=6 is out of range"):
        x.topk(6)
    with pytest.raises(RuntimeError, match="k=0 is out of range"):
        x.kthvalue(0)


def test_median_ties_share_the_gradient_as_pytorch():
    x = leaf([2.0, 1.0, 2.0, 3.0])
    x.median().backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5, 0.0]
    x = leaf([[2.0, 1.0, 2.0, 3.0]])
    values, indices = x.median(dim=1)
    values.sum().backward()  # with a dim: the gradient goes to the one index
    assert x.grad.sum() == 1.0 and x.grad[0, indices.item()] == 1.0


# ---------------------------------------------------------------- movement


def test_roll_known_answers_and_inverse_gradient():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert x.roll(1).tolist() == [[5.0, 0.0, 1.0], [2.0, 3.0, 4.0]]  # flattened
    assert x.roll((1, -1), (0, 1)).tolist() == [[4.0, 5.0, 3.0], [1.0, 2.0, 0.0]]
    assert groundup.roll(x, 1, 1).tolist() == [[2.0, 0.0, 1.0], [5.0, 3.0, 4.0]]
    w = leaf(np.arange(6.0).reshape(2, 3))
    (w.roll(1, 1) * Tensor([[1.0, 2.0, 3.0]] * 2, dtype="float64")).sum().backward()
    assert w.grad.tolist() == [[2.0, 3.0, 1.0]] * 2
    with pytest.raises(RuntimeError, match="same length"):
        x.roll((1, 2), (0,))


def test_diagonals_known_answers():
    m = Tensor(np.arange(12.0).reshape(3, 4))
    assert m.diagonal().tolist() == [0.0, 5.0, 10.0]
    assert m.diagonal(1).tolist() == [1.0, 6.0, 11.0]
    assert m.diagonal(-1).tolist() == [4.0, 9.0]
    assert groundup.diag(m, 5).shape == (0,)
    assert groundup.trace(m).item() == 15.0
    assert groundup.diag(Tensor([1.0, 2.0]), 1).tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    b = groundup.randn(2, 3, 4, generator=0)
    assert b.diagonal(0, 2, 0).shape == (3, 2)  # the diagonal becomes the last dim
    e = b.diag_embed(1)
    assert e.shape == (2, 3, 5, 5)
    np.testing.assert_array_equal(e.diagonal(1, -2, -1).data, b.data)  # its inverse
    with pytest.raises(RuntimeError, match="dim1 and dim2 must differ"):
        m.diagonal(0, 1, -1)


def test_repeats_known_answers():
    x = Tensor([[1, 2], [3, 4]])
    np.testing.assert_array_equal(x.repeat(2, 3).data, np.tile(x.data, (2, 3)))
    assert x.repeat(2, 1, 1).shape == (2, 2, 2)
    assert groundup.tile(x, (2,)).tolist() == [[1, 2, 1, 2], [3, 4, 3, 4]]
    assert x.repeat_interleave(2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert x.repeat_interleave(Tensor([1, 2]), dim=0).tolist() == [[1, 2], [3, 4], [3, 4]]
    assert groundup.repeat_interleave(Tensor([2, 0, 1])).tolist() == [0, 0, 2]
    w = leaf([1.0, 2.0])
    w.repeat(3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]  # each copy sends its gradient home
    with pytest.raises(RuntimeError, match="at least one per dim"):
        x.repeat(2)
    with pytest.raises(RuntimeError, match="repeat_interleave: repeats"):
        x.repeat_interleave(Tensor([1, 2, 3]), dim=0)


def test_meshgrid_and_expand_as():
    a, b = groundup.arange(2), groundup.arange(3)
    i, j = groundup.meshgrid(a, b, indexing="ij")
    assert i.tolist() == [[0, 0, 0], [1, 1, 1]] and j.tolist() == [[0, 1, 2], [0, 1, 2]]
    x, y = groundup.meshgrid([a, b], indexing="xy")
    assert x.shape == y.shape == (3, 2) and x.tolist()[0] == [0, 1]
    assert Tensor([1.0, 2.0]).expand_as(groundup.zeros(3, 2)).shape == (3, 2)


# ---------------------------------------------------------------- comparison, clamp, einsum


def test_isclose_allclose():
    a = Tensor([1.0, np.inf, np.nan, 1.0])
    b = Tensor([1.0 + 1e-9, np.inf, np.nan, 1.1])
    assert a.isclose(b).tolist() == [True, True, False, False]
    assert groundup.isclose(a, b, equal_nan=True).tolist() == [True, True, True, False]
    assert groundup.allclose(a[:2], b[:2]) is True and a.allclose(b) is False
    assert a.isclose(b, rtol=0.2).tolist()[3]


def test_clamp_with_tensor_bounds_sends_gradients_where_pytorch_does():
    x = leaf([-2.0, 0.5, 3.0, 1.0, np.nan, 0.2])
    lo = leaf([-1.0, 0.0, 0.0, 1.0, 0.0, 2.0])
    hi = leaf([1.0, 1.0, 2.0, 1.0, 1.0, 1.0])  # the last pair crosses: max < min
    y = x.clamp(lo, hi)
    np.testing.assert_array_equal(y.data, [-1.0, 0.5, 2.0, 1.0, np.nan, 1.0])
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]
    assert lo.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert hi.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    assert Tensor([1, 5]).clamp(min=Tensor(2)).tolist() == [2, 5]  # ints stay ints
    assert Tensor([1, 5]).clamp(min=Tensor(2.5)).dtype == np.float32
    assert groundup.clamp_min(Tensor([1.0, 5.0]), 2.0).tolist() == [2.0, 5.0]


def test_einsum_known_answers():
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4)
    A, B = Tensor(a, dtype="float64"), Tensor(b, dtype="float64")
    np.testing.assert_array_equal(groundup.einsum("ij,jk->ik", A, B).data, a @ b)
    np.testing.assert_array_equal(groundup.einsum("ij,jk", [A, B]).data, a @ b)  # implicit
    np.testing.assert_array_equal(groundup.einsum(A, [0, 1], B, [1, 2], [0, 2]).data, a @ b)
    np.testing.assert_array_equal(groundup.einsum("ji", A).data, a.T)  # implicit: sorted
    sq = Tensor(np.arange(9.0).reshape(3, 3))
    assert groundup.einsum("ii->i", sq).tolist() == [0.0, 4.0, 8.0]
    assert groundup.einsum("ii", sq).item() == 12.0
    c = np.random.default_rng(0).standard_normal((2, 5, 3, 4))
    np.testing.assert_allclose(groundup.einsum("...ij,jk->...ik", Tensor(c), Tensor(b.T)).data,
                               np.einsum("...ij,jk->...ik", c, b.T), rtol=1e-5)  # fmt: skip
    assert gradcheck(lambda x, y: groundup.einsum("bij,bjk->bik", x, y),
                     c[0], np.random.default_rng(1).standard_normal((5, 4, 2)))  # fmt: skip
    with pytest.raises(RuntimeError, match="names 2 operands, got 1"):
        groundup.einsum("ij,jk", A)
    with pytest.raises(RuntimeError, match="label 'j' has sizes 3 and 2"):
        groundup.einsum("ij,jk", A, A)
    with pytest.raises(RuntimeError, match="output label 'q'"):
        groundup.einsum("ij->q", A)


# ---------------------------------------------------------------- torch.<fn> spellings


def test_free_functions_are_the_methods():
    x = Tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    y = Tensor([[0.0, 1.0, 5.0], [1.0, 1.0, 1.0]])
    assert groundup.sum(x, 1).tolist() == x.sum(1).tolist()
    assert groundup.max(x, 1).indices.tolist() == [2, 1]
    assert groundup.max(x, y).tolist() == x.maximum(y).tolist()  # max(input, other)
    assert groundup.min(x).item() == -2.0
    assert groundup.amax(x).item() == 4.0 and groundup.amin(x, dim=1).tolist() == [-2.0, -1.0]
    np.testing.assert_allclose(groundup.softmax(x, 1).data.sum(1), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(x.log_softmax(1).exp().data, x.softmax(dim=1).data, rtol=1e-6)
    assert groundup.add(x, y, alpha=2).tolist() == (x + 2 * y).tolist()
    assert groundup.div(Tensor([7, -7]), 2, rounding_mode="floor").tolist() == [3, -4]
    assert groundup.div(Tensor([7, -7]), 2, rounding_mode="trunc").tolist() == [3, -3]
    assert groundup.div(Tensor([7.0, -7.0]), 2, rounding_mode="floor").tolist() == [3.0, -4.0]
    assert groundup.pow(2.0, Tensor([1.0, 3.0])).tolist() == [2.0, 8.0]
    assert groundup.cat([x, y], axis=1).shape == (2, 6)
    assert groundup.permute(x, (1, 0)).shape == (3, 2) and groundup.numel(x) == 6


def test_var_takes_pytorchs_unbiased_flag_as_its_second_argument():
    x = Tensor([[1.0, 2.0], [3.0, 5.0]], dtype="float64")
    assert x.var(0, True).tolist() == [2.0, 4.5]  # unbiased, as torch.var(x, 0, True)
    assert x.var(0, False, True).tolist() == [[1.0, 2.25]]  # biased, keepdim
    assert x.std(unbiased=False).item() == pytest.approx(x.std(correction=0).item())
    with pytest.raises(TypeError, match="unbiased or correction"):
        x.var(unbiased=True, correction=1)


def test_gather_of_a_0d_index_is_0d_as_pytorch():
    assert groundup.gather(Tensor([1.0, 2.0]), 0, Tensor(1)).shape == ()
    assert groundup.gather(Tensor(3.0), 0, Tensor([0])).shape == (1,)


def test_scatter_reduce_of_integers_without_self():
    x, s, idx = Tensor([[1, 2, 3]]), Tensor([[5, -1, 2]]), Tensor([[0, 0, 2]])
    got = {r: x.scatter_reduce(1, idx, s, r, include_self=False).tolist()
           for r in ("amax", "amin", "sum", "prod")}  # fmt: skip
    assert got == {"amax": [[5, 2, 2]], "amin": [[-1, 2, 2]], "sum": [[4, 2, 2]],
                   "prod": [[-5, 2, 2]]}  # fmt: skip
