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
