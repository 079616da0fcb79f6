"""Every argument the scalar stage's network and training loop refuse, as one table: the
exception type and the argument the one-line message must name, not its exact wording
(issue 14). The engine's own refusals (log of 0, division by zero, a bool operand) stay in
test_engine.py: they are the behaviour of the operations, with micrograd's exception types."""

from __future__ import annotations

from error_table import refusal_test

from groundup.scalar import MLP, Layer, Neuron
from groundup.scalar.train import fit, hinge_loss

X, Y = [[0.0, 1.0], [1.0, 0.0]], [1, -1]

CASES = [
    # (id, a call that must fail, the exception, what its message must name)
    ("neuron-nin-zero", lambda: Neuron(0), ValueError, "nin"),
    ("neuron-seed", lambda: Neuron(2, seed="zero"), TypeError, "seed"),
    ("neuron-input-count", lambda: Neuron(2, seed=0)([1.0, 2.0, 3.0]), ValueError, "inputs"),
    ("neuron-input-str", lambda: Neuron(2, seed=0)([1.0, "2"]), TypeError, "str"),
    ("layer-nout-zero", lambda: Layer(2, 0), ValueError, "nout"),
    ("layer-nin-zero", lambda: Layer(0, 2), ValueError, "nin"),
    ("mlp-nouts-empty", lambda: MLP(2, []), ValueError, "nouts"),
    ("mlp-nouts-an-int", lambda: MLP(2, 1), TypeError, "nouts"),
    ("mlp-nouts-a-str", lambda: MLP(2, "16"), TypeError, "nouts"),
    ("mlp-seed", lambda: MLP(2, [1], seed="zero"), TypeError, "seed"),
    ("mlp-input-count", lambda: MLP(2, [1], seed=0)([1.0, 2.0, 3.0]), ValueError, "inputs"),
    ("fit-steps-zero", lambda: fit(MLP(2, [1], seed=0), X, Y, steps=0), ValueError, "steps"),
    ("fit-steps-bool", lambda: fit(MLP(2, [1], seed=0), X, Y, steps=True), ValueError, "steps"),
    ("fit-lr", lambda: fit(MLP(2, [1], seed=0), X, Y, steps=1, lr=0.0), ValueError, "lr"),
    ("hinge-unequal-lengths", lambda: hinge_loss(MLP(2, [1], seed=0), X, Y[:1]), ValueError,
     "X and y"),
    ("hinge-empty", lambda: hinge_loss(MLP(2, [1], seed=0), [], []), ValueError, "X and y"),
]  # fmt: skip


test_refused_naming_the_argument = refusal_test(CASES)
