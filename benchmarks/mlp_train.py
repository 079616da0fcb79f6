"""Training speed of stage 3's classic MLP: groundup against PyTorch on the identical model.

Both train the classic config (block 3, embedding 10, hidden 200: 11,897 parameters) with
plain SGD (lr 0.1), batch 32, on the shipped names, from the same initial weights and the
same batches, one thread each. The steps run in chunks, alternating groundup and PyTorch so
that a busy machine slows both alike; ms/step is the median over the chunks.

    .venv/bin/python benchmarks/mlp_train.py            # 5,000 steps each
    .venv/bin/python benchmarks/mlp_train.py --steps 1000 --chunks 5

At these sizes a step is a few dozen small array operations, so per-op overhead (Python,
dispatch) dominates, not arithmetic.
"""

from __future__ import annotations

import os

# one thread for both, set before NumPy and PyTorch load their BLAS
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def make_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from groundup.data import build_dataset, load_words, split_words
    from groundup.tokenizers import CharTokenizer

    words = load_words("names")
    train, _, _ = split_words(words, seed=seed)
    return build_dataset(train, block_size=3, tokenizer=CharTokenizer.from_words(words))


def groundup_trainer(seed: int, lr: float):
    from groundup.models.mlp import MLPLanguageModel
    from groundup.optim import SGD

    model = MLPLanguageModel(27, block_size=3, n_embd=10, n_hidden=200, generator=seed)
    optimizer = SGD(model.parameters(), lr=lr)

    def step(xb: np.ndarray, yb: np.ndarray) -> float:
        _, loss = model(xb, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return model, step


def torch_trainer(groundup_model, lr: float):
    import torch
    import torch.nn.functional as TF

    torch.set_num_threads(1)

    class TorchMLP(torch.nn.Module):
        """The same model in PyTorch: embedding, flatten, linear, tanh, linear."""

        def __init__(self) -> None:
            super().__init__()
            self.wte = torch.nn.Embedding(27, 10)
            self.hidden = torch.nn.Linear(30, 200)
            self.lm_head = torch.nn.Linear(200, 27)

        def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            x = self.wte(idx).view(idx.shape[0], -1)  # (B, 30)
            logits = self.lm_head(torch.tanh(self.hidden(x)))  # (B, 27)
            return TF.cross_entropy(logits, targets)

    model = TorchMLP()
    ours = dict(groundup_model.named_parameters())
    names = {
        "wte.weight": "wte.weight",
        "hidden.weight": "linears.0.weight",
        "hidden.bias": "linears.0.bias",
        "lm_head.weight": "lm_head.weight",
        "lm_head.bias": "lm_head.bias",
    }
    with torch.no_grad():
        for theirs, mine in names.items():
            dict(model.named_parameters())[theirs].copy_(torch.from_numpy(ours[mine].data))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def step(xb: np.ndarray, yb: np.ndarray) -> float:
        loss = model(torch.from_numpy(xb), torch.from_numpy(yb))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000, help="training steps for each")
    parser.add_argument("--chunks", type=int, default=10, help="alternating timing chunks")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per step")
    parser.add_argument("--seed", type=int, default=42, help="split, weights and batches")
    args = parser.parse_args()
    from groundup._allocator import keep_freed_memory

    keep_freed_memory()  # as the groundup command does; torch runs in the same process

    X, Y = make_data(args.seed)
    batches = np.random.default_rng(args.seed).integers(0, len(X), (args.steps, args.batch_size))
    model, ours = groundup_trainer(args.seed, lr=0.1)
    theirs = torch_trainer(model, lr=0.1)
    ours(X[batches[0]], Y[batches[0]]), theirs(X[batches[0]], Y[batches[0]])  # warm up

    times: dict[str, list[float]] = {"groundup": [], "pytorch": []}
    losses: dict[str, list[float]] = {"groundup": [], "pytorch": []}
    for chunk in np.array_split(np.arange(1, args.steps), args.chunks):
        for name, step in (("groundup", ours), ("pytorch", theirs)):
            start = time.perf_counter()
            for i in chunk:
                losses[name].append(step(X[batches[i]], Y[batches[i]]))
            times[name].append(1e3 * (time.perf_counter() - start) / len(chunk))

    ms = {name: statistics.median(t) for name, t in times.items()}
    print(f"MLP classic config, {args.steps} steps, batch {args.batch_size}, 1 thread")
    print(f"  groundup: {ms['groundup']:.3f} ms/step (median of {args.chunks} chunks)")
    print(f"  pytorch : {ms['pytorch']:.3f} ms/step")
    print(f"  ratio groundup/pytorch: {ms['groundup'] / ms['pytorch']:.2f} (target <= 1.0)")
    last = slice(-100, None)
    print(
        f"  same training? mean loss of the last 100 steps: groundup "
        f"{np.mean(losses['groundup'][last]):.4f}, pytorch {np.mean(losses['pytorch'][last]):.4f}"
    )


if __name__ == "__main__":
    main()
