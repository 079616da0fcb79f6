"""Words, one per line: the data of the character language models (stages 2-4).

* :func:`load_words` reads a list of words: ``"names"`` (makemore's 32,033 names, shipped
  with the package, so everything works offline) or any UTF-8 text file, one item a line.
* :func:`split_words` makes the deterministic 80/10/10 train/dev/test split, by word.
* :func:`build_dataset` turns words into the (X, Y) arrays of "context -> next character",
  makemore's way: every word is padded with the boundary token ``.`` (id 0), so
  ``emma`` with ``block_size=3`` gives ``... -> e``, ``..e -> m``, ``.em -> m``,
  ``emm -> a``, ``mma -> .``.
"""

from __future__ import annotations

import numbers
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from groundup._check import generator
from groundup.data.shipped import WORD_SOURCES, read_bytes, shipped_file


def _file_words(path: Path) -> list[str]:
    """Lines of a UTF-8 file, stripped; empty lines are skipped, anything unusable raises."""
    if path.is_dir():
        raise FileNotFoundError(  # the CLI reports FileNotFoundError as a one-line error
            f"load_words: source {str(path)!r} is a folder; expected a UTF-8 text file with "
            "one item per line (or 'names')"
        )
    if not path.is_file():
        raise FileNotFoundError(
            f"load_words: source {str(path)!r} is neither 'names' nor an existing file"
        )
    words = []
    for lineno, raw in enumerate(read_bytes(path).splitlines(), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(
                f"load_words: {path}, line {lineno}: bytes {raw[err.start : err.end]!r} at column "
                f"{err.start + 1} are not valid UTF-8; save the file as UTF-8"
            ) from None
        if lineno == 1:
            line = line.removeprefix("\ufeff")  # a byte-order mark is not part of the word
        if not line:
            continue  # empty lines (e.g. a trailing one) separate nothing
        word = line.strip()
        if not word:
            raise ValueError(
                f"load_words: {path}, line {lineno}: {line!r} has no usable characters "
                "(only whitespace); expected one item per line"
            )
        if not word.isprintable():
            bad = next(c for c in word if not c.isprintable())
            raise ValueError(
                f"load_words: {path}, line {lineno}: {word!r} contains the control character "
                f"{bad!r}; expected printable text, one item per line"
            )
        if "." in word:
            raise ValueError(
                f"load_words: {path}, line {lineno}: {word!r} contains '.', which is reserved "
                "for the word boundary token"
            )
        words.append(word)
    if not words:
        raise ValueError(f"load_words: {path} is empty; expected one item per line")
    return words


def load_words(source: str | os.PathLike[str] = "names") -> list[str]:
    """Read a list of words.

    Args:
        source: ``"names"`` - makemore's names.txt, 32,033 lowercase first names, shipped
            with the package (no download needed); anything else - the path of a UTF-8
            text file with one item per line (empty lines are skipped).

    Returns:
        The words, in file order.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the file is empty, is not UTF-8 (naming the line), or a line has no usable
            characters or contains the boundary token ``.``.
    """
    if isinstance(source, str) and source in WORD_SOURCES:
        return _file_words(shipped_file(WORD_SOURCES[source]))
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"load_words: source must be 'names' or a path, got {type(source)}")
    return _file_words(Path(source))


