"""The parity tests against the references (torch, transformers, tokenizers, micrograd):
every test here carries the ``reference`` marker. ``make test`` runs them; the core suite
alone, with NumPy and hypothesis only, is ``pytest -m "not reference"``."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reference)
