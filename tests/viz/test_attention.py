"""Attention maps: the weights a GPT puts on earlier tokens, and their layer x head picture."""

from __future__ import annotations

import numpy as np
import pytest

from groundup.models.gpt import GPT, GPTConfig
from groundup.tokenizers import CharTokenizer
from groundup.viz.attention import attention_maps, plot_attention_maps

TEXT = "to be or not to be"


@pytest.fixture
def model_and_tokenizer():
    tokenizer = CharTokenizer.from_text(TEXT)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, block_size=24, n_layer=2, n_head=3,
                       n_embd=12)  # fmt: skip
    return GPT(config, seed=0), tokenizer


def test_shape_rows_sum_to_one_and_no_look_ahead(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    weights = attention_maps(model, TEXT, tokenizer)
    T = len(TEXT)
    assert weights.shape == (2, 3, T, T)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(weights, k=1) == 0)
    assert weights.min() >= 0


def test_equal_queries_and_keys_give_a_uniform_average(model_and_tokenizer):
    """Known answer: with zero query/key weights every score is 0, so row t is 1/(t + 1)."""
    model, tokenizer = model_and_tokenizer
    C = model.config.n_embd
    for block in model.transformer.h:
        block.attn.c_attn.weight.data[: 2 * C] = 0.0  # the q and k rows of the fused matrix
        block.attn.c_attn.bias.data[: 2 * C] = 0.0
    weights = attention_maps(model, "to be", tokenizer)
    expected = np.tril(np.ones((5, 5))) / np.arange(1, 6)[:, None]
    np.testing.assert_allclose(weights[1, 2], expected, atol=1e-6)


def test_the_maps_reproduce_the_attention_output(model_and_tokenizer):
    """weights @ v is what the fused attention computes inside the model."""
    from groundup.nn import functional as F

    model, tokenizer = model_and_tokenizer
    ids = np.array([tokenizer.encode(TEXT)])
    weights = attention_maps(model, ids[0], None)
    tr = model.transformer
    model.eval()
    x = tr.wte(ids) + tr.wpe(np.arange(ids.shape[1]))
    q, k, v = tr.h[0].attn.qkv(tr.h[0].ln_1(x))
    fused = F.scaled_dot_product_attention(q, k, v, is_causal=True).data[0]
    np.testing.assert_allclose(weights[0] @ v.data[0], fused, atol=1e-5)


def test_leaves_the_training_mode_alone(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    model.train()
    attention_maps(model, "to", tokenizer)
    assert model.training


def test_errors(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    with pytest.raises(ValueError, match="tokenizer is needed"):
        attention_maps(model, TEXT)
    with pytest.raises(ValueError, match="more than block_size 24"):
        attention_maps(model, TEXT * 2, tokenizer)


def test_plot_is_a_layer_by_head_grid(model_and_tokenizer, tmp_path):
    pytest.importorskip("matplotlib")
    model, tokenizer = model_and_tokenizer
    weights = attention_maps(model, "to be", tokenizer)
    path = tmp_path / "attention.png"
    fig = plot_attention_maps(weights, list("to be"), path=path)
    assert len(fig.axes) == 2 * 3
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["t", "o", " ", "b", "e"]
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="labels must have T=5"):
        plot_attention_maps(weights, list("to"))
    with pytest.raises(ValueError, match="n_layer, n_head, T, T"):
        plot_attention_maps(weights[0])
