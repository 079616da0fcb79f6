"""Neuron, Layer, MLP on scalars, and training one on the moons."""

from __future__ import annotations

import random

import numpy as np
import pytest

from groundup.data import make_moons
from groundup.scalar import MLP, Layer, Neuron, Value, topological_order
from groundup.scalar.train import accuracy, fit, hinge_loss


def test_mlp_has_micrograd_parameter_count_and_shapes():
    model = MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1) == 337
    assert isinstance(model([0.5, -1.0]), Value)  # one output neuron: a Value
    out = MLP(3, [4, 2], seed=0)([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 2


def test_conventions_of_micrograd():
    model = MLP(2, [3, 1], seed=0)
    hidden, last = model.layers
    assert all(n.nonlin for n in hidden.neurons) and not last.neurons[0].nonlin
    assert all(-1 <= w.data <= 1 for n in hidden.neurons for w in n.w)
    assert all(n.b.data == 0.0 for n in hidden.neurons)
    assert (
        repr(model) == "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)], "
        "Layer of [LinearNeuron(3)]]"
    )


def test_neuron_computes_relu_of_affine_map():
    n = Neuron(2, seed=0)
    n.w[0].data, n.w[1].data, n.b.data = 2.0, -1.0, 0.5
    assert n([1.0, 3.0]).data == 0.0  # relu(2 - 3 + 0.5)
    assert n([3.0, 1.0]).data == 5.5
    lin = Neuron(2, nonlin=False, seed=0)
    lin.w[0].data, lin.w[1].data = 2.0, -1.0
    assert lin([1.0, 3.0]).data == -1.0


def test_seed_makes_init_reproducible_and_leaves_global_state_alone():
    state = random.getstate()
    a = [p.data for p in MLP(2, [4, 1], seed=7).parameters()]
    b = [p.data for p in MLP(2, [4, 1], seed=7).parameters()]
    c = [p.data for p in MLP(2, [4, 1], seed=8).parameters()]
    assert a == b and a != c
    assert random.getstate() == state
    d = [p.data for p in MLP(2, [4, 1], seed=np.random.default_rng(7)).parameters()]
    assert len(d) == len(a)


def test_zero_grad_resets_every_parameter():
    model = MLP(2, [4, 1], seed=0)
    model([1.0, -2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_hinge_loss_known_answer():
    # a fixed linear "model": score = x0; points on both sides, one inside the margin
    model = Neuron(2, nonlin=False, seed=0)
    model.w[0].data, model.w[1].data = 1.0, 0.0
    X = [[2.0, 0.0], [0.5, 0.0], [-3.0, 0.0]]
    y = [1, 1, 1]
    loss, acc = hinge_loss(model, X, y, alpha=0.0)
    assert loss.data == pytest.approx((0 + 0.5 + 4.0) / 3)
    assert acc == pytest.approx(2 / 3)
    loss, _ = hinge_loss(model, X, y, alpha=0.5)
    assert loss.data == pytest.approx(1.5 + 0.5 * 1.0)  # sum of squares of w and b = 1


def test_mlp_reaches_full_accuracy_on_moons_within_100_steps():
    X, y = make_moons(20, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    first_perfect = None
    for step in range(100):
        loss, acc = hinge_loss(model, X, y, alpha=1e-4, parameters=params)
        if acc == 1.0:
            first_perfect = step
            break
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * step / 100
        for p in params:
            p.data -= lr * p.grad
    assert first_perfect is not None, "MLP(2, [16, 16, 1]) never separated the moons"
    assert accuracy(model, X, y) == 1.0


def test_fit_lowers_the_loss_and_reports_each_step():
    X, y = make_moons(20, noise=0.1, seed=1)
    model = MLP(2, [8, 1], seed=1)
    seen = []
    history = fit(model, X, y, steps=8, lr=0.5, on_step=seen.append)
    assert [row["step"] for row in history] == list(range(8)) and seen == history
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[0]["lr"] == 0.5 and history[-1]["lr"] < 0.5


def test_mlp_takes_a_numpy_row_and_numpy_labels():
    X, y = make_moons(4, seed=0)
    model = MLP(2, [4, 1], seed=0)
    loss = (1 + -y[0] * model(X[0])).relu() + (1 + model(X[1]) * -y[1]).relu()
    loss.backward()
    assert isinstance(loss, Value) and type(loss.data) is float


def test_one_neuron_graph_is_labelled_and_back_propagated():
    from groundup.scalar import MLP
    from groundup.scalar.train import one_neuron_graph

    model = MLP(2, [4, 1], seed=0)
    out = one_neuron_graph(model, [[0.5, -1.0]])
    leaves = _leaves(out)
    assert out.label == "out" and set(leaves) == {"x1", "x2", "w1", "w2", "b"}
    assert leaves["b"].grad == (1.0 if out.data > 0 else 0.0)
    assert leaves["w1"].grad == (0.5 if out.data > 0 else 0.0)  # relu: d out / d w1 = x1


def _leaves(out):
    """The leaves of a graph by label."""
    found, stack = {}, [out]
    while stack:
        v = stack.pop()
        stack.extend(v._prev)
        if not v._prev:
            found[v.label] = v
    return found


def test_one_neuron_graph_draws_a_live_neuron_so_gradients_flow():
    """The picture of backprop must show gradients: a ReLU at 0 passes none back."""
    from groundup.data import make_moons
    from groundup.scalar import MLP
    from groundup.scalar.train import fit, one_neuron_graph

    X, y = make_moons(50, noise=0.1, seed=42)
    for seed in range(5):
        model = MLP(2, [16, 16, 1], seed=seed)
        fit(model, X, y, steps=5, lr=1.0)
        out = one_neuron_graph(model, X)
        leaves = _leaves(out)
        assert out.data > 0 and leaves["b"].grad == 1.0
        assert leaves["w1"].grad == leaves["x1"].data != 0  # d out / d w1 = x1

    dead = MLP(2, [2, 1], seed=0)
    for n in dead.layers[0].neurons:  # every neuron dead on every point: falls back
        n.b.data = -100.0
    assert one_neuron_graph(dead, [[0.1, 0.2]]).data == 0


# ---- the two tiers of a neuron: the definition in primitives, the dot node training runs ----


@pytest.mark.parametrize("nonlin", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_neuron_equals_its_spelled_out_definition(nonlin, seed):
    rng = random.Random(seed)
    n = Neuron(5, nonlin=nonlin, seed=seed)
    n.b.data = rng.uniform(-1, 1)
    point = [rng.uniform(-2, 2) for _ in range(5)]
    results = []
    for forward in (n, n.spelled_out):
        x = [Value(v) for v in point]
        n.zero_grad()
        out = forward(x) * 3.0
        out.backward()
        results.append((out.data, [p.grad for p in n.parameters()], [v.grad for v in x]))
    (fast, fast_w, fast_x), (slow, slow_w, slow_x) = results
    assert fast == pytest.approx(slow, rel=1e-12, abs=1e-15)
    assert fast_w == pytest.approx(slow_w, rel=1e-12, abs=1e-15)
    assert fast_x == pytest.approx(slow_x, rel=1e-12, abs=1e-15)


def test_a_neuron_is_one_dot_node_and_inputs_are_wrapped_once():
    layer = Layer(2, 3, seed=0)
    outs = layer([0.5, -1.0])  # plain floats
    leaves = {id(v) for out in outs for v in out._prev[0]._prev}  # relu <- dot <- leaves
    assert all(out._op == "ReLU" and out._prev[0]._op == "dot" for out in outs)
    assert len(leaves) == 3 * (2 + 1) + 2  # each neuron's w and b, and ONE Value per input
    mlp = MLP(2, [16, 16, 1], seed=0)
    nodes = topological_order(mlp([Value(0.5), Value(-1.0)]))
    ops = [node._op for node in nodes if node._op]
    assert ops.count("dot") == 33 and ops.count("ReLU") == 32 and len(ops) == 65
    assert len(nodes) == 65 + 337 + 2  # the ops, the parameters, the two inputs
