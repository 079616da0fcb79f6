"""Every input the training package refuses, as one table: the exception type and the
argument (or file) the one-line message must name, not its exact wording (issue 14).

Each row runs inside a fresh temporary folder (the test changes into it), so rows that need
a file in the way, or a path that does not exist, use plain relative names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from error_table import refusal_test

import groundup.nn as nn
from groundup.models.mlp import MLPLanguageModel
from groundup.train import (
    ArrayBatches,
    Checkpointer,
    TokenBatches,
    TrainConfig,
    evaluate,
    io,
    load_checkpoint,
    make_run_dir,
    train,
)
from groundup.train import distributed as dist
from groundup.train.distributed import World

XY = (np.ones(3), np.ones(3))


def file_in_the_way(path: str) -> str:
    Path("f").write_text("x")
    return path


def bad_json() -> Path:
    Path("config.json").write_text('{"model": ')
    return Path("config.json")


def data_parallel_batchnorm() -> None:
    model = MLPLanguageModel(5, block_size=2, n_embd=2, n_hidden=4, batchnorm=True, generator=0)
    dist.DataParallel(model, list(model.parameters()), World(2, 0, comm=None))


CASES = [
    # (id, a call that must fail, the exception, what its message must name)
    ("batches-batch_size-zero", lambda: ArrayBatches({"train": XY}, 0), ValueError, "batch_size"),
    ("batches-batch_size-float", lambda: ArrayBatches({"train": XY}, 2.0), ValueError,
     "batch_size"),
    ("batches-no-split", lambda: ArrayBatches({}, 2), ValueError, "data"),
    ("batches-unequal-pair", lambda: ArrayBatches({"train": (np.ones(3), np.ones(4))}, 2),
     ValueError, "data['train']"),
    ("batches-empty-pair", lambda: ArrayBatches({"train": (np.ones(0), np.ones(0))}, 2),
     ValueError, "data['train']"),
    ("batches-chunk_size", lambda: ArrayBatches({"train": XY}, 2, chunk_size=0), ValueError,
     "chunk_size"),
    ("batches-unknown-split", lambda: ArrayBatches({"train": XY}, 2).get("test", 0), ValueError,
     "split"),
    ("batches-negative-step", lambda: ArrayBatches({"train": XY}, 2).get("train", -1),
     ValueError, "step"),
    ("tokens-block_size-zero", lambda: TokenBatches({"train": np.arange(5)}, 2, block_size=0),
     ValueError, "block_size"),
    ("tokens-stream-too-short", lambda: TokenBatches({"train": np.arange(5)}, 2, block_size=5),
     ValueError, "block_size"),
    ("tokens-stream-not-1d", lambda: TokenBatches({"train": np.ones((4, 4))}, 2, block_size=2),
     ValueError, "data['train']"),
    ("config-max_steps", lambda: TrainConfig(max_steps=0), ValueError, "max_steps"),
    ("config-log_interval", lambda: TrainConfig(log_interval=0), ValueError, "log_interval"),
    ("config-warmup_steps", lambda: TrainConfig(warmup_steps=-1), ValueError, "warmup_steps"),
    ("config-eval_interval", lambda: TrainConfig(eval_interval=-1), ValueError, "eval_interval"),
    ("config-eval_batches", lambda: TrainConfig(eval_batches=-1), ValueError, "eval_batches"),
    ("config-lr", lambda: TrainConfig(lr=0.0), ValueError, "lr"),
    ("config-grad_clip", lambda: TrainConfig(grad_clip=0.0), ValueError, "grad_clip"),
    ("config-schedule", lambda: TrainConfig(schedule="linear"), ValueError, "schedule"),
    ("config-min_lr", lambda: TrainConfig(schedule="warmup_cosine", min_lr=1.0), ValueError,
     "min_lr"),
    ("config-warmup-past-decay",
     lambda: TrainConfig(schedule="warmup_cosine", warmup_steps=5, decay_steps=2), ValueError,
     "warmup_steps"),
    ("config-step_size", lambda: TrainConfig(schedule="step_decay", step_size=0), ValueError,
     "step_size"),
    ("config-unknown-field", lambda: TrainConfig.from_dict({"max_step": 3}), ValueError,
     "max_step"),
    ("train-start_step", lambda: train(None, None, None, TrainConfig(max_steps=7), start_step=8),
     ValueError, "start_step"),
    ("evaluate-num_batches", lambda: evaluate(None, None, num_batches=0), ValueError,
     "num_batches"),
    ("evaluate-no-iter_split", lambda: evaluate(None, object(), num_batches=None), ValueError,
     "iter_split"),
    ("checkpointer-keep", lambda: Checkpointer("ckpt", nn.Linear(1, 1), keep="first"),
     ValueError, "keep"),
    ("checkpoint-absent", lambda: load_checkpoint("absent"), FileNotFoundError, "absent"),
    ("checkpoint-empty-folder", lambda: load_checkpoint(make_run_dir("gpt", "empty")),
     FileNotFoundError, "empty"),
    ("run-dir-kind", lambda: make_run_dir("a/b"), ValueError, "kind"),
    ("run-dir-out-is-a-file", lambda: make_run_dir("gpt", file_in_the_way("f")), ValueError,
     "out"),
    ("run-dir-out-under-a-file", lambda: make_run_dir("gpt", file_in_the_way("f/sub")),
     ValueError, "out"),
    ("read_json-absent", lambda: io.read_json("nothing.json"), FileNotFoundError,
     "nothing.json"),
    ("read_json-truncated", lambda: io.read_json(bad_json()), ValueError, "config.json"),
    ("shards-fewer-rows-than-ranks", lambda: dist.shard_weights(np.arange(2), 3), ValueError,
     "3 ranks"),
    ("data-parallel-batchnorm", data_parallel_batchnorm, ValueError, "BatchNorm"),
    ("batches-batch_size-bool", lambda: ArrayBatches({"train": XY}, True), ValueError,
     "batch_size"),
    ("tokens-block_size-bool", lambda: TokenBatches({"train": np.arange(5)}, 2, block_size=True),
     ValueError, "block_size"),
    ("config-max_steps-bool", lambda: TrainConfig(max_steps=True), ValueError, "max_steps"),
]  # fmt: skip


test_refused_naming_the_argument = refusal_test(CASES, in_tmp_path=True)


def test_numpy_ints_are_sizes_too():
    """A size read from an array's shape is a NumPy int: accepted, as a Python int is."""
    batches = ArrayBatches({"train": XY}, np.int64(2))
    assert batches.batch_size == 2 and type(batches.batch_size) is int
    assert TrainConfig(max_steps=np.int64(3)).max_steps == 3
