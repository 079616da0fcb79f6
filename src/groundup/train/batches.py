"""Where training batches come from: ``batches.get(split, step) -> (X, Y)``.

The protocol the training loop (and every stage) relies on:

* ``get(split, step) -> (X, Y)``: the batch of ``split`` ("train", "val", "test") for
  ``step``. It must be a pure function of ``(seed, split, step)``: no hidden cursor. This
  is what makes a resumed run exact (step 1000 after a resume draws what step 1000 of the
  uninterrupted run drew) and evaluations comparable (``evaluate`` uses the same
  ``get("val", 0..n-1)`` batches every time).
* ``splits``: the split names it knows (the loop evaluates only when "val" is among them).
* optionally ``iter_split(split)``: yields ``(X, Y)`` chunks covering the whole split once,
  in order, for exact full-split losses (``evaluate(model, batches, num_batches=None)``).

Three implementations:

* :class:`ArrayBatches`: rows of ``(X, Y)`` arrays, drawn with replacement (makemore's
  ``ix = randint(0, len(X), (batch_size,))``). Stages 2-3: bigram ``X`` (N,), MLP ``X``
  (N, block_size).
* :class:`TokenBatches`: random windows of a 1-D token stream (nanoGPT's ``get_batch``):
  ``X`` and ``Y`` (B, T), ``Y`` shifted by one. Stage 4.
* :class:`FullBatches`: every step sees the whole split (full-batch gradient descent, the
  stage 2 bigram).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np

from groundup._check import positive_int


class Batches(Protocol):
    """What ``train`` and ``evaluate`` need from a data source."""

    splits: tuple[str, ...]

    def get(self, split: str, step: int) -> tuple[Any, Any]: ...


class _SeededBatches:
    """Shared part: the split table, the seed and one generator per (split, step)."""

    def __init__(self, data: dict[str, Any], batch_size: int, seed: int) -> None:
        batch_size = positive_int(batch_size, "batch_size")
        if not data:
            raise ValueError("data must name at least one split, e.g. {'train': ...}")
        self.data = data
        self.batch_size = batch_size
        self.seed = int(seed)
        self.splits = tuple(data)

    def _split(self, split: str) -> Any:
        if split not in self.data:
            raise ValueError(f"split must be one of {list(self.splits)}, got {split!r}")
        return self.data[split]

    def rng(self, split: str, step: int) -> np.random.Generator:
        """The generator of batch ``step`` of ``split``: seeded by (seed, split, step) alone."""
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        return np.random.default_rng([self.seed, zlib.crc32(split.encode()), int(step)])


class ArrayBatches(_SeededBatches):
    """Random rows of in-memory arrays.

    Args:
        data: ``{"train": (X, Y), "val": (X, Y), ...}``, X and Y with equal first dims.
        batch_size: rows per batch.
        seed: the data seed; with ``step`` it fixes every batch.
        chunk_size: rows per chunk of ``iter_split`` (full-split evaluation); None: batch_size.

    >>> b = ArrayBatches({"train": (np.arange(10), np.arange(10) + 1)}, batch_size=4)
    >>> x, y = b.get("train", 0); bool((y == x + 1).all())
    True
    """

    def __init__(
        self,
        data: dict[str, tuple[Any, Any]],
        batch_size: int,
        seed: int = 0,
        chunk_size: int | None = None,
    ) -> None:
        for name, pair in data.items():
            if len(pair) != 2 or len(pair[0]) != len(pair[1]) or len(pair[0]) == 0:
                raise ValueError(f"data[{name!r}] must be a pair (X, Y) of equal non-zero lengths")
        if chunk_size is not None:
            chunk_size = positive_int(chunk_size, "chunk_size")
        super().__init__(data, batch_size, seed)
        self.chunk_size = chunk_size or batch_size

    def get(self, split: str, step: int) -> tuple[np.ndarray, np.ndarray]:
        X, Y = self._split(split)
        ix = self.rng(split, step).integers(0, len(X), size=self.batch_size)
        return X[ix], Y[ix]

    def iter_split(self, split: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        X, Y = self._split(split)
        for i in range(0, len(X), self.chunk_size):
            yield X[i : i + self.chunk_size], Y[i : i + self.chunk_size]


class TokenBatches(_SeededBatches):
    """Random windows of token streams: ``X`` = ``data[i : i + T]``, ``Y`` = ``data[i + 1 :
    i + T + 1]`` (every position predicts the next token).

    Args:
        data: ``{"train": 1-D int array, "val": 1-D int array}``.
        batch_size: windows per batch (B).
        block_size: window length (T), the model's context.
        seed: the data seed.
    """

    def __init__(
        self, data: dict[str, Any], batch_size: int, block_size: int, seed: int = 0
    ) -> None:
        block_size = positive_int(block_size, "block_size")
        arrays = {k: np.asarray(v, dtype=np.int64) for k, v in data.items()}
        for name, ids in arrays.items():
            if ids.ndim != 1 or len(ids) <= block_size:
                raise ValueError(
                    f"data[{name!r}] must be a 1-D token stream longer than block_size "
                    f"{block_size}, got shape {ids.shape}"
                )
        super().__init__(arrays, batch_size, seed)
        self.block_size = block_size

    def get(self, split: str, step: int) -> tuple[np.ndarray, np.ndarray]:
        from groundup.data.text import get_batch

        data = self._split(split)
        return get_batch(data, self.batch_size, self.block_size, self.rng(split, step))

    def iter_split(self, split: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Consecutive non-overlapping windows covering the split (the last partial one
        is dropped), ``batch_size`` windows at a time."""
        data, T = self._split(split), self.block_size
        starts = np.arange(0, len(data) - T, T)
        for i in range(0, len(starts), self.batch_size):
            offsets = starts[i : i + self.batch_size, None] + np.arange(T + 1)  # (B, T + 1)
            window = data[offsets]
            yield window[:, :-1], window[:, 1:]


class FullBatches:
    """Every step sees the whole split: full-batch gradient descent (stage 2's bigram)."""

    def __init__(self, data: dict[str, tuple[Any, Any]]) -> None:
        self.data, self.splits = data, tuple(data)

    def get(self, split: str, step: int) -> tuple[Any, Any]:
        return self.data[split]

    def iter_split(self, split: str) -> Iterator[tuple[Any, Any]]:
        yield self.data[split]
