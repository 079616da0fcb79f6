"""The sliding-window primitive under convolution and pooling: ``Tensor.unfold`` (a view)
and its adjoint ``Fold`` (windows summed back), known answers, properties and gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import groundup
from groundup import Tensor
from groundup.tensor import gradcheck, ops
from groundup.tensor.function import DimError, OpError


def test_unfold_known_answer_and_its_gradient_counts_the_windows():
    x = groundup.arange(6.0).requires_grad_()
    y = x.unfold(0, 3, 2)  # windows [0 1 2] [2 3 4]: the last entry (5) starts no window
    assert y.tolist() == [[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 2.0, 1.0, 1.0, 0.0]  # 2 is in both windows


def test_unfold_of_a_matrix_puts_the_window_last():
    x = Tensor(np.arange(12).reshape(3, 4))
    y = x.unfold(1, 2, 1)
    assert y.shape == (3, 3, 2)
    assert y[1].tolist() == [[4, 5], [5, 6], [6, 7]]
    assert x.unfold(0, 3, 3).tolist() == [[[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]]


def test_unfold_is_a_view_of_the_input():
    x = Tensor(np.arange(10.0))
    y = x.unfold(0, 4, 3)
    assert np.shares_memory(y.data, x.data)


def test_unfold_edges_as_pytorch():
    assert Tensor(5.0).unfold(0, 1, 1).tolist() == [5.0]  # a 0-d tensor: one window of 1
    assert groundup.arange(10).unfold(0, 0, 2).shape == (6, 0)  # empty windows, as torch
    assert groundup.arange(10).unfold(-1, 10, 4).shape == (1, 10)
    with pytest.raises(
        OpError, match="maximum size for tensor at dimension 0 is 10 but size is 11"
    ):
        groundup.arange(10).unfold(0, 11, 1)
    with pytest.raises(OpError, match="step is 0 but must be > 0"):
        groundup.arange(10).unfold(0, 3, 0)
    with pytest.raises(DimError, match="unfold: dimension 1 is out of range"):
        groundup.arange(10).unfold(1, 3, 1)
    with pytest.raises(IndexError):  # PyTorch's type
        groundup.arange(10).unfold(-2, 3, 1)


def test_dilated_windows_skip_entries():
    x = np.arange(7.0)
    w = ops.unfold_windows(x, 0, 3, 2, 2)  # entries 2 apart, a window every 2
    assert w.tolist() == [[0.0, 2.0, 4.0], [2.0, 4.0, 6.0]]


@st.composite
def windows_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    dim = draw(st.integers(0, len(shape) - 1))
    dilation = draw(st.integers(1, 3))
    size = draw(st.integers(1, 3))
    span = dilation * (size - 1) + 1
    if span > shape[dim]:
        shape = shape[:dim] + (span + draw(st.integers(0, 3)),) + shape[dim + 1 :]
    step = draw(st.integers(1, 4))
    return shape, dim, size, step, dilation


@given(windows_case(), st.integers(0, 2**32 - 1))
def test_fold_is_the_adjoint_of_unfold(case, seed):
    # <unfold(x), w> == <x, fold(w)> for all x, w: Fold is exactly Unfold's backward
    shape, dim, size, step, dilation = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    windows = ops.unfold_windows(x, dim, size, step, dilation)
    w = rng.standard_normal(windows.shape)
    folded = ops.fold_windows(w, dim, shape[dim], step, dilation)
    assert folded.shape == x.shape
    np.testing.assert_allclose((windows * w).sum(), (x * folded).sum(), rtol=1e-12, atol=1e-12)


@given(windows_case(), st.integers(0, 2**32 - 1))
def test_unfold_matches_explicit_windows(case, seed):
    shape, dim, size, step, dilation = case
    x = np.random.default_rng(seed).standard_normal(shape)
    got = ops.unfold_windows(x, dim, size, step, dilation)
    moved = np.moveaxis(x, dim, -1)
    starts = range(0, shape[dim] - dilation * (size - 1), step)
    want = np.stack([moved[..., s : s + dilation * size : dilation] for s in starts], axis=-2)
    np.testing.assert_array_equal(got, np.moveaxis(want, -2, dim))


@pytest.mark.parametrize("dim, size, step, dilation", [(0, 2, 1, 1), (1, 3, 2, 1), (1, 2, 1, 2)])
def test_unfold_and_fold_gradcheck(dim, size, step, dilation):
    x = np.random.default_rng(0).standard_normal((3, 7))
    assert gradcheck(
        lambda t: ops.Unfold.apply(t, dim=dim, size=size, step=step, dilation=dilation), x
    )
    windows = ops.unfold_windows(x, dim, size, step, dilation).copy()
    assert gradcheck(
        lambda t: ops.Fold.apply(t, dim=dim, length=x.shape[dim] + 1, step=step, dilation=dilation),
        windows,
    )
