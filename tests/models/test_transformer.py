"""What GPT and Llama share as transformer language models (models/transformer.py), each
test run on both: the initial loss is ln V, the future never changes the past, the KV cache
gives the logits of a full pass, generation with and without it agrees and restarts past the
context, sampling is deterministic for a seed, dropout acts only in training, AdamW decays
only the matrices, and a model overfits one batch. What only one of them has is tested in
test_gpt.py and test_llama.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundup.models.gpt import GPT, GPTConfig
from groundup.models.llama import Llama, LlamaConfig
from groundup.models.transformer import KVCache
from groundup.optim import AdamW
from groundup.tensor import no_grad

KINDS = ["gpt", "llama"]
MODELS = {"gpt": (GPT, GPTConfig), "llama": (Llama, LlamaConfig)}
SMALL = {  # 11 tokens, 2 layers, a context of 16
    "gpt": dict(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16),
    "llama": dict(vocab_size=11, hidden_size=24, intermediate_size=40, num_hidden_layers=2,
                  num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=16),
}  # fmt: skip
CONTEXT = {"gpt": "block_size", "llama": "max_position_embeddings"}
WIDER = {"gpt": dict(n_embd=32, n_head=4),
         "llama": dict(hidden_size=32, num_attention_heads=4, intermediate_size=64)}  # fmt: skip
EMBEDDING = {"gpt": "transformer.wte.weight", "llama": "model.embed_tokens.weight"}

pytestmark = pytest.mark.parametrize("kind", KINDS)


def small(kind: str, seed: int, **overrides):
    """A small model of ``kind`` (SMALL's sizes, with ``overrides``)."""
    model_class, config_class = MODELS[kind]
    return model_class(config_class(**{**SMALL[kind], **overrides}), seed=seed)


def with_context(kind: str, n: int) -> dict[str, int]:
    return {CONTEXT[kind]: n}


# ---------------------------------------------------------------- known answers


def test_forward_shapes_and_initial_loss_is_ln_vocab(kind):
    model_class, config_class = MODELS[kind]
    model = model_class(config_class.preset("tiny"), seed=0)
    x, y = np.random.default_rng(0).integers(0, 65, size=(2, 4, 32))
    logits, loss = model(x, y)
    assert logits.shape == (4, 32, 65)
    assert abs(loss.item() - math.log(65)) < 0.05
    assert model(x)[1] is None


# ---------------------------------------------------------------- properties


@given(st.integers(1, 15), st.integers(0, 10_000))
def test_causal_the_future_never_changes_the_past(kind, t, seed):
    model = small(kind, seed=1)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 11, size=(1, 16))
    changed = x.copy()
    changed[0, t:] = rng.integers(0, 11, size=16 - t)
    np.testing.assert_allclose(model(x)[0].data[:, :t], model(changed)[0].data[:, :t], atol=1e-5)


@pytest.mark.parametrize(
    "cuts",
    [(5, *range(6, 17)), (5, 9, *range(10, 17)), (4, 16)],
    ids=["prompt-then-singles", "prompt-chunk-singles", "prompt-then-a-chunk"],
)
def test_kv_cache_logits_equal_full_recompute(kind, cuts):
    """The prompt, then the new tokens in the pieces ``cuts`` ends, through one cache: each
    piece sees every cached token, and the logits are a full pass's."""
    model = small(kind, seed=2)
    x = np.random.default_rng(0).integers(0, 11, size=(3, 16))
    full = model(x)[0].data  # (3, 16, 11)
    cache = KVCache(model.config, batch=3, dtype=np.float32)
    with no_grad():
        starts = (0, *cuts[:-1])
        pieces = [model._logits(x[:, a:b], cache).data for a, b in zip(starts, cuts, strict=True)]
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, atol=1e-5)


def test_kv_cache_keeps_a_float64_model_in_float64(kind):
    model = small(kind, seed=2).double()
    x = np.random.default_rng(0).integers(0, 11, size=(2, 16))
    cache = KVCache(model.config, batch=2, dtype=np.float64)
    with no_grad():
        steps = [model._logits(x[:, t : t + 1], cache).data for t in range(16)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), model(x)[0].data, atol=1e-12)


