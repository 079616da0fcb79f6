"""What the commands' parsers share: argument types, so that a bad value fails at parse
time naming the flag; the flags of run folders and devices; and :func:`add_flags`, which
declares a command's own flags from a table, one row a flag.

argparse reports ``groundup train mlp: error: argument --seed: must be an int >= 0, got -1``
instead of NumPy's ``expected non-negative integer`` (or a traceback) from deep inside.
"""

from __future__ import annotations

import argparse
from typing import Any


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


def add_flags(parser: argparse.ArgumentParser, rows: tuple[tuple[Any, ...], ...]) -> None:
    """A command's flags from a table, in the order ``--help`` lists them. Each row is
    ``(flag, takes, default, help)``, where ``takes`` is a type (``int``, ``float``,
    ``seed_int``; None: the text as given), a tuple of choices, or ``bool`` (a switch, off
    unless given); a flag with two names (``-n``, ``--num``) is a tuple of them."""
    for flag, takes, default, text in rows:
        names = flag if isinstance(flag, tuple) else (flag,)
        if takes is bool:
            parser.add_argument(*names, action="store_true", help=text)
        elif isinstance(takes, tuple):
            parser.add_argument(*names, choices=takes, default=default, help=text)
        else:
            parser.add_argument(*names, type=takes, default=default, help=text)


def steps_flag(flag: str, what: str, default: object) -> tuple[str, type, None, str]:
    """The row of a run's total of steps (``--steps``, ``--max-iters``): None until the
    command sets its ``default``, so that with --resume the run's own total stands unless
    the flag raises it."""
    return flag, int, None, f"{what} ({default}; with --resume: the run's own, or this total)"


def add_run_flags(parser: argparse.ArgumentParser, kind: str, saves: str | None) -> None:
    """--out, --force, --no-progress and (when the run saves along the way, as ``saves``
    says) --resume: the run-folder flags every command shares (see groundup.app.runs)."""
    parser.add_argument(
        "--out", default=None, help=f"run folder to write (default: runs/{kind}-<YYYYmmdd-HHMMSS>/)"
    )
    if saves is not None:
        escaped = saves.replace("%", "%%")  # argparse formats help with %: "10%" must be "10%%"
        parser.add_argument(
            "--resume", default=None, metavar="RUN",
            help=f"continue the run in this folder from its newest save ({escaped}, and on "
            "Ctrl-C), with its own settings",
        )  # fmt: skip
    parser.add_argument(
        "--force", action="store_true",
        help="replace whatever --out holds (without it, a folder holding files is refused)",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
