"""einsum: Einstein summation, composed from permute, reshape, expand, sum and matmul.

``einsum("bij,bjk->bik", a, b)`` names every dim of every operand with a letter; letters
that appear in the output are kept, the others are summed over, and a letter shared by two
operands multiplies them entry by entry along that dim. Every such product is a batched
matrix product once the dims are sorted into four groups, and that is how it is computed:

* a letter repeated inside one operand (``"ii->i"``) takes the diagonal first;
* a letter only one operand has and nobody needs later is summed away at once;
* two operands at a time: the letters both have and that are still needed are the batch,
  those both have and nobody needs are contracted (the matmul's inner dim), the rest belong
  to one side. Permute each operand to (batch, own, contracted), reshape to three dims,
  matmul, reshape back;
* finally sum what the output does not keep and permute to the output's order.

``...`` stands for the dims no letter names (broadcasting across operands), and without
``->`` the output is the ``...`` dims, then the letters used once, in alphabetical order.
The gradient needs nothing new: the chain rule runs through the pieces.
"""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

from groundup.tensor.function import OpError
from groundup.tensor.tensor import Tensor

Labels = list[str]  # one label per dim: a letter, or "...0", "...1" for the ellipsis dims


def einsum(*args: Any) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``.

    Also takes the operands as one list (``einsum("ij,jk", [a, b])``) and the sublist form
    (``einsum(a, [0, 1], b, [1, 2], [0, 2])``).
    """
    equation, operands = _equation_and_operands(args)
    terms, output = _parse(equation, operands)
    needed = Counter(label for term in terms for label in term)  # uses left, per label
    sizes = _label_sizes(terms, operands)
    keep_at_end = set(output)
    pieces: list[tuple[Tensor, Labels]] = []
    for x, labels in zip(operands, terms, strict=True):
        x, labels = _take_diagonals(x, labels)
        pieces.append((x, labels))
    x, labels = pieces[0]
    needed.subtract(terms[0])
    for y, other in pieces[1:]:
        needed.subtract(other)
        later = {label for label, n in needed.items() if n > 0} | keep_at_end
        x, labels = _sum_unneeded(x, labels, later | set(other))
        y, other = _sum_unneeded(y, other, later | set(labels))
        x, labels = _contract(x, labels, y, other, later, sizes)
    x, labels = _sum_unneeded(x, labels, keep_at_end)
    return x.permute(*[labels.index(label) for label in output]) if output else x


# ---------------------------------------------------------------- parsing


def _equation_and_operands(args: tuple[Any, ...]) -> tuple[str, list[Tensor]]:
    if args and isinstance(args[0], str):
        equation, rest = args[0], list(args[1:])
        if len(rest) == 1 and isinstance(rest[0], (list, tuple)):
            rest = list(rest[0])
        return equation, [_as_tensor(t) for t in rest]
    # sublist form: operand, [dims], operand, [dims], ..., [output dims]
    operands, terms = list(args[0::2]), list(args[1::2])
    output = None
    if len(operands) > len(terms):  # an output sublist was given last
        output = operands.pop()
    equation = ",".join(_sublist(t) for t in terms)
    if output is not None:
        equation += "->" + _sublist(output)
    return equation, [_as_tensor(t) for t in operands]


def _sublist(dims: Any) -> str:
    letters = string.ascii_letters
    return "".join("..." if d is Ellipsis else letters[d] for d in dims)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _parse(equation: str, operands: list[Tensor]) -> tuple[list[Labels], Labels]:
    """Each operand's labels and the output's, with ``...`` spelled out per dim."""
    equation = equation.replace(" ", "")
    inputs, arrow, out = equation.partition("->")
    specs = inputs.split(",")
    if len(specs) != len(operands):
        raise OpError(f"einsum: {equation!r} names {len(specs)} operands, got {len(operands)}")
    terms = [_labels(spec, x.ndim, equation) for spec, x in zip(specs, operands, strict=True)]
    n_ellipsis = max((sum(lb.startswith("...") for lb in term) for term in terms), default=0)
    ellipsis = [f"...{n_ellipsis - 1 - i}" for i in range(n_ellipsis)]
    if arrow:
        output = _labels(out, n_ellipsis + len(out.replace("...", "")), equation)
    else:  # implicit: the ... dims, then the letters used once, alphabetically
        counts = Counter(lb for term in terms for lb in term if not lb.startswith("..."))
        output = ellipsis + sorted(lb for lb, n in counts.items() if n == 1)
    seen = {lb for term in terms for lb in term}
    for lb in output:
        if lb not in seen:
            raise OpError(f"einsum: output label {lb!r} of {equation!r} is in no operand")
    if len(set(output)) != len(output):
        raise OpError(f"einsum: the output of {equation!r} repeats a label")
    return terms, output


def _labels(spec: str, ndim: int, equation: str) -> Labels:
    """``"b...ij"`` for a 5-d operand -> ["b", "...1", "...0", "i", "j"]: the ellipsis dims
    are numbered from the right, so that they line up across operands as NumPy's
    broadcasting does."""
    head, dots, tail = spec.partition("...")
    for ch in head + tail:
        if ch not in string.ascii_letters:
            raise OpError(f"einsum: {ch!r} in {equation!r} is not a letter")
    n = ndim - len(head) - len(tail)
    if n < 0 or (n > 0 and not dots):
        raise OpError(f"einsum: {spec!r} in {equation!r} does not fit an operand of {ndim} dims")
    return list(head) + [f"...{n - 1 - i}" for i in range(n)] + list(tail)


def _label_sizes(terms: list[Labels], operands: list[Tensor]) -> dict[str, int]:
    """Each label's size; a label of size 1 in one operand broadcasts against the others."""
    sizes: dict[str, int] = {}
    for term, x in zip(terms, operands, strict=True):
        for label, n in zip(term, x.shape, strict=True):
            old = sizes.get(label)
            if old is None or old == 1:
                sizes[label] = n
            elif n not in (1, old):
                raise OpError(f"einsum: label {label!r} has sizes {old} and {n}")
    return sizes


