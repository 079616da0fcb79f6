"""The ``groundup`` command: a thin layer over the library.

Each subcommand lives in its own module under :mod:`groundup.app.commands` with two
functions, ``register(subparsers)`` and ``run(args) -> int``. Those modules import
nothing heavy at top level, so ``groundup --help`` answers at once; NumPy and the
models are imported inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

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
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
