"""A scalar autograd engine: every number remembers how it was made.

A ``Value`` wraps one float. Each operation computes its output and, right below,
defines its *local derivative*: a small function that adds
``local derivative x out.grad`` into the ``.grad`` of each input (the chain rule).
``backward()`` calls those functions from the output back to the leaves, in reverse
topological order. That is all of backpropagation.

Two choices differ from the original micrograd, both for speed:

* the backward function is written once per op and called with the node,
  ``out._backward(out)``. micrograd makes a fresh closure per node that refers to
  ``out`` while ``out`` refers to it: a reference cycle per node, so every graph becomes
  garbage that only Python's cyclic collector can free, and a training step spends most
  of its time in that collector. Here a graph is freed by reference counting the moment
  it is dropped, and a new node allocates only itself and the tuple of its inputs.
* inputs are an ordered tuple (``_prev``), not a set, and ``__slots__`` keeps nodes small.

True primitives: ``+``, ``*``, ``**`` (by a constant), ``exp``, ``log``, ``tanh``, ``relu``,
``sigmoid``. Subtraction, division, negation and the reflected operators are one-line
identities over them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

Number = int | float


class ZeroDivisionValueError(ValueError, ZeroDivisionError):
    """Division by zero: a ValueError like our other domain errors, and still the
    ZeroDivisionError that Python's own ``1 / 0`` and ``0.0 ** -1`` raise."""


