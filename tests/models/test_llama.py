"""Stage 5: the Llama model. Known answers (parameter counts, grouped heads = repeated
heads), then its own properties (relative positions, a cache of the key/value heads only).
What Llama shares with GPT (initial loss = ln V, causality, KV cache = full recompute, the
cache's restart past the context, overfitting a batch) is tested on both in
test_transformer.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from groundup import nn
from groundup.models import build_model
from groundup.models.llama import PRESETS, Llama, LlamaConfig
from groundup.models.transformer import KVCache
from groundup.nn.functional import rope_cos_sin
from groundup.tensor import Tensor


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


def test_preset_overrides():
    assert LlamaConfig.preset("tiny", vocab_size=27).vocab_size == 27
    assert set(PRESETS) == {"tiny", "baby", "lecture", "smollm"}
    assert LlamaConfig.preset("tiny").block_size == 32


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


def test_past_the_context_is_fine():
    model = Llama(small(), seed=0)
    assert model(np.zeros((1, 20), dtype=np.int64))[0].shape == (1, 20, 11)  # past 16: RoPE


# ---------------------------------------------------------------- properties


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


@pytest.mark.parametrize("kv_heads, factor", [(None, 1), (2, 3), (1, 6)])
def test_the_cache_holds_only_the_key_value_heads(kv_heads, factor):
    mha = KVCache(small(num_key_value_heads=None), batch=2, dtype=np.float32)
    cache = KVCache(small(num_key_value_heads=kv_heads), batch=2, dtype=np.float32)
    assert cache.k[0].shape == (2, 6 // factor, 16, 4)
    assert cache.bytes_per_token == 2 * 2 * 2 * (6 // factor) * 4 * 4  # k,v x layers x batch
    assert mha.bytes_per_token == factor * cache.bytes_per_token
