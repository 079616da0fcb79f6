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
import math
import sys
from pathlib import Path
from typing import Any

from groundup.app.commands._args import (
    add_device_flag,
    add_run_flags,
    check_batch_for_ranks,
    seed_int,
)

PRESET_NAMES = ("tiny", "baby", "lecture")
DEFAULT_MAX_ITERS = 5000
WORD_SOURCES = ("names",)


# target -> (help, what it trains); one set of flags below serves both
TARGETS = {
    "gpt": ("stage 4: a GPT on text (tinyshakespeare, any file) or on words (names)", "a GPT"),
    "llama": ("stage 5: a Llama (RMSNorm, RoPE, GQA, SwiGLU) on the same data", "a Llama"),
}


def register(subparsers: Any) -> None:
    """Add the ``gpt`` and ``llama`` targets to ``groundup train``'s subparsers."""
    p = argparse.ArgumentParser(add_help=False)  # the flags both targets share
    p.add_argument(
        "--preset",
        choices=PRESET_NAMES,
        default="tiny",
        help="model size: tiny 4/4/64 block 32 (0.21M), baby 4/4/128 block 64, "
        "lecture 6/6/384 block 256 (10.8M) (default tiny); a Llama of the same name has "
        "the same layers, heads and width, 2 key/value heads and SwiGLU 3x wide",
    )
    p.add_argument(
        "--data",
        default="shakespeare",
        help="'shakespeare' (tinyshakespeare, shipped), 'names' (makemore's 32,033 names, "
        "shipped; read as words), or a UTF-8 file path (default shakespeare)",
    )
    p.add_argument(
        "--words",
        action="store_true",
        help="read a --data file as one word per line (like names), not as text",
    )
    p.add_argument(
        "--max-iters",
        type=int,
        default=None,
        help="optimisation steps (5000; with --resume: the run's own, or this total)",
    )
    p.add_argument(
        "--eval-interval",
        type=int,
        default=500,
        help="evaluate on val every this many steps; keeps the best checkpoint (500)",
    )
    p.add_argument(
        "--eval-iters",
        type=int,
        default=200,
        help="batches per evaluation (200, as the course notebook)",
    )
    p.add_argument("--batch-size", type=int, default=16, help="sequences per step (16)")
    p.add_argument(
        "--block-size",
        type=int,
        default=None,
        help="context length (default: the preset's; for words, longest word + 1)",
    )
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (1e-3)")
    p.add_argument("--warmup", type=int, default=100, help="linear warmup steps (100)")
    p.add_argument(
        "--min-lr",
        type=float,
        default=None,
        help="where the cosine ends (default lr/10; equal to --lr: constant after warmup)",
    )
    p.add_argument(
        "--weight-decay",
        type=float,
        default=0.1,
        help="AdamW weight decay on weight matrices and embeddings (0.1)",
    )
    p.add_argument(
        "--dropout",
        type=float,
        default=None,
        help="dropout probability (default: the preset's, 0.0 for tiny and baby)",
    )
    p.add_argument(
        "--no-tie-weights",
        action="store_true",
        help="give the head its own matrix instead of reusing the token embedding "
        "(as the course notebook's model)",
    )
    p.add_argument(
        "--init",
        choices=["gpt2", "pytorch"],
        default="gpt2",
        help="initial weights: gpt2 (N(0, 0.02), scaled residual projections; default) or "
        "pytorch (PyTorch's layer defaults, as the course notebook's model)",
    )
    p.add_argument(
        "--tokenizer",
        choices=["char", "bpe"],
        default="char",
        help="char: one token per character; bpe: byte-level BPE trained on the "
        "training text (default char)",
    )
    p.add_argument(
        "--vocab-size",
        type=int,
        default=512,
        help="BPE vocabulary size, bytes and merges included (512)",
    )
    p.add_argument(
        "--seed",
        type=seed_int,
        default=42,
        help="seed of the word split, the weights, dropout and batches (42, the stage 2-3 split)",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=None,
        help="words (20) or characters/tokens (500) to sample at the end",
    )
    add_run_flags(p, "<gpt|llama>", saves="last/, at each evaluation")
    add_device_flag(p)
    for target, (help_text, what) in TARGETS.items():
        parser = subparsers.add_parser(
            target,
            parents=[p],
            help=help_text,
            description=f"Train {what} on groundup's own engine: char-level (or BPE) on a "
            "text file, or on words with the stage 2-3 split; writes a run folder.",
        )
        parser.set_defaults(func=run, model_type=target)


