"""The interface every groundup tokenizer shares, and loading one back from a folder.

A tokenizer turns text into a list of integer ids and back. Two kinds exist:
:class:`~groundup.tokenizers.char.CharTokenizer` (one id per character, stages 2-4) and
:class:`~groundup.tokenizers.bpe.BPETokenizer` (byte-level BPE, the GPT-2 algorithm).
Both write ``groundup_tokenizer.json`` into a folder, whose ``"type"`` field says which class reads
it back, so a checkpoint folder carries its tokenizer with it. Last, what
``BPETokenizer.from_pretrained`` needs to read files made elsewhere: a guard against split
regexes that backtrack without bound, and a reader of Hugging Face's ``tokenizer.json``.
"""

from __future__ import annotations

import json
import operator
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import regex

# Not "tokenizer.json": that name is Hugging Face's own format, and AutoTokenizer would
# misread ours in a folder that also holds GPT-2's vocab.json and merges.txt.
CONFIG_FILE = "groundup_tokenizer.json"
LEGACY_CONFIG_FILE = "tokenizer.json"  # the name early checkpoints used; still read


def config_path(folder: str | os.PathLike) -> Path:
    """Where ``folder`` keeps groundup's tokenizer config (the legacy name as a fallback)."""
    folder = Path(folder)
    path = folder / CONFIG_FILE
    legacy = folder / LEGACY_CONFIG_FILE
    return legacy if not path.is_file() and legacy.is_file() else path


class Tokenizer:
    """Base class: ``encode``, ``decode``, ``vocab_size``, ``save``, ``to_config``."""

    TYPE = ""  # the "type" written to groundup_tokenizer.json; load_tokenizer dispatches on it

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids: Iterable[int]) -> str:
        raise NotImplementedError

    def to_config(self) -> dict[str, Any]:
        """A JSON-able dict with ``"type"``; what ``groundup_tokenizer.json`` holds."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any], folder: str | os.PathLike | None = None):
        raise NotImplementedError

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``groundup_tokenizer.json`` (and any files the kind needs) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / CONFIG_FILE, json.dumps(self.to_config(), indent=2) + "\n")
        return folder


def write_text_atomic(path: Path, text: str) -> None:
    """Write a UTF-8 file through a temporary file and a rename: never a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ids_to_list(ids: Any, who: str) -> list[int]:
    """Accept a list/tuple of ints, a 1-D NumPy int array, or a 1-D tensor; return list[int].

    >>> ids_to_list((1, 2), "decode")
    [1, 2]
    """
    if hasattr(ids, "data") and hasattr(ids, "requires_grad") and not hasattr(ids, "tolist"):
        ids = ids.data  # a groundup.Tensor: its NumPy array
    if hasattr(ids, "tolist"):  # NumPy arrays and torch tensors
        if getattr(ids, "ndim", 1) != 1:
            raise ValueError(f"{who}: ids must be 1-D, got shape {tuple(ids.shape)}")
        ids = ids.tolist()
    out = []
    for i in ids:
        try:
            if isinstance(i, bool):
                raise TypeError
            out.append(operator.index(i))  # ints and NumPy integers; refuses floats
        except TypeError:
            raise ValueError(f"{who}: ids must be ints, got {i!r} ({type(i).__name__})") from None
    return out


def look_up(
    table: Mapping[Any, Any], keys: Sequence[Any], missing: Callable[[Any, int], str]
) -> list:
    """``[table[k] for k in keys]`` (encoding characters, decoding ids); the first key not
    in ``table`` raises ValueError(``missing(key, position)``).

    >>> look_up({"a": 0, "b": 1}, "ab", lambda key, pos: f"{key!r} at {pos}")
    [0, 1]
    """
    try:
        return [table[k] for k in keys]
    except KeyError:
        pos = next(i for i, k in enumerate(keys) if k not in table)
        raise ValueError(missing(keys[pos], pos)) from None


