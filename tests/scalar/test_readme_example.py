"""The stage-1 example of docs/api.md, run as written (keep the two in step)."""

from __future__ import annotations

import pytest


def test_readme_example():
    from groundup.data import make_moons
    from groundup.scalar import MLP, Value
    from groundup.scalar.train import fit, hinge_loss

    x = Value(2.0, label="x")
    w = Value(-3.0, label="w")
    b = Value(6.8813735870195432, label="b")
    o = (x * w + b).tanh()  # a neuron: o = tanh(x*w + b)
    o.backward()  # do/dnode for every node, by the chain rule
    assert (round(o.data, 4), x.grad, round(w.grad, 4)) == (0.7071, pytest.approx(-1.5), 1.0)

    # docs/api.md trains on 100 points for 100 steps (100% at step 30); 20 and 30 here
    X, y = make_moons(20, noise=0.1, seed=0)  # X (20, 2), y in {-1, +1}
    model = MLP(2, [16, 16, 1], seed=0)  # 337 Values
    history = fit(model, X, y, steps=30, lr=1.0)  # hinge loss + 1e-4 L2, full batch
    loss, accuracy = hinge_loss(model, X, y)
    assert history[-1]["accuracy"] == 1.0 and accuracy == 1.0
