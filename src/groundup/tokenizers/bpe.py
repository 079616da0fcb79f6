"""Byte-level byte-pair encoding (BPE): the tokenizer of GPT-2, trained from scratch.

The idea (Gage 1994; Sennrich et al. 2016; GPT-2 2019), in four steps:

1. Text is UTF-8 bytes, so every string is a sequence of ids in 0..255: nothing is ever
   "unknown".
2. Count every adjacent pair of ids; the most frequent pair becomes a new token (id 256,
   then 257 ...). Replace it everywhere, and repeat until the vocabulary is big enough.
   The ordered list of merges *is* the tokenizer.
3. Encoding replays the merges on new text, earliest-learned first (lowest rank first).
4. Decoding concatenates each id's bytes and decodes UTF-8.

GPT-2 adds two things. A regular expression first splits text into chunks ("words",
spaces glued to the front: ``" world"``) and merges never cross a chunk boundary, so
``"dog."`` and ``"dog!"`` share ``"dog"``. And its files store bytes as printable
characters (the byte-to-unicode table below), ``vocab.json`` mapping token -> id and
``merges.txt`` listing merges in rank order; we read and write the same files, so
tokenizers trained by Hugging Face ``tokenizers`` (and GPT-2's own files) load here and give
identical ids.

Training is fast because it counts pairs once and then updates the counts: each distinct
chunk is stored once with its frequency, and a merge only revisits the chunks that hold the
merged pair. Ties (two pairs with the same count) go to the smaller pair ``(a, b)``
(compared as id tuples), so training is deterministic. Encoding is fast (near OpenAI's Rust
``tiktoken``) because each distinct chunk goes through BPE once, with a heap, and is cached;
ASCII text is split by Python's faster ``re``, a few thousand characters at a time; and the
cached ids are joined in C, with no Python code per chunk.
"""

from __future__ import annotations

import heapq
import json
import numbers
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import chain, pairwise
from pathlib import Path
from typing import Any

import regex

from groundup.tokenizers.base import (
    HF_TOKENIZER_FILE,
    Tokenizer,
    check_pattern_from_file,
    config_path,
    hf_merges,
    hf_pattern,
    hf_tokenizer_json,
    ids_to_list,
    write_text_atomic,
)

