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
import math
import sys
from typing import Any

from groundup.app.commands._args import (
    add_device_flag,
    add_run_flags,
    check_batch_for_ranks,
    seed_int,
)


def register(subparsers: Any) -> None:
    """Add the ``bigram`` and ``mlp`` targets to ``groundup train``'s subparsers."""
    bigram = subparsers.add_parser(
        "bigram",
        help="stage 2: the neural bigram (one-hot x W, softmax) on words",
        description="Train the neural bigram by full-batch gradient descent and compare it "
        "with the counting model on the same words.",
    )
    _add_common(bigram, steps=500, lr=50.0, batch_size=0)
    bigram.add_argument(
        "--l2", type=float, default=0.0,
        help="weight of the mean(W^2) penalty: pulls toward uniform, like add-k smoothing",
    )  # fmt: skip
    bigram.add_argument(
        "--no-split", action="store_true",
        help="train and evaluate on all words (the known-answer setting) instead of 80/10/10",
    )  # fmt: skip
    bigram.add_argument(
        "--dtype", choices=["float32", "float64"], default="float64",
        help="parameter precision (float64: the known answers)",
    )  # fmt: skip
    bigram.set_defaults(func=run, model_type="bigram", default_steps=500)

    mlp = subparsers.add_parser(
        "mlp",
        help="stage 3: the MLP language model (Bengio et al. 2003), optional BatchNorm",
        description="Train the MLP character model on the 80/10/10 split of the words with SGD "
        "(lr, then lr/10 from --lr-decay-step).",
    )
    _add_common(mlp, steps=20_000, lr=0.1, batch_size=32)
    mlp.add_argument("--block-size", type=int, default=3, help="characters of context")
    mlp.add_argument("--n-embd", type=int, default=10, help="size of each character embedding")
    mlp.add_argument("--n-hidden", type=int, default=200, help="width of each hidden layer")
    mlp.add_argument("--n-layers", type=int, default=1, help="number of hidden tanh layers")
    mlp.add_argument("--batchnorm", action="store_true", help="BatchNorm1d before each tanh")
    mlp.add_argument(
        "--hierarchical", action="store_true",
        help="WaveNet-like: fuse pairs of positions per layer (block size = 2 ** n-layers)",
    )  # fmt: skip
    mlp.add_argument(
        "--lr-decay-step", type=int, default=None,
        help="step from which the learning rate is lr/10 (default: 3/4 of --steps)",
    )  # fmt: skip
    mlp.add_argument(
        "--dtype", choices=["float32", "float64"], default="float32", help="parameter precision"
    )
    mlp.set_defaults(func=run, model_type="mlp", default_steps=20_000)


def _add_common(parser: argparse.ArgumentParser, steps: int, lr: float, batch_size: int) -> None:
    parser.add_argument(
        "--data", default="names",
        help="'names' (makemore's 32,033 names, shipped with the package) or a UTF-8 file, "
        "one word a line (default names)",
    )  # fmt: skip
    parser.add_argument(
        "--steps", type=int, default=None,
        help=f"optimisation steps ({steps:,}; with --resume: the run's own, or this total)",
    )  # fmt: skip
    parser.add_argument("--lr", type=float, default=lr, help="learning rate of SGD")
    parser.add_argument(
        "--batch-size", type=int, default=batch_size,
        help="examples per step (0: the whole training set, full-batch gradient descent)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=seed_int, default=42, help="seed of the split, init, batches"
    )
    parser.add_argument(
        "--split-shuffle", choices=["numpy", "makemore"], default="numpy",
        help="how the 80/10/10 split shuffles: a NumPy permutation, or Python's "
        "random.shuffle exactly as makemore (same dev words as its published losses)",
    )  # fmt: skip
    parser.add_argument(
        "--eval-interval", type=int, default=0,
        help="estimate the val loss every this many steps (0: only at the end)",
    )  # fmt: skip
    parser.add_argument("--samples", type=int, default=20, help="names to sample at the end")
    add_run_flags(parser, "<model>", saves="last/, every 5% of the steps")
    add_device_flag(parser)


def _check_args(args: argparse.Namespace) -> None:
    # --batch-size 0 means full batch (its help says so) for both models: checked below
    positive = ["steps"] if args.model_type == "bigram" else [
        "steps", "block_size", "n_embd", "n_hidden", "n_layers"]  # fmt: skip
    if getattr(args, "lr_decay_step", None) is not None:
        positive.append("lr_decay_step")
    for name in positive:
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} must be a positive int, got {getattr(args, name)}")
    for name in ("samples", "batch_size", "eval_interval"):  # 0: none, full batch, never
        if getattr(args, name) < 0:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} must be an int >= 0, got {getattr(args, name)}")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        raise ValueError(f"--lr must be positive and finite, got {args.lr}")
    l2 = getattr(args, "l2", 0.0)
    if not (l2 >= 0 and math.isfinite(l2)):
        raise ValueError(f"--l2 must be a finite number >= 0, got {l2}")
    check_batch_for_ranks(args.batch_size)
    if getattr(args, "batchnorm", False):
        from groundup.train.distributed import world

        if world().size > 1:
            raise ValueError(
                f"--batchnorm cannot train on {world().size} ranks: each rank's batch "
                "statistics would cover its shard, not the batch; run it in one process"
            )


