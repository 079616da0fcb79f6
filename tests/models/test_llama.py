"""Stage 5: the Llama model. Known answers (parameter counts, initial loss = ln V, grouped
heads = repeated heads), then properties (causality, relative positions, KV cache = full
recompute, the cache's restart past the context), then training behaviour (overfit a batch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup import nn
from groundup.models import build_model
from groundup.models.llama import PRESETS, Llama, LlamaConfig
from groundup.models.transformer import KVCache
from groundup.nn.functional import rope_cos_sin
from groundup.optim import AdamW
from groundup.tensor import Tensor, no_grad


def small(**overrides) -> LlamaConfig:
    base = dict(vocab_size=11, hidden_size=24, intermediate_size=40, num_hidden_layers=2,
                num_attention_heads=6, num_key_value_heads=2,
                max_position_embeddings=16)  # fmt: skip
    return LlamaConfig(**{**base, **overrides})


def expected_parameters(c: LlamaConfig) -> int:
    """Count from the architecture: embedding, per block 2 RMSNorm gains, q/k/v/o, SwiGLU."""
    C, D, H, Hkv = c.hidden_size, c.head_dim, c.num_attention_heads, c.num_key_value_heads
    attention = C * H * D + 2 * C * Hkv * D + H * D * C
    if c.attention_bias or c.qkv_bias:
        attention += H * D + 2 * Hkv * D
    if c.attention_bias:
        attention += C
    per_block = 2 * C + attention + 3 * C * c.intermediate_size
    head = 0 if c.tie_word_embeddings else c.vocab_size * C
    return c.vocab_size * C + c.num_hidden_layers * per_block + C + head


# ---------------------------------------------------------------- known answers


def test_smollm_135m_has_134_515_008_parameters_by_the_count():
    assert expected_parameters(LlamaConfig.preset("smollm")) == 134_515_008


@pytest.mark.parametrize("name", ["tiny", "baby"])
def test_preset_parameter_counts_are_gpts_less_its_positions_and_biases(name):
    from groundup.models.gpt import GPT, GPTConfig

    config = LlamaConfig.preset(name)
    llama, gpt = Llama(config, seed=0), GPT(GPTConfig.preset(name), seed=0)
    assert llama.num_parameters() == expected_parameters(config)
    C, L, T = config.hidden_size, config.num_hidden_layers, config.max_position_embeddings
    gpt_extra = T * C + L * (2 * C + 3 * C + C + 4 * C + C) + C  # wpe, biases, LN biases
    assert gpt.num_parameters() - llama.num_parameters() == gpt_extra


@pytest.mark.parametrize(
    "overrides",
    [dict(), dict(num_key_value_heads=None), dict(num_key_value_heads=1), dict(head_dim=10),
     dict(tie_word_embeddings=False), dict(qkv_bias=True), dict(attention_bias=True)],
    ids=["gqa", "mha", "mqa", "head_dim", "untied", "qkv_bias", "attention_bias"],
)  # fmt: skip
def test_parameter_count_of_every_variant(overrides):
    config = small(**overrides)
    assert Llama(config, seed=0).num_parameters() == expected_parameters(config)


def test_no_biases_no_layernorm_by_default_and_hugging_face_names():
    model = Llama(small(tie_word_embeddings=False), seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert not any(name.endswith("bias") for name in names)
    assert not any(isinstance(m, nn.LayerNorm) for m in model.modules())
    assert names[:4] == [
        "model.embed_tokens.weight",
        "model.layers.0.input_layernorm.weight",
        "model.layers.0.self_attn.q_proj.weight",
        "model.layers.0.self_attn.k_proj.weight",
    ]
    assert names[-2:] == ["model.norm.weight", "lm_head.weight"]
    assert "model.layers.1.mlp.gate_proj.weight" in names
    q = dict(model.named_parameters())["model.layers.0.self_attn.k_proj.weight"]
    assert q.shape == (2 * 4, 24)  # 2 key/value heads of head_dim 24 / 6 = 4


def test_qwen2_biases_are_on_q_k_v_only():
    names = {name for name, _ in Llama(small(qkv_bias=True), seed=0).named_parameters()}
    assert {n.rsplit(".", 2)[-2] for n in names if n.endswith("bias")} == {"q_proj", "k_proj",
                                                                          "v_proj"}  # fmt: skip
    names = {name for name, _ in Llama(small(attention_bias=True), seed=0).named_parameters()}
    assert "model.layers.0.self_attn.o_proj.bias" in names


def test_preset_overrides_and_unknown_preset():
    assert LlamaConfig.preset("tiny", vocab_size=27).vocab_size == 27
    assert set(PRESETS) == {"tiny", "baby", "lecture", "smollm"}
    assert LlamaConfig.preset("tiny").block_size == 32
    with pytest.raises(ValueError, match="preset must be one of"):
        LlamaConfig.preset("huge")


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(num_key_value_heads=4), "num_key_value_heads must divide num_attention_heads"),
        (dict(hidden_size=25), "hidden_size must be a multiple of num_attention_heads"),
        (dict(head_dim=5), "head_dim must be even"),
        (dict(head_dim=0), "head_dim must be a positive int"),
        (dict(max_position_embeddings=0), "max_position_embeddings"),
        (dict(num_hidden_layers=True), "num_hidden_layers"),
        (dict(rope_theta=0.0), "rope_theta must be positive"),
        (dict(rms_norm_eps=-1.0), "rms_norm_eps must be positive"),
        (dict(dropout=1.0), "dropout"),
        (dict(init="xavier"), "init must be one of"),
    ],
)
def test_config_errors_name_the_field(bad, match):
    with pytest.raises(ValueError, match=match):
        small(**bad)


def test_gpt2_initialisation_scales_the_residual_projections():
    model = Llama(LlamaConfig(vocab_size=300, hidden_size=128, intermediate_size=256,
                              num_hidden_layers=6), seed=0)  # fmt: skip
    params = dict(model.named_parameters())
    assert abs(params["model.embed_tokens.weight"].data.std() - 0.02) < 1e-3
    assert abs(params["model.layers.0.mlp.up_proj.weight"].data.std() - 0.02) < 1e-3
    down = np.concatenate([params[f"model.layers.{i}.mlp.down_proj.weight"].data.ravel()
                           for i in range(6)])  # fmt: skip
    assert abs(down.std() - 0.02 / math.sqrt(12)) < 2e-4
    assert np.all(params["model.norm.weight"].data == 1)
    pytorch = dict(
        Llama(small(init="pytorch", tie_word_embeddings=False), seed=0).named_parameters()
    )
    assert abs(float(pytorch["model.embed_tokens.weight"].data.std()) - 1.0) < 0.1


def test_forward_shapes_and_initial_loss_is_ln_vocab():
    model = Llama(LlamaConfig.preset("tiny"), seed=0)
    x, y = np.random.default_rng(0).integers(0, 65, size=(2, 4, 32))
    logits, loss = model(x, y)
    assert logits.shape == (4, 32, 65)
    assert abs(loss.item() - math.log(65)) < 0.05
    assert model(x)[1] is None


def test_grouped_heads_equal_multi_head_attention_with_each_kv_head_repeated():
    """Query head h uses key/value head h // G (G = 3 here): repeating each kv head's rows
    G times in k_proj and v_proj gives a 6-kv-head model with the same logits."""
    gqa = Llama(small(), seed=1)
    mha = Llama(small(num_key_value_heads=6), seed=2)
    D = 4
    state = gqa.state_dict()
    for key, value in state.items():
        if key.endswith(("k_proj.weight", "v_proj.weight")):
            heads = value.reshape(2, D, -1)  # (kv head, D, C)
            state[key] = np.repeat(heads, 3, axis=0).reshape(6 * D, -1)
    mha.load_state_dict(state)
    x = np.random.default_rng(0).integers(0, 11, size=(2, 16))
    np.testing.assert_allclose(mha(x)[0].data, gqa(x)[0].data, atol=1e-6)


def test_build_model_round_trip():
    model = Llama(small(dropout=0.1, qkv_bias=True, head_dim=6), seed=0)
    again = build_model("llama", model.model_kwargs())
    assert again.config == model.config and model.MODEL_TYPE == "llama"


def test_too_long_is_fine_and_bad_ids_are_errors():
    model = Llama(small(), seed=0)
    assert model(np.zeros((1, 20), dtype=np.int64))[0].shape == (1, 20, 11)  # past 16: RoPE
    with pytest.raises(ValueError, match="idx must be ints"):
        model(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="targets must have the shape"):
        model(np.zeros((1, 3), dtype=np.int64), np.zeros((1, 4), dtype=np.int64))


# ---------------------------------------------------------------- properties


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 15), st.integers(0, 10_000))
def test_causal_the_future_never_changes_the_past(t, seed):
    model = Llama(small(), seed=1)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 11, size=(1, 16))
    changed = x.copy()
    changed[0, t:] = rng.integers(0, 11, size=16 - t)
    np.testing.assert_allclose(model(x)[0].data[:, :t], model(changed)[0].data[:, :t], atol=1e-5)


@pytest.mark.parametrize("shift", [1, 7, 1000])
def test_attention_sees_only_relative_positions(shift):
    """Every token moved on by the same number of positions: the same attention output."""
    model = Llama(small(), seed=2).double()
    attn = model.model.layers[0].self_attn
    x = Tensor(np.random.default_rng(0).standard_normal((2, 10, 24)), dtype="float64")
    outputs = []
    for start in (0, shift):
        cos, sin = rope_cos_sin(np.arange(start, start + 10), 4, 10000.0, dtype=np.float64)
        outputs.append(attn(x, cos, sin).data)
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-10)


def test_kv_cache_logits_equal_full_recompute():
    model = Llama(small(), seed=2)
    x = np.random.default_rng(0).integers(0, 11, size=(3, 16))
    full = model(x)[0].data  # (3, 16, 11)
    cache = KVCache(model.config, batch=3, dtype=np.float32)
    with no_grad():
        prompt = model._logits(x[:, :5], cache).data  # five tokens, a chunk of four, then singles
        chunk = model._logits(x[:, 5:9], cache).data
        steps = [model._logits(x[:, t : t + 1], cache).data for t in range(9, 16)]
    incremental = np.concatenate([prompt, chunk, *steps], axis=1)
    np.testing.assert_allclose(incremental, full, atol=1e-5)


@pytest.mark.parametrize("kv_heads, factor", [(None, 1), (2, 3), (1, 6)])
def test_the_cache_holds_only_the_key_value_heads(kv_heads, factor):
    mha = KVCache(small(num_key_value_heads=None), batch=2, dtype=np.float32)
    cache = KVCache(small(num_key_value_heads=kv_heads), batch=2, dtype=np.float32)
    assert cache.k[0].shape == (2, 6 // factor, 16, 4)
    assert cache.bytes_per_token == 2 * 2 * 2 * (6 // factor) * 4 * 4  # k,v x layers x batch
    assert mha.bytes_per_token == factor * cache.bytes_per_token


@pytest.mark.parametrize(
    "kw", [dict(temperature=0), dict(temperature=0.8, top_k=5), dict(top_p=0.9, seed=3)]
)
def test_generate_with_and_without_cache_agree_within_the_context(kw):
    model = Llama(small(), seed=3)
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    kw = {"seed": 7, **kw}
    cached = model.generate(prompt, 13, **kw)
    assert cached.shape == (2, 16)
    np.testing.assert_array_equal(cached, model.generate(prompt, 13, use_cache=False, **kw))
    np.testing.assert_array_equal(cached[:, :3], prompt)


def test_generate_past_the_context_restarts_the_cache_from_half_of_it():
    """Reference: a full recompute over the window the cache holds, which starts at the
    prompt and, when it outgrows the context, restarts from the last half of it (the keys of
    the second layer remember the dropped token, so the cache cannot simply slide)."""
    model = Llama(small(max_position_embeddings=8), seed=4)
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
    np.testing.assert_array_equal(full[:, :9], out[:, :9])  # the same until the context fills
    long_prompt = np.arange(12)[None] % 11  # longer than the context: its last 8 tokens
    np.testing.assert_array_equal(model.generate(long_prompt, 1, temperature=0)[:, -1],
                                  model(long_prompt[:, -8:])[0].data[:, -1].argmax(-1))  # fmt: skip


def test_generation_allocates_only_what_it_needs(monkeypatch):
    model = Llama(LlamaConfig(max_position_embeddings=4096), seed=0)
    seen, real = [], KVCache.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        seen.append(self.capacity)

    monkeypatch.setattr(KVCache, "__init__", spy)
    model.generate([[1, 2, 3]], 5)
    assert seen == [8]  # the prompt and the new tokens, not 4096 positions per layer


def test_sampling_is_deterministic_for_a_seed_and_leaves_train_mode():
    model = Llama(small(dropout=0.2), seed=0)
    model.train()
    a, b = model.generate([[0]], 10, seed=11), model.generate([[0]], 10, seed=11)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, model.generate([[0]], 10, seed=12))
    assert model.training


def test_dropout_only_in_training():
    model = Llama(small(dropout=0.5), seed=0)
    x = np.arange(8)[None] % 11
    model.train()
    assert not np.allclose(model(x)[0].data, model(x)[0].data)
    model.eval()
    np.testing.assert_array_equal(model(x)[0].data, model(x)[0].data)


def test_optim_groups_decay_matrices_only():
    model = Llama(small(qkv_bias=True), seed=0)
    decay, no_decay = model.optim_groups(0.1)
    assert all(p.ndim == 2 for p in decay["params"]) and no_decay["weight_decay"] == 0.0
    assert all(p.ndim == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_generate_errors():
    model = Llama(small(), seed=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        model.generate([[1]], -1)
    with pytest.raises(ValueError, match="at least one token"):
        model.generate(np.zeros((1, 0), dtype=np.int64), 3)


# ---------------------------------------------------------------- training


def test_overfits_one_batch():
    model = Llama(small(hidden_size=32, num_attention_heads=4, intermediate_size=64), seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 11, size=(2, 4, 16))
    optimizer = AdamW(model.optim_groups(0.0), lr=1e-2)
    for _ in range(120):
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.15


def test_tied_embedding_gets_gradient_from_both_ends():
    model = Llama(small(), seed=0)
    _, loss = model(np.array([[1, 2, 3]]), np.array([[2, 3, 4]]))
    loss.backward()
    assert np.abs(model.model.embed_tokens.weight.grad[7]).sum() > 0  # only the head reaches 7
