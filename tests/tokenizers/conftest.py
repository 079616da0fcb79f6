"""Fixtures for the tokenizer tests: a generated multilingual corpus and tinyshakespeare
(shipped with the package)."""

from __future__ import annotations

import random

import pytest

# words in several scripts, so that merges also form inside multi-byte characters
WORDS = (
    "the of and to in is you that it he was for on are as with his they I at be this have "
    "from or one had by word but not what all were we when your can said there use an each "
    "which she do how their if will up other about out many then them these so some her "
    "Привет мир как дела хорошо спасибо Москва "
    "こんにちは 世界 東京 日本語 ありがとう 漢字 "
    "café naïve résumé über straße façade "
    "γειά σου κόσμε αλφάβητο "
    "مرحبا بالعالم "
    "😀 🎉 👍🏽 🇫🇷 e\u0301 n\u0303 "
    "123 4567 3.14 2024-01-01 $100 50% "
    "don't it's we'll I'm they've you're he'd"
).split()


def generated_corpus(n_words: int = 20_000, seed: int = 0) -> str:
    """Zipf-ish random text over WORDS with spaces, newlines, tabs and \\r\\n."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    seps = [" "] * 20 + ["\n", "  ", "\t", "\r\n", ", ", ". ", "\n\n", "   "]
    parts = []
    for w in rng.choices(WORDS, weights, k=n_words):
        parts.append(w)
        parts.append(rng.choice(seps))
    return "".join(parts)


@pytest.fixture(scope="session")
def corpus() -> str:
    return generated_corpus()


@pytest.fixture(scope="session")
def shakespeare_text() -> str:
    from groundup.data import load_text

    return load_text("shakespeare")
