"""GPT-2 interoperability: Hugging Face GPT2LMHeadModel folders load into groundup's GPT, and
groundup GPTs save into folders transformers opens, with the same logits and the same greedy
continuations. Small random models built from a GPT2Config: no download."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from hf_reference import backward_both, hf_greedy, hf_logits, perturb_  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

from groundup.models.gpt import GPT, GPTConfig  # noqa: E402

V, T_MAX = 37, 32
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def hf_model(tie: bool = True, seed: int = 0):
    config = transformers.GPT2Config(
        vocab_size=V,
        n_positions=T_MAX,
        n_embd=24,
        n_layer=2,
        n_head=3,
        tie_word_embeddings=tie,
        bos_token_id=0,
        eos_token_id=0,
    )
    torch.manual_seed(seed)
    model = transformers.GPT2LMHeadModel(config).eval()
    perturb_(model, gains=".ln_")
    return model


@pytest.fixture
def ids():
    return np.random.default_rng(0).integers(0, V, size=(2, 12))


@pytest.mark.parametrize("tie", [True, False])
def test_hugging_face_folder_loads_with_equal_logits(tmp_path, ids, tie):
    ref = hf_model(tie=tie)
    ref.save_pretrained(tmp_path, safe_serialization=True)
    ours = GPT.from_pretrained(tmp_path)
    assert ours.config.tie_weights is tie
    assert ours.num_parameters() == sum(p.numel() for p in ref.parameters())
    logits, _ = ours(ids)
    np.testing.assert_allclose(logits.data, hf_logits(ref, ids), atol=1e-4, rtol=0)
    if tie:  # the greedy loop costs 20 PyTorch forwards: once per direction is enough
        np.testing.assert_array_equal(
            ours.generate(ids, 20, temperature=0), hf_greedy(ref, ids, 20)
        )


@pytest.mark.parametrize("tie", [True, False])
def test_groundup_model_opens_in_transformers(tmp_path, ids, tie):
    ours = GPT(
        GPTConfig(vocab_size=V, block_size=T_MAX, n_layer=2, n_head=3, n_embd=24, tie_weights=tie),
        seed=1,
    )
    ours.save_pretrained(tmp_path)
    ref = transformers.GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    assert sum(p.numel() for p in ref.parameters()) == ours.num_parameters()
    logits, _ = ours(ids)
    np.testing.assert_allclose(hf_logits(ref, ids), logits.data, atol=1e-4, rtol=0)
    if not tie:
        np.testing.assert_array_equal(
            hf_greedy(ref, ids, 20), ours.generate(ids, 20, temperature=0)
        )


def test_round_trip_keeps_every_weight(tmp_path):
    ours = GPT(GPTConfig(vocab_size=V, block_size=T_MAX, n_layer=1, n_head=2, n_embd=8), seed=2)
    ours.save_pretrained(tmp_path)
    back = GPT.from_pretrained(tmp_path)
    for (name, p), (name2, q) in zip(ours.named_parameters(), back.named_parameters(), strict=True):
        assert name == name2
        np.testing.assert_array_equal(p.data, q.data)


def test_model_without_biases_saves_zero_biases(tmp_path, ids):
    ours = GPT(
        GPTConfig(vocab_size=V, block_size=T_MAX, n_layer=1, n_head=2, n_embd=8, bias=False), seed=3
    )
    ours.save_pretrained(tmp_path)
    ref = transformers.GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    np.testing.assert_allclose(hf_logits(ref, ids), ours(ids)[0].data, atol=1e-4, rtol=0)


def test_original_hub_spelling_with_mask_buffers(tmp_path, ids):
    """The gpt2 upload names tensors without `transformer.` and stores attn.bias buffers."""
    ref = hf_model()
    state = {
        k.removeprefix("transformer."): v.numpy()
        for k, v in ref.state_dict().items()
        if k != "lm_head.weight"
    }
    for i in range(2):
        state[f"h.{i}.attn.bias"] = np.tril(np.ones((T_MAX, T_MAX), np.float32))[None, None]
        state[f"h.{i}.attn.masked_bias"] = np.array(-1e4, dtype=np.float32)
    save_file(state, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    ref.config.to_json_file(tmp_path / "config.json")
    ours = GPT.from_pretrained(tmp_path)
    np.testing.assert_allclose(ours(ids)[0].data, hf_logits(ref, ids), atol=1e-4, rtol=0)


def test_pickle_only_folder_is_refused_with_the_fix(tmp_path):
    hf_model().config.to_json_file(tmp_path / "config.json")
    (tmp_path / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(ValueError, match="pickle") as err:
        GPT.from_pretrained(tmp_path)
    assert "safe_serialization=True" in str(err.value)


def test_missing_config_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        GPT.from_pretrained(tmp_path)


def test_unsupported_activation_is_refused(tmp_path):
    config = hf_model().config.to_dict()
    config["activation_function"] = "relu"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="activation_function"):
        GPT.from_pretrained(tmp_path)


def test_gradients_match_transformers(tmp_path, ids):
    """Backward through our engine gives Hugging Face's gradients (Conv1D ones transposed)."""
    ref = hf_model()
    ref.save_pretrained(tmp_path, safe_serialization=True)
    ours = GPT.from_pretrained(tmp_path)
    loss, ref_loss, ref_grads = backward_both(ours, ref, ids)
    assert loss == pytest.approx(ref_loss, abs=1e-5)
    for name, p in ours.named_parameters():
        expected = ref_grads[name]
        if name.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")):
            expected = expected.T
        np.testing.assert_allclose(p.grad, expected, atol=1e-5, err_msg=name)
