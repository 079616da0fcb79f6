"""The fast tier's loops, compiled: each kernel a plain loop over rows, like llm.c's CPU code.

:mod:`groundup.nn.fused` runs these when numba (the ``fast`` extra) is installed, and its
NumPy code otherwise. NumPy makes one pass over memory per operation; a kernel here makes
one pass for a whole formula. exp and float32 tanh are computed in the loop, as
polynomials the compiler vectorises: the C library's, called once per entry, would leave
the loop scalar and several times slower than NumPy's SIMD passes.

Each kernel runs on the caller's thread; BLAS's threads do the matrix products. ``prange``
marks a loop whose iterations are independent (each row on its own): compiled here, as
it is, ``prange`` is ``range``. Compiled with ``parallel=True`` the rows would be spread
over the cores, but those threads and BLAS's, which spin while they wait for the next
product, fight for the cores: alone a loop runs 1.4-1.9x as fast on 2 threads, but a GPT
step at 2 threads is no faster (``benchmarks/kernel_facts.py``, item 2). Large attention
goes over the cores another way: its groups of heads, each thread with a share of them, the
BLAS's workers stopped for the while (:mod:`groundup.tensor.threads`).
Compiled code is cached on disk (``cache=True``), so only the first run pays for it.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic, overload

# reassociation lets sums vectorise; nan and inf keep their IEEE meaning (no 'fast' flag)
_FASTMATH = {"reassoc", "contract"}


def jit(loop: Any) -> Any:
    """``loop`` compiled on first use (once per argument types), cached on disk; 1/0 is inf,
    as in NumPy. It runs without Python's lock (``nogil``): threads run kernels side by
    side, as they do NumPy's passes."""
    return numba.njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")(loop)


# ---------------------------------------------------------------- exp inside a loop
# A loop that calls math.exp calls the C library once per entry, which the compiler cannot
# vectorise. So the kernels compute exp themselves, as Cephes does: x = n ln 2 + r with
# |r| <= ln 2 / 2, e^r as a polynomial (float32) or a ratio of two (float64), times 2^n made
# from n's bits. That is plain arithmetic the compiler vectorises, within 1 ulp of exp in
# float32 and 2 in float64, and it fuses into the loop around it: a softmax row is exp'd
# and summed in one pass. For 1M float32: 0.44 ms, against 0.59 for NumPy's SIMD pass and
# 3.48 for a loop calling math.exp (benchmarks/kernel_facts.py, item 1); on a CPU with
# AVX2 but no AVX-512 (an AMD EPYC), 0.89 ms against 3.49 and 5.9, and 1.74 ms when n went
# through an int64 (AVX2 turns no int64 vector into floats: 8 scalar conversions).

_EXP32 = tuple(np.float32(c) for c in (  # lowest x, 1 / ln 2, ln 2 in two parts, e^r's terms
    -88.3762626647949, 1.44269504088896341, 0.693359375, -2.12194440e-4,
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
    5.0000001201e-1, 1.0,
))  # fmt: skip
_EXP64 = (  # lowest x, 1 / ln 2, ln 2 in two parts, the ratio's terms
    -709.0, 1.4426950408889634073599, 6.93145751953125e-1,
    1.42860682030941723212e-6, 1.26177193074810590878e-4, 3.02994407707441961300e-2,
    9.99999999999999999910e-1, 3.00198505138664455042e-6, 2.52448340349684104192e-3,
    2.27265548208155028766e-1, 2.00000000000000000009e0, 1.0,
)  # fmt: skip


@intrinsic
def float_from_bits(typingctx: Any, bits: Any, like: Any) -> Any:
    """The float of ``like``'s type whose bits are the integer ``bits`` (its low 32 bits
    for a float32): a bit cast, as C's ``memcpy`` into a float, not a conversion."""
    width = like.bitwidth

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        word = args[0] if bits.bitwidth == width else builder.trunc(args[0], ir.IntType(width))
        return builder.bitcast(word, ir.FloatType() if width == 32 else ir.DoubleType())

    return like(bits, like), codegen


