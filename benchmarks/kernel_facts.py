"""The measurements behind the compiled kernels' design (docs/design.md), in one run.

    .venv/bin/python benchmarks/kernel_facts.py      # one thread for NumPy, two for numba

1. NumPy's SIMD float32 exp against the scalar exp a compiled loop calls (1M floats).
2. What handing a loop to numba's threads costs: a 10-float loop, serial and parallel.
3. Aliasing: GELU's backward loop writing over one of its inputs, and into a fresh array.
4. Memory bandwidth: GELU's output loop over 1M floats on one thread and on two.
5. Adam(W): the one-loop kernel (parameter and both moments) against NumPy's passes.
6. tanh GELU in float32: one loop (tanh as a ratio of polynomials) against the two loops
   around NumPy's SIMD tanh that float64 keeps.
7. RMS norm, forward + backward at (2048, 128), LayerNorm's loops against NumPy's code.
8. Causal attention (6 heads of 64) at T = 256 and 1024, forward + backward: the blocks
   that skip the products above the diagonal, against one block with a mask array.
Each figure is the median of repeated calls; the two sides of a comparison alternate.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import groundup  # noqa: E402
from groundup.nn import fused  # noqa: E402
from groundup.nn import kernels as k  # noqa: E402


def race(*fns, repeats: int = 200) -> list[float]:
    """Median microseconds of each fn, calls alternated."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return [1e6 * float(np.median(t)) for t in times]


@numba.njit(fastmath={"reassoc", "contract"})
def scalar_exp(x, out):
    for i in range(x.size):
        out[i] = math.exp(x[i])


@numba.njit(fastmath={"reassoc", "contract"}, error_model="numpy", inline="always")
def tanh32_from_the_array(z, c):
    """kernels.tanh32, taking the constants' array itself instead of a tuple of them."""
    a = min(max(z, -c[5]), c[5])
    z2 = a * a
    p = (((((c[6] * z2 + c[7]) * z2 + c[8]) * z2 + c[9]) * z2 + c[10]) * z2 + c[11]) * z2 + c[12]
    q = ((c[13] * z2 + c[14]) * z2 + c[15]) * z2 + c[16]
    return a * p / q if abs(z) < c[5] else a / c[5]


@numba.njit(fastmath={"reassoc", "contract"}, error_model="numpy")
def gelu32_array_into_the_helper(x, const, y):
    """gelu32_forward, handing the constants' array to its tanh."""
    c, kk, half, one = const[0], const[1], const[2], const[3]
    for i in range(x.size):
        v = x[i]
        y[i] = half * v * (one + tanh32_from_the_array(c * (v + kk * v * v * v), const))


def adam_numpy(p, g, m, v):
    p *= 0.9999
    m += (g - m) * 0.1
    v *= 0.99
    v += 0.01 * g * g
    p -= 0.01 * (m / (np.sqrt(v) / 0.3 + 1e-8))


