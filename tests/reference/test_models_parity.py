"""The language models against PyTorch: the MLP of stage 3 rebuilt with torch ops from the
same weights gives the same logits, loss and gradients (float64)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from groundup.models.mlp import MLPLanguageModel  # noqa: E402

CLASSIC = dict(block_size=3, n_embd=10, n_hidden=200)
BATCHNORM = dict(CLASSIC, batchnorm=True)
WAVENET = dict(block_size=8, n_embd=24, n_hidden=128, n_layers=3, batchnorm=True, hierarchical=True)
CONFIGS = {"classic": CLASSIC, "batchnorm": BATCHNORM, "wavenet": WAVENET}


@pytest.mark.parametrize("name", CONFIGS)
def test_parity_with_pytorch_float64(name):
    """Same weights, same batch: logits, loss and every gradient agree with PyTorch."""
    TF = torch.nn.functional
    config = CONFIGS[name]
    model = MLPLanguageModel(27, **config, generator=0, dtype="float64")
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 27, (32, config["block_size"]))
    targets = rng.integers(0, 27, 32)
    logits, loss = model(idx, targets)
    loss.backward()

    params = {n: torch.tensor(p.data, requires_grad=True) for n, p in model.named_parameters()}
    x = params["wte.weight"][torch.from_numpy(idx)]  # (B, T, C)
    B = x.shape[0]
    x = x.reshape(B, -1) if not config.get("hierarchical") else x
    for i in range(config.get("n_layers", 1)):
        if config.get("hierarchical"):
            x = x.reshape(-1, 2 * x.shape[-1])
        x = TF.linear(x, params[f"linears.{i}.weight"], params.get(f"linears.{i}.bias"))
        if config.get("batchnorm"):
            x = TF.batch_norm(x, None, None, params[f"norms.{i}.weight"],
                              params[f"norms.{i}.bias"], training=True)  # fmt: skip
        x = torch.tanh(x)
        if config.get("hierarchical"):
            x = x.reshape(B, -1, config["n_hidden"])
    x = x.reshape(B, -1)
    ref_logits = TF.linear(x, params["lm_head.weight"], params["lm_head.bias"])
    ref_loss = TF.cross_entropy(ref_logits, torch.from_numpy(targets))
    ref_loss.backward()

    np.testing.assert_allclose(logits.data, ref_logits.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-12)
    for n, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, params[n].grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=n)
