"""A small CNN on the shipped 8x8 digits, trained with groundup: test accuracy and wall time.

conv(1 -> 16, 3x3, padding 1) - ReLU - max pool 2 - conv(16 -> 32, 3x3, padding 1) - ReLU -
max pool 2 - linear(32 * 2 * 2 -> 10): 6,090 parameters. AdamW on a seeded 80 % of the
1,797 digits (pixels / 16), batches of 64 drawn by groundup.train, then accuracy on the
other 20 %. docs/cnn.md walks through the model.

    .venv/bin/python benchmarks/cnn_digits.py              # 15 epochs' worth of steps, seed 0
    .venv/bin/python benchmarks/cnn_digits.py --epochs 5 --seed 1
"""

from __future__ import annotations

import os

# one thread, as the other benchmarks: the matrices are small
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def digits_split(seed: int, test_fraction: float = 0.2):
    """(X_train, y_train, X_test, y_test): images (N, 1, 8, 8) scaled to [0, 1]."""
    from groundup.data import load_digits

    images, labels = load_digits()
    X = (images / 16.0)[:, None]  # (N, 1, 8, 8): one input channel
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(test_fraction * len(X)))
    test, train = order[:n_test], order[n_test:]
    return X[train], labels[train], X[test], labels[test]


def make_cnn(seed: int):
    import groundup.nn as nn

    g = np.random.default_rng(seed)  # one generator for the whole model
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, generator=g),  # (N, 16, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, 4, 4)
        nn.Conv2d(16, 32, 3, padding=1, generator=g),  # (N, 32, 4, 4)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 32, 2, 2)
        nn.Flatten(),  # (N, 128)
        nn.Linear(32 * 2 * 2, 10, generator=g),
    )


def accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    from groundup.nn import evaluating

    with evaluating(model):
        return float((model(X).data.argmax(axis=1) == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=float, default=15, help="passes' worth of steps")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step")
    parser.add_argument("--lr", type=float, default=1e-2, help="AdamW's peak learning rate")
    parser.add_argument("--seed", type=int, default=0, help="split, weights and batches")
    args = parser.parse_args()

    import groundup.nn.functional as F
    from groundup.optim import AdamW
    from groundup.train import ArrayBatches, TrainConfig, train

    X_train, y_train, X_test, y_test = digits_split(args.seed)
    model = make_cnn(args.seed)
    steps = math.ceil(args.epochs * len(X_train) / args.batch_size)
    batches = ArrayBatches({"train": (X_train, y_train)}, args.batch_size, seed=args.seed)
    config = TrainConfig(
        max_steps=steps, lr=args.lr, schedule="warmup_cosine", warmup_steps=20, log_interval=steps
    )
    start = time.perf_counter()
    history = train(
        model,
        batches,
        AdamW(model.parameters(), lr=args.lr),
        config,
        loss_fn=lambda m, x, y: F.cross_entropy(m(x), y),
    )
    seconds = time.perf_counter() - start
    print(
        f"CNN on the 8x8 digits: {model.num_parameters():,} parameters, {steps} steps of "
        f"{args.batch_size} ({args.epochs:g} epochs of {len(X_train)} images), seed {args.seed}"
    )
    print(f"  final train loss {history.rows()[-1]['train_loss']:.4f}")
    print(f"  train accuracy {accuracy(model, X_train, y_train):.4f}")
    print(f"  test accuracy  {accuracy(model, X_test, y_test):.4f} ({len(X_test)} images)")
    print(f"  wall time {seconds:.1f} s (training only, 1 thread)")


if __name__ == "__main__":
    main()
