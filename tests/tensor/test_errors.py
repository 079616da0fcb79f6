"""Every argument the tensor engine refuses at its edges (the constructor, creation,
conversion, clamp/expand and friends), as one table: the exception type and the argument the
one-line message must name, not its exact wording (issue 14).

Errors that say more than "refused" stay where they are: the shapes of a failed matmul or
broadcast (test_tensor.py), PyTorch's own wording for the window and index ops
and the errors that sit with their ops' known answers (test_windows.py,
test_ops_issue16.py), and the error parity with torch (tests/reference)."""

from __future__ import annotations

from error_table import refusal_test

import groundup
from groundup import Tensor


def x() -> Tensor:
    return groundup.ones(2, 1)


def v() -> Tensor:
    return Tensor([3.0, 1.0, 2.0])


CASES = [
    # (id, a call that must fail, the exception, what its message must name)
    ("tensor-int-requires_grad", lambda: Tensor([1, 2], requires_grad=True), TypeError,
     "requires_grad"),
    ("tensor-int-requires_grad_", lambda: Tensor([1, 2]).requires_grad_(), TypeError,
     "requires_grad"),
    ("item-of-many", lambda: groundup.zeros(2, 3).item(), ValueError, "item"),
    ("backward-of-non-scalar", lambda: (Tensor([1.0, 2.0], requires_grad=True) * 2).backward(),
     RuntimeError, "one element"),
    ("backward-without-graph", lambda: Tensor([1.0]).sum().backward(), RuntimeError,
     "does not require grad"),
    ("pow-tensor-exponent", lambda: Tensor([1.0]) ** Tensor([2.0]), TypeError, "exponent"),
    ("clamp-no-bound", lambda: x().clamp(), ValueError, "min and max"),
    ("clamp-max-a-str", lambda: x().clamp(0, "a"), TypeError, "max"),
    ("clamp-min-a-str", lambda: x().clamp("a"), TypeError, "min"),
    ("expand-wrong-size", lambda: x().expand(3, 4), ValueError, "expand"),
    ("expand-fewer-dims", lambda: x().expand(2), ValueError, "fewer dimensions"),
    ("expand-new-dim-minus-one", lambda: x().expand(-1, 2, 3), ValueError, "-1"),
    # an empty list said "shapes  differ", a bad dim gave a bare IndexError from NumPy
    ("cat-empty", lambda: groundup.cat([]), ValueError, "cat"),
    ("stack-empty", lambda: groundup.stack([]), ValueError, "stack"),
    ("cat-dim", lambda: groundup.cat([groundup.zeros(2)], dim=1), IndexError, "dim 1"),
    ("stack-dim", lambda: groundup.stack([groundup.zeros(2)], dim=3), IndexError, "dim 3"),
    ("cat-not-a-tensor", lambda: groundup.cat([groundup.zeros(2), [1.0, 2.0]]), TypeError,
     "position 1"),
    ("cat-0d", lambda: groundup.cat([groundup.zeros(())]), ValueError, "0-d"),
    ("roll-shifts-without-dims", lambda: x().roll((1, 1)), ValueError, "dims"),
    ("diag-of-3d", lambda: groundup.zeros(2, 2, 2).diag(), ValueError, "diag"),
    ("trace-of-vector", lambda: v().trace(), ValueError, "trace"),
]  # fmt: skip


test_refused_naming_the_argument = refusal_test(CASES)
