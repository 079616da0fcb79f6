"""The notebooks are committed with their outputs, and those outputs are what a fresh run
gives: each notebook is executed again and compared (tools/notebooks.py; `make notebooks`
rewrites them)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _tool():
    spec = importlib.util.spec_from_file_location("nbtool", REPO / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nbtool = _tool()


def test_the_journey_has_its_six_notebooks():
    names = {p.name for p in NOTEBOOKS}
    expected = {"1_micrograd.ipynb", "2_bigram.ipynb", "3_mlp.ipynb", "4_gpt.ipynb",
                "5_tokenizer.ipynb", "6_llama.ipynb"}  # fmt: skip
    assert expected <= names, f"missing notebooks: {sorted(expected - names)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_with_outputs_and_pictures(path):
    """A learner reading the repository's page sees what each cell printed and drew."""
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code"]  # fmt: skip
    with_outputs = [c for c in cells if c.get("outputs")]
    assert len(with_outputs) >= 0.8 * len(cells), f"{path.name}: run `make notebooks`"
    assert all(c.get("execution_count") for c in with_outputs), f"{path.name}: not executed"
    errors = [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"{path.name}: committed with an error: {errors[0].get('ename')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_outputs_match_a_fresh_run(path):
    pytest.importorskip("nbclient", reason="the notebook check needs the test extra")
    import nbformat

    fresh = nbtool.execute(path)
    diffs = nbtool.differences(nbformat.read(path, as_version=4), fresh)
    assert not diffs, f"{path.name} no longer matches a fresh run (`make notebooks`):\n" + (
        "\n".join(diffs)
    )


# ---------------------------------------------------------------- the comparison itself


@pytest.mark.parametrize(
    "committed, fresh",
    [
        ("trained 255 merges in 0.31 s", "trained 255 merges in 1.92 s"),
        ("0.6 s; val loss [2.916, 2.643]", "12.5 s; val loss [2.916, 2.643]"),
        ("<Figure at 0x7f3a12bc4d90>", "<Figure at 0x55d0aa01ff10>"),
        ("loss 2.45401", "loss 2.45410"),  # within the relative tolerance
        ("1,234 tokens/s at step 10", "987 tokens/s at step 10"),
        # a padded table column whose timing gained a digit (CI, 6_llama cell 13)
        ("Llama   61,248   2.1045      9.8 s   384", "Llama   61,248   2.1046     10.2 s   384"),
    ],
)
def test_what_may_change_between_runs_is_tolerated(committed, fresh):
    assert nbtool.texts_agree(nbtool_mask(committed), nbtool_mask(fresh))


@pytest.mark.parametrize(
    "committed, fresh",
    [
        ("loss 2.4540", "loss 2.4640"),  # a different figure
        ("identical ids on 40,000 of 40,000 lines", "identical ids on 39,999 of 40,000 lines"),
        ("samples: emma, ava", "samples: emma, eva"),
        ("step 10", "step 10\nstep 20"),
        ("loss 2.4540 ok", "loss 2.4540 not ok"),
    ],
)
def test_a_changed_result_is_caught(committed, fresh):
    assert not nbtool.texts_agree(nbtool_mask(committed), nbtool_mask(fresh))


def nbtool_mask(text):
    cell = {"outputs": [{"output_type": "stream", "name": "stdout", "text": text}]}
    return nbtool.cell_text(cell)


def test_a_tampered_notebook_fails_the_check():
    import copy

    nbformat = pytest.importorskip("nbformat")

    committed = nbformat.read(NOTEBOOKS[0], as_version=4)
    tampered = copy.deepcopy(committed)
    cell = next(c for c in tampered.cells if c.cell_type == "code" and any(
        o.get("output_type") == "stream" and any(ch.isdigit() for ch in o["text"])
        for o in c.get("outputs", [])))  # fmt: skip
    out = next(o for o in cell.outputs if o.get("output_type") == "stream")
    out["text"] = "".join("7" if ch.isdigit() else ch for ch in out["text"])
    assert nbtool.differences(committed, committed) == []
    assert len(nbtool.differences(tampered, committed)) == 1


def test_a_cell_that_varies_by_cpu_is_checked_for_its_text_only():
    """A cell tagged varies-by-cpu (runs unstable on purpose) may show other numbers on
    another CPU, but not other text; an untagged cell's numbers still count."""
    nbformat = pytest.importorskip("nbformat")

    def notebook(text, tags):
        cell = nbformat.v4.new_code_cell("run()", metadata={"tags": tags})
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        return nbformat.v4.new_notebook(cells=[cell])

    tagged, line = [nbtool.VARIES_BY_CPU], "lr 5: dev after 600 steps "
    committed = notebook(line + "39.8192", tagged)
    assert nbtool.differences(committed, notebook(line + "82.4150", tagged)) == []
    assert len(nbtool.differences(committed, notebook(line + "nan", tagged))) == 1
    plain = notebook(line + "39.8192", [])
    assert len(nbtool.differences(plain, notebook(line + "82.4150", []))) == 1
