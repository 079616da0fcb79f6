"""The measurements behind the compiled kernels' design (docs/design.md), in one run.

    .venv/bin/python benchmarks/kernel_facts.py      # one thread for NumPy, two for numba

1. exp of 1M float32: NumPy's SIMD pass, a compiled loop calling the C library's exp, and
   one computing it as the kernels do (``kernels.exp_``, a polynomial it vectorises).
2. Threads for the loops: the kernels compiled again with ``parallel=True`` (their
   ``prange`` rows spread over 2 numba threads, on arrays of 2^18 entries and more) against
   the serial kernels groundup runs: (a) the float32 GELU loop over 1M floats alone, (b) a
   10-float loop (what waking the threads costs), (c) a ``baby`` GPT training step with 2
   BLAS threads, the two kinds of kernels taking turns of 3 steps. OpenMP's threads wait
   asleep (``OMP_WAIT_POLICY=passive``) unless told otherwise: spinning, they take the
   cores from BLAS's. ``NUMBA_THREADING_LAYER=workqueue`` measures numba's other threads.
3. Aliasing: GELU's backward loop writing over one of its inputs, and into a fresh array.
4. Adam(W): the one-loop kernel (parameter and both moments) against NumPy's passes.
5. tanh GELU in float32: one loop (tanh as a ratio of polynomials) against the two loops
   around NumPy's SIMD tanh that float64 keeps.
6. RMS norm, forward + backward at (2048, 128), LayerNorm's loops against NumPy's code.
7. Causal attention (6 heads of 64) at T = 256 and 1024, forward + backward: the blocks
   that skip the products above the diagonal, against one block with a mask array.
8. The same attention at T = 256 with q, k and v views of one (B, T, 3 C) array, as the
   GPT makes them: the heads in groups of about 512 KB of weights, against all at once.
9. That attention with 2 BLAS threads, each call after a product of a Linear's size (so
   OpenBLAS's workers spin, as in a training step): the groups spread over two threads of
   ours (``groundup.tensor.threads.spread``) against all products on OpenBLAS's two; and
   the same at the baby GPT's shape (4 heads of 32, T = 64, batch 32), which does not
   spread (under ``Attention.SPREAD_FLOPS``), forced to.
Each figure is the median of repeated calls; the two sides of a comparison alternate.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import types
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "2")
os.environ.setdefault("NUMBA_THREADING_LAYER", "omp")
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

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


@numba.njit(fastmath={"reassoc", "contract"})
def kernels_exp(x, out):
    for i in range(x.size):
        out[i] = k.exp_(x[i])


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


PARALLEL_MIN = 2**18  # smaller arrays stay on one core: waking the threads costs more


def parallel_twin(kernel):
    """``kernel`` compiled with parallel=True, on arrays of PARALLEL_MIN entries and more.
    The twin gets its own name: numba's disk cache files a loop under its name and argument
    types, not its flags, so under one name the serial and the parallel loop would share
    one entry (whichever was compiled first would run for both)."""
    loop = kernel.py_func
    twin = types.FunctionType(loop.__code__, loop.__globals__, loop.__name__,
                              loop.__defaults__, loop.__closure__)  # fmt: skip
    twin.__qualname__ = f"{loop.__qualname__}_parallel"
    parallel = numba.njit(parallel=True, cache=True, fastmath=k._FASTMATH,
                          error_model="numpy")(twin)  # fmt: skip

    def run(first, *args):
        (parallel if first.size >= PARALLEL_MIN else kernel)(first, *args)

    run.parallel = parallel
    return run


# the kernels whose prange rows are independent (layer norm's backward and the embedding's
# add into shared sums: they stay serial on both sides)
ROW_KERNELS = ("gelu_inner", "gelu_outer", "gelu_backward", "gelu32_forward",
               "gelu32_backward", "layer_norm_forward", "scores_softmax",
               "scores_replay", "softmax_backward", "cross_entropy_rows",
               "cross_entropy_backward", "add_bias", "adam_update")  # fmt: skip


def gpt_steps_serial_and_parallel(turns: int = 10) -> tuple[float, float]:
    """Median ms of a baby GPT training step with the serial kernels and with their
    parallel twins, in turns of 3 steps (run with 2 BLAS threads)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import gpt_train as G

    from groundup._allocator import keep_freed_memory
    from groundup.models.gpt import GPT, GPTConfig
    from groundup.optim import AdamW, clip_grad_norm_

    keep_freed_memory()
    model = GPT(GPTConfig(**G.SHAPES["baby"][0], dropout=0.0), seed=G.SEED)
    opt = AdamW(model.optim_groups(G.WEIGHT_DECAY), lr=G.LR, betas=G.BETAS,
                weight_decay=G.WEIGHT_DECAY)  # fmt: skip
    batches = G.make_batches(3, "baby")
    serial = {name: getattr(k, name) for name in ROW_KERNELS}
    parallel = {name: parallel_twin(kernel) for name, kernel in serial.items()}

    def steps(kernels: dict, times: list[float]) -> None:
        for name, kernel in kernels.items():
            setattr(k, name, kernel)  # fused looks them up on the module at each call
        for x, y in batches:
            t0 = time.perf_counter()
            _, loss = model(x, y)
            opt.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), G.CLIP)
            opt.step()
            times.append(time.perf_counter() - t0)

    warm: list[float] = []
    steps(serial, warm)
    steps(parallel, warm)  # compiles the twins
    times: tuple[list[float], list[float]] = ([], [])
    for turn in range(turns):
        for side in (0, 1) if turn % 2 == 0 else (1, 0):
            steps((serial, parallel)[side], times[side])
    steps(serial, warm)
    return 1e3 * float(np.median(times[0])), 1e3 * float(np.median(times[1]))


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
    layer, threads = numba.config.THREADING_LAYER, numba.get_num_threads()
    print(f"numba {numba.__version__}, threading layer {layer}, {threads} numba threads; "
          f"NumPy {np.__version__}, 1 BLAS thread")  # fmt: skip

    a, b, c = race(lambda: np.exp(x, out=out), lambda: scalar_exp(x, out),
                   lambda: kernels_exp(x, out), repeats=50)  # fmt: skip
    print(f"1. exp of 1M float32: NumPy {a / 1e3:.2f} ms, a compiled loop calling math.exp "
          f"{b / 1e3:.2f} ms, the kernels' exp_ {c / 1e3:.2f} ms")  # fmt: skip

    gelu32 = np.array([0.7978846, 0.044715, 0.5, 1.0, 3 * 0.044715, *k.TANH32], np.float32)
    twin = parallel_twin(k.gelu32_forward).parallel
    a, b = race(lambda: k.gelu32_forward(x, gelu32, y), lambda: twin(x, gelu32, y), repeats=50)
    print(f"2a. float32 GELU over 1M floats alone: serial {a / 1e3:.3f} ms, "
          f"{numba.get_num_threads()} threads {b / 1e3:.3f} ms")  # fmt: skip
    s = np.ones(10, np.float32)
    z = np.empty_like(s)
    twin = parallel_twin(k.gelu_inner).parallel
    a, b = race(lambda: k.gelu_inner(s, const, z), lambda: twin(s, const, z))
    print(f"2b. a 10-float loop: serial {a:.1f} us, handed to the threads {b:.1f} us")
    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    step = subprocess.run([sys.executable, __file__, "--gpt-step"], env=env, check=True,
                          capture_output=True, text=True).stdout.split()  # fmt: skip
    print(f"2c. a baby GPT training step, 2 BLAS threads: serial kernels {step[0]} ms, "
          f"parallel {step[1]} ms ({numba.threading_layer()} threads)")  # fmt: skip

    g, t2 = np.ones_like(x), t.copy()  # t2: overwritten by the aliased runs (timing only)
    a, b = race(lambda: k.gelu_backward(g, x, t2, const, t2),
                lambda: k.gelu_backward(g, x, t, const, y), repeats=50)  # fmt: skip
    print(
        f"3. GELU backward over 1M floats: writing over its input {a / 1e3:.2f} ms, "
        f"into another array {b / 1e3:.2f} ms"
    )

    adam = np.array([1, 0, 0.9999, 0.1, 0.99, 0.01, 1 / 0.3, 1e-8, 0.01], np.float32)
    for n in (2**16, 2**23):  # a small parameter; about the lecture GPT's 10.7M in all
        p, gr, m, v = (rng.random(n).astype(np.float32) for _ in range(4))
        a, b = race(lambda: k.adam_update(p, gr, m, v, adam),  # noqa: B023
                    lambda: adam_numpy(p, gr, m, v), repeats=50 if n < 2**20 else 9)  # noqa: B023  # fmt: skip
        print(f"4. Adam(W) over {n:,} floats: the kernel {a:.0f} us, NumPy's passes {b:.0f} us")

    z = rng.standard_normal(3 * 2**20).astype(np.float32) * 3
    out3, t3 = np.empty_like(z), np.empty_like(z)

    def two_loops():  # the float64 form: two loops around NumPy's tanh
        k.gelu_inner(z, gelu32, t3)
        np.tanh(t3, out=t3)
        k.gelu_outer(z, t3, gelu32, out3)

    a, b = race(lambda: k.gelu32_forward(z, gelu32, out3), two_loops, repeats=30)
    print(f"5. tanh GELU over 3M float32: one loop with tanh's ratio {a / 1e3:.2f} ms, "
          f"two loops around NumPy's tanh {b / 1e3:.2f} ms")  # fmt: skip
    a, b = race(lambda: k.gelu32_forward(z, gelu32, out3),
                lambda: gelu32_array_into_the_helper(z, gelu32, out3), repeats=15)  # fmt: skip
    print(f"5b. the same loop, tanh's constants as a tuple {a / 1e3:.2f} ms, "
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
        f"6. RMS norm (2048, 128), forward + backward: kernels {a / 1e3:.3f} ms, "
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
        print(f"7. causal attention, batch {B}, T = {T}, forward + backward: blocks "
              f"{a / 1e3:.1f} ms, one block with a mask array {b / 1e3:.1f} ms")  # fmt: skip

    B, T, H, D = 8, 256, 6, 64  # the lecture GPT's attention, q k v as the model slices them
    qkv = groundup.Tensor(rng.standard_normal((B, T, 3 * H * D)).astype(np.float32),
                          requires_grad=True)  # fmt: skip
    g = rng.standard_normal((B, H, T, D)).astype(np.float32)
    cache = fused.Attention.CACHE_BYTES

    def grouped(groups: bool):
        def run():
            fused.Attention.CACHE_BYTES = cache if groups else 2**62
            q, k_, v = qkv.view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)  # 3 x (B, H, T, D)
            fused.scaled_dot_product_attention(q, k_, v, is_causal=True).backward(g)
            qkv.grad = None

        return run

    a, b = race(grouped(True), grouped(False), repeats=15)
    fused.Attention.CACHE_BYTES = cache
    print(f"8. causal attention, batch {B}, T = {T}, the GPT's views: heads in groups "
          f"{a / 1e3:.1f} ms, all at once {b / 1e3:.1f} ms")  # fmt: skip

    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    spread = subprocess.run([sys.executable, __file__, "--spread"], env=env, check=True,
                            capture_output=True, text=True).stdout.split()  # fmt: skip
    print(f"9. causal attention, the GPT's views, forward + backward, 2 BLAS threads: "
          f"lecture (batch 8, T = 256) spread {spread[0]} ms, on OpenBLAS's threads "
          f"{spread[1]} ms; baby (batch 32, T = 64) spread {spread[2]} ms, on OpenBLAS's "
          f"threads {spread[3]} ms")  # fmt: skip
    return 0


