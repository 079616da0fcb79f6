"""Stage 3: the MLP language model - sizes, initial loss, overfitting, sampling, BatchNorm,
and parity with the same model written in PyTorch (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from groundup.data import build_dataset, load_words
from groundup.models import build_model
from groundup.models.base import sample_words
from groundup.models.mlp import MLPLanguageModel
from groundup.optim import Adam
from groundup.tokenizers import CharTokenizer

CLASSIC = dict(block_size=3, n_embd=10, n_hidden=200)
BATCHNORM = dict(CLASSIC, batchnorm=True)
WAVENET = dict(block_size=8, n_embd=24, n_hidden=128, n_layers=3, batchnorm=True, hierarchical=True)
CONFIGS = {"classic": CLASSIC, "batchnorm": BATCHNORM, "wavenet": WAVENET}


@pytest.fixture(scope="module")
def names():
    words = load_words("names")
    return words, CharTokenizer.from_words(words)


@pytest.mark.parametrize(
    "config, expected", [(CLASSIC, 11_897), (BATCHNORM, 12_097), (WAVENET, 76_579)]
)
def test_parameter_counts_match_makemore(config, expected):
    assert MLPLanguageModel(27, **config, generator=0).num_parameters() == expected


@pytest.mark.parametrize("name", CONFIGS)
def test_initial_loss_is_ln_vocab(names, name):
    words, tok = names
    config = CONFIGS[name]
    X, Y = build_dataset(words[:300], config["block_size"], tok)
    model = MLPLanguageModel(tok.vocab_size, **config, generator=0)
    logits, loss = model(X, Y)
    assert logits.shape == (len(Y), 27)
    assert loss.item() == pytest.approx(math.log(27), abs=0.05)
    assert model(X)[1] is None


@pytest.mark.parametrize("name", ["classic", "wavenet"])
def test_overfits_one_batch(name, fit_one_batch):
    """32 distinct random contexts with random targets: a healthy model memorises them."""
    config = CONFIGS[name]
    rng = np.random.default_rng(0)
    X = rng.integers(0, 27, (32, config["block_size"]))
    Y = rng.integers(0, 27, 32)
    model = MLPLanguageModel(27, **config, generator=0)
    assert fit_one_batch(model, Adam(model.parameters(), lr=1e-2), X, Y, steps=150) < 0.05


def test_sampling_is_deterministic_and_restores_training_mode(names):
    _, tok = names
    model = MLPLanguageModel(tok.vocab_size, **BATCHNORM, generator=0)
    start = np.zeros((5, 1), dtype=np.int64)
    a = model.generate(start, 12, seed=3)
    assert a.shape == (5, 13) and a.dtype == np.int64
    np.testing.assert_array_equal(a, model.generate(start, 12, seed=3))
    assert not np.array_equal(a, model.generate(start, 12, seed=4))
    assert model.training  # generate switched to eval (BatchNorm) and back
    greedy = model.generate(start, 5, temperature=0)
    assert (greedy == greedy[0]).all()  # same start, argmax: same continuation
    assert model.generate(start[:0], 3).shape == (0, 4)  # no rows: nothing to sample
    assert sample_words(model, tok, 0) == []


def test_generate_pads_short_contexts_with_the_boundary():
    model = MLPLanguageModel(27, generator=0).eval()
    padded = model(np.array([[0, 0, 5]]))[0].data
    short = model.generate(np.array([[5]]), 1, temperature=0)
    assert short[0, 1] == padded.argmax()


def test_rebuilt_from_kwargs_gives_the_same_logits():
    model = MLPLanguageModel(27, **WAVENET, generator=0).eval()
    clone = build_model("mlp", model.model_kwargs())
    clone.load_state_dict(model.state_dict())
    clone.eval()
    idx = np.random.default_rng(0).integers(0, 27, (4, 8))
    np.testing.assert_array_equal(model(idx)[0].data, clone(idx)[0].data)


def test_calibrate_batchnorm_sets_population_statistics(names):
    words, tok = names
    X, _ = build_dataset(words[:500], 3, tok)
    model = MLPLanguageModel(tok.vocab_size, **BATCHNORM, generator=0, dtype="float64")
    model.calibrate_batchnorm(X, batch_size=1000)
    emb = model.wte.weight.data[X].reshape(len(X), -1)
    pre = emb @ model.linears[0].weight.data.T  # (N, n_hidden), no bias under BatchNorm
    np.testing.assert_allclose(model.norms[0].running_mean.data, pre.mean(0), atol=1e-10)
    np.testing.assert_allclose(model.norms[0].running_var.data, pre.var(0, ddof=1), rtol=1e-8)


def test_records_activations_and_their_gradients():
    model = MLPLanguageModel(27, **WAVENET, generator=0)
    model.record_activations = True
    idx = np.random.default_rng(0).integers(0, 27, (16, 8))
    _, loss = model(idx, idx[:, 0])
    loss.backward()
    assert list(model.activations) == ["layer 0 tanh", "layer 1 tanh", "layer 2 tanh"]
    assert [a.shape for a in model.activations.values()] == [
        (16, 4, 128),
        (16, 2, 128),
        (16, 1, 128),
    ]
    assert all(a.grad is not None for a in model.activations.values())
