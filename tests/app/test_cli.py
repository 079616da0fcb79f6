import subprocess
import sys

import pytest

from groundup.app.cli import build_parser, main


def test_help_lists_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "groundup" in out


def test_version():
    parser = build_parser()
    try:
        parser.parse_args(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0


def test_start_up_imports_no_numpy():
    code = "import sys, groundup.app.cli as c; c.build_parser(); print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "argv",
    [
        ["micrograd", "--seed", "-1"],
        ["train", "mlp", "--seed", "-2"],
        ["train", "bigram", "--seed", "x"],
        ["journey", "--seed", "-1"],
    ],
)
def test_a_negative_seed_is_refused_at_parse_time_naming_the_flag(argv, capsys, tmp_path):
    # it used to reach NumPy: a traceback (micrograd, journey) or "expected non-negative integer"
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--out", str(tmp_path / "run")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed: must be an int >= 0, got" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_micrograd_negative_noise_is_one_line_error(capsys, tmp_path):
    assert main(["micrograd", "--noise", "-1", "--out", str(tmp_path / "run")]) == 2
    assert "--noise must be in [0, 100]" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["micrograd", "--steps", "1", "--no-progress"],
        ["train", "bigram", "--steps", "1", "--no-progress"],
        ["journey", "--quick", "--no-progress"],
    ],
)
def test_out_pointing_at_a_file_is_a_one_line_error(argv, capsys, tmp_path):
    # it was a FileExistsError traceback
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    assert main([*argv, "--out", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert f"--out {blocker}: is a file, expected a folder" in err
    assert "Traceback" not in err


def test_the_command_loads_numpy_only_after_its_thread_settings():
    """The journey sets BLAS threads before NumPy loads; the allocator call at start-up
    must not load NumPy first (it did, and OpenBLAS then ran 2 threads)."""
    code = (
        "import sys, groundup.app.cli as c\n"
        "from groundup._allocator import keep_freed_memory\n"
        "keep_freed_memory()\n"
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_training_without_numba_says_so_in_one_line(capsys, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "numba" else real(n, *a)
    )
    data = tmp_path / "missing.txt"
    assert main(["train", "bigram", "--data", str(data), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "numba is not installed" in err[0] and "groundup[fast]" in err[0]
    assert len(err) == 2  # the notice, then the command's own one-line error
    monkeypatch.setenv("GROUNDUP_JIT", "0")  # kernels turned off on purpose: no notice
    main(["train", "bigram", "--data", str(data), "--out", str(tmp_path / "run")])
    assert "numba is not installed" not in capsys.readouterr().err


def test_importing_the_library_does_not_load_numba():
    """numba loads on the first call of a function with a kernel, never on import."""
    code = "import sys, groundup, groundup.nn, groundup.optim, groundup.models\n"
    code += "print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
