"""What the Hugging Face interop tests share (test_gpt2_interop.py, test_llama_interop.py):
random weights that all matter, a transformers model's logits and greedy continuation as
NumPy arrays, and one backward pass through both models. Imported by those tests after
their ``pytest.importorskip("torch")``."""

from __future__ import annotations

import numpy as np
import torch


def hf_logits(model, ids: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(ids)).logits.numpy()


def hf_greedy(model, ids: np.ndarray, n: int) -> np.ndarray:
    out = torch.from_numpy(ids)
    with torch.no_grad():
        for _ in range(n):
            nxt = model(out).logits[:, -1, :].argmax(dim=-1, keepdim=True)
            out = torch.cat([out, nxt], dim=1)
    return out.numpy()


def perturb_(model, gains: str) -> None:
    """Hugging Face initialises biases to 0 and norm gains to 1: add N(0, 0.1^2) noise to
    every bias and every parameter whose name holds ``gains``, so that each one matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or gains in name:
                p.add_(0.1 * torch.randn_like(p))


def backward_both(ours, ref, ids: np.ndarray) -> tuple[float, float, dict[str, np.ndarray]]:
    """The next-token cross-entropy of ``ids`` (the targets: ids rolled one to the left)
    backpropagated through our model and the transformers one: (our loss, theirs, their
    gradients by parameter name)."""
    targets = np.roll(ids, -1, axis=1)
    _, loss = ours(ids, targets)
    loss.backward()
    logits = ref(torch.from_numpy(ids)).logits
    ref_loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), torch.from_numpy(targets).reshape(-1)
    )
    ref_loss.backward()
    return loss.item(), ref_loss.item(), {n: p.grad.numpy() for n, p in ref.named_parameters()}
