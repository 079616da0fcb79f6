"""Convolution, pooling, padding and resizing (groundup.nn.functional): known answers,
properties against plain NumPy loops written independently of im2col, the adjoint
identities, gradients (gradcheck) and errors. PyTorch parity is in tests/reference/."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import groundup
import groundup.nn.functional as F
from groundup import Tensor
from groundup.tensor import gradcheck
from groundup.tensor.function import DimError, OpError


def leaf(a):
    return Tensor(np.asarray(a, dtype=np.float64), dtype="float64", requires_grad=True)


# ---------------------------------------------------------------- references (plain NumPy)


def conv2d_loops(x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """Shift and add: for each kernel offset, the strided slice of the padded image that it
    multiplies, summed over the offsets (no windows, no im2col)."""
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    xp = np.pad(x, ((0, 0), (0, 0), pads[:2], pads[2:]))
    OH = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    OW = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, O, OH, OW))
    Og = O // groups
    for g in range(groups):
        xs = xp[:, g * Cg : (g + 1) * Cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[
                    :,
                    :,
                    i * dh : i * dh + sh * (OH - 1) + 1 : sh,
                    j * dw : j * dw + sw * (OW - 1) + 1 : sw,
                ]
                out[:, g * Og : (g + 1) * Og] += np.einsum(
                    "nchw,oc->nohw", patch, w[g * Og : (g + 1) * Og, :, i, j]
                )
    return out if b is None else out + b.reshape(1, O, 1, 1)


def pool2d_loops(x, k, s, p, reduce, ceil_mode=False, dilation=(1, 1)):
    """Every output position's window, one at a time; padding -inf (max) or 0 (mean)."""
    N, C, H, W = x.shape
    sizes = []
    for n, kk, st_, pp, d in zip((H, W), k, s, p, dilation, strict=True):
        span = d * (kk - 1) + 1
        out = (n + 2 * pp - span + (st_ - 1 if ceil_mode else 0)) // st_ + 1
        if ceil_mode and (out - 1) * st_ >= n + pp:
            out -= 1
        sizes.append(out)
    fill = -np.inf if reduce == "max" else 0.0
    big = np.full((N, C, H + 2 * p[0] + 2 * k[0] * s[0], W + 2 * p[1] + 2 * k[1] * s[1]), fill)
    big[:, :, p[0] : p[0] + H, p[1] : p[1] + W] = x
    out = np.zeros((N, C, *sizes))
    for i in range(sizes[0]):
        for j in range(sizes[1]):
            win = big[
                :,
                :,
                i * s[0] : i * s[0] + dilation[0] * (k[0] - 1) + 1 : dilation[0],
                j * s[1] : j * s[1] + dilation[1] * (k[1] - 1) + 1 : dilation[1],
            ]
            out[:, :, i, j] = win.max(axis=(2, 3)) if reduce == "max" else win.sum(axis=(2, 3))
    return out


# ---------------------------------------------------------------- conv2d


def test_conv2d_known_answers():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    box = np.ones((1, 1, 2, 2))
    y = F.conv2d(leaf(x), leaf(box))  # each output: the sum of a 2x2 block
    assert y.shape == (1, 1, 3, 3)
    assert y.data[0, 0].tolist() == [[10, 14, 18], [26, 30, 34], [42, 46, 50]]
    identity = np.zeros((1, 1, 3, 3))
    identity[0, 0, 1, 1] = 1.0
    np.testing.assert_array_equal(F.conv2d(leaf(x), leaf(identity), padding=1).data, x)
    # cross-correlation, not convolution: the kernel is not flipped
    edge = np.array([[[[-1.0, 1.0]]]])
    np.testing.assert_array_equal(F.conv2d(leaf(x), leaf(edge)).data, np.ones((1, 1, 4, 3)))


def test_conv2d_weight_gradient_is_the_input_window_sum():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = leaf(np.zeros((1, 1, 2, 2)))
    F.conv2d(leaf(x), w).sum().backward()
    assert w.grad[0, 0].tolist() == [[45.0, 54.0], [81.0, 90.0]]  # sums of x[i:i+3, j:j+3]


