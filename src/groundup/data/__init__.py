"""Data sets of the journey: the moons (stage 1), words such as names (stages 2-4),
text files such as tinyshakespeare (stage 4), and the 8x8 digits for a small CNN. Names
resolve lazily."""

from __future__ import annotations

from groundup._lazy import lazy_exports

# module -> the names it defines, each imported on first use (PEP 562)
_MODULES = {
    "groundup.data.moons": ("make_moons",),
    "groundup.data.words": ("load_words", "split_words", "build_dataset", "word_rows"),
    "groundup.data.text": ("load_text",),
    "groundup.data.digits": ("load_digits",),
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names}

__all__ = list(_LAZY)

__getattr__ = lazy_exports(__name__, _LAZY, globals())
