"""Optimisers: turn gradients into parameter updates.

Every optimiser here works on anything with a ``.data`` array and a ``.grad`` array (or
``None``), so it updates :class:`groundup.nn.Parameter` objects in place. The update rules
follow ``torch.optim`` line by line (same order of operations), so 20 steps of ours and of
PyTorch's land on the same weights to float64 rounding:

* SGD:   ``g = grad + wd * p``; ``buf = momentum * buf + (1 - dampening) g``;
  ``p -= lr * buf`` (Nesterov: ``p -= lr * (g + momentum * buf)``)
* Adam:  ``g = grad + wd * p``; ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
  ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`` (AMSGrad: the largest
  ``v`` so far instead of ``v``)
* AdamW: as Adam without ``wd`` in ``g``; instead the decay is decoupled:
  ``p *= 1 - lr * wd`` before the Adam step (Loshchilov & Hutter, 2019).

Parameters come as an iterable of parameters or as a list of *groups*, dicts with a
``"params"`` list and any per-group overrides, so that biases, norms and embeddings can skip
weight decay::

    AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}])
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from groundup.nn.fused import kernels_for
from groundup.tensor.backend import array_module, device_of, to_host


def _is_tensor(x: Any) -> bool:
    return hasattr(x, "data") and hasattr(x, "grad")


def _is_array(v: Any) -> bool:
    return hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, np.generic)


def _host_copy(a: Any) -> np.ndarray:
    host = to_host(a)
    return host.copy() if host is a else host  # to_host copies off a device already


def _follow(data: Any, state: dict[str, Any]) -> None:
    """Move a parameter's state arrays to its device, if the model moved (``model.to``)
    after the optimiser was made: the state follows the model."""
    for k, v in state.items():
        if type(v) is not type(data) and _is_array(v):  # the cheap test first: every step
            device = device_of(data)
            state[k] = device.to_device(to_host(v)) if device.type != "cpu" else to_host(v)


class Optimizer:
    """Base class: parameter groups, per-parameter state and (de)serialisation.

    Subclasses set ``defaults`` (the hyper-parameters, each group may override them) and
    implement :meth:`_update` for one parameter.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        if _is_tensor(params):  # iterating a tensor walks its rows: refuse, like PyTorch
            raise TypeError(
                "params must be an iterable of parameters or group dicts, got a single "
                "tensor; wrap it in a list: [param]"
            )
        params = list(params)
        if not params:
            raise ValueError("params must hold at least one parameter or group, got none")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        self.param_groups: list[dict[str, Any]] = []
        seen: set[int] = set()
        for i, group in enumerate(params):
            if not isinstance(group, dict) or "params" not in group:
                raise TypeError(f"param group {i} must be a dict with a 'params' list")
            ps = group["params"]
            ps = [ps] if _is_tensor(ps) else list(ps)
            group = {**self.defaults, **group, "params": ps}
            for p in group["params"]:
                if id(p) in seen:
                    raise ValueError(f"param group {i}: a parameter appears in two groups")
                if not hasattr(p, "data") or not hasattr(p, "grad"):
                    raise TypeError(f"param group {i}: expected parameters, got {type(p)}")
                seen.add(id(p))
            self.param_groups.append(group)
        # per-parameter state (momentum buffers, moments, step counts), keyed by parameter id
        self.state: dict[int, dict[str, Any]] = {}

    def _params(self) -> list[Any]:
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self) -> None:
        """Forget all gradients (set them to None, PyTorch's default)."""
        for p in self._params():
            p.grad = None

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(id(p), {})
                _follow(p.data, state)
                self._update(p, p.grad, state, group)

    def _update(self, p: Any, grad: np.ndarray, state: dict[str, Any], group: dict) -> None:
        raise NotImplementedError

    # ---------------------------------------------------------------- serialisation

    def state_dict(self) -> dict[str, Any]:
        """A copy of the optimiser's state in PyTorch's layout.

        ``{"state": {index: {"exp_avg": array, "step": int, ...}}, "param_groups": [{"lr":
        ..., "params": [index, ...]}, ...]}``, parameters numbered in group order.
        """
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {
            index[pid]: {k: (_host_copy(v) if _is_array(v) else v) for k, v in s.items()}
            for pid, s in self.state.items()
            if pid in index
        }
        groups = []
        for group in self.param_groups:
            g = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            g["params"] = [index[id(p)] for p in group["params"]]
            groups.append(g)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state saved by :meth:`state_dict` (same parameters, same groups)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"optimizer state has {len(groups)} param groups, this optimizer has "
                f"{len(self.param_groups)}"
            )
        params = self._params()
        for i, (saved, group) in enumerate(zip(groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"optimizer state: param group {i} has {len(saved['params'])} parameters, "
                    f"this optimizer's has {len(group['params'])}"
                )
        new_state: dict[int, dict[str, Any]] = {}
        for key, s in state_dict["state"].items():
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(f"optimizer state: parameter index {i} out of range")
            p = params[i]
            entry = {}
            for k, v in s.items():
                if isinstance(v, np.ndarray) and v.shape != tuple(p.data.shape):
                    raise ValueError(
                        f"optimizer state: {k} of parameter {i} has shape {v.shape}, "
                        f"the parameter has shape {tuple(p.data.shape)}"
                    )
                # onto the parameter's device (a copy: the saved dict stays the caller's)
                entry[k] = array_module(p.data).array(v) if isinstance(v, np.ndarray) else v
            new_state[id(p)] = entry
        for saved, group in zip(groups, self.param_groups, strict=True):
            group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _check(name: str, value: float, low: float = 0.0) -> None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)  # NumPy numbers too
    if not (ok and value >= low):
        raise ValueError(f"{name} must be a number >= {low}, got {value!r}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, (L2) weight decay and Nesterov
    momentum, as ``torch.optim.SGD``: the first momentum buffer is the gradient itself, not
    ``(1 - momentum) * grad``; later ones add ``(1 - dampening) * grad``. Nesterov looks
    ahead: the step is ``grad + momentum * buf``. ``maximize`` climbs instead.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check("lr", lr)
        _check("momentum", momentum)
        _check("dampening", dampening)
        _check("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(self, p: Any, grad: np.ndarray, state: dict[str, Any], group: dict) -> None:
        if group.get("maximize"):
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p.data
        momentum = group["momentum"]
        if momentum != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.copy()
            else:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += (1 - group.get("dampening", 0.0)) * grad
            buf = state["momentum_buffer"]
            grad = grad + momentum * buf if group.get("nesterov") else buf
        p.data -= group["lr"] * grad


def _kernels_for(p: Any, grad: Any, state: dict[str, Any]) -> Any:
    """The compiled kernels, when p, its gradient and moments are C-ordered NumPy arrays
    of one float dtype (what Adam's one-loop kernel takes); else None."""
    dtype = p.dtype
    for a in (p, grad, state["exp_avg"], state["exp_avg_sq"]):
        if type(a) is not np.ndarray or not a.flags.c_contiguous or a.dtype != dtype:
            return None
    return kernels_for(p)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction; ``weight_decay`` is L2 added to the
    gradient, like ``torch.optim.Adam`` (see :class:`AdamW` for the decoupled kind)."""

    decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check("lr", lr)
        _check("eps", eps)
        _check("weight_decay", weight_decay)
        pair = isinstance(betas, tuple | list) and len(betas) == 2
        if not (pair and all(isinstance(b, numbers.Real) and 0.0 <= b < 1.0 for b in betas)):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize}  # fmt: skip
        super().__init__(params, defaults)
        self._consts: dict[tuple, np.ndarray] = {}  # the kernel's constants of this step

    def _update(self, p: Any, grad: np.ndarray, state: dict[str, Any], group: dict) -> None:
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        amsgrad = group.get("amsgrad", False)
        if not state:
            state["step"] = 0
            xp = array_module(p.data)  # the moments live where the parameter does
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
            if amsgrad:
                state["max_exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        if not amsgrad and (k := _kernels_for(p.data, grad, state)):  # one loop, same formula
            # the constants are the group's at step t: made once a step for all its params
            key = (id(group), t, p.data.dtype, lr, wd, eps, beta1, beta2, group.get("maximize"))
            if (const := self._consts.get(key)) is None:
                sign = -1.0 if group.get("maximize") else 1.0
                l2, keep = (0.0, 1 - lr * wd) if self.decoupled else (wd, 1.0)
                const = np.array([sign, l2, keep, 1 - beta1, beta2, 1 - beta2,
                                  1 / math.sqrt(1 - beta2**t), eps, lr / (1 - beta1**t)],
                                 dtype=p.data.dtype)  # fmt: skip
                self._consts = {key: const}  # one entry: params of a group share a step
            k.adam_update(p.data.ravel(), grad.ravel(), state["exp_avg"].ravel(),
                          state["exp_avg_sq"].ravel(), const)  # C-ordered: views  # fmt: skip
            return
        if group.get("maximize"):
            grad = -grad
        if wd != 0:
            if self.decoupled:
                p.data *= 1 - lr * wd  # decay the weights, not the gradient
            else:
                grad = grad + wd * p.data
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (grad - m) * (1 - beta1)  # m = b1 m + (1 - b1) g, written as torch's lerp
        v *= beta2
        v += (1 - beta2) * grad * grad
        # bias correction: m and v start at 0, so early averages are too small by 1 - b^t
        step_size = lr / (1 - beta1**t)
        if amsgrad:  # AMSGrad: never let the second moment shrink, so steps never grow
            array_module(v).maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = array_module(v).sqrt(v) / math.sqrt(1 - beta2**t) + eps
        p.data -= step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` every step."""

    decoupled = True

    # Adam's arguments, with weight_decay 0.01 (torch's AdamW default)
    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:  # fmt: skip
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)  # fmt: skip