# GPT-2's pre-tokeniser: contractions, letters with an optional leading space, numbers,
# punctuation runs, then whitespace (``\s+(?!\S)`` leaves the last space to the next word).
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
# GPT-4's (cl100k_base): case-insensitive contractions, digits in groups of at most 3,
# newlines kept apart from other whitespace.
GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*"""
    r"""|\s*[\r\n]|\s+(?!\S)|\s+"""
)
PATTERNS = {"gpt2": GPT2_SPLIT_PATTERN, "gpt4": GPT4_SPLIT_PATTERN}

# Splitting is most of what encoding costs. Python's own ``re`` splits twice as fast as
# ``regex`` but knows no ``\p{L}``; on ASCII text, though, ``\p{L}`` is ``[a-zA-Z]``, ``\p{N}``
# is ``[0-9]``, ``re.ASCII``'s ``\s`` is ``regex``'s and the possessive quantifiers change
# nothing, so each known pattern has an exact ASCII twin (the tests try every short text).
ASCII_TWINS = {
    GPT2_SPLIT_PATTERN: (
        r"""'(?:[sdmt]|ll|ve|re)| ?[a-zA-Z]+| ?[0-9]+| ?[^\sa-zA-Z0-9]+|\s+(?!\S)|\s+"""
    ),
    GPT4_SPLIT_PATTERN: (
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\na-zA-Z0-9]?[a-zA-Z]+|[0-9]{1,3}| ?[^\sa-zA-Z0-9]+[\r\n]*"""
        r"""|\s*[\r\n]|\s+(?!\S)|\s+"""
    ),
}
# No chunk of either pattern holds a non-space followed by a space, so a space after a
# non-space always starts a chunk: a safe place to cut a text in two (tested too).
_CUT = regex.compile(r"(?<=\S) ")


def resolve_pattern(pattern: str | None) -> str | None:
    """The split regex for a pattern name ("gpt2", "gpt4"), a custom regex, or None.

    A custom regex should match every character somewhere (``findall`` drops the rest).
    """
    if pattern is None or pattern in PATTERNS:
        return PATTERNS.get(pattern) if pattern is not None else None
    if not isinstance(pattern, str) or regex.fullmatch(r"\w+", pattern):
        raise ValueError(
            f"pattern must be 'gpt2', 'gpt4', None or a regular expression, got {pattern!r}"
        )
    try:
        regex.compile(pattern)
    except regex.error as err:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {err}") from None
    return pattern


VOCAB_FILE = "vocab.json"
MERGES_FILE = "merges.txt"

# -- the two helpers the whole algorithm is made of --------------------------------------


def get_stats(ids: list[int], counts: dict | None = None, weight: int = 1) -> dict:
    """Count each adjacent pair of ``ids`` (``weight`` times), adding into ``counts``.

    >>> get_stats([1, 2, 3, 1, 2])
    {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    """
    counts = {} if counts is None else counts
    for pair in pairwise(ids):
        counts[pair] = counts.get(pair, 0) + weight
    return counts


def merge(ids: list[int], pair: tuple[int, int], idx: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids`` by the new id ``idx``, left to right.

    >>> merge([5, 6, 6, 7], (6, 7), 99)
    [5, 6, 99]
    >>> merge([1, 1, 1], (1, 1), 9)  # occurrences do not overlap: the leftmost wins
    [9, 1]
    """
    out = []
    i, n = 0, len(ids)
    a, b = pair
    while i < n:
        if i < n - 1 and ids[i] == a and ids[i + 1] == b:
            out.append(idx)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


# -- GPT-2's byte <-> printable character table ------------------------------------------


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table from each byte to a printable character, used in vocab.json/merges.txt.

    Printable Latin-1 bytes map to themselves; the other 68 (control bytes, space, ...) map to
    256, 257, ... in order, so no token string holds whitespace or control characters.

    >>> table = bytes_to_unicode()
    >>> table[ord("a")], table[ord(" ")], table[ord("\\n")]
    ('a', 'Ġ', 'Ċ')
    """
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table = {b: chr(b) for b in printable}
    n = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + n)
            n += 1
    return table


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {c: b for b, c in BYTE_ENCODER.items()}


def token_to_str(token: bytes) -> str:
    """A token's bytes as GPT-2 writes them: ``b" the"`` -> ``"Ġthe"``."""
    return "".join(BYTE_ENCODER[b] for b in token)


def str_to_token(s: str) -> bytes:
    """Inverse of :func:`token_to_str`: ``"Ġthe"`` -> ``b" the"``."""
    return bytes(BYTE_DECODER[c] for c in s)


# -- incremental pair counts for training ------------------------------------------------


class PairCounts:
    """Pair counts over distinct chunks weighted by frequency, updated merge by merge.

    ``counts[pair]`` is how often ``pair`` occurs in the corpus; ``where[pair]`` the chunks
    that may hold it (stale entries are harmless: merging a chunk without the pair is a
    no-op). A heap of ``(-count, pair)`` finds the most frequent pair without scanning all
    counts: entries whose count has since changed are skipped when they surface.
    """

    def __init__(self, words: list[list[int]], freqs: list[int]):
        self.words, self.freqs = words, freqs
        self.counts: dict[tuple[int, int], int] = {}
        self.where: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
        for w, (ids, freq) in enumerate(zip(words, freqs, strict=True)):
            get_stats(ids, self.counts, freq)
            for pair in pairwise(ids):
                self.where[pair].add(w)
        self.heap = [(-c, pair) for pair, c in self.counts.items()]
        heapq.heapify(self.heap)

    def most_frequent(self) -> tuple[int, int] | None:
        """The pair with the highest count (ties: the smallest pair), or None if none left."""
        while self.heap:
            neg_count, pair = self.heap[0]
            if self.counts.get(pair, 0) == -neg_count:
                return pair
            heapq.heappop(self.heap)  # stale: the count changed after this entry was pushed
        return None

    def merge(self, pair: tuple[int, int], idx: int) -> None:
        """Merge ``pair`` into ``idx`` in every chunk that holds it, and update the counts."""
        changed: dict[tuple[int, int], int] = {}
        for w in self.where.pop(pair, ()):
            old = self.words[w]
            new = merge(old, pair, idx)
            if len(new) == len(old):
                continue  # a stale entry in `where`
            freq = self.freqs[w]
            get_stats(old, changed, -freq)  # the chunk's old pairs go ...
            get_stats(new, changed, freq)  # ... and its new pairs come
            for p in pairwise(new):
                if p[0] == idx or p[1] == idx:
                    self.where[p].add(w)
            self.words[w] = new
        for p, delta in changed.items():
            if delta:
                count = self.counts.get(p, 0) + delta
                if count > 0:
                    self.counts[p] = count
                    heapq.heappush(self.heap, (-count, p))
                else:
                    self.counts.pop(p, None)


# -- the tokenizer ------------------------------------------------------------------------

CACHE_SIZE = 1 << 20  # distinct chunks an encoder keeps the ids of
# Characters per piece a long text is encoded in: a piece's chunk strings are split, looked
# up and freed while they are still in the CPU's cache (a whole text's are 20-30% slower).
PIECE = 1 << 12


class BPETokenizer(Tokenizer):
    """Byte-level BPE with GPT-2's pre-tokeniser and file format.

    >>> tok = BPETokenizer().train("aaabdaaabac", vocab_size=259, pattern=None, special_tokens=())
    >>> tok.encode("aaabdaaabac")
    [258, 100, 258, 97, 99]
    >>> tok.decode([258, 100])
    'aaabd'

    Ids of a trained tokenizer: 0..255 the bytes, then one per merge in order, then the
    special tokens (GPT-2's layout: ``<|endoftext|>`` is the last id).
    """

    TYPE = "bpe"

    def __init__(self) -> None:
        self.pattern: str | None = "gpt2"  # "gpt2", "gpt4", a regex, or None (no split)
        self.merges: dict[tuple[int, int], int] = {}  # (a, b) -> new id, in rank order
        self.vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}  # id -> bytes
        self.byte_ids: list[int] = list(range(256))  # byte value -> id of its 1-byte token
        self.special_tokens: dict[str, int] = {}  # "<|endoftext|>" -> id
        self._reset_caches()

    def _reset_caches(self) -> None:
        self.ranks = {pair: r for r, pair in enumerate(self.merges)}  # earlier merge = lower
        pattern = resolve_pattern(self.pattern)
        self._findall = regex.compile(pattern).findall if pattern is not None else None
        twin = ASCII_TWINS.get(pattern or "")
        self._ascii_findall = re.compile(twin, re.ASCII).findall if twin else None
        # longest first, so that a special token holding another one wins
        specials = "|".join(regex.escape(s) for s in sorted(self.special_tokens, key=len)[::-1])
        self._special_split = regex.compile(f"({specials})").split if specials else None
        self._cache: dict[str, tuple[int, ...]] = {}  # chunk -> its ids, filled by encode

    # -- training -------------------------------------------------------------------------

    def train(
        self,
        text: str,
        vocab_size: int,
        pattern: str | None = "gpt2",
        special_tokens: Iterable[str] = ("<|endoftext|>",),
    ) -> BPETokenizer:
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges from ``text``; returns self.

        ``vocab_size`` counts everything: 256 bytes, the merges, the special tokens. Special
        tokens in ``text`` are cut out first, so no merge crosses or learns them. If the
        text runs out of pairs, training stops early (``vocab_size`` is then smaller).
        With ``pattern=None`` the text is one long chunk that every merge rescans: fine for
        lessons, slow (``len(text) x merges``) for megabytes.
        """
        special_tokens = list(special_tokens)
        if len(set(special_tokens)) != len(special_tokens) or not all(special_tokens):
            raise ValueError(
                f"special_tokens must be distinct non-empty strings, got {special_tokens}"
            )
        if not isinstance(text, str):
            raise ValueError(f"BPETokenizer.train: text must be a str, got {type(text)}")
        num_merges = (
            vocab_size - 256 - len(special_tokens)
            if isinstance(vocab_size, numbers.Integral) and not isinstance(vocab_size, bool)
            else -1
        )
        if num_merges < 0:
            raise ValueError(
                f"vocab_size must be an int >= 256 + {len(special_tokens)} (bytes + special "
                f"tokens), got {vocab_size!r}"
            )
        # training starts from the 256 bytes
        self.merges, self.vocab = {}, {i: bytes([i]) for i in range(256)}
        self.byte_ids = list(range(256))
        self.pattern = pattern
        self.special_tokens = {s: 256 + num_merges + i for i, s in enumerate(special_tokens)}
        self._reset_caches()

        # 1. chunks (special tokens cut out): each distinct one is kept once, with its count
        parts = self._special_split(text)[::2] if self._special_split else [text]
        chunk_counts = Counter(chain.from_iterable(map(self._split, parts)))
        words = [list(chunk.encode("utf-8")) for chunk in chunk_counts]
        stats = PairCounts(words, list(chunk_counts.values()))
        # 2. merge the most frequent pair, again and again
        for i in range(num_merges):
            pair = stats.most_frequent()
            if pair is None:
                break  # every chunk is a single token already
            idx = 256 + i
            stats.merge(pair, idx)
            self.merges[pair] = idx
            self.vocab[idx] = self.vocab[pair[0]] + self.vocab[pair[1]]
        # 3. special tokens come last; renumber them if training stopped early
        first = 256 + len(self.merges)
        self.special_tokens = {s: first + i for i, s in enumerate(special_tokens)}
        for s, i in self.special_tokens.items():
            self.vocab[i] = s.encode("utf-8")
        self._reset_caches()
        return self

    # -- splitting ------------------------------------------------------------------------

    def _split(self, text: str) -> list[str]:
        """Pre-tokenise ``text`` into chunks (special tokens are not looked for).

        >>> BPETokenizer()._split("Hello world's  end")
        ['Hello', ' world', "'s", ' ', ' end']
        """
        if self._findall is None:
            return [text] if text else []
        if self._ascii_findall is not None and text.isascii():
            return self._ascii_findall(text)
        return self._findall(text)

    def _pieces(self, text: str) -> list[str]:
        """``text`` cut at safe places (``_CUT``) into pieces of about ``PIECE`` characters,
        whose chunks are the text's; a text in another pattern is one piece."""
        if self._ascii_findall is None:
            return [text]
        pieces, start = [], 0
        while len(text) - start > PIECE and (cut := _CUT.search(text, start + PIECE)):
            pieces.append(text[start : cut.start()])
            start = cut.start()
        return pieces + [text[start:]]

    # -- encoding -------------------------------------------------------------------------

    def _bpe(self, chunk: str) -> list[int]:
        """BPE on one chunk: merge the adjacent pair learned earliest (lowest rank), again and
        again, until no adjacent pair is a merge.

        With merges ``(97, 97) -> 256``, ``(97, 98) -> 257``, ``(256, 257) -> 258``, the chunk
        ``"aaab"`` goes ``[97, 97, 97, 98]`` -> ``[256, 97, 98]`` -> ``[256, 257]`` -> ``[258]``.
        minbpe's loop is the definition (a test holds this method to it)::

            while len(ids) >= 2:
                pair = min(pairwise(ids), key=lambda p: ranks.get(p, inf))
                if pair not in ranks:
                    break
                ids = merge(ids, pair, merges[pair])

        It rescans every pair after each merge. Here, as in Hugging Face's ``tokenizers``, a
        heap holds ``(rank, position, pair)`` for each mergeable pair, lowest rank then
        leftmost first, and the ids form a linked list (``nxt``, ``prv``), so a merge only
        looks at its two new neighbours; an entry whose pair has changed since is skipped.
        """
        ids = list(map(self.byte_ids.__getitem__, chunk.encode("utf-8")))
        n, rank, merges = len(ids), self.ranks.get, self.merges
        nxt, prv = list(range(1, n + 1)), list(range(-1, n - 1))  # n and -1: no neighbour
        heap = [(r, i, p) for i, p in enumerate(pairwise(ids)) if (r := rank(p)) is not None]
        heapq.heapify(heap)

        def push(i: int) -> None:  # the pair at i, if it is a merge
            pair = (ids[i], ids[nxt[i]])
            if (r := rank(pair)) is not None:
                heapq.heappush(heap, (r, i, pair))

        while heap:
            _, i, pair = heapq.heappop(heap)
            j = nxt[i]
            if j == n or (ids[i], ids[j]) != pair:
                continue  # stale
            ids[i], ids[j] = merges[pair], -1  # j leaves the list
            nxt[i] = nxt[j]
            if nxt[i] < n:
                prv[nxt[i]] = i
                push(i)
            if prv[i] >= 0:
                push(prv[i])
        return [t for t in ids if t >= 0]

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode ``text`` treating special-token strings as ordinary text.

        Chunks repeat (Zipf's law: a few words are most of any text), so each distinct chunk
        goes through BPE once and its ids are cached; the cache starts afresh when it would
        outgrow ``CACHE_SIZE`` chunks. The look-ups and the joining run in C (``map``,
        ``chain``): no Python code runs per chunk once the cache holds them all. A long text
        goes piece by piece (:meth:`_pieces`), each piece's chunks fresh in the CPU's cache.
        """
        return list(chain.from_iterable(map(self._encode_piece, self._pieces(text))))

    def _encode_piece(self, text: str) -> list[int]:
        """The ids of one piece: its chunks looked up, new ones through BPE first."""
        chunks, cache = self._split(text), self._cache
        try:
            return list(chain.from_iterable(map(cache.__getitem__, chunks)))
        except KeyError:  # new chunks: BPE each one once, then join again
            new = set(chunks).difference(cache)
        if len(cache) + len(new) > CACHE_SIZE:  # start afresh, with every chunk of this piece
            self._cache = cache = {}  # a new dict: another thread may still read the old one
            new = set(chunks)
        cache.update({chunk: tuple(self._bpe(chunk)) for chunk in new})  # tuples join faster
        return list(chain.from_iterable(map(cache.__getitem__, chunks)))

    def encode(self, text: str, allowed_special: str | set[str] = "none_raise") -> list[int]:
        """Text -> ids. What to do with special-token strings (``"<|endoftext|>"``) in ``text``:

        * ``"none_raise"`` (default): raise ValueError; text from users must not smuggle in
          control tokens.
        * ``"all"``: each becomes its single special id.
        * a set of special tokens: those become their ids; any other one present raises.
        * ``"none"``: encode them as ordinary text (their characters, split into pieces).
        """
        if not isinstance(text, str):
            raise ValueError(f"BPETokenizer.encode: text must be a str, got {type(text)}")
        if allowed_special == "none":
            return self.encode_ordinary(text)
        specials = set(self.special_tokens)
        if allowed_special in ("all", "none_raise"):
            allowed = specials if allowed_special == "all" else set()
        elif not isinstance(allowed_special, (set, frozenset)):
            raise ValueError(
                "BPETokenizer.encode: allowed_special must be 'none_raise', 'all', 'none' or a "
                f"set of special tokens, got {allowed_special!r}"
            )
        elif unknown := allowed_special - specials:
            raise ValueError(
                f"BPETokenizer.encode: allowed_special has {sorted(unknown)}, which are not "
                f"special tokens of this tokenizer ({sorted(specials)})"
            )
        else:
            allowed = set(allowed_special)
        for s in self.special_tokens:
            if s not in allowed and s in text:
                raise ValueError(
                    f"BPETokenizer.encode: the text holds the special token {s!r} (at position "
                    f"{text.index(s)}); pass allowed_special='all' (or a set holding it) to "
                    "encode it as its id, or 'none' to encode it as ordinary text"
                )
        if not allowed or self._special_split is None:
            return self.encode_ordinary(text)
        out: list[int] = []
        for i, part in enumerate(self._special_split(text)):
            if i % 2 == 0:
                out.extend(self.encode_ordinary(part))
            else:  # odd parts are the special tokens the split captured
                out.append(self.special_tokens[part])
        return out

    def decode(self, ids: Any) -> str:
        """Ids -> text: join each id's bytes, decode UTF-8 (invalid bytes become U+FFFD).

        A slice of ids may end inside a multi-byte character; that is why ``errors="replace"``.
        """
        vocab = self.vocab
        ids = ids_to_list(ids, "BPETokenizer.decode")
        try:
            data = b"".join([vocab[i] for i in ids])
        except KeyError:
            pos = next(p for p, i in enumerate(ids) if i not in vocab)
            raise ValueError(
                f"BPETokenizer.decode: id {ids[pos]} at position {pos} is not in the "
                f"vocabulary (size {self.vocab_size})"
            ) from None
        return data.decode("utf-8", errors="replace")

    @property
    def vocab_size(self) -> int:
        """Number of ids (bytes + merges + special tokens); max id + 1 for GPT-2's files."""
        return max(self.vocab) + 1 if self.vocab else 0

    # -- files ------------------------------------------------------------------------------

    def to_config(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "pattern": self.pattern,
            "special_tokens": dict(self.special_tokens),
            "vocab_size": self.vocab_size,
            "vocab_file": VOCAB_FILE,
            "merges_file": MERGES_FILE,
        }

    def save(self, folder: str | os.PathLike) -> Path:
        """Write GPT-2's ``vocab.json`` and ``merges.txt``, plus our config,
        ``groundup_tokenizer.json``."""
        folder = super().save(folder)  # groundup_tokenizer.json
        vocab = {}
        for i, token in sorted(self.vocab.items()):
            special = i in self.special_tokens.values()
            vocab[token.decode("utf-8") if special else token_to_str(token)] = i
        write_text_atomic(folder / VOCAB_FILE, json.dumps(vocab, ensure_ascii=False) + "\n")
        lines = ["#version: 0.2"]
        lines += [
            f"{token_to_str(self.vocab[a])} {token_to_str(self.vocab[b])}" for a, b in self.merges
        ]
        write_text_atomic(folder / MERGES_FILE, "\n".join(lines) + "\n")
        return folder

    @classmethod
    def from_config(
        cls, config: dict[str, Any], folder: str | os.PathLike | None = None
    ) -> BPETokenizer:
        """Rebuild from ``groundup_tokenizer.json``'s dict and the ``folder`` holding the
        vocab files."""
        if folder is None:
            raise ValueError(
                "BPETokenizer.from_config: folder is required (it holds vocab.json and "
                "merges.txt), got None"
            )
        return cls.from_pretrained(folder)

    @classmethod
    def from_pretrained(
        cls, folder: str | os.PathLike, trust_pattern: bool = False
    ) -> BPETokenizer:
        """Load ``vocab.json`` + ``merges.txt`` from ``folder`` (ours, Hugging Face's, GPT-2's),
        or, without them, Hugging Face's ``tokenizer.json`` alone (as Llama 3 ships).

        The pattern and the special tokens come from ``groundup_tokenizer.json``, else from a
        Hugging Face ``tokenizer.json`` (its pre-tokeniser's split regex: Llama 3's and
        Qwen2's differ from GPT-2's; its special added tokens), else (GPT-2's two files) they
        are "gpt2" and the vocab entries neither a byte nor a merge (``<|endoftext|>``). A
        split regex from a file that is not a known one must split probe texts in bounded
        time (a crafted one can take exponential time); ``trust_pattern=True`` skips that.
        """
        folder = Path(folder)
        hf = hf_tokenizer_json(folder)
        if (folder / VOCAB_FILE).is_file() and (folder / MERGES_FILE).is_file():
            str_vocab: dict[str, int] = json.loads(
                (folder / VOCAB_FILE).read_text(encoding="utf-8")
            )
            where, pairs = MERGES_FILE, _merges_txt(folder / MERGES_FILE)
        elif hf is not None:
            str_vocab, where, pairs = hf["model"]["vocab"], HF_TOKENIZER_FILE, hf_merges(hf)
        else:
            raise FileNotFoundError(
                f"BPETokenizer.from_pretrained: no {VOCAB_FILE} + {MERGES_FILE} (nor a Hugging "
                f"Face {HF_TOKENIZER_FILE}) in {str(folder)!r}"
            )

        tok = cls()
        tok.vocab = {}
        try:
            tok.byte_ids = [str_vocab[BYTE_ENCODER[b]] for b in range(256)]
        except KeyError as err:
            raise ValueError(
                f"BPETokenizer.from_pretrained: {VOCAB_FILE} lacks the byte token {err.args[0]!r};"
                " byte-level BPE needs all 256"
            ) from None
        for b, i in enumerate(tok.byte_ids):
            tok.vocab[i] = bytes([b])
        for place, left, right in pairs:
            merged = left + right
            if left not in str_vocab or right not in str_vocab or merged not in str_vocab:
                raise ValueError(
                    f"BPETokenizer.from_pretrained: {where} {place} {f'{left} {right}'!r} is "
                    f"not 'a b' with a, b and ab all in the vocabulary"
                )
            idx = str_vocab[merged]
            tok.merges[(str_vocab[left], str_vocab[right])] = idx
            tok.vocab[idx] = str_to_token(merged)

        path = config_path(folder)
        config = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        if config.get("type") == cls.TYPE:  # ours; a Hugging Face tokenizer.json is ignored
            tok.pattern = config["pattern"]
            tok.special_tokens = {s: int(i) for s, i in config["special_tokens"].items()}
        elif hf is not None:  # Hugging Face's own description of the tokenizer
            tok.pattern, path = hf_pattern(hf), folder / HF_TOKENIZER_FILE
            tok.special_tokens = {t["content"]: int(t["id"]) for t in hf.get("added_tokens", [])
                                  if t.get("special")}  # fmt: skip
        else:
            tok.special_tokens = {s: i for s, i in str_vocab.items() if i not in tok.vocab}
        if not trust_pattern:
            check_pattern_from_file(tok.pattern, path, known=[*PATTERNS, *PATTERNS.values()])
        for s, i in tok.special_tokens.items():
            tok.vocab[i] = s.encode("utf-8")
        tok._reset_caches()
        return tok

    def __repr__(self) -> str:
        return (
            f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
            f"pattern={self.pattern!r}, special_tokens={sorted(self.special_tokens)})"
        )


def _merges_txt(path: Path) -> list[tuple[str, str, str]]:
    """(where, left, right) for each merge of a merges.txt, in rank order."""
    # no byte-to-unicode character is a line break, so splitlines() is safe (and eats \r\n)
    pairs = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or (lineno == 1 and line.startswith("#version")):
            continue
        parts = line.split(" ")
        if len(parts) != 2:
            raise ValueError(
                f"BPETokenizer.from_pretrained: {MERGES_FILE} line {lineno} {line!r} is not "
                f"'a b' with a, b and ab all in {VOCAB_FILE}"
            )
        pairs.append((f"line {lineno}", parts[0], parts[1]))
    return pairs
