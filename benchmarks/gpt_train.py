"""Training speed of the `baby` GPT (4 layers, 4 heads, 128 wide, block 64, batch 32, vocab 65):
groundup against a PyTorch twin of the identical model, in one run.

    .venv/bin/python benchmarks/gpt_train.py            # 50 steps, 1 and 2 BLAS threads
    .venv/bin/python benchmarks/gpt_train.py --steps 20 --threads 1

Each (framework, thread count) pair runs in its own subprocess, so the thread count is
fixed through OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS before NumPy loads
(and torch.set_num_threads for PyTorch), and the peak memory of one framework is not
mixed with the other's. Both start from the same weights (groundup's GPT-2 initialisation,
copied into the twin), see the same batches of tinyshakespeare (shipped with groundup),
use AdamW with the same decay groups and gradient clipping at 1.0, in float32.
Printed: median ms/step (first steps excluded as warm-up), tokens/s, peak memory, the
ratio ours/PyTorch, the largest gap between the two loss sequences, and the model FLOPs
utilisation (MFU) against a NumPy float32 matmul peak measured with the same threads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PRESET = dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0)
BATCH = 32
LR, BETAS, WEIGHT_DECAY, CLIP = 1e-3, (0.9, 0.99), 0.1, 1.0
SEED = 1337
WARMUP = 5  # steps left out of the timing median (allocator and BLAS warm-up)


# --------------------------------------------------------------------------- shared set-up


def make_batches(steps: int):
    """`steps` (x, y) batches of int64 token ids (B, T), the same in every subprocess."""
    import numpy as np

    from groundup.data import load_text
    from groundup.data.text import get_batch, split_tokens

    rng = np.random.default_rng(SEED)
    text = load_text("shakespeare")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data, _ = split_tokens([stoi[c] for c in text])
    return [get_batch(data, BATCH, PRESET["block_size"], rng) for _ in range(steps)]


def initial_weights():
    """groundup's GPT-2 initialisation for the preset, as a dict of NumPy arrays."""
    from groundup.models.gpt import GPT, GPTConfig

    model = GPT(GPTConfig(**PRESET), seed=SEED)
    return {name: p.data.copy() for name, p in model.named_parameters()}


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# --------------------------------------------------------------------------- groundup


def run_groundup(steps: int) -> dict:
    import numpy as np

    from groundup.models.gpt import GPT, GPTConfig
    from groundup.optim import AdamW, clip_grad_norm_

    batches = make_batches(steps)
    model = GPT(GPTConfig(**PRESET), seed=SEED)
    optimizer = AdamW(
        model.optim_groups(WEIGHT_DECAY), lr=LR, betas=BETAS, weight_decay=WEIGHT_DECAY
    )
    model.train()
    base = current_rss_mb()
    losses, times = [], []
    for x, y in batches:
        t0 = time.perf_counter()
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        losses.append(float(loss.item()))
        times.append(time.perf_counter() - t0)
    return dict(
        losses=losses,
        times=times,
        peak_mb=peak_rss_mb() - base,
        n_params=model.num_parameters(),
        dtype=str(np.float32),
    )


# --------------------------------------------------------------------------- PyTorch twin


def torch_twin():
    """The same GPT in PyTorch, with groundup's parameter names so weights copy one to one."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class CausalSelfAttention(nn.Module):
        def __init__(self, C, H):
            super().__init__()
            self.n_head = H
            self.c_attn = nn.Linear(C, 3 * C)
            self.c_proj = nn.Linear(C, C)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, D)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, D)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class MLP(nn.Module):
        def __init__(self, C):
            super().__init__()
            self.c_fc = nn.Linear(C, 4 * C)
            self.c_proj = nn.Linear(4 * C, C)

        def forward(self, x):
            return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))

    class Block(nn.Module):
        def __init__(self, C, H):
            super().__init__()
            self.ln_1 = nn.LayerNorm(C)
            self.attn = CausalSelfAttention(C, H)
            self.ln_2 = nn.LayerNorm(C)
            self.mlp = MLP(C)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class TorchGPT(nn.Module):
        def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, dropout):
            super().__init__()
            self.transformer = nn.ModuleDict(
                dict(
                    wte=nn.Embedding(vocab_size, n_embd),
                    wpe=nn.Embedding(block_size, n_embd),
                    h=nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)]),
                    ln_f=nn.LayerNorm(n_embd),
                )
            )
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.lm_head.weight = self.transformer.wte.weight  # weight tying

        def forward(self, idx, targets):
            T = idx.shape[1]
            x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            return logits, loss

    return TorchGPT


def run_torch(steps: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in make_batches(steps)]
    model = torch_twin()(**PRESET)
    weights = initial_weights()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(weights[name]))
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": WEIGHT_DECAY},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=LR,
        betas=BETAS,
    )
    model.train()
    base = current_rss_mb()
    losses, times = [], []
    for x, y in batches:
        t0 = time.perf_counter()
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        losses.append(float(loss.item()))
        times.append(time.perf_counter() - t0)
    return dict(
        losses=losses,
        times=times,
        peak_mb=peak_rss_mb() - base,
        n_params=sum(p.numel() for p in model.parameters()),
    )


# --------------------------------------------------------------------------- FLOPs


def matmul_peak_gflops(repeats: int = 7) -> float:
    """Best GFLOP/s of a 1024^3 float32 NumPy matmul with this process's BLAS threads."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * 1024**3 / best / 1e9


