"""Whole models on the stand-in GPU: a GPT and a Llama training step (forward, backward,
clipping, AdamW) equal the CPU's; generate with the KV cache draws the same tokens; a
checkpoint saved from the device holds the same bytes as one saved from the CPU."""

from __future__ import annotations

import numpy as np
import pytest
from gpu_standin import DeviceArray

from groundup import optim
from groundup.models.gpt import GPT, GPTConfig
from groundup.models.llama import Llama, LlamaConfig
from groundup.train.checkpoint import load_arrays, save_checkpoint

MODELS = {
    "gpt": lambda: GPT(
        GPTConfig(vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=8), seed=0
    ),
    "llama": lambda: Llama(
        LlamaConfig(
            vocab_size=13,
            hidden_size=8,
            intermediate_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=8,
        ),
        seed=0,
    ),  # fmt: skip
}
IDS = np.random.default_rng(0).integers(0, 13, (3, 9))


def _steps(model, n: int = 2):
    """n AdamW steps with clipping; the losses and the final weights, on the host."""
    opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    losses = []
    for _ in range(n):
        _, loss = model(IDS[:, :-1], IDS[:, 1:])
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        losses.append(float(loss.item()))
    return losses, model.state_dict(), opt


@pytest.mark.parametrize("name", list(MODELS))
def test_a_training_step_on_the_device_equals_the_cpu(name, standin_cuda):
    cpu_losses, cpu_state, _ = _steps(MODELS[name]())
    model = MODELS[name]().to("cuda")
    assert all(type(p.data) is DeviceArray for p in model.parameters())
    dev_losses, dev_state, opt = _steps(model)
    assert all(type(p.data) is DeviceArray for p in model.parameters())
    assert all(
        type(v) is DeviceArray
        for s in opt.state.values()
        for v in s.values()
        if hasattr(v, "shape")
    )
    np.testing.assert_allclose(dev_losses, cpu_losses, rtol=1e-6)
    # atol: the GPT's key bias has a gradient of 0 but for rounding (a row's softmax is the
    # same shifted), and AdamW moves it by lr * g / eps, about 1e-6 here, in either direction
    for key, value in cpu_state.items():
        np.testing.assert_allclose(dev_state[key], value, rtol=1e-5, atol=5e-6, err_msg=key)


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("use_cache", [True, False])
def test_generate_on_the_device_draws_the_cpus_tokens(name, use_cache, standin_cuda):
    cpu = MODELS[name]()
    dev = MODELS[name]().to("cuda")
    kw = dict(max_new_tokens=12, temperature=0.8, top_k=5, seed=1, use_cache=use_cache)
    out = dev.generate(IDS[:, :3], **kw)  # 15 tokens: the cache restarts past block_size
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, cpu.generate(IDS[:, :3], **kw))


def test_a_checkpoint_saved_from_the_device_matches_the_cpus(tmp_path, standin_cuda):
    cpu = MODELS["gpt"]()
    _, _, cpu_opt = _steps(cpu, 1)
    dev = MODELS["gpt"]().to("cuda")
    _, _, dev_opt = _steps(dev, 1)
    save_checkpoint(tmp_path / "cpu", cpu, optimizer=cpu_opt)
    save_checkpoint(tmp_path / "dev", dev, optimizer=dev_opt)
    for name in ("model.safetensors", "optimizer.safetensors"):
        a, _ = load_arrays(tmp_path / "cpu" / name)
        b, _ = load_arrays(tmp_path / "dev" / name)
        assert a.keys() == b.keys()
        for k in a:  # atol: the key biases' gradient is 0 exactly, and ~1e-7 of rounding
            # noise that differs between the CPU's kernels and the device's NumPy code
            np.testing.assert_allclose(b[k], a[k], rtol=1e-5, atol=1e-6, err_msg=k)
    # and the optimiser's state goes back onto the device it is loaded for
    dev_opt.load_state_dict(cpu_opt.state_dict())
    assert all(
        type(v) is DeviceArray
        for s in dev_opt.state.values()
        for v in s.values()
        if hasattr(v, "shape")
    )


def test_the_optimiser_follows_a_model_moved_after_it_was_made(standin_cuda):
    model = MODELS["gpt"]()
    _, _, opt = _steps(model, 1)  # moments made on the CPU
    model.to("cuda")
    _, loss = model(IDS[:, :-1], IDS[:, 1:])
    loss.backward()
    opt.step()
    assert all(
        type(v) is DeviceArray
        for s in opt.state.values()
        for v in s.values()
        if hasattr(v, "shape")
    )
