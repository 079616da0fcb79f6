"""Run folders with one owner: a lock for the life of a run, a refusal for a folder that holds
another run, and no trace left by a run that failed before it had anything worth keeping.

    with open_run("gpt", args.out, resume=bool(args.resume), force=args.force) as run:
        run.write_json("args.json", saved_args)      # atomic: temp, fsync, rename
        ...                                          # train; checkpoints go under run.path

What each case does:
- a new folder (``--out`` absent, or naming a folder that does not exist): made, locked,
  marked with ``run.json``; if the command fails before a resumable checkpoint exists, the
  folder is removed again;
- an empty existing folder: used as if new; on such a failure it is emptied again;
- a folder holding anything else: refused, naming what is there, unless ``resume`` (it must
  hold a run of the same kind) or ``force`` (its contents are replaced);
- a folder another process has locked: refused at once, whatever the flags.

The lock is ``flock`` on the folder itself (no lock file to leave behind); it is released
when the process ends, however it ends.

Under ``mpiexec`` (``open_run(..., world=world)``) rank 0 alone takes, locks and writes the
folder; the other ranks get a :class:`RankFolder` with the same path that writes nothing, so
every file is written once. They still read it (``--resume``, the best checkpoint at the
end): on several machines it must sit on a file system they share.

While a run trains, :func:`write_args` records its settings (what ``--resume`` reads
back), :class:`Progress` draws its bar, and :func:`train_or_save` turns a Ctrl-C into a
resumable save at a step boundary (:func:`run_training` is the shape of every training
command).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from groundup.train.distributed import World
from groundup.train.io import atomic_write_json, atomic_write_text, read_json

RUN_FILE = "run.json"  # {"kind": "gpt", "command": "...", "started": "..."}
# files an earlier groundup run leaves, for folders made before run.json existed
RUN_MARKERS = ("args.json", "metrics.json", "history.csv", "checkpoint", "last")
RESUMABLE = ("checkpoint", "last")  # a run folder holding one of these can be resumed


class RunFolderError(ValueError):
    """An ``--out`` or ``--resume`` folder that cannot be used; the message says why."""


class RunFolder:
    """A locked run folder: its path, atomic writers, and what to undo on failure.

    ``writer`` says whether this process writes the folder (False on the ranks other than 0
    under ``mpiexec``); ``world`` is the group of processes training the run.
    """

    writer = True

    def __init__(self, path: Path, kind: str, created: bool, before: set[str]) -> None:
        self.path, self.kind, self.created = path, kind, created
        self._before = before  # names present when we took the folder
        self._lock_fd: int | None = None
        self.world = World()

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, obj: Any) -> Path:
        return atomic_write_json(self.path / name, obj)

    def write_text(self, name: str, text: str) -> Path:
        return atomic_write_text(self.path / name, text)

    def resumable(self) -> bool:
        """Whether the folder holds a checkpoint a ``--resume`` could start from."""
        return any((self.path / name / "state.json").is_file() for name in RESUMABLE)

    def undo(self) -> None:
        """Remove what this run wrote (it failed with nothing worth resuming)."""
        if self.created:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for entry in self.path.iterdir():
            if entry.name not in self._before:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


class RankFolder(RunFolder):
    """The run folder as the ranks other than 0 see it: rank 0's path, no lock, and writes
    and undo that do nothing (rank 0 does them, once)."""

    writer = False

    def __init__(self, path: Path, kind: str, world: World) -> None:
        super().__init__(path, kind, created=False, before=set())
        self.world = world

    def write_json(self, name: str, obj: Any) -> Path:
        return self.path / name

    def write_text(self, name: str, text: str) -> Path:
        return self.path / name

    def undo(self) -> None:
        pass


def describe(folder: Path) -> str:
    """What a folder holds, in a few words: ``a gpt run (args.json, checkpoint/, ...)``."""
    names = sorted(e.name + ("/" if e.is_dir() else "") for e in folder.iterdir())
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    kind = run_kind(folder)
    if kind is not None:
        saved = any((folder / name / "state.json").is_file() for name in RESUMABLE)
        return f"a {kind} run{'' if saved else ' that never saved a checkpoint'} ({shown})"
    if any((folder / m).exists() for m in RUN_MARKERS):
        return f"an earlier run ({shown})"
    return f"{len(names)} other file(s) ({shown})"


def run_kind(folder: Path) -> str | None:
    """The kind recorded in ``folder/run.json`` (``"gpt"``, ``"mlp"``, ...), or None."""
    try:
        kind = read_json(folder / RUN_FILE).get("kind")
    except (FileNotFoundError, ValueError, AttributeError):
        return None
    return kind if isinstance(kind, str) else None


def _lock(folder: Path) -> int:
    """An exclusive, non-blocking lock on the folder; RunFolderError if another run holds it."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking, one run at a time is on you
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RunFolderError(
            f"{folder}: another groundup run is using this folder right now; wait for it "
            "to finish or choose another --out"
        ) from None
    return fd


