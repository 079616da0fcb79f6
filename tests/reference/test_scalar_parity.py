"""The scalar engine against references: PyTorch in float64, finite differences, micrograd."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundup.scalar import MLP, Value

torch = pytest.importorskip("torch")

# ---- one op at a time (value and gradient against torch) ----

UNARY = {
    "exp": (lambda v: v.exp(), torch.exp),
    "log": (lambda v: v.log(), torch.log),
    "tanh": (lambda v: v.tanh(), torch.tanh),
    "relu": (lambda v: v.relu(), torch.relu),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid),
    "neg": (lambda v: -v, lambda t: -t),
    "pow3": (lambda v: v**3, lambda t: t**3),
    "pow-2": (lambda v: v**-2, lambda t: t**-2),
    "pow1.5": (lambda v: v**1.5, lambda t: t**1.5),
    "rsub": (lambda v: 1.5 - v, lambda t: 1.5 - t),
    "rdiv": (lambda v: 2.0 / v, lambda t: 2.0 / t),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def _leaf(x: float):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("x", [0.3, 1.7, 3.0])
def test_unary_op_matches_torch(name, x):
    ours, theirs = UNARY[name]
    v, t = Value(x), _leaf(x)
    out, ref = ours(v), theirs(t)
    out.backward()
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=1e-12)
    assert v.grad == pytest.approx(t.grad.item(), rel=1e-12)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_matches_torch(name):
    op = BINARY[name]
    a, b = Value(-1.3), Value(0.7)
    ta, tb = _leaf(-1.3), _leaf(0.7)
    out, ref = op(a, b), op(ta, tb)
    out.backward()
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=1e-12)
    assert (a.grad, b.grad) == pytest.approx((ta.grad.item(), tb.grad.item()), rel=1e-12)


# ---- random expression graphs with reused nodes ----

OPS = ["add", "sub", "mul", "div", "pow2", "pow3", "sqrt", "recip"]
OPS += ["exp", "log", "tanh", "relu", "sigmoid", "neg", "rsub", "rmul", "radd"]


def _apply(op: str, a, b):
    """One op on ours or torch's numbers; the same code runs both, so they build one graph."""
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return a / b
    if op == "pow2":
        return a**2
    if op == "pow3":
        return a**3
    if op == "sqrt":
        return a**0.5
    if op == "recip":
        return a**-1
    if op == "neg":
        return -a
    if op == "rsub":
        return 1.0 - a
    if op == "rmul":
        return 0.5 * a
    if op == "radd":
        return 2.0 + a
    if op in ("exp", "log", "tanh", "relu", "sigmoid"):
        return getattr(a, op)()
    raise AssertionError(op)


def _allowed(op: str, a: float, b: float) -> bool:
    """Keep the graph away from domain edges and overflow, where references disagree."""
    if op == "div" and abs(b) < 0.2:
        return False
    if op == "recip" and abs(a) < 0.2:
        return False
    if op in ("sqrt", "log") and a < 0.2:
        return False
    if op == "exp" and a > 5:
        return False
    if op == "relu" and abs(a) < 1e-3:  # the kink: finite differences would straddle it
        return False
    return not (op in ("pow2", "pow3", "mul") and abs(a) > 30)


@st.composite
def expression_graphs(draw):
    """A program: leaf values, then ops reading earlier nodes (so nodes get reused)."""
    leaves = draw(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4))
    values = list(leaves)  # forward values, to choose ops that stay in their domain
    program = []
    for _ in range(draw(st.integers(1, 14))):
        op = draw(st.sampled_from(OPS))
        i = draw(st.integers(0, len(values) - 1))
        j = draw(st.integers(0, len(values) - 1))
        if not _allowed(op, values[i], values[j]):
            op = "tanh"
        value = _apply(op, Value(values[i]), Value(values[j])).data
        if abs(value) > 1e4:  # huge values: finite differences drown in rounding
            op = "tanh"
            value = math.tanh(values[i])
        values.append(value)
        program.append((op, i, j))
    return leaves, program


def _run(program, nodes):
    nodes = list(nodes)
    for op, i, j in program:
        nodes.append(_apply(op, nodes[i], nodes[j]))
    # every node feeds the output, with a different weight, so every path gets a gradient
    out = nodes[0] * 0.0
    for k, node in enumerate(nodes):
        out = out + node * (1.0 + 0.1 * k)
    return out


@given(expression_graphs())
def test_random_graphs_match_torch_float64(graph):
    leaves, program = graph
    ours = [Value(x) for x in leaves]
    theirs = [_leaf(x) for x in leaves]
    out, ref = _run(program, ours), _run(program, theirs)
    out.backward()
    ref.backward()
    assert math.isclose(out.data, ref.item(), rel_tol=1e-9, abs_tol=1e-9)
    for v, t in zip(ours, theirs, strict=True):
        assert math.isclose(v.grad, t.grad.item(), rel_tol=1e-7, abs_tol=1e-7)


@given(expression_graphs())
def test_random_graphs_match_finite_differences(graph):
    leaves, program = graph
    ours = [Value(x) for x in leaves]
    _run(program, ours).backward()
    eps = 1e-6
    for k in range(len(leaves)):
        up = [Value(x + eps * (i == k)) for i, x in enumerate(leaves)]
        down = [Value(x - eps * (i == k)) for i, x in enumerate(leaves)]
        slope = (_run(program, up).data - _run(program, down).data) / (2 * eps)
        if any(
            node._op == "ReLU" and abs(node._prev[0].data) < 10 * eps
            for node in _nodes(_run(program, up))
        ):
            continue  # a kink between the two probes: the slope there is not defined
        assert math.isclose(ours[k].grad, slope, rel_tol=1e-4, abs_tol=1e-4)


def _nodes(root):
    from groundup.scalar import topological_order

    return topological_order(root)


# ---- the whole moons loss against PyPI micrograd (the reference implementation) ----


def test_mlp_hinge_loss_and_gradients_match_micrograd():
    micrograd = pytest.importorskip("micrograd.nn")
    from micrograd.engine import Value as MValue

    from groundup.data import make_moons
    from groundup.scalar.train import hinge_loss

    ours = MLP(2, [16, 16, 1], seed=0)
    theirs = micrograd.MLP(2, [16, 16, 1])
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        q.data = p.data
    X, y = make_moons(12, noise=0.1, seed=0)
    loss, acc = hinge_loss(ours, X, y, alpha=1e-4)
    loss.backward()

    scores = [theirs([MValue(a), MValue(b)]) for a, b in X.tolist()]
    losses = [(1 + -yi * s).relu() for yi, s in zip(y.tolist(), scores, strict=True)]
    ref = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in theirs.parameters())
    ref.backward()
    assert loss.data == pytest.approx(ref.data, rel=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert p.grad == pytest.approx(q.grad, rel=1e-9, abs=1e-12)
