"""The ten-line training example of docs/api.md, verbatim:
if this test fails, docs/api.md is wrong."""

from __future__ import annotations


def test_readme_training_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # --- README example: start ---
    import numpy as np

    import groundup.nn as nn
    import groundup.nn.functional as F
    from groundup.optim import AdamW
    from groundup.train import ArrayBatches, TrainConfig, load_checkpoint, save_checkpoint, train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 2)).astype(np.float32)
    Y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)  # XOR of the signs: needs a hidden layer
    batches = ArrayBatches({"train": (X[:800], Y[:800]), "val": (X[800:], Y[800:])}, batch_size=32)
    model = nn.Sequential(nn.Linear(2, 32, generator=0), nn.Tanh(), nn.Linear(32, 2, generator=1))
    config = TrainConfig(max_steps=500, lr=1e-2, schedule="warmup_cosine", warmup_steps=50,
                         eval_interval=100)  # fmt: skip
    history = train(model, batches, AdamW(model.parameters(), lr=1e-2), config,
                    loss_fn=lambda m, x, y: F.cross_entropy(m(x), y))  # fmt: skip
    print(history.val_curve())  # ([99, 199, 299, 399, 499], [0.33, 0.18, 0.16, 0.14, 0.14])
    save_checkpoint("runs/xor/checkpoint", model, {"training": config.to_dict()})
    model.load_state_dict(load_checkpoint("runs/xor").model_state)
    # --- README example: end ---
    steps, losses = history.val_curve()
    assert steps == [99, 199, 299, 399, 499]
    assert losses[-1] < 0.2 < np.log(2)
