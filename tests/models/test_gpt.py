"""Stage 4: the GPT model. Known answers (parameter counts, initial loss = ln V), then
properties (causality, KV cache = full recompute), then training behaviour (overfit a batch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundup.models import build_model
from groundup.models.gpt import GPT, PRESETS, GPTConfig, KVCache
from groundup.optim import AdamW
from groundup.tensor import no_grad


def small(**overrides) -> GPTConfig:
    return GPTConfig(
        **{**dict(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16), **overrides}
    )


def expected_parameters(c: GPTConfig) -> int:
    """Count from the architecture: embeddings, per block 2 LayerNorms, qkv, proj, MLP."""
    C = c.n_embd
    layer_norms = 2 * 2 * C
    attention = (3 * C * C + 3 * C) + (C * C + C)
    mlp = (4 * C * C + 4 * C) + (4 * C * C + C)
    per_block = layer_norms + attention + mlp
    head = 0 if c.tie_weights else c.vocab_size * C
    return c.vocab_size * C + c.block_size * C + c.n_layer * per_block + 2 * C + head


# ---------------------------------------------------------------- known answers


def test_gpt2_small_has_124_439_808_parameters_by_the_count():
    assert expected_parameters(GPTConfig.preset("gpt2")) == 124_439_808


@pytest.mark.parametrize("name", ["tiny", "baby"])
def test_preset_parameter_counts(name):
    config = GPTConfig.preset(name)
    assert GPT(config, seed=0).num_parameters() == expected_parameters(config)


def test_tiny_is_the_021M_model_and_lecture_about_10_8M():
    assert round(expected_parameters(GPTConfig.preset("tiny")) / 1e6, 2) == 0.21
    assert round(expected_parameters(GPTConfig.preset("lecture")) / 1e6, 1) == 10.8


def test_untied_model_has_its_own_head():
    tied, untied = GPT(small(), seed=0), GPT(small(tie_weights=False), seed=0)
    names = dict(untied.named_parameters())
    assert "lm_head.weight" in names and "lm_head.weight" not in dict(tied.named_parameters())
    assert untied.num_parameters() - tied.num_parameters() == 11 * 16


def test_preset_overrides_and_unknown_preset():
    assert GPTConfig.preset("tiny", vocab_size=27).vocab_size == 27
    assert set(PRESETS) == {"tiny", "baby", "lecture", "gpt2"}
    with pytest.raises(ValueError, match="preset must be one of"):
        GPTConfig.preset("huge")


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(n_embd=10, n_head=3), "multiple of n_head"),
        (dict(block_size=0), "block_size"),
        (dict(dropout=1.0), "dropout"),
        (dict(n_layer=True), "n_layer"),
    ],
)
def test_config_errors_name_the_field(bad, match):
    with pytest.raises(ValueError, match=match):
        small(**bad)


def test_gpt2_initialisation():
    model = GPT(GPTConfig(vocab_size=300, block_size=64, n_layer=6, n_head=4, n_embd=128), seed=0)
    params = dict(model.named_parameters())
    assert abs(params["transformer.wte.weight"].data.std() - 0.02) < 1e-3
    assert abs(params["transformer.h.0.attn.c_attn.weight"].data.std() - 0.02) < 1e-3
    resid = np.concatenate(
        [params[f"transformer.h.{i}.mlp.c_proj.weight"].data.ravel() for i in range(6)]
    )
    assert abs(resid.std() - 0.02 / math.sqrt(12)) < 2e-4
    assert np.all(params["transformer.h.3.attn.c_attn.bias"].data == 0)
    assert np.all(params["transformer.ln_f.weight"].data == 1)
    assert params["transformer.wte.weight"].data.dtype == np.float32


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = GPT(small(), seed=5), GPT(small(), seed=5), GPT(small(), seed=6)
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    assert not np.array_equal(a.transformer.wte.weight.data, c.transformer.wte.weight.data)


def test_forward_shapes_and_initial_loss_is_ln_vocab():
    model = GPT(GPTConfig.preset("tiny"), seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 65, size=(2, 4, 32))
    logits, loss = model(x, y)
    assert logits.shape == (4, 32, 65)
    assert abs(loss.item() - math.log(65)) < 0.05
    assert model(x)[1] is None


def test_targets_minus_one_are_ignored():
    model = GPT(small(), seed=0)
    x = np.array([[1, 2, 3, 4]])
    y_full, y_pad = np.array([[2, 3, 4, 5]]), np.array([[2, 3, -1, -1]])
    logits, loss = model(x, y_pad)
    logp = logits.data[0] - np.log(np.exp(logits.data[0]).sum(-1, keepdims=True))
    assert loss.item() == pytest.approx(-(logp[0, 2] + logp[1, 3]) / 2, abs=1e-5)
    assert model(x, y_full)[1].item() != pytest.approx(loss.item())


def test_too_long_input_and_bad_ids_are_errors():
    model = GPT(small(), seed=0)
    with pytest.raises(ValueError, match="exceeds block_size 16"):
        model(np.zeros((1, 17), dtype=np.int64))
    with pytest.raises(ValueError, match="idx must be ints"):
        model(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="targets must have the shape"):
        model(np.zeros((1, 3), dtype=np.int64), np.zeros((1, 4), dtype=np.int64))


def test_build_model_round_trip():
    model = GPT(small(dropout=0.1, bias=False), seed=0)
    again = build_model("gpt", model.model_kwargs())
    assert again.config == model.config
    assert model.MODEL_TYPE == "gpt"


# ---------------------------------------------------------------- properties


@given(st.integers(1, 15), st.integers(0, 10_000))
def test_causal_the_future_never_changes_the_past(t, seed):
    model = GPT(small(), seed=1)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 11, size=(1, 16))
    changed = x.copy()
    changed[0, t:] = rng.integers(0, 11, size=16 - t)
    a, b = model(x)[0].data, model(changed)[0].data
    np.testing.assert_allclose(a[:, :t], b[:, :t], atol=1e-5)


def test_kv_cache_logits_equal_full_recompute():
    model = GPT(small(), seed=2)
    x = np.random.default_rng(0).integers(0, 11, size=(3, 16))
    full = model(x)[0].data  # (3, 16, 11)
    cache = KVCache(model.config, batch=3, dtype=np.float32)
    with no_grad():
        prompt = model._logits(x[:, :5], cache).data  # five tokens at once, then one by one
        steps = [model._logits(x[:, t : t + 1], cache).data for t in range(5, 16)]
    incremental = np.concatenate([prompt, *steps], axis=1)
    np.testing.assert_allclose(incremental, full, atol=1e-5)


def test_kv_cache_keeps_a_float64_model_in_float64():
    model = GPT(small(), seed=2).double()
    x = np.random.default_rng(0).integers(0, 11, size=(2, 16))
    cache = KVCache(model.config, batch=2, dtype=np.float64)
    with no_grad():
        steps = [model._logits(x[:, t : t + 1], cache).data for t in range(16)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), model(x)[0].data, atol=1e-12)


def test_kv_cache_accepts_a_chunk_after_the_prompt():
    model = GPT(small(), seed=2)
    x = np.random.default_rng(1).integers(0, 11, size=(2, 12))
    cache = KVCache(model.config, batch=2, dtype=np.float32)
    with no_grad():
        a = model._logits(x[:, :4], cache).data
        b = model._logits(x[:, 4:12], cache).data  # 8 new tokens see 4 cached ones
    np.testing.assert_allclose(np.concatenate([a, b], 1), model(x)[0].data, atol=1e-5)


@pytest.mark.parametrize(
    "kw", [dict(temperature=0), dict(temperature=0.8, top_k=5), dict(top_p=0.9, seed=3)]
)
def test_generate_with_and_without_cache_agree_within_the_block(kw):
    model = GPT(small(), seed=3)
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    kw = {"seed": 7, **kw}
    cached = model.generate(prompt, 13, **kw)
    full = model.generate(prompt, 13, use_cache=False, **kw)
    assert cached.shape == (2, 16)
    np.testing.assert_array_equal(cached, full)
    np.testing.assert_array_equal(cached[:, :3], prompt)


def test_generate_past_block_size_restarts_the_cache_from_half_a_block():
    """Reference: a full recompute over the same window the cache holds; the window starts
    at the prompt and, when it outgrows block_size, restarts from the last block_size // 2."""
    model = GPT(small(block_size=8), seed=4)
    prompt = np.array([[3, 1, 4]])
    out = model.generate(prompt, 20, temperature=0)
    ids, start = prompt.copy(), 0
    for _ in range(20):
        logits = model(ids[:, start:])[0].data[:, -1]
        ids = np.concatenate([ids, logits.argmax(-1)[:, None]], axis=1)
        if ids.shape[1] - start > 8:
            start = ids.shape[1] - 4
    np.testing.assert_array_equal(out, ids)
    long_full = model.generate(prompt, 20, temperature=0, use_cache=False)
    assert long_full.shape == (1, 23)
    np.testing.assert_array_equal(long_full[:, :9], out[:, :9])  # same until the block fills