def run(args: argparse.Namespace) -> int:
    if args.resume:
        args = _resumed_args(args)
    elif args.max_iters is None:
        args.max_iters = DEFAULT_MAX_ITERS
    _check_args(args)
    return _train(args)


def _check_args(args: argparse.Namespace) -> None:
    for name in ("max_iters", "eval_interval", "eval_iters", "batch_size", "vocab_size"):
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} must be a positive int, got {getattr(args, name)}")
    if args.block_size is not None and args.block_size < 1:
        raise ValueError(f"--block-size must be a positive int, got {args.block_size}")
    if args.samples is not None and args.samples < 0:
        raise ValueError(f"--samples must be an int >= 0, got {args.samples}")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        raise ValueError(f"--lr must be positive and finite, got {args.lr}")
    if getattr(args, "min_lr", None) is not None and not 0 <= args.min_lr <= args.lr:
        raise ValueError(f"--min-lr must be in [0, --lr], got {args.min_lr}")
    if not (args.weight_decay >= 0 and math.isfinite(args.weight_decay)):
        raise ValueError(f"--weight-decay must be a finite number >= 0, got {args.weight_decay}")
    if args.warmup < 0:
        raise ValueError(f"--warmup must be >= 0, got {args.warmup}")
    if args.dropout is not None and not 0.0 <= args.dropout < 1.0:
        raise ValueError(f"--dropout must be in [0, 1), got {args.dropout}")
    if _is_words(args) and args.tokenizer != "char":
        raise ValueError("--tokenizer bpe is for text; words are read character by character")
    check_batch_for_ranks(args.batch_size)


def _min_lr(args: argparse.Namespace) -> float:
    value = getattr(args, "min_lr", None)  # run folders from before the flag lack it
    return args.lr / 10 if value is None else value


def _is_words(args: argparse.Namespace) -> bool:
    return args.words or args.data in WORD_SOURCES


def _resumed_args(args: argparse.Namespace) -> argparse.Namespace:
    """The settings saved in the run's args.json, with the new --max-iters if given."""
    from groundup.app.runs import resumed_args, run_kind

    kind = run_kind(Path(args.resume))  # the folder knows its arch: either target resumes it
    kind = kind if kind in TARGETS else args.model_type
    return resumed_args(args, kind, total="max_iters", required="preset")


# --------------------------------------------------------------------------- data


def _words_data(args: argparse.Namespace) -> dict[str, Any]:
    from groundup.data.words import load_words, split_words, word_rows
    from groundup.tokenizers import CharTokenizer

    words = load_words(args.data)
    tokenizer = CharTokenizer.from_words(words)
    splits = dict(zip(("train", "val", "test"), split_words(words, args.seed), strict=True))
    if not splits["train"]:
        raise ValueError(
            f"--data {args.data}: {len(words)} word(s) leave the 80% training split empty; "
            "expected at least 2 words"
        )
    needed = max(len(w) for w in words) + 1  # the boundary, then the longest word
    if args.block_size is not None and args.block_size < needed:
        raise ValueError(
            f"--block-size must be at least {needed} for --data {args.data} (its longest word "
            f"has {needed - 1} letters, plus the boundary), got {args.block_size}"
        )
    block = args.block_size or needed
    data = {name: word_rows(ws, tokenizer, block) for name, ws in splits.items() if ws}
    return dict(
        kind="words",
        tokenizer=tokenizer,
        block_size=block,
        data=data,
        train_words=set(splits["train"]),
        sizes={k: len(v) for k, v in splits.items()},
        entry={
            "source": str(args.data),
            "kind": "words",
            "seed": args.seed,
            "split": "80/10/10 by word",
            "block_size": block,
        },
    )


