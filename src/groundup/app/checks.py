"""The refusals a command makes before it writes anything: a flag out of range, data too
small for its split or context, sizes this machine cannot hold, a batch that leaves an
MPI rank without a row. Each is a ``ValueError`` of one line naming the flag, the value and
what was expected; the command line prints it and exits 2 (:mod:`groundup.app.cli`).

    positive_ints(args, "steps", "n_hidden")   # --n-hidden must be a positive int, got 0

Argument types (``commands/_args.py``) refuse what can be refused while the flags are
parsed; these run after ``--resume`` has merged a run's own settings, and on the data.
"""

from __future__ import annotations

import math
import os
from typing import Any

MAX_NOISE = 100.0  # micrograd: beyond this the moons are noise (and NaN compares false)
MAX_STEPS_SCALE = 1000.0  # journey: 1000x the journey is days of CPU; beyond that a typo


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# ---------------------------------------------------------------- one flag at a time


def positive_ints(args: Any, *names: str) -> None:
    """Each named setting must be an int >= 1; one the command lacks, or left None, passes."""
    for name in names:
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise ValueError(f"{_flag(name)} must be a positive int, got {value}")


def non_negative_ints(args: Any, *names: str) -> None:
    """Each named setting must be an int >= 0 (0 meaning none, the full batch, never)."""
    for name in names:
        value = getattr(args, name, None)
        if value is not None and value < 0:
            raise ValueError(f"{_flag(name)} must be an int >= 0, got {value}")


def finite_non_negative(args: Any, *names: str) -> None:
    """Each named setting must be a finite number >= 0 (a weight decay, a penalty)."""
    for name in names:
        value = getattr(args, name, None)
        if value is not None and not (value >= 0 and math.isfinite(value)):
            raise ValueError(f"{_flag(name)} must be a finite number >= 0, got {value}")


def learning_rate(lr: float) -> None:
    """``--lr`` of ``groundup train``: positive and finite (NaN compares false)."""
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"--lr must be positive and finite, got {lr}")


# ---------------------------------------------------------------- each command's flags


def micrograd_flags(args: Any) -> None:
    positive_ints(args, "steps")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise ValueError(f"--lr must be a finite number > 0, got {args.lr}")
    if args.n_samples < 2:
        raise ValueError(f"--n-samples must be an int >= 2, got {args.n_samples}")
    if not 0 <= args.noise <= MAX_NOISE:
        raise ValueError(
            f"--noise must be in [0, {MAX_NOISE:g}] (the moons span about 3), got {args.noise}"
        )


def charlm_flags(args: Any) -> None:
    """``train bigram|mlp``: --batch-size 0 is the full batch (its help says so)."""
    positive_ints(args, "steps", "block_size", "n_embd", "n_hidden", "n_layers", "lr_decay_step")
    non_negative_ints(args, "samples", "batch_size", "eval_interval")  # 0: none, full, never
    learning_rate(args.lr)
    finite_non_negative(args, "l2")
    batch_for_ranks(args.batch_size)
    if getattr(args, "batchnorm", False):
        batchnorm_in_one_process()


def transformer_flags(args: Any) -> None:
    """``train gpt|llama``."""
    from groundup.app.recipes import reads_words

    positive_ints(args, "max_iters", "eval_interval", "eval_iters", "batch_size", "vocab_size",
                  "block_size")  # fmt: skip
    non_negative_ints(args, "samples")
    learning_rate(args.lr)
    if getattr(args, "min_lr", None) is not None and not 0 <= args.min_lr <= args.lr:
        raise ValueError(f"--min-lr must be in [0, --lr], got {args.min_lr}")
    finite_non_negative(args, "weight_decay")
    if args.warmup < 0:
        raise ValueError(f"--warmup must be >= 0, got {args.warmup}")
    if args.dropout is not None and not 0.0 <= args.dropout < 1.0:
        raise ValueError(f"--dropout must be in [0, 1), got {args.dropout}")
    if reads_words(args.data, args.words) and args.tokenizer != "char":
        raise ValueError("--tokenizer bpe is for text; words are read character by character")
    batch_for_ranks(args.batch_size)


def sample_flags(args: Any) -> None:
    """``sample``: checked before anything is loaded, so a bad flag answers at once."""
    if args.num is not None and args.num < 0:
        raise ValueError(f"-n must be >= 0, got {args.num}")
    if not (math.isfinite(args.temperature) and args.temperature >= 0):
        raise ValueError(
            f"--temperature must be a finite number >= 0 (0: greedy), got {args.temperature}"
        )
    positive_ints(args, "top_k")
    if args.top_p is not None and not 0 < args.top_p <= 1:
        raise ValueError(f"--top-p must be in (0, 1], got {args.top_p}")


def journey_flags(args: Any) -> None:
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    if not 0 < args.steps_scale <= MAX_STEPS_SCALE:
        raise ValueError(
            f"--steps-scale must be in (0, {MAX_STEPS_SCALE:g}], got {args.steps_scale}"
        )


# ---------------------------------------------------------------- the data


