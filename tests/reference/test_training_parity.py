"""A two-layer MLP trained 200 steps by groundup's train() and by a plain PyTorch loop,
from the same weights on the same batches: the loss curves agree (float64, 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import groundup.nn as nn  # noqa: E402
import groundup.nn.functional as F  # noqa: E402
from groundup.optim import SGD, AdamW  # noqa: E402
from groundup.train import ArrayBatches, TrainConfig, train  # noqa: E402


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 32, dtype="float64")
        self.fc2 = nn.Linear(32, 5, dtype="float64")

    def forward(self, x, targets=None):
        logits = self.fc2(self.fc1(x).tanh())
        return logits, None if targets is None else F.cross_entropy(logits, targets)


def spiral_data(n=512, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = (np.arctan2(x[:, 0], x[:, 1]) * 5 / (2 * np.pi) + 2.5 + x[:, 2]).astype(int) % 5
    return ArrayBatches({"train": (x, y)}, batch_size=32, seed=seed)


OPTIMIZERS = {
    "adamw_cosine_clip": (
        lambda ps: AdamW(ps, lr=1e-2, weight_decay=0.1),
        lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.1),
        TrainConfig(
            max_steps=200,
            lr=1e-2,
            schedule="warmup_cosine",
            warmup_steps=20,
            min_lr=1e-3,
            grad_clip=1.0,
            eval_batches=0,
        ),  # fmt: skip
    ),
    "sgd_momentum_step": (
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-4),
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-4),
        TrainConfig(
            max_steps=200, lr=0.1, schedule="step_decay", step_size=100, gamma=0.1, eval_batches=0
        ),  # fmt: skip
    ),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_mlp_loss_curves_match_torch(name):
    make_ours, make_torch, cfg = OPTIMIZERS[name]
    batches = spiral_data()
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 5))
    theirs = theirs.double()
    ours = MLP()
    ours.load_state_dict(
        {
            k.replace("0.", "fc1.").replace("2.", "fc2."): v.detach().numpy()
            for k, v in theirs.state_dict().items()
        }  # fmt: skip
    )
    history = train(ours, batches, make_ours(ours.parameters()), cfg)

    topt = make_torch(theirs.parameters())
    torch_losses = []
    for step in range(cfg.max_steps):
        for group in topt.param_groups:
            group["lr"] = cfg.lr_at(step)
        x, y = batches.get("train", step)
        loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        topt.zero_grad()
        loss.backward()
        if cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(theirs.parameters(), cfg.grad_clip)
        topt.step()
        torch_losses.append(loss.item())

    np.testing.assert_allclose(history.train_loss, torch_losses, rtol=0, atol=1e-5)
    assert torch_losses[-1] < 0.7 * torch_losses[0]  # it did learn something