@st.composite
def conv_case(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    Cg, Og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    H = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0]), 7))
    W = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1]), 7))
    N = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((N, groups * Cg, H, W))
    w = rng.standard_normal((groups * Og, Cg, kh, kw))
    b = rng.standard_normal(groups * Og) if draw(st.booleans()) else None
    return x, w, b, stride, padding, dilation, groups


@given(conv_case())
def test_conv2d_equals_shift_and_add(case):
    x, w, b, stride, padding, dilation, groups = case
    got = F.conv2d(
        leaf(x), leaf(w), None if b is None else leaf(b), stride, padding, dilation, groups
    )
    pads = (padding[0], padding[0], padding[1], padding[1])
    want = conv2d_loops(x, w, b, stride, pads, dilation, groups)
    np.testing.assert_allclose(got.data, want, rtol=1e-10, atol=1e-10)


@given(conv_case(), st.integers(0, 2**32 - 1))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case, seed):
    # <conv2d(x, w), y> == <x, conv_transpose2d(y, w)>: its matrix is conv2d's, transposed
    x, w, _, stride, padding, dilation, groups = case
    y = F.conv2d(leaf(x), leaf(w), None, stride, padding, dilation, groups)
    g = np.random.default_rng(seed).standard_normal(y.shape)
    H, W = x.shape[2:]
    out_pad = tuple(
        n + 2 * p - ((o - 1) * s + d * (k - 1) + 1)  # the rows a stride > 1 rounded away
        for n, p, o, s, d, k in zip(
            (H, W), padding, y.shape[2:], stride, dilation, w.shape[2:], strict=True
        )
    )
    if any(o >= s and o >= d for o, s, d in zip(out_pad, stride, dilation, strict=True)):
        return  # no conv_transpose2d reaches this size (PyTorch refuses it too)
    back = F.conv_transpose2d(leaf(g), leaf(w), None, stride, padding, out_pad, groups, dilation)
    assert back.shape == x.shape
    np.testing.assert_allclose((y.data * g).sum(), (x * back.data).sum(), rtol=1e-9, atol=1e-9)


def test_conv_transpose2d_stamps_the_kernel():
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 0] = 2.0  # one pixel
    w = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    y = F.conv_transpose2d(leaf(x), leaf(w), stride=2)
    assert y.shape == (1, 1, 4, 4)
    want = np.zeros((4, 4))
    want[2:4, 0:2] = 2.0 * w[0, 0]
    np.testing.assert_array_equal(y.data[0, 0], want)
    overlap = F.conv_transpose2d(leaf(np.ones((1, 1, 1, 2))), leaf(np.ones((1, 1, 1, 2))))
    assert overlap.data[0, 0].tolist() == [[1.0, 2.0, 1.0]]  # stamps add where they overlap


def test_conv1d_equals_conv2d_one_row_high():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 9)), rng.standard_normal((6, 2, 3)), rng.standard_normal(6)
    got = F.conv1d(leaf(x), leaf(w), leaf(b), stride=2, padding=1, dilation=2, groups=2)
    want = conv2d_loops(x[:, :, None], w[:, :, None], b, (1, 2), (0, 0, 1, 1), (1, 2), 2)[:, :, 0]
    np.testing.assert_allclose(got.data, want, rtol=1e-12)
    same = F.conv1d(leaf(x), leaf(rng.standard_normal((3, 4, 4))), padding="same")
    assert same.shape == (2, 3, 9)  # an even kernel: one more zero at the end, as PyTorch
    assert F.conv1d(leaf(x[0]), leaf(w), groups=2).shape == (6, 7)  # unbatched


