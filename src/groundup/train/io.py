"""Files of a run: atomic writes, the run folder, metrics.json and history.csv.

Every file is written to a temporary name in the same folder, flushed to disk (fsync) and
then renamed over the target with :func:`os.replace`, which is atomic on POSIX and Windows:
a reader (or a crash) sees either the old file or the new one, never half of one.

A run folder, ``runs/<kind>-<YYYYmmdd-HHMMSS>/`` unless ``--out`` says otherwise, holds::

    metrics.json   final losses, parameter count, steps, seconds, seed
    history.csv    one row per logged step (see groundup.train.loop.History)
    checkpoint/    the model, optimiser, config and state (groundup.train.checkpoint)
    *.png          the pictures (loss curve, samples)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def fsync_dir(folder: str | os.PathLike) -> None:
    """Flush a folder's entry list, so a rename inside it survives a power cut (POSIX)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is fsynced and renamed to
    ``path``, on error deleted (``path`` keeps its old content).

    For writers that want a file name (``safetensors.numpy.save_file``)::

        with atomic_path("model.safetensors") as tmp:
            save_file(tensors, tmp)
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a missing or malformed file raises an error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not valid JSON (truncated or corrupt?): {e}") from None


def make_run_dir(kind: str, out: str | os.PathLike | None = None, root: str = "runs") -> Path:
    """Create and return the run folder: ``out`` if given, else ``root/<kind>-<timestamp>``.

    ``make_run_dir("gpt") -> runs/gpt-20260125-141502`` (a ``-2``, ``-3`` ... suffix is added
    when two runs start within the same second).
    """
    if out is not None:
        folder = Path(out)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:  # a file in the way, no permission: a bad value, said in one line
            raise ValueError(
                f"out {str(out)!r}: cannot make the run folder there ({err.strerror or err}); "
                "expected a new or existing folder"
            ) from None
        return folder
    if not kind or "/" in kind or "\\" in kind:
        raise ValueError(f"kind must be a plain name such as 'gpt', got {kind!r}")
    base = Path(root) / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, n = base, 1
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=False)
            return folder
        except FileExistsError:
            n += 1
            folder = base.with_name(f"{base.name}-{n}")


def write_metrics(folder: str | os.PathLike, metrics: dict[str, Any]) -> Path:
    """Write ``folder/metrics.json`` (final train/val/test losses, num_parameters, steps,
    seconds, seed, and whatever else the stage reports)."""
    return atomic_write_json(Path(folder) / "metrics.json", metrics)


def write_history(folder: str | os.PathLike, history: Any) -> Path:
    """Write ``folder/history.csv`` from a :class:`~groundup.train.loop.History`."""
    return atomic_write_text(Path(folder) / "history.csv", history.to_csv())
