"""Benchmark: groundup's scalar engine against PyPI micrograd 0.1.0, in one process.

    .venv/bin/python benchmarks/scalar_engine.py [--rounds 4] [--steps 10] [--nodes 1000000]

1. The moons training step (forward, backward, SGD update): 100 points, MLP(2, [16, 16, 1]),
   hinge loss + 1e-4 L2; the same code drives both engines. A *turn* is one engine training
   a fresh copy of the same model for ``steps`` steps, as a user would, with Python's
   garbage collector on; every turn starts with ``gc.collect()``, so neither engine pays
   for the other's garbage. The engines take turns ABAB, and which goes first alternates
   from round to round (AB, BA, AB, ...), so a change of machine load or a warm cache
   favours neither. Reported: the first step of a turn (median over the rounds: it pays
   for the collector's first passes over a fresh heap) and the median of steps 2..steps,
   each with the ratio ours / micrograd and the worst round's ratio (whoever went first).
   The same with the collector off is printed too.
2. A 1,000,000-node graph (a chain v = v * a + b): time to build it, time to
   back-propagate, and the peak memory of the two (tracemalloc, in a separate pass).

Timings on a shared machine are indicative; the ratios, measured in the same run, are the
figures to compare.
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

TARGETS = {True: 0.10, False: 0.35}  # ours / micrograd, gc on / off (issue 17)


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


def models(init):
    """A fresh pair of models, ours and micrograd's, both starting from ``init``."""
    ours = groundup.scalar.MLP(2, [16, 16, 1], seed=0)
    theirs = micrograd.nn.MLP(2, [16, 16, 1])
    for p, q, v in zip(ours.parameters(), theirs.parameters(), init, strict=True):
        p.data = q.data = v  # same starting point, same work
    return {"ours": (groundup.scalar.Value, ours), "micrograd": (micrograd.engine.Value, theirs)}


def turn(Value, model, X, y, steps: int, collector: bool) -> list[float]:
    """Seconds of each of ``steps`` consecutive training steps, after a full collection."""
    gc.collect()
    if not collector:
        gc.disable()
    times = []
    try:
        for _ in range(steps):
            start = time.perf_counter()
            moons_step(Value, model, X, y)
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return times


def bench_moons(rounds: int, steps: int, collector: bool) -> dict[str, list[list[float]]]:
    """Per engine, per round: the seconds of each step of its turn."""
    X, y = make_moons(100, noise=0.1, seed=0)
    X, y = X.tolist(), y.tolist()
    init = [p.data for p in groundup.scalar.MLP(2, [16, 16, 1], seed=0).parameters()]
    times: dict[str, list[list[float]]] = {"ours": [], "micrograd": []}
    for r in range(rounds):
        pair = models(init)
        for name in ("ours", "micrograd") if r % 2 == 0 else ("micrograd", "ours"):
            Value, model = pair[name]
            times[name].append(turn(Value, model, X, y, steps, collector))
        del pair
    return times


def summary(turns: list[list[float]], which: slice) -> tuple[float, list[float]]:
    """The median over all turns of the steps in ``which``, and each turn's own median."""
    per_turn = [statistics.median(t[which]) for t in turns]
    return statistics.median([s for t in turns for s in t[which]]), per_turn


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
    parser.add_argument("--rounds", type=int, default=4, help="turns per engine (>= 1)")
    parser.add_argument("--steps", type=int, default=10, help="training steps a turn (>= 2)")
    parser.add_argument("--nodes", type=int, default=1_000_000, help="size of the big graph")
    args = parser.parse_args()
    if args.rounds < 1 or args.steps < 2:
        parser.error(f"need --rounds >= 1 and --steps >= 2, got {args.rounds}, {args.steps}")

    print(f"Python {sys.version.split()[0]}, micrograd 0.1.0 from PyPI, gc thresholds "
          f"{gc.get_threshold()}")  # fmt: skip
    print(f"moons training step: 100 points, MLP(2, [16, 16, 1]), hinge + 1e-4 L2; "
          f"{args.rounds} rounds of {args.steps} steps an engine, gc.collect() before each "
          f"turn, turns alternated")  # fmt: skip
    for collector in (True, False):
        times = bench_moons(args.rounds, args.steps, collector)
        label = "gc on (as users run it)" if collector else "gc off (for reference)"
        print(f"  {label}, target ratio <= {TARGETS[collector]:.2f}")
        rows = ((slice(0, 1), "first step"), (slice(1, None), f"steps 2..{args.steps}, median"))
        for which, what in rows:
            ours, ours_turns = summary(times["ours"], which)
            theirs, their_turns = summary(times["micrograd"], which)
            worst = max(a / b for a, b in zip(ours_turns, their_turns, strict=True))
            print(f"    {what:20s} ours {ours:.4f} s  micrograd {theirs:.4f} s  "
                  f"ratio ours/micrograd {ours / theirs:.3f}, worst round {worst:.3f}")  # fmt: skip

    big = bench_big_graph(args.nodes)
    print(f"{big['nodes']:,}-node graph (chain v = v * a + b): build {big['build']:.2f} s, "
          f"backward {big['backward']:.2f} s, peak memory {big['peak'] / 2**20:.0f} MiB "
          f"({big['peak'] / big['nodes']:.0f} B/node, tracemalloc)")  # fmt: skip


if __name__ == "__main__":
    main()
