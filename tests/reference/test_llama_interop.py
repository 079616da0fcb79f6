"""Llama and Qwen2 interoperability: Hugging Face LlamaForCausalLM / Qwen2ForCausalLM folders
load into groundup's Llama, and groundup Llamas save into folders transformers opens, with the
same logits, loss, gradients and greedy continuations. Small random models with odd sizes
(hidden 48, 6 query heads, 2 key/value heads ...) built from a config: no download."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from hf_reference import backward_both, hf_greedy, hf_logits, perturb_  # noqa: E402

from groundup.models.llama import Llama, LlamaConfig  # noqa: E402
from groundup.nn import functional, fused  # noqa: E402

V, T_MAX = 37, 32
pytestmark = pytest.mark.usefixtures("one_torch_thread")

CONFIGS = {
    "llama-theta1e4-untied": ("llama", dict(rope_theta=10000.0, tie_word_embeddings=False)),
    "llama-theta5e5-tied": ("llama", dict(rope_theta=500000.0, tie_word_embeddings=True)),
    "llama-mqa-head_dim10": ("llama", dict(num_key_value_heads=1, head_dim=10)),
    "llama-attention_bias": ("llama", dict(attention_bias=True, num_key_value_heads=6)),
    "qwen2-qkv-bias": ("qwen2", dict(rope_theta=1e6)),
    "qwen2-tied": ("qwen2", dict(tie_word_embeddings=True, num_key_value_heads=3)),
}


def hf_model(kind: str, seed: int = 0, **overrides):
    config = dict(vocab_size=V, hidden_size=48, intermediate_size=100, num_hidden_layers=2,
                  num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=T_MAX,
                  rms_norm_eps=1e-5, bos_token_id=0, eos_token_id=0)  # fmt: skip
    config.update(overrides)
    if kind == "llama":
        model_class, config_class = transformers.LlamaForCausalLM, transformers.LlamaConfig
    else:
        model_class, config_class = transformers.Qwen2ForCausalLM, transformers.Qwen2Config
    torch.manual_seed(seed)
    model = model_class(config_class(**config)).eval()
    perturb_(model, gains="norm")
    return model


@pytest.fixture
def ids():
    return np.random.default_rng(0).integers(0, V, size=(2, 12))


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- Hugging Face -> groundup


@pytest.mark.parametrize("name", list(CONFIGS))
def test_hugging_face_folder_loads_with_equal_logits_loss_and_greedy(tmp_path, ids, name):
    kind, overrides = CONFIGS[name]
    ref = hf_model(kind, **overrides)
    ref.save_pretrained(tmp_path)
    ours = Llama.from_pretrained(tmp_path)
    assert ours.num_parameters() == n_params(ref)
    assert ours.config.qkv_bias is (kind == "qwen2")
    targets = np.roll(ids, -1, axis=1)
    logits, loss = ours(ids, targets)
    np.testing.assert_allclose(logits.data, hf_logits(ref, ids), atol=1e-4, rtol=0)
    with torch.no_grad():
        ref_loss = ref(torch.from_numpy(ids), labels=torch.from_numpy(ids)).loss.item()
    ours_shifted = ours(ids[:, :-1], ids[:, 1:])[1].item()  # HF shifts the labels itself
    assert ours_shifted == pytest.approx(ref_loss, abs=1e-5)
    greedy = hf_greedy(ref, ids, 20)  # 12 + 20 = 32 tokens: the whole context
    np.testing.assert_array_equal(ours.generate(ids, 20, temperature=0), greedy)
    np.testing.assert_array_equal(ours.generate(ids, 20, temperature=0, use_cache=False), greedy)
    assert np.isfinite(loss.item())


@pytest.mark.parametrize("name", ["llama-theta5e5-tied", "llama-theta1e4-untied", "qwen2-qkv-bias"])
def test_gradients_match_torch_autograd(tmp_path, ids, name):
    """Backward through our engine gives Hugging Face's gradients, every parameter."""
    kind, overrides = CONFIGS[name]
    ref = hf_model(kind, **overrides)
    ref.save_pretrained(tmp_path)
    ours = Llama.from_pretrained(tmp_path)
    loss, ref_loss, ref_grads = backward_both(ours, ref, ids)
    assert loss == pytest.approx(ref_loss, abs=1e-5)
    ours_grads = {name: p.grad for name, p in ours.named_parameters()}
    for key in ("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight"):
        np.testing.assert_allclose(ours_grads[key], ref_grads[key], atol=1e-4, err_msg=key)
    for key, grad in ours_grads.items():
        np.testing.assert_allclose(grad, ref_grads[key], atol=1e-4, err_msg=key)


