"""Data parallelism under a real ``mpiexec``: the ring allreduce against MPI's, and
``mpiexec -n N groundup train ...`` against the one-process run (per-step losses, evaluations,
final weights, the run folder written once), a resume on another number of ranks, and the
one-line refusals and failures. Skipped without mpi4py and mpiexec (the ``mpi`` extra)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
MPIEXEC = shutil.which("mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                        os.environ.get("PATH", "")]))  # fmt: skip
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
    reason="needs mpi4py and mpiexec: pip install 'groundup[mpi]'",
)

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 40
WORDS = "emma olivia ava isabella sophia mia amelia harper evelyn abigail emily ella".split() * 3

# a run whose rank `who` is interrupted (Ctrl-C) or fails (out of memory) after step `at`
INJECT = """
import os, signal, sys
import groundup.train as train_pkg
from groundup._launch import launched_rank
from groundup.app.cli import main

mode, at, who = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
real = train_pkg.train

def patched(*args, on_step=None, **kwargs):
    def hook(row):
        if row["step"] == at and launched_rank() == who:
            if mode == "interrupt":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise MemoryError
        on_step(row)
    return real(*args, on_step=hook, **kwargs)

train_pkg.train = patched
sys.exit(main(sys.argv[4:]))
"""

RING = """
import numpy as np
from mpi4py import MPI
from groundup.train.distributed import ring_allreduce

comm = MPI.COMM_WORLD
for length in (1, 2, 5, 1000):
    x = np.random.default_rng([comm.Get_rank(), length]).normal(size=length)
    ring = ring_allreduce(comm, x)
    reference = np.empty_like(x)
    comm.Allreduce(x, reference)
    np.testing.assert_allclose(ring, reference, rtol=1e-12, atol=1e-12)
    assert all(np.array_equal(ring, other) for other in comm.allgather(ring))
passed = comm.gather(comm.Get_rank())
if comm.Get_rank() == 0:
    print("ok", passed)