def load_tokenizer(folder: str | os.PathLike) -> Tokenizer:
    """Load the tokenizer saved in ``folder`` (by ``save``), whatever its kind.

    Reads ``folder/groundup_tokenizer.json`` and dispatches on its ``"type"``: ``"char"`` ->
    :class:`CharTokenizer`, ``"bpe"`` -> :class:`BPETokenizer` (which also reads
    ``vocab.json`` and ``merges.txt``). A folder with only ``vocab.json`` + ``merges.txt``
    (GPT-2's files, Hugging Face's ``save_model``) loads as a :class:`BPETokenizer`.
    """
    folder = Path(folder)
    path = config_path(folder)
    config = None
    if path.is_file():
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path}: not valid JSON (truncated or corrupt?): {err}") from None
    if not (isinstance(config, dict) and "type" in config):
        # GPT-2's or Hugging Face's files: vocab.json + merges.txt (and maybe HF's own
        # tokenizer.json, which has no top-level "type")
        if (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
            from groundup.tokenizers.bpe import BPETokenizer

            return BPETokenizer.from_pretrained(folder)
        if config is None:
            raise FileNotFoundError(
                f"load_tokenizer: no {CONFIG_FILE} (nor vocab.json + merges.txt) in {str(folder)!r}"
            )
    try:
        return tokenizer_from_config(config, folder=folder)
    except KeyError as err:  # a field the config should have is missing: say which file
        raise ValueError(f"{path}: the {config['type']!r} tokenizer config lacks {err}") from None


def tokenizer_from_config(
    config: dict[str, Any], folder: str | os.PathLike | None = None
) -> Tokenizer:
    """Rebuild a tokenizer from its ``to_config()`` dict (BPE also needs its ``folder``)."""
    kind = config.get("type") if isinstance(config, dict) else None
    if kind == "char":
        from groundup.tokenizers.char import CharTokenizer

        return CharTokenizer.from_config(config, folder=folder)
    if kind == "bpe":
        from groundup.tokenizers.bpe import BPETokenizer

        return BPETokenizer.from_config(config, folder=folder)
    raise ValueError(f"tokenizer config has type {kind!r}, expected 'char' or 'bpe'")


def train_tokenizer(kind: str, text: str, vocab_size: int | None = None) -> Tokenizer:
    """A tokenizer for running text, by name: what ``--tokenizer char|bpe`` needs.

    ``"char"``: :meth:`CharTokenizer.from_text` (``vocab_size`` must be None: it is the
    number of distinct characters). ``"bpe"``: :meth:`BPETokenizer.train` to ``vocab_size``
    (default 512) with GPT-2's pattern and ``<|endoftext|>``.
    """
    if kind == "char":
        from groundup.tokenizers.char import CharTokenizer

        if vocab_size is not None:
            raise ValueError(
                f"vocab_size must be None for the char tokenizer (it is the number of "
                f"distinct characters), got {vocab_size!r}"
            )
        return CharTokenizer.from_text(text)
    if kind == "bpe":
        from groundup.tokenizers.bpe import BPETokenizer

        return BPETokenizer().train(text, 512 if vocab_size is None else vocab_size)
    raise ValueError(f"tokenizer kind must be 'char' or 'bpe', got {kind!r}")


# -- a split regex read from a file ------------------------------------------------------

# Texts on which a catastrophically backtracking regex (``(a+)+$``) takes seconds to years:
# a long run of one character class, then a character that breaks the match.
_PROBES = [
    run * 40 + end for run in ("a", "1", " ", "!", "\n", "é", "'s") for end in ("!", "a", "")
]


def check_pattern_from_file(pattern: str | None, path: Path, known: Iterable[str] = ()) -> None:
    """Refuse a split regex read from a file unless it is None, ``known`` or splits every
    probe text in bounded time: a crafted regex took 25 s on a 38-letter prompt, growing 1.6x
    per letter. ``regex``'s own ``timeout`` stops the probe."""
    if pattern is None or pattern in known:
        return
    try:
        compiled = regex.compile(pattern)
        for text in _PROBES:
            compiled.findall(text, timeout=0.05)
    except TimeoutError:
        raise ValueError(
            f"{path}: split pattern {pattern!r} backtracks without bound (it took over 50 ms "
            "on a 40-character text); refused (from_pretrained(folder, trust_pattern=True) "
            "if it is your own)"
        ) from None
    except regex.error as err:
        raise ValueError(f"{path}: split pattern {pattern!r} is not a valid regex: {err}") from None


# -- Hugging Face's tokenizer.json ---------------------------------------------------------
#
# The format of Hugging Face's tokenizers library, the only file some models ship (Llama 3):
# {"model": {"type": "BPE", "vocab": {token: id}, "merges": ["a b", ...] or [["a", "b"], ...]},
#  "pre_tokenizer": {...}, "added_tokens": [{"id", "content", "special"}, ...]}. Tokens are
# written with GPT-2's byte-to-unicode characters, as in vocab.json and merges.txt.

HF_TOKENIZER_FILE = "tokenizer.json"


def hf_tokenizer_json(folder: Path) -> dict[str, Any] | None:
    """Hugging Face's tokenizer.json of folder as a dict, or None (absent, or groundup's own
    legacy file of that name). Only byte-level BPE is read."""
    path = folder / HF_TOKENIZER_FILE
    if not path.is_file():
        return None
    hf = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(hf, dict) or not isinstance(hf.get("model"), dict):
        return None
    model = hf["model"]
    if model.get("type", "BPE") != "BPE" or model.get("byte_fallback"):
        kind = f"a {model.get('type')} model"
        if model.get("byte_fallback"):
            kind = "a SentencePiece-style BPE with byte fallback (as Llama 2's)"
        raise ValueError(
            f"BPETokenizer.from_pretrained: {path} holds {kind}; groundup reads byte-level "
            "BPE only (GPT-2, Llama 3, Qwen2, SmolLM)"
        )
    return hf


def hf_merges(hf: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(where, left, right) for each merge of a tokenizer.json, in rank order."""
    pairs = []
    for n, merge in enumerate(hf["model"].get("merges", [])):
        parts = merge.split(" ") if isinstance(merge, str) else list(merge)
        if len(parts) != 2:
            raise ValueError(
                f"BPETokenizer.from_pretrained: {HF_TOKENIZER_FILE} merge {n} {merge!r} is not a "
                "pair of tokens"
            )
        pairs.append((f"merge {n}", parts[0], parts[1]))
    return pairs


def hf_pattern(hf: dict[str, Any]) -> str:
    """The split regex of a tokenizer.json's pre-tokeniser: a Split's pattern (Llama 3,
    Qwen2), or GPT-2's for a plain ByteLevel pre-tokeniser."""
    pre = hf.get("pre_tokenizer") or {}
    for step in pre.get("pretokenizers", [pre]):
        pattern = (step.get("pattern") or {}).get("Regex") if step.get("type") == "Split" else None
        if pattern is not None:
            return pattern
    return "gpt2"