def _text_data(args: argparse.Namespace, default_block: int) -> dict[str, Any]:
    from groundup.data.text import load_text, split_tokens
    from groundup.tokenizers import CharTokenizer

    text = load_text(args.data)
    tokenizer: Any
    if args.tokenizer == "bpe":
        from groundup.tokenizers.bpe import BPETokenizer

        if args.vocab_size < 257:
            raise ValueError(
                f"--vocab-size must be >= 257 for BPE (256 bytes + <|endoftext|>), "
                f"got {args.vocab_size}"
            )
        head = text[: int(0.9 * len(text))]  # learn merges from the training part only
        tokenizer = BPETokenizer().train(head, vocab_size=args.vocab_size)
    else:
        tokenizer = CharTokenizer.from_text(text)
    train, val = split_tokens(tokenizer.encode(text))
    block = args.block_size or default_block
    if min(len(train), len(val)) <= block:
        unit = "characters" if args.tokenizer == "char" else "tokens"
        raise ValueError(
            f"--data {args.data}: {len(train) + len(val):,} {unit} split 90/10 into "
            f"{len(train):,} for training and {len(val):,} for validation, but each part needs "
            f"more than the context length {block} (--block-size); expected a longer text "
            f"(at least {10 * (block + 1):,} {unit}) or a smaller --block-size"
        )
    return dict(
        kind="text",
        tokenizer=tokenizer,
        block_size=block,
        data={"train": train, "val": val},
        sizes={"train": len(train), "val": len(val)},
        entry={
            "source": str(args.data),
            "kind": "text",
            "split": "90/10 of the stream",
            "tokenizer": args.tokenizer,
            "block_size": block,
        },
    )


# --------------------------------------------------------------------------- training


def _train(args: argparse.Namespace) -> int:
    from groundup.app.runs import run_training

    return run_training(args, _prepare, _run)


def _prepare(args: argparse.Namespace) -> dict[str, Any]:
    from groundup.app.recipes import transformer_training
    from groundup.app.runs import resume_step
    from groundup.train import ArrayBatches, TokenBatches

    start = resume_step(args.resume, args.max_iters, "--max-iters") if args.resume else 0
    _, preset = _model_config(args)
    d = _words_data(args) if _is_words(args) else _text_data(args, preset.block_size)
    tokenizer, block = d["tokenizer"], d["block_size"]
    model_class, model_config = _model_config(args, tokenizer.vocab_size, block)
    _check_memory(args, model_config)
    model = model_class(model_config, seed=args.seed).to(args.device)
    if d["kind"] == "words":
        batches: Any = ArrayBatches(d["data"], args.batch_size, seed=args.seed)
    else:
        batches = TokenBatches(d["data"], args.batch_size, block, seed=args.seed)
    optimizer, config = transformer_training(
        model, lr=args.lr, max_steps=args.max_iters, warmup_steps=min(args.warmup, args.max_iters),
        min_lr=_min_lr(args), weight_decay=args.weight_decay, eval_interval=args.eval_interval,
        eval_batches=args.eval_iters, log_interval=10, seed=args.seed,
    )  # fmt: skip
    return dict(d=d, model=model, batches=batches, optimizer=optimizer, config=config,
                start=start)  # fmt: skip


def _check_memory(args: argparse.Namespace, config: Any) -> None:
    """Estimate training memory (fp32 activations kept for backward, weights, AdamW) and refuse
    what the machine cannot hold: `--block-size 100000` fails here, not in the OOM killer."""
    from groundup.app.runs import check_memory

    def size(gpt: str, llama: str) -> int:  # GPTConfig's name, or LlamaConfig's (Hugging Face's)
        return int(getattr(config, gpt, None) or getattr(config, llama))

    B, T = args.batch_size, config.block_size
    C, L = size("n_embd", "hidden_size"), size("n_layer", "num_hidden_layers")
    H = size("n_head", "num_attention_heads")
    attention = 4 * B * H * T * T  # scores, softmax, dropout mask, their gradient
    activations = L * (attention + 20 * B * T * C) + 3 * B * T * config.vocab_size
    weights = 12 * L * C * C + (config.vocab_size + T) * C
    check_memory(4 * (activations + 4 * weights), "--batch-size, --block-size and --preset")


