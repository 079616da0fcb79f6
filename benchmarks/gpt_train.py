"""Training speed of a GPT: groundup against a PyTorch twin of the identical model, in one run.

    .venv/bin/python benchmarks/gpt_train.py                    # baby, 50 steps, 1 and 2 threads
    .venv/bin/python benchmarks/gpt_train.py --shape tiny,baby,lecture --steps 30
    .venv/bin/python benchmarks/gpt_train.py --shape lecture --malloc default  # glibc as is

Shapes (dropout off, so both frameworks compute the same function): tiny (4 layers, 4 heads,
64 wide, block 32, batch 32), baby (4/4/128, block 64, batch 32), lecture (6/6/384, block 256,
batch 8). Vocabulary 65 (tinyshakespeare's characters).

Each framework runs in its own subprocess, so the thread count is fixed through
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS / NUMBA_NUM_THREADS before NumPy
loads (and torch.set_num_threads for PyTorch), and one framework's peak memory is not mixed
with the other's. The two processes live side by side and take turns (ABAB) in blocks of a
few steps, the first turn alternating, so a machine that slows down slows both alike. Both
start from the same weights (groundup's GPT-2 initialisation, copied into the twin), see the
same batches of tinyshakespeare (shipped with groundup), use AdamW with the same decay groups
and gradient clipping at 1.0, in float32. Our step is the one ``groundup.train.train`` runs:
``groundup.train.shards.forward_backward`` (on two threads, the baby and lecture shapes run
a shard of the batch's rows on each thread; tiny, too small to repay it, runs in one piece),
then clipping and AdamW; PyTorch's is eager PyTorch on its own threads. Printed: median
ms/step (the first steps left out as warm-up), tokens/s, peak memory (the growth of resident
memory over the steps, after one throwaway step of a tiny model has loaded the framework's
code and compiled ours), the ratio ours/PyTorch, our step against the NumPy matmul floor
(the step's matrix products alone, same shapes, timed in a third process that takes its
turns with the two, one pass over the products per step, so that the floor and the steps see
the same hours of the machine), the largest gap between the two loss sequences, the model
FLOPs utilisation (MFU) against a NumPy float32 matmul peak, and the minor page faults per
step.

Both processes call ``groundup._allocator.keep_freed_memory()`` first, as the ``groundup``
command does (freed blocks are reused, not unmapped); ``--malloc default`` leaves glibc's
malloc as a script of your own that does not call it gets it, to see what that costs.
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

SHAPES = {  # model sizes and batch of each benchmark shape
    "tiny": (dict(vocab_size=65, block_size=32, n_layer=4, n_head=4, n_embd=64), 32),
    "baby": (dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128), 32),
    "lecture": (dict(vocab_size=65, block_size=256, n_layer=6, n_head=6, n_embd=384), 8),
}
LR, BETAS, WEIGHT_DECAY, CLIP = 1e-3, (0.9, 0.99), 0.1, 1.0
SEED = 1337
WARMUP = 5  # steps left out of the timing median (allocator, BLAS and JIT warm-up)
BLOCK = 5  # steps per turn of one framework
PAUSE = 0.5  # seconds between turns: an idle process's spinning threads would take cores


# --------------------------------------------------------------------------- shared set-up


def make_batches(steps: int, shape: str):
    """`steps` (x, y) batches of int64 token ids (B, T), the same in every subprocess."""
    import numpy as np

    from groundup.data import load_text
    from groundup.data.text import get_batch, split_tokens

    config, batch = SHAPES[shape]
    rng = np.random.default_rng(SEED)
    text = load_text("shakespeare")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data, _ = split_tokens([stoi[c] for c in text])
    return [get_batch(data, batch, config["block_size"], rng) for _ in range(steps)]


def initial_weights(shape: str):
    """groundup's GPT-2 initialisation for the shape, as a dict of NumPy arrays."""
    from groundup.models.gpt import GPT, GPTConfig

    model = GPT(GPTConfig(**SHAPES[shape][0], dropout=0.0), seed=SEED)
    return {name: p.data.copy() for name, p in model.named_parameters()}


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# --------------------------------------------------------------------------- groundup


