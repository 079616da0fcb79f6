"""--device on the training and sampling commands: cpu and auto work everywhere; a run on
the stand-in GPU trains, saves and samples like a run on the CPU."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from groundup.app.cli import main
from groundup.train.checkpoint import load_arrays

HAS_CUPY = importlib.util.find_spec("cupy") is not None
TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 40


def _gpt_run(tmp_path, name, *extra):
    data = tmp_path / "text.txt"
    data.write_text(TEXT, encoding="utf-8")
    return ["train", "gpt", "--preset", "tiny", "--max-iters", "4", "--eval-interval", "2",
            "--eval-iters", "2", "--block-size", "16", "--warmup", "2", "--samples", "20",
            "--data", str(data), "--out", str(tmp_path / name), "--no-progress",
            *extra]  # fmt: skip


def test_a_gpt_run_on_the_device_matches_the_cpu_run(tmp_path, standin_cuda, capsys):
    assert main(_gpt_run(tmp_path, "cpu", "--device", "cpu")) == 0
    assert main(_gpt_run(tmp_path, "dev", "--device", "cuda")) == 0
    cpu = json.loads((tmp_path / "cpu" / "metrics.json").read_text())
    dev = json.loads((tmp_path / "dev" / "metrics.json").read_text())
    assert dev["best_val_loss_estimate"] == pytest.approx(cpu["best_val_loss_estimate"], rel=1e-5)
    a, _ = load_arrays(tmp_path / "cpu" / "checkpoint" / "model.safetensors")
    b, _ = load_arrays(tmp_path / "dev" / "checkpoint" / "model.safetensors")
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-4, atol=1e-6, err_msg=k)
    capsys.readouterr()
    assert (
        main(["sample", str(tmp_path / "dev"), "-n", "20", "--seed", "1", "--device", "cuda"]) == 0
    )
    on_device = capsys.readouterr().out
    assert (
        main(["sample", str(tmp_path / "dev"), "-n", "20", "--seed", "1", "--device", "cpu"]) == 0
    )
    assert capsys.readouterr().out == on_device


def test_an_mlp_run_trains_on_the_device(tmp_path, standin_cuda):
    argv = ["train", "mlp", "--steps", "30", "--batchnorm", "--samples", "3", "--device", "cuda",
            "--out", str(tmp_path / "run"), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_a_bad_device_is_refused_naming_the_flag(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(_gpt_run(tmp_path, "run", "--device", "gpu"))
    assert exit_.value.code == 2
    assert "argument --device: must be auto, cpu or cuda, got 'gpu'" in capsys.readouterr().err


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here: its absence cannot be tested")
def test_cuda_without_cupy_says_how_to_install_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(_gpt_run(tmp_path, "run", "--device", "cuda"))
    assert exit_.value.code == 2
    assert 'pip install -e ".[cuda]"' in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
