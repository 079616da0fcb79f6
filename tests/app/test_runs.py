"""Run folders have one owner, refuse what holds another run, and leave nothing behind when a
command fails before it has something resumable; the CLI answers every failure in one line."""

from __future__ import annotations

import errno
import json
import subprocess
import sys

import pytest

from groundup.app.cli import describe_failure, main
from groundup.app.runs import RunFolderError, open_run


def test_a_failed_new_run_leaves_no_folder(tmp_path):
    out = tmp_path / "new"
    with pytest.raises(RuntimeError), open_run("gpt", out) as run:
        run.write_text("evals.csv", "step\n")
        raise RuntimeError("boom")
    assert not out.exists()


def test_a_failed_run_in_an_empty_folder_empties_it_again(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    with pytest.raises(RuntimeError), open_run("gpt", out) as run:
        run.write_json("args.json", {})
        raise RuntimeError("boom")
    assert out.is_dir() and not any(out.iterdir())


def test_a_resumable_run_is_kept_when_it_fails(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(RuntimeError), open_run("gpt", out) as run:
        (run / "last").mkdir()
        (run / "last" / "state.json").write_text("{}")
        raise RuntimeError("diverged")
    assert (out / "last" / "state.json").is_file() and (out / "run.json").is_file()


def test_a_folder_holding_a_run_is_refused_and_untouched(tmp_path):
    out = tmp_path / "run"
    with open_run("mlp", out) as run:
        run.write_json("metrics.json", {"val_loss": 2.0})
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(RunFolderError, match=r"already holds a mlp run .*--resume.*--force"):
        with open_run("gpt", out):
            pass
    assert sorted(p.name for p in out.iterdir()) == before
    with pytest.raises(RunFolderError, match=r"holds a mlp run, not a gpt run"):
        with open_run("gpt", out, resume=True):
            pass
    with open_run("gpt", out, force=True) as run:  # --force: the old run goes
        assert not (out / "metrics.json").exists()
    assert json.loads((out / "run.json").read_text())["kind"] == "gpt"


def test_other_files_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match=r"1 other file\(s\) \(notes\.txt\)"):
        with open_run("gpt", tmp_path):
            pass
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_locked_folder_is_refused_by_another_process(tmp_path):
    out = tmp_path / "run"
    code = (
        "import sys; from groundup.app.runs import open_run, RunFolderError\n"
        "try:\n"
        f"    with open_run('gpt', {str(out)!r}): pass\n"
        "except RunFolderError as e: print(e); sys.exit(3)\n"
    )
    with open_run("gpt", out):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert "another groundup run is using this folder" in done.stdout
    assert (out / "run.json").is_file()  # the owner's files are untouched


@pytest.mark.parametrize(
    ("err", "code", "words"),
    [
        (FloatingPointError("train loss became nan"), 1, "diverged: train loss became nan"),
        (MemoryError(), 2, "out of memory"),
        (OSError(errno.ENOSPC, "No space left on device", "runs/x/model.safetensors"), 2,
         "runs/x/model.safetensors: No space left on device; free some disk space"),
        (OSError(errno.EROFS, "Read-only file system", "/ro"), 2, "read-only"),
        (KeyError("n_embd"), 2, "missing entry 'n_embd'"),
        (TypeError("bad type"), 2, "error: bad type"),
        (ZeroDivisionError("x"), 2, "GROUNDUP_TRACEBACK"),
        (ImportError("training on several needs mpi4py: pip install 'groundup[mpi]'"), 2,
         "error: training on several needs mpi4py"),  # ours: an extra to install
        (ModuleNotFoundError("No module named 'x'", name="x"), 2, "GROUNDUP_TRACEBACK"),
    ],
)  # fmt: skip
def test_every_failure_is_one_line(err, code, words):
    got, message = describe_failure(err)
    assert got == code and words in message and "\n" not in message


def test_the_cli_turns_an_unexpected_error_into_one_line(tmp_path, monkeypatch, capsys):
    import groundup.app.sampling as sampling

    def broken(folder):
        raise KeyError("vocab_size")

    monkeypatch.setattr(sampling, "load_for_sampling", broken)
    assert main(["sample", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["groundup sample: error: missing entry 'vocab_size'"]


# ---------------------------------------------------------------- under mpiexec


class OneCallComm:
    """What rank 0 broadcasts, as the ranks of open_run see it (no MPI needed)."""

    def __init__(self, path=None):
        self.path, self.sent = path, []

    def bcast(self, obj, root=0):
        self.sent.append(obj)
        return self.path if obj is None else obj


def test_rank_0_takes_the_folder_and_tells_the_others_where_it_is(tmp_path):
    from groundup.train.distributed import World

    comm = OneCallComm()
    with open_run("gpt", root=tmp_path, world=World(2, 0, comm)) as run:
        run.write_json("args.json", {})
        assert run.writer and run.world.size == 2
    assert comm.sent == [str(run.path)] and (run.path / "args.json").is_file()


def test_the_other_ranks_write_nothing_and_lock_nothing(tmp_path):
    from groundup.train.distributed import World

    path = tmp_path / "gpt-run"
    with open_run("gpt", root=tmp_path, world=World(2, 1, OneCallComm(str(path)))) as run:
        assert run.path == path and not run.writer
        run.write_json("args.json", {})
        run.write_text("evals.csv", "step\n")
    assert not path.exists()  # rank 0 makes it; this rank only learnt its name
    with pytest.raises(RuntimeError), open_run("gpt", world=World(2, 1, OneCallComm(str(path)))):
        raise RuntimeError("boom")  # and undoes nothing


def test_a_process_told_to_ignore_ctrl_c_keeps_ignoring_it():
    import signal

    from groundup.app.runs import graceful_interrupt

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with graceful_interrupt() as stop:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert not stop.requested
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ranks_on_one_machine_share_its_cores(monkeypatch):
    import os

    from groundup.app import cli

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MPI_LOCALNRANKS", "2")
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    cli._share_cores()
    assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["OMP_NUM_THREADS"] == "4"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's choice wins
    monkeypatch.setenv("MPI_LOCALNRANKS", "8")
    cli._share_cores()
    assert os.environ["OMP_NUM_THREADS"] == "3" and os.environ["OPENBLAS_NUM_THREADS"] == "4"