def test_sampling_is_deterministic_for_a_seed_and_leaves_train_mode():
    model = GPT(small(dropout=0.2), seed=0)
    model.train()
    a = model.generate([[0]], 10, seed=11)
    b = model.generate([[0]], 10, seed=11)
    c = model.generate([[0]], 10, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert model.training


def test_dropout_only_in_training():
    model = GPT(small(dropout=0.5), seed=0)
    x = np.arange(8)[None] % 11
    model.train()
    assert not np.allclose(model(x)[0].data, model(x)[0].data)
    model.eval()
    np.testing.assert_array_equal(model(x)[0].data, model(x)[0].data)


def test_optim_groups_decay_matrices_only():
    model = GPT(small(), seed=0)
    decay, no_decay = model.optim_groups(0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decay["params"])
    assert all(p.ndim == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


# ---------------------------------------------------------------- training


def test_tied_embedding_gets_gradient_from_both_ends():
    model = GPT(small(), seed=0)
    x = np.array([[1, 2, 3]])
    _, loss = model(x, np.array([[2, 3, 4]]))
    loss.backward()
    grad = model.transformer.wte.weight.grad
    assert np.abs(grad[7]).sum() > 0  # token 7 never appears as input: only the head reaches it


def test_overfits_one_batch():
    model = GPT(small(n_embd=32, n_head=4), seed=0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 11, size=(4, 16))
    y = rng.integers(0, 11, size=(4, 16))
    optimizer = AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    for _ in range(120):
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.15


def test_pytorch_init_follows_the_layer_defaults():
    import math

    import numpy as np

    from groundup.models.gpt import GPT, GPTConfig

    config = GPTConfig.preset("tiny", vocab_size=65, tie_weights=False, init="pytorch")
    params = dict(GPT(config, seed=0).named_parameters())
    wte = params["transformer.wte.weight"].data
    assert abs(float(wte.std()) - 1.0) < 0.05  # Embedding: N(0, 1)
    fc = params["transformer.h.0.mlp.c_fc.weight"].data  # Linear(64, 256): U(+-1/8)
    bound = 1 / math.sqrt(64)
    assert np.abs(fc).max() <= bound and np.abs(fc).max() > 0.95 * bound
    assert abs(float(fc.std()) - bound / math.sqrt(3)) < 0.005
    gpt2 = dict(GPT(GPTConfig.preset("tiny", vocab_size=65), seed=0).named_parameters())
    assert abs(float(gpt2["transformer.wte.weight"].data.std()) - 0.02) < 0.002


def test_unknown_init_is_named():
    import pytest

    from groundup.models.gpt import GPTConfig

    with pytest.raises(ValueError, match="init must be one of"):
        GPTConfig(init="xavier")
