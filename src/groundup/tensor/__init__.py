"""The tensor autograd engine on NumPy: stages 2-4 (bigram, MLP, GPT) run on it.

Reading order: :mod:`.backend` (the array module), :mod:`.function` (grad mode, the
``Function`` node, the backward pass), :mod:`.ops` (the primitive ops, forward and backward
side by side), :mod:`.tensor` (``Tensor``: each method one op), :mod:`.creation` (the
constructors), :mod:`.einsum` (composed from the methods), :mod:`.routines` (the
``torch.<fn>`` spellings: ``groundup.sin(x)`` is ``x.sin()``), :mod:`.gradcheck` (the
numerical second opinion). The functions built on them
(softmax, cross_entropy, layer_norm, attention ...) are in :mod:`groundup.nn.functional`,
and their fused kernels in :mod:`groundup.nn.fused`.
"""

import sys as _sys
import types as _types

from groundup.tensor import backend
from groundup.tensor import cuda as cuda  # registers the "cuda" device (CuPy on demand)
from groundup.tensor import routines as _routines
from groundup.tensor.creation import (
    arange,
    cat,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    randint,
    randn,
    stack,
    tensor,
    zeros,
    zeros_like,
)
from groundup.tensor.function import Function, is_grad_enabled, no_grad
from groundup.tensor.gradcheck import gradcheck
from groundup.tensor.routines import *  # noqa: F403 (torch.<fn> spellings, listed in routines.__all__)
from groundup.tensor.tensor import Tensor, where

__all__ = [
    "Function",
    "Tensor",
    "arange",
    "eye",
    "full",
    "full_like",
    "linspace",
    "ones_like",
    "randint",
    "zeros_like",
    "backend",
    "cuda",
    "cat",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "ones",
    "randn",
    "stack",
    "tensor",
    "where",
    "zeros",
    *_routines.__all__,
]


# `groundup.tensor` names both this package and PyTorch's `tensor(data)` constructor. Once the
# package is imported, Python binds the attribute `groundup.tensor` to it, so the package
# itself must be callable for `groundup.tensor([1.0, 2.0])` to work as in PyTorch.
class _CallablePackage(_types.ModuleType):
    def __call__(
        self, data: object, requires_grad: bool = False, dtype: object = None, device: object = None
    ) -> Tensor:
        return tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


_sys.modules[__name__].__class__ = _CallablePackage
