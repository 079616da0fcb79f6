"""The parity tests against the references (torch, transformers, tokenizers, micrograd):
every test here carries the ``reference`` marker. ``make test`` runs them; the core suite
alone, with NumPy and hypothesis only, is ``pytest -m "not reference"``.

The Hugging Face interop tests share ``hf_reference.py`` (a model's logits and greedy
continuation) and the ``one_torch_thread`` fixture below."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the interop tests import hf_reference


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reference)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny matrices: more threads only fight over the shared cores. Restored afterwards."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
