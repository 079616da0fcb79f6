"""Argument types shared by the commands: a bad value fails at parse time, naming the flag.

argparse reports ``groundup train mlp: error: argument --seed: must be an int >= 0, got -1``
instead of NumPy's ``expected non-negative integer`` (or a traceback) from deep inside.
"""

from __future__ import annotations

import argparse


def seed_int(text: str) -> int:
    """A random seed: NumPy takes only ints >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an int >= 0, got {value}")
    return value


def device_flag(text: str) -> str:
    """--device: "cpu", "cuda", or "auto" (CUDA when CuPy finds a GPU, else the CPU).
    "cuda" without CuPy fails here, saying what to install."""
    if text not in ("auto", "cpu", "cuda"):
        raise argparse.ArgumentTypeError(f"must be auto, cpu or cuda, got {text!r}")
    if text == "cpu":
        return text
    from groundup.tensor import cuda

    if text == "auto":
        return cuda.default_device()
    if not cuda.is_available():
        try:
            cuda._cupy()
        except RuntimeError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return text


def add_device_flag(parser: argparse.ArgumentParser) -> None:
    """--device auto|cpu|cuda: where the model trains or samples."""
    parser.add_argument(
        "--device", type=device_flag, default="auto",
        help="where to run: cpu, cuda (a GPU, through CuPy) or auto (cuda when one is "
        "available; the default)",
    )  # fmt: skip


def add_run_flags(parser: argparse.ArgumentParser, kind: str, saves: str | None) -> None:
    """--out, --force, --no-progress and (when the run saves along the way, as ``saves``
    says) --resume: the run-folder flags every command shares (see groundup.app.runs)."""
    parser.add_argument(
        "--out", default=None, help=f"run folder to write (default: runs/{kind}-<YYYYmmdd-HHMMSS>/)"
    )
    if saves is not None:
        parser.add_argument(
            "--resume", default=None, metavar="RUN",
            help=f"continue the run in this folder from its newest save ({saves}, and on "
            "Ctrl-C), with its own settings",
        )  # fmt: skip
    parser.add_argument(
        "--force", action="store_true",
        help="replace whatever --out holds (without it, a folder holding files is refused)",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def check_batch_for_ranks(batch_size: int) -> None:
    """Under ``mpiexec -n N``, refuse a --batch-size that leaves a rank without a row."""
    from groundup.train.distributed import world

    size = world().size
    if 0 < batch_size < size:
        raise ValueError(
            f"--batch-size {batch_size} is smaller than the {size} ranks of mpiexec -n {size}; "
            "expected at least one row per rank (--batch-size is the global batch)"
        )
