"""Checkpoints: everything needed to use a model again, or to resume its training exactly.

A checkpoint is a folder::

    model.safetensors      the model's state_dict (parameters and buffers)
    optimizer.safetensors  the optimiser's arrays (moments, momentum); its hyper-parameters
                           and step counts ride along as JSON in the file's metadata
    config.json            {"model": {"type", "kwargs"}, "training", "data", "tokenizer"}
    state.json             {"step": steps done, "generators": {...}, ...}: for resuming
    groundup_tokenizer.json ...     the tokenizer's own files, when one was given
    manifest.json          {"format", "step", "files": {name: {"bytes", "sha256"}}}: written
                           last, it marks the checkpoint complete and lets a load verify it

Only safetensors and JSON: loading never unpickles, so opening a stranger's checkpoint
cannot run code. Random generators are saved by ``bit_generator.state``, plain JSON.

Crash safety. :func:`save_checkpoint` writes the whole new checkpoint into a temporary
sibling folder (every file fsynced), then swaps it into place with two renames: old folder
to a backup name, new folder to the real name, then deletes the backup. A crash at any
moment leaves either the complete old checkpoint or the complete new one; in the instant
between the two renames only the backup exists, and :func:`load_checkpoint` falls back to it.

Trust. Loading checks every file against the manifest (a flipped bit, a truncated or swapped
file is refused, naming it), requires finite weights, and checks the model's sizes in
config.json against the shapes of the weights before anything is allocated: a tampered
``n_layer: 100000`` is an error, not 20 s of building blocks and an exhausted memory.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from groundup.train.io import atomic_write_json, fsync_dir, read_json

MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
CONFIG_FILE = "config.json"
STATE_FILE = "state.json"
MANIFEST_FILE = "manifest.json"
CHECKPOINT_DIR = "checkpoint"  # the checkpoint's name inside a run folder
FORMAT = "groundup-checkpoint-1"


# ---------------------------------------------------------------- safetensors files


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy
    except ImportError:  # pragma: no cover - a core dependency
        raise ImportError("checkpoints need safetensors: pip install safetensors") from None
    return safetensors.numpy


def save_arrays(path: str | os.PathLike, arrays: dict[str, Any], metadata=None) -> Path:
    """Write named arrays (and string metadata) to a safetensors file, fsynced."""
    st = _safetensors_numpy()
    path = Path(path)
    tensors = {k: np.asarray(v, order="C") for k, v in arrays.items()}  # 0-d stays 0-d
    try:
        st.save_file(tensors, str(path), metadata=metadata)
    except Exception as err:  # SafetensorError wraps the OS's: say it as an OSError
        found = re.search(r"os error (\d+)", str(err))
        if found is None:
            raise
        code = int(found.group(1))
        raise OSError(code, os.strerror(code), str(path)) from None
    with open(path, "rb+") as f:
        os.fsync(f.fileno())
    return path


def load_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file: (arrays, metadata). Errors name the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    st = _safetensors_numpy()
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="np") as f:
            metadata = dict(f.metadata() or {})
        arrays = st.load_file(str(path))
    except Exception as e:  # safetensors raises its own SafetensorError for bad bytes
        size = path.stat().st_size
        raise ValueError(
            f"{path}: not a readable safetensors file ({size} bytes; truncated or corrupt?): {e}"
        ) from None
    return arrays, metadata


# ---------------------------------------------------------------- optimizer state


def optimizer_to_arrays(state_dict: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict]:
    """Split an optimiser state_dict into arrays (``state.<i>.<name>``) and JSON metadata."""
    import json

    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for i, entry in state_dict["state"].items():
        for name, value in entry.items():
            if isinstance(value, np.ndarray):
                arrays[f"state.{i}.{name}"] = value
            else:
                scalars.setdefault(str(i), {})[name] = value
    metadata = {
        "format": "groundup-optimizer-1",
        "param_groups": json.dumps(state_dict["param_groups"]),
        "scalars": json.dumps(scalars),
    }
    return arrays, metadata


def optimizer_from_arrays(arrays: dict[str, np.ndarray], metadata: dict[str, str], path=None):
    """Inverse of :func:`optimizer_to_arrays`."""
    import json

    try:
        groups = json.loads(metadata["param_groups"])
        scalars = json.loads(metadata["scalars"])
    except (KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: optimizer metadata missing or corrupt: {e!r}") from None
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    state: dict[int, dict[str, Any]] = {int(i): dict(s) for i, s in scalars.items()}
    for key, value in arrays.items():
        _, i, name = key.split(".", 2)
        state.setdefault(int(i), {})[name] = value
    return {"state": state, "param_groups": groups}


# ---------------------------------------------------------------- generators


def generator_states(model: Any) -> dict[str, Any]:
    """The state of every ``numpy.random.Generator`` held by the model's modules (Dropout's
    and any other), keyed ``"<module name>.<attribute>"``; JSON-able."""
    states = {}
    named = model.named_modules() if hasattr(model, "named_modules") else [("", model)]
    for name, module in named:
        for attr, value in vars(module).items():
            if isinstance(value, np.random.Generator):
                key = f"{name}.{attr}" if name else attr
                states[key] = value.bit_generator.state
    return states


def set_generator_states(model: Any, states: dict[str, Any]) -> None:
    """Put back the generator states saved by :func:`generator_states`."""
    named = dict(model.named_modules()) if hasattr(model, "named_modules") else {"": model}
    for key, state in states.items():
        name, _, attr = key.rpartition(".")
        module = named.get(name)
        generator = getattr(module, attr, None) if module is not None else None
        if not isinstance(generator, np.random.Generator):
            raise ValueError(
                f"state.json: generator {key!r} has no matching generator in the model"
            )
        generator.bit_generator.state = state


# ---------------------------------------------------------------- save


def _model_entry(model: Any) -> dict[str, Any] | None:
    if hasattr(model, "MODEL_TYPE") and hasattr(model, "model_kwargs"):
        return {"type": model.MODEL_TYPE, "kwargs": model.model_kwargs()}
    return None


def save_checkpoint(
    folder: str | os.PathLike,
    model: Any,
    config: dict[str, Any] | None = None,
    optimizer: Any = None,
    state: dict[str, Any] | None = None,
    tokenizer: Any = None,
) -> Path:
    """Save a checkpoint folder atomically (see the module docstring); returns its path.

    Args:
        folder: the checkpoint folder (a run keeps it in ``<run>/checkpoint``).
        model: a :class:`groundup.nn.Module`; its ``state_dict()`` goes to model.safetensors,
            its random generators' states to state.json. A language model (with
            ``MODEL_TYPE`` and ``model_kwargs()``) fills ``config["model"]`` when absent.
        config: JSON-able dict for config.json: ``{"model", "training", "data", "tokenizer"}``.
        optimizer: its ``state_dict()`` goes to optimizer.safetensors (omit for inference).
        state: JSON-able resume state, e.g. ``{"step": 1000, "history": history.to_dict()}``.
        tokenizer: saved with ``tokenizer.save(folder)``; :func:`load_checkpoint` reloads it.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    config = dict(config or {})
    entry = _model_entry(model)
    if entry is not None and "model" not in config:
        config["model"] = entry
    state = {"format": FORMAT, **(state or {}), "generators": generator_states(model)}
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
    try:
        save_arrays(tmp / MODEL_FILE, model.state_dict(), metadata={"format": FORMAT})
        if optimizer is not None:
            arrays, metadata = optimizer_to_arrays(optimizer.state_dict())
            save_arrays(tmp / OPTIMIZER_FILE, arrays, metadata=metadata)
        if tokenizer is not None:
            tokenizer.save(tmp)
        atomic_write_json(tmp / CONFIG_FILE, config)
        atomic_write_json(tmp / STATE_FILE, state)
        write_manifest(tmp, step=int(state.get("step", 0)))  # last: it marks "complete"
        fsync_dir(tmp)
        _swap_into_place(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for stale in _leftovers(folder):
        shutil.rmtree(stale, ignore_errors=True)
    return folder


def _swap_into_place(new: Path, folder: Path) -> None:
    if folder.exists():
        backup = folder.with_name(f".{folder.name}.old-{os.getpid()}-{time.time_ns()}")
        os.replace(folder, backup)
        os.replace(new, folder)  # a crash right before this line leaves only the backup
    else:
        os.replace(new, folder)
    fsync_dir(folder.parent)


def _leftovers(folder: Path) -> list[Path]:
    """Backups and temporary folders of earlier (possibly interrupted) saves of ``folder``."""
    return sorted(folder.parent.glob(f".{folder.name}.old-*")) + sorted(
        folder.parent.glob(f".{folder.name}.tmp-*")
    )


# ---------------------------------------------------------------- manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, step: int) -> Path:
    """``folder/manifest.json``: the step and every other file's size and sha256."""
    files = {
        p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != MANIFEST_FILE and not p.name.startswith(".")
    }
    manifest = {"format": FORMAT, "step": step, "files": files}
    return atomic_write_json(folder / MANIFEST_FILE, manifest)


def verify_checkpoint(folder: str | os.PathLike) -> int:
    """Check a checkpoint folder against its manifest; return its step.

    Raises ValueError naming the first file that is missing, of another size or another
    sha256 (truncated, corrupt or tampered), and FileNotFoundError when there is no
    manifest.json (an incomplete save). Checkpoints from before manifests existed (a
    state.json, no manifest) are accepted unverified.
    """
    folder = Path(folder)
    path = folder / MANIFEST_FILE
    if not path.is_file():
        if (folder / STATE_FILE).is_file() and (folder / MODEL_FILE).is_file():
            return int(read_json(folder / STATE_FILE).get("step", 0))  # an older checkpoint
        raise FileNotFoundError(f"{folder}: no {MANIFEST_FILE}: an incomplete checkpoint")
    manifest = read_json(path)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or MODEL_FILE not in files:
        raise ValueError(f"{path}: not a groundup checkpoint manifest")
    for name, entry in files.items():
        target = folder / name
        if "/" in name or not target.is_file():
            raise ValueError(f"{target}: listed in {MANIFEST_FILE} but missing")
        if target.stat().st_size != entry.get("bytes") or _sha256(target) != entry.get("sha256"):
            raise ValueError(
                f"{target}: does not match {MANIFEST_FILE} (truncated, corrupt or changed "
                "after saving); use another checkpoint"
            )
    step = manifest.get("step", 0)
    if not isinstance(step, int) or step < 0:
        raise ValueError(f"{path}: step must be an int >= 0, got {step!r}")
    return step


def _complete_step(folder: Path) -> int | None:
    """The step of a checkpoint folder that verifies, or None."""
    try:
        return verify_checkpoint(folder)
    except (OSError, ValueError):
        return None


def newest_checkpoint(run_dir: str | os.PathLike, names: tuple[str, ...]) -> Path | None:
    """The complete, verified checkpoint with the highest step among ``run_dir/<name>`` and
    the backups interrupted saves left of them (ties go to the earlier name); None if none.

    ``newest_checkpoint(run, ("last", "checkpoint"))`` is where a resume starts.
    """
    run_dir = Path(run_dir)
    best: tuple[int, int, Path] | None = None
    for rank, name in enumerate(names):
        candidates = [run_dir / name, *sorted(run_dir.glob(f".{name}.old-*"))]
        for candidate in candidates:
            step = _complete_step(candidate) if candidate.is_dir() else None
            if step is not None and (best is None or (step, -rank) > (best[0], best[1])):
                best = (step, -rank, candidate)
    return None if best is None else best[2]


# ---------------------------------------------------------------- load


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns: the arrays and JSON, plus ways to use them."""

    folder: Path
    config: dict[str, Any]
    model_state: dict[str, np.ndarray]
    optimizer_state: dict[str, Any] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    tokenizer: Any = None

    @property
    def step(self) -> int:
        """Optimisation steps completed when saved: where a resumed run starts."""
        return int(self.state.get("step", 0))

    def restore(self, model: Any, optimizer: Any = None, strict: bool = True) -> Any:
        """Load the weights (and optimiser state, generator states) into existing objects."""
        try:
            model.load_state_dict(self.model_state, strict=strict)
        except (KeyError, ValueError) as e:
            raise ValueError(f"{self.folder / MODEL_FILE}: does not fit the model: {e}") from None
        set_generator_states(model, self.state.get("generators", {}))
        if optimizer is not None:
            if self.optimizer_state is None:
                raise ValueError(f"{self.folder}: no {OPTIMIZER_FILE} to restore the optimizer")
            try:
                optimizer.load_state_dict(self.optimizer_state)
            except (KeyError, ValueError) as e:
                raise ValueError(f"{self.folder / OPTIMIZER_FILE}: {e}") from None
        return model

    def build_model(self) -> Any:
        """Rebuild the model from ``config["model"]`` (via ``groundup.models.build_model``)
        and load the weights into it."""
        from groundup.models import build_model

        entry = self.config.get("model")
        if not isinstance(entry, dict) or "type" not in entry:
            raise ValueError(
                f"{self.folder / CONFIG_FILE}: no 'model' entry with a 'type'; build the model "
                "yourself and call Checkpoint.restore(model)"
            )
        kwargs = dict(entry.get("kwargs") or {})
        check_sizes(entry["type"], kwargs, self.model_state, self.folder)
        model = self.restore(build_model(entry["type"], kwargs))
        vocab = _vocab_size(model)
        tokenizer_vocab = getattr(self.tokenizer, "vocab_size", None)
        if self.tokenizer is not None and vocab is not None and tokenizer_vocab != vocab:
            raise ValueError(
                f"{self.folder}: the tokenizer has {tokenizer_vocab} tokens but the model "
                f"{vocab}; they belong to different runs"
            )
        return model


def _vocab_size(model: Any) -> int | None:
    config = getattr(model, "config", None)
    return getattr(config, "vocab_size", None) or getattr(model, "vocab_size", None)


def check_sizes(model_type: str, kwargs: dict[str, Any], state: dict[str, np.ndarray],
                folder: Path | None = None) -> None:  # fmt: skip
    """Refuse a config whose sizes disagree with the weights, before anything is built.

    Each model class infers its sizes from the shapes of its weights
    (``sizes_from_state``); a config.json that says otherwise was changed or belongs to
    another model.
    """
    from groundup.models import model_class

    cls = model_class(model_type)
    if not hasattr(cls, "sizes_from_state"):
        return
    where = f"{folder / CONFIG_FILE}: " if folder is not None else ""
    try:
        sizes = cls.sizes_from_state(state, kwargs)
    except (KeyError, IndexError, ValueError, TypeError, ZeroDivisionError):
        raise ValueError(
            f"{where}the weights in {MODEL_FILE} are not those of a {model_type} model"
        ) from None
    for name, size in sizes.items():
        if kwargs.get(name, size) != size:
            raise ValueError(
                f"{where}model {name} is {kwargs[name]!r} but {MODEL_FILE} holds weights for "
                f"{size}; the two do not belong together"
            )


def resolve_checkpoint_dir(folder: str | os.PathLike) -> Path:
    """The checkpoint behind ``folder``: itself (or, if a save of it was interrupted between
    its two renames, its newest complete backup); in a run folder, the newest complete one
    of ``checkpoint/`` (the best model) and its backups, else of ``last/``."""
    folder = Path(folder)
    if (folder / MODEL_FILE).is_file() or (folder / MANIFEST_FILE).is_file():
        return folder
    found = newest_checkpoint(folder.parent, (folder.name,))
    if found is not None:
        return found
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such checkpoint folder")
    found = newest_checkpoint(folder, (CHECKPOINT_DIR,)) or newest_checkpoint(folder, ("last",))
    if found is not None:
        return found
    raise FileNotFoundError(
        f"{folder}: no complete checkpoint here or in {CHECKPOINT_DIR}/ (an interrupted "
        "run that never reached its first evaluation?)"
    )


def load_checkpoint(folder: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint folder (or a run folder holding ``checkpoint/``).

    >>> ckpt = load_checkpoint("runs/gpt-20260125-141502")      # doctest: +SKIP
    >>> model = ckpt.build_model(); ckpt.tokenizer.decode(...)
    """
    folder = resolve_checkpoint_dir(folder)
    verify_checkpoint(folder)
    model_state, _ = load_arrays(folder / MODEL_FILE)
    for name, array in model_state.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(
                f"{folder / MODEL_FILE}: weight {name!r} holds NaN or infinity; the run "
                "diverged before this save, or the file was changed"
            )
    config = read_json(folder / CONFIG_FILE)
    state = read_json(folder / STATE_FILE)
    for name, value in ((CONFIG_FILE, config), (STATE_FILE, state)):
        if not isinstance(value, dict):
            raise ValueError(f"{folder / name}: expected a JSON object, got {type(value).__name__}")
    optimizer_state = None
    if (folder / OPTIMIZER_FILE).is_file():
        arrays, metadata = load_arrays(folder / OPTIMIZER_FILE)
        optimizer_state = optimizer_from_arrays(arrays, metadata, folder / OPTIMIZER_FILE)
    tokenizer = None
    from groundup.tokenizers.base import config_path

    if config_path(folder).is_file():
        from groundup.tokenizers import load_tokenizer

        tokenizer = load_tokenizer(folder)
    return Checkpoint(folder, config, model_state, optimizer_state, state, tokenizer)


# ---------------------------------------------------------------- resuming


def resume(folder: str | os.PathLike, model: Any, optimizer: Any) -> tuple[int, Any]:
    """Restore ``model`` and ``optimizer`` from a checkpoint; return ``(start_step, history)``
    to pass on as ``train(..., start_step=start_step, history=history)``.

    ``folder`` is a checkpoint, or a run folder: then the newest complete checkpoint of
    ``last/``, ``checkpoint/`` and their backups, by step.
    """
    from groundup.train.loop import History

    folder = Path(folder)
    newest = newest_checkpoint(folder, ("last", CHECKPOINT_DIR))
    ckpt = load_checkpoint(newest if newest is not None else folder)
    ckpt.restore(model, optimizer)
    history = History.from_dict(ckpt.state.get("history", {})).truncate(ckpt.step)
    return ckpt.step, history


class Checkpointer:
    """An ``on_eval`` hook for :func:`~groundup.train.loop.train` that saves a checkpoint.

    ``keep="best"`` saves only when the validation loss improves on the best so far (the
    checkpoint is then the best model of the run); ``keep="latest"`` saves at every
    evaluation (for resuming after a crash). state.json records ``step`` (steps done),
    ``val_loss``, ``best_val_loss`` and the history, so :func:`resume` can continue.

    >>> hook = Checkpointer(run / "checkpoint", model, optimizer, config)  # doctest: +SKIP
    >>> train(model, batches, optimizer, cfg, on_eval=hook)
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        model: Any,
        optimizer: Any = None,
        config: dict[str, Any] | None = None,
        tokenizer: Any = None,
        keep: str = "best",
        best: float | None = None,
    ) -> None:
        if keep not in ("best", "latest"):
            raise ValueError(f"keep must be 'best' or 'latest', got {keep!r}")
        self.folder, self.model, self.optimizer = Path(folder), model, optimizer
        self.config, self.tokenizer, self.keep = config, tokenizer, keep
        self.best = float("inf") if best is None else float(best)
        self.saved_step: int | None = None

    def __call__(self, step: int, val_loss: float, history: Any) -> None:
        improved = val_loss < self.best
        self.best = min(self.best, val_loss)
        if self.keep == "best" and not improved:
            return
        state = {"step": step + 1, "val_loss": val_loss, "best_val_loss": self.best,
                 "history": history.to_dict()}  # fmt: skip
        save_checkpoint(self.folder, self.model, self.config, self.optimizer, state, self.tokenizer)
        self.saved_step = step
