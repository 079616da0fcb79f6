"""`groundup journey`: every stage on a tiny budget, its table, run folder and report."""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from groundup.app.cli import main
from groundup.app.journey import STAGES, Budget, run_journey, table_rows
from groundup.data.words import word_rows

pytest.importorskip("matplotlib")

# Small everywhere, except the MLP: it gets enough steps (a few seconds) to climb below
# the counting bigram, the rung of the loss ladder this test checks.
TINY = Budget(moons=20, micrograd_steps=4, bigram_steps=30, mlp_steps=4000, gpt_steps=20)


@pytest.fixture(scope="module")
def command_run(tmp_path_factory):
    """`groundup journey --quick` on a hundredth of its steps: the table, folder, report."""
    folder = tmp_path_factory.mktemp("journey") / "run"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        code = main(["journey", "--quick", "--steps-scale", "0.01", "--out", str(folder),
                     "--no-progress", "--seed", "3"])  # fmt: skip
    assert code == 0
    return {"folder": folder, "printed": stdout.getvalue()}


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    """A tiny journey through the library (no pictures), with its progress callbacks."""
    started, steps, ended = [], {}, []
    result = run_journey(
        tmp_path_factory.mktemp("ladder"),
        seed=3,
        budget=TINY,
        pictures=False,
        on_stage_start=lambda stage, total: started.append((stage, total)),
        on_step=lambda stage, row: steps.__setitem__(stage, steps.get(stage, 0) + 1),
        on_stage_end=ended.append,
    )
    return {"result": result, "started": started, "steps": steps, "ended": ended}


def test_every_stage_runs_in_order_with_progress(journey):
    result = journey["result"]
    assert [s.name for s in result.stages] == list(STAGES)
    assert [name for name, _ in journey["started"]] == list(STAGES)
    assert [s.name for s in journey["ended"]] == list(STAGES)
    totals = dict(journey["started"])
    assert totals["mlp"] == TINY.mlp_steps and totals["gpt"] == TINY.gpt_steps
    assert journey["steps"]["mlp"] == TINY.mlp_steps  # one callback per step
    assert journey["steps"]["micrograd"] == TINY.micrograd_steps


def test_table_rows_and_samples(journey):
    rows = table_rows(journey["result"])
    assert [r["stage"].rstrip(" *") for r in rows] == list(STAGES)
    columns = ["stage", "parameters", "train loss", "val loss", "seconds", "five samples"]
    for row in rows:
        assert list(row) == columns
        assert all(isinstance(v, str) and v for v in row.values())
        float(row["val loss"]), float(row["seconds"])
    for stage in journey["result"].stages[1:]:  # the language models
        assert len(stage.samples) == 5
        assert all(isinstance(s, str) and re.fullmatch("[a-z]*", s) for s in stage.samples)


def test_loss_ladder_falls(journey):
    r = journey["result"]
    counting, neural, mlp = (r.stage(n) for n in ("counting bigram", "neural bigram", "mlp"))
    # every language model beats a uniform guess over the characters
    for stage in r.stages[1:]:
        assert stage.val_loss < 3.3 and stage.train_loss < 3.3
    # the MLP's three characters of context beat the one of the bigram
    assert mlp.val_loss < counting.val_loss
    # an untrained-enough neural bigram sits above the table it learns (the optimum)
    assert neural.val_loss > counting.val_loss - 0.02
    # parameters: the (27, 27) table twice, then the classic MLP
    assert counting.num_parameters == neural.num_parameters == 27 * 27
    assert mlp.num_parameters == 11_897


def test_the_curves_val_points_are_the_tables_figures(journey):
    """The chart must not contradict the table: every val point of a curve is a loss on the
    whole val split, so the last one is the table's val loss."""
    for name in ("neural bigram", "mlp", "gpt"):
        stage = journey["result"].stage(name)
        steps, losses = stage.curves["val"]
        assert steps[-1] == stage.steps - 1
        assert losses[-1] == pytest.approx(stage.val_loss, rel=1e-9), name


def test_the_neuron_graph_shows_gradients_flowing(command_run):
    """The one picture of backprop draws a live neuron: its gradients are not all zero."""
    folder = command_run["folder"]
    svg, txt = folder / "neuron_graph.svg", folder / "neuron_graph.txt"
    drawn = (svg if svg.is_file() else txt).read_text()
    grads = [float(g) for g in re.findall(r"grad (-?\d+\.\d+)", html.unescape(drawn))]
    assert len(grads) == 10  # x1 x2 w1 w2 b, two products, two sums, out
    assert all(g != 0 for g in grads)


