"""Shared test fixtures: the shipped data sets as files, a generated multilingual corpus for
the tokenizers, a skip when `dot` is absent, and NumPy's BLAS on two threads."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from groundup.data.shipped import FILES

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # every package's test_errors.py imports error_table


def _unpacked(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """The shipped ``<name>.gz`` decompressed into a temporary file (a plain text path, as
    a learner's own data would be)."""
    path = tmp_path_factory.mktemp("data") / name
    path.write_bytes(gzip.decompress((FILES / f"{name}.gz").read_bytes()))
    return path


@pytest.fixture(scope="session")
def names_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _unpacked(tmp_path_factory, "names.txt")


@pytest.fixture(scope="session")
def shakespeare_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _unpacked(tmp_path_factory, "tinyshakespeare.txt")


@pytest.fixture
def two_blas_threads():
    """NumPy's OpenBLAS on two threads for the test (the suite runs it on one)."""
    from groundup.tensor import threads

    blas = threads._blas()
    if blas is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS groundup.tensor.threads can drive")
    before = blas.get()
    blas.set(2)
    yield blas
    blas.set(before)


@pytest.fixture
def needs_dot() -> None:
    pytest.importorskip("graphviz", reason="the viz extra is not installed")
    if shutil.which("dot") is None:
        pytest.skip("graphviz `dot` binary not installed (apt-get install graphviz)")


@pytest.fixture
def has_matplotlib() -> bool:
    """Whether pictures are drawn (the viz extra); without it commands skip them."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


# words in several scripts, so that merges also form inside multi-byte characters
CORPUS_WORDS = (
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
    """Zipf-ish random text over CORPUS_WORDS with spaces, newlines, tabs and \\r\\n."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(CORPUS_WORDS))]
    seps = [" "] * 20 + ["\n", "  ", "\t", "\r\n", ", ", ". ", "\n\n", "   "]
    parts = []
    for w in rng.choices(CORPUS_WORDS, weights, k=n_words):
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


# Hypothesis: deadlines mean nothing on 2 shared cores; keep example counts modest so the
# whole suite stays well inside CI's budget. HYPOTHESIS_PROFILE=thorough runs more.
settings.register_profile(
    "ci", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
