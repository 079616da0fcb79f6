"""Every tensor op and fused function against PyTorch: one table, random shapes.

Each row of ``CASES`` draws (with hypothesis) input arrays, with broadcasting shapes and
transposed or strided (non-contiguous) layouts, and a function written once against a
namespace ``m`` that is either ours (groundup + groundup.nn.functional) or PyTorch's. The
test runs both, backpropagates the same random output gradient, and compares the output
and every input's gradient: float64 within 1e-10 (forward) and 1e-8 (gradients), float32
within 1e-5 relative to the largest reference entry. ``gradcheck`` is the second reference.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

import groundup  # noqa: E402
import groundup.nn.functional as GF  # noqa: E402
import groundup.nn.fused as fused  # noqa: E402
from groundup import Tensor  # noqa: E402
from groundup.tensor import gradcheck  # noqa: E402

# ---------------------------------------------------------------- the two namespaces


class Ours:
    lib = groundup
    F = GF

    @staticmethod
    def ints(a: np.ndarray) -> Any:
        return a

    @staticmethod
    def amax(x: Any, dim: Any, keepdim: bool = False) -> Any:
        return x.max(dim=dim, keepdim=keepdim)

    @staticmethod
    def cross_entropy(x: Any, t: np.ndarray, **kw: Any) -> Any:
        return GF.cross_entropy(x, t, **kw)


class OursFused(Ours):
    """The same namespace with the fast tier (groundup.nn.fused) as F."""

    F = fused

    @staticmethod
    def cross_entropy(x: Any, t: np.ndarray, **kw: Any) -> Any:
        return fused.cross_entropy(x, t, **kw)


class Ref:
    lib = torch
    F = TF

    @staticmethod
    def ints(a: np.ndarray) -> Any:
        return torch.as_tensor(a)

    @staticmethod
    def amax(x: Any, dim: Any, keepdim: bool = False) -> Any:
        return x.amax(dim=dim, keepdim=keepdim) if dim is not None else x.max()

    @staticmethod
    def cross_entropy(x: Any, t: np.ndarray, **kw: Any) -> Any:
        # PyTorch wants classes in dim 1; we take them last: flatten (B, T, C) to (B*T, C)
        if kw.get("ignore_index") is None:
            kw.pop("ignore_index", None)
        out = TF.cross_entropy(x.reshape(-1, x.shape[-1]), torch.as_tensor(t).reshape(-1), **kw)
        return out.reshape(t.shape) if kw.get("reduction") == "none" else out


# ---------------------------------------------------------------- strategies

dims = st.integers(1, 4)
shapes = st.lists(dims, min_size=1, max_size=3).map(tuple)


@st.composite
def array(draw: Any, shape: tuple[int, ...], positive: bool = False) -> np.ndarray:
    """Random normal data in a random memory layout: C order, transposed or strided."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    layout = draw(st.sampled_from(["c", "transposed", "strided"]))
    if layout == "transposed":
        a = np.ascontiguousarray(a.T).T  # same values, Fortran order: not C-contiguous
    elif layout == "strided" and a.ndim:
        big = np.zeros(shape[:-1] + (2 * shape[-1],))
        big[..., ::2] = a
        a = big[..., ::2]
    return a


