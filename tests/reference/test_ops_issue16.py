"""The ops of issue 16 against PyTorch: one more table run like ``test_tensor_parity``'s.

Each row draws (with hypothesis) input arrays with random shapes, broadcasting and memory
layouts (C order, transposed, strided), runs a function written once against a namespace
``m`` (ours: groundup + groundup.nn.functional, or PyTorch's), backpropagates one random
output gradient and compares the output and every input's gradient: float64 within 1e-10
(forward) and 1e-8 (gradients), float32 within 1e-5 relative to the largest entry. The
strategies, namespaces, runner and tolerances are ``test_tensor_parity``'s own, loaded
from that file so that both tables hold every op to the same standard. Then the known
answers PyTorch sets by convention (ties, zeros, NaN, errors).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import groundup  # noqa: E402
from groundup import Tensor  # noqa: E402
from groundup.tensor import gradcheck  # noqa: E402


def _load_parity() -> Any:
    """test_tensor_parity as a module (test files are not importable by name here)."""
    name = "_groundup_tensor_parity"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("test_tensor_parity.py")
        )
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        sys.modules[name] = module
    return sys.modules[name]


parity = _load_parity()
Ours, OursFused, Ref = parity.Ours, parity.OursFused, parity.Ref
array, shapes, dims, broadcast_pair, dim_of = (
    parity.array, parity.shapes, parity.dims, parity.broadcast_pair, parity.dim_of)  # fmt: skip
unary, binary = parity.unary, parity.binary


def bounded(fn: Any, scale: float = 1.0) -> Any:
    """A unary case on inputs squashed into (-scale, scale) (tan's poles, asin's domain)."""
    return unary(lambda a: fn(a.tanh() * scale))


# ---------------------------------------------------------------- elementwise


def case_round(draw: Any) -> Any:
    decimals = draw(st.sampled_from([0, 1, 2, -1]))
    return [draw(array(draw(shapes)))], lambda m, a: (a * 30).round(decimals=decimals)


def case_gelu(draw: Any) -> Any:
    approximate = draw(st.sampled_from(["none", "tanh", None]))
    kw = {} if approximate is None else {"approximate": approximate}
    return [draw(array(draw(shapes)))], lambda m, a: m.F.gelu(a * 3, **kw)


# ---------------------------------------------------------------- indexing, gather, scatter


def rng_of(draw: Any) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def case_mixed_index(draw: Any) -> Any:
    """x[...] mixing ints, slices, None, ... and index arrays (PyTorch's dim order)."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=5)))
    rng = rng_of(draw)
    length = draw(st.integers(1, 4))
    parts: list[Any] = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "array", "full"]))
        if kind == "int":
            parts.append(int(rng.integers(-n, n)))
        elif kind == "slice":
            start, stop = sorted(rng.integers(0, n + 1, size=2))
            parts.append(slice(int(start), int(stop), int(rng.integers(1, 3))))
        elif kind == "array":  # repeats likely: their gradients add up
            parts.append(rng.integers(-n, n, size=length if rng.random() < 0.8 else 1))
        else:
            parts.append(slice(None))
    if draw(st.booleans()):  # a new axis somewhere
        parts.insert(draw(st.integers(0, len(parts))), None)
    if draw(st.booleans()) and len(parts) > 1:  # ... standing for the trailing full slices
        cut = draw(st.integers(1, len(parts)))
        parts = parts[:cut] + [Ellipsis]
    index = tuple(parts)

    def fn(m: Any, a: Any) -> Any:
        return a[tuple(m.ints(p) if isinstance(p, np.ndarray) else p for p in index)] * 1.0

    return [draw(array(shape))], fn


def case_mask_index(draw: Any) -> Any:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=3)))
    mask = rng_of(draw).random(shape[:2]) < 0.5
    i = draw(st.integers(0, shape[-1] - 1))
    if len(shape) == 3 and draw(st.booleans()):
        return [draw(array(shape))], lambda m, a: a[m.ints(mask), i] * 1.0
    return [draw(array(shape))], lambda m, a: a[m.ints(mask)] * 1.0