def groundup_trainer(shape: str, threads: int):
    """(model, step): one training step of groundup's GPT on a batch, returning the loss."""
    from groundup.models.gpt import GPT, GPTConfig
    from groundup.optim import AdamW, clip_grad_norm_
    from groundup.train.shards import forward_backward

    model = GPT(GPTConfig(**SHAPES[shape][0], dropout=0.0), seed=SEED)
    optimizer = AdamW(
        model.optim_groups(WEIGHT_DECAY), lr=LR, betas=BETAS, weight_decay=WEIGHT_DECAY
    )
    model.train()

    def step(x, y) -> float:  # as groundup.train.train runs it
        optimizer.zero_grad()
        loss = forward_backward(model, x, y)  # a shard of rows per BLAS thread, when it pays
        clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], CLIP)
        optimizer.step()
        return loss

    return model.num_parameters(), step


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
        def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd):
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


def torch_trainer(shape: str, threads: int):
    """(parameter count, step) of the PyTorch twin, from the same weights."""
    import torch

    torch.set_num_threads(threads)
    model = torch_twin()(**SHAPES[shape][0])
    weights = initial_weights(shape)
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

    def step(x, y) -> float:
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        return float(loss.item())

    return sum(p.numel() for p in model.parameters()), step


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


def floor_products(shape: str) -> dict[str, list]:
    """The float32 (a, b) pairs of one step's products, a @ b each, in two parts: the
    Linear layers' (once forward, twice backward: dx, dW) and attention's."""
    import numpy as np

    rng = np.random.default_rng(0)
    config, BATCH = SHAPES[shape]
    L, C, T, V = config["n_layer"], config["n_embd"], config["block_size"], config["vocab_size"]
    N, H = BATCH * T, config["n_head"]
    D, R = C // H, BATCH * H  # R: one (T, D) matrix per batch row and head
    linear = []
    for k_in, k_out in [(C, 3 * C), (C, C), (C, 4 * C), (4 * C, C)] * L + [(C, V)]:
        linear += [((N, k_in), (k_in, k_out)), ((N, k_out), (k_out, k_in)),
                   ((k_in, N), (N, k_out))]  # fmt: skip
    attention = []
    for _ in range(L):  # q k^T, att v; backward dv, dP, dq, dk
        attention += [((R, T, D), (R, D, T)), ((R, T, T), (R, T, D))]
        attention += [((R, T, T), (R, T, D))] * 2
        attention += [((R, T, D), (R, D, T)), ((R, T, T), (R, T, D))]
    return {name: [(rng.standard_normal(a, dtype=np.float32),
                    rng.standard_normal(b, dtype=np.float32)) for a, b in shapes]
            for name, shapes in (("linear", linear), ("attention", attention))}  # fmt: skip


def products_ms(pairs: list) -> float:
    """Milliseconds of one pass over the pairs, a @ b each."""
    t0 = time.perf_counter()
    for a, b in pairs:
        a @ b
    return 1e3 * (time.perf_counter() - t0)


def matmul_floor_parts(shape: str, repeats: int = 5) -> dict[str, float]:
    """The floor in two parts, ms (the median of ``repeats`` passes each): the Linear
    layers' products and attention's."""
    return {name: median([products_ms(pairs) for _ in range(repeats)])
            for name, pairs in floor_products(shape).items()}  # fmt: skip


def flops_per_step(shape: str) -> float:
    """Forward + backward FLOPs of one step: 6 per parameter per token (the matmuls, the
    tied head included, the position table excluded) plus the attention scores and mixing,
    12 * n_layer * n_embd * T per token (nanoGPT's estimate_mfu, PaLM appendix B)."""
    config, BATCH = SHAPES[shape]
    L, C, T, V = config["n_layer"], config["n_embd"], config["block_size"], config["vocab_size"]
    matmul_params = L * 12 * C * C + V * C
    per_token = 6 * matmul_params + 12 * L * C * T
    return per_token * BATCH * T