@st.composite
def broadcast_pair(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast: the second drops leading dims and/or sets some to 1."""
    a = draw(shapes)
    b = list(a[draw(st.integers(0, len(a) - 1)) :])
    b = [1 if draw(st.booleans()) else n for n in b]
    return (a, tuple(b)) if draw(st.booleans()) else (tuple(b), a)


def dim_of(draw: Any, ndim: int) -> int:
    return draw(st.integers(-ndim, ndim - 1))


# Each case: draw -> (float arrays that require grad, fn(m, *tensors) -> tensor)
Case = Callable[[Any], tuple[list[np.ndarray], Callable[..., Any]]]


def binary(fn: Callable[[Any, Any], Any], positive_b: bool = False) -> Case:
    def build(draw: Any) -> Any:
        sa, sb = draw(broadcast_pair())
        return [draw(array(sa)), draw(array(sb, positive_b))], lambda m, a, b: fn(a, b)

    return build


def unary(fn: Callable[[Any], Any], positive: bool = False) -> Case:
    def build(draw: Any) -> Any:
        return [draw(array(draw(shapes), positive))], lambda m, a: fn(a)

    return build


def reduction(method: str, **extra: Any) -> Case:
    def build(draw: Any) -> Any:
        shape = draw(shapes)
        nd = len(shape)
        choice = draw(st.sampled_from(["none", "int", "tuple"]))
        keep = draw(st.booleans())
        if choice == "none":
            dim: Any = None
        elif choice == "int":
            dim = dim_of(draw, nd)
        else:
            dim = tuple(sorted(draw(st.sets(st.integers(0, nd - 1), min_size=1))))
        kw = dict(extra)
        if method == "var":  # need N - correction > 0
            n = int(np.prod([shape[d] for d in ([dim] if isinstance(dim, int) else dim or [])]))
            n = n if dim is not None else int(np.prod(shape))
            kw["correction"] = draw(st.sampled_from([0, 1])) if n > 1 else 0
        if dim is None:
            return [draw(array(shape))], lambda m, a: getattr(a, method)(**kw)
        return [draw(array(shape))], lambda m, a: getattr(a, method)(dim=dim, keepdim=keep, **kw)

    return build


def case_max_dim(draw: Any) -> Any:
    shape = draw(shapes)
    dim, keep = dim_of(draw, len(shape)), draw(st.booleans())
    return [draw(array(shape))], lambda m, a: a.max(dim=dim, keepdim=keep).values


def case_amax(draw: Any) -> Any:
    shape = draw(shapes)
    dim = draw(st.one_of(st.none(), st.sets(st.integers(0, len(shape) - 1), min_size=1)))
    dim = None if dim is None else tuple(sorted(dim))
    keep = draw(st.booleans()) and dim is not None
    return [draw(array(shape))], lambda m, a: m.amax(a, dim, keep)


def case_matmul(draw: Any) -> Any:
    n, k, p = draw(dims), draw(dims), draw(dims)
    kinds = ["2d", "batched", "broadcast", "3d@2d", "2d@3d", "vec@mat", "mat@vec", "vec@vec"]
    kind = draw(st.sampled_from(kinds))
    batch = tuple(draw(st.lists(dims, min_size=1, max_size=2)))
    sa, sb = {
        "2d": ((n, k), (k, p)),
        "batched": (batch + (n, k), batch + (k, p)),
        "broadcast": (batch + (n, k), (1,) + batch[1:] + (k, p)),
        "3d@2d": (batch + (n, k), (k, p)),
        "2d@3d": ((n, k), batch + (k, p)),
        "vec@mat": ((k,), batch + (k, p)),
        "mat@vec": (batch + (n, k), (k,)),
        "vec@vec": ((k,), (k,)),
    }[kind]
    return [draw(array(sa)), draw(array(sb))], lambda m, a, b: a @ b


def case_reshape(draw: Any) -> Any:
    shape = draw(shapes)
    size = int(np.prod(shape))
    new = draw(st.sampled_from([(size,), (1, size), (size, 1), (-1,), (1, -1, 1)]))
    method = draw(st.sampled_from(["reshape", "view"]))
    # PyTorch refuses .view on some strided inputs; ours copies there, like reshape
    return [draw(array(shape))], lambda m, a: getattr(a, method if m is Ours else "reshape")(*new)


def case_expand(draw: Any) -> Any:
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    lead = draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    # a size-1 dimension grows to 3 (its gradient sums the copies), others keep theirs (-1)
    sizes = lead + tuple(3 if s == 1 and draw(st.booleans()) else -1 for s in shape)
    return [draw(array(shape))], lambda m, a: a.expand(*sizes)


def case_clamp(draw: Any) -> Any:
    lo, hi = draw(st.sampled_from([(-0.5, 0.7), (None, 0.3), (-0.2, None), (0.1, 0.1)]))
    return [draw(array(draw(shapes)))], lambda m, a: a.clamp(lo, hi)


def case_transpose(draw: Any) -> Any:
    shape = draw(st.lists(dims, min_size=2, max_size=3).map(tuple))
    d0, d1 = dim_of(draw, len(shape)), dim_of(draw, len(shape))
    return [draw(array(shape))], lambda m, a: a.transpose(d0, d1) * 1.0


def case_permute(draw: Any) -> Any:
    shape = draw(shapes)
    perm = tuple(draw(st.permutations(range(len(shape)))))
    return [draw(array(shape))], lambda m, a: a.permute(*perm) * 1.0


def case_getitem(draw: Any) -> Any:
    shape = draw(st.lists(st.integers(2, 4), min_size=2, max_size=3).map(tuple))
    kind = draw(st.sampled_from(["slice", "int", "none", "ints", "ints2", "neg"]))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    ids = rng.integers(0, shape[0], size=5)  # repeats likely: gradients must add up
    ids2 = rng.integers(0, shape[1], size=5)

    def fn(m: Any, a: Any) -> Any:
        if kind == "slice":
            return a[1:, ::2]
        if kind == "int":
            return a[1]
        if kind == "none":
            return a[None, :, 0]
        if kind == "ints":
            return a[m.ints(ids)]
        if kind == "ints2":
            return a[m.ints(ids), m.ints(ids2)]
        return a[-1, 1:]

    return [draw(array(shape))], fn


def case_masked_fill(draw: Any) -> Any:
    sa, sm = draw(broadcast_pair())
    full = np.broadcast_shapes(sa, sm)
    sa = full  # the filled tensor has the full shape; the mask broadcasts
    mask = np.random.default_rng(draw(st.integers(0, 1000))).random(sm) < 0.5
    return [draw(array(sa))], lambda m, a: a.masked_fill(m.ints(mask), -3.0)


def case_where(draw: Any) -> Any:
    sa, sb = draw(broadcast_pair())
    cond = np.random.default_rng(draw(st.integers(0, 1000))).random(sa) < 0.5
    return [draw(array(sa)), draw(array(sb))], lambda m, a, b: m.lib.where(m.ints(cond), a, b)


def case_cat_stack(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    n = draw(st.integers(1, 3))
    arrays = []
    for _ in range(n):
        s = list(shape)
        s[dim] = draw(dims)
        arrays.append(draw(array(tuple(s))))
    if draw(st.booleans()):
        return arrays, lambda m, *ts: m.lib.cat(list(ts), dim=dim)
    same = [draw(array(shape)) for _ in range(n)]
    sdim = draw(st.integers(-len(shape) - 1, len(shape)))
    return same, lambda m, *ts: m.lib.stack(list(ts), dim=sdim)


def case_compose_shapes(draw: Any) -> Any:
    shape = draw(st.lists(dims, min_size=2, max_size=3).map(tuple))
    which = draw(st.sampled_from(["unsqueeze", "squeeze", "flatten", "split", "T"]))

    def fn(m: Any, a: Any) -> Any:
        if which == "unsqueeze":
            return a.unsqueeze(1)
        if which == "squeeze":
            return a.unsqueeze(0).squeeze(0)
        if which == "flatten":
            return a.flatten(1)
        if which == "split":
            return m.lib.cat(list(a.split(1, dim=0))[::-1], dim=0)
        return a.flatten(1).T * 1.0  # .T of a matrix (PyTorch deprecates it on other ranks)

    return [draw(array(shape))], fn


def case_pow(draw: Any) -> Any:
    p = draw(st.sampled_from([2, 3, 0.5, -1.0, 1.5]))
    return [draw(array(draw(shapes), positive=True))], lambda m, a: a**p


# ---------------------------------------------------------------- fused functions


def case_softmax(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    fn = draw(st.sampled_from(["softmax", "log_softmax"]))
    return [draw(array(shape))], lambda m, a: getattr(m.F, fn)(a, dim=dim)


def case_cross_entropy(draw: Any) -> Any:
    lead = tuple(draw(st.lists(dims, min_size=1, max_size=2)))
    C = draw(st.integers(2, 5))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    t = rng.integers(0, C, size=lead)
    ignore = draw(st.sampled_from([None, -100, 0]))
    if ignore == -100:
        t[(0,) * len(lead)] = -100
    if ignore is not None and (t != ignore).sum() == 0:
        t[(0,) * len(lead)] = 1 if ignore == 0 else 0  # keep one counted row
    red = draw(st.sampled_from(["mean", "sum", "none"]))
    return [draw(array(lead + (C,)))], lambda m, x: m.cross_entropy(
        x, t, ignore_index=ignore, reduction=red
    )


def case_gelu(draw: Any) -> Any:
    return [draw(array(draw(shapes)))], lambda m, a: m.F.gelu(a, approximate="tanh")


def case_layer_norm(draw: Any) -> Any:
    shape = draw(st.lists(st.integers(2, 4), min_size=1, max_size=3).map(tuple))
    k = draw(st.integers(1, len(shape)))
    norm = shape[len(shape) - k :]
    affine = draw(st.sampled_from(["both", "weight", "none"]))
    arrays = [draw(array(shape))]
    if affine != "none":
        arrays.append(draw(array(norm)))
    if affine == "both":
        arrays.append(draw(array(norm)))
    return arrays, lambda m, x, *wb: m.F.layer_norm(x, norm, *wb)


def case_rms_norm(draw: Any) -> Any:
    shape = draw(st.lists(st.integers(2, 4), min_size=1, max_size=3).map(tuple))
    norm = shape[len(shape) - draw(st.integers(1, len(shape))) :]
    eps = draw(st.sampled_from([None, 1e-5]))
    arrays = [draw(array(shape))] + ([draw(array(norm))] if draw(st.booleans()) else [])
    return arrays, lambda m, x, *w: m.F.rms_norm(x, norm, *w, eps=eps)


def case_linear(draw: Any) -> Any:
    lead = tuple(draw(st.lists(dims, min_size=0, max_size=2)))
    i, o = draw(dims), draw(dims)
    arrays = [draw(array(lead + (i,))), draw(array((o, i)))]
    if draw(st.booleans()):
        arrays.append(draw(array((o,))))
    return arrays, lambda m, x, *wb: m.F.linear(x, *wb)


def case_embedding(draw: Any) -> Any:
    V, D = draw(dims), draw(dims)
    idx_shape = tuple(draw(st.lists(dims, min_size=1, max_size=2)))
    idx = np.random.default_rng(draw(st.integers(0, 1000))).integers(0, V, size=idx_shape)
    return [draw(array((V, D)))], lambda m, w: m.F.embedding(m.ints(idx), w)


def case_batch_norm(draw: Any) -> Any:
    N, C = draw(st.integers(2, 5)), draw(dims)
    shape = (N, C) if draw(st.booleans()) else (N, C, draw(dims))
    training = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    rm, rv = rng.standard_normal(C), rng.random(C) + 0.5
    arrays = [draw(array(shape)), draw(array((C,))), draw(array((C,)))]

    def fn(m: Any, x: Any, w: Any, b: Any) -> Any:
        ours = m is not Ref
        mean = rm.copy() if ours else torch.tensor(rm, dtype=x.dtype)  # fresh: updated in place
        var = rv.copy() if ours else torch.tensor(rv, dtype=x.dtype)
        return m.F.batch_norm(x, mean, var, w, b, training, 0.1, 1e-5)

    return arrays, fn


def case_attention(draw: Any) -> Any:
    B, H, T, D = draw(dims), draw(dims), draw(st.integers(1, 5)), draw(dims)
    S = T if draw(st.booleans()) else draw(st.integers(1, 5))
    kind = draw(st.sampled_from(["causal", "none", "bool", "float", "scale"]))
    if kind == "causal":
        S = T
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    bool_mask = rng.random((T, S)) < 0.7
    bool_mask[:, 0] = True  # every query keeps one key (an all-masked row is nan in both)
    float_mask = rng.standard_normal((T, S))
    arrays = [draw(array((B, H, T, D))), draw(array((B, H, S, D))), draw(array((B, H, S, D)))]

    def fn(m: Any, q: Any, k: Any, v: Any) -> Any:
        sdpa = m.F.scaled_dot_product_attention
        if kind == "causal":
            return sdpa(q, k, v, is_causal=True)
        if kind == "bool":
            return sdpa(q, k, v, attn_mask=m.ints(bool_mask))
        if kind == "float":
            return sdpa(
                q, k, v, attn_mask=m.ints(float_mask).to(q.dtype) if m is Ref else float_mask
            )
        if kind == "scale":
            return sdpa(q, k, v, scale=0.3)
        return sdpa(q, k, v)

    return arrays, fn


CASES: dict[str, Case] = {
    # elementwise
    "add": binary(lambda a, b: a + b),
    "sub": binary(lambda a, b: a - b),
    "mul": binary(lambda a, b: a * b),
    "div": binary(lambda a, b: a / b, positive_b=True),
    "neg": unary(lambda a: -a),
    "scalar_ops": unary(lambda a: 2.0 - a * 3 + 1 / (a * a + 1.0) - 0.5 / (2 + a * a)),
    "pow": case_pow,
    "exp": unary(lambda a: a.exp()),
    "log": unary(lambda a: a.log(), positive=True),
    "tanh": unary(lambda a: a.tanh()),
    "relu": unary(lambda a: a.relu()),
    "sigmoid": unary(lambda a: a.sigmoid()),
    "clamp": case_clamp,
    # reductions
    "sum": reduction("sum"),
    "mean": reduction("mean"),
    "var": reduction("var"),
    "max_dim": case_max_dim,
    "amax": case_amax,
    # matmul
    "matmul": case_matmul,
    # movement
    "reshape": case_reshape,
    "transpose": case_transpose,
    "permute": case_permute,
    "expand": case_expand,
    "getitem": case_getitem,
    "shape_helpers": case_compose_shapes,
    "cat_stack": case_cat_stack,
    # selection
    "masked_fill": case_masked_fill,
    "where": case_where,
    # fused
    "softmax": case_softmax,
    "cross_entropy": case_cross_entropy,
    "gelu": case_gelu,
    "layer_norm": case_layer_norm,
    "rms_norm": case_rms_norm,
    "linear": case_linear,
    "embedding": case_embedding,
    "batch_norm": case_batch_norm,
    "attention": case_attention,
}


# ---------------------------------------------------------------- convolution and pooling
# Random valid arguments for each op (strides, paddings, dilations, groups, ceil_mode ...);
# inputs in every memory layout as above. Unbatched inputs sometimes, as PyTorch takes them.


def _spatial(draw: Any, n: int, span: tuple[int, ...], padding: tuple[int, ...]) -> tuple:
    """n input sizes, each at least what one window needs (span - 2 * padding)."""
    return tuple(
        draw(st.integers(max(1, sp - 2 * p), 5)) for sp, p in zip(span, padding, strict=True)
    )


def _batch(draw: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """(N, C, ...) or, one time in four, the unbatched (C, ...)."""
    return shape[1:] if draw(st.integers(0, 3)) == 0 else shape


def conv_case(n: int) -> Case:
    def build(draw: Any) -> Any:
        groups = draw(st.sampled_from([1, 1, 2]))
        cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
        k = tuple(draw(st.integers(1, 3)) for _ in range(n))
        d = tuple(draw(st.integers(1, 2)) for _ in range(n))
        kind = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
        s = (1,) * n if kind == "same" else tuple(draw(st.integers(1, 3)) for _ in range(n))
        p = tuple(draw(st.integers(0, 2)) for _ in range(n)) if kind == "tuple" else (0,) * n
        p = (draw(st.integers(0, 2)),) * n if kind == "int" else p
        span = tuple(dl * (kk - 1) + 1 for dl, kk in zip(d, k, strict=True))
        shape = _batch(draw, (draw(st.integers(1, 2)), cin) + _spatial(draw, n, span, p))
        padding: Any = kind if kind in ("same", "valid") else (p[0] if kind == "int" else p)
        kw = dict(stride=s, padding=padding, dilation=d, groups=groups)
        arrays = [draw(array(shape)), draw(array((cout, cin // groups) + k))]
        if draw(st.booleans()):
            arrays.append(draw(array((cout,))))
        conv = f"conv{n}d"

        def fn(m: Any, x: Any, w: Any, *b: Any) -> Any:
            with warnings.catch_warnings():  # PyTorch warns that 'same' may copy the input
                warnings.simplefilter("ignore")
                return getattr(m.F, conv)(x, w, *b, **kw)

        return arrays, fn

    return build


def conv_transpose_case(n: int) -> Case:
    def build(draw: Any) -> Any:
        groups = draw(st.sampled_from([1, 1, 2]))
        cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
        k = tuple(draw(st.integers(1, 3)) for _ in range(n))
        s = tuple(draw(st.integers(1, 3)) for _ in range(n))
        d = tuple(draw(st.integers(1, 2)) for _ in range(n))
        op = tuple(draw(st.integers(0, max(ss, dl) - 1)) for ss, dl in zip(s, d, strict=True))
        size = tuple(draw(st.integers(1, 4)) for _ in range(n))
        p = tuple(
            min(draw(st.integers(0, 2)), ((m - 1) * ss + dl * (kk - 1) + o) // 2)  # output >= 1
            for m, ss, dl, kk, o in zip(size, s, d, k, op, strict=True)
        )
        kw = dict(stride=s, padding=p, output_padding=op, groups=groups, dilation=d)
        shape = _batch(draw, (draw(st.integers(1, 2)), cin) + size)
        arrays = [draw(array(shape)), draw(array((cin, cout // groups) + k))]
        if draw(st.booleans()):
            arrays.append(draw(array((cout,))))
        name = f"conv_transpose{n}d"
        return arrays, lambda m, x, w, *b: getattr(m.F, name)(x, w, *b, **kw)

    return build


def pool_case(n: int, kind: str) -> Case:
    def build(draw: Any) -> Any:
        k = tuple(draw(st.integers(1, 3)) for _ in range(n))
        s = tuple(draw(st.integers(1, 3)) for _ in range(n))
        d = tuple(draw(st.integers(1, 2)) for _ in range(n)) if kind == "max" else (1,) * n
        # padding only without dilation: a dilated window could then hold nothing but
        # padding, where PyTorch's index points outside the plane
        p = tuple(
            draw(st.integers(0, kk // 2)) if dl == 1 else 0 for kk, dl in zip(k, d, strict=True)
        )
        span = tuple(dl * (kk - 1) + 1 for dl, kk in zip(d, k, strict=True))
        shape = _batch(
            draw, (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + _spatial(draw, n, span, p)
        )
        kw: dict[str, Any] = dict(kernel_size=k, stride=s, padding=p, ceil_mode=draw(st.booleans()))
        if kind == "max":
            kw["dilation"] = d
        else:
            kw["count_include_pad"] = draw(st.booleans())
            if n == 2:
                kw["divisor_override"] = draw(st.sampled_from([None, None, 3]))
        name = f"{kind}_pool{n}d"
        return [draw(array(shape))], lambda m, x: getattr(m.F, name)(x, **kw)

    return build


def case_adaptive_avg_pool(draw: Any) -> Any:
    n = draw(st.sampled_from([1, 2]))
    shape = _batch(
        draw,
        (draw(st.integers(1, 2)), draw(st.integers(1, 3)))
        + tuple(draw(st.integers(1, 6)) for _ in range(n)),
    )
    out = tuple(
        draw(st.one_of(st.integers(1, 6), st.none())) if n == 2 else draw(st.integers(1, 6))
        for _ in range(n)
    )
    name = f"adaptive_avg_pool{n}d"
    return [draw(array(shape))], lambda m, x: getattr(m.F, name)(x, out)


def case_pad(draw: Any) -> Any:
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    if mode == "constant":
        shape = draw(st.lists(dims, min_size=1, max_size=4).map(tuple))
        padded = draw(st.integers(1, len(shape)))
    else:  # 1, 2 or 3 padded dims of a (C, ...) or (N, C, ...) input
        padded = draw(st.integers(1, 3))
        shape = tuple(draw(st.integers(1, 4)) for _ in range(padded + draw(st.integers(1, 2))))
    amounts: list[int] = []
    for i in range(padded):
        size = shape[len(shape) - 1 - i]
        for _ in range(2):
            crop = -draw(st.integers(0, (size - 1) // 2))  # at most half: something is left
            grow = draw(st.integers(0, {"reflect": size - 1, "circular": size // 2}.get(mode, 3)))
            amounts.append(crop if draw(st.integers(0, 3)) == 0 else grow)
    value = {"value": 0.7} if mode == "constant" else {}
    return [draw(array(shape))], lambda m, x: m.F.pad(x, tuple(amounts), mode, **value)


def case_unfold_fold(draw: Any) -> Any:
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    s = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    span = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    size = _spatial(draw, 2, span, p)
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kw = dict(kernel_size=k, dilation=d, padding=p, stride=s)
    if draw(st.booleans()):
        return [draw(array(_batch(draw, (N, C) + size)))], lambda m, x: m.F.unfold(x, **kw)
    blocks = [(n + 2 * pp - sp) // st_ + 1 for n, pp, sp, st_ in zip(size, p, span, s, strict=True)]
    shape = _batch(draw, (N, C * k[0] * k[1], blocks[0] * blocks[1]))
    return [draw(array(shape))], lambda m, x: m.F.fold(x, size, **kw)


def case_interpolate(draw: Any) -> Any:
    mode = draw(
        st.sampled_from(
            ["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"]
        )
    )
    fixed = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
    n = fixed.get(mode, draw(st.integers(1, 2 if mode == "area" else 3)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + tuple(
        draw(st.integers(1, 5)) for _ in range(n)
    )
    kw: dict[str, Any] = {"mode": mode}
    if mode in fixed:
        kw["align_corners"] = draw(st.booleans())
    if draw(st.booleans()):
        kw["size"] = tuple(draw(st.integers(1, 7)) for _ in range(n))
    else:
        kw["scale_factor"] = tuple(
            draw(
                st.sampled_from([1.0, 1.5, 2.0, 2.5, 3.0, 1 / 3, 0.75]).filter(
                    lambda f, m=m: m * f >= 1
                )
            )
            for m in shape[2:]
        )
    return [draw(array(shape))], lambda m, x: m.F.interpolate(x, **kw)


def case_tensor_unfold(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    size = draw(st.integers(0, shape[dim]))
    step = draw(st.integers(1, 3))
    return [draw(array(shape))], lambda m, a: a.unfold(dim, size, step) * 1.0


CASES.update(
    {
        "tensor_unfold": case_tensor_unfold,
        "conv1d": conv_case(1),
        "conv2d": conv_case(2),
        "conv_transpose1d": conv_transpose_case(1),
        "conv_transpose2d": conv_transpose_case(2),
        "max_pool1d": pool_case(1, "max"),
        "max_pool2d": pool_case(2, "max"),
        "avg_pool1d": pool_case(1, "avg"),
        "avg_pool2d": pool_case(2, "avg"),
        "adaptive_avg_pool": case_adaptive_avg_pool,
        "pad": case_pad,
        "unfold_fold": case_unfold_fold,
        "interpolate": case_interpolate,
    }
)


# ---------------------------------------------------------------- the test


def run_both(
    arrays: list[np.ndarray], fn: Callable[..., Any], dtype: Any, seed: int, ours_ns: Any = Ours
):
    ours_in = [Tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    ref_in = [
        torch.tensor(a, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
        for a in arrays
    ]
    ours, ref = fn(ours_ns, *ours_in), fn(Ref, *ref_in)
    assert ours.shape == tuple(ref.shape), f"shape {ours.shape} != {tuple(ref.shape)}"
    assert ours.dtype == np.dtype(dtype)
    w = np.random.default_rng(seed).standard_normal(ours.shape)
    ours.backward(w)
    ref.backward(torch.tensor(w, dtype=ref.dtype))
    grads = [
        (t.grad, r.grad.numpy() if r.grad is not None else np.zeros(r.shape))
        for t, r in zip(ours_in, ref_in, strict=True)
    ]
    return ours.data, ref.detach().numpy(), grads


def assert_close(got: np.ndarray, want: np.ndarray, tol: float, relative: bool, what: str):
    assert got is not None, f"{what}: no gradient"
    scale = max(1.0, float(np.abs(want).max(initial=0.0))) if relative else 1.0
    err = float(np.abs(got - want).max(initial=0.0))
    assert err <= tol * scale, f"{what}: max error {err:.3g} > {tol:g} x {scale:.3g}"


def assert_close32(got: np.ndarray, ref32: np.ndarray, truth: np.ndarray, what: str) -> None:
    """float32: within 1e-5 of PyTorch's float32, relative to the largest entry, or, where
    the maths amplifies rounding (layer_norm of two nearly equal numbers), at least about
    as close to the float64 truth as PyTorch's own float32 result is."""
    scale = max(1.0, float(np.abs(ref32).max(initial=0.0)))
    err = float(np.abs(got - ref32).max(initial=0.0))
    if err <= 1e-5 * scale:
        return
    ours_err = float(np.abs(got - truth).max(initial=0.0))
    torch_err = float(np.abs(ref32 - truth).max(initial=0.0))
    assert ours_err <= 2 * torch_err + 1e-6 * scale, (
        f"{what}: max error {err:.3g} vs PyTorch float32 > 1e-05 x {scale:.3g}, and "
        f"{ours_err:.3g} from the float64 result (PyTorch float32: {torch_err:.3g})"
    )


FUSED = ["softmax", "cross_entropy", "gelu", "layer_norm", "rms_norm", "linear", "embedding",
         "batch_norm", "attention"]  # fmt: skip


@pytest.mark.parametrize(
    "name, ns", [(n, Ours) for n in CASES] + [(n, OursFused) for n in FUSED],
    ids=list(CASES) + [f"{n}-fused" for n in FUSED],
)  # fmt: skip
@settings(max_examples=10)
@given(data=st.data())
def test_parity_with_pytorch(name: str, ns: Any, data: Any) -> None:
    """Every op, and both tiers of every nn function (the definition and the kernel)."""
    arrays, fn = CASES[name](data.draw)
    seed = data.draw(st.integers(0, 1000))
    run = lambda dtype: run_both(arrays, fn, dtype, seed, ns)  # noqa: E731
    out64, ref64, grads64 = run(np.float64)
    assert_close(out64, ref64, 1e-10, False, f"{name} forward float64")
    for i, (g, r) in enumerate(grads64):
        assert_close(g, r, 1e-8, False, f"{name} grad of input {i} float64")
    out, ref, grads = run(np.float32)
    assert_close32(out, ref, ref64, f"{name} forward float32")
    for i, ((g, r), (_, truth)) in enumerate(zip(grads, grads64, strict=True)):
        assert g.dtype == np.float32, f"{name} grad of input {i} is {g.dtype}"
        assert_close32(g, r, truth, f"{name} grad of input {i} float32")


@pytest.mark.parametrize("name", list(CASES))
@settings(max_examples=4)
@given(data=st.data())
def test_gradcheck_agrees(name: str, data: Any) -> None:
    arrays, fn = CASES[name](data.draw)
    assert gradcheck(lambda *ts: fn(Ours, *ts), *arrays)