def exp_(x: Any) -> Any:
    """exp(x) for x <= 88 (a float32; 709 for a float64), in a form a compiled loop
    vectorises: see :func:`_exp_for`. 0 below about -88 (-708), and so for -inf; nan stays
    nan."""
    return math.exp(x)


@overload(exp_, inline="always")
def _exp_for(x: Any) -> Any:
    if x == types.float32:
        lo, log2e, ln2_hi, ln2_lo, c0, c1, c2, c3, c4, c5, one = _EXP32

        def exp32(x: Any) -> Any:
            a = max(x, lo)
            # round(a / ln 2), the 128 taken off as a float: int32 - 128 is an int64 in
            # numba, and AVX2 has no vector int64 -> float (8 scalar conversions, 4x slower)
            n = np.float32(np.int32(a * log2e + np.float32(128.5))) - np.float32(128)
            r = a - n * ln2_hi - n * ln2_lo  # the two parts keep r's low bits
            p = (((((c0 * r + c1) * r + c2) * r + c3) * r + c4) * r + c5) * (r * r) + r + one
            return p * float_from_bits((np.int32(n) + 127) << 23, one)  # type: ignore[call-arg]

        return exp32
    lo, log2e, ln2_hi, ln2_lo, p0, p1, p2, q0, q1, q2, q3, one = _EXP64

    def exp64(x: Any) -> Any:
        a = max(x, lo)
        n = float(np.int32(a * log2e + 1024.5)) - 1024.0  # AVX2 converts no int64 to float
        r = a - n * ln2_hi - n * ln2_lo
        rr = r * r
        px = r * ((p0 * rr + p1) * rr + p2)
        e = one + 2.0 * px / (((q0 * rr + q1) * rr + q2) * rr + q3 - px)  # Pade form
        return e * float_from_bits(np.int64(np.int32(n) + 1023) << 52, one)  # type: ignore[call-arg]

    return exp64


# ---------------------------------------------------------------- GELU, tanh form
# y = 0.5 x (1 + tanh(z)), z = c (x + k x^3); the tanh is NumPy's pass between two loops.
# The constants come in an array of the data's dtype: a Python float would widen float32
# arithmetic to float64 (half the lanes of a vector). Outputs never alias inputs, or the
# compiler cannot vectorise the loop (2x slower).


@jit
def gelu_inner(x: Any, const: Any, z: Any) -> None:
    """z = c (x + k x^3), over flat arrays; const = (c, k, 0.5, 1, 3 k)."""
    c, k = const[0], const[1]
    for i in prange(x.size):
        v = x[i]
        z[i] = c * (v + k * v * v * v)


@jit
def gelu_outer(x: Any, t: Any, const: Any, y: Any) -> None:
    """y = 0.5 x (1 + t), t = tanh(z)."""
    half, one = const[2], const[3]
    for i in prange(x.size):
        y[i] = half * x[i] * (one + t[i])


@jit
def gelu_backward(g: Any, x: Any, t: Any, const: Any, dx: Any) -> None:
    """dx = g (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 k x^2))."""
    c, half, one, k3 = const[0], const[2], const[3], const[4]
    for i in prange(x.size):
        v, th = x[i], t[i]
        dx[i] = g[i] * half * ((one + th) + v * (one - th * th) * c * (one + k3 * v * v))


# In float32 the whole formula is one loop: tanh is a ratio of two polynomials (Eigen's
# ptanh_float, within 3e-7 of tanh), plain arithmetic the compiler vectorises, where a
# call to the C library's tanh is scalar (50x slower than this loop). float64 keeps the
# loops above: the ratio is only float32-accurate. TANH32 is const[5:]: the clamp, then
# the odd numerator's and the even denominator's coefficients, highest power first. They
# go to tanh32 as a tuple of numbers: handed the array itself, the loop no longer
# vectorises (11-13x slower, benchmarks/kernel_facts.py).
TANH32 = (7.90531110763549805, -2.76076847742355e-16, 2.00018790482477e-13,
          -8.60467152213735e-11, 5.12229709037114e-08, 1.48572235717979e-05,
          6.37261928875436e-04, 4.89352455891786e-03, 1.19825839466702e-06,
          1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)  # fmt: skip


