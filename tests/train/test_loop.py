"""The training loop: schedule, logging, evaluation, hooks, determinism, exact resume."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup.nn as nn
import groundup.nn.functional as F
from groundup.optim import SGD, AdamW
from groundup.train import (
    ArrayBatches,
    Checkpointer,
    History,
    TrainConfig,
    evaluate,
    load_checkpoint,
    resume,
    train,
)


class Classifier(nn.Module):
    """A small model following the LM contract: forward(x, targets) -> (logits, loss)."""

    def __init__(self, seed=0):
        super().__init__()
        g = np.random.default_rng(seed)
        self.net = nn.Sequential(
            nn.Linear(2, 16, generator=g),
            nn.Tanh(),
            nn.Dropout(0.1, generator=g),
            nn.Linear(16, 3, generator=g),
        )

    def forward(self, x, targets=None):
        logits = self.net(x)
        return logits, None if targets is None else F.cross_entropy(logits, targets)


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = rng.normal(size=(n, 2)).astype(np.float32) + 2.5 * np.eye(3, 2, dtype=np.float32)[y]
    return x, y


def data(seed=0):
    x, y = blobs()
    return ArrayBatches({"train": (x[:240], y[:240]), "val": (x[240:], y[240:])}, 16, seed=seed)


def setup(seed=0):
    model = Classifier(seed)
    return model, AdamW(model.parameters(), lr=0.01)


def test_trains_and_records_history():
    model, opt = setup()
    cfg = TrainConfig(max_steps=60, lr=0.02, schedule="warmup_cosine", warmup_steps=5,
                      min_lr=0.002, grad_clip=1.0, eval_interval=20, eval_batches=3)  # fmt: skip
    seen = []
    h = train(model, data(), opt, cfg, on_step=seen.append)
    assert len(seen) == 60 and h.step == list(range(60))
    assert h.val_curve()[0] == [19, 39, 59]
    assert h.train_loss[0] == pytest.approx(math.log(3), abs=0.5)
    assert h.val_loss[59] < 0.5 * h.train_loss[0]
    assert h.lr == [cfg.lr_at(s) for s in range(60)] and h.lr[4] == pytest.approx(0.02 * 5 / 6)
    assert all(g is not None and g > 0 for g in h.grad_norm)
    assert all(v > 0 for v in h.items_per_sec) and h.seconds == sorted(h.seconds)
    assert opt.param_groups[0]["lr"] == h.lr[-1]
    assert model.training


def test_log_interval_and_no_eval_without_val_split():
    model, opt = setup()
    x, y = blobs()
    only_train = ArrayBatches({"train": (x, y)}, 8)
    h = train(model, only_train, opt, TrainConfig(max_steps=10, log_interval=4))
    assert h.step == [0, 4, 8, 9] and h.val_loss == [None] * 4


def test_deterministic_for_a_seed():
    runs = []
    for _ in range(2):
        model, opt = setup(seed=3)
        runs.append(train(model, data(seed=3), opt, TrainConfig(max_steps=15)).train_loss)
    assert runs[0] == runs[1]


def test_resume_from_checkpoint_equals_uninterrupted_run(tmp_path):
    cfg = TrainConfig(max_steps=40, lr=0.05, schedule="step_decay", step_size=15,
                      grad_clip=0.5, eval_interval=10, eval_batches=2)  # fmt: skip
    model, opt = setup()
    full = train(model, data(), opt, cfg)

    # the interrupted run: checkpoints at each evaluation, "crashes" after step 19
    model, opt = setup()
    hook = Checkpointer(tmp_path / "ckpt", model, opt, {"training": cfg.to_dict()}, keep="latest")
    part = TrainConfig(**{**cfg.to_dict(), "max_steps": 40})
    with pytest.raises(KeyboardInterrupt):

        def crash(row):
            if row["step"] == 24:
                raise KeyboardInterrupt

        train(model, data(), opt, part, on_step=crash, on_eval=hook)
    assert load_checkpoint(tmp_path / "ckpt").step == 20

    # a fresh process: new objects, differently initialised, restored from the folder
    model, opt = setup(seed=9)
    start, history = resume(tmp_path / "ckpt", model, opt)
    resumed = train(model, data(), opt, cfg, start_step=start, history=history)
    assert resumed.step == full.step
    assert resumed.train_loss == full.train_loss  # exactly, dropout masks included
    assert resumed.val_loss == full.val_loss
    assert resumed.lr == full.lr


def test_checkpointer_keeps_best(tmp_path):
    model, opt = setup()
    hook = Checkpointer(tmp_path / "best", model, opt, keep="best")
    hook(0, 2.0, History())
    hook(1, 3.0, History())
    assert load_checkpoint(tmp_path / "best").state["val_loss"] == 2.0 and hook.saved_step == 0
    hook(2, 1.0, History())
    assert load_checkpoint(tmp_path / "best").step == 3 and hook.best == 1.0


def test_evaluate_no_grad_eval_mode_and_full_split():
    model, _ = setup()
    b = data()
    model.train()
    loss = evaluate(model, b, "val", num_batches=2)
    assert model.training and all(p.grad is None for p in model.parameters())
    assert loss == evaluate(model, b, "val", num_batches=2)  # dropout off: deterministic
    x, y = b.data["val"]
    model.eval()
    _, full = model(x, y)
    model.train()
    assert evaluate(model, b, "val", num_batches=None) == pytest.approx(full.item(), rel=1e-6)


def test_loss_fn_for_models_without_the_contract():
    model = nn.Sequential(nn.Linear(1, 1, generator=0))
    x = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]
    b = ArrayBatches({"train": (x, 3 * x), "val": (x, 3 * x)}, 32)

    def mse(model, X, Y):
        return ((model(X) - Y) ** 2).mean()

    h = train(model, b, SGD(model.parameters(), lr=0.5), TrainConfig(max_steps=50, lr=0.5),
              loss_fn=mse)  # fmt: skip
    assert h.val_loss[-1] < 1e-4
    with pytest.raises(TypeError):  # Sequential.forward takes no targets: loss_fn needed
        train(nn.Sequential(nn.Linear(1, 1)), b, SGD(model.parameters(), lr=0.1),
              TrainConfig(max_steps=1))  # fmt: skip


def test_model_returning_no_loss_is_explained():
    model = Classifier()
    b = ArrayBatches({"train": blobs()}, 4)
    with pytest.raises(ValueError, match="loss_fn"):
        train(model, b, SGD(model.parameters(), lr=0.1), TrainConfig(max_steps=1),
              loss_fn=lambda m, x, y: m(x)[1])  # fmt: skip


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_is_reported():
    model = nn.Sequential(nn.Linear(1, 1, generator=0))
    x = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]
    b = ArrayBatches({"train": (x, 3 * x)}, 32)
    with pytest.raises(FloatingPointError, match="train loss became"):
        train(model, b, SGD(model.parameters(), lr=1.0), TrainConfig(max_steps=200, lr=1e3),
              loss_fn=lambda m, X, Y: ((m(X) - Y) ** 2).mean())  # fmt: skip


def test_config_round_trip():
    cfg = TrainConfig(max_steps=7, schedule="warmup_cosine", warmup_steps=2)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig(max_steps=100, schedule="step_decay").lr_at(50) == pytest.approx(1e-4)
