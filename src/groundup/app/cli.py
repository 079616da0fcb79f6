"""The ``groundup`` command: a thin layer over the library.

Each subcommand lives in its own module under :mod:`groundup.app.commands` with two
functions, ``register(subparsers)`` and ``run(args) -> int``. Those modules import
nothing heavy at top level, so ``groundup --help`` answers at once; NumPy and the
models are imported inside ``run``.

Under ``mpiexec -n N`` every rank runs this same command (see :func:`main_of_rank`): rank 0
prints and writes, the others are silent but for their errors, and a rank that fails takes
the others down with one line.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import io
import os
import sys
import time
import warnings
from typing import Any

from groundup._launch import launched_rank, launched_size, local_size

# Subcommands in the order of the journey. ``train`` is a group whose targets
# (bigram, mlp, gpt, llama) are registered by the modules in TRAIN_TARGETS.
COMMANDS = ["micrograd", "train", "sample", "journey"]
TRAIN_TARGETS = ["groundup.app.commands.train_charlm", "groundup.app.commands.train_gpt"]


def _optional_module(name: str):
    """Import a command module, or None while the stage that provides it has not landed."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name == name:
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groundup",
        description="Deep learning from the ground up: micrograd -> bigram -> MLP -> GPT -> Llama.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if name == "train":
            targets = [m for m in map(_optional_module, TRAIN_TARGETS) if m is not None]
            if not targets:
                continue
            train = sub.add_parser(
                "train",
                help="train a language model (bigram, mlp, gpt, llama) and write a run folder",
                description="Train a language model and write a run folder "
                "(metrics.json, history.csv, checkpoint/, pictures).",
            )
            train_sub = train.add_subparsers(dest="model", metavar="MODEL", required=True)
            for module in targets:
                module.register(train_sub)
            continue
        module = _optional_module(f"groundup.app.commands.{name}")
        if module is not None:
            module.register(sub)
    return parser


def _version() -> str:
    from groundup import __version__

    return f"groundup {__version__}"


def main(argv: list[str] | None = None) -> int:
    """The ``groundup`` command: run it, and return its exit code."""
    if launched_size() > 1:
        return main_of_rank(argv)
    return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    from groundup._allocator import keep_freed_memory  # ctypes only: NumPy is not loaded yet

    keep_freed_memory()  # a process of our own: reuse freed blocks (see its docstring)
    name = command_name(args)
    if args.command in ("train", "journey") and jit_missing():
        print(f"{name}: numba is not installed, so training runs the NumPy code of the fast "
              "tier (slower); pip install 'groundup[fast]' for the compiled kernels",
              file=sys.stderr)  # fmt: skip
    try:
        with warnings.catch_warnings():
            # a diverging run overflows: the loop stops it with a FloatingPointError that
            # says so in one line, NumPy's warnings on the way there are noise
            warnings.simplefilter("ignore", RuntimeWarning)
            if launched_size() > 1 and args.command != "train":
                raise ValueError(
                    "this command runs in one process: under mpiexec only `groundup train` "
                    "is data-parallel; run it without mpiexec"
                )
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"\n{name}: interrupted", file=sys.stderr)
        return 1
    except Exception as err:  # the last line of defence: one line, never a traceback
        code, message = describe_failure(err)
        print(f"{name}: {message}", file=sys.stderr)
        if os.environ.get("GROUNDUP_TRACEBACK"):
            raise
        return code


def jit_missing() -> bool:
    """Whether the fast tier's compiled kernels are unavailable (numba is not installed) and
    were not turned off on purpose (GROUNDUP_JIT=0). Looks, without importing numba."""
    import importlib.util

    return os.environ.get("GROUNDUP_JIT", "1") != "0" and importlib.util.find_spec("numba") is None


def command_name(args: argparse.Namespace) -> str:
    """``groundup train gpt``, ``groundup sample``: the prefix of every error line."""
    parts = ["groundup", args.command or ""]
    if args.command == "train":
        parts.append(getattr(args, "model", "") or "")
    return " ".join(p for p in parts if p)


def describe_failure(err: BaseException) -> tuple[int, str]:
    """(exit code, one line) for an exception that reached the command line.

    Exit 1 for a run that stopped on its own terms (diverged), 2 for everything the user can
    fix (bad input, a folder, the disk, memory). Anything else is a bug; it still gets one
    line, with a hint how to see the traceback.
    """
    if isinstance(err, FloatingPointError):
        return 1, f"diverged: {err}"
    if isinstance(err, MemoryError):
        return 2, (
            "error: out of memory; try a smaller --batch-size, --block-size or model (--preset)"
        )
    if isinstance(err, OSError) and err.errno is None:  # ours: the message says it all
        return 2, f"error: {err}"
    if isinstance(err, ImportError) and err.name is None:  # ours: an extra to install
        return 2, f"error: {err}"
    if isinstance(err, OSError):
        where = f"{err.filename}: " if err.filename else ""
        reason = err.strerror or str(err)
        hints = {
            errno.ENOSPC: "free some disk space or choose another --out",
            errno.EROFS: "the file system is read-only; choose another --out",
            errno.EACCES: "no permission; choose another --out",
            errno.EDQUOT: "over the disk quota; free some space or choose another --out",
        }
        hint = hints.get(err.errno or 0, "check the path")
        return 2, f"error: {where}{reason}; {hint}"
    if isinstance(err, (ValueError, KeyError, TypeError, IndexError, LookupError)):
        text = str(err)
        if isinstance(err, KeyError) and len(err.args) == 1:
            text = f"missing entry {err.args[0]!r}"
        return 2, f"error: {text}"
    return 2, (
        f"error: {type(err).__name__}: {err} (a bug in groundup? set GROUNDUP_TRACEBACK=1 "
        "to see where)"
    )


