"""Module: the building block of every model, shaped like ``torch.nn.Module``.

A model is a tree of modules. Assigning a :class:`Parameter` or a :class:`Module` to an
attribute registers it (``self.fc = Linear(2, 3)``), so the model can list its parameters
(for the optimiser), switch train/eval mode throughout the tree, and turn itself into a
flat ``{"fc.weight": array, ...}`` dictionary and back (``state_dict``), which is what a
checkpoint stores. Buffers (``register_buffer``) are state that is saved but not trained,
such as BatchNorm's running statistics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from groundup.tensor import Tensor, no_grad
from groundup.tensor.backend import CPU, get_device, is_device_name, to_host


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (``requires_grad=True`` by default)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        if dtype is None and hasattr(data, "dtype") and hasattr(data, "shape"):  # any array
            dtype = data.dtype  # keep a float64 array float64 (Tensor() would make float32)
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    return "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


class Module:
    """Base class of layers and models: subclass it, create the parts in ``__init__`` (after
    ``super().__init__()``) and write ``forward``; call the module to run it."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ registration

    def _registries(self) -> tuple[dict, dict, dict]:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        return d["_parameters"], d["_buffers"], d["_modules"]

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, (Parameter, Module)) or name in self.__dict__.get("_buffers", {}):
            params, buffers, modules = self._registries()
            if name in buffers and not isinstance(value, (Parameter, Module)):
                buffers[name] = _as_buffer(value)  # reassigning a buffer keeps it a buffer
                return
            target = params if isinstance(value, Parameter) else modules
            for registry in (params, buffers, modules):
                if registry is not target:
                    registry.pop(name, None)
            self.__dict__.pop(name, None)
            target[name] = value  # replacing keeps the original position (and key order)
        else:
            for key in ("_parameters", "_modules"):
                self.__dict__.get(key, {}).pop(name, None)  # e.g. `self.bias = None`
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in self._registries():
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: Any, persistent: bool = True) -> None:
        """Keep ``value`` (array or Tensor) as state that is saved but not trained."""
        params, buffers, modules = self._registries()
        if name in params or name in modules:
            raise KeyError(f"register_buffer: {name!r} is already a parameter or submodule")
        self.__dict__.pop(name, None)
        buffers[name] = _as_buffer(value)
        if not persistent:
            self._non_persistent.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        setattr(self, name, module)

    # ------------------------------------------------------------ walking the tree

    def named_modules(self, prefix: str = "", memo: set[int] | None = None) -> Iterator[tuple]:
        """(name, module) for this module and every descendant, each once, pre-order."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple]:
        """(dotted name, Parameter) for every parameter, each once (tied weights once)."""
        seen: set[int] = set()
        owners = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for owner, module in owners:
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{owner}.{name}" if owner else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for owner, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{owner}.{name}" if owner else name), b

    def buffers(self) -> Iterator[Tensor]:
        for _, b in self.named_buffers():
            yield b

    def num_parameters(self) -> int:
        """How many numbers training adjusts (tied weights counted once)."""
        return sum(int(p.data.size) for p in self.parameters())

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) and on self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes and grads

    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, BatchNorm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for p in self.parameters():
            p.grad = None

    def to(self, *args: Any, device: Any = None, dtype: Any = None) -> Module:
        """Move parameters and buffers to ``device`` ("cpu", "cuda") and/or cast the
        floating-point ones to ``dtype`` ("float64" for gradient checks and PyTorch parity),
        in place, as PyTorch's ``model.to("cuda")``, ``model.to(float64)``; returns self.
        Gradients are dropped (an optimiser made before the move follows it on its next
        step)."""
        for a in args:
            if is_device_name(a):
                device = a
            else:
                dtype = a
        target = None if device is None else get_device(device)
        cast = None if dtype is None else np.dtype(dtype)
        for t in [*self.parameters(), *self.buffers()]:
            if target is not None and t.device is not target:
                t.data = target.to_device(to_host(t.data)) if target is not CPU else to_host(t.data)
                t.grad = None
            if cast is not None and t.data.dtype.kind == "f" and t.data.dtype != cast:
                t.data = t.data.astype(cast)
                t.grad = None
        return self

    def cuda(self) -> Module:
        return self.to("cuda")

    def cpu(self) -> Module:
        return self.to("cpu")

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    # ------------------------------------------------------------ state dict

    def _state_entries(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every saved tensor with its key, PyTorch's order: a module's parameters, then its
        buffers, then its children. Tied weights appear under each name, as in PyTorch."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                yield prefix + name, b
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_entries(f"{prefix}{name}.")

    def state_dict(self) -> dict[str, np.ndarray]:
        """``{"fc.weight": array, ...}``: host (NumPy) copies of every parameter and
        persistent buffer, wherever the model lives, so a checkpoint saves the same bytes
        from either device."""
        return {key: _host_copy(t.data) for key, t in self._state_entries()}

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or Tensors) from ``state`` into the parameters and buffers.

        All problems are reported at once: the missing keys and unexpected keys (errors
        when ``strict``) and every shape that differs (always an error). Values are cast
        to each parameter's dtype. Returns the missing and unexpected keys.
        """
        own = dict(self._state_entries())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        shapes = [
            f"{k}: state has {np.shape(_array(v))}, model has {own[k].data.shape}"
            for k, v in state.items()
            if k in own and np.shape(_array(v)) != own[k].data.shape
        ]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        if shapes:
            problems.append("shape mismatches:\n    " + "\n    ".join(shapes))
        if problems:
            raise ValueError(
                f"load_state_dict: the state does not fit {type(self).__name__}:\n  "
                + "\n  ".join(problems)
            )
        for key, value in state.items():
            if key in own:
                _copy_into(own[key], _array(value))
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ printing

    def extra_repr(self) -> str:
        """The text inside this module's parentheses (override it, as in PyTorch)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): {_addindent(repr(child), 2)}" for name, child in self.named_children()
        ]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"


def _as_buffer(value: Any) -> Any:
    if value is None or isinstance(value, Tensor):
        return value
    arr = np.asarray(value)
    return Tensor(arr, dtype=arr.dtype)


def _array(value: Any) -> np.ndarray:
    """A state entry as a host array (a Tensor's data copied off its device)."""
    return np.asarray(to_host(value.data) if isinstance(value, Tensor) else value)


def _host_copy(a: Any) -> np.ndarray:
    host = to_host(a)
    return host.copy() if host is a else host  # to_host copies off a device already


def _copy_into(t: Tensor, value: np.ndarray) -> None:
    """Host values into ``t``'s array in place (the optimiser holds that array)."""
    if t.device is CPU:
        np.copyto(t.data, value, casting="same_kind")
        return
    if not np.can_cast(value.dtype, t.data.dtype, casting="same_kind"):
        raise TypeError(f"load_state_dict: cannot cast {value.dtype} to {t.data.dtype}")
    t.data[...] = t.xp.asarray(value.astype(t.data.dtype, copy=False))


@contextmanager
def evaluating(model: Any) -> Iterator[None]:
    """Eval mode and ``no_grad`` for a block (evaluation, sampling, pictures): dropout off,
    BatchNorm on its running statistics, no graph recorded. The model's own mode comes
    back afterwards, even when the block raises.

    >>> with evaluating(model):
    ...     logits, _ = model(idx)
    """
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            yield
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