@numba.njit(cache=True)
def tanh32_coefficients(const: Any) -> Any:
    """const[5:17] as a tuple (what tanh32 takes)."""
    c = const[5:]
    return (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11])


@numba.njit(cache=True, fastmath=_FASTMATH, inline="always")
def tanh32(z: Any, r: Any) -> Any:
    """tanh(z) for float32 z: p(z) / q(z) on (-7.9, 7.9), and +-1 beyond (within 3e-7)."""
    a = min(max(z, -r[0]), r[0])
    z2 = a * a
    p = (((((r[1] * z2 + r[2]) * z2 + r[3]) * z2 + r[4]) * z2 + r[5]) * z2 + r[6]) * z2 + r[7]
    q = ((r[8] * z2 + r[9]) * z2 + r[10]) * z2 + r[11]
    return a * p / q if abs(z) < r[0] else a / r[0]  # exactly +-1: GELU's far tail is 0


@jit
def gelu32_forward(x: Any, const: Any, y: Any) -> None:
    """y = 0.5 x (1 + tanh(c (x + k x^3))), float32, one pass."""
    c, k, half, one, r = const[0], const[1], const[2], const[3], tanh32_coefficients(const)
    for i in prange(x.size):
        v = x[i]
        y[i] = half * v * (one + tanh32(c * (v + k * v * v * v), r))


@jit
def gelu32_backward(g: Any, x: Any, const: Any, dx: Any) -> None:
    """gelu_backward with tanh(z) made again in the loop, float32, one pass."""
    c, k, half, one, k3 = const[0], const[1], const[2], const[3], const[4]
    r = tanh32_coefficients(const)
    for i in prange(x.size):
        v = x[i]
        th = tanh32(c * (v + k * v * v * v), r)
        dx[i] = g[i] * half * ((one + th) + v * (one - th * th) * c * (one + k3 * v * v))


# ---------------------------------------------------------------- layer norm over rows (N, n)
# center = 1 is LayerNorm; center = 0 is RMSNorm (no mean taken out, b = 0).


@jit
def layer_norm_forward(
    x: Any, w: Any, b: Any, eps: float, center: float, y: Any, mean: Any, rstd: Any
) -> None:
    """y = (x - mean) * rstd * w + b per row; mean and rstd kept for the backward."""
    N, n = x.shape
    for i in prange(N):
        m = 0.0  # the sum in float64 whatever the dtype: the mean of close entries stays exact
        for j in range(n):
            m += x[i, j]
        m *= center / n
        # The loops below run in the data's dtype (float32 vectors hold twice the lanes), the
        # mean taken off in two parts, hi + lo = m: x - hi is exact for x near the mean.
        hi = x.dtype.type(m)
        lo = x.dtype.type(m - hi)
        var = x.dtype.type(0)
        for j in range(n):
            d = (x[i, j] - hi) - lo
            var += d * d
        r = 1.0 / math.sqrt(var / n + eps)
        r1 = x.dtype.type(r)
        for j in range(n):
            y[i, j] = ((x[i, j] - hi) - lo) * r1 * w[j] + b[j]
        mean[i], rstd[i] = m, r  # float64, for the backward