def test_conv2d_padding_strings_and_unbatched_input():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 5, 6)), rng.standard_normal((2, 3, 2, 3))
    assert F.conv2d(leaf(x), leaf(w), padding="same").shape == (2, 5, 6)
    assert F.conv2d(leaf(x), leaf(w), padding="valid").shape == (2, 4, 4)
    same = F.conv2d(leaf(x), leaf(w), padding="same", dilation=2).data
    want = conv2d_loops(x[None], w, None, (1, 1), (1, 1, 2, 2), (2, 2))[0]
    np.testing.assert_allclose(same, want, rtol=1e-12)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
        lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=(1, 2)),
        lambda x, w, b: F.conv2d(x[:, :2], w[:, :1], b, groups=2),
        lambda x, w, b: F.conv_transpose2d(x, w[:4, :2], b[:2], stride=2, output_padding=1),
        lambda x, w, b: F.conv_transpose2d(x, w[:4, :1], b[:2], groups=2, dilation=2),
        lambda x, w, b: F.conv1d(x[..., 0], w[..., 0], b, padding=1),
    ],
    ids=["strided", "same", "groups", "transpose", "transpose-groups", "conv1d"],
)
def test_conv_gradcheck(fn):
    rng = np.random.default_rng(2)
    x, w, b = (
        rng.standard_normal((2, 4, 5, 4)),
        rng.standard_normal((4, 4, 2, 3)),
        rng.standard_normal(4),
    )
    assert gradcheck(fn, x, w, b)


