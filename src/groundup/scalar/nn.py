"""Neurons, layers and a multi-layer perceptron made of scalar ``Value`` s.

The conventions of the original micrograd, so learners can compare line for line:
weights start uniform in [-1, 1], biases at 0, hidden layers use ReLU, the output layer
is linear, and a layer with one neuron returns a ``Value`` rather than a list.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from groundup.scalar.engine import Value, _number, dot

Number = int | float


def _as_rng(seed: Any) -> Any:
    """An object with ``.uniform(a, b)`` from an int seed, a generator, or None (unseeded).

    Accepts ``random.Random`` and ``numpy.random.Generator``; never touches global state.
    """
    if seed is None or (isinstance(seed, int) and not isinstance(seed, bool)):
        return random.Random(seed)
    if hasattr(seed, "uniform"):
        return seed
    raise TypeError(f"seed must be an int, a random.Random/numpy Generator or None, got {seed!r}")


class Module:
    """Something with parameters: the base of Neuron, Layer and MLP."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to 0 (gradients accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """out = relu(w . x + b), or w . x + b when ``nonlin`` is False.

    Two tiers, bound by a test: ``spelled_out`` is the definition, micrograd's chain
    ``b + w0 * x0 + w1 * x1 + ...`` of 2n nodes; calling the neuron computes the same value
    and gradients with one ``dot`` node (two objects instead of 4n: training's speed).
    """

    def __init__(self, nin: int, nonlin: bool = True, seed: Any = None) -> None:
        if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
            raise ValueError(f"nin must be a positive int, got {nin!r}")
        rng = _as_rng(seed)
        self.w = [Value(float(rng.uniform(-1, 1)), label=f"w{i}") for i in range(nin)]
        self.b = Value(0.0, label="b")
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Value | Number]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        act = dot(self.w, _values(x), self.b)
        return act.relu() if self.nonlin else act

    def spelled_out(self, x: Sequence[Value | Number]) -> Value:
        """The same output in the engine's primitives: ``+`` and ``*``, then relu (to draw)."""
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons that all read the same inputs."""

    def __init__(self, nin: int, nout: int, nonlin: bool = True, seed: Any = None) -> None:
        if isinstance(nout, bool) or not isinstance(nout, int) or nout < 1:
            raise ValueError(f"nout must be a positive int, got {nout!r}")
        rng = _as_rng(seed)
        self.neurons = [Neuron(nin, nonlin=nonlin, seed=rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | Number]) -> Value | list[Value]:
        x = _values(x)  # once here, not once per neuron
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes ``nin -> nouts[0] -> ... -> nouts[-1]``; ReLU between, linear at the end.

    Example:
        >>> model = MLP(2, [16, 16, 1], seed=0)
        >>> len(model.parameters())   # (2*16 + 16) + (16*16 + 16) + (16 + 1)
        337
        >>> score = model([0.5, -1.0])   # one output neuron: a Value
    """

    def __init__(self, nin: int, nouts: Sequence[int], seed: Any = None) -> None:
        if not isinstance(nouts, Sequence) or isinstance(nouts, str):
            raise TypeError(f"nouts must be a list of layer sizes like [16, 16, 1], got {nouts!r}")
        if len(nouts) == 0:
            raise ValueError(f"nouts must list at least one layer size, got {nouts!r}")
        rng = _as_rng(seed)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1, seed=rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | Number]) -> Value | list[Value]:
        out: Any = x
        for layer in self.layers:
            out = layer([out] if isinstance(out, Value) else out)
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def _values(x: Sequence[Value | Number]) -> list[Value]:
    """The inputs as Values: numbers (NumPy's too) become leaves; Values stay themselves."""
    return [xi if isinstance(xi, Value) else Value(_number(xi, "Neuron")) for xi in x]
