"""Notebooks are committed with outputs stripped; nbmake runs them (see Makefile)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stripped(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: cell {i} holds outputs; strip them"
            assert cell.get("execution_count") is None, f"{path.name}: cell {i} has a count"


def test_the_journey_has_its_five_notebooks():
    names = {p.name for p in NOTEBOOKS}
    expected = {
        "1_micrograd.ipynb",
        "2_bigram.ipynb",
        "3_mlp.ipynb",
        "4_gpt.ipynb",
        "5_tokenizer.ipynb",
    }
    assert expected <= names, f"missing notebooks: {sorted(expected - names)}"
