"""Character-level tokenizer: one id per character, the tokenizer of stages 2-4.

Two conventions, both from Karpathy's lessons:

* makemore (names): ``CharTokenizer.from_words(words)`` puts a boundary token ``"."`` at id
  0, then the sorted characters. A name is read as ``".emma."``: the boundary both starts
  it and ends it, so a model learns which letters begin and end a name.
* nanoGPT (running text): ``CharTokenizer.from_text(text)`` has just the sorted distinct
  characters, no boundary.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from groundup.tokenizers.base import Tokenizer, ids_to_list, look_up


class CharTokenizer(Tokenizer):
    """Maps each character to an id: the boundary (if any) is id 0, then ``chars`` in order.

    >>> tok = CharTokenizer.from_words(["emma", "ava"])
    >>> tok.itos
    ['.', 'a', 'e', 'm', 'v']
    >>> tok.encode(".emma.")
    [0, 2, 3, 3, 1, 0]
    >>> tok.decode([2, 3, 3, 1])
    'emma'
    """

    TYPE = "char"

    def __init__(self, chars: Iterable[str], boundary: str | None = None):
        chars = list(chars)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"CharTokenizer: chars must be single characters, got {c!r}")
        if len(set(chars)) != len(chars):
            dupes = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"CharTokenizer: chars must be distinct, got repeats {dupes!r}")
        if boundary is not None:
            if not isinstance(boundary, str) or len(boundary) != 1:
                raise ValueError(
                    f"CharTokenizer: boundary must be one character or None, got {boundary!r}"
                )
            if boundary in chars:
                raise ValueError(
                    f"CharTokenizer: boundary {boundary!r} is also one of chars; "
                    "it must be a character the text never uses"
                )
        self.chars: list[str] = chars  # the ordinary characters, in id order
        self.boundary: str | None = boundary  # "." (id 0) for names, None for running text
        self.itos: list[str] = ([boundary] if boundary is not None else []) + chars
        self.stoi: dict[str, int] = {s: i for i, s in enumerate(self.itos)}

    # -- building one from data ---------------------------------------------------------

    @classmethod
    def from_words(cls, words: Iterable[str], boundary: str = ".") -> CharTokenizer:
        """makemore's vocabulary: ``boundary`` at id 0, then the sorted characters of ``words``.

        >>> CharTokenizer.from_words(["bob", "al"]).itos
        ['.', 'a', 'b', 'l', 'o']
        """
        words = [words] if isinstance(words, str) else list(words)
        chars = sorted(set("".join(words)))
        if boundary in chars:
            where = next(i for i, w in enumerate(words) if boundary in w)
            raise ValueError(
                f"CharTokenizer.from_words: the boundary {boundary!r} occurs in word {where} "
                f"({words[where]!r}); pick a boundary the words never use"
            )
        return cls(chars, boundary=boundary)

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """nanoGPT's vocabulary: the sorted distinct characters of ``text``, no boundary.

        >>> CharTokenizer.from_text("hello").itos
        ['e', 'h', 'l', 'o']
        """
        if not isinstance(text, str):
            raise ValueError(f"CharTokenizer.from_text: text must be a str, got {type(text)}")
        if not text:  # a vocabulary of 0 tokens would only fail later, far from the cause
            raise ValueError("CharTokenizer.from_text: text is empty; expected some characters")
        return cls(sorted(set(text)), boundary=None)

    # -- the interface ------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        """One id per character. The boundary is a character like any other: ``".ab."``.

        Raises ValueError naming the first character not in the vocabulary and its position.
        """

        def unknown(c: str, pos: int) -> str:
            return (
                f"CharTokenizer.encode: character {c!r} at position {pos} of the text "
                f"is not in the vocabulary of {self.vocab_size} ({''.join(self.itos)!r})"
            )

        return look_up(self.stoi, text, unknown)

    def decode(self, ids: Iterable[int] | Sequence[int] | Any) -> str:
        """Characters for ids (a list, tuple, or 1-D NumPy int array).

        >>> CharTokenizer.from_text("ab").decode([1, 0, 1])
        'bab'
        """
        ids = ids_to_list(ids, "CharTokenizer.decode")
        itos, n = self.itos, len(self.itos)
        for pos, i in enumerate(ids):
            if not 0 <= i < n:
                raise ValueError(
                    f"CharTokenizer.decode: id {i} at position {pos} is outside "
                    f"the vocabulary [0, {n})"
                )
        return "".join(itos[i] for i in ids)

    def to_config(self) -> dict[str, Any]:
        return {"type": self.TYPE, "chars": "".join(self.chars), "boundary": self.boundary}

    @classmethod
    def from_config(
        cls, config: dict[str, Any], folder: str | os.PathLike | None = None
    ) -> CharTokenizer:
        """Rebuild from :meth:`to_config`'s dict (``folder`` is unused: the dict is complete)."""
        if config.get("type", cls.TYPE) != cls.TYPE:
            raise ValueError(
                f"CharTokenizer.from_config: type must be {cls.TYPE!r}, got {config.get('type')!r}"
            )
        return cls(config["chars"], boundary=config.get("boundary"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.to_config() == other.to_config()

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, boundary={self.boundary!r})"
