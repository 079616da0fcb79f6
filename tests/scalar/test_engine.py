"""The scalar engine: known answers first, then the rules every graph must follow."""

from __future__ import annotations

import gc
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundup.scalar import Value, dot, topological_order


def test_micrograd_readme_expression():
    # the expression of the original micrograd README, with its published answers
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


def test_single_tanh_neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    assert x1.grad == pytest.approx(-1.5, abs=1e-4)
    assert x2.grad == pytest.approx(0.5, abs=1e-4)
    assert w1.grad == pytest.approx(1.0, abs=1e-4)
    assert w2.grad == pytest.approx(0.0, abs=1e-4)


def test_tanh_neuron_spelled_with_exp_matches():
    # tanh(n) = (e^2n - 1) / (e^2n + 1): the same gradients through exp, pow and division
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    e = (2 * n).exp()
    o = (e - 1) / (e + 1)
    o.backward()
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    assert (x1.grad, x2.grad, w1.grad, w2.grad) == pytest.approx((-1.5, 0.5, 1.0, 0.0), abs=1e-4)


@pytest.mark.parametrize(
    "fn, x, value, grad",
    [
        (lambda v: v.exp(), 1.0, math.e, math.e),
        (lambda v: v.log(), 2.0, math.log(2.0), 0.5),
        (lambda v: v.tanh(), 0.5, math.tanh(0.5), 1 - math.tanh(0.5) ** 2),
        (lambda v: v.relu(), 1.5, 1.5, 1.0),
        (lambda v: v.relu(), -1.5, 0.0, 0.0),
        (lambda v: v.sigmoid(), 0.0, 0.5, 0.25),
        (lambda v: v.sigmoid(), -800.0, 0.0, 0.0),  # no overflow in exp
        (lambda v: v**3, 2.0, 8.0, 12.0),
        (lambda v: v**0.5, 4.0, 2.0, 0.25),
        (lambda v: v**-1, 4.0, 0.25, -1 / 16),
        (lambda v: -v, 3.0, -3.0, -1.0),
        (lambda v: 1 - v, 3.0, -2.0, -1.0),
        (lambda v: v - 1, 3.0, 2.0, 1.0),
        (lambda v: 2 * v, 3.0, 6.0, 2.0),
        (lambda v: 2 + v, 3.0, 5.0, 1.0),
        (lambda v: 1 / v, 4.0, 0.25, -1 / 16),
        (lambda v: v / 4, 3.0, 0.75, 0.25),
    ],
)
def test_each_op_value_and_local_derivative(fn, x, value, grad):
    v = Value(x)
    out = fn(v)
    out.backward()
    assert out.data == pytest.approx(value, rel=1e-12, abs=1e-300)
    assert v.grad == pytest.approx(grad, rel=1e-12, abs=1e-300)


def test_each_node_records_op_and_ordered_inputs():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    assert c._op == "*" and c._prev == (a, b)
    d = a + a
    assert d._op == "+" and d._prev == (a, a)
    assert (a**2)._op == "**2"
    assert a.tanh()._prev == (a,)


def test_reused_node_gets_both_contributions():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    c = Value(3.0)
    (c * c).backward()
    assert c.grad == 6.0


def test_backward_twice_accumulates_like_pytorch():
    a = Value(2.0)
    b = a * 3
    b.backward()
    b.backward()
    assert a.grad == 6.0
    # through an intermediate node: only leaves accumulate, as with retain_graph in torch
    x = Value(2.0)
    c = (x * 3) * 2
    c.backward()
    c.backward()
    assert x.grad == 12.0


def test_two_hundred_thousand_step_chain_needs_no_recursion():
    x = Value(1.0)
    v = x
    for _ in range(200_000):
        v = v.relu()
    v.backward()
    assert x.grad == 1.0
    assert len(topological_order(v)) == 200_001


def test_topological_order_puts_every_node_after_its_inputs():
    # the diamond that a "mark visited when pushed" search gets wrong
    a = Value(1.0)
    b = a.exp()
    c = b * a
    d = c + b
    order = topological_order(d)
    position = {id(node): i for i, node in enumerate(order)}
    assert len(order) == 4 and order[-1] is d
    for node in order:
        for child in node._prev:
            assert position[id(child)] < position[id(node)]


def test_graph_has_no_reference_cycles():
    # dropped graphs must be freed by reference counting alone, with no work for the
    # cyclic garbage collector (micrograd's closures refer back to their node)
    gc.collect()
    gc.disable()
    try:
        x = Value(0.5)
        v = x
        for _ in range(50):
            v = (v * 2 + 1).tanh().sigmoid().exp().log() ** 2 / 3 - v.relu()
        v.backward()
        del v, x
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_log_of_non_positive_raises_value_error_naming_op_and_value():
    with pytest.raises(ValueError, match=r"log.*-2\.0"):
        Value(-2.0).log()
    with pytest.raises(ValueError, match=r"log.*0\.0"):
        Value(0.0).log()


def test_negative_base_to_fractional_power_raises():
    with pytest.raises(ValueError, match=r"pow.*-4\.0.*0\.5"):
        Value(-4.0) ** 0.5
    assert (Value(-2.0) ** 2).data == 4.0  # integer powers of negatives are fine
    assert (Value(-2.0) ** 3.0).data == -8.0


