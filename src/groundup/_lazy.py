"""Names a package exports without importing them until first use (PEP 562).

``groundup``, ``groundup.data`` and ``groundup.viz`` re-export names from their modules
lazily, so that ``groundup --help`` answers without importing NumPy or matplotlib::

    _LAZY = {"Tensor": "groundup.tensor", ...}
    __getattr__ = lazy_exports(__name__, _LAZY, globals())
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, table: dict[str, str], namespace: dict[str, Any]) -> Callable:
    """A module ``__getattr__`` that imports ``table[name]`` on first access and caches the
    value in ``namespace`` (the package's globals), so later lookups are plain."""

    def __getattr__(name: str) -> Any:
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
