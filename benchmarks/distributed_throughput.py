"""Data-parallel throughput: ``mpiexec -n 2 groundup train gpt`` (1 BLAS thread per rank)
against one process with 1 thread, at the `baby` shape (4 layers, 4 heads, 128 wide,
block 64) and a global batch of 32 sequences on tinyshakespeare.

    .venv/bin/python benchmarks/distributed_throughput.py               # 3 rounds of 60 steps
    .venv/bin/python benchmarks/distributed_throughput.py --steps 30 --rounds 1 --preset tiny

Needs the ``mpi`` extra (mpi4py, mpich). The two set-ups alternate, round after round, so a
machine that slows down in the middle hurts both alike. Each run is the real command; its
history.csv holds the tokens per second of every 10 steps, measured by the training loop
after the batch is drawn, the gradients summed and the step taken (start-up, data loading
and the final evaluation are left out). Printed: the median tokens/s of each set-up over
its rows (the first of each run left out as warm-up), and the ratio. On a machine with
two free cores the ratio approaches 2; it stays below because the ranks share the memory
bandwidth, each rank draws the whole batch, and the gradients (3.2 MB at `baby`) are
summed every step.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(ranks: int, args: argparse.Namespace, out: Path) -> list[float]:
    """Tokens/s of each logged interval but the first, from the run's history.csv."""
    command = [
        sys.executable, "-m", "groundup", "train", "gpt", "--preset", args.preset,
        "--batch-size", str(args.batch_size), "--max-iters", str(args.steps),
        "--eval-interval", str(args.steps), "--eval-iters", "1", "--dropout", "0",
        "--samples", "0", "--no-progress", "--out", str(out),
    ]  # fmt: skip
    if ranks > 1:
        mpiexec = shutil.which("mpiexec", path=f"{Path(sys.executable).parent}{os.pathsep}"
                               f"{os.environ.get('PATH', '')}")  # fmt: skip
        if mpiexec is None:
            sys.exit("mpiexec not found: pip install 'groundup[mpi]'")
        command = [mpiexec, "-n", str(ranks), *command]
    threads = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "MKL_NUM_THREADS")}  # fmt: skip
    env = {**os.environ, **threads, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)}\nfailed: {done.stderr.strip()}")
    rows = (out / "history.csv").read_text().splitlines()[1:]
    speeds = [float(row.split(",")[5]) for row in rows]
    return speeds[1:]  # the first row is step 0 alone: the warm-up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="baby", choices=["tiny", "baby", "lecture"])
    parser.add_argument("--batch-size", type=int, default=32, help="the global batch (32)")
    parser.add_argument("--steps", type=int, default=60, help="steps per run (60)")
    parser.add_argument("--rounds", type=int, default=3, help="alternations (3)")
    parser.add_argument("--ranks", type=int, default=2, help="ranks of the parallel run (2)")
    args = parser.parse_args()
    if args.steps < 30:
        parser.error("--steps must be at least 30: history.csv logs every 10 steps")
    speeds: dict[int, list[float]] = {1: [], args.ranks: []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for ranks in speeds:
                out = Path(tmp) / f"r{round_}-n{ranks}"
                speeds[ranks] += one_run(ranks, args, out)
                so_far = statistics.median(speeds[ranks])
                print(f"round {round_ + 1}, {ranks} rank(s): {so_far:,.0f} tokens/s so far",
                      flush=True)  # fmt: skip
    one, many = (statistics.median(speeds[n]) for n in speeds)
    print(f"\n{args.preset}, global batch {args.batch_size}, 1 thread per process:")
    print(f"  1 process:            {one:,.0f} tokens/s (median of {len(speeds[1])} intervals)")
    print(f"  {args.ranks} ranks (mpiexec):   {many:,.0f} tokens/s "
          f"(median of {len(speeds[args.ranks])} intervals)")  # fmt: skip
    print(f"  ratio: {many / one:.2f}x")


if __name__ == "__main__":
    main()