def test_division_by_zero_raises_value_error():
    with pytest.raises(ValueError, match="zero"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ValueError, match="zero"):
        Value(1.0) / 0


def test_sqrt_at_zero_has_infinite_slope():
    x = Value(0.0)
    y = x**0.5
    y.backward()
    assert y.data == 0.0 and x.grad == math.inf


def test_non_numbers_are_refused():
    with pytest.raises(TypeError, match="str"):
        Value(1.0) + "2"
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(2.0)


def test_repr_shows_data_grad_and_label():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert "label='w'" in repr(Value(1.0, label="w"))


def test_division_by_zero_is_also_pythons_zero_division_error():
    # code written for Python's own 1 / 0 catches ZeroDivisionError; ours is both kinds
    with pytest.raises(ZeroDivisionError, match="zero"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match="zero"):
        1 / Value(0.0)
    with pytest.raises(ZeroDivisionError, match="zero"):
        Value(0.0) ** -2


def test_exp_overflow_names_the_op_and_value():
    with pytest.raises(OverflowError, match=r"exp.*1000\.0"):
        Value(1000.0).exp()


def test_numpy_scalars_mix_in_like_python_numbers():
    # a label read from an array (np.int64(-1)) raised TypeError on the right of an op
    np = pytest.importorskip("numpy")
    a = Value(2.0)
    out = a * np.int64(-1) + np.float32(0.5) - a / np.int64(4) + a ** np.int64(2)
    assert out.data == pytest.approx(-2.0 + 0.5 - 0.5 + 4.0)
    assert type(out.data) is float
    out.backward()
    assert a.grad == pytest.approx(-1.0 - 0.25 + 4.0)
    with pytest.raises(TypeError, match="got bool"):
        a * True


# ---- dot: a neuron's w . x + b as one node ----


def test_dot_known_answer_value_and_gradients():
    w = [Value(2.0), Value(-1.0)]
    x = [Value(3.0), Value(0.5)]
    b = Value(0.25)
    out = dot(w, x, b)
    assert out.data == 2.0 * 3.0 - 1.0 * 0.5 + 0.25
    assert out._op == "dot" and out._prev == (*w, *x, b)  # weights, inputs, bias: drawn
    (out * 2).backward()
    assert [v.grad for v in w] == [6.0, 1.0]  # 2 * x_i
    assert [v.grad for v in x] == [4.0, -2.0]  # 2 * w_i
    assert b.grad == 2.0


def test_dot_of_a_vector_with_itself_is_a_sum_of_squares():
    # the same node on both sides gets both contributions: d(sum p^2)/dp = 2p
    p = [Value(1.5), Value(-2.0), Value(0.5)]
    out = dot(p, p, Value(0.0))
    out.backward()
    assert out.data == 1.5**2 + 2.0**2 + 0.5**2
    assert [v.grad for v in p] == [3.0, -4.0, 1.0]


def test_dot_refuses_lengths_that_differ():
    with pytest.raises(ValueError, match="zip"):
        dot([Value(1.0), Value(2.0)], [Value(1.0)], Value(0.0))


@st.composite
def affine_maps(draw):
    """Weights, inputs and a bias drawn from a few shared leaves, so nodes repeat."""
    leaves = [Value(v) for v in draw(st.lists(st.floats(-3, 3), min_size=1, max_size=6))]
    pick = st.integers(0, len(leaves) - 1)
    n = draw(st.integers(1, 8))
    w = [leaves[draw(pick)] for _ in range(n)]
    x = [leaves[draw(pick)] for _ in range(n)]
    return leaves, w, x, leaves[draw(pick)]


@given(affine_maps(), st.floats(-2, 2))
def test_dot_equals_its_chain_of_primitives(case, scale):
    """One dot node and micrograd's chain b + w0 * x0 + w1 * x1 + ... agree, value and grads."""
    leaves, w, x, b = case
    fused = dot(w, x, b).tanh() * scale
    fused.backward()
    fused_grads = [v.grad for v in leaves]
    for v in leaves:
        v.grad = 0.0
    chain = sum((wi * xi for wi, xi in zip(w, x, strict=True)), b).tanh() * scale
    chain.backward()
    assert fused.data == pytest.approx(chain.data, rel=1e-12, abs=1e-12)
    assert fused_grads == pytest.approx([v.grad for v in leaves], rel=1e-12, abs=1e-12)


def test_dot_graphs_have_no_reference_cycles_either():
    gc.collect()
    gc.disable()
    try:
        w = [Value(0.5), Value(-0.25)]
        v = Value(1.0)
        for _ in range(50):
            v = dot(w, [v, v.relu()], Value(0.1)).tanh()
        v.backward()
        del v
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_sigmoid_is_stable_at_both_ends():
    # an identity over exp, in the form whose exp cannot overflow on either side, and whose
    # value and slope keep full relative precision where they are tiny (no 1 - (1 - tiny))
    for x in (800.0, -800.0, 30.0, -30.0, 0.5, -0.5):
        e = math.exp(-abs(x))
        v = Value(x)
        out = v.sigmoid()
        out.backward()
        assert out.data == pytest.approx(1 / (1 + e) if x > 0 else e / (1 + e), rel=1e-15)
        assert v.grad == pytest.approx(e / (1 + e) ** 2, rel=1e-14, abs=1e-300)