def _run(args: argparse.Namespace, run: Any, stop: Any, d: dict[str, Any], model: Any,
         batches: Any, optimizer: Any, config: Any, start: int) -> int:  # fmt: skip
    from tqdm import tqdm

    from groundup.app.runs import RunInterrupted, save_interrupted
    from groundup.train import (
        Checkpointer,
        History,
        evaluate,
        load_checkpoint,
        resume,
        save_checkpoint,
        train,
    )

    tokenizer, block, run_dir, world = d["tokenizer"], d["block_size"], run.path, run.world
    transient = ("func", "resume", "out", "force")  # how this call ran, not the run's settings
    saved_args = {k: v for k, v in vars(args).items() if k not in transient}
    run.write_json("args.json", {**saved_args, "world_size": world.size})
    training = {
        **config.to_dict(),
        "batch_size": args.batch_size,
        "optimizer": "AdamW",
        "betas": [0.9, 0.99],
        "weight_decay": args.weight_decay,
        "preset": args.preset,
    }
    ckpt_config = {
        "model": {"type": model.MODEL_TYPE, "kwargs": model.model_kwargs()},
        "training": training,
        "data": d["entry"],
        "tokenizer": tokenizer.to_config(),
    }

    history, best = History(), None
    if args.resume:
        start, history = resume(run_dir, model, optimizer)
        if (run_dir / "checkpoint" / "state.json").is_file():
            best = load_checkpoint(run_dir / "checkpoint").state.get("best_val_loss")
    keep_best = Checkpointer(
        run_dir / "checkpoint", model, optimizer, ckpt_config, tokenizer, keep="best", best=best
    )
    keep_last = Checkpointer(
        run_dir / "last", model, optimizer, ckpt_config, tokenizer, keep="latest"
    )

    # evals.csv: step, train and val estimates on eval_iters batches; rewritten whole
    # (atomically) at each evaluation, so a kill never leaves half a line
    evals = _read_evals(run_dir / "evals.csv", before=start) if args.resume else []
    evals = evals or ["step,train_loss,val_loss\n"]
    run.write_text("evals.csv", "".join(evals))

    def on_eval(step: int, val_loss: float, hist: Any) -> None:
        train_loss = evaluate(model, batches, "train", args.eval_iters, world=world)  # same batches
        evals.append(f"{step + 1},{train_loss!r},{val_loss!r}\n")
        message = f"step {step + 1}: train loss {train_loss:.4f}, val loss {val_loss:.4f}"
        if args.no_progress:
            print(message, file=sys.stderr, flush=True)
        else:
            bar.write(message, file=sys.stderr)
        # before the checkpoints: a kill between the two leaves a line past the resume
        # point, which the resume drops and evaluates again
        run.write_text("evals.csv", "".join(evals))
        if run.writer:
            keep_best(step, val_loss, hist)
            keep_last(step, val_loss, hist)
        world.barrier()  # no rank runs ahead of a save that may fail
        stop.check()

    sizes = ", ".join(f"{k} {v:,}" for k, v in d["sizes"].items())
    unit = "words" if d["kind"] == "words" else "tokens"
    print(f"{args.model_type} {args.preset}: {model.num_parameters():,} parameters, vocab "
          f"{tokenizer.vocab_size}, block {block}, {unit}: {sizes}; run folder {run_dir}",
          file=sys.stderr)  # fmt: skip
    bar = tqdm(total=args.max_iters, initial=start, file=sys.stderr,
               disable=args.no_progress or not run.writer, mininterval=0.5,
               desc=args.model_type)  # fmt: skip
    val_shown, done = ["-"], [start]

    def on_step(row: dict[str, Any]) -> None:
        bar.update(1)
        done[0] = row["step"] + 1
        if row["val_loss"] is not None:
            val_shown[0] = f"{row['val_loss']:.4f}"
        else:
            stop.check()  # an evaluation step stops after its checkpoint, in on_eval
        if row["step"] % 10 == 0 or row["val_loss"] is not None:
            bar.set_postfix(loss=f"{row['train_loss']:.4f}", val=val_shown[0], refresh=False)

    try:
        history = train(model, batches, optimizer, config, on_step=on_step, on_eval=on_eval,
                        start_step=start, history=history, world=world)  # fmt: skip
    except RunInterrupted:
        bar.close()
        k = keep_last
        state = {"step": done[0], "history": history.to_dict(), "interrupted": True}

        def save() -> None:
            save_checkpoint(k.folder, k.model, k.config, k.optimizer, state, k.tokenizer)

        return save_interrupted(run, f"train {args.model_type}", save, done[0], start)
    finally:
        bar.close()

    # the best checkpoint is the run's model: measure it, sample from it (every rank reads
    # it: rank 0 saved it before the last evaluation's barrier)
    best_ckpt = load_checkpoint(run_dir / "checkpoint")
    best_ckpt.restore(model)
    metrics: dict[str, Any] = {
        "model": args.model_type, "preset": args.preset, "num_parameters": model.num_parameters(),
        "data": str(args.data), "tokenizer": args.tokenizer, "vocab_size": tokenizer.vocab_size,
        "block_size": block, "batch_size": args.batch_size, "lr": args.lr,
        "dropout": model.config.dropout, "steps": args.max_iters, "seed": args.seed,
        "best_step": best_ckpt.step, "best_val_loss_estimate": best_ckpt.state.get("val_loss"),
        "seconds": history.seconds[-1] if history.seconds else 0.0, "world_size": world.size,
    }  # fmt: skip
    for split in d["data"]:
        if d["kind"] == "text" and split == "train":  # 90% of a long text: an estimate is enough
            metrics["train_loss"] = evaluate(model, batches, "train", args.eval_iters, world=world)
        else:
            metrics[f"{split}_loss"] = evaluate(model, batches, split, None, world=world)
    if not run.writer:
        return 0  # rank 0 samples, writes and prints
    samples, extra = _samples(model, d, args)
    metrics.update(extra)
    run.write_text("samples.txt", samples)
    run.write_text("history.csv", history.to_csv())
    run.write_json("metrics.json", metrics)
    _plot_loss(history, run_dir / "loss_curve.png",
               f"{args.model_type} {args.preset} on {args.data}")  # fmt: skip

    for split in d["data"]:
        print(f"{split} loss: {metrics[f'{split}_loss']:.4f}")
    print(
        f"best checkpoint: step {metrics['best_step']}, estimated val "
        f"{metrics['best_val_loss_estimate']:.4f}; {metrics['seconds']:.0f} s"
    )
    print(samples)
    print(f"run folder: {run_dir}")
    return 0