@pytest.mark.parametrize(
    "kw", [dict(temperature=0), dict(temperature=0.8, top_k=5), dict(top_p=0.9, seed=3)]
)
def test_generate_with_and_without_cache_agree_within_the_context(kind, kw):
    model = small(kind, seed=3)
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    kw = {"seed": 7, **kw}
    cached = model.generate(prompt, 13, **kw)
    assert cached.shape == (2, 16)
    np.testing.assert_array_equal(cached, model.generate(prompt, 13, use_cache=False, **kw))
    np.testing.assert_array_equal(cached[:, :3], prompt)


def test_generate_past_the_context_restarts_the_cache_from_half_of_it(kind):
    """Reference: a full recompute over the window the cache holds, which starts at the
    prompt and, when it outgrows the context, restarts from the last half of it (every
    cached key depends on the tokens before it, so the cache cannot simply slide)."""
    model = small(kind, seed=4, **with_context(kind, 8))
    prompt = np.array([[3, 1, 4]])
    out = model.generate(prompt, 20, temperature=0)
    ids, start = prompt.copy(), 0
    for _ in range(20):
        logits = model(ids[:, start:])[0].data[:, -1]
        ids = np.concatenate([ids, logits.argmax(-1)[:, None]], axis=1)
        if ids.shape[1] - start > 8:
            start = ids.shape[1] - 4
    np.testing.assert_array_equal(out, ids)
    full = model.generate(prompt, 20, temperature=0, use_cache=False)
    assert full.shape == (1, 23)
    np.testing.assert_array_equal(full[:, :9], out[:, :9])  # the same until the context fills
    long_prompt = np.arange(12)[None] % 11  # longer than the context: its last 8 tokens
    np.testing.assert_array_equal(model.generate(long_prompt, 1, temperature=0)[:, -1],
                                  model(long_prompt[:, -8:])[0].data[:, -1].argmax(-1))  # fmt: skip


def test_generation_allocates_only_what_it_needs(kind, monkeypatch):
    model = small(kind, seed=0, **with_context(kind, 4096))
    seen, real = [], KVCache.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        seen.append(self.capacity)

    monkeypatch.setattr(KVCache, "__init__", spy)
    model.generate([[1, 2, 3]], 5)
    assert seen == [8]  # the prompt and the new tokens, not 4096 positions per layer


def test_sampling_is_deterministic_for_a_seed_and_leaves_train_mode(kind):
    model = small(kind, seed=0, dropout=0.2)
    model.train()
    a, b = model.generate([[0]], 10, seed=11), model.generate([[0]], 10, seed=11)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, model.generate([[0]], 10, seed=12))
    assert model.training


def test_dropout_only_in_training(kind):
    model = small(kind, seed=0, dropout=0.5)
    x = np.arange(8)[None] % 11
    model.train()
    assert not np.allclose(model(x)[0].data, model(x)[0].data)
    model.eval()
    np.testing.assert_array_equal(model(x)[0].data, model(x)[0].data)


def test_optim_groups_decay_matrices_only(kind):
    biases = {"gpt": {}, "llama": dict(qkv_bias=True)}  # GPT has them by default
    model = small(kind, seed=0, **biases[kind])
    decay, no_decay = model.optim_groups(0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decay["params"])
    assert all(p.ndim == 1 for p in no_decay["params"]) and no_decay["params"]
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


# ---------------------------------------------------------------- training


def test_tied_embedding_gets_gradient_from_both_ends(kind):
    model = small(kind, seed=0)
    _, loss = model(np.array([[1, 2, 3]]), np.array([[2, 3, 4]]))
    loss.backward()
    grad = dict(model.named_parameters())[EMBEDDING[kind]].grad
    assert np.abs(grad[7]).sum() > 0  # token 7 never appears as input: only the head reaches it


def test_overfits_one_batch(kind, fit_one_batch):
    model = small(kind, seed=0, **WIDER[kind])
    x, y = np.random.default_rng(0).integers(0, 11, size=(2, 4, 16))
    assert fit_one_batch(model, AdamW(model.optim_groups(0.0), lr=1e-2), x, y, steps=120) < 0.15
