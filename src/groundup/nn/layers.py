"""Layers: the parts models are built from, each a Module with PyTorch's name, arguments,
default initialisation and repr.

Random initialisation takes ``generator`` (an int seed, a ``numpy.random.Generator`` or
None); pass one shared Generator to build a whole model reproducibly. ``dtype`` defaults to
float32; use ``dtype="float64"`` (or ``model.double()``) for gradient checks.

The forward passes call the fused kernels of :mod:`groundup.nn.fused` (the definitions they
equal are in :mod:`groundup.nn.functional`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from groundup.nn import fused as F
from groundup.nn import init
from groundup.nn.functional import check_gelu, padding_row
from groundup.nn.module import Module, Parameter
from groundup.tensor import Tensor
from groundup.tensor.backend import default_float


def _dtype(dtype: Any) -> np.dtype:
    return np.dtype(default_float if dtype is None else dtype)


def _empty(shape: tuple[int, ...], dtype: Any) -> Parameter:
    return Parameter(np.zeros(shape, dtype=_dtype(dtype)))


def _check_positive(**sizes: Any) -> None:
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def _as_input(x: Any) -> Tensor:
    """Accept a Tensor, or an array (kept at its dtype) for convenience."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    return Tensor(arr, dtype=arr.dtype if arr.dtype.kind == "f" else None)


# ---------------------------------------------------------------- affine and lookup


class Linear(Module):
    """``y = x @ W.T + b`` with ``W`` (out_features, in_features).

    PyTorch's default init: ``W`` and ``b`` ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        generator: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _check_positive(in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        rng = init.as_generator(generator)
        bound = 1.0 / math.sqrt(in_features)
        self.weight = init.uniform_(_empty((out_features, in_features), dtype), -bound, bound, rng)
        self.bias = (
            init.uniform_(_empty((out_features,), dtype), -bound, bound, rng) if bias else None
        )

    def forward(self, x: Any) -> Tensor:
        return F.linear(_as_input(x), self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` (num_embeddings, embedding_dim) is the vector
    of id ``i``. Default init N(0, 1), as PyTorch; the row ``padding_idx`` (if given)
    starts at zero and gets no gradient, so it stays zero through training."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        generator: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _check_positive(num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_row(padding_idx, num_embeddings)
        self.weight = init.normal_(
            _empty((num_embeddings, embedding_dim), dtype), generator=init.as_generator(generator)
        )
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0.0

    def forward(self, idx: Any) -> Tensor:
        return F.embedding(idx, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


# ---------------------------------------------------------------- normalisation


class LayerNorm(Module):
    """Normalise each sample over its last dims to mean 0, variance 1 (biased variance,
    divided by N), then scale by ``weight`` (ones) and shift by ``bias`` (zeros)."""

    def __init__(
        self,
        normalized_shape: int | Iterable[int],
        eps: float = 1e-5,
        bias: bool = True,
        *,
        elementwise_affine: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        shape: Any = normalized_shape
        if isinstance(shape, numbers.Integral):  # 4, or np.int64(4) from an array
            shape = (shape,)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = (
            init.ones_(_empty(self.normalized_shape, dtype)) if elementwise_affine else None
        )
        has_bias = elementwise_affine and bias
        self.bias = init.zeros_(_empty(self.normalized_shape, dtype)) if has_bias else None

    def forward(self, x: Any) -> Tensor:
        return F.layer_norm(_as_input(x), self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class BatchNorm1d(Module):
    """Normalise each feature over the batch (Ioffe & Szegedy, 2015); input (N, C) or
    (N, C, L).

    Training uses the batch's mean and (biased) variance, and moves the running estimates
    toward them: ``running = (1 - momentum) * running + momentum * batch`` (the running
    variance takes the unbiased batch variance, as PyTorch); ``momentum=None`` keeps the
    plain average of all batches seen, as PyTorch. Eval mode uses the running
    estimates, so a single example gives a deterministic answer.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _check_positive(num_features=num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine = affine
        self.weight = init.ones_(_empty((num_features,), dtype)) if affine else None
        self.bias = init.zeros_(_empty((num_features,), dtype)) if affine else None
        self.register_buffer("running_mean", np.zeros(num_features, dtype=_dtype(dtype)))
        self.register_buffer("running_var", np.ones(num_features, dtype=_dtype(dtype)))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d: expected input (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got {x.shape}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum  # (eval uses none)
        if self.training:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # PyTorch's cumulative average: batch k weighs 1/k
                momentum = 1.0 / float(self.num_batches_tracked.data)
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            self.training, momentum, self.eps,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.affine}, track_running_stats=True"
        )


# ---------------------------------------------------------------- regularisation


class Dropout(Module):
    """In training, zero each entry with probability ``p`` and scale the survivors by
    ``1 / (1 - p)`` (expected value unchanged); in eval mode, the identity.

    The module owns its Generator (``generator``: int seed, Generator or None); checkpoints
    save its state so a resumed run draws the same masks.
    """

    def __init__(self, p: float = 0.5, *, generator: Any = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not (isinstance(p, numbers.Real) and 0.0 <= p <= 1.0):
            raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
        self.p: float = float(p)
        self.generator: Any = init.as_generator(generator)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(_as_input(x), self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ---------------------------------------------------------------- activations


class Tanh(Module):
    """``tanh(x)``, squashing to (-1, 1)."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(_as_input(x))


class ReLU(Module):
    """``max(x, 0)``."""

    def forward(self, x: Any) -> Tensor:
        return F.relu(_as_input(x))


class GELU(Module):
    """GELU, x Phi(x) with Phi the normal CDF; ``approximate="tanh"`` is GPT-2's form. The
    default is PyTorch's, the exact one (``"none"``)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        check_gelu(approximate)
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return F.gelu(_as_input(x), approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


# ---------------------------------------------------------------- containers


class Sequential(Module):
    """Modules applied in order: ``Sequential(Linear(2, 8), Tanh(), Linear(8, 1))``.
    Also accepts one dict of name -> module."""

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                self.add_module(str(name), module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        return items[index][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules, registered (so their parameters count); no forward of its own."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Any:
        values = list(self._modules.values())
        return ModuleList(values[index]) if isinstance(index, slice) else values[index]

    def __setitem__(self, index: int, module: Module) -> None:
        key = list(self._modules)[index]
        self.add_module(key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self


class ModuleDict(Module):
    """A dict of named modules, registered under their keys."""

    def __init__(self, modules: dict[str, Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def update(self, modules: dict[str, Module]) -> None:
        for key, module in modules.items():
            self.add_module(key, module)
