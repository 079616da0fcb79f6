"""Two source trees' GPT training steps, side by side: did a change make the step faster?

    git worktree add /tmp/before HEAD~3
    .venv/bin/python benchmarks/gpt_ab.py /tmp/before . --shape tiny --steps 150

Each tree's ``benchmarks/gpt_train.py`` runs as a worker process (its ``--worker groundup``
mode) with that tree's ``src`` first on ``PYTHONPATH``, so both run the same model, batches
and AdamW step, each with its own code. The two take turns of 5 steps (ABAB, the first
turn alternating), so a machine that slows down slows both alike; printed are the median
ms/step of each (the first 5 steps left out) and B/A, with the largest gap between their
losses. On a shared 2-core VM the figures move by several percent from run to run: take
150 tiny steps or 60 baby ones, and run it twice with the trees swapped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpt_train import BLOCK, WARMUP, Worker, median  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="the first tree (a checkout of groundup)")
    parser.add_argument("b", type=Path, help="the second tree")
    parser.add_argument("--shape", default="tiny", choices=["tiny", "baby", "lecture"],
                        help="preset of benchmarks/gpt_train.py (default tiny)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads of both workers (default 1)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=150,
                        help="training steps of each tree (default 150)")  # fmt: skip
    args = parser.parse_args()
    for tree in (args.a, args.b):
        if not (tree / "benchmarks" / "gpt_train.py").is_file():
            parser.error(f"{tree}: expected a groundup checkout (no benchmarks/gpt_train.py)")
    for flag, value, least in (("--threads", args.threads, 1), ("--steps", args.steps, 11)):
        if value < least:
            parser.error(f"{flag} {value}: expected a whole number >= {least}")
    workers = [Worker("groundup", args.shape, args.steps, args.threads, "keep", t.resolve())
               for t in (args.a, args.b)]  # fmt: skip
    for turn, first in enumerate(range(0, args.steps, BLOCK)):
        for w in workers if turn % 2 == 0 else workers[::-1]:
            time.sleep(0.05)
            w.run(first, min(BLOCK, args.steps - first))
    a, b = (1e3 * median(w.times[WARMUP:]) for w in workers)
    gap = max(abs(x - y) for x, y in zip(workers[0].losses, workers[1].losses, strict=True))
    print(f"{args.shape}, {args.threads} thread(s), {args.steps} steps: A {a:.2f} ms/step, "
          f"B {b:.2f} ms/step, B/A {b / a:.3f}; max |loss gap| {gap:.2e}")  # fmt: skip
    for w in workers:
        w.ask("finish")
    return 0


if __name__ == "__main__":
    sys.exit(main())