def run(args: argparse.Namespace) -> int:
    if args.resume:
        from groundup.app.runs import resumed_args

        args = resumed_args(args, args.model_type, total="steps", required="split_shuffle")
    elif args.steps is None:
        args.steps = args.default_steps
    _check_args(args)
    return _train(args)


def _train(args: argparse.Namespace) -> int:
    from groundup.app.runs import run_training

    return run_training(args, _prepare, _run)


def _prepare(args: argparse.Namespace) -> dict[str, Any]:
    from groundup.app.recipes import charlm_arrays
    from groundup.app.runs import resume_step
    from groundup.data import load_words, split_words
    from groundup.models.bigram import NeuralBigram
    from groundup.models.mlp import MLPLanguageModel
    from groundup.optim import SGD
    from groundup.tokenizers import CharTokenizer
    from groundup.train import ArrayBatches, FullBatches, TrainConfig

    start = resume_step(args.resume, args.steps, "--steps") if args.resume else 0
    words = load_words(args.data)
    tokenizer = CharTokenizer.from_words(words)  # all words: dev/test use no unseen letter
    is_bigram = args.model_type == "bigram"
    if is_bigram and args.no_split:
        splits = {"train": list(words)}
    else:
        splits = dict(
            zip(
                ("train", "val", "test"),
                split_words(words, args.seed, shuffle=args.split_shuffle),
                strict=True,
            )
        )
        splits = {name: ws for name, ws in splits.items() if ws}
        if "train" not in splits:  # before any folder is made or model built
            raise ValueError(
                f"--data {args.data}: {len(words)} word(s) leave the 80% training split "
                "empty; expected at least 2 words (or --no-split for the bigram)"
            )
    block_size = 1 if is_bigram else args.block_size
    data = charlm_arrays(splits, tokenizer, block_size, bigram=is_bigram)
    if is_bigram:
        from groundup.app.runs import check_memory

        check_memory(
            4 * 8 * tokenizer.vocab_size**2, f"the {tokenizer.vocab_size:,} letters of --data"
        )
        model: Any = NeuralBigram(tokenizer.vocab_size, generator=args.seed, dtype=args.dtype)
    else:
        from groundup.app.runs import check_memory

        width = args.n_embd * (2 if args.hierarchical else args.block_size)
        weights = tokenizer.vocab_size * args.n_embd + args.n_layers * width * args.n_hidden
        batch = args.batch_size or len(data["train"][1])  # 0: the whole split at once
        per_row = args.block_size * args.n_embd + 6 * args.n_layers * args.n_hidden
        activations = batch * (per_row + 3 * tokenizer.vocab_size)  # kept for backward
        check_memory(8 * (4 * weights + activations),
                     "--batch-size, --block-size, --n-embd, --n-hidden and --n-layers")  # fmt: skip
        model = MLPLanguageModel(
            tokenizer.vocab_size, args.block_size, args.n_embd, args.n_hidden, args.n_layers,
            args.batchnorm, args.hierarchical, generator=args.seed, dtype=args.dtype,
        )  # fmt: skip
    model.to(args.device)
    if is_bigram:
        decay_step = None
        config = TrainConfig(max_steps=args.steps, lr=args.lr, seed=args.seed,
                             eval_interval=args.eval_interval, eval_batches=1)  # fmt: skip
    else:
        decay_step = args.lr_decay_step or max(1, (3 * args.steps) // 4)
        config = TrainConfig(max_steps=args.steps, lr=args.lr, schedule="step_decay",
                             step_size=decay_step, gamma=0.1, seed=args.seed,
                             eval_interval=args.eval_interval, eval_batches=20)  # fmt: skip
    batches: Any = (
        FullBatches(data)
        if args.batch_size == 0
        else ArrayBatches(data, args.batch_size, args.seed)
    )
    training = config.to_dict()
    l2 = getattr(args, "l2", 0.0)
    training.update(batch_size=args.batch_size, optimizer="SGD", l2=l2, lr_decay_step=decay_step)
    checkpoint_config = {
        "model": {"type": model.MODEL_TYPE, "kwargs": model.model_kwargs()},
        "training": training,
        "data": {"source": str(args.data), "seed": args.seed, "block_size": block_size,
                 "split": "all" if len(splits) == 1 else "80/10/10 by word",
                 "split_shuffle": args.split_shuffle},
        "tokenizer": tokenizer.to_config(),
    }  # fmt: skip
    return dict(words=words, tokenizer=tokenizer, splits=splits, data=data, model=model,
                config=config, batches=batches, optimizer=SGD(model.parameters(), lr=args.lr),
                checkpoint_config=checkpoint_config, start=start)  # fmt: skip


def _run(args: argparse.Namespace, run: Any, stop: Any, words: list[str], tokenizer: Any,
         splits: dict[str, list[str]], data: dict[str, Any], model: Any, config: Any,
         batches: Any, optimizer: Any, checkpoint_config: dict, start: int) -> int:  # fmt: skip
    from tqdm import tqdm

    from groundup.app.runs import RunInterrupted, save_interrupted
    from groundup.models.base import sample_words
    from groundup.models.bigram import CountingBigram
    from groundup.train import ArrayBatches, History, evaluate, resume, save_checkpoint, train

    is_bigram, world = args.model_type == "bigram", run.world
    transient = ("func", "resume", "out", "force", "default_steps")
    saved_args = {k: v for k, v in vars(args).items() if k not in transient}
    run.write_json("args.json", {**saved_args, "world_size": world.size})
    history = History()
    if args.resume:
        start, history = resume(run.path, model, optimizer)
    l2 = getattr(args, "l2", 0.0)

    def loss_fn(m: Any, X: Any, Y: Any) -> Any:
        _, loss = m(X, Y)
        if l2 and m.training:  # the penalty shapes training; reported losses are pure NLL
            loss = loss + l2 * m.l2_penalty()
        return loss

    def save(folder: str, done: int, **extra: Any) -> None:
        state = {"step": done, "history": history.to_dict(), **extra}
        save_checkpoint(run / folder, model, checkpoint_config, optimizer, state, tokenizer)

    print(
        f"{args.model_type}: {model.num_parameters():,} parameters, "
        f"{len(words):,} words ({', '.join(f'{k} {len(v):,}' for k, v in splits.items())}), "
        f"vocab {tokenizer.vocab_size}, run folder {run.path}",
        file=sys.stderr,
    )
    bar = tqdm(total=args.steps, initial=start, file=sys.stderr,
               disable=args.no_progress or not run.writer, mininterval=0.5,
               desc=args.model_type)  # fmt: skip
    save_every, done = max(1, args.steps // 20), [start]

    def on_step(row: dict[str, Any]) -> None:
        bar.update(1)
        done[0] = row["step"] + 1
        if row["step"] % 100 == 0 or row["val_loss"] is not None:
            bar.set_postfix(loss=f"{row['train_loss']:.4f}", lr=f"{row['lr']:g}", refresh=False)
        if done[0] % save_every == 0 and done[0] < args.steps:
            if run.writer:
                save("last", done[0])  # a crash or Ctrl-C loses at most 5% of the run
            world.barrier()  # no rank runs ahead of a save that may fail
        stop.check()

    try:
        history = train(model, batches, optimizer, config, on_step=on_step, loss_fn=loss_fn,
                        start_step=start, history=history, world=world)  # fmt: skip
    except RunInterrupted:
        bar.close()
        command = f"train {args.model_type}"
        return save_interrupted(run, command, lambda: save("last", done[0]), done[0], start)
    finally:
        bar.close()
    if getattr(model, "batchnorm", False):
        model.calibrate_batchnorm(data["train"][0])

    # exact losses on the full splits (eval mode: BatchNorm uses its population statistics)
    full = ArrayBatches(data, batch_size=8192, seed=args.seed)
    losses = {name: evaluate(model, full, name, None, world=world) for name in data}
    if not run.writer:
        return 0  # rank 0 samples, writes and prints
    metrics: dict[str, Any] = {
        "model": args.model_type,
        "num_parameters": model.num_parameters(),
        **{f"{name}_loss": loss for name, loss in losses.items()},
        "steps": args.steps,
        "seconds": history.seconds[-1] if history.seconds else 0.0,
        "seed": args.seed,
        "data": args.data,
        "world_size": world.size,
    }
    if is_bigram:
        counting = CountingBigram.fit(splits["train"], tokenizer=tokenizer)
        metrics["counting_train_loss"] = counting.nll(splits["train"])

    samples = sample_words(model, tokenizer, args.samples, seed=args.seed)
    seen = set(splits["train"])
    new = [w for w in samples if w not in seen]
    metrics["samples_new_share"] = len(new) / len(samples) if samples else None
    lines = [w if w in seen else f"{w}  (new)" for w in samples]
    save("checkpoint", args.steps)
    run.write_text("samples.txt", "\n".join(lines) + "\n")
    run.write_text("history.csv", history.to_csv())
    run.write_json("metrics.json", metrics)
    _plot_loss(history, run / "loss_curve.png", args.model_type)

    for name, loss in losses.items():
        print(f"{name} loss: {loss:.4f}")
    if is_bigram:
        print(f"counting model on train: {metrics['counting_train_loss']:.4f}")
    print(f"samples ({len(new)}/{len(samples)} new):")
    for line in lines:
        print(f"  {line}")
    print(f"run folder: {run.path}")
    return 0


def _plot_loss(history: Any, path: Any, title: str) -> None:
    """The loss curve PNG, skipped with a note when matplotlib is absent."""
    try:
        from groundup.viz.plots import plot_loss_curve, smoothed_loss_curves

        plot_loss_curve(smoothed_loss_curves(history), path=path, title=title)
    except ImportError as err:
        print(f"loss curve skipped: {err}", file=sys.stderr)
