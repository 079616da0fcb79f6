"""Stage 2: the counting bigram (known answer on names.txt) and the neural bigram."""

from __future__ import annotations

import math

import numpy as np
import pytest

from groundup.data import build_dataset, load_words
from groundup.models.base import sample_words
from groundup.models.bigram import CountingBigram, NeuralBigram
from groundup.optim import SGD
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


# -- neural -----------------------------------------------------------------------------

TINY = ["ab", "abb", "ba", "a", "bba", "aab", "b", "abab"]  # "..": the one unseen pair


def _fit_neural(words, tokenizer, l2=0.0, steps=300, lr=5.0):
    X, Y = build_dataset(words, 1, tokenizer)
    model = NeuralBigram(tokenizer.vocab_size, generator=0, dtype="float64")
    optimizer = SGD(model.parameters(), lr=lr)
    for _ in range(steps):  # full-batch gradient descent
        _, loss = model(X[:, 0], Y)
        loss = loss + l2 * model.l2_penalty()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def test_neural_initial_loss_is_ln_vocab_and_logits_are_rows_of_W():
    tok = CharTokenizer.from_words(WORDS)
    X, Y = build_dataset(WORDS, 1, tok)
    model = NeuralBigram(tok.vocab_size, generator=0)
    logits, loss = model(X[:, 0], Y)
    assert logits.shape == (len(Y), tok.vocab_size)
    np.testing.assert_array_equal(logits.data, model.W.data[X[:, 0]])
    assert loss.item() == pytest.approx(math.log(tok.vocab_size), abs=0.01)
    assert model.num_parameters() == tok.vocab_size**2
    logits, loss = model(X[:, 0])
    assert loss is None


def test_neural_without_penalty_learns_the_counting_table():
    tok = CharTokenizer.from_words(TINY)
    model = _fit_neural(TINY, tok, l2=0.0)
    counting = CountingBigram.fit(TINY, tokenizer=tok)
    seen = counting.counts.sum(axis=1) > 0
    np.testing.assert_allclose(model.probs()[seen], counting.probs[seen], atol=5e-3)


def test_neural_with_l2_converges_to_smoothed_counting():
    """The L2 penalty plays the role of add-k smoothing: for each strength there is a k
    whose smoothed table the network matches, and stronger penalties mean larger k."""
    tok = CharTokenizer.from_words(TINY)
    ks = np.concatenate([[0.0], np.logspace(-2, 1.5, 120)])
    tables = [CountingBigram.fit(TINY, smoothing=k, tokenizer=tok).probs for k in ks]
    best_ks = []
    for l2 in (0.1, 1.0):
        P = _fit_neural(TINY, tok, l2=l2).probs()
        gaps = [np.abs(P - table).max() for table in tables]
        best = int(np.argmin(gaps))
        assert gaps[best] < 0.03, (l2, ks[best], gaps[best])
        assert gaps[best] < 0.25 * gaps[0]  # much closer than the unsmoothed table
        assert P[0, 0] > 0.01  # the unseen pair ".." gets probability, as with smoothing
        best_ks.append(ks[best])
    assert best_ks[0] < best_ks[1]


def test_neural_sampling_is_deterministic_for_a_seed():
    tok = CharTokenizer.from_words(WORDS)
    model = NeuralBigram(tok.vocab_size, generator=1)
    a = model.generate(np.zeros((4, 1), dtype=np.int64), 10, seed=7)
    assert a.shape == (4, 11)
    np.testing.assert_array_equal(a, model.generate(np.zeros((4, 1), dtype=np.int64), 10, seed=7))
    assert not np.array_equal(a, model.generate(np.zeros((4, 1), dtype=np.int64), 10, seed=8))
    words = sample_words(model, tok, 5, seed=3)
    assert words == sample_words(model, tok, 5, seed=3)
    assert all(set(w) <= set(tok.chars) for w in words)


def test_neural_checkpoint_kwargs_rebuild_the_model():
    from groundup.models import build_model

    model = NeuralBigram(27, generator=0, dtype="float64")
    clone = build_model("bigram", model.model_kwargs())
    clone.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(clone.W.data, model.W.data)
    assert clone.W.dtype == np.float64
