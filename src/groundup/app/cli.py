"""The ``groundup`` command: a thin layer over the library.

Each subcommand lives in its own module under :mod:`groundup.app.commands` with two
functions, ``register(subparsers)`` and ``run(args) -> int``. Those modules import
nothing heavy at top level, so ``groundup --help`` answers at once; NumPy and the
models are imported inside ``run``.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
import warnings

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
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    from groundup._allocator import keep_freed_memory  # ctypes only: NumPy is not loaded yet

    keep_freed_memory()  # a process of our own: reuse freed blocks (see its docstring)
    name = command_name(args)
    try:
        with warnings.catch_warnings():
            # a diverging run overflows: the loop stops it with a FloatingPointError that
            # says so in one line, NumPy's warnings on the way there are noise
            warnings.simplefilter("ignore", RuntimeWarning)
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


if __name__ == "__main__":
    sys.exit(main())
