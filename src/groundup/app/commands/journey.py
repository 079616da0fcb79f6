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

from groundup.app.commands._args import add_run_flags, seed_int

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
MAX_STEPS_SCALE = 1000.0  # 1000x the journey is days of CPU; beyond that a typo


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "journey",
        help="every stage in a few minutes: micrograd, bigrams, MLP, GPT; a report.html",
        description="Train every stage of groundup one after the other (micrograd on the "
        "moons; the counting bigram, the neural bigram, the MLP and a GPT on makemore's "
        "names, one 80/10/10 split), print the loss ladder as a table, and write a run folder "
        "with report.html, metrics.json, history CSVs and the pictures.",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="smaller step budgets: about 30 s instead of about 2 minutes on 2 cores",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=seed_int, default=42,
        help="one seed for the moons, the word split, the weights, batches and samples (42)",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=int, default=None,
        help="BLAS threads (default 1, unless OPENBLAS_NUM_THREADS/OMP_NUM_THREADS is set: "
        "the journey's small matrices gain nothing from more, and lose much on busy cores)",
    )  # fmt: skip
    parser.add_argument(
        "--steps-scale", type=float, default=1.0,
        help="multiply every stage's step count (e.g. 0.1 for a smoke test)",
    )  # fmt: skip
    add_run_flags(parser, "journey", saves=None)
    parser.set_defaults(func=run)


def run(args: Any) -> int:
    if args.threads is not None and args.threads < 1:
        print(f"groundup journey: error: --threads must be >= 1, got {args.threads}",
              file=sys.stderr)  # fmt: skip
        return 2
    if not 0 < args.steps_scale <= MAX_STEPS_SCALE:
        print(f"groundup journey: error: --steps-scale must be in (0, {MAX_STEPS_SCALE:g}], "
              f"got {args.steps_scale}", file=sys.stderr)  # fmt: skip
        return 2
    _limit_blas_threads(args.threads)

    from groundup.app.runs import open_run

    with open_run("journey", args.out, force=args.force) as run:
        return _journey(args, run.path)


def _journey(args: Any, folder: Any) -> int:
    from groundup.app.journey import TABLE_NOTE, run_journey, table_rows
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


def format_table(rows: list[dict[str, str]]) -> str:
    """A Markdown table (it reads in a terminal and pastes into a README).

    >>> print(format_table([{"stage": "mlp", "val loss": "2.1"}]))
    | stage | val loss |
    |-------|----------|
    | mlp   | 2.1      |
    """
    if not rows:
        return ""
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in keys}

    def line(cells: list[str]) -> str:
        padded = (cell.ljust(widths[k]) for k, cell in zip(keys, cells, strict=True))
        return "| " + " | ".join(padded) + " |"

    out = [line(keys), "|" + "|".join("-" * (widths[k] + 2) for k in keys) + "|"]
    out += [line([r[k] for k in keys]) for r in rows]
    return "\n".join(out)
