"""Run folders and atomic writes."""

from __future__ import annotations

import json
import re

import pytest

from groundup.train import History, io


def test_make_run_dir_names_and_collisions(tmp_path):
    a = io.make_run_dir("gpt", root=str(tmp_path))
    b = io.make_run_dir("gpt", root=str(tmp_path))
    assert re.fullmatch(r"gpt-\d{8}-\d{6}", a.name) and a.is_dir() and b.is_dir() and a != b
    out = io.make_run_dir("gpt", out=tmp_path / "mine" / "run")
    assert out == tmp_path / "mine" / "run" and out.is_dir()


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / "metrics.json"
    io.write_metrics(tmp_path, {"val_loss": 1.5})
    io.write_metrics(tmp_path, {"val_loss": 1.25})
    assert json.loads(path.read_text()) == {"val_loss": 1.25}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_atomic_write_failure_keeps_old_content(tmp_path):
    path = tmp_path / "f.txt"
    io.atomic_write_text(path, "old")
    with pytest.raises(RuntimeError), io.atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert path.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_history_csv_round_trip_exact(tmp_path):
    h = History()
    h.append({"step": 0, "train_loss": 1 / 3, "lr": 0.1, "items_per_sec": 10.0, "seconds": 0.5})
    h.append({"step": 1, "train_loss": 0.25, "val_loss": 0.3, "lr": 0.1, "grad_norm": 2.0,
              "items_per_sec": 11.0, "seconds": 1.0})  # fmt: skip
    io.write_history(tmp_path, h)
    back = History.from_csv((tmp_path / "history.csv").read_text())
    assert back == h and back.val_curve() == ([1], [0.3]) and back.best_val_loss == 0.3
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == (
        "step,train_loss,val_loss,lr,grad_norm,items_per_sec,seconds"
    )
    assert History.from_dict(h.to_dict()) == h and len(h.truncate(1)) == 1