@jit
def layer_norm_backward(
    g: Any, x: Any, w: Any, mean: Any, rstd: Any, center: float, dx: Any, dw: Any, db: Any
) -> None:
    """dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = g w, per row; dw and
    db (float64) collect the column sums of g xhat and g."""
    N, n = x.shape
    for i in range(N):
        m, r = mean[i], rstd[i]
        mean_d = 0.0  # mean(dxhat)
        mean_dx = 0.0  # mean(dxhat * xhat)
        for j in range(n):
            xhat = (x[i, j] - m) * r
            d = g[i, j] * w[j]
            mean_d += d
            mean_dx += d * xhat
            dw[j] += g[i, j] * xhat
            db[j] += g[i, j]
        mean_d *= center / n  # RMSNorm's output does not move with the row's mean
        mean_dx /= n
        for j in range(n):
            xhat = (x[i, j] - m) * r
            dx[i, j] = (g[i, j] * w[j] - mean_d - xhat * mean_dx) * r


# ---------------------------------------------------------------- attention's softmax
# Scores (R, T, S): R = batch x heads rows of T queries against the S keys of a block (see
# Attention.forward_kernel). Row i sees its first seen[i] keys (i + 1 under a causal mask,
# else S), except where ``hidden`` (R, T, S, often a broadcast view) is True: the caller's
# boolean mask, or None. Columns from seen[i] on were computed but are not seen (a causal
# block's upper corner): their weights are 0. The exp, sum and scale loops run over a row's
# seen columns only (half the exps of a causal block), a column hidden by the mask taking
# exp(-inf) = 0, a choice of value the compiler vectorises where a branch around the exp
# leaves the loop scalar; then the rest of the row is zeroed. At 128 rows of 32 x 32, 64 x
# 64, and 48 of 256 x 256 (1 thread): 0.19, 0.57 and 2.8 ms, against 0.22-0.27, 0.80 and
# 4.7 for whole rows with the branch. A row is exp'd, summed and scaled while it sits in the
# cache.
# fused.softmax runs the same loop on its rows, as one batch (R = 1) of rows that see
# every column. hidden=None compiles a version of each loop without the mask's loads.


@jit
def scores_softmax(
    att: Any, scale: Any, hidden: Any, seen: Any, top: Any, total: Any, shift: Any = None
) -> None:
    """att <- softmax(att * scale) over each row's seen columns, 0 in the rest of the row;
    each row's max (of the scaled scores) kept in top (R, T) and its sum of exps in total.
    A caller who knows that every row's max lies within 80 of one number passes it as
    ``shift``, taken for every row's max: exp(x - shift) neither overflows nor underflows
    to a row of zeros, and the loop that finds each row's max (a scalar one) is skipped."""
    R, T, S = att.shape
    zero, unseen = att.dtype.type(0), att.dtype.type(-np.inf)
    for r in prange(R):
        for i in range(T):
            n = seen[i]
            m = unseen if shift is None else shift
            for j in range(n if shift is None else 0):
                if hidden is None or not hidden[r, i, j]:
                    m = max(m, att[r, i, j] * scale)
            t = zero  # in the data's dtype, as the lanes of vectors add it
            for j in range(n):
                x = att[r, i, j] * scale - m
                e = exp_(unseen if hidden is not None and hidden[r, i, j] else x)
                att[r, i, j] = e
                t += e
            inv = att.dtype.type(1.0 / t)
            for j in range(n):
                att[r, i, j] *= inv
            for j in range(n, S):
                att[r, i, j] = zero
            top[r, i], total[r, i] = m, t


@jit
def scores_replay(att: Any, scale: Any, hidden: Any, seen: Any, lse: Any) -> None:
    """att <- exp(att * scale - lse), lse the row's log-sum-exp, 0 where not seen: the
    forward's weights again, which were not kept."""
    R, T, S = att.shape
    for r in prange(R):
        for i in range(T):
            for j in range(seen[i]):
                if hidden is not None and hidden[r, i, j]:
                    att[r, i, j] = 0
                else:  # the difference in float64, the precision lse is kept in
                    att[r, i, j] = exp_(att.dtype.type(att[r, i, j] * scale - lse[r, i]))
            for j in range(seen[i], S):
                att[r, i, j] = 0


