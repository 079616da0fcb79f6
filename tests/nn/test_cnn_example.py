"""The CNN example of docs/cnn.md, verbatim: if this test fails, docs/cnn.md is wrong."""

from __future__ import annotations


def test_cnn_example_learns_the_digits():
    # --- docs/cnn.md example: start ---
    import numpy as np

    import groundup.nn as nn
    import groundup.nn.functional as F
    from groundup.data import load_digits
    from groundup.optim import AdamW
    from groundup.train import ArrayBatches, TrainConfig, train

    images, labels = load_digits()  # (1797, 8, 8) pixels of 0..16, labels (1797,)
    X = (images / 16.0)[:, None]  # (1797, 1, 8, 8): one input channel, values in [0, 1]
    order = np.random.default_rng(0).permutation(len(X))
    test, fit = order[:359], order[359:]  # a seeded 20 / 80 split
    g = np.random.default_rng(0)  # one generator initialises the whole model
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, generator=g),  # (N, 16, 8, 8): 16 3x3 filters
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, 4, 4)
        nn.Conv2d(16, 32, 3, padding=1, generator=g),  # (N, 32, 4, 4)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 32, 2, 2)
        nn.Flatten(),  # (N, 128)
        nn.Linear(32 * 2 * 2, 10, generator=g),  # (N, 10): one score per digit
    )
    batches = ArrayBatches({"train": (X[fit], labels[fit])}, batch_size=64, seed=0)
    config = TrainConfig(max_steps=300, lr=1e-2, schedule="warmup_cosine", warmup_steps=20)
    train(model, batches, AdamW(model.parameters(), lr=1e-2), config,
          loss_fn=lambda m, x, y: F.cross_entropy(m(x), y))  # fmt: skip
    with nn.evaluating(model):
        accuracy = (model(X[test]).data.argmax(axis=1) == labels[test]).mean()
    print(f"test accuracy {accuracy:.3f}")  # 0.986
    # --- docs/cnn.md example: end ---
    assert accuracy > 0.96


def test_docs_show_this_example():
    import inspect
    import textwrap
    from pathlib import Path

    source = inspect.getsource(test_cnn_example_learns_the_digits)
    start, end = "# --- docs/cnn.md example: start ---\n", "    # --- docs/cnn.md example: end ---"
    body = source[source.index(start) + len(start) : source.index(end)]
    code = textwrap.dedent(body).replace("  # fmt: skip", "")
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cnn.md").read_text(encoding="utf-8")
    assert f"```python\n{code}```" in doc
