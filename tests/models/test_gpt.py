"""Stage 4: the GPT model. Known answers (parameter counts, GPT-2's initialisation, padding
ignored), the errors, and PyTorch's initialisation. What GPT shares with Llama (initial loss
= ln V, causality, KV cache = full recompute, generation, overfitting a batch) is tested on
both in test_transformer.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from groundup.models import build_model
from groundup.models.gpt import GPT, PRESETS, GPTConfig


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


def test_preset_overrides():
    assert GPTConfig.preset("tiny", vocab_size=27).vocab_size == 27
    assert set(PRESETS) == {"tiny", "baby", "lecture", "gpt2"}


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


def test_targets_minus_one_are_ignored():
    model = GPT(small(), seed=0)
    x = np.array([[1, 2, 3, 4]])
    y_full, y_pad = np.array([[2, 3, 4, 5]]), np.array([[2, 3, -1, -1]])
    logits, loss = model(x, y_pad)
    logp = logits.data[0] - np.log(np.exp(logits.data[0]).sum(-1, keepdims=True))
    assert loss.item() == pytest.approx(-(logp[0, 2] + logp[1, 3]) / 2, abs=1e-5)
    assert model(x, y_full)[1].item() != pytest.approx(loss.item())


def test_build_model_round_trip():
    model = GPT(small(dropout=0.1, bias=False), seed=0)
    again = build_model("gpt", model.model_kwargs())
    assert again.config == model.config
    assert model.MODEL_TYPE == "gpt"


# ---------------------------------------------------------------- initialisation


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
