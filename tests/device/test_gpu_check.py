"""benchmarks/gpu_check.py's dry run: every CPU-only path of the GPU check runs (parity of
the op table and a GPT step, a lecture-style run), so the script that cannot be run here
has at least run. Its figures at toy sizes mean nothing and are not checked. The speed part
needs PyTorch, which the core suite never imports; the twin is checked on a GPU machine."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_dry_run_passes_every_part_but_speed(capsys):
    check = _load()
    assert check.main(["--device", "cpu", "--quick", "--skip", "speed"]) == 0
    out = capsys.readouterr().out
    assert "parity: " in out and "FAIL" not in out
    assert "gpt step: " in out and "(ok)" in out
    assert "lecture: best val " in out


def test_without_a_gpu_the_check_says_what_to_install(capsys, monkeypatch):
    check = _load()
    from groundup.tensor import cuda

    monkeypatch.setattr(cuda, "is_available", lambda: False)
    assert check.main(["--device", "cuda"]) == 2
    assert "cupy-cuda12x" in capsys.readouterr().out
