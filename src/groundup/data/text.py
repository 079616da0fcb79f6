"""Text data for stage 4: one long string, turned into a stream of token ids.

A character-level GPT reads a text file as one long sequence. Training batches are
random windows of ``block_size + 1`` tokens: the first ``block_size`` are the input,
the same window shifted by one are the targets (every position predicts the next).
The first 90% of the stream trains, the last 10% validates (nanoGPT's split: a
contiguous tail, so validation text is never seen inside a training window).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from groundup.data.shipped import TEXT_SOURCES, read_text_file, shipped_file


def resolve_text_path(source: str | Path) -> Path:
    """The file behind a text source: a shipped data set ("shakespeare") or a path.

    Raises FileNotFoundError naming the source when it is neither.
    """
    if isinstance(source, str) and source in TEXT_SOURCES:
        return shipped_file(TEXT_SOURCES[source])
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(
            f"source={str(source)!r}: no such text file (expected 'shakespeare' or a path "
            "to a UTF-8 text file)"
        )
    return path


def load_text(source: str | Path = "shakespeare") -> str:
    """Read a text corpus: ``"shakespeare"`` (tinyshakespeare, shipped with the package,
    1,115,394 characters) or the path of a UTF-8 text file.

    >>> load_text("shakespeare")[:14]
    'First Citizen:'
    """
    text = read_text_file(resolve_text_path(source))
    if not text:
        raise ValueError(f"source={str(source)!r}: the text file is empty")
    return text


def split_tokens(ids, train_fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Split a token stream into a training head and a validation tail.

    ``split_tokens([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) -> ([1..9], [10])``
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    data = np.asarray(ids, dtype=np.int64)
    if data.ndim != 1:
        raise ValueError(f"ids must be a 1-D token stream, got shape {data.shape}")
    n = int(train_fraction * len(data))
    return data[:n], data[n:]


def get_batch(
    data: np.ndarray, batch_size: int, block_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random windows of a token stream: inputs x and next-token targets y, both (B, T).

    With data = [0, 1, 2, 3, 4] and a window starting at 1 (block_size 3):
    x = [1, 2, 3], y = [2, 3, 4].
    """
    if block_size < 1:
        raise ValueError(f"block_size must be a positive int, got {block_size}")
    if len(data) <= block_size:
        raise ValueError(
            f"data: {len(data)} tokens are too few for block_size {block_size} "
            f"(need at least {block_size + 1})"
        )
    starts = rng.integers(0, len(data) - block_size, size=batch_size)
    offsets = starts[:, None] + np.arange(block_size + 1)  # (B, T + 1)
    window = data[offsets]
    return window[:, :-1], window[:, 1:]
