"""Benchmark: groundup's scalar engine against PyPI micrograd 0.1.0, in one process.

    .venv/bin/python benchmarks/scalar_engine.py [--repeats 7] [--nodes 1000000]

1. One training step of the moons demo (forward, backward, SGD update): 100 points,
   MLP(2, [16, 16, 1]), hinge loss + 1e-4 L2; the same code drives both engines. Each
   engine runs a training loop of ``1 + repeats`` steps, as a user would, with Python's
   garbage collector left on; we report the median step (the first is a warm-up). The
   engines run in turns, collecting garbage between turns so neither pays for the
   other's; the same loop with the collector off is printed for reference.
2. A 1,000,000-node graph (a chain v = v * a + b): time to build it, time to
   back-propagate, and the peak memory of the two (tracemalloc, in a separate pass).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import micrograd.engine  # noqa: E402
import micrograd.nn  # noqa: E402

import groundup.scalar  # noqa: E402
from groundup.data import make_moons  # noqa: E402


def moons_step(Value, model, X, y, lr=0.1):
    """One step of micrograd's demo: hinge loss + 1e-4 L2, backward, SGD update."""
    inputs = [[Value(a), Value(b)] for a, b in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    loss = data_loss + reg_loss
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss.data


def training_loop(Value, model, X, y, steps):
    """Seconds of each of ``steps`` consecutive training steps."""
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        moons_step(Value, model, X, y)
        times.append(time.perf_counter() - start)
    return times


def bench_moons(repeats: int, collector: bool) -> tuple[float, float]:
    X, y = make_moons(100, noise=0.1, seed=0)
    X, y = X.tolist(), y.tolist()
    ours = groundup.scalar.MLP(2, [16, 16, 1], seed=0)
    theirs = micrograd.nn.MLP(2, [16, 16, 1])
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        q.data = p.data  # same starting point, same work
    times: dict[str, list[float]] = {"ours": [], "micrograd": []}
    engines = [
        ("ours", groundup.scalar.Value, ours),
        ("micrograd", micrograd.engine.Value, theirs),
    ]
    # two turns each, alternating, so a change of machine load hits both engines
    per_turn = (repeats + 1) // 2 + 1
    for _ in range(2):
        for name, Value, model in engines:
            gc.collect()
            if not collector:
                gc.disable()
            try:
                times[name] += training_loop(Value, model, X, y, per_turn)[1:]  # drop warm-up
            finally:
                gc.enable()
    return statistics.median(times["ours"]), statistics.median(times["micrograd"])


def build_chain(n_nodes: int):
    x, a, b = (groundup.scalar.Value(v) for v in (1.0, 0.999999, 1e-6))
    v = x
    for _ in range((n_nodes - 2) // 2):  # 3 leaves + 2 nodes a step: >= n_nodes
        v = v * a + b
    return v, x


def bench_big_graph(n_nodes: int) -> dict[str, float]:
    gc.collect()
    start = time.perf_counter()
    out, x = build_chain(n_nodes)
    built = time.perf_counter()
    out.backward()
    done = time.perf_counter()
    n = len(groundup.scalar.topological_order(out))
    del out, x
    gc.collect()
    tracemalloc.start()
    out, x = build_chain(n_nodes)
    out.backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"nodes": n, "build": built - start, "backward": done - built, "peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed steps per engine (>= 5)")
    parser.add_argument("--nodes", type=int, default=1_000_000, help="size of the big graph")
    args = parser.parse_args()

    print(f"Python {sys.version.split()[0]}, micrograd 0.1.0 from PyPI, gc thresholds "
          f"{gc.get_threshold()}")  # fmt: skip
    print("moons training step: 100 points, MLP(2, [16, 16, 1]), hinge + 1e-4 L2")
    for collector in (True, False):
        ours, theirs = bench_moons(args.repeats, collector)
        label = "gc on (as users run it)" if collector else "gc off (reference only)"
        print(f"  {label:24s} ours {ours:.4f} s  micrograd {theirs:.4f} s  "
              f"ratio ours/micrograd {ours / theirs:.3f}")  # fmt: skip

    big = bench_big_graph(args.nodes)
    print(f"{big['nodes']:,}-node graph (chain v = v * a + b): build {big['build']:.2f} s, "
          f"backward {big['backward']:.2f} s, peak memory {big['peak'] / 2**20:.0f} MiB "
          f"({big['peak'] / big['nodes']:.0f} B/node, tracemalloc)")  # fmt: skip


if __name__ == "__main__":
    main()
