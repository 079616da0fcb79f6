"""``groundup journey``: every stage, one after the other, in a few minutes.

    groundup journey                       # about 2 minutes on 2 cores
    groundup journey --quick               # about 30 s: smaller step budgets
    groundup journey --seed 1 --out runs/j1

Trains micrograd on the moons, then the counting bigram, the neural bigram, the MLP and
a small GPT on makemore's names (shipped; one 80/10/10 split), with a progress bar per stage on
stderr; prints the table stage | parameters | train loss | val loss | seconds | five
samples; writes the run folder (``runs/journey-<timestamp>/`` or ``--out``) with
report.html, metrics.json, one history CSV per trained stage and the pictures. Nothing
heavy is imported until ``run``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from groundup.app.commands._args import add_flags, add_run_flags, seed_int

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "journey",
        help="every stage in a few minutes: micrograd, bigrams, MLP, GPT; a report.html",
        description="Train every stage of groundup one after the other (micrograd on the "
        "moons; the counting bigram, the neural bigram, the MLP and a GPT on makemore's "
        "names, one 80/10/10 split), print the loss ladder as a table, and write a run folder "
        "with report.html, metrics.json, history CSVs and the pictures.",
    )
    add_flags(parser, (
        ("--quick", bool, False,
         "smaller step budgets: about 30 s instead of about 2 minutes on 2 cores"),
        ("--seed", seed_int, 42,
         "one seed for the moons, the word split, the weights, batches and samples (42)"),
        ("--threads", int, None,
         "BLAS threads (default 1, unless OPENBLAS_NUM_THREADS/OMP_NUM_THREADS is set: the "
         "journey's small matrices gain nothing from more, and lose much on busy cores)"),
        ("--steps-scale", float, 1.0,
         "multiply every stage's step count (e.g. 0.1 for a smoke test)"),
    ))  # fmt: skip
    add_run_flags(parser, "journey", saves=None)
    parser.set_defaults(func=run)


def run(args: Any) -> int:
    from groundup.app import checks  # imports no NumPy: the threads are still to be set

    checks.journey_flags(args)
    _limit_blas_threads(args.threads)

    from groundup.app.runs import open_run

    with open_run("journey", args.out, force=args.force) as run:
        return _journey(args, run.path)


def _journey(args: Any, folder: Any) -> int:
    from groundup.app.journey import TABLE_NOTE, format_table, run_journey, table_rows
    from groundup.app.report import write_report

    print(f"groundup journey ({'quick' if args.quick else 'full'}, seed {args.seed}): "
          f"run folder {folder}", file=sys.stderr)  # fmt: skip
    bars = _Bars(disabled=args.no_progress)
    try:
        result = run_journey(folder, seed=args.seed, quick=args.quick,
                             steps_scale=args.steps_scale, on_stage_start=bars.start,
                             on_step=bars.step, on_stage_end=bars.end)  # fmt: skip
    finally:
        bars.close()
    report = write_report(result)

    print(format_table(table_rows(result)))
    print(TABLE_NOTE)
    for note in result.notes:
        print(f"note: {note}")
    print(f"total {result.seconds:.0f} s; report: {report}")
    return 0


def _limit_blas_threads(threads: int | None) -> None:
    """Set the BLAS thread count, which only works before NumPy is first imported."""
    if "numpy" in sys.modules:
        return
    if threads is not None:
        for name in BLAS_VARS:
            os.environ[name] = str(threads)
    elif not any(name in os.environ for name in BLAS_VARS):
        for name in BLAS_VARS:
            os.environ[name] = "1"


class _Bars:
    """One tqdm bar per stage, on stderr, showing the latest loss."""

    def __init__(self, disabled: bool) -> None:
        self.disabled = disabled
        self.bar: Any = None

    def start(self, stage: str, total: int) -> None:
        from tqdm import tqdm

        self.close()
        self.bar = tqdm(total=total, desc=f"{stage:>15}", file=sys.stderr, mininterval=0.5,
                        disable=self.disabled, leave=True)  # fmt: skip

    def step(self, stage: str, row: dict[str, Any]) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        if self.bar.total <= 1000 or row.get("step", 0) % 10 == 0:
            postfix = {"loss": f"{row['loss']:.4f}"}
            if row.get("val_loss") is not None:
                postfix["val"] = f"{row['val_loss']:.4f}"
            if "accuracy" in row:
                postfix["acc"] = f"{row['accuracy']:.0%}"
            self.bar.set_postfix(postfix, refresh=False)

    def end(self, result: Any) -> None:
        if self.bar is not None:
            self.bar.set_postfix(train=f"{result.train_loss:.4f}", val=f"{result.val_loss:.4f}")
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
