"""Forward + backward time of the engine's hot ops, ours against PyTorch CPU, same threads.

    .venv/bin/python benchmarks/tensor_ops.py [--repeats 15] [--threads 1 2]

Each thread count runs in a fresh subprocess whose BLAS/OpenMP thread variables are set
before NumPy and torch load (threadpoolctl is not a dependency), with
``torch.set_num_threads`` to match. Ours (the fast tier, with its compiled kernels when numba
is installed), ours with the kernels turned off (the NumPy code) and PyTorch alternate
within one run; the table shows the median time per call and the ratios (lower is better).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {"matmul": 1.1}  # every other op: 1.5
DEFAULT_TARGET = 1.5


def cases(np, torch, groundup, F, TF):
    """name -> (ours: () -> None, torch: () -> None), each one forward + backward, float32."""
    rng = np.random.default_rng(0)

    def pair(*shape):
        a = rng.standard_normal(shape).astype(np.float32)
        return groundup.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)

    def run(ours_fn, torch_fn, inputs):
        ours_in = [i[0] for i in inputs]
        ref_in = [i[1] for i in inputs]
        shape = ours_fn(*ours_in).shape
        g = rng.standard_normal(shape).astype(np.float32)
        tg = torch.tensor(g)

        def ours():
            for t in ours_in:
                t.grad = None
            ours_fn(*ours_in).backward(g)

        def ref():
            for t in ref_in:
                t.grad = None
            torch_fn(*ref_in).backward(tg)

        return ours, ref

    targets = rng.integers(0, 65, size=2048)
    tt = torch.tensor(targets)
    idx = rng.integers(0, 65, size=2048)
    ti = torch.tensor(idx)
    return {
        "matmul (32,64,128)@(128,512)": run(
            lambda a, b: a @ b, lambda a, b: a @ b, [pair(32, 64, 128), pair(128, 512)]
        ),
        "softmax (32,4,64,64)": run(
            lambda x: F.softmax(x, -1), lambda x: TF.softmax(x, -1), [pair(32, 4, 64, 64)]
        ),
        "cross_entropy (2048,65)": run(
            lambda x: F.cross_entropy(x, targets),
            lambda x: TF.cross_entropy(x, tt),
            [pair(2048, 65)],
        ),
        "layer_norm (2048,128)": run(
            lambda x, w, b: F.layer_norm(x, 128, w, b),
            lambda x, w, b: TF.layer_norm(x, (128,), w, b),
            [pair(2048, 128), pair(128), pair(128)],
        ),
        "gelu (2048,512)": run(
            lambda x: F.gelu(x, approximate="tanh"),
            lambda x: TF.gelu(x, approximate="tanh"),
            [pair(2048, 512)],
        ),
        "attention causal (32,4,64,32)": run(
            lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
            lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
            [pair(32, 4, 64, 32), pair(32, 4, 64, 32), pair(32, 4, 64, 32)],
        ),
        "embedding 2048 ids -> (65,128)": run(
            lambda w: F.embedding(idx, w), lambda w: TF.embedding(ti, w), [pair(65, 128)]
        ),
    }


def timeit(fn, min_time=0.02):
    """(wall, CPU) seconds per call, over enough calls to take ~min_time of wall time.

    CPU time (this process's) is the steadier figure on a busy shared machine, where wall
    time also counts waiting for a core; with 2 threads it also counts spinning threads.
    """
    n = 1
    while True:
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            fn()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if dt >= min_time:
            return dt / n, dc / n
        n *= 2


def worker(threads: int, repeats: int) -> None:
    import numpy as np
    import torch

    import groundup
    import groundup.nn.fused as F  # the kernels training runs
    from groundup._allocator import keep_freed_memory

    keep_freed_memory()  # as the groundup command does; torch runs in the same process
    torch.set_num_threads(threads)
    results = {}
    jit = F.kernels()

    def numpy_code(fn):  # the same op with the kernels turned off
        def run():
            F._KERNELS = None
            fn()
            F._KERNELS = jit

        return run

    for name, (ours, ref) in cases(np, torch, groundup, F, torch.nn.functional).items():
        ours(), ref(), numpy_code(ours)()  # warm up
        t_ours, t_ref, t_np = [], [], []
        for _ in range(repeats):  # alternate, so that machine noise hits all alike
            t_ours.append(timeit(ours))
            t_ref.append(timeit(ref))
            t_np.append(timeit(numpy_code(ours)))
        wall = float(np.median([t[0] for t in t_ours])), float(np.median([t[0] for t in t_ref]))
        cpu = float(np.median([t[1] for t in t_ours])), float(np.median([t[1] for t in t_ref]))
        results[name] = wall + cpu + (float(np.median([t[0] for t in t_np])),)
    print(json.dumps(results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed repeats per op (median)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.repeats)
        return 0
    print(
        "| op (forward + backward, float32) | threads | ours ms | torch ms | ours/torch "
        "| CPU-time ours/torch | target | NumPy code ms | NumPy code/torch |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.threads:
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS"):  # fmt: skip
            env[var] = str(n)
        cmd = [sys.executable, str(Path(__file__)), "--worker", str(n)]
        cmd += ["--repeats", str(args.repeats)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        for name, (ours, ref, cpu_ours, cpu_ref, numpy_code) in json.loads(
            out.splitlines()[-1]
        ).items():
            target = TARGETS.get(name.split()[0], DEFAULT_TARGET)
            ratio = ours / ref
            flag = "" if ratio <= target else " (miss)"
            print(
                f"| {name} | {n} | {ours * 1e3:.3f} | {ref * 1e3:.3f} | {ratio:.2f}{flag} "
                f"| {cpu_ours / cpu_ref:.2f} | <= {target} | {numpy_code * 1e3:.3f} "
                f"| {numpy_code / ref:.2f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