def index_for(draw: Any, shape: tuple[int, ...], dim: int, unique: bool = False) -> np.ndarray:
    """An index for gather/scatter along ``dim``: no larger than ``shape`` outside ``dim``;
    ``unique``: no position written twice (scatter's result is then defined)."""
    rng = rng_of(draw)
    n = shape[dim]
    ishape = [draw(st.integers(1, s)) for s in shape]
    if unique:
        ishape[dim] = draw(st.integers(1, n))
        keys = rng.random(tuple(ishape[:dim]) + (n,) + tuple(ishape[dim + 1 :]))
        return np.argsort(keys, axis=dim).take(range(ishape[dim]), axis=dim)
    ishape[dim] = draw(st.integers(1, n + 2))
    return rng.integers(0, n, size=tuple(ishape))


def case_gather(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    idx = index_for(draw, shape, dim % len(shape))
    fn = draw(st.sampled_from(["method", "function"]))
    if fn == "method":
        return [draw(array(shape))], lambda m, a: a.gather(dim, m.ints(idx))
    return [draw(array(shape))], lambda m, a: m.lib.gather(a, dim, m.ints(idx))


def case_take_along_dim(draw: Any) -> Any:
    shape = draw(shapes)
    rng = rng_of(draw)
    if draw(st.booleans()):
        idx = rng.integers(0, int(np.prod(shape)), size=draw(st.integers(1, 6)))
        # (contiguous: torch's flattened take_along_dim refuses some strided inputs)
        return [draw(array(shape))], lambda m, a: m.lib.take_along_dim(a.contiguous(), m.ints(idx))
    dim = draw(st.integers(0, len(shape) - 1))
    ishape = [1 if draw(st.booleans()) else s for s in shape]  # broadcasts outside dim
    ishape[dim] = draw(st.integers(1, 4))
    idx = rng.integers(0, shape[dim], size=tuple(ishape))
    return [draw(array(shape))], lambda m, a: a.take_along_dim(m.ints(idx), dim=dim)


def case_index_select(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    idx = rng_of(draw).integers(0, shape[dim], size=draw(st.integers(1, 5)))
    return [draw(array(shape))], lambda m, a: m.lib.index_select(a, dim, m.ints(idx))


def case_masked_select(draw: Any) -> Any:
    sa, sm = draw(broadcast_pair())
    mask = rng_of(draw).random(sm) < 0.5
    return [draw(array(sa))], lambda m, a: a.masked_select(m.ints(mask))


def case_scatter(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    idx = index_for(draw, shape, dim % len(shape), unique=True)
    if draw(st.booleans()):
        value = draw(st.sampled_from([-2.5, 0.0, 7.0]))
        return [draw(array(shape))], lambda m, a: a.scatter(dim, m.ints(idx), value)
    return [draw(array(shape)), draw(array(idx.shape))], lambda m, a, s: m.lib.scatter(
        a, dim, m.ints(idx), s
    )


def case_scatter_reduce(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    idx = index_for(draw, shape, dim % len(shape))  # repeats: several entries per target
    reduce = draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin", "add"]))
    include_self = draw(st.booleans())
    rng = rng_of(draw)
    zero_a, zero_s = rng.random(shape) < 0.2, rng.random(idx.shape) < 0.2  # prod's hard case

    def fn(m: Any, a: Any, s: Any) -> Any:
        if reduce != "prod":
            a, s = a * 1.0, s * 1.0
        else:
            a, s = a.masked_fill(m.ints(zero_a), 0.0), s.masked_fill(m.ints(zero_s), 0.0)
        if reduce == "add":
            return a.scatter_add(dim, m.ints(idx), s)
        return a.scatter_reduce(dim, m.ints(idx), s, reduce, include_self=include_self)

    return [draw(array(shape)), draw(array(idx.shape))], fn


def case_where_scalars(draw: Any) -> Any:
    shape = draw(shapes)
    cond = rng_of(draw).random(shape) < 0.5
    which = draw(st.sampled_from(["left", "right", "method"]))
    if which == "left":
        return [draw(array(shape))], lambda m, a: m.lib.where(m.ints(cond), 1.5, a)
    if which == "right":
        return [draw(array(shape))], lambda m, a: m.lib.where(m.ints(cond), a, -2)
    return [draw(array(shape)), draw(array(shape))], lambda m, a, b: a.where(m.ints(cond), b)


# ---------------------------------------------------------------- scans and products


def with_zeros_and_ties(draw: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A mask of about a quarter of the entries, to set to one value: zeros for the
    products, ties for the running max."""
    return rng_of(draw).random(shape) < 0.25


def case_cumsum(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    if draw(st.booleans()):
        return [draw(array(shape))], lambda m, a: a.cumsum(dim)
    return [draw(array(shape))], lambda m, a: m.lib.cumsum(a, dim=dim)


def case_cumprod(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    zeros = with_zeros_and_ties(draw, shape)
    return [draw(array(shape))], lambda m, a: (a * 1.5).masked_fill(m.ints(zeros), 0.0).cumprod(dim)


def case_cummax(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    ties = with_zeros_and_ties(draw, shape)
    which = draw(st.sampled_from(["cummax", "cummin"]))

    def fn(m: Any, a: Any) -> Any:
        return with_indices(getattr(a.masked_fill(m.ints(ties), 0.5), which)(dim))

    return [draw(array(shape))], fn


def case_prod(draw: Any) -> Any:
    shape = draw(shapes)
    zeros = with_zeros_and_ties(draw, shape)
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keep = draw(st.booleans())

    def fn(m: Any, a: Any) -> Any:
        a = (a * 1.5).masked_fill(m.ints(zeros), 0.0)
        return a.prod() if dim is None else a.prod(dim, keepdim=keep)

    return [draw(array(shape))], fn


# ---------------------------------------------------------------- sorting and selecting


def with_indices(result: Any) -> Any:
    """values + 100 * indices: one output in which the indices must agree too."""
    values, indices = result
    return values + indices.to(values.dtype) * 100


def case_sort(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    descending = draw(st.booleans())
    ties = with_zeros_and_ties(draw, shape)  # a stable sort keeps tied entries in order
    which = draw(st.sampled_from(["sort", "argsort", "function"]))

    def fn(m: Any, a: Any) -> Any:
        a = a.masked_fill(m.ints(ties), 0.5)
        if which == "argsort":
            return a * 0 + a.argsort(dim=dim, descending=descending, stable=True).to(a.dtype)
        if which == "function":
            return with_indices(m.lib.sort(a, dim=dim, descending=descending, stable=True))
        return with_indices(a.sort(dim=dim, descending=descending, stable=True))

    return [draw(array(shape))], fn


def case_topk(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    k = draw(st.integers(0, shape[dim]))
    largest = draw(st.booleans())
    return [draw(array(shape))], lambda m, a: with_indices(a.topk(k, dim, largest=largest))


def case_kthvalue(draw: Any) -> Any:
    shape = draw(shapes)
    dim = dim_of(draw, len(shape))
    k = draw(st.integers(1, shape[dim]))
    keep = draw(st.booleans())
    return [draw(array(shape))], lambda m, a: with_indices(m.lib.kthvalue(a, k, dim, keep))


def case_median(draw: Any) -> Any:
    shape = draw(shapes)
    if draw(st.booleans()):
        return [draw(array(shape))], lambda m, a: a.median()
    dim = dim_of(draw, len(shape))
    keep = draw(st.booleans())
    return [draw(array(shape))], lambda m, a: with_indices(a.median(dim, keepdim=keep))


# ---------------------------------------------------------------- movement


def case_roll(draw: Any) -> Any:
    shape = draw(shapes)
    if draw(st.booleans()):
        shift = draw(st.integers(-5, 5))
        return [draw(array(shape))], lambda m, a: m.lib.roll(a, shift) * 1.0
    chosen = sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
    dims_ = tuple(d - len(shape) if draw(st.booleans()) else d for d in chosen)  # some negative
    shifts = tuple(draw(st.integers(-5, 5)) for _ in dims_)
    return [draw(array(shape))], lambda m, a: a.roll(shifts, dims_) * 1.0


def case_diagonal(draw: Any) -> Any:
    shape = tuple(draw(st.lists(dims, min_size=2, max_size=4)))
    d1, d2 = draw(st.permutations(range(len(shape))))[:2]
    offset = draw(st.integers(-3, 3))
    if draw(st.booleans()):
        d1, d2 = d1 - len(shape), d2  # a negative dim
    return [draw(array(shape))], lambda m, a: a.diagonal(offset, d1, d2) * 1.0


def case_diag_embed(draw: Any) -> Any:
    shape = draw(shapes)
    offset = draw(st.integers(-2, 2))
    d1, d2 = draw(st.permutations(range(len(shape) + 1)))[:2]
    return [draw(array(shape))], lambda m, a: m.lib.diag_embed(a, offset, d1, d2)


def case_diag_trace(draw: Any) -> Any:
    which = draw(st.sampled_from(["vector", "matrix", "trace"]))
    offset = draw(st.integers(-2, 2))
    if which == "vector":
        return [draw(array((draw(dims),)))], lambda m, a: a.diag(offset)
    shape = (draw(dims), draw(dims))
    if which == "matrix":
        return [draw(array(shape))], lambda m, a: m.lib.diag(a, offset) * 1.0
    return [draw(array(shape))], lambda m, a: m.lib.trace(a)


def case_repeat(draw: Any) -> Any:
    shape = draw(shapes)
    extra = draw(st.integers(0, 2))
    sizes = tuple(draw(st.integers(0, 3)) for _ in range(len(shape) + extra))
    if draw(st.booleans()):
        return [draw(array(shape))], lambda m, a: a.repeat(*sizes)
    short = sizes[: draw(st.integers(1, len(sizes)))]  # tile fills in leading 1s
    return [draw(array(shape))], lambda m, a: m.lib.tile(a, short)


def case_repeat_interleave(draw: Any) -> Any:
    shape = draw(shapes)
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    n = int(np.prod(shape)) if dim is None else shape[dim]
    kind = draw(st.sampled_from(["int", "counts", "one count"]))
    counts = rng_of(draw).integers(0, 4, size=n)

    def fn(m: Any, a: Any) -> Any:
        if kind == "int":
            return a.repeat_interleave(2, dim=dim)
        if kind == "one count":
            return a.repeat_interleave(m.ints(np.array([3])), dim=dim)
        return m.lib.repeat_interleave(a, m.ints(counts), dim=dim)

    return [draw(array(shape))], fn


def case_expand_as(draw: Any) -> Any:
    sa, sb = draw(broadcast_pair())
    full = np.broadcast_shapes(sa, sb)
    other = np.zeros(full)
    return [draw(array(sa))], lambda m, a: a.expand_as(m.ints(other))


def case_meshgrid(draw: Any) -> Any:
    n = draw(st.integers(1, 3))
    indexing = draw(st.sampled_from(["ij", "xy"]))
    arrays = [draw(array((draw(dims),))) for _ in range(n)]

    def fn(m: Any, *ts: Any) -> Any:
        grids = m.lib.meshgrid(*ts, indexing=indexing)
        return sum(g * (i + 1) for i, g in enumerate(grids))

    return arrays, fn


# ---------------------------------------------------------------- clamp by tensors, einsum


def case_clamp_tensors(draw: Any) -> Any:
    sa, sb = draw(broadcast_pair())
    which = draw(st.sampled_from(["both", "min", "max"]))  # torch mixes no number with them
    # bounds moved off x (two draws of the same array would put x on its bound: a kink)
    arrays = [draw(array(sa)), draw(array(sb)), draw(array(sb))]

    def fn(m: Any, a: Any, lo: Any, hi: Any) -> Any:
        lo, hi = lo * 0.5 - 0.2, hi * 0.5 + 0.2
        if which == "both":  # the bounds may cross (max < min): then the result is max
            return a.clamp(lo, hi)
        if which == "min":
            return m.lib.clamp(a, min=lo) + hi
        return a.clamp_max(hi) + lo

    return arrays, fn


EINSUMS = [
    ("ij,jk->ik", "ab,bc"), ("bij,bjk->bik", "zab,zbc"), ("ii->i", "aa"), ("ii", "aa"),
    ("ij->ji", "ab"), ("ij->", "ab"), ("i,j->ij", "a,b"), ("i,i->", "a,a"),
    ("...ij,...jk", "yab,bc"), ("b...,b...->b...", "zy,zy"), ("ijk,ikl,ilm->jm", "zab,zbc,zcd"),
    ("iij->ij", "aab"), ("ij,ij,ij->i", "ab,ab,ab"), ("ba,ab", "ba,ab"), ("bhqd,bhkd->bhqk",
    "zyac,zybc"), ("i...->...", "ayx"), ("Ab,bA->", "ab,ba"), ("ijij->", "abab"),
]  # fmt: skip


def case_einsum(draw: Any) -> Any:
    """An equation and operands whose shapes follow it (letters of the second string name
    the sizes; x and y are broadcast dims under ...)."""
    equation, shape_spec = draw(st.sampled_from(EINSUMS))
    size = {ch: draw(dims) for ch in "abcdxyz"}
    if "..." in equation and draw(st.booleans()):
        size["x"] = 1  # broadcast against the other operand's dim
    arrays = [draw(array(tuple(size[ch] for ch in spec))) for spec in shape_spec.split(",")]
    return arrays, lambda m, *ts: m.lib.einsum(equation, *ts)


# ---------------------------------------------------------------- losses, embedding


def like(m: Any, a: np.ndarray, x: Any) -> Any:
    """A constant array as a tensor of x's dtype (torch wants weights and probability
    targets in the input's dtype)."""
    return m.lib.tensor(a, dtype=x.dtype)


def case_cross_entropy_options(draw: Any) -> Any:
    N, C = draw(st.integers(1, 6)), draw(st.integers(2, 5))
    rng = rng_of(draw)
    kind = draw(st.sampled_from(["ids", "probabilities"]))
    weight = rng.random(C) + 0.1 if draw(st.booleans()) else None
    smoothing = draw(st.sampled_from([0.0, 0.1, 0.5]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    t = rng.integers(0, C, size=N)
    ignore = draw(st.sampled_from([-100, 0])) if kind == "ids" else -100
    if kind == "ids" and N > 1 and draw(st.booleans()):  # one row ignored, one counted
        t[0], t[-1] = ignore, 1  # (all ignored is nan in both)
    elif kind == "ids" and ignore == 0:
        t[t == 0] = 1
    probs = rng.dirichlet(np.ones(C), size=N)

    def fn(m: Any, x: Any) -> Any:
        target = m.ints(t) if kind == "ids" else like(m, probs, x)
        w = None if weight is None else like(m, weight, x)
        return m.F.cross_entropy(x, target, weight=w, ignore_index=ignore,
                                 reduction=reduction, label_smoothing=smoothing)  # fmt: skip

    return [draw(array((N, C)))], fn


def case_nll_loss_weight(draw: Any) -> Any:
    N, C = draw(st.integers(1, 6)), draw(st.integers(2, 5))
    rng = rng_of(draw)
    t = rng.integers(0, C, size=N)
    if N > 1:  # one ignored row, one counted (all ignored is nan in both)
        t[0], t[-1] = -100, 0
    weight = rng.random(C) + 0.1
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))

    def fn(m: Any, x: Any) -> Any:
        logp = m.F.log_softmax(x, dim=-1)
        return m.F.nll_loss(logp, m.ints(t), weight=like(m, weight, x), reduction=reduction)

    return [draw(array((N, C)))], fn


def case_binary_cross_entropy(draw: Any) -> Any:
    sa, sw = draw(broadcast_pair())
    shape = np.broadcast_shapes(sa, sw)
    rng = rng_of(draw)
    y = (rng.random(shape) < 0.5).astype(float) if draw(st.booleans()) else rng.random(shape)
    weight = rng.random(sw) + 0.1 if draw(st.booleans()) else None
    pos_weight = rng.random(shape[-1:]) + 0.5 if draw(st.booleans()) else None
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    logits = draw(st.booleans())

    def fn(m: Any, z: Any) -> Any:
        z = z.expand(*shape) * 2
        w = None if weight is None else like(m, weight, z)
        if logits:
            pw = None if pos_weight is None else like(m, pos_weight, z)
            return m.F.binary_cross_entropy_with_logits(
                z, like(m, y, z), weight=w, reduction=reduction, pos_weight=pw)  # fmt: skip
        return m.F.binary_cross_entropy(z.sigmoid(), like(m, y, z), weight=w, reduction=reduction)

    return [draw(array(sa))], fn


def case_embedding_padding(draw: Any) -> Any:
    V, D = draw(st.integers(2, 5)), draw(dims)
    idx = rng_of(draw).integers(0, V, size=tuple(draw(st.lists(dims, min_size=1, max_size=2))))
    pad = draw(st.integers(-V, V - 1))
    idx.flat[0] = pad % V  # the padding row is used at least once
    return [draw(array((V, D)))], lambda m, w: m.F.embedding(m.ints(idx), w, padding_idx=pad)


# ---------------------------------------------------------------- torch.<fn> spellings, axis=

FREE_FUNCTIONS = {
    "sum": lambda m, a, b: m.lib.sum(a, dim=-1, keepdim=True),
    "sum axis": lambda m, a, b: m.lib.sum(a, axis=0, keepdims=True),
    "mean": lambda m, a, b: m.lib.mean(a, 0),
    "var unbiased": lambda m, a, b: a.var(0, False, True) + m.lib.var(a, correction=0),
    "std": lambda m, a, b: m.lib.std(a, dim=-1),
    "max dim": lambda m, a, b: m.lib.max(a, 1).values,
    "max other": lambda m, a, b: m.lib.max(a, b),
    "min other": lambda m, a, b: m.lib.min(a, b),
    "amax": lambda m, a, b: m.lib.amax(a, dim=(0, 1)) + a.amin(1).sum(),
    "logsumexp": lambda m, a, b: m.lib.logsumexp(a, 1),
    "softmax": lambda m, a, b: m.lib.softmax(a, -1) + a.log_softmax(dim=0),
    "softmax axis": lambda m, a, b: a.softmax(axis=1),
    "exp log": lambda m, a, b: m.lib.exp(a) + m.lib.log(m.lib.abs(b) + 1),
    "add alpha": lambda m, a, b: m.lib.add(a, b, alpha=0.5) - a.sub(b, alpha=2),
    "div": lambda m, a, b: m.lib.div(a, m.lib.abs(b) + 1) * m.lib.mul(a, b),
    "pow": lambda m, a, b: m.lib.pow(m.lib.abs(a) + 1, 1.5) + m.lib.pow(2.0, a),
    "neg square": lambda m, a, b: m.lib.neg(a) * m.lib.square(b),
    "clamp": lambda m, a, b: m.lib.clamp(a, -0.5, 0.5) + m.lib.clip(b, min=0.0),
    "shapes": lambda m, a, b: (
        m.lib.transpose(m.lib.unsqueeze(a, 0), 0, 2).flatten()
        * m.lib.reshape(m.lib.permute(b, (1, 0)), (-1,))
    ),
    "cat axis": lambda m, a, b: m.lib.cat([a, b], axis=1),
    "flip tril": lambda m, a, b: m.lib.flip(a, (0,)) + m.lib.triu(b, 1) + m.lib.tril(a),
    "matmul": lambda m, a, b: m.lib.matmul(a, b.transpose(0, 1)),
}


def case_free_functions(draw: Any) -> Any:
    shape = (draw(st.integers(2, 4)), draw(st.integers(2, 4)))
    fn = FREE_FUNCTIONS[draw(st.sampled_from(sorted(FREE_FUNCTIONS)))]

    def both_used(m: Any, a: Any, b: Any) -> Any:  # so that each input has a gradient
        return fn(m, a, b) + (a.sum() + b.sum()) * 0

    return [draw(array(shape)), draw(array(shape))], both_used


CASES: dict[str, Any] = {
    # elementwise
    "sin": unary(lambda a: a.sin()),
    "cos": unary(lambda a: a.cos()),
    "tan": bounded(lambda a: a.tan(), 1.4),
    "asin": bounded(lambda a: a.asin(), 0.95),
    "acos": bounded(lambda a: a.acos(), 0.95),
    "atan": unary(lambda a: (a * 3).atan()),
    "atan2": binary(lambda a, b: a.atan2(b)),
    "sinh": unary(lambda a: (a * 3).sinh()),
    "cosh": unary(lambda a: (a * 3).cosh()),
    "erf": unary(lambda a: (a * 2).erf()),
    "floor": unary(lambda a: (a * 3).floor() + a),
    "ceil": unary(lambda a: (a * 3).ceil() * a),
    "trunc": unary(lambda a: (a * 3).trunc() * a),
    "sign": unary(lambda a: a.sign() * a),
    "frac": unary(lambda a: (a * 3).frac()),
    "round": case_round,
    "gelu": case_gelu,
    # indexing, gather, scatter
    "mixed_index": case_mixed_index,
    "mask_index": case_mask_index,
    "gather": case_gather,
    "take_along_dim": case_take_along_dim,
    "index_select": case_index_select,
    "masked_select": case_masked_select,
    "scatter": case_scatter,
    "scatter_reduce": case_scatter_reduce,
    "where_scalars": case_where_scalars,
    # scans and products
    "cumsum": case_cumsum,
    "cumprod": case_cumprod,
    "cummax": case_cummax,
    "prod": case_prod,
    # sorting and selecting
    "sort": case_sort,
    "topk": case_topk,
    "kthvalue": case_kthvalue,
    "median": case_median,
    # movement
    "roll": case_roll,
    "diagonal": case_diagonal,
    "diag_embed": case_diag_embed,
    "diag_trace": case_diag_trace,
    "repeat_tile": case_repeat,
    "repeat_interleave": case_repeat_interleave,
    "expand_as": case_expand_as,
    "meshgrid": case_meshgrid,
    # clamp by tensors, einsum
    "clamp_tensors": case_clamp_tensors,
    "einsum": case_einsum,
    # losses, embedding
    "cross_entropy_options": case_cross_entropy_options,
    "nll_loss_weight": case_nll_loss_weight,
    "binary_cross_entropy": case_binary_cross_entropy,
    "embedding_padding": case_embedding_padding,
    # the torch.<fn> spellings of every op, and axis=
    "free_functions": case_free_functions,
}
FUSED = ["gelu", "cross_entropy_options", "embedding_padding"]


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize(
    "name, ns", [(n, Ours) for n in CASES] + [(n, OursFused) for n in FUSED],
    ids=list(CASES) + [f"{n}-fused" for n in FUSED],
)  # fmt: skip
@settings(max_examples=10)
@given(data=st.data())
def test_parity_with_pytorch(name: str, ns: Any, data: Any) -> None:
    """Values and gradients, float64 and float32, as test_tensor_parity's table."""
    arrays, fn = CASES[name](data.draw)
    seed = data.draw(st.integers(0, 1000))
    run = lambda dtype: parity.run_both(arrays, fn, dtype, seed, ns)  # noqa: E731
    out64, ref64, grads64 = run(np.float64)
    parity.assert_close(out64, ref64, 1e-10, False, f"{name} forward float64")
    for i, (g, r) in enumerate(grads64):
        parity.assert_close(g, r, 1e-8, False, f"{name} grad of input {i} float64")
    out, ref, grads = run(np.float32)
    parity.assert_close32(out, ref, ref64, f"{name} forward float32")
    for i, ((g, r), (_, truth)) in enumerate(zip(grads, grads64, strict=True)):
        assert g.dtype == np.float32, f"{name} grad of input {i} is {g.dtype}"
        parity.assert_close32(g, r, truth, f"{name} grad of input {i} float32")


# the padding row's gradient is held at 0 on purpose: not the derivative
NOT_A_DERIVATIVE = {"embedding_padding"}


@pytest.mark.parametrize("name", [n for n in CASES if n not in NOT_A_DERIVATIVE])
@settings(max_examples=3)
@given(data=st.data())
def test_gradcheck_agrees(name: str, data: Any) -> None:
    arrays, fn = CASES[name](data.draw)
    assert gradcheck(lambda *ts: fn(Ours, *ts), *arrays)


# ---------------------------------------------------------------- results outside the graph


def test_results_without_gradients_and_their_dtypes_match_torch():
    """Booleans, indices and integer results: same values and same dtypes as torch."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    b = a + rng.choice([0.0, 1e-9, 1e-3], size=a.shape)
    a[0, 0] = b[0, 0] = np.nan
    ints = rng.integers(-3, 4, size=(3, 4))
    x, y, i = Tensor(a, dtype="float64"), Tensor(b, dtype="float64"), Tensor(ints)
    tx, ty, ti = torch.tensor(a), torch.tensor(b), torch.tensor(ints)
    pairs = [
        (x.isclose(y), tx.isclose(ty)),
        (groundup.isclose(x, y, rtol=0, atol=1e-6, equal_nan=True),
         torch.isclose(tx, ty, rtol=0, atol=1e-6, equal_nan=True)),
        (groundup.where(i > 0), torch.where(ti > 0)),
        (i.nonzero(), ti.nonzero()),
        (groundup.nonzero(i, as_tuple=True), torch.nonzero(ti, as_tuple=True)),
        (i.sort(dim=1, stable=True).indices, ti.sort(dim=1, stable=True).indices),
        (i.argsort(dim=0, descending=True, stable=True),
         ti.argsort(dim=0, descending=True, stable=True)),
        (i.cumsum(0), ti.cumsum(0)),
        (i.prod(1), ti.prod(1)),
        ((i > 0).cumsum(1), (ti > 0).cumsum(1)),
        (i.cummax(1).indices, ti.cummax(1).indices),
        (i.topk(2).values, ti.topk(2).values),
        (groundup.repeat_interleave(Tensor([2, 0, 3])),
         torch.repeat_interleave(torch.tensor([2, 0, 3]))),
        (i.sign(), ti.sign()),
        (i.round(), ti.round()),
        (x.round(decimals=2), tx.round(decimals=2)),
        (groundup.where(i > 0, 1.0, 0), torch.where(ti > 0, 1.0, 0)),
        (groundup.where(i > 0, i, 0.5), torch.where(ti > 0, ti, 0.5)),
        (i.gather(1, np.array([[0], [3], [1]])), ti.gather(1, torch.tensor([[0], [3], [1]]))),
        (groundup.einsum("ij,kj->ik", i, i), torch.einsum("ij,kj->ik", ti, ti)),
        (i.clamp(min=Tensor(0)), ti.clamp(min=torch.tensor(0))),
        (groundup.div(i, 2, rounding_mode="floor"), torch.div(ti, 2, rounding_mode="floor")),
    ]  # fmt: skip
    for k, (ours, ref) in enumerate(pairs):
        ours, ref = (ours, ref) if isinstance(ref, tuple) else ((ours,), (ref,))
        for o, r in zip(ours, ref, strict=True):
            assert o.dtype == np.dtype(str(r.dtype).removeprefix("torch.")), f"pair {k}"
            np.testing.assert_array_equal(o.data, r.numpy(), err_msg=f"pair {k}")
    assert x[1:].allclose(y[1:], atol=1e-2) == torch.allclose(tx[1:], ty[1:], atol=1e-2)


def test_errors_are_pytorchs_types():
    x, tx = groundup.zeros(2, 3), torch.zeros(2, 3)
    bad = [
        (lambda m, t: t.gather(1, m.tensor([[3]])), RuntimeError),
        (lambda m, t: t.gather(2, m.tensor([[0]])), IndexError),
        (lambda m, t: t.topk(4), RuntimeError),
        (lambda m, t: t.kthvalue(4), RuntimeError),
        (lambda m, t: t.repeat(2), RuntimeError),
        (lambda m, t: t.roll((1, 2), (0,)), RuntimeError),
        (lambda m, t: t.diagonal(0, 1, 1), RuntimeError),
        (lambda m, t: m.einsum("ij,jk", t), RuntimeError),
        (lambda m, t: t.scatter_reduce(0, m.tensor([[0]]), t, "foo"), RuntimeError),
        (lambda m, t: t.index_select(0, m.tensor([[0]])), IndexError),
    ]
    for k, (fn, error) in enumerate(bad):
        with pytest.raises(error):
            fn(torch, tx)
        with pytest.raises(error):
            fn(groundup, x)
        assert k >= 0