def test_a_transformers_4_config_and_old_buffers_load(tmp_path, ids):
    """transformers 4 wrote rope_theta and rope_scaling (no rope_parameters), and older
    checkpoints stored the rotary_emb.inv_freq buffers: both still load."""
    from safetensors.numpy import save_file

    ref = hf_model("llama", rope_theta=500000.0)
    config = ref.config.to_dict()
    config.pop("rope_parameters")
    config.update(rope_theta=500000.0, rope_scaling=None)
    (tmp_path / "config.json").write_text(json.dumps(config))
    state = {k: v.numpy() for k, v in ref.state_dict().items()}
    for i in range(2):
        state[f"model.layers.{i}.self_attn.rotary_emb.inv_freq"] = np.ones(4, np.float32)
    save_file(state, str(tmp_path / "model.safetensors"))
    ours = Llama.from_pretrained(tmp_path)
    assert ours.config.rope_theta == 500000.0
    np.testing.assert_allclose(ours(ids)[0].data, hf_logits(ref, ids), atol=1e-4, rtol=0)


def test_bfloat16_weights_load_as_the_float32_they_widen_to(tmp_path, ids):
    ref = hf_model("qwen2").to(torch.bfloat16)
    ref.save_pretrained(tmp_path)
    ours = Llama.from_pretrained(tmp_path)
    ref = ref.float()  # bf16 -> f32 is exact: the same weights as ours
    np.testing.assert_allclose(ours(ids)[0].data, hf_logits(ref, ids), atol=1e-4, rtol=0)


# ---------------------------------------------------------------- groundup -> Hugging Face


@pytest.mark.parametrize(
    "overrides, architecture",
    [
        (dict(tie_word_embeddings=True), "LlamaForCausalLM"),
        (dict(tie_word_embeddings=False, rope_theta=500000.0), "LlamaForCausalLM"),
        (dict(qkv_bias=True), "Qwen2ForCausalLM"),
        (dict(attention_bias=True, num_key_value_heads=1), "LlamaForCausalLM"),
        (dict(head_dim=10, num_key_value_heads=3), "LlamaForCausalLM"),
    ],
)
def test_groundup_model_opens_in_transformers(tmp_path, ids, overrides, architecture):
    sizes = dict(
        vocab_size=V,
        hidden_size=48,
        intermediate_size=100,
        num_hidden_layers=2,
        num_attention_heads=6,
        num_key_value_heads=2,
        max_position_embeddings=T_MAX,
    )
    ours = Llama(LlamaConfig(**{**sizes, **overrides}), seed=1)
    rng = np.random.default_rng(0)
    for p in ours.parameters():  # biases and gains away from 0 and 1, as HF's above
        if p.ndim == 1:
            p.data += 0.1 * rng.standard_normal(p.shape).astype(np.float32)
    ours.save_pretrained(tmp_path)
    ref = transformers.AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert type(ref).__name__ == architecture
    assert n_params(ref) == ours.num_parameters()
    np.testing.assert_allclose(hf_logits(ref, ids), ours(ids)[0].data, atol=1e-4, rtol=0)
    np.testing.assert_array_equal(hf_greedy(ref, ids, 20), ours.generate(ids, 20, temperature=0))
    back = Llama.from_pretrained(tmp_path)  # and back again: every weight as it was
    assert back.config == ours.config
    for (name, p), (name2, q) in zip(ours.named_parameters(), back.named_parameters(), strict=True):
        assert name == name2
        np.testing.assert_array_equal(p.data, q.data)


