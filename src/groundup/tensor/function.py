"""The graph of the tensor engine: grad mode, the ``Function`` node, and the backward pass.

Every op on Tensors is a :class:`Function`: ``forward`` computes the output array and keeps
what the derivative will need; ``backward`` turns the output's gradient into each input's
(the chain rule, one op at a time). The output Tensor points at its Function (``_ctx``), and
the Function at its inputs (``parents``), so a computation is a graph that
:func:`run_backward` walks from the loss back to the leaves, in reverse topological order:
stage 1's ``Value.backward()``, on arrays.

The rest of this module is bookkeeping that makes that loop cheap and safe: a node's
gradient array is adopted instead of copied when no one else holds it, added into in place
only when it is ours alone, and the gradient of a slice is added into its slice of the
parent's gradient. Leaves (the parameters) may be shared by backward passes that run at
once on threads (:mod:`groundup.train.shards`): their gradients are added under a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy

from groundup.tensor.backend import _BY_ARRAY_TYPE, array_module, device_of

if TYPE_CHECKING:
    from groundup.tensor.tensor import Tensor

# ---------------------------------------------------------------- grad mode

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether new ops record the graph (False inside ``with no_grad():``)."""
    return _grad_enabled


class no_grad:
    """Context manager (and decorator) that stops recording the graph.

    Inside it ops are plain NumPy computations: no ``Function`` is kept and outputs have
    ``requires_grad=False``. Use it for evaluation, sampling and optimizer updates.

    >>> with no_grad():
    ...     y = x * 2          # y.requires_grad is False
    """

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


# ---------------------------------------------------------------- Function


class OpError(ValueError, RuntimeError):
    """An op refused its inputs (shapes that do not fit, a bad argument): the ValueError we
    document, and the RuntimeError PyTorch raises for the same mistake."""


class DimError(IndexError, ValueError):
    """A dim out of range: PyTorch's IndexError, and the ValueError of our other shape
    errors."""


class DtypeError(TypeError, NotImplementedError):
    """An op that has no meaning for this dtype (softmax or layer_norm of ints): the
    TypeError we document, and the NotImplementedError PyTorch raises (it has no kernel)."""