def test_conv_errors_match_pytorch_wording_and_types():
    x = groundup.zeros(2, 4, 5, 5)
    with pytest.raises(OpError, match=r"expected input\[2, 4, 5, 5\] to have 3 channels"):
        F.conv2d(x, groundup.zeros(8, 3, 3, 3))
    with pytest.raises(RuntimeError, match="expected weight to be divisible by 2 at dimension 0"):
        F.conv2d(x, groundup.zeros(3, 2, 3, 3), groups=2)
    with pytest.raises(OpError, match="Kernel size can't be greater than actual input size"):
        F.conv2d(groundup.zeros(1, 4, 2, 2), groundup.zeros(4, 4, 3, 3))
    with pytest.raises(OpError, match=r"conv2d: expected 3D \(unbatched\) or 4D \(batched\)"):
        F.conv2d(groundup.zeros(5, 5), groundup.zeros(4, 4, 3, 3))
    with pytest.raises(OpError, match="padding='same' is not supported for strided"):
        F.conv2d(x, groundup.zeros(4, 4, 3, 3), padding="same", stride=2)
    with pytest.raises(OpError, match="Invalid padding string: 'full'"):
        F.conv2d(x, groundup.zeros(4, 4, 3, 3), padding="full")
    with pytest.raises(OpError, match="expected bias to be 1-dimensional with 4 elements"):
        F.conv2d(x, groundup.zeros(4, 4, 3, 3), groundup.zeros(3))
    with pytest.raises(OpError, match="non-positive stride"):
        F.conv2d(x, groundup.zeros(4, 4, 3, 3), stride=0)
    with pytest.raises(OpError, match="a list of 2 values"):
        F.conv2d(x, groundup.zeros(4, 4, 3, 3), stride=(1, 2, 3))
    with pytest.raises(OpError, match="expected one dtype"):
        F.conv2d(x, groundup.zeros(4, 4, 3, 3, dtype="float64"))
    with pytest.raises(OpError, match="output padding must be smaller than either stride"):
        F.conv_transpose2d(x, groundup.zeros(4, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(OpError, match="Output size is too small"):
        F.conv_transpose2d(x, groundup.zeros(4, 2, 3, 3), padding=5)


# ---------------------------------------------------------------- pooling


@st.composite
def pool_case(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = tuple(draw(st.integers(0, (dd * (kk - 1) + 1) // 2)) for kk, dd in zip(k, d, strict=True))
    H = draw(st.integers(max(1, d[0] * (k[0] - 1) + 1 - 2 * p[0]), 7))
    W = draw(st.integers(max(1, d[1] * (k[1] - 1) + 1 - 2 * p[1]), 7))
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal((2, 3, H, W))
    return x, k, s, p, d, draw(st.booleans())


@given(pool_case())
def test_max_pool2d_equals_loops_and_indices_point_at_the_maxima(case):
    x, k, s, p, d, ceil_mode = case
    values, idx = F.max_pool2d(leaf(x), k, s, p, d, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(values.data, pool2d_loops(x, k, s, p, "max", ceil_mode, d))
    real = np.isfinite(values.data)  # a window of only padding is -inf (as in PyTorch)
    flat = x.reshape(2, 3, -1)
    picked = np.take_along_axis(flat, np.where(real, idx.data, 0).reshape(2, 3, -1), axis=2)
    np.testing.assert_array_equal(picked.reshape(values.shape)[real], values.data[real])


@given(pool_case(), st.booleans())
def test_avg_pool2d_equals_loops(case, count_include_pad):
    x, k, s, p, _, ceil_mode = case
    p = tuple(min(pp, kk // 2) for pp, kk in zip(p, k, strict=True))
    got = F.avg_pool2d(leaf(x), k, s, p, ceil_mode, count_include_pad)
    sums = pool2d_loops(x, k, s, p, "sum", ceil_mode)
    ones = pool2d_loops(np.ones_like(x), k, s, p, "sum", ceil_mode)  # the real entries
    if count_include_pad:  # padding counts, the ceil_mode overhang does not (PyTorch)
        ones = _counts_with_pad(x.shape[2:], k, s, p, sums.shape[2:])
    np.testing.assert_allclose(got.data, sums / ones, rtol=1e-12)


def _counts_with_pad(hw, k, s, p, out):
    """Each window's size once clipped to the padded image [-p, n + p)."""
    counts = []
    for n, kk, st_, pp, o in zip(hw, k, s, p, out, strict=True):
        starts = np.arange(o) * st_ - pp
        counts.append(np.minimum(starts + kk, n + pp) - starts)
    return np.multiply.outer(*counts)


def test_pool_known_answers():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    v, i = F.max_pool2d(leaf(x), 2, ceil_mode=True, return_indices=True)
    assert v.data[0, 0].tolist() == [[6, 8, 9], [16, 18, 19], [21, 23, 24]]
    assert i.data[0, 0].tolist() == [[6, 8, 9], [16, 18, 19], [21, 23, 24]]
    ones = np.ones((1, 1, 5, 5))
    a = F.avg_pool2d(leaf(ones), 3, stride=2, padding=1, ceil_mode=True)
    np.testing.assert_allclose(
        a.data[0, 0], [[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9], [4 / 9, 6 / 9, 4 / 9]]
    )
    b = F.avg_pool2d(leaf(ones), 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(b.data, np.ones((1, 1, 3, 3)))
    c = F.avg_pool2d(leaf(np.ones((1, 1, 4, 4))), 3, stride=2, padding=1, ceil_mode=True)
    np.testing.assert_allclose(c.data[0, 0, 2], [1 / 3, 1 / 2, 1 / 4])  # the overhang never counts
    np.testing.assert_allclose(F.avg_pool2d(leaf(ones), 2, divisor_override=3).data, 4 / 3)


def test_max_pool_gradient_goes_to_the_first_maximum():
    x = leaf([[[[1.0, 1.0], [0.0, 1.0]]]])  # a tie: the first one in row-major order wins
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad[0, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_pool1d_and_unbatched_and_int_input():
    x = np.arange(10.0).reshape(1, 2, 5)
    v, i = F.max_pool1d(leaf(x), 2, return_indices=True)
    assert v.data.tolist() == [[[1, 3], [6, 8]]] and i.data.tolist() == [[[1, 3], [1, 3]]]
    assert F.avg_pool1d(leaf(x), 3, 1, 1).data[0, 0].tolist() == [1 / 3, 1, 2, 3, 7 / 3]
    assert F.max_pool2d(leaf(np.ones((3, 4, 4))), 2).shape == (3, 2, 2)  # (C, H, W)
    assert F.max_pool2d(Tensor(np.arange(16).reshape(1, 1, 4, 4)), 2).tolist() == [
        [[[5, 7], [13, 15]]]
    ]


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.max_pool2d(x, 3, 2, 1),
        lambda x: F.max_pool2d(x, (2, 3), 1, 0, (2, 1), ceil_mode=True),
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
        lambda x: F.max_pool1d(x[:, :, 0], 2, 1),
        lambda x: F.avg_pool1d(x[:, :, 0], 2, ceil_mode=True),
    ],
    ids=["max", "max-dilated-ceil", "avg", "adaptive", "max1d", "avg1d"],
)
def test_pool_gradcheck(fn):
    x = np.random.default_rng(3).permutation(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) / 10.0  # no ties
    assert gradcheck(fn, x)


def test_adaptive_avg_pool_tiles_the_image():
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 8))
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(leaf(x), (3, 2)).data, F.avg_pool2d(leaf(x), (2, 4)).data, rtol=1e-12
    )
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(leaf(x), 1).data, x.mean(axis=(2, 3), keepdims=True), rtol=1e-12
    )
    odd = F.adaptive_avg_pool1d(leaf(np.arange(5.0).reshape(1, 1, 5)), 3)  # windows overlap
    np.testing.assert_allclose(odd.data[0, 0], [0.5, 2.0, 3.5])  # [0 1], [1 2 3], [3 4]
    assert F.adaptive_avg_pool2d(leaf(x), (None, 4)).shape == (2, 3, 6, 4)


def test_pool_errors():
    x = groundup.zeros(2, 3, 5, 5)
    with pytest.raises(OpError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(OpError, match="Output size is too small"):
        F.max_pool2d(x, 6)
    with pytest.raises(OpError, match="stride should be greater than zero"):
        F.avg_pool2d(x, 2, stride=0)
    with pytest.raises(OpError, match="divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(OpError, match="kernel_size must either be a single int, or a tuple of two"):
        F.max_pool2d(x, (2, 2, 2))
    with pytest.raises(OpError, match="max_pool2d: expected 3D or 4D"):
        F.max_pool2d(groundup.zeros(5, 5), 2)
    with pytest.raises(IndexError):  # PyTorch raises IndexError for avg_pool2d of 2-D input
        F.avg_pool2d(groundup.zeros(5, 5), 2)


# ---------------------------------------------------------------- pad, unfold, fold


@pytest.mark.parametrize(
    "mode, numpy_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")]
)
def test_pad_modes_equal_numpy_pad(mode, numpy_mode):
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5))
    got = F.pad(leaf(x), (2, 1, 3, 0), mode)
    want = np.pad(x, ((0, 0), (0, 0), (3, 0), (2, 1)), mode=numpy_mode)
    np.testing.assert_array_equal(got.data, want)
    assert gradcheck(lambda t: F.pad(t, (2, 1, 3, 0), mode), x)


def test_pad_constant_negative_and_known_answers():
    x = np.arange(6.0).reshape(2, 3)
    y = F.pad(leaf(x), (1, -1, 0, 1), value=9.0)  # a negative amount crops
    assert y.data.tolist() == [[9, 0, 1], [9, 3, 4], [9, 9, 9]]
    assert F.pad(leaf([[1.0, 2.0, 3.0]]), (2, 2), "reflect").data.tolist() == [
        [3, 2, 1, 2, 3, 2, 1]
    ]
    assert F.pad(Tensor([1, 2]), (1, 1), value=2.5).tolist() == [2, 1, 2, 2]  # int stays int
    assert gradcheck(lambda t: F.pad(t, (1, -1, 2, 1), value=3.0), x)


def test_pad_errors():
    x = groundup.zeros(1, 2, 3, 5)
    with pytest.raises(OpError, match="Padding length must be divisible by 2"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D"):
        F.pad(x, (1, 1), "reflect")
    with pytest.raises(OpError, match="Padding size should be less than the corresponding input"):
        F.pad(x, (5, 1, 1, 1), "reflect")
    with pytest.raises(OpError, match="wrapping around more than once"):
        F.pad(x, (6, 1, 1, 1), "circular")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode"):
        F.pad(x, (1, 1), "symmetric")
    with pytest.raises(OpError, match="doesn't take in value"):
        F.pad(x, (1, 1, 1, 1), "reflect", value=2.0)


@given(conv_case(), st.integers(0, 2**32 - 1))
def test_fold_is_the_adjoint_of_unfold_and_im2col_gives_conv(case, seed):
    x, w, _, stride, padding, dilation, _ = case
    cols = F.unfold(leaf(x), w.shape[2:], dilation, padding, stride)
    N, C = x.shape[:2]
    assert cols.shape[:2] == (N, C * w.shape[2] * w.shape[3])
    g = np.random.default_rng(seed).standard_normal(cols.shape)
    back = F.fold(leaf(g), x.shape[2:], w.shape[2:], dilation, padding, stride)
    np.testing.assert_allclose((cols.data * g).sum(), (x * back.data).sum(), rtol=1e-9, atol=1e-9)
    if x.shape[1] == w.shape[1]:  # groups 1: conv2d is the filters times the columns
        y = F.conv2d(leaf(x), leaf(w), None, stride, padding, dilation)
        flat = (w.reshape(w.shape[0], -1) @ cols.data).reshape(y.shape)
        np.testing.assert_allclose(flat, y.data, rtol=1e-10, atol=1e-10)


def test_fold_of_unfold_counts_windows():
    counts = F.fold(F.unfold(leaf(np.ones((1, 1, 3, 3))), 2), (3, 3), 2)
    assert counts.data[0, 0].tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    assert F.unfold(leaf(np.ones((2, 3, 4))), 2).shape == (8, 6)  # unbatched (C, H, W)


# ---------------------------------------------------------------- interpolate


def test_interpolate_known_answers():
    x = leaf(np.array([[[0.0, 1.0]]]))
    assert F.interpolate(x, scale_factor=2).data.tolist() == [[[0, 0, 1, 1]]]
    assert F.interpolate(x, size=4, mode="linear").data.tolist() == [[[0, 0.25, 0.75, 1]]]
    ends = F.interpolate(x, size=5, mode="linear", align_corners=True).data
    np.testing.assert_allclose(ends, [[[0, 0.25, 0.5, 0.75, 1]]])
    img = np.random.default_rng(6).standard_normal((2, 3, 4, 5))
    np.testing.assert_array_equal(
        F.interpolate(leaf(img), scale_factor=(2, 3)).data, img.repeat(2, axis=2).repeat(3, axis=3)
    )
    ramp = np.add.outer(np.arange(4.0), 10 * np.arange(5.0))[None, None]  # linear in h and w
    up = F.interpolate(leaf(ramp), size=(7, 9), mode="bilinear", align_corners=True).data
    np.testing.assert_allclose(
        up[0, 0], np.add.outer(np.linspace(0, 3, 7), 10 * np.linspace(0, 4, 9))
    )
    cubic = F.interpolate(leaf(ramp), size=(7, 9), mode="bicubic", align_corners=True).data
    inner = (..., slice(2, 4), slice(2, 6))  # where all 4 taps lie inside the image
    np.testing.assert_allclose(cubic[inner], up[inner], atol=1e-12)  # cubic reproduces a ramp
    area = F.interpolate(leaf(img), size=(2, 5), mode="area").data
    np.testing.assert_allclose(area, (img[:, :, ::2] + img[:, :, 1::2]) / 2)


@pytest.mark.parametrize(
    "mode, kw",
    [
        ("nearest", {}),
        ("nearest-exact", {}),
        ("bilinear", {"align_corners": False}),
        ("bilinear", {"align_corners": True}),
        ("bicubic", {"align_corners": False}),
    ],
)
def test_interpolate_gradcheck(mode, kw):
    x = np.random.default_rng(7).standard_normal((1, 2, 3, 4))
    assert gradcheck(lambda t: F.interpolate(t, size=(5, 3), mode=mode, **kw), x)


def test_interpolate_errors():
    x = groundup.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D"):
        F.interpolate(x, size=2, mode="linear")
    with pytest.raises(OpError, match="sizes should be greater than 0"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        F.interpolate(Tensor(np.zeros((1, 1, 2, 2), dtype=int)), size=3)


def test_dimerror_for_unfold_of_a_matrix():
    with pytest.raises(DimError):
        F.unfold(groundup.zeros(4, 4), 2)