def spread_and_not(repeats: int = 15) -> list[float]:
    """Item 9 (run with 2 BLAS threads): median ms of attention spread over our threads
    and on OpenBLAS's, at the lecture's shape and the baby's."""
    rng = np.random.default_rng(0)
    figures, flops = [], fused.Attention.SPREAD_FLOPS
    for B, T, H, D in ((8, 256, 6, 64), (32, 64, 4, 32)):
        qkv = groundup.Tensor(rng.standard_normal((B, T, 3 * H * D)).astype(np.float32),
                              requires_grad=True)  # fmt: skip
        g = rng.standard_normal((B, H, T, D)).astype(np.float32)
        x = rng.standard_normal((B * T, H * D)).astype(np.float32)
        w = rng.standard_normal((H * D, 4 * H * D)).astype(np.float32)

        def attention(spread: bool, qkv=qkv, g=g, x=x, w=w, B=B, T=T, H=H, D=D) -> float:
            """Seconds of one forward + backward, after a product of a Linear's size
            (OpenBLAS's workers spin after it, as in a step)."""
            fused.Attention.SPREAD_FLOPS = 0 if spread else 2**62
            x @ w
            t0 = time.perf_counter()
            q, k_, v = qkv.view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)
            fused.scaled_dot_product_attention(q, k_, v, is_causal=True).backward(g)
            qkv.grad = None
            return time.perf_counter() - t0

        times: list[list[float]] = [[], []]
        for turn in range(repeats + 1):  # the first turn warms up
            for i in (0, 1) if turn % 2 else (1, 0):
                if turn:
                    times[i].append(attention(i == 0))
                else:
                    attention(i == 0)
        figures += [1e3 * sorted(t)[len(t) // 2] for t in times]
    fused.Attention.SPREAD_FLOPS = flops
    return figures


if __name__ == "__main__":
    if sys.argv[1:] == ["--gpt-step"]:
        print(*(f"{t:.1f}" for t in gpt_steps_serial_and_parallel()))
        sys.exit(0)
    if sys.argv[1:] == ["--spread"]:
        print(*(f"{t:.1f}" for t in spread_and_not()))
        sys.exit(0)
    sys.exit(main())