# ---------------------------------------------------------------- the pieces


def _take_diagonals(x: Tensor, labels: Labels) -> tuple[Tensor, Labels]:
    """A label repeated in one operand ("ii") means its diagonal: take it (it moves last)."""
    labels = list(labels)
    while len(set(labels)) < len(labels):
        label = next(lb for lb in labels if labels.count(lb) > 1)
        first = labels.index(label)
        second = labels.index(label, first + 1)
        x = x.diagonal(0, first, second)
        labels = [lb for i, lb in enumerate(labels) if i not in (first, second)] + [label]
    return x, labels


def _sum_unneeded(x: Tensor, labels: Labels, needed: set[str]) -> tuple[Tensor, Labels]:
    """Sum over the dims whose label nothing needs any more."""
    gone = tuple(i for i, lb in enumerate(labels) if lb not in needed)
    if not gone:
        return x, labels
    return x.sum(dim=gone), [lb for lb in labels if lb in needed]


def _contract(
    x: Tensor, xl: Labels, y: Tensor, yl: Labels, later: set[str], sizes: dict[str, int]
) -> tuple[Tensor, Labels]:
    """Two operands as one batched matmul: (batch, x's own, inner) @ (batch, inner, y's own)."""
    batch = [lb for lb in xl if lb in yl and lb in later]
    inner = [lb for lb in xl if lb in yl and lb not in later]
    left = [lb for lb in xl if lb not in yl]
    right = [lb for lb in yl if lb not in xl]

    def grouped(t: Tensor, labels: Labels, order: Labels) -> Tensor:
        t = t.permute(*[labels.index(lb) for lb in order]) if order else t
        full = [sizes[lb] for lb in order]
        return t.expand(*full) if list(t.shape) != full else t  # size-1 dims broadcast

    def size(group: Labels) -> int:
        n = 1
        for lb in group:
            n *= sizes[lb]
        return n

    B, L, K, R = size(batch), size(left), size(inner), size(right)
    a = grouped(x, xl, batch + left + inner).reshape(B, L, K)
    b = grouped(y, yl, batch + inner + right).reshape(B, K, R)
    out = (a @ b).reshape(*[sizes[lb] for lb in batch + left + right])  # (B, L, R) -> dims
    return out, batch + left + right