@jit
def softmax_backward(ds: Any, att: Any, scale: Any) -> None:
    """ds <- att (ds - sum(ds att)) * scale, row by row: from dA to the scores' gradient
    (0 where not seen, as the weight is)."""
    R, T, S = ds.shape
    for r in prange(R):
        for i in range(T):
            dot = ds.dtype.type(0)  # in the data's dtype, as the lanes of vectors add it
            for j in range(S):
                dot += ds[r, i, j] * att[r, i, j]
            for j in range(S):
                ds[r, i, j] = att[r, i, j] * (ds[r, i, j] - dot) * scale


# ---------------------------------------------------------------- cross-entropy over rows (N, C)


@jit
def cross_entropy_rows(x: Any, t: Any, e: Any, sumexp: Any, losses: Any) -> None:
    """Per row: e = exp(x - max), sumexp = sum(e), loss = log(sumexp) - (x[t] - max)."""
    N, C = x.shape
    for i in prange(N):
        m = x.dtype.type(-np.inf)
        for j in range(C):
            m = max(m, x[i, j])
        total = 0.0
        for j in range(C):
            v = exp_(x[i, j] - m)
            e[i, j] = v
            total += v
        sumexp[i] = total
        losses[i] = math.log(total) - (x[i, t[i]] - m)


@jit
def cross_entropy_backward(e: Any, t: Any, sumexp: Any, w: Any, dx: Any) -> None:
    """dx = (softmax - one_hot(t)) * w per row: e / sum e, minus w at the target."""
    N, C = e.shape
    for i in prange(N):
        scale = w[i] / sumexp[i]
        for j in range(C):
            dx[i, j] = e[i, j] * scale
        dx[i, t[i]] -= w[i]


# ---------------------------------------------------------------- linear's bias


@jit
def add_bias(y: Any, b: Any) -> None:
    """y[i] += b for each row i of y (N, out): NumPy's broadcast add, on every core."""
    N, n = y.shape
    for i in prange(N):
        for j in range(n):
            y[i, j] += b[j]


# ---------------------------------------------------------------- embedding


@jit
def embedding_backward(g: Any, idx: Any, out: Any) -> None:
    """out[idx[i]] += g[i] for each row i of g (N, D): an id seen twice collects both."""
    N, D = g.shape
    for i in range(N):
        row = idx[i]
        for j in range(D):
            out[row, j] += g[i, j]


# ---------------------------------------------------------------- the optimizer's passes
# NumPy's Adam makes about a dozen passes over each parameter's arrays (and a temporary per
# product); this is one, reading p, g, m, v once and writing p, m, v.


@jit
def adam_update(p: Any, g: Any, m: Any, v: Any, const: Any) -> None:
    """One Adam(W) step over flat arrays, the moments updated in place. const, in p's dtype:
    (sign of g, L2 weight decay, decoupled decay factor, 1 - b1, b2, 1 - b2,
    1 / sqrt(1 - b2^t), eps, lr / (1 - b1^t))."""
    sign, l2, keep, a1, b2, a2, c2, eps, step = (const[0], const[1], const[2], const[3],
                                                 const[4], const[5], const[6], const[7],
                                                 const[8])  # fmt: skip
    for i in prange(p.size):
        gi = sign * g[i] + l2 * p[i]  # Adam's L2 term (0 for AdamW)
        mi = m[i] + (gi - m[i]) * a1
        vi = v[i] * b2 + a2 * gi * gi
        m[i], v[i] = mi, vi
        p[i] = p[i] * keep - step * (mi / (math.sqrt(vi) * c2 + eps))


@numba.njit(cache=True, fastmath=_FASTMATH)
def sum_of_squares(g: Any) -> float:
    """sum(g^2) over a flat array, in float64 (for the gradient's norm): one pass, on one
    core (reading memory is the cost, and one core's order gives the same sum every run)."""
    total = 0.0
    for i in range(g.size):
        x = np.float64(g[i])
        total += x * x
    return total