"""


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "MPI_"))}
    return {**env, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip


def launch(cwd: Path, ranks: int, *args: str, script: Path | None = None):
    """``groundup *args`` (or ``python script *args``) on ``ranks`` processes; 1: no mpiexec."""
    program = [sys.executable, *([str(script)] if script else ["-m", "groundup"]), *args]
    command = program if ranks == 1 else [MPIEXEC, "-n", str(ranks), *program]
    return subprocess.run(command, cwd=cwd, env=environment(), capture_output=True, text=True,
                          timeout=240)  # fmt: skip


def gpt_args(data: str, out: str, *extra: str) -> list[str]:
    return ["train", "gpt", "--preset", "tiny", "--max-iters", "6", "--eval-interval", "2",
            "--eval-iters", "2", "--block-size", "16", "--warmup", "2", "--no-progress",
            "--samples", "20", "--data", data, "--out", out, *extra]  # fmt: skip


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "text.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "words.txt").write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    return tmp_path


def history(run: Path) -> np.ndarray:
    """(step, train_loss, val_loss or nan, lr, grad_norm) of every logged row."""
    rows = [line.split(",")[:5] for line in (run / "history.csv").read_text().splitlines()[1:]]
    return np.array([[float(v) if v else np.nan for v in row] for row in rows])


def weights(checkpoint: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(checkpoint / "model.safetensors"))


def assert_same_run(run: Path, reference: Path, rtol: float = 1e-4) -> None:
    np.testing.assert_allclose(history(run), history(reference), rtol=rtol)
    evals = [np.loadtxt(r / "evals.csv", delimiter=",", skiprows=1) for r in (run, reference)]
    np.testing.assert_allclose(evals[0], evals[1], rtol=rtol)
    for name in ("checkpoint", "last"):
        assert_same_weights(weights(run / name), weights(reference / name), 1e-3, 1e-5)


def assert_same_weights(mine: dict, theirs: dict, rtol: float, model_rtol: float) -> None:
    """Each tensor within ``rtol`` of the reference as a whole (the norm of the difference
    over the norm), and the whole model within ``model_rtol``. Not entry by entry: entries
    whose true gradient is 0, as the key biases of attention (a softmax ignores what adds the
    same to every score), take steps of rounding noise that Adam scales up, so they agree
    only to that noise (1e-4 of their tensor after a few steps, the rest 1e-7)."""
    assert mine.keys() == theirs.keys()
    for key in theirs:
        gap = np.linalg.norm(mine[key] - theirs[key])
        assert gap <= rtol * np.linalg.norm(theirs[key]), (key, gap)
    a, b = (np.concatenate([w[k].ravel() for k in sorted(w)]) for w in (mine, theirs))
    assert np.linalg.norm(a - b) <= model_rtol * np.linalg.norm(b)


# ---------------------------------------------------------------- the ring, against MPI


def test_the_ring_allreduce_equals_mpis_allreduce(tmp_path):
    script = tmp_path / "ring.py"
    script.write_text(RING, encoding="utf-8")
    done = launch(tmp_path, 3, script=script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok [0, 1, 2]"


# ---------------------------------------------------------------- runs equal to one process


@pytest.mark.parametrize(
    "ranks, data, extra",
    [(2, "text.txt", ["--batch-size", "4"]),  # even shards
     (3, "words.txt", ["--words", "--batch-size", "5"])],  # 2, 2, 1 rows; -1 padding
)  # fmt: skip
def test_train_gpt_on_n_ranks_is_the_one_process_run(folder, ranks, data, extra):
    one = launch(folder, 1, *gpt_args(data, "one", *extra))
    assert one.returncode == 0, one.stderr
    many = launch(folder, ranks, *gpt_args(data, "many", *extra))
    assert many.returncode == 0, many.stderr
    assert_same_run(folder / "many", folder / "one")
    # written once, by rank 0: the same files as one process; printed once
    listing = {p.relative_to(folder / "one") for p in (folder / "one").rglob("*")}
    assert {p.relative_to(folder / "many") for p in (folder / "many").rglob("*")} == listing
    assert many.stdout.count("run folder:") == 1 and many.stderr.count("step 2:") == 1
    assert sorted(p.name for p in folder.iterdir()) == ["many", "one", "text.txt", "words.txt"]
    for name in ("metrics.json", "args.json"):
        assert json.loads((folder / "many" / name).read_text())["world_size"] == ranks
        assert json.loads((folder / "one" / name).read_text())["world_size"] == 1
    metrics = [json.loads((folder / r / "metrics.json").read_text()) for r in ("one", "many")]
    assert metrics[1]["val_loss"] == pytest.approx(metrics[0]["val_loss"], rel=1e-4)


def test_a_run_without_out_makes_one_folder(folder):
    args = gpt_args("text.txt", "x", "--batch-size", "2", "--max-iters", "2")
    at = args.index("--out")
    done = launch(folder, 2, *args[:at], *args[at + 2 :])  # no --out: runs/gpt-<time>
    assert done.returncode == 0, done.stderr
    assert len(list((folder / "runs").iterdir())) == 1


def test_train_mlp_on_three_ranks_is_the_one_process_run(folder):
    args = ["train", "mlp", "--data", "words.txt", "--steps", "20", "--batch-size", "7",
            "--eval-interval", "10", "--no-progress", "--samples", "5",
            "--dtype", "float64"]  # fmt: skip
    assert launch(folder, 1, *args, "--out", "one").returncode == 0
    done = launch(folder, 3, *args, "--out", "many")
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(history(folder / "many"), history(folder / "one"), rtol=1e-10)
    mine, theirs = weights(folder / "many" / "checkpoint"), weights(folder / "one" / "checkpoint")
    assert_same_weights(mine, theirs, 1e-10, 1e-12)  # float64, no attention
    metrics = [json.loads((folder / r / "metrics.json").read_text()) for r in ("one", "many")]
    for split in ("train_loss", "val_loss", "test_loss"):
        assert metrics[1][split] == pytest.approx(metrics[0][split], rel=1e-10)


def test_a_resume_on_another_number_of_ranks_continues_exactly(folder):
    """Dropout 0.1: interrupted on 2 ranks after step 4, resumed on 3 (an odd split), it ends
    where the uninterrupted one-process run does."""
    script = folder / "inject.py"
    script.write_text(INJECT, encoding="utf-8")
    base = ["--batch-size", "4", "--dropout", "0.1"]
    assert launch(folder, 1, *gpt_args("text.txt", "straight", *base)).returncode == 0
    stopped = launch(folder, 2, "interrupt", "3", "0", *gpt_args("text.txt", "run", *base),
                     script=script)  # fmt: skip
    assert stopped.returncode == 1, stopped.stderr
    assert "interrupted at step 4; saved" in stopped.stderr
    resumed = launch(folder, 3, "train", "gpt", "--resume", "run", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(folder / "run", folder / "straight")
    assert json.loads((folder / "run" / "args.json").read_text())["world_size"] == 3


# ---------------------------------------------------------------- refusals and failures


@pytest.mark.parametrize(
    "ranks, args, message",
    [
        (3, ["--batch-size", "2"], "--batch-size 2 is smaller than the 3 ranks"),
        (2, ["--batchnorm"], "--batchnorm cannot train on 2 ranks"),
    ],
)
def test_what_cannot_be_shared_is_refused_in_one_line(folder, ranks, args, message):
    command = gpt_args("text.txt", "run", *args) if "--batch-size" in args else [
        "train", "mlp", "--data", "words.txt", "--steps", "2", "--out", "run", *args]  # fmt: skip
    done = launch(folder, ranks, *command)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not (folder / "run").exists()


def test_commands_that_are_not_data_parallel_are_refused(folder):
    done = launch(folder, 2, "micrograd", "--steps", "2", "--out", "run")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "micrograd: error: this command runs in one process" in done.stderr
    assert not (folder / "run").exists()


def test_ranks_started_with_different_commands_are_refused(folder):
    program = [sys.executable, "-m", "groundup"]
    one = [*program, *gpt_args("text.txt", "a", "--batch-size", "2")]
    other = [*program, *gpt_args("text.txt", "b", "--batch-size", "2")]
    command = [MPIEXEC, "-n", "1", *one, ":", "-n", "1", *other]  # MPMD: two programs
    done = subprocess.run(command, cwd=folder, env=environment(), capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "started with different arguments" in done.stderr
    assert not (folder / "a").exists() and not (folder / "b").exists()


def test_a_failing_rank_takes_the_others_down_in_one_line(folder):
    script = folder / "inject.py"
    script.write_text(INJECT, encoding="utf-8")
    args = gpt_args("text.txt", "run", "--batch-size", "4")
    done = launch(folder, 2, "fail", "2", "1", *args, script=script)  # rank 1, after step 2
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert errors == ["groundup train gpt: error: out of memory; try a smaller --batch-size, "
                      "--block-size or model (--preset) (rank 1 of 2)"], done.stderr  # fmt: skip