def matmul_floor_ms(repeats: int = 5) -> float:
    """Median time of one step's matrix products alone (forward and backward, the shapes of
    the preset), in NumPy float32: the floor any NumPy implementation pays."""
    import numpy as np

    rng = np.random.default_rng(0)
    L, C, T, V = PRESET["n_layer"], PRESET["n_embd"], PRESET["block_size"], PRESET["vocab_size"]
    N, H = BATCH * T, PRESET["n_head"]
    D = C // H
    shapes = []  # (a, b) pairs: a @ b, once forward, twice backward (dx, dW)
    for k_in, k_out in [(C, 3 * C), (C, C), (C, 4 * C), (4 * C, C)] * L + [(C, V)]:
        shapes += [((N, k_in), (k_in, k_out)), ((N, k_out), (k_out, k_in)),
                   ((k_in, N), (N, k_out))]  # fmt: skip
    for _ in range(L):  # attention: q k^T, att v; backward dv, dP, dq, dk
        shapes += [((BATCH * H, T, D), (BATCH * H, D, T)), ((BATCH * H, T, T), (BATCH * H, T, D))]
        shapes += [((BATCH * H, T, T), (BATCH * H, T, D))] * 2
        shapes += [((BATCH * H, T, D), (BATCH * H, D, T)), ((BATCH * H, T, T), (BATCH * H, T, D))]
    pairs = [(rng.standard_normal(a, dtype=np.float32), rng.standard_normal(b, dtype=np.float32))
             for a, b in shapes]  # fmt: skip
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for a, b in pairs:
            a @ b
        times.append(time.perf_counter() - t0)
    return 1e3 * sorted(times)[len(times) // 2]


def flops_per_step() -> float:
    """Forward + backward FLOPs of one step: 6 per parameter per token (the matmuls, the
    tied head included, the position table excluded) plus the attention scores and mixing,
    12 * n_layer * n_embd * T per token (nanoGPT's estimate_mfu, PaLM appendix B)."""
    L, C, T, V = PRESET["n_layer"], PRESET["n_embd"], PRESET["block_size"], PRESET["vocab_size"]
    matmul_params = L * 12 * C * C + V * C
    per_token = 6 * matmul_params + 12 * L * C * T
    return per_token * BATCH * T


# --------------------------------------------------------------------------- driver


def worker(impl: str, steps: int, threads: int) -> None:
    from groundup._allocator import keep_freed_memory

    keep_freed_memory()  # as the groundup command does; both frameworks' processes alike
    result = run_groundup(steps) if impl == "groundup" else run_torch(steps, threads)
    result["peak_gflops"] = matmul_peak_gflops()
    result["matmul_floor_ms"] = matmul_floor_ms()
    print("RESULT " + json.dumps(result))


def spawn(impl: str, steps: int, threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        impl,
        "--steps",
        str(steps),
        "--threads",
        str(threads),
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{impl} worker failed:\n{out.stderr}")
    line = next(l for l in out.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="training steps per framework")
    parser.add_argument("--threads", default="1,2", help="BLAS thread counts, comma separated")
    parser.add_argument("--worker", choices=["groundup", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps, int(args.threads))
        return 0

    tokens = BATCH * PRESET["block_size"]
    flops = flops_per_step()
    print(
        f"baby GPT {PRESET}, batch {BATCH}, {args.steps} steps, float32; "
        f"{flops / 1e9:.2f} GFLOP per step"
    )
    worst = 0.0
    for threads in [int(t) for t in args.threads.split(",")]:
        ours = spawn("groundup", args.steps, threads)
        ref = spawn("torch", args.steps, threads)
        gap = max(abs(a - b) for a, b in zip(ours["losses"], ref["losses"], strict=True))
        peak = max(ours["peak_gflops"], ref["peak_gflops"])
        ms = {}
        print(f"\n{threads} thread(s); NumPy matmul peak {peak:.1f} GFLOP/s")
        for name, r in (("groundup", ours), ("pytorch", ref)):
            step = median(r["times"][WARMUP:])
            ms[name] = step * 1e3
            mfu = flops / step / 1e9 / peak
            print(
                f"  {name:8s} {step * 1e3:7.1f} ms/step  {tokens / step:8.0f} tokens/s  "
                f"peak +{r['peak_mb']:6.1f} MB  {flops / step / 1e9:5.1f} GFLOP/s  "
                f"MFU {100 * mfu:4.1f}%  loss {r['losses'][0]:.4f} -> {r['losses'][-1]:.4f}"
            )
        floor = ours["matmul_floor_ms"]
        print(
            f"  NumPy matmuls alone (same shapes, forward + backward): {floor:.1f} ms/step "
            f"= {100 * floor / ms['groundup']:.0f}% of groundup's step"
        )
        ratio = ms["groundup"] / ms["pytorch"]
        worst = max(worst, ratio)
        print(
            f"  ratio ours/PyTorch {ratio:.2f} (target <= 1.0)   "
            f"max |loss gap| over {args.steps} steps {gap:.2e} (must be < 1e-3)"
        )
        if gap >= 1e-3:
            print("  LOSS SEQUENCES DISAGREE")
    print(f"\nworst ratio ours/PyTorch: {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
