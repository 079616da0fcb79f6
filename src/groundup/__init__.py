"""groundup: deep learning from the ground up.

Stage 1 lives in :mod:`groundup.scalar`; stages 2-4 run on the NumPy tensor engine,
whose main names are re-exported here (``groundup.Tensor``, ``groundup.no_grad``,
``groundup.zeros`` ...). They are loaded on first use, so that ``groundup --help``
starts without importing NumPy.
"""

from __future__ import annotations

from groundup._lazy import lazy_exports

__version__ = "0.1.0"

# name -> module that defines it; resolved lazily by __getattr__ (PEP 562)
_LAZY = {
    "Tensor": "groundup.tensor",
    "no_grad": "groundup.tensor",
    "is_grad_enabled": "groundup.tensor",
    "zeros": "groundup.tensor",
    "ones": "groundup.tensor",
    "randn": "groundup.tensor",
    "arange": "groundup.tensor",
    "tensor": "groundup.tensor",
    "cat": "groundup.tensor",
    "stack": "groundup.tensor",
    "where": "groundup.tensor",
    "zeros_like": "groundup.tensor",
    "ones_like": "groundup.tensor",
    "full": "groundup.tensor",
    "full_like": "groundup.tensor",
    "eye": "groundup.tensor",
    "linspace": "groundup.tensor",
    "randint": "groundup.tensor",
}

__all__ = ["__version__", *_LAZY]

__getattr__ = lazy_exports(__name__, _LAZY, globals())
