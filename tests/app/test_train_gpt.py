"""`groundup train gpt`: short runs on text and on words write a complete run folder, and an
interrupted run resumed with --resume ends exactly where the uninterrupted one does."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

from groundup.app.cli import main

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 40
WORDS = [
    "emma",
    "olivia",
    "ava",
    "isabella",
    "sophia",
    "mia",
    "amelia",
    "harper",
    "evelyn",
    "abigail",
    "emily",
    "ella",
    "elizabeth",
    "camila",
    "luna",
    "sofia",
    "avery",
    "mila",
    "aria",
    "scarlett",
    "liam",
    "noah",
    "oliver",
    "elijah",
    "james",
    "william",
    "ben",
] * 2


def small_run(tmp_path, name: str, *extra: str) -> list[str]:
    return [
        "train",
        "gpt",
        "--preset",
        "tiny",
        "--max-iters",
        "6",
        "--eval-interval",
        "2",
        "--eval-iters",
        "2",
        "--batch-size",
        "4",
        "--block-size",
        "16",
        "--warmup",
        "2",
        "--out",
        str(tmp_path / name),
        "--no-progress",
        "--samples",
        "30",
        *extra,
    ]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture
def words_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    return path


def test_text_run_writes_its_folder(tmp_path, text_file, capsys, has_matplotlib):
    assert main(small_run(tmp_path, "run", "--data", str(text_file))) == 0
    run = tmp_path / "run"
    for name in (
        "metrics.json",
        "history.csv",
        "evals.csv",
        *(["loss_curve.png"] if has_matplotlib else []),
        "samples.txt",
        "args.json",
        "checkpoint/model.safetensors",
        "checkpoint/groundup_tokenizer.json",
        "last/state.json",
    ):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["num_parameters"] > 0 and metrics["steps"] == 6
    assert np.isfinite(metrics["val_loss"]) and metrics["val_loss"] < np.log(metrics["vocab_size"])
    config = json.loads((run / "checkpoint" / "config.json").read_text())
    assert config["model"]["type"] == "gpt"
    assert config["model"]["kwargs"]["block_size"] == 16
    assert config["data"]["kind"] == "text"
    captured = capsys.readouterr()
    assert "val loss:" in captured.out and "run folder:" in captured.out
    assert "step 2: train loss" in captured.err  # train and val evaluated every 2 steps
    evals = (run / "evals.csv").read_text().splitlines()
    assert evals[0] == "step,train_loss,val_loss"
    assert [e.split(",")[0] for e in evals[1:]] == ["2", "4", "6"]
    assert len((run / "samples.txt").read_text()) > 30


def test_words_run_reports_test_loss_and_new_names(tmp_path, words_file):
    args = small_run(tmp_path, "names", "--data", str(words_file), "--words", "--no-tie-weights")
    assert main(args) == 0
    metrics = json.loads((tmp_path / "names" / "metrics.json").read_text())
    assert {"train_loss", "val_loss", "test_loss", "samples_new_share"} <= set(metrics)
    config = json.loads((tmp_path / "names" / "checkpoint" / "config.json").read_text())
    assert config["data"]["kind"] == "words" and config["tokenizer"]["boundary"] == "."
    assert config["model"]["kwargs"]["tie_weights"] is False


def test_bpe_tokenizer_run(tmp_path, text_file):
    args = small_run(
        tmp_path, "bpe", "--data", str(text_file), "--tokenizer", "bpe", "--vocab-size", "270"
    )
    assert main(args) == 0
    metrics = json.loads((tmp_path / "bpe" / "metrics.json").read_text())
    assert metrics["vocab_size"] == 270


def test_resume_continues_exactly(tmp_path, text_file, monkeypatch, capsys):
    base = ["--data", str(text_file), "--dropout", "0.1"]
    assert main(small_run(tmp_path, "straight", *base)) == 0

    import groundup.train as train_pkg

    real_train = train_pkg.train

    def crashing_train(*args, on_step=None, **kwargs):
        def step_then_crash(row):
            if row["step"] == 4:  # Ctrl-C during step 4: the run saves after it, and stops
                os.kill(os.getpid(), signal.SIGINT)
            on_step(row)

        return real_train(*args, on_step=step_then_crash, **kwargs)

    monkeypatch.setattr(train_pkg, "train", crashing_train)
    assert main(small_run(tmp_path, "crashed", *base)) == 1
    assert "interrupted at step 5; saved" in capsys.readouterr().err
    monkeypatch.setattr(train_pkg, "train", real_train)
    assert main(["train", "gpt", "--resume", str(tmp_path / "crashed"), "--no-progress"]) == 0

    straight = (tmp_path / "straight" / "history.csv").read_text()
    resumed = (tmp_path / "crashed" / "history.csv").read_text()
    strip = [line.split(",")[:5] for line in straight.splitlines()]  # seconds, speed differ
    assert [line.split(",")[:5] for line in resumed.splitlines()] == strip
    evals = [(tmp_path / name / "evals.csv").read_text() for name in ("straight", "crashed")]
    assert evals[0] == evals[1]


def test_bad_arguments_are_reported(tmp_path, text_file, capsys):
    assert main(small_run(tmp_path, "x", "--data", str(text_file), "--lr", "0")) == 2
    assert "--lr must be positive" in capsys.readouterr().err
    assert main(small_run(tmp_path, "z", "--data", str(text_file), "--min-lr", "1")) == 2
    assert "--min-lr must be in [0, --lr]" in capsys.readouterr().err
    assert main(small_run(tmp_path, "y", "--data", str(tmp_path / "absent.txt"))) == 2
    assert "no such text file" in capsys.readouterr().err
    assert main(["train", "gpt", "--resume", str(tmp_path), "--no-progress"]) == 2
    assert "args.json" in capsys.readouterr().err


def test_one_word_file_is_refused_before_a_run_folder_is_made(tmp_path, capsys):
    from groundup.app.cli import main

    data = tmp_path / "one.txt"
    data.write_text("abc\n", encoding="utf-8")
    out = tmp_path / "run"
    argv = ["train", "gpt", "--data", str(data), "--words", "--max-iters", "2", "--out", str(out)]
    assert main(argv) != 0
    assert "training split empty" in capsys.readouterr().err
    assert not out.exists()


def test_a_bpe_vocab_below_the_bytes_names_the_flag(tmp_path, capsys):
    from groundup.app.cli import main

    data = tmp_path / "t.txt"
    data.write_text("hello world " * 50, encoding="utf-8")
    argv = [
        "train",
        "gpt",
        "--data",
        str(data),
        "--tokenizer",
        "bpe",
        "--vocab-size",
        "100",
        "--max-iters",
        "1",
        "--out",
        str(tmp_path / "run"),
    ]
    assert main(argv) != 0
    assert "--vocab-size" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["\n\n", "hello world\n"])
def test_a_text_too_short_for_the_context_names_data_and_block_size(tmp_path, capsys, text):
    # the error used to come from deep inside the batcher ("data['train'] must be ...")
    from groundup.app.cli import main

    data = tmp_path / "short.txt"
    data.write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    argv = ["train", "gpt", "--data", str(data), "--max-iters", "1", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"--data {data}" in err and "--block-size" in err and "330 characters" in err
    assert not out.exists()
    argv += ["--block-size", "1", "--eval-interval", "1", "--no-progress", "--samples", "5"]
    if len(text) > 10:  # 12 characters: 10 and 2 tokens, enough for a context of 1
        assert main(argv) == 0


@pytest.mark.parametrize("data, vocab", [("shakespeare", 65), ("names", 27)])
def test_the_shipped_data_trains_with_no_data_flag_or_file(tmp_path, capsys, data, vocab):
    """A fresh clone, offline: the default data (tinyshakespeare) and `--data names` ship
    with the package, nothing to download."""
    argv = [
        "train",
        "gpt",
        "--max-iters",
        "2",
        "--eval-interval",
        "1",
        "--eval-iters",
        "1",
        "--batch-size",
        "2",
        "--samples",
        "1",
        "--no-progress",
        "--out",
        str(tmp_path / data),
    ]
    assert main(argv + ([] if data == "shakespeare" else ["--data", data])) == 0
    config = json.loads((tmp_path / data / "checkpoint" / "config.json").read_text())
    assert config["model"]["kwargs"]["vocab_size"] == vocab