def _take(folder: Path, kind: str, resume: bool, force: bool) -> RunFolder:
    created = False
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"--out {folder}: is a file, expected a folder")
    if not folder.exists():
        if resume:
            raise RunFolderError(f"--resume {folder}: no such run folder")
        try:
            folder.mkdir(parents=True)
            created = True
        except FileExistsError:  # another run made it a moment ago: the lock decides
            pass
        except OSError as err:
            raise RunFolderError(
                f"--out {folder}: cannot make the run folder ({err.strerror or err}); "
                "expected a folder you can write to"
            ) from None
    fd = _lock(folder)
    try:
        names = {e.name for e in folder.iterdir()}
        if resume:
            found = run_kind(folder)
            if found is not None and found != kind:
                raise RunFolderError(
                    f"--resume {folder}: holds a {found} run, not a {kind} run; "
                    f"resume it with `groundup {_command(found)} --resume {folder}`"
                )
        elif names and not force:
            raise RunFolderError(
                f"--out {folder}: already holds {describe(folder)}; continue it with "
                "--resume, choose a new folder, or pass --force to replace it"
            )
        elif names:  # --force: the user asked for the old contents to go
            for entry in folder.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            names = set()
        if not os.access(folder, os.W_OK):
            raise RunFolderError(f"--out {folder}: the folder is read-only; choose another")
    except BaseException:
        os.close(fd)
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    run = RunFolder(folder, kind, created, names)
    run._lock_fd = fd
    return run


def _command(kind: str) -> str:
    return kind if kind in ("micrograd", "journey") else f"train {kind}"


def new_run_path(kind: str, root: str | os.PathLike = "runs") -> Path:
    """``root/<kind>-<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3`` ... when that name is taken."""
    base = Path(root) / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


@contextlib.contextmanager
def open_run(
    kind: str,
    out: str | os.PathLike | None = None,
    *,
    resume: bool = False,
    force: bool = False,
    root: str | os.PathLike = "runs",
    world: World | None = None,
) -> Iterator[RunFolder]:
    """Take a run folder for the life of the ``with`` block (see the module docstring).

    On an exception inside the block, whatever the run wrote is removed unless the folder
    now holds a resumable checkpoint; the exception then propagates. With a ``world`` of
    several ranks, rank 0 takes the folder and tells the others its path.
    """
    world = World() if world is None else world
    if not world.is_main:
        yield RankFolder(Path(world.broadcast(None)), kind, world)
        return
    folder = Path(out) if out is not None else new_run_path(kind, root)
    run = _take(folder, kind, resume, force)
    run.world = world
    try:
        world.broadcast(str(folder))  # the other ranks wait for it in RankFolder's branch
        if not resume or not (folder / RUN_FILE).is_file():
            command = " ".join(["groundup", *sys.argv[1:]]) if sys.argv else "groundup"
            run.write_json(
                RUN_FILE,
                {"kind": kind, "command": command, "started": time.strftime("%Y-%m-%d %H:%M:%S")},
            )
        yield run
    except BaseException:
        if not run.resumable():
            run.undo()
        raise
    finally:
        if run._lock_fd is not None:
            os.close(run._lock_fd)


# --------------------------------------------------------------------------- interrupts


class RunInterrupted(Exception):
    """Ctrl-C arrived; raised between steps, when the model and optimiser are consistent."""


class StopFlag:
    """Set by the first Ctrl-C; :meth:`check` raises :class:`RunInterrupted` once it is."""

    def __init__(self) -> None:
        self.requested = False

    def check(self) -> None:
        if self.requested:
            raise RunInterrupted


@contextlib.contextmanager
def graceful_interrupt() -> Iterator[StopFlag]:
    """The first Ctrl-C asks the run to stop at the end of the current step (so that it can
    save a resumable checkpoint); a second one stops it at once."""
    import signal

    flag = StopFlag()
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # told to ignore Ctrl-C (the ranks other than 0 under mpiexec: rank 0 decides when
        # the run stops, the others are stopped with it): keep ignoring it
        yield flag
        return

    def handler(signum: int, frame: Any) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested = True

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: Ctrl-C keeps its default meaning
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


# --------------------------------------------------------------------------- resuming