def split_words(
    words: Sequence[str],
    seed: int | np.random.Generator = 42,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    shuffle: str = "numpy",
) -> tuple[list[str], list[str], list[str]]:
    """Shuffle the words with ``seed`` and cut them into train, dev and test.

    A split by word (not by character pair) keeps every dev/test word unseen in training.
    ``n1 = int(0.8 n)`` and ``n2 = int(0.9 n)`` as in makemore, so the last split takes the rest.

    Args:
        words: the words.
        seed: an int seed (or, with ``shuffle="numpy"``, a ``numpy.random.Generator``).
        fractions: train, dev and test shares.
        shuffle: ``"numpy"`` (a NumPy permutation, the default) or ``"makemore"``: Python's
            ``random.Random(seed).shuffle``, the very split of makemore's
            ``random.seed(42); random.shuffle(words)``, so that dev losses compare with the
            published ones on the same dev words.

    >>> train, dev, test = split_words([f"w{i}" for i in range(10)], seed=0)
    >>> len(train), len(dev), len(test)
    (8, 1, 1)
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(
            f"split_words: fractions must be three non-negative numbers summing to 1, "
            f"got {fractions}"
        )
    words = list(words)
    if not words:
        raise ValueError("split_words: words is empty")
    if shuffle == "numpy":
        rng = generator(seed, "seed")
        shuffled = [words[i] for i in rng.permutation(len(words))]
    elif shuffle == "makemore":
        if not isinstance(seed, int):
            raise ValueError(f"split_words: shuffle='makemore' needs an int seed, got {seed!r}")
        shuffled = list(words)
        random.Random(seed).shuffle(shuffled)  # a private generator: global state untouched
    else:
        raise ValueError(f"split_words: shuffle must be 'numpy' or 'makemore', got {shuffle!r}")
    n1 = int(fractions[0] * len(words))
    n2 = int((fractions[0] + fractions[1]) * len(words))
    return shuffled[:n1], shuffled[n1:n2], shuffled[n2:]


def build_dataset(
    words: Sequence[str], block_size: int, tokenizer: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """The (X, Y) arrays of "the last ``block_size`` characters -> the next one".

    Args:
        words: the words; each is read as ``"." * block_size + word + "."``.
        block_size: how many characters of context each example sees (1 for the bigram).
        tokenizer: a :class:`~groundup.tokenizers.CharTokenizer` with a boundary at id 0;
            None builds one from ``words``.

    Returns:
        X: int64 array (N, block_size) of context ids; Y: int64 array (N,) of next-char ids,
        where N is the number of characters plus one boundary per word.

    >>> X, Y = build_dataset(["ab"], block_size=2)
    >>> X.tolist(), Y.tolist()
    ([[0, 0], [0, 1], [1, 2]], [1, 2, 0])
    """
    if (
        isinstance(block_size, bool)
        or not isinstance(block_size, numbers.Integral)
        or block_size < 1
    ):
        raise ValueError(f"build_dataset: block_size must be a positive int, got {block_size!r}")
    block_size = int(block_size)  # NumPy ints (from a config or an array) are fine too
    if isinstance(words, str):
        raise TypeError("build_dataset: words must be a list of words, got a single str")
    if tokenizer is None:
        from groundup.tokenizers import CharTokenizer

        tokenizer = CharTokenizer.from_words(words)
    if getattr(tokenizer, "boundary", None) is None:
        raise ValueError(
            "build_dataset: the tokenizer needs a boundary token at id 0 "
            "(CharTokenizer.from_words), got one without"
        )
    X: list[list[int]] = []
    Y: list[int] = []
    for word in words:
        context = [0] * block_size  # the boundary pads the start
        for ix in tokenizer.encode(word) + [0]:  # ... and ends the word
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return (
        np.array(X, dtype=np.int64).reshape(-1, block_size),
        np.array(Y, dtype=np.int64),
    )


def word_rows(words: list[str], tokenizer: Any, block_size: int) -> tuple[Any, Any]:
    """Each word as one row, as ``groundup train gpt`` reads words: X = ``.emma`` padded
    with the boundary, Y = ``emma.`` padded with -1 (ignored by the loss).

    >>> from groundup.tokenizers import CharTokenizer
    >>> X, Y = word_rows(["ab"], CharTokenizer.from_words(["ab"]), 4)
    >>> X.tolist(), Y.tolist()
    ([[0, 1, 2, 0]], [[1, 2, 0, -1]])
    """
    X = np.zeros((len(words), block_size), dtype=np.int64)
    Y = np.full((len(words), block_size), -1, dtype=np.int64)
    for i, word in enumerate(words):
        ids = tokenizer.encode(word)
        if len(ids) + 1 > block_size:
            raise ValueError(f"word {word!r} needs block_size >= {len(ids) + 1}, "
                             f"got {block_size}")  # fmt: skip
        X[i, 1 : len(ids) + 1] = ids
        Y[i, : len(ids) + 1] = ids + [0]  # the boundary ends the word
    return X, Y