def main() -> int:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(2**20).astype(np.float32)
    out, t, y = np.empty_like(x), np.tanh(x), np.empty_like(x)
    const = np.array([0.7978846, 0.044715, 0.5, 1.0, 3 * 0.044715], np.float32)
    print(f"numba {numba.__version__}, threading layer {numba.threading_layer()}, "
          f"{k.THREADS} numba threads; NumPy {np.__version__}, 1 BLAS thread")  # fmt: skip

    a, b = race(lambda: np.exp(x, out=out), lambda: scalar_exp(x, out), repeats=50)
    print(f"1. exp of 1M float32: NumPy {a / 1e3:.2f} ms, a compiled loop {b / 1e3:.2f} ms")

    s = np.ones(10, np.float32)
    z = np.empty_like(s)
    a, b = race(
        lambda: k.gelu_inner.serial(s, const, z), lambda: k.gelu_inner.parallel(s, const, z)
    )
    print(f"2. a 10-float loop: serial {a:.1f} us, handed to the threads {b:.1f} us")

    g, t2 = np.ones_like(x), t.copy()  # t2: overwritten by the aliased runs (timing only)
    a, b = race(lambda: k.gelu_backward.serial(g, x, t2, const, t2),
                lambda: k.gelu_backward.serial(g, x, t, const, y), repeats=50)  # fmt: skip
    print(
        f"3. GELU backward over 1M floats: writing over its input {a / 1e3:.2f} ms, "
        f"into another array {b / 1e3:.2f} ms"
    )

    a, b = race(lambda: k.gelu_outer.serial(x, t, const, y),
                lambda: k.gelu_outer.parallel(x, t, const, y), repeats=50)  # fmt: skip
    print(
        f"4. GELU's output loop over 1M floats: 1 thread {a / 1e3:.3f} ms, "
        f"{k.THREADS} threads {b / 1e3:.3f} ms"
    )

    adam = np.array([1, 0, 0.9999, 0.1, 0.99, 0.01, 1 / 0.3, 1e-8, 0.01], np.float32)
    for n in (2**16, 2**23):  # a small parameter; about the lecture GPT's 10.7M in all
        p, gr, m, v = (rng.random(n).astype(np.float32) for _ in range(4))
        a, b = race(lambda: k.adam_update.serial(p, gr, m, v, adam),  # noqa: B023
                    lambda: adam_numpy(p, gr, m, v), repeats=50 if n < 2**20 else 9)  # noqa: B023  # fmt: skip
        print(f"5. Adam(W) over {n:,} floats: the kernel {a:.0f} us, NumPy's passes {b:.0f} us")

    z = rng.standard_normal(3 * 2**20).astype(np.float32) * 3
    out3, t3 = np.empty_like(z), np.empty_like(z)
    gelu = np.array([0.7978846, 0.044715, 0.5, 1.0, 3 * 0.044715, *k.TANH32], np.float32)

    def two_loops():  # the float64 form: two loops around NumPy's tanh
        k.gelu_inner.serial(z, gelu, t3)
        np.tanh(t3, out=t3)
        k.gelu_outer.serial(z, t3, gelu, out3)

    a, b = race(lambda: k.gelu32_forward.serial(z, gelu, out3), two_loops, repeats=30)
    print(f"6. tanh GELU over 3M float32: one loop with tanh's ratio {a / 1e3:.2f} ms, "
          f"two loops around NumPy's tanh {b / 1e3:.2f} ms")  # fmt: skip
    a, b = race(lambda: k.gelu32_forward.serial(z, gelu, out3),
                lambda: gelu32_array_into_the_helper(z, gelu, out3), repeats=15)  # fmt: skip
    print(f"6b. the same loop, tanh's constants as a tuple {a / 1e3:.2f} ms, "
          f"as the array handed to tanh {b / 1e3:.2f} ms")  # fmt: skip

    xt = groundup.Tensor(rng.standard_normal((2048, 128)).astype(np.float32), requires_grad=True)
    w = groundup.Tensor(np.ones(128, np.float32), requires_grad=True)
    grad = rng.standard_normal((2048, 128)).astype(np.float32)
    jit = fused.kernels()

    def rms(on: bool):
        def run():
            fused._KERNELS = jit if on else None
            fused.rms_norm(xt, 128, w).backward(grad)
            xt.grad = w.grad = None
            fused._KERNELS = jit

        return run

    a, b = race(rms(True), rms(False), repeats=60)
    print(
        f"7. RMS norm (2048, 128), forward + backward: kernels {a / 1e3:.3f} ms, "
        f"NumPy's code {b / 1e3:.3f} ms"
    )

    for B, T in ((8, 256), (2, 1024)):  # 6 heads of 64: the lecture GPT's attention, and longer
        qkv = [groundup.Tensor(rng.standard_normal((B, 6, T, 64)).astype(np.float32),
                               requires_grad=True) for _ in range(3)]  # fmt: skip
        g = rng.standard_normal((B, 6, T, 64)).astype(np.float32)
        causal_mask = ~np.tril(np.ones((T, T), dtype=bool))

        def attention(blocks: bool, qkv=qkv, g=g, hidden=causal_mask):
            def run():  # blocks: is_causal; one block: the same mask given as an array
                kw = dict(is_causal=True) if blocks else dict(attn_mask=~hidden)
                fused.scaled_dot_product_attention(*qkv, **kw).backward(g)
                for t in qkv:
                    t.grad = None

            return run

        a, b = race(attention(True), attention(False), repeats=9)
        print(f"8. causal attention, batch {B}, T = {T}, forward + backward: blocks "
              f"{a / 1e3:.1f} ms, one block with a mask array {b / 1e3:.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