# --------------------------------------------------------------------------- under mpiexec

GRACE_S = 2.0  # how long a rank other than 0 waits before reporting its own failure
ABORT_DRAIN_S = 0.5  # how long the output gets to reach mpiexec before MPI's Abort


def main_of_rank(argv: list[str] | None) -> int:
    """One rank of ``mpiexec -n N groundup ...``: the command, with three rules.

    - Rank 0 prints and writes the run folder; the other ranks print nothing (their output
      goes nowhere) and ignore Ctrl-C, which rank 0 turns into a save and a stop.
    - Every rank gets ``cores // ranks`` BLAS threads, unless the environment says otherwise:
      N ranks with a thread per core each would fight over the cores.
    - A rank that fails prints one line and calls MPI's Abort, which stops every rank (a
      plain exit would wait in MPI's finalize for ranks that wait for it: a hang). An error
      every rank meets is printed by rank 0 alone: the others wait ``GRACE_S`` before
      printing theirs, and are stopped first when rank 0 fails too.
    """
    import signal

    from groundup._allocator import keep_freed_memory

    rank = launched_rank()
    _share_cores()
    keep_freed_memory()  # before NumPy loads with MPI (see its docstring)
    if rank > 0:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    tail, group = _Tail(), None
    with contextlib.ExitStack() as quiet:
        if rank > 0:
            quiet.enter_context(contextlib.redirect_stdout(io.StringIO()))
            quiet.enter_context(contextlib.redirect_stderr(tail))  # keeps the error line
        try:
            group = _join_world(sys.argv[1:] if argv is None else argv)
            code = _main(argv)
        except SystemExit as stop:  # argparse: --help (0) or a bad flag (2)
            code = stop.code if isinstance(stop.code, int) else 2
        except Exception as err:  # no mpi4py, ranks started with different commands
            code, message = describe_failure(err)
            print(f"groundup: {message}", file=sys.stderr)
            if os.environ.get("GROUNDUP_TRACEBACK"):
                import traceback

                traceback.print_exc()
    if code == 0:
        return 0  # every rank finishes; MPI's finalize is collective and returns
    if rank > 0 and group is not None:
        time.sleep(GRACE_S)
        print(f"{tail.last_line()} (rank {rank} of {group.size})", file=sys.__stderr__)
    _abort(group, code)
    return code  # not reached


def _abort(group: Any, code: int) -> None:
    """Stop every rank with exit code ``code``; MPI's own message about it is silenced."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    if group is None:  # MPI never started (every rank met the same error: rank 0 said it)
        os._exit(code)
    time.sleep(ABORT_DRAIN_S)  # mpiexec forwards our last lines; Abort would cut them off
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    group.comm.Abort(code)


def _share_cores() -> None:
    """BLAS threads per rank: this machine's cores over the ranks on it (before NumPy loads)."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    if not any(name in os.environ for name in names):
        threads = str(max(1, (os.cpu_count() or 1) // local_size()))
        for name in names:
            os.environ[name] = threads


def _join_world(argv: list[str]) -> Any:
    """Start MPI (the World of groundup.train.distributed) and refuse ranks started with
    different arguments: they would disagree on the steps and wait for each other forever."""
    from groundup.train.distributed import world

    group = world()
    commands = group.comm.allgather(list(argv))
    for rank, other in enumerate(commands):
        if other != commands[0]:
            raise ValueError(
                f"the {group.size} ranks were started with different arguments (rank {rank}: "
                f"{' '.join(other)!r}, rank 0: {' '.join(commands[0])!r}); expected one command"
            )
    return group


class _Tail(io.TextIOBase):
    """A text stream that keeps only the end of what is written to it."""

    def __init__(self, keep: int = 4096) -> None:
        self.text, self.keep = "", keep

    def write(self, text: str) -> int:
        self.text = (self.text + text)[-self.keep :]
        return len(text)

    def last_line(self) -> str:
        lines = [line for line in self.text.splitlines() if line.strip()]
        return lines[-1] if lines else "groundup: failed (no message)"


if __name__ == "__main__":
    sys.exit(main())