class Function:
    """One node of the graph: an op's forward and backward, side by side.

    A subclass writes ``forward(self, *arrays, **params) -> array`` (saving on ``self``
    what backward needs) and ``backward(self, grad) -> tuple`` (one gradient per input, or
    None for an input that needs none). ``Op.apply(*tensors, **params)`` runs forward and,
    when any input requires grad, links the output into the graph.
    """

    parents: tuple[Tensor, ...] | None = None  # None once backward has released the node

    def forward(self, *args: Any, **params: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    xp: Any  # the array module of the inputs (NumPy, CuPy), set by apply for both passes

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        ctx = cls()
        arrays = [t.data for t in inputs]
        # the inputs' device gives the op its array module; all inputs must share it
        device = _BY_ARRAY_TYPE.get(type(arrays[0])) or device_of(arrays[0])
        for a in arrays:
            if type(a) is not device.array_type and device_of(a) is not device:
                raise RuntimeError(ctx.device_error(arrays))
        xp = ctx.xp = device.xp
        try:
            data = ctx.forward(*arrays, **params)
        except ValueError as e:  # numpy's shape errors, reworded to name the op and shapes
            message = ctx.shape_error([t.shape for t in inputs], e)
            if isinstance(e, IndexError):  # a dim out of range: IndexError, as in PyTorch
                raise DimError(message) from None
            raise OpError(message) from None
        if type(data) is not device.array_type and type(data) not in _BY_ARRAY_TYPE:
            data = xp.asarray(data)  # NumPy reduces a 0-d result to a scalar
        out = object.__new__(type(inputs[0]))  # a Tensor, like the inputs (no import needed)
        out.data = data
        out.grad = None
        out._retain = False
        if _grad_enabled:
            for t in inputs:
                if t.requires_grad:
                    ctx.parents = inputs
                    out.requires_grad = True
                    out._ctx = ctx
                    return out
        out.requires_grad = False
        out._ctx = None
        return out

    def shape_error(self, shapes: list[tuple[int, ...]], error: Exception) -> str:
        joined = " and ".join(str(s) for s in shapes)
        return f"{type(self).__name__.lower()}: shapes {joined}: {error}"

    def device_error(self, arrays: list[Any]) -> str:
        devices = sorted({str(device_of(a)) for a in arrays})
        return (
            f"{type(self).__name__.lower()}: expected all tensors on one device, found "
            f"{' and '.join(devices)}; move them with .to(device) first"
        )

    def release(self) -> None:
        """Drop saved arrays and the links to the inputs (backward's ``retain_graph=False``)."""
        vars(self).clear()


# ---------------------------------------------------------------- the backward pass


_LEAVES = threading.Lock()  # held while a gradient is added into a leaf's


def run_backward(root: Any, grad: Any, retain_graph: bool = False) -> None:
    """Backpropagate ``grad`` from ``root``: each node, after every node that consumed it,
    turns its gradient into its inputs' gradients (its ``Function.backward``), and those are
    added into the inputs' ``.grad``. What :meth:`Tensor.backward` runs once it has checked
    ``grad``."""
    owned: set[int] = set()  # ids of tensors whose .grad array is ours alone (safe to +=)
    unfilled: dict[int, tuple[Any, set[int]]] = {}  # see SliceGrad
    with _LEAVES:
        _accumulate(root, grad, owned, fresh=False)
    try:
        for t in _topological_order(root):
            if unfilled and id(t) in unfilled:  # every slice of it is in: zero the rest
                _fill(*unfilled.pop(id(t)))
            ctx = t._ctx
            grads = ctx.backward(t.grad)  # type: ignore[union-attr]
            for parent, g in zip(ctx.parents, grads, strict=True):  # type: ignore[union-attr, arg-type]
                if g is not None and parent.requires_grad:
                    fresh = not retain_graph and _is_fresh(g, t.grad, grads)
                    if parent._ctx is None:  # a leaf, which another thread's backward may share
                        with _LEAVES:
                            _accumulate(parent, g, owned, fresh)
                    else:
                        _accumulate(parent, g, owned, fresh, unfilled)
            if not retain_graph:
                ctx.release()  # type: ignore[union-attr]
            if not t._retain:
                t.grad = None  # a non-leaf's gradient is done with (PyTorch frees it too)
    finally:  # leaves, and whatever an error left: no gradient keeps unwritten memory
        for entry in unfilled.values():
            _fill(*entry)


def _topological_order(root: Any) -> list[Any]:
    """Non-leaf tensors from ``root`` back to the leaves, each after all its consumers.

    Iterative depth-first search (a recursive one overflows on a 100,000-op chain).
    """
    order: list[Any] = []
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        t, children_done = stack.pop()
        if children_done:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        ctx = t._ctx
        if ctx is None:
            continue
        if ctx.parents is None:
            raise RuntimeError(
                f"backward: the graph through {type(ctx).__name__} was already freed by an "
                "earlier backward(); call backward(retain_graph=True) the first time to "
                "backpropagate twice"
            )
        stack.append((t, True))
        for p in ctx.parents:
            if p.requires_grad and p._ctx is not None and id(p) not in visited:
                stack.append((p, False))
    order.reverse()
    return order


class SliceGrad:
    """The gradient of ``t[index]`` (a basic index), for the engine to add into ``t.grad``.

    ``q, k, v = qkv[0], qkv[1], qkv[2]`` would otherwise give three full-size gradients,
    mostly zeros, and two full-size additions; this way each slice is added where it belongs,
    into one gradient laid out as ``t``'s data: when ``t`` is a permuted view (a model's
    heads), undoing the permute and the reshape before it gives views of it, not copies.
    Slices that are rows of the first axis (an int index, as q, k and v are) are copied into
    an empty array, not added into zeros: one pass over the gradient instead of three. The
    rows no slice wrote are zeroed before anything else adds in, or before ``t``'s own
    backward runs. Not a leaf's: a leaf's gradient may be shared with a backward on another
    thread, which cannot know which rows this one has yet to write, so it starts as zeros.
    """

    __slots__ = ("index", "grad")

    def __init__(self, index: Any, grad: Any) -> None:
        self.index, self.grad = index, grad


def _is_fresh(g: Any, incoming: Any, grads: tuple[Any, ...]) -> bool:
    """Whether backward made ``g`` just now for this one input, so it may be adopted as is.

    Not a view (``g.base``), not the gradient that came in (``Add`` passes it on to both
    inputs), not returned twice. Adopting saves a copy per leaf and an allocation per sum.
    """
    if type(g) is SliceGrad or g.base is not None or g is incoming:
        return False
    return len(grads) == 1 or sum(x is g for x in grads) == 1


_FEW_ROWS = 64  # a tensor with more rows takes the zero-filled gradient (a set per row costs)


def _fill(t: Any, rows: set[int]) -> None:
    """Zero the rows of ``t.grad`` that no slice wrote."""
    if rows:
        t.grad[sorted(rows)] = 0


def _accumulate(
    t: Any, g: Any, owned: set[int], fresh: bool, unfilled: dict[int, Any] | None = None
) -> None:
    """Add ``g`` into ``t.grad``; in place once we own the array, never into a shared one."""
    few = type(g) is SliceGrad and type(g.index) is int and len(t.data) <= _FEW_ROWS
    if few and unfilled is not None:
        if t.grad is None:  # rows of the first axis: each copied in, the others zeroed later
            t.grad = array_module(g.grad).empty_like(t.data)  # laid out as the data is
            unfilled[id(t)] = (t, set(range(len(t.data))))
            owned.add(id(t))
        entry, row = unfilled.get(id(t)), g.index % len(t.data)
        if entry is not None and row in entry[1]:  # not written yet
            entry[1].discard(row)
            t.grad[row] = g.grad
            return
    if unfilled and id(t) in unfilled:  # anything else adds in: zero the unwritten rows first
        _fill(*unfilled.pop(id(t)))
    if type(g) is SliceGrad:
        if t.grad is None:
            t.grad = array_module(g.grad).zeros_like(t.data)  # laid out as the data is
            t.grad[g.index] = g.grad
            owned.add(id(t))
            return
        if id(t) not in owned and t._ctx is not None:
            t.grad = t.grad.copy()
            owned.add(id(t))
        t.grad[g.index] += g.grad
        return
    if g.shape != t.data.shape:
        raise RuntimeError(
            f"backward of {t.op or 'a leaf'}: gradient shape {g.shape} does not match the "
            f"tensor's shape {t.data.shape} (a bug in an op's backward)"
        )
    if t.grad is None:
        if fresh and g.dtype == t.data.dtype and _writeable(g):
            t.grad = g
            owned.add(id(t))
        elif t._ctx is None:  # a leaf keeps its own writable copy (optimizers update it)
            t.grad = array_module(g).array(g, dtype=t.data.dtype)
            owned.add(id(t))
        else:  # an interior gradient may alias another; it is read, never written
            t.grad = g
    elif id(t) in owned or t._ctx is None:
        t.grad += g
    elif fresh and g.dtype == t.grad.dtype and _writeable(g):  # the sum in g, made for us
        g += t.grad
        t.grad = g
        owned.add(id(t))
    else:
        t.grad = t.grad + g
        owned.add(id(t))


def _writeable(a: Any) -> bool:
    """NumPy marks broadcast views read-only; CuPy has no read-only arrays (nor the flag)."""
    return bool(a.flags.writeable) if isinstance(a, numpy.ndarray) else True
