"""`groundup train llama`: the flags and code path of `train gpt` with a Llama. A short run
writes a complete run folder that records the arch, `sample` reads it back, and an
interrupted run resumed with --resume ends exactly where the uninterrupted one does."""

from __future__ import annotations

import json

import numpy as np
import pytest

from groundup.app.cli import main

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 40


def small_run(tmp_path, name: str, *extra: str, target: str = "llama") -> list[str]:
    return ["train", target, "--preset", "tiny", "--max-iters", "6", "--eval-interval", "2",
            "--eval-iters", "2", "--batch-size", "4", "--block-size", "16", "--warmup", "2",
            "--out", str(tmp_path / name), "--no-progress", "--samples", "30", *extra]  # fmt: skip


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_text_run_writes_a_llama_run_folder(tmp_path, text_file, capsys):
    assert main(small_run(tmp_path, "run", "--data", str(text_file))) == 0
    run = tmp_path / "run"
    for name in ("metrics.json", "history.csv", "evals.csv", "samples.txt", "args.json",
                 "checkpoint/model.safetensors", "last/state.json"):  # fmt: skip
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == "llama" and metrics["steps"] == 6
    assert np.isfinite(metrics["val_loss"]) and metrics["val_loss"] < np.log(metrics["vocab_size"])
    config = json.loads((run / "checkpoint" / "config.json").read_text())
    assert config["model"]["type"] == "llama"
    kwargs = config["model"]["kwargs"]
    assert kwargs["max_position_embeddings"] == 16 and kwargs["num_key_value_heads"] == 2
    captured = capsys.readouterr()
    assert "llama tiny:" in captured.err and "step 2: train loss" in captured.err
    assert "val loss:" in captured.out
    assert main(["sample", str(run), "--prompt", "First", "-n", "20", "--seed", "0"]) == 0
    assert capsys.readouterr().out.startswith("First")


def test_flags_map_to_the_llama_fields(tmp_path, text_file):
    args = small_run(tmp_path, "untied", "--data", str(text_file), "--no-tie-weights",
                     "--dropout", "0.1", "--init", "pytorch")  # fmt: skip
    assert main(args) == 0
    kwargs = json.loads((tmp_path / "untied" / "checkpoint" / "config.json").read_text())
    kwargs = kwargs["model"]["kwargs"]
    assert kwargs["tie_word_embeddings"] is False and kwargs["dropout"] == 0.1
    assert kwargs["init"] == "pytorch"


def test_words_run_on_names_shape(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("\n".join(["emma", "olivia", "ava", "isabella", "sophia", "mia"] * 5))
    assert main(small_run(tmp_path, "names", "--data", str(words), "--words")) == 0
    metrics = json.loads((tmp_path / "names" / "metrics.json").read_text())
    assert {"train_loss", "val_loss", "test_loss", "samples_new_share"} <= set(metrics)


def test_resume_continues_exactly(tmp_path, text_file, monkeypatch):
    base = ["--data", str(text_file), "--dropout", "0.1"]
    assert main(small_run(tmp_path, "straight", *base)) == 0

    import groundup.train as train_pkg

    real_train = train_pkg.train

    def crashing_train(*args, on_step=None, **kwargs):
        def step_then_crash(row):
            on_step(row)
            if row["step"] == 4:  # the last save was after step 3 (eval_interval 2)
                raise KeyboardInterrupt

        return real_train(*args, on_step=step_then_crash, **kwargs)

    monkeypatch.setattr(train_pkg, "train", crashing_train)
    assert main(small_run(tmp_path, "crashed", *base)) == 1  # a hard stop: no save
    monkeypatch.setattr(train_pkg, "train", real_train)
    # the run folder knows its arch: resuming through `train gpt` still trains the Llama
    assert main(["train", "gpt", "--resume", str(tmp_path / "crashed"), "--no-progress"]) == 0
    straight = (tmp_path / "straight" / "history.csv").read_text()
    resumed = (tmp_path / "crashed" / "history.csv").read_text()
    strip = [line.split(",")[:5] for line in straight.splitlines()]  # seconds, speed differ
    assert [line.split(",")[:5] for line in resumed.splitlines()] == strip
    metrics = json.loads((tmp_path / "crashed" / "metrics.json").read_text())
    assert metrics["model"] == "llama"


def test_errors_name_the_target(tmp_path, text_file, capsys):
    assert main(small_run(tmp_path, "x", "--data", str(text_file), "--lr", "0")) == 2
    assert "groundup train llama: error: --lr must be positive" in capsys.readouterr().err
    assert main(["train", "llama", "--resume", str(tmp_path), "--no-progress"]) == 2
    assert "args.json" in capsys.readouterr().err


def test_the_shipped_data_trains_with_no_data_flag(tmp_path):
    argv = ["train", "llama", "--max-iters", "2", "--eval-interval", "1", "--eval-iters", "1",
            "--batch-size", "2", "--samples", "1", "--no-progress",
            "--out", str(tmp_path / "s")]  # fmt: skip
    assert main(argv) == 0
    config = json.loads((tmp_path / "s" / "checkpoint" / "config.json").read_text())
    assert config["model"]["kwargs"]["vocab_size"] == 65
    assert config["model"]["kwargs"]["max_position_embeddings"] == 32  # the tiny preset's
