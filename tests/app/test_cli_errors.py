"""The CLI's error table: each bad input ends in one line on stderr naming the flag or file,
exit 2, and no run folder, before anything is trained."""

from __future__ import annotations

import pytest

from groundup.app.cli import main

GPT = ["train", "gpt", "--max-iters", "2", "--eval-iters", "1", "--batch-size", "2"]

CASES = [
    (GPT + ["--lr", "inf"], "--lr"),
    (GPT + ["--lr", "nan"], "--lr"),
    (GPT + ["--weight-decay", "nan"], "--weight-decay"),
    (GPT + ["--dropout", "1.5"], "--dropout"),
    (GPT + ["--samples", "-1"], "--samples"),
    (GPT + ["--block-size", "100000"], "--block-size"),
    (GPT + ["--data", "names", "--block-size", "3"], "--block-size"),
    (["train", "mlp", "--batch-size", "100000000"], "--batch-size"),
    (["train", "mlp", "--n-hidden", "0"], "--n-hidden"),
    # the (rows, block) arrays alone would be ~17 TB: refused before they are built
    (["train", "mlp", "--block-size", "10000000"], "--block-size"),
    (["train", "mlp", "--lr", "inf"], "--lr"),
    (["train", "bigram", "--l2", "nan"], "--l2"),
    (["micrograd", "--noise", "1e308"], "--noise"),
    (["micrograd", "--lr", "inf"], "--lr"),
    (["micrograd", "--n-samples", "100000000"], "--n-samples"),
    (["journey", "--steps-scale", "inf"], "--steps-scale"),
]


@pytest.mark.parametrize(("argv", "flag"), CASES, ids=[" ".join(c[0][-2:]) for c in CASES])
def test_bad_input_is_one_line_naming_the_flag(tmp_path, capsys, argv, flag):
    out = tmp_path / "run"
    assert main([*argv, "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and flag in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_a_file_that_is_not_utf8_is_named(tmp_path, capsys):
    data = tmp_path / "bin.dat"
    data.write_bytes(b"abc\x00\xff\xfe")
    assert main([*GPT, "--data", str(data), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    assert "bin.dat: not UTF-8 text (byte 0xff at offset 4)" in capsys.readouterr().err