def training_split(train: list[str], data: str, n_words: int, hint: str = "") -> None:
    """The 80% of the words that train must hold one (1 word leaves it empty)."""
    if not train:
        raise ValueError(
            f"--data {data}: {n_words} word(s) leave the 80% training split empty; "
            f"expected at least 2 words{hint}"
        )


def words_fit_context(block_size: int | None, longest: int, data: str) -> None:
    """A word is one row: the boundary, then the longest word, inside ``--block-size``."""
    needed = longest + 1
    if block_size is not None and block_size < needed:
        raise ValueError(
            f"--block-size must be at least {needed} for --data {data} (its longest word "
            f"has {longest} letters, plus the boundary), got {block_size}"
        )


def text_fits_context(n_train: int, n_val: int, block_size: int, data: str,
                      tokenizer: str) -> None:  # fmt: skip
    """Both parts of a text must hold more than one context of tokens."""
    if min(n_train, n_val) <= block_size:
        unit = "characters" if tokenizer == "char" else "tokens"
        raise ValueError(
            f"--data {data}: {n_train + n_val:,} {unit} split 90/10 into "
            f"{n_train:,} for training and {n_val:,} for validation, but each part needs "
            f"more than the context length {block_size} (--block-size); expected a longer text "
            f"(at least {10 * (block_size + 1):,} {unit}) or a smaller --block-size"
        )


def bpe_vocab(vocab_size: int) -> None:
    if vocab_size < 257:
        raise ValueError(
            f"--vocab-size must be >= 257 for BPE (256 bytes + <|endoftext|>), got {vocab_size}"
        )


# ---------------------------------------------------------------- memory and ranks


def memory_bytes() -> int | None:
    """This machine's physical memory, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def fits_in_memory(estimate: int, what: str) -> None:
    """Refuse, before anything is allocated, a run whose estimate exceeds 80% of memory."""
    total = memory_bytes()
    if total is not None and estimate > 0.8 * total:
        raise ValueError(
            f"{what} need about {estimate / 2**30:,.1f} GiB, more than this machine's "
            f"{total / 2**30:,.1f} GiB of memory; choose smaller values"
        )


def micrograd_fits(n_samples: int) -> None:
    # one step's graph holds ~1,000 Values per point, ~150 bytes each
    fits_in_memory(150_000 * n_samples, "--n-samples")


def bigram_fits(vocab_size: int) -> None:
    fits_in_memory(4 * 8 * vocab_size**2, f"the {vocab_size:,} letters of --data")


def mlp_fits(args: Any, vocab_size: int, n_train: int, n_rows: int = 0) -> None:
    """float64 weights with SGD's copies, the activations backward keeps per row, and the
    int64 (context, target) arrays of all ``n_rows`` examples."""
    width = args.n_embd * (2 if args.hierarchical else args.block_size)
    weights = vocab_size * args.n_embd + args.n_layers * width * args.n_hidden
    batch = args.batch_size or n_train  # 0: the whole split at once
    per_row = args.block_size * args.n_embd + 6 * args.n_layers * args.n_hidden
    activations = batch * (per_row + 3 * vocab_size)  # kept for backward
    arrays = n_rows * (args.block_size + 1)
    fits_in_memory(8 * (4 * weights + activations + arrays),
                   "--batch-size, --block-size, --n-embd, --n-hidden and --n-layers")  # fmt: skip


def transformer_fits(batch_size: int, config: Any) -> None:
    """Estimate training memory (fp32 activations kept for backward, weights, AdamW) and
    refuse what the machine cannot hold: `--block-size 100000` fails here, not in the OOM
    killer."""

    def size(gpt: str, llama: str) -> int:  # GPTConfig's name, or LlamaConfig's (Hugging Face's)
        return int(getattr(config, gpt, None) or getattr(config, llama))

    B, T = batch_size, config.block_size
    C, L = size("n_embd", "hidden_size"), size("n_layer", "num_hidden_layers")
    H = size("n_head", "num_attention_heads")
    attention = 4 * B * H * T * T  # scores, softmax, dropout mask, their gradient
    activations = L * (attention + 20 * B * T * C) + 3 * B * T * config.vocab_size
    weights = 12 * L * C * C + (config.vocab_size + T) * C
    fits_in_memory(4 * (activations + 4 * weights), "--batch-size, --block-size and --preset")


def batch_for_ranks(batch_size: int) -> None:
    """Under ``mpiexec -n N``, refuse a --batch-size that leaves a rank without a row."""
    from groundup.train.distributed import world

    size = world().size
    if 0 < batch_size < size:
        raise ValueError(
            f"--batch-size {batch_size} is smaller than the {size} ranks of mpiexec -n {size}; "
            "expected at least one row per rank (--batch-size is the global batch)"
        )


def batchnorm_in_one_process() -> None:
    """BatchNorm's statistics are the batch's; on several ranks each would see its shard."""
    from groundup.train.distributed import world

    if world().size > 1:
        raise ValueError(
            f"--batchnorm cannot train on {world().size} ranks: each rank's batch "
            "statistics would cover its shard, not the batch; run it in one process"
        )
