"""``groundup train bigram`` and ``groundup train mlp``: stages 2-3 from the command line.

    groundup train bigram                      # neural bigram on the shipped names
    groundup train mlp --steps 200000          # the classic MLP (block 3, emb 10, hidden 200)
    groundup train mlp --batchnorm --data words.txt --out runs/mlp-bn
    mpiexec -n 2 groundup train mlp            # data-parallel: the same run, on two processes

A run folder (``runs/<bigram|mlp>-<timestamp>/`` or ``--out``) gets metrics.json (train/val/
test losses on the full splits), history.csv, checkpoint/ (model, optimizer, config.json,
tokenizer), loss_curve.png and samples.txt (new names marked). Nothing heavy is imported
until ``run``: ``groundup --help`` stays instant.
"""

from __future__ import annotations

import argparse
from typing import Any

from groundup.app.commands import _args

# target -> (help, description, default steps, lr, batch size)
TARGETS = {
    "bigram": (
        "stage 2: the neural bigram (one-hot x W, softmax) on words",
        "Train the neural bigram by full-batch gradient descent and compare it with the "
        "counting model on the same words.",
        500, 50.0, 0,
    ),
    "mlp": (
        "stage 3: the MLP language model (Bengio et al. 2003), optional BatchNorm",
        "Train the MLP character model on the 80/10/10 split of the words with SGD "
        "(lr, then lr/10 from --lr-decay-step).",
        20_000, 0.1, 32,
    ),
}  # fmt: skip

# flag, what it takes, default, help: each target's own, after the flags both share
OWN_FLAGS = {
    "bigram": (
        ("--l2", float, 0.0,
         "weight of the mean(W^2) penalty: pulls toward uniform, like add-k smoothing"),
        ("--no-split", bool, False,
         "train and evaluate on all words (the known-answer setting) instead of 80/10/10"),
        ("--dtype", ("float32", "float64"), "float64",
         "parameter precision (float64: the known answers)"),
    ),
    "mlp": (
        ("--block-size", int, 3, "characters of context"),
        ("--n-embd", int, 10, "size of each character embedding"),
        ("--n-hidden", int, 200, "width of each hidden layer"),
        ("--n-layers", int, 1, "number of hidden tanh layers"),
        ("--batchnorm", bool, False, "BatchNorm1d before each tanh"),
        ("--hierarchical", bool, False,
         "WaveNet-like: fuse pairs of positions per layer (block size = 2 ** n-layers)"),
        ("--lr-decay-step", int, None,
         "step from which the learning rate is lr/10 (default: 3/4 of --steps)"),
        ("--dtype", ("float32", "float64"), "float32", "parameter precision"),
    ),
}  # fmt: skip


def register(subparsers: Any) -> None:
    """Add the ``bigram`` and ``mlp`` targets to ``groundup train``'s subparsers."""
    for target, (help_text, description, steps, lr, batch_size) in TARGETS.items():
        parser = subparsers.add_parser(target, help=help_text, description=description)
        _args.add_flags(parser, (
            ("--data", None, "names",
             "'names' (makemore's 32,033 names, shipped with the package) or a UTF-8 file, "
             "one word a line (default names)"),
            _args.steps_flag("--steps", "optimisation steps", f"{steps:,}"),
            ("--lr", float, lr, "learning rate of SGD"),
            ("--batch-size", int, batch_size,
             "examples per step (0: the whole training set, full-batch gradient descent)"),
            ("--seed", _args.seed_int, 42, "seed of the split, init, batches"),
            ("--split-shuffle", ("numpy", "makemore"), "numpy",
             "how the 80/10/10 split shuffles: a NumPy permutation, or Python's random.shuffle "
             "exactly as makemore (same dev words as its published losses)"),
            ("--eval-interval", int, 0,
             "estimate the val loss every this many steps (0: only at the end)"),
            ("--samples", int, 20, "names to sample at the end"),
        ))  # fmt: skip
        _args.add_run_flags(parser, "<model>", saves="last/, every 5% of the steps")
        _args.add_device_flag(parser)
        _args.add_flags(parser, OWN_FLAGS[target])
        parser.set_defaults(func=run, model_type=target, default_steps=steps)


def run(args: argparse.Namespace) -> int:
    from groundup.app import checks, training
    from groundup.app.runs import resumed_args

    if args.resume:
        args = resumed_args(args, args.model_type, total="steps", required="split_shuffle")
    elif args.steps is None:
        args.steps = args.default_steps
    checks.charlm_flags(args)
    return training.train_charlm(args)
