"""Training: the loop, its data protocol, run folders and checkpoints.

* :mod:`.batches`: ``batches.get(split, step) -> (X, Y)``; ArrayBatches, TokenBatches.
* :mod:`.loop`: ``TrainConfig``, ``train(...) -> History``, ``evaluate(...)``.
* :mod:`.shards`: ``forward_backward(model, X, Y)``, a step's forward and backward over the
  BLAS's threads, a shard of rows each (what ``train`` runs).
* :mod:`.io`: atomic writes, ``make_run_dir``, metrics.json, history.csv.
* :mod:`.checkpoint`: ``save_checkpoint``, ``load_checkpoint``, ``resume``, ``Checkpointer``,
  ``verify_checkpoint`` (the manifest), ``newest_checkpoint``.
"""

from groundup.train.batches import ArrayBatches, Batches, FullBatches, TokenBatches
from groundup.train.checkpoint import (
    Checkpoint,
    Checkpointer,
    load_checkpoint,
    newest_checkpoint,
    resume,
    save_checkpoint,
    verify_checkpoint,
)
from groundup.train.io import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    make_run_dir,
    read_json,
    write_history,
    write_metrics,
)
from groundup.train.loop import History, TrainConfig, evaluate, train
from groundup.train.shards import forward_backward

__all__ = [
    "ArrayBatches",
    "Batches",
    "Checkpoint",
    "Checkpointer",
    "FullBatches",
    "History",
    "TokenBatches",
    "TrainConfig",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "evaluate",
    "forward_backward",
    "load_checkpoint",
    "make_run_dir",
    "newest_checkpoint",
    "read_json",
    "resume",
    "save_checkpoint",
    "train",
    "verify_checkpoint",
    "write_history",
    "write_metrics",
]