# --------------------------------------------------------------------------- driver


def minor_faults() -> int:
    """Minor page faults of this process so far (a page touched for the first time)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def worker(impl: str, shape: str, steps: int, threads: int, malloc: str) -> None:
    """Set up, say READY, then answer the parent's commands on stdin, one JSON line each:
    `run I N` (steps I..I+N-1: their losses, times and page faults), `finish` (memory and
    matmul figures)."""
    from groundup._allocator import keep_freed_memory

    if malloc == "keep":
        keep_freed_memory()  # as the groundup command does; both frameworks' processes alike
    if impl == "floor":  # one pass over the step's products per step asked for
        pairs = sum(floor_products(shape).values(), [])
        print("READY", flush=True)
        for line in sys.stdin:
            command, *numbers = line.split()
            if command != "run":
                print(json.dumps({}), flush=True)
                return
            times = [products_ms(pairs) / 1e3 for _ in range(int(numbers[1]))]
            print(json.dumps(dict(losses=[], times=times, faults=[])), flush=True)
        return
    batches = make_batches(steps, shape)
    trainer = groundup_trainer if impl == "groundup" else torch_trainer
    _, warm_up = trainer("tiny", threads)  # loads each framework's code (and compiles ours)
    warm_up(*make_batches(1, "tiny")[0])
    del warm_up
    n_params, step = trainer(shape, threads)
    base = current_rss_mb()
    print("READY", flush=True)
    for line in sys.stdin:
        command, *numbers = line.split()
        if command == "run":
            first, n = map(int, numbers)
            losses, times, faults = [], [], []
            for x, y in batches[first : first + n]:
                f0, t0 = minor_faults(), time.perf_counter()
                losses.append(step(x, y))
                times.append(time.perf_counter() - t0)
                faults.append(minor_faults() - f0)
            print(json.dumps(dict(losses=losses, times=times, faults=faults)), flush=True)
        else:
            peak = peak_rss_mb() - base
            figures = dict(peak_mb=peak, n_params=n_params, peak_gflops=matmul_peak_gflops())
            print(json.dumps(figures), flush=True)
            return


class Worker:
    """One framework's training process, driven over its stdin and stdout."""

    def __init__(self, impl: str, shape: str, steps: int, threads: int, malloc: str,
                 tree: Path | None = None) -> None:  # fmt: skip
        """``tree``: another checkout whose gpt_train.py and src/ the worker runs (none:
        this one's, as installed)."""
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS"):  # fmt: skip
            env[var] = str(threads)
        script = __file__ if tree is None else str(tree / "benchmarks" / "gpt_train.py")
        if tree is not None:
            env["PYTHONPATH"] = str(tree / "src")
        cmd = [sys.executable, script, "--worker", impl, "--shape", shape,
               "--steps", str(steps), "--threads", str(threads), "--malloc", malloc]  # fmt: skip
        self.impl = impl
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)  # fmt: skip
        self.losses: list[float] = []
        self.times: list[float] = []
        self.faults: list[int] = []
        self.ask(None)  # READY

    def ask(self, command: str | None) -> dict:
        if command is not None:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        while line := self.proc.stdout.readline():
            if line.startswith("{") or line.startswith("READY"):
                return json.loads(line) if line.startswith("{") else {}
        raise RuntimeError(f"{self.impl} worker stopped (exit {self.proc.wait()})")

    def run(self, first: int, n: int) -> None:
        answer = self.ask(f"run {first} {n}")
        self.losses += answer["losses"]
        self.times += answer["times"]
        self.faults += answer["faults"]


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def compare(shape: str, steps: int, threads: int, malloc: str = "keep") -> float:
    """Both frameworks, ABAB; prints one block and returns the ratio ours/PyTorch."""
    config, batch = SHAPES[shape]
    ours = Worker("groundup", shape, steps, threads, malloc)
    ref = Worker("torch", shape, steps, threads, malloc)
    floor_worker = Worker("floor", shape, steps, threads, malloc)  # the products alone
    for turn, first in enumerate(range(0, steps, BLOCK)):
        n = min(BLOCK, steps - first)
        order = (ours, ref, floor_worker) if turn % 2 == 0 else (floor_worker, ref, ours)
        for w in order:
            time.sleep(PAUSE)  # the other's threads stop spinning (BLAS, OpenMP) and sleep
            w.run(first, n)
    done = {w.impl: w.ask("finish") for w in (ours, ref)}
    floor_worker.ask("finish")
    tokens, flops = batch * config["block_size"], flops_per_step(shape)
    peak = max(d["peak_gflops"] for d in done.values())
    gap = max(abs(a - b) for a, b in zip(ours.losses, ref.losses, strict=True))
    print(f"\n{shape}, {threads} thread(s); NumPy matmul peak {peak:.1f} GFLOP/s")
    ms = {}
    for w in (ours, ref):
        step = median(w.times[WARMUP:])
        ms[w.impl] = step * 1e3
        print(
            f"  {w.impl:8s} {step * 1e3:7.1f} ms/step  {tokens / step:8.0f} tokens/s  "
            f"peak +{done[w.impl]['peak_mb']:6.1f} MB  {flops / step / 1e9:5.1f} GFLOP/s  "
            f"MFU {100 * flops / step / 1e9 / peak:4.1f}%  "
            f"{median(w.faults[WARMUP:]):7.0f} page faults/step  "
            f"loss {w.losses[0]:.4f} -> {w.losses[-1]:.4f}"
        )
    floor = median(floor_worker.times[WARMUP:]) * 1e3
    ratio = ms["groundup"] / ms["torch"]
    print(
        f"  NumPy matmuls alone (same shapes, forward + backward): {floor:.1f} ms/step; "
        f"ours = {ms['groundup'] / floor:.2f}x that floor (target <= 1.3)"
    )
    print(
        f"  ratio ours/PyTorch {ratio:.2f} (target <= 0.85)   "
        f"max |loss gap| over {steps} steps {gap:.2e} (must be < 1e-3)"
    )
    if gap >= 1e-3:
        print("  LOSS SEQUENCES DISAGREE")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="training steps per framework")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma separated")
    parser.add_argument(
        "--shape", default="baby", help="shapes, comma separated: " + ", ".join(SHAPES)
    )
    parser.add_argument(
        "--malloc", choices=["keep", "default"], default="keep",
        help="keep: both processes call keep_freed_memory() first, as the groundup command "
        "does (default); default: glibc's malloc as it is",
    )  # fmt: skip
    parser.add_argument("--worker", choices=["groundup", "torch", "floor"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    shapes = args.shape.split(",")
    if unknown := [s for s in shapes if s not in SHAPES]:
        parser.error(f"--shape {','.join(unknown)}: expected some of {', '.join(SHAPES)}")
    if args.worker:
        worker(args.worker, shapes[0], args.steps, int(args.threads), args.malloc)
        return 0
    print(
        f"{args.steps} steps, float32, AdamW, clip 1.0; {os.cpu_count()} cores; "
        f"malloc: {args.malloc}"
    )
    worst = 0.0
    for shape in shapes:
        config, batch = SHAPES[shape]
        print(
            f"\n== {shape}: {config}, batch {batch}: {flops_per_step(shape) / 1e9:.2f} GFLOP/step"
        )
        for threads in [int(t) for t in args.threads.split(",")]:
            worst = max(worst, compare(shape, args.steps, threads, args.malloc))
    print(f"\nworst ratio ours/PyTorch: {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
