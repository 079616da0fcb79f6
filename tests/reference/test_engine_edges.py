"""The engine on the edges where it used to differ from PyTorch: each case computes the
same thing in both and compares values and gradients (float64), nan where torch has nan."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import groundup  # noqa: E402
import groundup.nn.functional as functional  # noqa: E402
import groundup.nn.fused as fused  # noqa: E402
from groundup import Tensor  # noqa: E402


def both(fn, *arrays):
    """fn on groundup leaves and on torch leaves: (ours, theirs, our grads, their grads)."""
    ours = [Tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    refs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn on degrees of freedom <= 0
        y, r = fn(ours, "ours"), fn(refs, "torch")
        y.sum().backward()
        r.sum().backward()
    return y, r, [t.grad for t in ours], [t.grad.numpy() for t in refs]


def assert_same(fn, *arrays):
    y, r, g, gr = both(fn, *arrays)
    np.testing.assert_allclose(y.data, r.detach().numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(g, gr, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 4))


@pytest.mark.parametrize("dims", [(-1, 0, 1), (2, -3, -2), (-1, -2, -3)])
def test_permute_with_negative_dims(dims):
    assert_same(lambda t, _: t[0].permute(*dims) * 2, X)


@pytest.mark.parametrize(
    "fn",
    [
        lambda t, _: t[0].var(dim=0),  # N - correction = 0
        lambda t, _: t[0][:0].mean(dim=0),  # an empty dim
        lambda t, _: t[0][:0].var(dim=0, correction=0),
    ],
    ids=["var of one row", "mean of an empty dim", "var of an empty dim"],
)
def test_nothing_to_divide_by_gives_nan_like_torch(fn):
    assert_same(fn, RNG.standard_normal((1, 3)))


@pytest.mark.parametrize(
    "fn",
    [
        lambda t, _: t[0].sum(0),
        lambda t, _: t[0].sum(-1) * 3,
        lambda t, _: t[0].mean(0),
        lambda t, _: t[0].max(0)[0],
        lambda t, _: t[0].min(-1)[0],
        lambda t, _: t[0].squeeze(0) * 2,
        lambda t, lib: (functional if lib == "ours" else torch).softmax(t[0], 0),
        lambda t, lib: (fused if lib == "ours" else torch).softmax(t[0], -1),
        lambda t, lib: (functional if lib == "ours" else torch).log_softmax(t[0], 0),
        lambda t, lib: (fused if lib == "ours" else torch).log_softmax(t[0], -1),
    ],
)
def test_0d_tensors_take_dim_0_and_minus_1(fn):
    assert_same(fn, np.array(1.5))


@pytest.mark.parametrize("base", [0.0, 2.0, -2.0, 0.7])
def test_a_number_to_a_tensor_power(base):
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y, r, g, gr = both(lambda t, _: base ** t[0], x)
    np.testing.assert_allclose(y.data, r.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g[0], gr[0], rtol=1e-12)  # nan for a negative base in both


def test_the_gradient_of_x_to_the_0_is_0_even_at_0():
    assert_same(lambda t, _: t[0] ** 0, np.array([0.0, 1.0, -2.0]))


def test_a_number_to_an_int_tensor_power_is_the_default_float():
    assert (0.7 ** Tensor([1, 2])).dtype == np.float32
    assert (0.7 ** torch.tensor([1, 2])).dtype == torch.float32


@pytest.mark.parametrize(
    "data, dtype",
    [([True, False, True], np.bool_), ([3, 0, 2, 0], np.uint8), ([5, -1, 7], np.int64)],
)
def test_min_of_bools_and_ints(data, dtype):
    ours, ref = Tensor(np.array(data, dtype=dtype)), torch.tensor(np.array(data, dtype=dtype))
    assert ours.min().item() == ref.min().item()
    values, indices = ours.min(dim=0)
    want = ref.min(dim=0)
    assert values.item() == want.values.item() and indices.item() == want.indices.item()


def test_a_dim_out_of_range_is_torchs_index_error_and_our_value_error():
    x = groundup.zeros(2, 3)
    for call in (lambda: x.sum(dim=5), lambda: x.mean(dim=-3), lambda: x.max(dim=2)):
        with pytest.raises(IndexError, match="out of bounds"):
            call()
        with pytest.raises(ValueError):
            call()
    with pytest.raises(IndexError):
        torch.zeros(2, 3).sum(dim=5)


@pytest.mark.parametrize("tier", [functional, fused], ids=["functional", "fused"])
@pytest.mark.parametrize("mask_shape", [(4, 5), (1, 3, 4, 5)])
def test_a_float_attention_mask_that_requires_grad_gets_its_gradient(tier, mask_shape):
    q, k, v = (RNG.standard_normal((2, 3, s, 6)) for s in (4, 5, 5))
    m = RNG.standard_normal(mask_shape)

    def fn(t, lib):
        f = tier.scaled_dot_product_attention if lib == "ours" else (
            torch.nn.functional.scaled_dot_product_attention)  # fmt: skip
        return f(t[0], t[1], t[2], attn_mask=t[3])

    y, r, g, gr = both(fn, q, k, v, m)
    np.testing.assert_allclose(y.data, r.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(g, gr, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    # only the mask learns: the output is still in the graph
    mask = Tensor(m, dtype="float64", requires_grad=True)
    out = tier.scaled_dot_product_attention(*(Tensor(a, dtype="float64") for a in (q, k, v)),
                                            attn_mask=mask)  # fmt: skip
    assert out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(mask.grad, gr[3], rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: groundup.zeros(4).reshape(-1, -1, 2), lambda: torch.zeros(4).reshape(-1, -1, 2)),
        (lambda: groundup.zeros(2, 3).permute(0, 0), lambda: torch.zeros(2, 3).permute(0, 0)),
        (lambda: Tensor([2, 3]) ** -2, lambda: torch.tensor([2, 3]) ** -2),
        (lambda: groundup.zeros(3).clip(None, None), lambda: torch.zeros(3).clip(None, None)),
        (
            lambda: groundup.zeros(2, 3) @ groundup.zeros(2, 3),
            lambda: torch.zeros(2, 3) @ torch.zeros(2, 3),
        ),  # fmt: skip
    ],
    ids=["reshape -1 -1", "permute repeats", "int ** -2", "clip(None, None)", "matmul"],
)
def test_refusals_are_torchs_runtime_error_and_our_value_error(ours, theirs):
    with pytest.raises(RuntimeError):
        theirs()
    with pytest.raises(RuntimeError):
        ours()
    with pytest.raises(ValueError):
        ours()


@pytest.mark.parametrize(
    "expr",
    [
        lambda m: m([1, 2]) + 0.5,
        lambda m: 0.5 * m([1, 2]),
        lambda m: m([1, 2]) / m([2, 2]),
        lambda m: m([3]) / 2,
        lambda m: 1 / m([3]),
        lambda m: m([1, 4]) ** 0.5,
        lambda m: m([1, 4]) ** 2,
        lambda m: 0.7 ** m([1, 2]),
        lambda m: m([1, 2]).exp(),
        lambda m: m([1, 2]).sqrt(),
        lambda m: m([1, 2]) + 1,
        lambda m: m([1, 2]) * m([1.5, 2.0]),
    ],
)
def test_type_promotion_follows_torch(expr):
    ours, ref = expr(Tensor), expr(torch.tensor)
    assert str(ours.dtype) == str(ref.dtype).removeprefix("torch."), (ours.dtype, ref.dtype)
    np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-6)
