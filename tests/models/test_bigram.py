"""Stage 2: the counting bigram (known answer on names.txt) and the neural bigram."""

from __future__ import annotations

import math

import numpy as np
import pytest

from groundup.data import load_words
from groundup.models.bigram import CountingBigram
from groundup.tokenizers import CharTokenizer

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "ella"]


# -- counting ---------------------------------------------------------------------------


def test_counting_known_answer_on_names(names_path):
    """makemore's figure: average NLL over all 228,146 bigrams of names.txt is 2.4540."""
    words = load_words(names_path)
    model = CountingBigram.fit(words)
    assert model.counts.sum() == 228_146
    assert model.nll(words) == pytest.approx(2.4540, abs=1e-4)
    assert model.counts[0, 1] == 4410  # ".a": the most common first letter


def test_counting_by_hand():
    model = CountingBigram.fit(["ab", "b"])  # .ab. and .b.
    # rows: current (. a b), columns: next
    assert model.counts.tolist() == [[0, 1, 1], [0, 0, 1], [2, 0, 0]]
    np.testing.assert_allclose(model.probs.sum(axis=1), 1.0)
    # .ab. = P(a|.) P(b|a) P(.|b) = 0.5 * 1 * 1; .b. = 0.5 * 1: nll = -(2 log .5) / 5
    assert model.nll(["ab", "b"]) == pytest.approx(2 * math.log(2) / 5)


def test_smoothing_adds_k_to_every_count():
    tok = CharTokenizer.from_words(WORDS)
    raw = CountingBigram.fit(WORDS, tokenizer=tok)
    smooth = CountingBigram.fit(WORDS, smoothing=1, tokenizer=tok)
    V = tok.vocab_size
    np.testing.assert_allclose(smooth.probs, (raw.counts + 1) / (raw.counts + 1).sum(1)[:, None])
    assert (smooth.probs > 0).all()
    assert raw.nll(WORDS) < smooth.nll(WORDS) < math.log(V)
    assert raw.nll(["vv"]) == math.inf  # ".v" and "vv" never occur in WORDS
    assert smooth.nll(["vv"]) < math.inf


def test_sampling_is_deterministic_and_only_makes_seen_pairs():
    model = CountingBigram.fit(WORDS)
    a = model.sample(20, seed=3)
    assert a == model.sample(20, seed=3)
    assert a != model.sample(20, seed=4)
    for word in a:
        ids = [0, *model.tokenizer.encode(word), 0]
        assert all(model.counts[i, j] > 0 for i, j in zip(ids[:-1], ids[1:], strict=True))


def test_counting_errors():
    model = CountingBigram.fit(WORDS)
    with pytest.raises(ValueError, match="smoothing must be >= 0"):
        CountingBigram.fit(WORDS, smoothing=-1)
    with pytest.raises(ValueError, match="n must be a non-negative int"):
        model.sample(-1)
    with pytest.raises(ValueError, match="'z'"):
        model.nll(["zed"])
    with pytest.raises(ValueError, match=r"\(V, V\)"):
        CountingBigram(np.zeros((3, 3)), model.tokenizer)
