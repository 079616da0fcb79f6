"""A scalar autograd engine (micrograd's). Each op computes its output, then right below, its
backward: the chain rule, adding d(out)/d(input) x ``out.grad`` into each input's ``.grad``."""

from __future__ import annotations

import math
import numbers


class ZeroDivisionValueError(ValueError, ZeroDivisionError):
    """Division by zero: a ValueError like our other domain errors, and Python's own too."""


class Value:
    """One scalar in a computation graph, with its gradient: ``(a * b + a).backward()``."""

    __slots__ = ("data", "grad", "label", "_prev", "_op", "_backward")

    def __init__(self, data: float, _prev=(), _op="", _backward=None, label: str = "") -> None:
        self.data, self.grad, self.label = data, 0.0, label
        self._prev, self._op = _prev, _op  # the inputs in order (a + a: (a, a)), and the op
        self._backward = _backward  # _backward(self) passes self.grad on; None on a leaf

    # ---- primitives, each with its backward(out) below: no closure over a node (design.md) ----
    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(_number(other, "+"))
        return Value(self.data + other.data, (self, other), "+", Value._add_backward)

    def _add_backward(out: Value) -> None:  # d(a + b)/da = 1, d(a + b)/db = 1
        a, b = out._prev
        a.grad += out.grad
        b.grad += out.grad

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(_number(other, "*"))
        return Value(self.data * other.data, (self, other), "*", Value._mul_backward)

    def _mul_backward(out: Value) -> None:  # d(a * b)/da = b, d(a * b)/db = a
        a, b = out._prev
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    def __pow__(self, n: float) -> Value:
        n, x = _number(n, "pow", "exponent must be an int or float constant"), self.data
        if x < 0 and not float(n).is_integer():
            raise ValueError(f"pow: math domain error, negative base {x} to fractional power {n}")
        if x == 0 and n < 0:
            raise ZeroDivisionValueError(f"pow: division by zero, 0 to the negative power {n}")

        def _pow_backward(out: Value) -> None:  # d(x^n)/dx = n x^(n-1); inf at 0 for 0 < n < 1
            out._prev[0].grad += (n * x ** (n - 1) if x != 0 or n >= 1 else math.inf) * out.grad

        return Value(x**n, (self,), f"**{n}", _pow_backward)

    def exp(self) -> Value:
        if self.data > 709.782712893384:  # ln(largest float); math.exp would not say the value
            raise OverflowError(f"exp: math range error, exp({self.data}) overflows a float")
        return Value(math.exp(self.data), (self,), "exp", Value._exp_backward)

    def _exp_backward(out: Value) -> None:  # d(e^x)/dx = e^x
        out._prev[0].grad += out.data * out.grad

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log: math domain error, log of non-positive value {self.data}")
        return Value(math.log(self.data), (self,), "log", Value._log_backward)

    def _log_backward(out: Value) -> None:  # d(ln x)/dx = 1 / x
        out._prev[0].grad += out.grad / out._prev[0].data

    def tanh(self) -> Value:
        return Value(math.tanh(self.data), (self,), "tanh", Value._tanh_backward)

    def _tanh_backward(out: Value) -> None:  # d(tanh x)/dx = 1 - tanh(x)^2
        out._prev[0].grad += (1.0 - out.data * out.data) * out.grad

    def relu(self) -> Value:
        return Value(self.data if self.data > 0 else 0.0, (self,), "ReLU", Value._relu_backward)

    def _relu_backward(out: Value) -> None:  # d(relu x)/dx = 1 if x > 0 else 0
        out._prev[0].grad += out.grad if out.data > 0 else 0.0

    # ---- identities over the primitives: their gradients follow by the chain rule ----
    def __neg__(self) -> Value:  # -a = a * -1
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:  # a - b = a + (-b)
        return self + (-other)

    def __truediv__(self, other: Value | float) -> Value:  # a / b = a * b^-1
        return self * (other if isinstance(other, Value) else Value(_number(other, "/"))) ** -1

    __radd__, __rmul__ = __add__, __mul__  # 2 + a = a + 2, 2 * a = a * 2

    def __rsub__(self, other: float) -> Value:  # 1 - a = (-a) + 1
        return (-self) + other

    def __rtruediv__(self, other: float) -> Value:  # 1 / a = a^-1 * 1
        return self**-1 * other

    def sigmoid(self) -> Value:  # 1 / (1 + e^-x), in the form whose exp cannot overflow
        return 1 / (1 + (-self).exp()) if self.data >= 0 else self.exp() / (1 + self.exp())

    # ---- backpropagation ----
    def backward(self) -> None:
        """Add d(self)/d(leaf) into every leaf's ``.grad``; call ``zero_grad`` between steps."""
        topo = [node for node in topological_order(self) if node._backward is not None]
        for node in topo:  # the nodes between restart from 0: only leaves accumulate
            node.grad = 0.0
        self.grad += 1.0  # d(self)/d(self)
        for node in reversed(topo):
            node._backward(node)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"


def dot(w: list[Value], x: list[Value], b: Value) -> Value:
    """``w . x + b`` as ONE node, where a chain of ``*`` and ``+`` makes 2n (a neuron's sum)."""
    data = sum([wi.data * xi.data for wi, xi in zip(w, x, strict=True)], b.data)
    return Value(data, (*w, *x, b), "dot", _dot_backward)


def _dot_backward(out: Value) -> None:  # d/dw_i = x_i, d/dx_i = w_i, d/db = 1
    n, grad = len(out._prev) // 2, out.grad  # out._prev = (*w, *x, b)
    for wi, xi in zip(out._prev[:n], out._prev[n:-1], strict=True):
        wi.grad += xi.data * grad
        xi.grad += wi.data * grad
    out._prev[-1].grad += grad


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from ``root``, each after its inputs (root last); no recursion."""
    topo: list[Value] = []
    visited: set[Value] = set()
    stack: list = [root]
    while stack:
        if (node := stack.pop()) is None:  # the node below the None has its inputs placed
            topo.append(stack.pop())
        elif node not in visited:
            visited.add(node)
            stack += (node, None, *node._prev)  # back under a None, its inputs on top
    return topo


def _number(x: object, op: str, expected: str = "expected a Value or a number") -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):  # NumPy scalars pass, bools fail
        raise TypeError(f"{op}: {expected}, got {type(x).__name__} {x!r}")
    return int(x) if isinstance(x, numbers.Integral) else float(x)