# ---------------------------------------------------------------- what is refused


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(rope_parameters={"rope_type": "llama3", "factor": 8.0, "rope_theta": 5e5,
                               "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                               "original_max_position_embeddings": 8}), "rope_parameters"),
        (dict(rope_scaling={"type": "linear", "factor": 2.0}), "rope_scaling"),
        (dict(hidden_act="gelu"), "hidden_act"),
        (dict(mlp_bias=True), "mlp_bias"),
        (dict(model_type="mistral"), "model_type"),
        (dict(num_key_value_heads=4), "num_key_value_heads"),
    ],
)  # fmt: skip
def test_what_groundup_cannot_honour_is_refused_naming_the_field(tmp_path, change, field):
    config = hf_model("llama").config.to_dict()
    config.update(change)
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=field):
        Llama.from_pretrained(tmp_path)


@pytest.mark.parametrize("transformers_4", [False, True], ids=["layer_types", "v4-fields"])
def test_a_qwen2_sliding_window_in_use_is_refused(tmp_path, transformers_4):
    ref = hf_model("qwen2", use_sliding_window=True, sliding_window=8, max_window_layers=1)
    config = ref.config.to_dict()
    assert config["layer_types"] == ["full_attention", "sliding_attention"]
    if transformers_4:  # no layer_types: the layers from max_window_layers on slide
        config.pop("layer_types")
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="sliding"):
        Llama.from_pretrained(tmp_path)


def test_a_sliding_window_switched_on_for_no_layer_is_not_in_use(tmp_path, ids):
    ref = hf_model("qwen2", use_sliding_window=True, sliding_window=8, max_window_layers=2)
    ref.save_pretrained(tmp_path)
    ours = Llama.from_pretrained(tmp_path)
    np.testing.assert_allclose(ours(ids)[0].data, hf_logits(ref, ids), atol=1e-4, rtol=0)


def test_missing_folder_and_pickles_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        Llama.from_pretrained(tmp_path)
    hf_model("llama").config.to_json_file(tmp_path / "config.json")
    (tmp_path / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(ValueError, match="safe_serialization=True"):
        Llama.from_pretrained(tmp_path)


# ---------------------------------------------------------------- the pieces


@pytest.mark.parametrize("F", [functional, fused], ids=["functional", "fused"])
@pytest.mark.parametrize("theta", [10000.0, 500000.0])
def test_rotary_embedding_is_hugging_faces_rotate_half(F, theta):
    """Both tiers against transformers' apply_rotary_pos_emb and its rotary tables,
    values and gradients (float64)."""
    from transformers.models.llama import modeling_llama as ml

    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 7, 8))
    config = transformers.LlamaConfig(hidden_size=24, num_attention_heads=3, rope_theta=theta)
    rotary = ml.LlamaRotaryEmbedding(config)
    positions = torch.arange(3, 10)[None]
    tq = torch.tensor(q, requires_grad=True)
    cos_t, sin_t = rotary(tq, positions)  # float64 x: cos/sin computed in float32, then cast
    ref, _ = ml.apply_rotary_pos_emb(tq, tq, cos_t.double(), sin_t.double())
    cos, sin = functional.rope_cos_sin(np.arange(3, 10), 8, theta, dtype=np.float64)
    np.testing.assert_allclose(cos, cos_t[0].double().numpy(), atol=1e-6)
    from groundup import Tensor

    x = Tensor(q, dtype="float64", requires_grad=True)
    out = F.rotary_embedding(x, cos_t[0].double().numpy(), sin_t[0].double().numpy())
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-12)
    w = rng.standard_normal(q.shape)
    out.backward(w)
    ref.backward(torch.tensor(w))
    np.testing.assert_allclose(x.grad, tq.grad.numpy(), atol=1e-12)
