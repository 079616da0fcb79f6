"""Every input the tokenizers refuse, as one table: the exception type and the argument (or
file) the one-line message must name, not its exact wording (issue 14).

Each row runs inside a fresh temporary folder (the test changes into it), so rows that need
a file use plain relative names. Messages that report where in the text or the ids the
problem is (a position, a line of merges.txt) stay in test_char.py and test_bpe.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from error_table import refusal_test

from groundup.tokenizers import BPETokenizer, CharTokenizer, load_tokenizer, train_tokenizer

EOT = "<|endoftext|>"


def bpe() -> BPETokenizer:
    return BPETokenizer().train("a b c " * 20, 262, special_tokens=(EOT, "<|pad|>"))


def tokenizer_json(text: str) -> str:
    Path("tokenizer.json").write_text(text, encoding="utf-8")
    return "."


def train(**kwargs) -> BPETokenizer:
    return BPETokenizer().train("abc", **{"vocab_size": 300, **kwargs})


CASES = [
    # (id, a call that must fail, the exception, what its message must name)
    ("char-chars-not-single", lambda: CharTokenizer(["ab"]), ValueError, "chars"),
    ("char-chars-repeated", lambda: CharTokenizer("aba"), ValueError, "distinct"),
    ("char-boundary-two-chars", lambda: CharTokenizer("ab", boundary=".."), ValueError,
     "boundary"),
    ("char-boundary-in-chars", lambda: CharTokenizer("a.b", boundary="."), ValueError,
     "boundary"),
    ("char-word-with-boundary", lambda: CharTokenizer.from_words(["ab", "a.b"]), ValueError,
     "'a.b'"),
    ("char-text-empty", lambda: CharTokenizer.from_text(""), ValueError, "text"),
    ("char-text-bytes", lambda: CharTokenizer.from_text(b"ab"), ValueError, "text"),
    ("char-decode-unknown-id", lambda: CharTokenizer.from_text("abc").decode([0, 3]),
     ValueError, "id 3"),
    ("char-decode-floats", lambda: CharTokenizer.from_text("abc").decode([0.0]), ValueError,
     "ids"),
    ("char-decode-2d", lambda: CharTokenizer.from_text("abc").decode(np.zeros((2, 2), int)),
     ValueError, "ids"),
    ("bpe-vocab_size-only-bytes", lambda: train(vocab_size=256), ValueError, "vocab_size"),
    ("bpe-vocab_size-str", lambda: train(vocab_size="512"), ValueError, "vocab_size"),
    ("bpe-vocab_size-below-specials", lambda: train(vocab_size=257, special_tokens=(EOT, "x")),
     ValueError, "vocab_size"),
    ("bpe-special-repeated", lambda: train(special_tokens=(EOT, EOT)), ValueError,
     "special_tokens"),
    ("bpe-special-empty", lambda: train(special_tokens=("",)), ValueError, "special_tokens"),
    ("bpe-train-bytes", lambda: BPETokenizer().train(b"abc", 300), ValueError, "text"),
    ("bpe-pattern-name", lambda: train(pattern="gpt5"), ValueError, "pattern"),
    ("bpe-pattern-regex", lambda: train(pattern="(unclosed"), ValueError, "pattern"),
    ("bpe-encode-bytes", lambda: BPETokenizer().encode(b"bytes"), ValueError, "text"),
    ("bpe-special-not-allowed", lambda: bpe().encode("a<|pad|>" + EOT, allowed_special={"<|pad|>"}),
     ValueError, EOT),
    ("bpe-allowed-unknown", lambda: bpe().encode("a", allowed_special={"<|mask|>"}), ValueError,
     "<|mask|>"),
    ("bpe-allowed_special-word", lambda: bpe().encode("a", allowed_special="everything"),
     ValueError, "allowed_special"),
    ("bpe-from_pretrained-absent", lambda: BPETokenizer.from_pretrained("."),
     FileNotFoundError, "vocab.json"),
    ("bpe-from_config-no-folder", lambda: BPETokenizer.from_config(bpe().to_config()),
     ValueError, "folder"),
    ("train-kind", lambda: train_tokenizer("wordpiece", "abc"), ValueError, "kind"),
    ("train-char-vocab_size", lambda: train_tokenizer("char", "abc", vocab_size=100),
     ValueError, "vocab_size"),
    ("load-absent", lambda: load_tokenizer("."), FileNotFoundError, "tokenizer.json"),
    ("load-unknown-type", lambda: load_tokenizer(tokenizer_json('{"type": "wordpiece"}')),
     ValueError, "wordpiece"),
    ("load-truncated", lambda: load_tokenizer(tokenizer_json("{bad")), ValueError,
     "tokenizer.json"),
    ("load-char-config-lacks-chars", lambda: load_tokenizer(tokenizer_json('{"type": "char"}')),
     ValueError, "tokenizer.json"),
]  # fmt: skip


test_refused_naming_the_argument = refusal_test(CASES, in_tmp_path=True)


def test_a_numpy_int_vocab_size_trains():
    tok = BPETokenizer().train(
        "aaabdaaabac", vocab_size=np.int64(258), pattern=None, special_tokens=()
    )
    assert tok.vocab_size == 258