def _model_config(args: argparse.Namespace, vocab_size: int | None = None,
                  block_size: int | None = None) -> tuple[Any, Any]:  # fmt: skip
    """The target's model class and its config: ``--preset``, with the flags' overrides
    (the sizes stay the preset's when not given). The one place the two targets differ."""
    overrides: dict[str, Any] = {"init": getattr(args, "init", "gpt2")}
    if args.dropout is not None:
        overrides["dropout"] = args.dropout
    tie = not getattr(args, "no_tie_weights", False)  # run folders from before the flag lack it
    if vocab_size is not None:
        overrides["vocab_size"] = vocab_size
    if getattr(args, "model_type", "gpt") == "llama":
        from groundup.models.llama import Llama, LlamaConfig

        overrides["tie_word_embeddings"] = tie
        if block_size is not None:
            overrides["max_position_embeddings"] = block_size
        return Llama, LlamaConfig.preset(args.preset, **overrides)
    from groundup.models.gpt import GPT, GPTConfig

    overrides["tie_weights"] = tie
    if block_size is not None:
        overrides["block_size"] = block_size
    return GPT, GPTConfig.preset(args.preset, **overrides)


def _read_evals(path: Path, before: int) -> list[str]:
    """The lines of evals.csv (header included) for steps up to ``before`` (a resume point)."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return lines[:1] + [line for line in lines[1:] if int(line.split(",")[0]) <= before]


def _samples(model: Any, d: dict[str, Any], args: argparse.Namespace) -> tuple[str, dict]:
    """The text of samples.txt, and for words the share of samples that are new names."""
    import numpy as np

    tokenizer = d["tokenizer"]
    if d["kind"] == "words":
        n = 20 if args.samples is None else args.samples
        if n == 0:
            return "", {"samples_new_share": None}
        start = np.zeros((n, 1), dtype=np.int64)
        ids = model.generate(start, d["block_size"] - 1, seed=args.seed)
        words = []
        for row in ids[:, 1:].tolist():
            words.append(tokenizer.decode(row[: row.index(0)] if 0 in row else row))
        known = d["train_words"]
        lines = [w if w in known else f"{w}  (new)" for w in words]
        new = sum(w not in known for w in words)
        return "\n".join(lines) + "\n", {"samples_new_share": new / n}
    n = 500 if args.samples is None else args.samples
    prompt = tokenizer.encode("\n") if "\n" in _vocab_text(tokenizer) else [0]
    ids = model.generate(np.array([prompt]), n, seed=args.seed)
    return tokenizer.decode(ids[0].tolist()) + "\n", {}


def _vocab_text(tokenizer: Any) -> str:
    return "".join(getattr(tokenizer, "itos", [])) or "\n"


def _plot_loss(history: Any, path: Path, title: str) -> None:
    """The loss curve PNG, skipped with a note when matplotlib is absent."""
    try:
        from groundup.viz.plots import plot_loss_curve

        plot_loss_curve(history.loss_series(), path=path, title=title)
    except ImportError as err:
        print(f"loss curve skipped: {err}", file=sys.stderr)
