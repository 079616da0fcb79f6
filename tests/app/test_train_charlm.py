"""`groundup train bigram|mlp` end to end, on a few steps, into tmp_path."""

from __future__ import annotations

import json

import numpy as np
import pytest

from groundup.app.cli import main
from groundup.train import History, load_checkpoint


def _run(tmp_path, *argv):
    out = tmp_path / "run"
    code = main(["train", *argv, "--out", str(out), "--no-progress", "--samples", "6"])
    return code, out


@pytest.mark.parametrize(
    "argv",
    [
        ["bigram", "--steps", "20"],
        ["mlp", "--steps", "40", "--batchnorm", "--n-hidden", "32"],
        ["mlp", "--steps", "20", "--block-size", "4", "--n-layers", "2", "--hierarchical",
         "--batchnorm", "--n-hidden", "16"],
    ],
)  # fmt: skip
def test_train_writes_a_complete_run_folder(tmp_path, capsys, argv, has_matplotlib):
    code, out = _run(tmp_path, *argv)
    assert code == 0
    printed = capsys.readouterr().out
    assert "val loss" in printed and "samples" in printed

    metrics = json.loads((out / "metrics.json").read_text())
    assert {"train_loss", "val_loss", "test_loss", "num_parameters"} <= set(metrics)
    assert metrics["train_loss"] < np.log(27)  # a few steps already beat uniform
    if has_matplotlib:  # without the viz extra the picture is skipped, with a note
        assert (out / "loss_curve.png").stat().st_size > 1000
    assert len((out / "samples.txt").read_text().splitlines()) == 6
    assert len(History.from_csv((out / "history.csv").read_text())) == int(argv[2])

    # the checkpoint rebuilds the same model through the registry (as `groundup sample` does)
    ckpt = load_checkpoint(out)
    assert set(ckpt.config) == {"model", "training", "data", "tokenizer"}
    assert ckpt.config["model"]["type"] == argv[0]
    assert ckpt.config["data"] == {**ckpt.config["data"], "source": "names", "seed": 42}
    model = ckpt.build_model().eval()
    assert model.num_parameters() == metrics["num_parameters"]
    assert ckpt.tokenizer.vocab_size == 27
    ids = model.generate(np.zeros((6, 1), dtype=np.int64), 5, seed=42)
    assert ids.shape == (6, 6)


def test_train_is_reproducible_for_a_seed(tmp_path):
    argv = ["mlp", "--steps", "15", "--n-hidden", "16"]
    main(["train", *argv, "--out", str(tmp_path / "a"), "--no-progress"])
    main(["train", *argv, "--out", str(tmp_path / "b"), "--no-progress"])
    a = json.loads((tmp_path / "a" / "metrics.json").read_text())
    b = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert a["val_loss"] == b["val_loss"]
    assert (tmp_path / "a" / "samples.txt").read_text() == (
        tmp_path / "b" / "samples.txt"
    ).read_text()


def test_bigram_on_a_file_without_split(tmp_path, capsys):
    data = tmp_path / "words.txt"
    data.write_text("anna\nbob\nanna\nab\n", encoding="utf-8")
    code, out = _run(
        tmp_path, "bigram", "--data", str(data), "--no-split", "--steps", "300", "--lr", "5"
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(k for k in metrics if k.endswith("_loss")) == {"train_loss", "counting_train_loss"}
    assert metrics["train_loss"] == pytest.approx(metrics["counting_train_loss"], abs=0.02)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["mlp", "--steps", "0"], "--steps must be a positive int, got 0"),
        (["mlp", "--lr", "-1"], "--lr must be positive"),
        (["mlp", "--hierarchical", "--n-layers", "2"], "block_size must be 2 ** n_layers"),
        (["bigram", "--data", "no/such/file.txt"], "no/such/file.txt"),
    ],
)
def test_errors_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    code, _ = _run(tmp_path, *argv)
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("model_type", ["bigram", "mlp"])
def test_a_one_word_file_is_a_clear_error_not_a_keyerror(tmp_path, capsys, model_type):
    # 80/10/10 of one word leaves no training words: the bigram crashed with KeyError
    # 'train', the MLP made its run folder and then failed on evaluate
    data = tmp_path / "one.txt"
    data.write_text("abc\n", encoding="utf-8")
    code, out = _run(tmp_path, model_type, "--data", str(data), "--steps", "2")
    assert code == 2
    err = capsys.readouterr().err
    assert f"--data {data}: 1 word(s) leave the 80% training split empty" in err
    assert not out.exists()


