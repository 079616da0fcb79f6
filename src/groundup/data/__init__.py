"""Data sets of the journey: the moons (stage 1), words such as names (stages 2-4),
text files such as tinyshakespeare (stage 4), and the 8x8 digits for a small CNN. Names
resolve lazily."""

from __future__ import annotations

from groundup._lazy import lazy_exports

_LAZY = {
    "make_moons": "groundup.data.moons",
    "load_words": "groundup.data.words",
    "split_words": "groundup.data.words",
    "build_dataset": "groundup.data.words",
    "word_rows": "groundup.data.words",
    "load_text": "groundup.data.text",
    "load_digits": "groundup.data.digits",
}

__all__ = list(_LAZY)

__getattr__ = lazy_exports(__name__, _LAZY, globals())
