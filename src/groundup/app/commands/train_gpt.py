"""``groundup train gpt`` and ``groundup train llama``: stages 4 and 5 from the command line.

    groundup train gpt                                    # tiny preset on tinyshakespeare
    groundup train gpt --preset baby --batch-size 12 --max-iters 2000 --dropout 0
    groundup train gpt --data names                       # names, 80/10/10 by word
    groundup train gpt --resume runs/gpt-20260125-141502  # continue an interrupted run
    groundup train llama --max-iters 2000                 # the same run with a Llama
    mpiexec -n 2 groundup train gpt --batch-size 32       # data-parallel: 16 rows per rank

Both targets take the same flags and run the same code; the model is the only difference
(``--preset``, ``--block-size``, ``--dropout``, ``--no-tie-weights`` and ``--init`` map to
the Llama's fields of the same meaning).

Text (``shakespeare`` or any UTF-8 file) is one token stream: the first 90% trains, the
last 10% validates, batches are random windows. Words (``names`` or a file with
``--words``) are split 80/10/10 by word with the seed, as in stages 2-3, and each
word is one padded row ``.emma`` -> ``emma.`` (targets past the end are ignored).

AdamW (decay on matrices only), linear warmup then cosine decay to lr/10, gradient
clipping at 1.0. The run folder gets checkpoint/ (the best model by validation loss),
last/ (the latest evaluation, for --resume), metrics.json, history.csv, loss_curve.png
and samples.txt. Nothing heavy is imported until ``run``.

Under ``mpiexec -n N`` the run is data-parallel (groundup.train.distributed): --batch-size
stays the global batch, each rank computes on its rows, and the losses, weights and files
are those of the one-process run; rank 0 alone writes the run folder and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from groundup.app.commands import _args

DEFAULT_MAX_ITERS = 5000

# flag, what it takes, default, help: one set of flags serves both targets
FLAGS = (
    ("--preset", ("tiny", "baby", "lecture"), "tiny",
     "model size: tiny 4/4/64 block 32 (0.21M), baby 4/4/128 block 64, lecture 6/6/384 block "
     "256 (10.8M) (default tiny); a Llama of the same name has the same layers, heads and "
     "width, 2 key/value heads and SwiGLU 3x wide"),
    ("--data", None, "shakespeare",
     "'shakespeare' (tinyshakespeare, shipped), 'names' (makemore's 32,033 names, shipped; "
     "read as words), or a UTF-8 file path (default shakespeare)"),
    ("--words", bool, False,
     "read a --data file as one word per line (like names), not as text"),
    _args.steps_flag("--max-iters", "optimisation steps", DEFAULT_MAX_ITERS),
    ("--eval-interval", int, 500,
     "evaluate on val every this many steps; keeps the best checkpoint (500)"),
    ("--eval-iters", int, 200, "batches per evaluation (200, as the course notebook)"),
    ("--batch-size", int, 16, "sequences per step (16)"),
    ("--block-size", int, None,
     "context length (default: the preset's; for words, longest word + 1)"),
    ("--lr", float, 1e-3, "peak learning rate (1e-3)"),
    ("--warmup", int, 100, "linear warmup steps (100)"),
    ("--min-lr", float, None,
     "where the cosine ends (default lr/10; equal to --lr: constant after warmup)"),
    ("--weight-decay", float, 0.1, "AdamW weight decay on weight matrices and embeddings (0.1)"),
    ("--dropout", float, None,
     "dropout probability (default: the preset's, 0.0 for tiny and baby)"),
    ("--no-tie-weights", bool, False,
     "give the head its own matrix instead of reusing the token embedding (as the course "
     "notebook's model)"),
    ("--init", ("gpt2", "pytorch"), "gpt2",
     "initial weights: gpt2 (N(0, 0.02), scaled residual projections; default) or pytorch "
     "(PyTorch's layer defaults, as the course notebook's model)"),
    ("--tokenizer", ("char", "bpe"), "char",
     "char: one token per character; bpe: byte-level BPE trained on the training text "
     "(default char)"),
    ("--vocab-size", int, 512, "BPE vocabulary size, bytes and merges included (512)"),
    ("--seed", _args.seed_int, 42,
     "seed of the word split, the weights, dropout and batches (42, the stage 2-3 split)"),
    ("--samples", int, None, "words (20) or characters/tokens (500) to sample at the end"),
)  # fmt: skip

# target -> (help, what it trains)
TARGETS = {
    "gpt": ("stage 4: a GPT on text (tinyshakespeare, any file) or on words (names)", "a GPT"),
    "llama": ("stage 5: a Llama (RMSNorm, RoPE, GQA, SwiGLU) on the same data", "a Llama"),
}


def register(subparsers: Any) -> None:
    """Add the ``gpt`` and ``llama`` targets to ``groundup train``'s subparsers."""
    p = argparse.ArgumentParser(add_help=False)  # the flags both targets share
    _args.add_flags(p, FLAGS)
    _args.add_run_flags(p, "<gpt|llama>", saves="last/, at each evaluation")
    _args.add_device_flag(p)
    for target, (help_text, what) in TARGETS.items():
        parser = subparsers.add_parser(
            target, parents=[p], help=help_text,
            description=f"Train {what} on groundup's own engine: char-level (or BPE) on a "
            "text file, or on words with the stage 2-3 split; writes a run folder.",
        )  # fmt: skip
        parser.set_defaults(func=run, model_type=target)


def run(args: argparse.Namespace) -> int:
    from groundup.app import checks, training
    from groundup.app.runs import resumed_args, run_kind

    if args.resume:  # the folder knows its arch: either target resumes it
        kind = run_kind(Path(args.resume))
        kind = kind if kind in TARGETS else args.model_type
        args = resumed_args(args, kind, total="max_iters", required="preset")
    elif args.max_iters is None:
        args.max_iters = DEFAULT_MAX_ITERS
    checks.transformer_flags(args)
    return training.train_transformer(args)
