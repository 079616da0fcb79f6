"""nanoGPT's `baby` CPU run in PyTorch, scored like ours: the reference for issue 6's 1.88.

    .venv/bin/python benchmarks/nanogpt_reference.py                 # seed 1337, 2000 iters
    .venv/bin/python benchmarks/nanogpt_reference.py --seeds 1 2 3   # several seeds

nanoGPT's README reports a validation loss of 1.88 for

    python train.py config/train_shakespeare_char.py --device=cpu --compile=False
      --eval_iters=20 --log_interval=1 --block_size=64 --batch_size=12 --n_layer=4
      --n_head=4 --n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0

and that figure is a 20-batch estimate (20 x 12 x 64 = 15,360 random positions). This script
re-implements nanoGPT's model.py and train.py for that one command (bias-free LayerNorm
and Linear, exact GELU, tied head, N(0, 0.02) init with the 1/sqrt(2 n_layer) residual
projections, AdamW betas (0.9, 0.99), weight decay 0.1 on matrices, 100 warmup steps,
cosine to 1e-4, clipping at 1.0, the 90/10 split of the character stream) and prints, per
seed, both nanoGPT's 20-batch estimate and the loss on the whole validation split in
non-overlapping windows, which is how `groundup train gpt` reports val_loss. One BLAS thread.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time


def build(vocab_size: int, block_size: int, n_layer: int, n_head: int, n_embd: int):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
            self.c_proj = nn.Linear(n_embd, n_embd, bias=False)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd, bias=False)
            self.attn = SelfAttention()
            self.ln_2 = nn.LayerNorm(n_embd, bias=False)
            self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=False)
            self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=False)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab_size, n_embd)
            self.wpe = nn.Embedding(block_size, n_embd)
            self.h = nn.ModuleList(Block() for _ in range(n_layer))
            self.ln_f = nn.LayerNorm(n_embd, bias=False)
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.wte.weight = self.lm_head.weight
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(module.weight, 0.0, 0.02)
            for name, p in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

        def forward(self, idx, targets):
            pos = torch.arange(idx.shape[1])
            x = self.wte(idx) + self.wpe(pos)
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))

    return GPT()


def run(seed: int, args, train, val, vocab_size: int) -> tuple[float, float, float]:
    import torch

    torch.manual_seed(seed)
    model = build(vocab_size, args.block_size, 4, 4, 128)
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.99))
    B, T = args.batch_size, args.block_size

    def batch(data):
        ix = torch.randint(len(data) - T, (B,))
        return (
            torch.stack([data[i : i + T] for i in ix]),
            torch.stack([data[i + 1 : i + 1 + T] for i in ix]),
        )

    def lr_at(it):
        if it < args.warmup:
            return args.lr * (it + 1) / (args.warmup + 1)
        ratio = min(1.0, (it - args.warmup) / (args.max_iters - args.warmup))
        return args.min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (args.lr - args.min_lr)

    for it in range(args.max_iters + 1):  # nanoGPT takes its last step at iter max_iters
        if it == args.max_iters:
            model.eval()
            with torch.no_grad():
                estimate = statistics.fmean(model(*batch(val)).item() for _ in range(20))
                starts = torch.arange(0, len(val) - T, T)
                total, count = 0.0, 0
                for i in range(0, len(starts), 64):
                    s = starts[i : i + 64, None] + torch.arange(T + 1)
                    w = val[s]
                    total += model(w[:, :-1], w[:, 1:]).item() * w.shape[0]
                    count += w.shape[0]
            model.train()
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        loss = model(*batch(train))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return estimate, total / count, loss.item()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337], help="torch seeds")
    parser.add_argument("--max-iters", type=int, default=2000, help="training steps")
    parser.add_argument("--batch-size", type=int, default=12, help="windows per step")
    parser.add_argument("--block-size", type=int, default=64, help="context length")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--min-lr", type=float, default=1e-4, help="cosine floor")
    parser.add_argument("--warmup", type=int, default=100, help="linear warmup steps")
    args = parser.parse_args()
    import torch

    from groundup.data import load_text

    torch.set_num_threads(1)
    text = load_text("shakespeare")  # the copy shipped with groundup
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(ids))
    train, val = ids[:n], ids[n:]
    n_params = sum(p.numel() for p in build(len(chars), args.block_size, 4, 4, 128).parameters())
    print(
        f"nanoGPT baby ({n_params:,} params), {args.max_iters} iters, batch "
        f"{args.batch_size}, block {args.block_size}, lr {args.lr}; val {len(val):,} chars"
    )
    print(f"{'seed':>6} {'20-batch val':>13} {'full val':>9} {'last train':>11} {'s':>6}")
    fulls, estimates = [], []
    for seed in args.seeds:
        t0 = time.perf_counter()
        estimate, full, last = run(seed, args, train, val, len(chars))
        estimates.append(estimate)
        fulls.append(full)
        print(
            f"{seed:>6} {estimate:>13.4f} {full:>9.4f} {last:>11.4f} "
            f"{time.perf_counter() - t0:>6.0f}",
            flush=True,
        )
    if len(fulls) > 1:
        print(
            f"{'median':>6} {statistics.median(estimates):>13.4f} {statistics.median(fulls):>9.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