def test_a_tiny_five_letter_file_trains_and_samples_end_to_end(tmp_path, capsys):
    data = tmp_path / "tiny.txt"  # a BOM, CRLF line ends and a blank line
    data.write_bytes(b"\xef\xbb\xbfabc\r\nbad\r\n\r\ncab\r\nace\r\nbeeb\r\ndab\r\necad\r\n")
    code, out = _run(tmp_path, "mlp", "--data", str(data), "--steps", "3", "--block-size", "5",
                     "--n-embd", "2", "--n-hidden", "8")  # fmt: skip
    assert code == 0
    config = json.loads((out / "checkpoint" / "config.json").read_text())
    assert config["tokenizer"]["chars"] == "abcde"
    assert config["model"]["kwargs"]["vocab_size"] == 6
    assert main(["sample", str(out), "-n", "3", "--seed", "0"]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["mlp", "--samples", "-1"], "--samples must be an int >= 0, got -1"),
        (["mlp", "--eval-interval", "-1"], "--eval-interval must be an int >= 0, got -1"),
        (["mlp", "--lr-decay-step", "-5"], "--lr-decay-step must be a positive int, got -5"),
        (["bigram", "--batch-size", "-1"], "--batch-size must be an int >= 0, got -1"),
    ],
)
def test_more_bad_flags_are_one_line_errors_naming_the_flag(tmp_path, capsys, argv, message):
    # mlp --samples -1 failed after training with NumPy's "negative dimensions are not allowed"
    out = tmp_path / "run"  # not _run: it appends its own --samples
    code = main(["train", *argv, "--steps", "2", "--out", str(out), "--no-progress"])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_mlp_batch_size_zero_is_full_batch_as_its_help_says(tmp_path):
    data = tmp_path / "w.txt"
    data.write_text("abc\nbad\ncab\nace\nbeeb\ndab\n", encoding="utf-8")
    code, out = _run(tmp_path, "mlp", "--data", str(data), "--batch-size", "0", "--steps", "2",
                     "--batchnorm", "--n-hidden", "8")  # fmt: skip
    assert code == 0
    assert json.loads((out / "metrics.json").read_text())["steps"] == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["mlp", "--steps", "40", "--batchnorm", "--n-hidden", "16", "--dtype", "float64"],
        ["bigram", "--steps", "40"],
    ],
)
def test_ctrl_c_saves_and_resume_continues_exactly(tmp_path, monkeypatch, capsys, argv):
    """Ctrl-C mid-run saves a checkpoint at a step boundary; --resume then ends where the
    uninterrupted run does, losses bit for bit (BatchNorm's running stats included)."""
    import os
    import signal

    import groundup.train as train_pkg

    common = ["--no-progress", "--samples", "4"]
    assert main(["train", *argv, "--out", str(tmp_path / "straight"), *common]) == 0
    real_train = train_pkg.train

    def interrupted_train(*args, on_step=None, **kwargs):
        def step(row):
            if row["step"] == 13:
                os.kill(os.getpid(), signal.SIGINT)  # handled: stop after this step
            on_step(row)

        return real_train(*args, on_step=step, **kwargs)

    monkeypatch.setattr(train_pkg, "train", interrupted_train)
    out = tmp_path / "crashed"
    assert main(["train", *argv, "--out", str(out), *common]) == 1
    err = capsys.readouterr().err
    assert (
        f"interrupted at step 14; saved. Resume with:\n  groundup train {argv[0]} --resume" in err
    )
    assert not (out / "metrics.json").exists()
    monkeypatch.setattr(train_pkg, "train", real_train)
    assert main(["train", argv[0], "--resume", str(out), "--no-progress"]) == 0

    def losses(name):
        rows = (tmp_path / name / "history.csv").read_text().splitlines()
        return [row.split(",")[:3] for row in rows]

    assert losses("crashed") == losses("straight")
    a, b = (
        json.loads((tmp_path / n / "metrics.json").read_text()) for n in ("straight", "crashed")
    )
    assert a["val_loss"] == b["val_loss"] and a["test_loss"] == b["test_loss"]


def test_a_failed_resume_changes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "bigram", "--steps", "20", "--out", str(out), "--no-progress"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert main(["train", "bigram", "--resume", str(out), "--steps", "5", "--no-progress"]) == 2
    assert "--steps must be at least the 20 steps the run has done" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert main(["train", "mlp", "--resume", str(out), "--no-progress"]) == 2
    assert "holds a bigram run, not a mlp run" in capsys.readouterr().err
