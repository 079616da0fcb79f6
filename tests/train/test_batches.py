"""The batches protocol: a pure function of (seed, split, step)."""

from __future__ import annotations

import numpy as np

from groundup.train import ArrayBatches, TokenBatches


def make():
    X = np.arange(100).reshape(50, 2)
    return ArrayBatches({"train": (X, X[:, 0] * 10), "val": (X[:7], X[:7, 0])}, 8, seed=3)


def test_array_batches_deterministic_by_step_not_by_call_order():
    b = make()
    first = b.get("train", 5)
    for step in range(10):
        b.get("train", step)
    again = b.get("train", 5)
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(b.get("train", 6)[0], first[0])
    x, y = first
    assert x.shape == (8, 2) and (y == x[:, 0] * 10).all()
    other_seed = ArrayBatches(b.data, 8, seed=4).get("train", 5)[0]
    assert not np.array_equal(other_seed, first[0])
    assert b.splits == ("train", "val")


def test_array_batches_iter_split_covers_once():
    xs = np.concatenate([x for x, _ in make().iter_split("val")])
    np.testing.assert_array_equal(xs, make().data["val"][0])


def test_token_batches_windows_shift_by_one():
    data = np.arange(1000)
    b = TokenBatches({"train": data, "val": data[:50]}, batch_size=4, block_size=8, seed=0)
    x, y = b.get("train", 0)
    assert x.shape == (4, 8) and (y == x + 1).all()
    np.testing.assert_array_equal(b.get("train", 0)[0], x)
    chunks = list(b.iter_split("val"))
    xs = np.concatenate([c[0] for c in chunks])
    assert xs.shape == (6, 8) and (xs.ravel() == np.arange(48)).all()
