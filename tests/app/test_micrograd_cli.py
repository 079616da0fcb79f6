"""`groundup micrograd`: a short run writes every file of its run folder."""

from __future__ import annotations

import csv
import json

import pytest

from groundup.app.cli import build_parser, main


def test_micrograd_run_writes_pictures_metrics_and_history(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("graphviz")
    out = tmp_path / "run"
    argv = ["micrograd", "--steps", "3", "--n-samples", "12", "--seed", "1", "--out", str(out)]
    assert main([*argv, "--no-progress"]) == 0
    assert "run folder" in capsys.readouterr().out

    assert (out / "decision_boundary.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "loss_curve.png").read_bytes()[:4] == b"\x89PNG"
    graph = out / "neuron_graph.svg"
    if graph.exists():
        assert "<svg" in graph.read_text() and "x1" in graph.read_text()
    else:  # no `dot` program here: the graph's source is kept instead
        assert "digraph" in (out / "neuron_graph.dot").read_text()

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 3 and metrics["seed"] == 1 and metrics["n_samples"] == 12
    assert metrics["num_parameters"] == 337
    assert 0.0 <= metrics["final_accuracy"] <= 1.0 and metrics["final_loss"] > 0

    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [0, 1, 2]
    assert set(rows[0]) == {"step", "loss", "accuracy", "lr"}
    assert float(rows[0]["lr"]) == 1.0


def test_micrograd_rejects_bad_arguments(tmp_path, capsys):
    assert main(["micrograd", "--steps", "0", "--out", str(tmp_path / "x")]) == 2
    assert "--steps" in capsys.readouterr().err


def test_micrograd_flags_have_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    micrograd = sub.choices["micrograd"]
    for action in micrograd._actions:
        assert action.help, f"--{action.dest} has no help text"


def test_micrograd_ctrl_c_then_resume_matches_a_straight_run(tmp_path, monkeypatch, capsys):
    import os
    import signal

    import groundup.scalar.train as scalar_train

    argv = ["micrograd", "--steps", "8", "--n-samples", "10", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path / "straight")]) == 0
    real_fit = scalar_train.fit

    def interrupted_fit(*args, on_step=None, **kwargs):
        def step(row):
            if row["step"] == 4:
                os.kill(os.getpid(), signal.SIGINT)
            on_step(row)

        return real_fit(*args, on_step=step, **kwargs)

    monkeypatch.setattr(scalar_train, "fit", interrupted_fit)
    assert main([*argv, "--out", str(tmp_path / "cut")]) == 1
    assert "interrupted at step 5; saved" in capsys.readouterr().err
    monkeypatch.setattr(scalar_train, "fit", real_fit)
    assert main(["micrograd", "--resume", str(tmp_path / "cut"), "--no-progress"]) == 0
    histories = [(tmp_path / n / "history.csv").read_text() for n in ("straight", "cut")]
    assert histories[0] == histories[1]


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [("--noise", "1e308", "--noise must be in [0, 100]"), ("--lr", "inf", "--lr must be"),
     ("--steps", "0", "--steps must be a positive int")],
)  # fmt: skip
def test_micrograd_bad_values_are_one_line(tmp_path, capsys, flag, value, words):
    out = tmp_path / "run"
    assert main(["micrograd", flag, value, "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