def test_metrics_json_holds_each_stage(command_run):
    folder = command_run["folder"]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert list(metrics["stages"]) == list(STAGES)
    for name, stage in metrics["stages"].items():
        for key in ("num_parameters", "train_loss", "val_loss", "seconds", "samples"):
            assert key in stage, (name, key)
        assert all(isinstance(s, str) for s in stage["samples"])
    assert metrics["seed"] == 3 and metrics["quick"] and metrics["data"]["vocab_size"] == 27
    split = metrics["data"]["split"]
    assert sum(split.values()) == metrics["data"]["words"] == 32_033  # makemore's names
    mg = metrics["stages"]["micrograd"]
    assert 0.0 <= mg["metrics"]["val_accuracy"] <= 1.0
    for name in ("micrograd", "neural_bigram", "mlp", "gpt"):
        lines = (folder / f"history_{name}.csv").read_text().strip().splitlines()
        assert len(lines) >= 2 and "loss" in lines[0]


def test_report_references_existing_files(command_run):
    folder = command_run["folder"]
    page = (folder / "report.html").read_text()
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    for link in links:
        assert (folder / link).is_file(), link
    for picture in ("decision_boundary.png", "bigram_counts.png", "embeddings.png",
                    "attention.png", "loss_curves.png", "loss_ladder.png"):  # fmt: skip
        assert picture in links
    if (folder / "neuron_graph.svg").is_file():
        assert "neuron_graph.svg" in links
    else:  # no `dot`: the text tree is inlined
        assert (folder / "neuron_graph.txt").is_file() and "out (ReLU)" in page


def test_same_seed_same_journey(tmp_path):
    tiny = Budget(moons=10, micrograd_steps=2, bigram_steps=3, mlp_steps=3, gpt_steps=2)
    a = run_journey(tmp_path / "a", seed=5, budget=tiny, pictures=False)
    b = run_journey(tmp_path / "b", seed=5, budget=tiny, pictures=False)
    for sa, sb in zip(a.stages, b.stages, strict=True):
        assert sa.val_loss == sb.val_loss and sa.samples == sb.samples


def test_word_rows_pads_and_shifts():
    from groundup.tokenizers import CharTokenizer

    X, Y = word_rows(["ab", "b"], CharTokenizer.from_words(["ab"]), 4)
    assert X.tolist() == [[0, 1, 2, 0], [0, 2, 0, 0]]
    assert Y.tolist() == [[1, 2, 0, -1], [2, 0, -1, -1]]
    with pytest.raises(ValueError, match="block_size"):
        word_rows(["abc"], CharTokenizer.from_words(["abc"]), 3)


def test_command_prints_the_table(command_run):
    printed = command_run["printed"]
    header = re.search(r"^\| stage .*$", printed, re.M)
    assert header and all(
        c in header.group()
        for c in ("parameters", "train loss", "val loss", "seconds", "five samples")
    )
    for stage in STAGES:
        assert re.search(rf"^\| {stage}\b", printed, re.M), stage
    assert "hinge" in printed  # the note says what micrograd's losses are
    assert "report.html" in printed


def test_help_and_bad_flags(capsys):
    help_text = subprocess.run(
        [sys.executable, "-m", "groundup", "journey", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for flag in ("--quick", "--seed", "--out", "--threads", "--steps-scale"):
        assert flag in help_text
    assert main(["journey", "--steps-scale", "0", "--out", "unused"]) == 2
    assert "--steps-scale" in capsys.readouterr().err
    assert not Path("unused").exists()


def test_neuron_graph_without_dot_is_a_text_tree(tmp_path, monkeypatch):
    import groundup.app.journey as journey_module
    from groundup.app.journey import JourneyResult, StageResult
    from groundup.app.report import report_html
    from groundup.scalar import MLP

    monkeypatch.setattr(journey_module.shutil, "which", lambda name: None)
    result = JourneyResult(tmp_path, 0, True, TINY, {"vocab_size": 27})
    stage = StageResult("micrograd", "a test", 337, 0.5, 0.6, "hinge (moons)", 0.1,
                        metrics={"train_accuracy": 1.0, "val_accuracy": 0.9})  # fmt: skip
    journey_module._neuron_graph(result, stage, MLP(2, [16, 16, 1], seed=0), [[0.5, -1.0]])
    assert stage.files["neuron graph"] == "neuron_graph.txt"
    tree = (tmp_path / "neuron_graph.txt").read_text()
    assert tree.startswith("out") and "w1" in tree and "x2" in tree
    assert any("dot" in note for note in result.notes)
    result.stages.append(stage)
    page = report_html(result, charts={})
    assert "<pre>out" in page and "neuron_graph.txt" not in re.findall(r'src="([^"]+)"', page)