class Value:
    """One scalar in a computation graph, with its gradient.

    Example:
        >>> a, b = Value(2.0), Value(-3.0)
        >>> c = a * b + a          # c = -4.0
        >>> c.backward()
        >>> a.grad, b.grad         # dc/da = b + 1, dc/db = a
        (-2.0, 2.0)
    """

    __slots__ = ("data", "grad", "label", "_prev", "_op", "_backward")

    def __init__(
        self,
        data: Number,
        _prev: tuple[Value, ...] = (),
        _op: str = "",
        label: str = "",
    ) -> None:
        self.data = data
        self.grad = 0.0
        self.label = label
        self._prev = _prev  # the inputs, in order (a + a has _prev (a, a))
        self._op = _op  # the op that made this node, for drawing the graph
        # _backward(self) passes self.grad on to the inputs in self._prev; None for leaves.
        # It is a function shared by all nodes of one op, called with the node: it never
        # holds a reference to the node (which would make a reference cycle).
        self._backward: Callable[..., None] | None = None

    # ---- primitives: forward, then the local derivative right below ----
    # Each _*_backward(out) adds local derivative x out.grad into the .grad of out's inputs.

    def __add__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(_number(other, "+"))
        out = Value(self.data + other.data, (self, other), "+")
        out._backward = Value._add_backward
        return out

    @staticmethod
    def _add_backward(out: Value) -> None:
        a, b = out._prev
        a.grad += out.grad  # d(a + b)/da = 1
        b.grad += out.grad  # d(a + b)/db = 1

    def __mul__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(_number(other, "*"))
        out = Value(self.data * other.data, (self, other), "*")
        out._backward = Value._mul_backward
        return out

    @staticmethod
    def _mul_backward(out: Value) -> None:
        a, b = out._prev
        a.grad += b.data * out.grad  # d(a * b)/da = b
        b.grad += a.data * out.grad  # d(a * b)/db = a

    def __pow__(self, n: Number) -> Value:
        if isinstance(n, bool) or not isinstance(n, numbers.Real):
            raise TypeError(f"pow: exponent must be an int or float constant, got {n!r}")
        if type(n) is not int and type(n) is not float:  # a NumPy scalar
            n = int(n) if isinstance(n, numbers.Integral) else float(n)
        x = self.data
        if x < 0 and not float(n).is_integer():
            raise ValueError(f"pow: math domain error, negative base {x} to fractional power {n}")
        if x == 0 and n < 0:
            raise ZeroDivisionValueError(
                f"pow: math domain error, zero base {x} to negative power {n}"
            )
        out = Value(x**n, (self,), f"**{n}")

        # n is a constant, not a node: this closure keeps it (and nothing that refers back)
        def _pow_backward(out: Value) -> None:
            (x,) = out._prev
            # d(x^n)/dx = n * x^(n-1); infinite at x = 0 when 0 < n < 1 (a square root)
            local = n * x.data ** (n - 1) if (x.data != 0 or n >= 1) else math.inf
            x.grad += local * out.grad

        out._backward = _pow_backward
        return out

    def exp(self) -> Value:
        try:
            e = math.exp(self.data)
        except OverflowError:  # math says only "math range error": name the op and the value
            raise OverflowError(
                f"exp: math range error, exp({self.data}) is too large for a float"
            ) from None
        out = Value(e, (self,), "exp")
        out._backward = Value._exp_backward
        return out

    @staticmethod
    def _exp_backward(out: Value) -> None:
        (x,) = out._prev
        x.grad += out.data * out.grad  # d(e^x)/dx = e^x

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log: math domain error, log of non-positive value {self.data}")
        out = Value(math.log(self.data), (self,), "log")
        out._backward = Value._log_backward
        return out

    @staticmethod
    def _log_backward(out: Value) -> None:
        (x,) = out._prev
        x.grad += out.grad / x.data  # d(ln x)/dx = 1 / x

    def tanh(self) -> Value:
        out = Value(math.tanh(self.data), (self,), "tanh")
        out._backward = Value._tanh_backward
        return out

    @staticmethod
    def _tanh_backward(out: Value) -> None:
        (x,) = out._prev
        x.grad += (1.0 - out.data * out.data) * out.grad  # d(tanh x)/dx = 1 - tanh(x)^2

    def relu(self) -> Value:
        out = Value(self.data if self.data > 0 else 0.0, (self,), "ReLU")
        out._backward = Value._relu_backward
        return out

    @staticmethod
    def _relu_backward(out: Value) -> None:
        (x,) = out._prev
        if x.data > 0:  # d(relu x)/dx = 1 if x > 0 else 0
            x.grad += out.grad

    def sigmoid(self) -> Value:
        x = self.data
        # two forms of 1 / (1 + e^-x), so that exp never overflows
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        out = Value(s, (self,), "sigmoid")
        out._backward = Value._sigmoid_backward
        return out

    @staticmethod
    def _sigmoid_backward(out: Value) -> None:
        (x,) = out._prev
        s = out.data
        x.grad += s * (1.0 - s) * out.grad  # d(sigmoid x)/dx = s * (1 - s)

    # ---- identities over the primitives ----

    def __neg__(self) -> Value:  # -a = a * -1
        return self * -1.0

    def __sub__(self, other: Value | Number) -> Value:  # a - b = a + (-b)
        return self + (-other)

    def __truediv__(self, other: Value | Number) -> Value:  # a / b = a * b^-1
        if isinstance(other, Value):
            return self * other**-1
        other = _number(other, "/")
        if other == 0:
            raise ZeroDivisionValueError(f"/: math domain error, division by zero {other}")
        return self * (1.0 / other)

    def __radd__(self, other: Number) -> Value:  # 2 + a
        return self + other

    def __rmul__(self, other: Number) -> Value:  # 2 * a
        return self * other

    def __rsub__(self, other: Number) -> Value:  # 1 - a
        return (-self) + other

    def __rtruediv__(self, other: Number) -> Value:  # 1 / a
        return self**-1 * other

    # ---- backpropagation ----

    def backward(self) -> None:
        """Fill ``.grad`` of every node this one depends on with d(self)/d(node).

        Gradients of leaves accumulate (``+=``), as in PyTorch: call ``zero_grad``
        between steps. Intermediate nodes start from 0 on every call, so calling
        ``backward`` twice gives each leaf twice its gradient, nothing more.
        """
        topo = topological_order(self)
        for node in topo:
            if node._backward is not None:
                node.grad = 0.0
        self.grad += 1.0  # d(self)/d(self)
        for node in reversed(topo):
            if node._backward is not None:  # leaves have no inputs to pass gradient to
                node._backward(node)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from ``root``, each after all of its inputs (root last).

    Iterative depth-first search: a recursive one would overflow Python's stack on a
    long chain (200,000 steps). A node is expanded the first time it is popped: it goes
    back on the stack under a ``_PLACED`` marker, with its inputs on top; when the marker
    surfaces again, all its inputs have been placed, so the node can go.
    """
    topo: list[Value] = []
    visited: set[Value] = set()
    stack: list = [root]
    # bound methods in locals: this loop runs once per node, for graphs of millions
    pop, push, extend = stack.pop, stack.append, stack.extend
    visit, place = visited.add, topo.append
    while stack:
        node = pop()
        if node is _PLACED:
            place(pop())
        elif node not in visited:
            visit(node)
            push(node)
            push(_PLACED)
            extend(node._prev)
    return topo


_PLACED = object()  # marker on the DFS stack: "the node below has all its inputs placed"


def _number(x: object, op: str) -> float:
    """A Python number to mix into a graph, or a TypeError naming the op.

    NumPy scalars (``np.int64(-1)``, ``np.float32(0.5)``: a label read from an array) count
    as numbers and become Python floats; bools do not count.
    """
    if type(x) is float or type(x) is int:  # the common case, without the ABC check
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{op}: expected a Value or a number, got {type(x).__name__} {x!r}")
    return float(x)
