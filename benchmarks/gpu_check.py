"""Issue 20's GPU check: one run, inside 9 minutes on one H200 (benchmarks/gpu_check.sh).

    .venv/bin/python benchmarks/gpu_check.py                       # the GPU check
    .venv/bin/python benchmarks/gpu_check.py --device cpu --quick  # the dry run a test runs

Three parts, each printed with its figures:

1. parity: every op of the stand-in table (tests/device/test_standin_ops.py), both tiers,
   forward and backward, on ``--device`` against the CPU engine, float64 (1e-9) and
   float32 (1e-4 relative to the largest entry); then a GPT training step (loss, every
   gradient) on the device against the CPU.
2. the ``lecture`` preset (6/6/384, block 256, batch 64, dropout 0.2) trained on
   tinyshakespeare for ``--steps`` (5,000) with nanoGPT's schedule (lr 1e-3, 100 warmup,
   cosine to 1e-4, AdamW betas (0.9, 0.99), weight decay 0.1, clip 1.0), evaluating every
   ``--eval-interval`` steps; prints the best val loss (20 batches, nanoGPT's estimate) and
   the wall time. The goal: best val <= 1.48 in under 6 minutes.
3. speed (run before 2, the longest part): ``--speed-steps`` (200) training steps of the
   same model timed against a PyTorch eager twin on the same device (same initial weights,
   same batches, dropout 0 in both so the work is the same), printing both and the ratio.
   The goal: <= 1.5x.

With ``--quick`` every part runs at a toy size (a 2-layer model, a few steps), so the
script's CPU-only paths are checked on any machine; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "device"))  # the op table lives with its test


def parity(device: str) -> bool:
    """Every op of the table on ``device`` against the CPU; True when all agree."""
    from test_standin_ops import CASES  # noqa: I001 (beside its test, not a package)

    import groundup.nn.functional as GF
    import groundup.nn.fused as fused
    from groundup import Tensor

    def run(fn: Any, arrays: list[np.ndarray], F: Any, dev: str, dtype: str) -> list[Any]:
        leaves = [Tensor(a, dtype=dtype, requires_grad=True, device=dev) for a in arrays]
        out = fn(F, *leaves)
        w = np.random.default_rng(1).standard_normal(out.shape)
        out.backward(Tensor(w, dtype=out.dtype, device=dev))
        return [out.numpy()] + [None if t.grad is None else Tensor(t.grad).numpy() for t in leaves]

    worst: dict[str, float] = {"float64": 0.0, "float32": 0.0}
    failed = []
    for dtype, tol in (("float64", 1e-9), ("float32", 1e-4)):
        for name, (arrays, fn) in CASES.items():
            for tier, F in (("definition", GF), ("fused", fused)):
                try:
                    ref = run(fn, arrays, F, "cpu", dtype)
                    got = run(fn, arrays, F, device, dtype)
                except Exception as e:  # noqa: BLE001 (report every op, then fail)
                    failed.append(f"{name}/{tier}/{dtype}: {type(e).__name__}: {e}")
                    continue
                for r, g in zip(ref, got, strict=True):
                    if r is None:
                        continue
                    scale = max(1.0, float(np.abs(r).max()) if r.size else 1.0)
                    err = float(np.abs(g - r).max()) / scale if r.size else 0.0
                    worst[dtype] = max(worst[dtype], err)
                    if not err <= tol:
                        failed.append(f"{name}/{tier}/{dtype}: relative error {err:.2e}")
    n = len(CASES) * 2
    print(f"parity: {n} op cases x 2 dtypes on {device} vs cpu; worst relative error "
          f"float64 {worst['float64']:.2e}, float32 {worst['float32']:.2e}")  # fmt: skip
    for line in failed:
        print(f"  FAIL {line}")
    return not failed


def gpt_step_parity(device: str, quick: bool) -> bool:
    """One training step of a GPT on ``device`` against the CPU: the loss and every
    gradient, float32."""
    from groundup.models.gpt import GPT, GPTConfig

    cfg = GPTConfig(vocab_size=65, block_size=64, n_layer=2 if quick else 4, n_head=4,
                    n_embd=64 if quick else 128)  # fmt: skip
    ids = np.random.default_rng(0).integers(0, 65, (8, cfg.block_size + 1))
    results = []
    for dev in ("cpu", device):
        model = GPT(cfg, seed=0).to(dev)
        _, loss = model(ids[:, :-1], ids[:, 1:])
        loss.backward()
        grads = {n: Tensor_numpy(p.grad) for n, p in model.named_parameters()}
        results.append((float(loss.item()), grads))
    (l_cpu, g_cpu), (l_dev, g_dev) = results
    worst = max(
        float(np.abs(g_dev[k] - g).max()) / max(float(np.abs(g).max()), 1e-30)
        for k, g in g_cpu.items()
    )
    ok = abs(l_dev - l_cpu) <= 1e-5 * abs(l_cpu) and worst <= 1e-3
    print(f"gpt step: loss cpu {l_cpu:.6f}, {device} {l_dev:.6f}; worst gradient relative "
          f"error {worst:.2e} ({'ok' if ok else 'FAIL'})")  # fmt: skip
    return ok


def Tensor_numpy(a: Any) -> np.ndarray:  # noqa: N802 (a device array as a host array)
    from groundup.tensor.backend import to_host

    return to_host(a)


def lecture_run(device: str, steps: int, eval_interval: int, quick: bool) -> tuple[float, float]:
    """Train the lecture preset with nanoGPT's recipe; (best val estimate, seconds)."""
    from groundup import optim
    from groundup.cuda import synchronize
    from groundup.data.text import get_batch, load_text
    from groundup.models.gpt import GPT, GPTConfig
    from groundup.nn import evaluating
    from groundup.optim.lr_scheduler import warmup_cosine
    from groundup.tokenizers import CharTokenizer

    text = load_text("shakespeare")
    tok = CharTokenizer.from_text(text)
    data = np.asarray(tok.encode(text), dtype=np.int64)
    n = int(0.9 * len(data))
    train, val = data[:n], data[n:]
    preset = dict(GPTConfig.preset("lecture").__dict__)
    if quick:
        preset.update(block_size=32, n_layer=2, n_head=2, n_embd=32)
    cfg = GPTConfig(**{**preset, "vocab_size": tok.vocab_size})
    model = GPT(cfg, seed=1337).to(device)
    opt = optim.AdamW(model.optim_groups(0.1), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    B = 8 if quick else 64
    rng = np.random.default_rng(1337)
    best = math.inf
    synchronize()
    start = time.perf_counter()
    for step in range(steps + 1):
        if step % eval_interval == 0 or step == steps:
            with evaluating(model):
                erng = np.random.default_rng(step)
                losses = [float(model(*get_batch(val, B, cfg.block_size, erng))[1].item())
                          for _ in range(20 if not quick else 2)]  # fmt: skip
            best = min(best, statistics.fmean(losses))
            print(f"  step {step}: val {statistics.fmean(losses):.4f}  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
            if step == steps:
                break
        lr = warmup_cosine(step, 1e-3, 100 if not quick else 2, steps, 1e-4)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = get_batch(train, B, cfg.block_size, rng)
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    synchronize()
    seconds = time.perf_counter() - start
    print(f"lecture: best val {best:.4f} in {steps} steps, {seconds:.1f} s on {device} "
          f"(goal: <= 1.48 in under 360 s)")  # fmt: skip
    return best, seconds


def torch_twin(cfg: Any, state: dict[str, np.ndarray], device: str) -> Any:
    """A PyTorch GPT with our architecture and names, holding ``state``."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    C, H = cfg.n_embd, cfg.n_head

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)

        def forward(self, x: Any) -> Any:
            B, T, _ = x.shape
            q, k, v = self.c_attn(x).split(C, dim=2)
            q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_fc, self.c_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def forward(self, x: Any) -> Any:
            return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1, self.attn, self.ln_2, self.mlp = (
                nn.LayerNorm(C),
                Attention(),
                nn.LayerNorm(C),
                MLP(),
            )

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class Twin(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(cfg.vocab_size, C), wpe=nn.Embedding(cfg.block_size, C),
                h=nn.ModuleList(Block() for _ in range(cfg.n_layer)), ln_f=nn.LayerNorm(C),
            ))  # fmt: skip

        def forward(self, idx: Any, targets: Any) -> Any:
            tr = self.transformer
            x = tr.wte(idx) + tr.wpe(torch.arange(idx.shape[1], device=idx.device))
            for block in tr.h:
                x = block(x)
            logits = tr.ln_f(x) @ tr.wte.weight.T  # the tied head
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    twin = Twin()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    return twin.to(device)


def speed(device: str, steps: int, quick: bool) -> float | None:
    """``steps`` timed training steps of the lecture model, ours and the PyTorch twin's."""
    from groundup import optim
    from groundup.cuda import synchronize
    from groundup.models.gpt import GPT, GPTConfig

    try:
        import torch
    except ImportError:
        print("speed: PyTorch is not installed: no twin to time against")
        return None
    preset = dict(GPTConfig.preset("lecture").__dict__, dropout=0.0)
    if quick:
        preset.update(block_size=32, n_layer=2, n_head=2, n_embd=32)
    cfg = GPTConfig(**preset)
    B = 8 if quick else 64
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, cfg.vocab_size, (B, cfg.block_size + 1)) for _ in range(steps + 5)]
    model = GPT(cfg, seed=0)
    twin = torch_twin(cfg, model.state_dict(), device)
    model.to(device)
    ours_opt = optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.99), weight_decay=0.1)
    twin_opt = torch.optim.AdamW(twin.parameters(), lr=1e-4, betas=(0.9, 0.99), weight_decay=0.1)

    def ours(ids: np.ndarray) -> float:
        _, loss = model(ids[:, :-1], ids[:, 1:])
        ours_opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        ours_opt.step()
        return loss

    def theirs(ids: np.ndarray) -> float:
        t = torch.from_numpy(ids).to(device)
        loss = twin(t[:, :-1], t[:, 1:])
        twin_opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
        twin_opt.step()
        return loss

    def timed(step: Any, sync: Any) -> tuple[float, float]:
        for ids in batches[:5]:  # warm-up: kernels compile, the allocator fills
            step(ids)
        sync()
        start = time.perf_counter()
        for ids in batches[5:]:
            last = step(ids)
        sync()
        return (time.perf_counter() - start) / steps, float(last.item())

    def torch_sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    t_ours, loss_ours = timed(ours, synchronize)
    t_twin, loss_twin = timed(theirs, torch_sync)
    ratio = t_ours / t_twin
    print(f"speed: {steps} steps on {device}: groundup {1000 * t_ours:.1f} ms/step, PyTorch "
          f"eager {1000 * t_twin:.1f} ms/step, ratio {ratio:.2f}x (goal <= 1.5x); last losses "
          f"{loss_ours:.4f} and {loss_twin:.4f}")  # fmt: skip
    return ratio


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    p.add_argument("--quick", action="store_true", help="toy sizes: check the script runs")
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--eval-interval", type=int, default=250)
    p.add_argument("--speed-steps", type=int, default=200)
    p.add_argument("--skip", nargs="*", default=[], choices=("parity", "lecture", "speed"))
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.eval_interval, args.speed_steps = 6, 3, 3
    from groundup import cuda

    if args.device == "cuda" and not cuda.is_available():
        print("no GPU: " + cuda.INSTALL_HINT)
        return 2
    cuda.set_allow_tf32(False)  # float32 matmuls: the parity figures are float32's
    ok = True
    started = time.perf_counter()
    if "parity" not in args.skip:
        ok &= parity(args.device)
        ok &= gpt_step_parity(args.device, args.quick)
    if "speed" not in args.skip:
        speed(args.device, args.speed_steps, args.quick)
    if "lecture" not in args.skip:  # the longest part last
        lecture_run(args.device, args.steps, args.eval_interval, args.quick)
    print(f"gpu_check: done in {time.perf_counter() - started:.0f} s ({'ok' if ok else 'FAIL'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
