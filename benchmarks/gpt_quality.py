"""The quality figures of stage 4, each one a `groundup train gpt` command (long runs).

    .venv/bin/python benchmarks/gpt_quality.py                  # the three of issue 6 (met)
    .venv/bin/python benchmarks/gpt_quality.py tiny names       # some of them
    .venv/bin/python benchmarks/gpt_quality.py --report-only    # table of finished runs

Each run writes runs/quality-<name>/ (metrics.json: val loss on the whole validation split,
test loss for words) and runs with one BLAS thread (OMP_NUM_THREADS=1: on 2 shared cores
more threads only spin). The table compares them with the targets of issue 6 and the
published figures. Data: tinyshakespeare (90/10 split of the stream) and makemore's
names.txt (80/10/10 by word, seed 42, the split of stages 2-3), both shipped with groundup.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAMES = "names"  # makemore's names.txt, shipped with the package

# name -> (groundup train gpt arguments, metric, target, published figure, what)
RUNS = {
    "tiny": (
        ["--preset", "tiny", "--batch-size", "16", "--lr", "1e-3", "--max-iters", "5000",
         "--eval-interval", "500"],
        "val_loss", 1.82, 1.8207, "tiny 4/4/64 block 32 (206k), the course notebook's run",
    ),
    "tiny-course": (
        ["--preset", "tiny", "--batch-size", "16", "--lr", "1e-3", "--max-iters", "5000",
         "--eval-interval", "500", "--weight-decay", "0.01", "--no-tie-weights"],
        "val_loss", 1.82, 1.8207, "same, untied head and weight decay 0.01 (210k, as the course)",
    ),
    "tiny-constant": (
        ["--preset", "tiny", "--batch-size", "16", "--lr", "1e-3", "--min-lr", "1e-3",
         "--max-iters", "5000", "--eval-interval", "500", "--weight-decay", "0.01",
         "--no-tie-weights"],
        "val_loss", 1.82, 1.8207, "same, constant lr after warmup (the course's schedule)",
    ),
    "tiny-course-init": (
        ["--preset", "tiny", "--batch-size", "16", "--lr", "1e-3", "--max-iters", "5000",
         "--eval-interval", "500", "--no-tie-weights", "--weight-decay", "0.01", "--min-lr",
         "1e-3", "--warmup", "0", "--init", "pytorch"],
        "val_loss", 1.82, 1.8207, "the course's recipe: PyTorch init, untied, constant lr",
    ),
    "baby": (
        ["--preset", "baby", "--batch-size", "12", "--lr", "1e-3", "--max-iters", "2000",
         "--eval-interval", "250", "--dropout", "0"],
        "val_loss", 1.88, 1.88, "baby 4/4/128 block 64 (810k), nanoGPT's CPU run",
    ),
    "baby-course": (
        ["--preset", "baby", "--batch-size", "12", "--lr", "1e-3", "--max-iters", "2000",
         "--eval-interval", "500", "--dropout", "0", "--init", "pytorch", "--no-tie-weights"],
        "val_loss", 1.88, 1.88, "same, PyTorch init and untied head (818k)",
    ),
    "names": (
        ["--preset", "tiny", "--data", NAMES, "--words", "--batch-size", "32", "--lr", "1e-3",
         "--max-iters", "5000", "--eval-interval", "500"],
        "test_loss", 1.95, 1.92, "tiny on names, block 16 (203k), makemore's transformer",
    ),
    "names-12k": (
        ["--preset", "tiny", "--data", NAMES, "--words", "--batch-size", "32", "--lr", "1e-3",
         "--max-iters", "12000", "--eval-interval", "1000"],
        "test_loss", 1.95, 1.92, "same, 12,000 steps",
    ),
    "names-b64": (
        ["--preset", "tiny", "--data", NAMES, "--words", "--batch-size", "64", "--lr", "2e-3",
         "--weight-decay", "0.01", "--max-iters", "10000", "--eval-interval", "1000"],
        "test_loss", 1.95, 1.92, "same, batch 64, lr 2e-3, weight decay 0.01, 10,000 steps",
    ),
    "names-d01": (
        ["--preset", "tiny", "--data", NAMES, "--words", "--batch-size", "64", "--lr", "2e-3",
         "--weight-decay", "0.1", "--dropout", "0.1", "--max-iters", "20000",
         "--eval-interval", "1000"],
        "test_loss", 1.95, 1.92, "same, dropout 0.1, weight decay 0.1, 20,000 steps",
    ),
    "names-d02": (
        ["--preset", "tiny", "--data", NAMES, "--words", "--batch-size", "64", "--lr", "2e-3",
         "--weight-decay", "0.1", "--dropout", "0.2", "--max-iters", "20000",
         "--eval-interval", "1000"],
        "test_loss", 1.95, 1.92, "same, dropout 0.2",
    ),
    "names-d01-30k": (
        ["--preset", "tiny", "--data", NAMES, "--words", "--batch-size", "64", "--lr", "2e-3",
         "--weight-decay", "0.1", "--dropout", "0.1", "--max-iters", "30000",
         "--eval-interval", "1000"],
        "test_loss", 1.95, 1.92, "dropout 0.1, weight decay 0.1, 30,000 steps",
    ),
    "names-d01-course": (
        ["--preset", "tiny", "--data", NAMES, "--words", "--batch-size", "64", "--lr", "2e-3",
         "--weight-decay", "0.1", "--dropout", "0.1", "--max-iters", "20000",
         "--eval-interval", "1000", "--init", "pytorch", "--no-tie-weights"],
        "test_loss", 1.95, 1.92, "dropout 0.1, 20,000 steps, PyTorch init, untied head",
    ),
}  # fmt: skip
# the runs that meet issue 6's three quality targets
DEFAULT = ["tiny-course-init", "baby-course", "names-d01-30k"]


def command(name: str) -> list[str]:
    args, *_ = RUNS[name]
    return ["groundup", "train", "gpt", *args, "--out", f"runs/quality-{name}", "--no-progress"]


def run(name: str) -> float:
    """Run one quality command; returns its wall time in seconds."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}  # fmt: skip
    cmd = command(name)
    exe = Path(sys.executable).with_name("groundup")
    print(" ".join(cmd), flush=True)
    t0 = time.perf_counter()
    subprocess.run([str(exe), *cmd[1:]], cwd=REPO, env=env, check=True)
    return time.perf_counter() - t0


def report(names: list[str]) -> None:
    print(f"| run | {'what':<60} | metric | measured | target | published | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        _, metric, target, published, what = RUNS[name]
        path = REPO / "runs" / f"quality-{name}" / "metrics.json"
        if not path.is_file():
            print(f"| {name} | {what:<60} | {metric} | (not run) | {target} | {published} | |")
            continue
        m = json.loads(path.read_text())
        ok = "ok" if m[metric] <= target else "MISSED"
        print(f"| {name} | {what:<60} | {metric} | {m[metric]:.4f} ({ok}) | <= {target} | "
              f"{published} | {m['seconds']:.0f} |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"runs among {sorted(RUNS)} (default "
                        f"{' '.join(DEFAULT)})")  # fmt: skip
    parser.add_argument("--report-only", action="store_true", help="only print the table")
    args = parser.parse_args()
    names = args.names or (list(RUNS) if args.report_only else DEFAULT)
    unknown = sorted(set(names) - set(RUNS))
    if unknown:
        parser.error(f"unknown runs {unknown}; known: {sorted(RUNS)}")
    if not args.report_only:
        for name in names:
            print(f"{name}: {run(name):.0f} s wall", flush=True)
    report(names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
