"""Parity with OpenAI's ``tiktoken``: a ``tiktoken.Encoding`` built from our merges (token
bytes -> id as the rank: our ids are in merge order) with the same split pattern gives the
same ids as ours, on tinyshakespeare, on Python source and on random unicode. tiktoken
cannot download GPT-2's files here, so this is how benchmarks/bpe.py compares against it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.tokenizers import BPETokenizer
from groundup.tokenizers.bpe import PATTERNS

tiktoken = pytest.importorskip("tiktoken")

EOT = "<|endoftext|>"
SRC = Path(__file__).resolve().parents[2] / "src"


def encoding(tok: BPETokenizer):
    specials = set(tok.special_tokens.values())
    ranks = {token: i for i, token in tok.vocab.items() if i not in specials}
    assert len(ranks) == 256 + len(tok.merges)  # no two tokens share their bytes
    return tiktoken.Encoding(
        name=f"groundup_{tok.vocab_size}",
        pat_str=PATTERNS[tok.pattern],
        mergeable_ranks=ranks,
        special_tokens=dict(tok.special_tokens),
    )


@pytest.fixture(scope="module")
def python_source() -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(SRC.rglob("*.py")))


@pytest.fixture(scope="module", params=[("gpt2", 512), ("gpt2", 4096), ("gpt4", 1000)])
def pair(request, shakespeare_text):
    pattern, vocab_size = request.param
    tok = BPETokenizer().train(shakespeare_text, vocab_size, pattern=pattern)
    return tok, encoding(tok)


def test_identical_ids_on_shakespeare(pair, shakespeare_text):
    tok, enc = pair
    assert tok.encode(shakespeare_text) == enc.encode(shakespeare_text)


def test_identical_ids_on_python_source(pair, python_source):
    """Mostly ASCII with a few non-ASCII lines (box drawing, GPT-2's byte characters)."""
    tok, enc = pair
    assert tok.encode_ordinary(python_source) == enc.encode_ordinary(python_source)


def test_identical_ids_with_special_tokens(pair):
    tok, enc = pair
    text = "First Citizen:" + EOT + "\nBefore we proceed" + EOT
    assert tok.encode(text, allowed_special="all") == enc.encode(text, allowed_special="all")


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_identical_ids_on_random_unicode(pair, text):
    tok, enc = pair
    assert tok.encode_ordinary(text) == enc.encode_ordinary(text)


@settings(max_examples=100)
@given(st.lists(st.sampled_from(["Привет", " мир", "😀", "e\u0301", "  ", "\r\n", "\t", "'s",
                                 " the", "123", "naïve", "\xa0", "\x85", " ", "x"]),
                max_size=20))  # fmt: skip
def test_identical_ids_on_random_mixes(pair, pieces):
    tok, enc = pair
    text = "".join(pieces)
    assert tok.encode_ordinary(text) == enc.encode_ordinary(text)