def resumed_args(args: Any, kind: str, total: str, required: str) -> Any:
    """``args`` with the settings saved in ``<run>/args.json`` of the ``--resume`` folder;
    the flag named ``total`` (``max_iters``, ``steps``) keeps its new value when given.

    ``required`` names a setting every run of this kind saved: a file without it is not one.
    """
    import argparse

    run_dir = Path(args.resume)
    found = run_kind(run_dir)
    if found not in (None, kind):
        raise RunFolderError(
            f"--resume {run_dir}: holds a {found} run, not a {kind} run; resume it with "
            f"`groundup {_command(found)} --resume {run_dir}`"
        )
    saved = run_dir / "args.json"
    if not saved.is_file():
        raise FileNotFoundError(
            f"--resume {run_dir}: no args.json (not a `groundup {_command(kind)}` run folder)"
        )
    old = read_json(saved)
    if not isinstance(old, dict) or required not in old:
        raise ValueError(f"{saved}: not the settings of a `groundup {_command(kind)}` run")
    merged = argparse.Namespace(**{**vars(args), **old})
    if getattr(args, total) is not None:  # a longer total than the run first had
        setattr(merged, total, getattr(args, total))
    merged.resume, merged.out, merged.no_progress = args.resume, str(run_dir), args.no_progress
    merged.force = False
    if hasattr(args, "device"):  # where to run is this machine's choice, not the run's
        merged.device = args.device
    return merged


def resume_step(run_dir: str | os.PathLike, total: int, flag: str) -> int:
    """The step of the run's newest complete checkpoint; ``total`` may not be below it."""
    from groundup.train.checkpoint import newest_checkpoint, verify_checkpoint

    found = newest_checkpoint(run_dir, ("last", "checkpoint"))
    if found is None:
        raise RunFolderError(
            f"--resume {run_dir}: no complete checkpoint to resume from (the run stopped "
            f"before its first save); start it again with --out {run_dir} --force"
        )
    step = verify_checkpoint(found)
    if total < step:
        raise ValueError(f"{flag} must be at least the {step} steps the run has done, got {total}")
    return step


def save_interrupted(run: RunFolder, command: str, save: Any, done: int, start: int) -> int:
    """After Ctrl-C: ``save()`` where the run stands if it took a step, say how to go on (or
    remove a folder with nothing to resume); the exit code, 1."""
    if done > start:
        save()
    if not run.resumable():
        print(f"groundup {command}: interrupted before the first step; nothing saved",
              file=sys.stderr)  # fmt: skip
        run.undo()
        return 1
    print(
        f"groundup {command}: interrupted at step {done}; saved. Resume with:\n"
        f"  groundup {command} --resume {run.path}",
        file=sys.stderr,
    )
    return 1


def run_training(args: Any, prepare: Any, run: Any, kind: str | None = None) -> int:
    """The shape of every training command: ``prepare(args)`` checks the data and builds
    the model (before any file is written); then, in its locked run folder (of ``kind``,
    by default ``args.model_type``) and with Ctrl-C asking for a save,
    ``run(args, folder, stop, **prepared)`` trains."""
    from groundup.train.distributed import world

    prepared = prepare(args)
    with open_run(kind or args.model_type, args.out, resume=bool(args.resume), force=args.force,
                  world=world()) as folder:  # fmt: skip
        with graceful_interrupt() as stop:
            return run(args, folder, stop, **prepared)


# --------------------------------------------------------------------------- while it trains

TRANSIENT = ("func", "resume", "out", "force", "default_steps")  # how this call ran


def write_args(run: RunFolder, args: Any, **extra: Any) -> None:
    """args.json: the run's settings (what ``--resume`` reads back), then ``extra``."""
    saved = {k: v for k, v in vars(args).items() if k not in TRANSIENT}
    run.write_json("args.json", {**saved, **extra})


class Progress:
    """A run's progress bar on stderr (hidden by ``--no-progress``, and on the ranks other
    than 0) and ``done``, the steps the run has taken: what a save after Ctrl-C records."""

    def __init__(self, args: Any, run: RunFolder, total: int, start: int, desc: str,
                 mininterval: float = 0.5) -> None:  # fmt: skip
        from tqdm import tqdm

        self.done, self.quiet = start, args.no_progress
        hidden = args.no_progress or not run.writer
        self.bar = tqdm(total=total, initial=start, file=sys.stderr, disable=hidden,
                        mininterval=mininterval, desc=desc)  # fmt: skip

    def write(self, message: str) -> None:
        """A line on stderr above the bar (a plain line with ``--no-progress``)."""
        if self.quiet:
            print(message, file=sys.stderr, flush=True)
        else:
            self.bar.write(message, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()


def train_or_save(run: RunFolder, command: str, progress: Progress, start: int, save: Any,
                  fit: Any) -> bool:  # fmt: skip
    """``fit()``, the training (which fills the run's history as it goes): True when it
    finished. After Ctrl-C, ``save()`` where the run stands and say how to resume (see
    :func:`save_interrupted`): False, and the command exits 1."""
    try:
        fit()
    except RunInterrupted:
        progress.close()
        save_interrupted(run, command, save, progress.done, start)
        return False
    finally:
        progress.close()
    return True
