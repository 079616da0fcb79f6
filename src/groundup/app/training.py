"""The training runs of the command line: what ``groundup micrograd`` and ``groundup train
<target>`` do once their flags have passed :mod:`groundup.app.checks`. Every run reads the
same way (:func:`groundup.app.runs.run_training`):

1. prepare: the stage's data, model, optimiser and schedule from its recipe
   (:mod:`groundup.app.recipes`), refusing what cannot work before a file is written;
2. train in the locked run folder, with a progress bar, saves along the way and Ctrl-C
   saving at a step boundary (:mod:`groundup.app.runs`);
3. measure the model, write metrics.json, history.csv, samples.txt and the pictures, and
   print the summary.

Under ``mpiexec`` every rank trains and measures; rank 0 alone writes and prints. The
library is imported inside the functions: a test may replace ``groundup.train.train``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from groundup.app import checks, recipes, sampling
from groundup.app.runs import Progress, resume_step, run_training, train_or_save, write_args


def write_results(run: Any, samples: str, history: Any, metrics: dict[str, Any],
                  title: str, smoothed: bool = False) -> None:  # fmt: skip
    """samples.txt, history.csv, metrics.json and loss_curve.png: what every language-model
    run leaves; without matplotlib the curve is skipped with a note on stderr."""
    run.write_text("samples.txt", samples)
    run.write_text("history.csv", history.to_csv())
    run.write_json("metrics.json", metrics)
    try:
        from groundup.viz.plots import plot_loss_curve, smoothed_loss_curves

        series = smoothed_loss_curves(history) if smoothed else history.loss_series()
        plot_loss_curve(series, path=run / "loss_curve.png", title=title)
    except ImportError as err:
        print(f"loss curve skipped: {err}", file=sys.stderr)


# ---------------------------------------------------------------- stage 1: micrograd


def train_micrograd(args: Any) -> int:
    """``groundup micrograd``: the scalar MLP on the moons, saved every 10% of the steps."""
    return run_training(args, _micrograd_prepare, _micrograd_run, kind="micrograd")


def _micrograd_prepare(args: Any) -> dict[str, Any]:
    checks.micrograd_fits(args.n_samples)
    return {"start": resume_step(args.resume, args.steps, "--steps") if args.resume else 0}


class _Numbers:
    """The scalar MLP's parameters as one float64 array, the shape a checkpoint stores."""

    def __init__(self, model: Any) -> None:
        self.params = model.parameters()

    def state_dict(self) -> dict[str, Any]:
        import numpy as np

        return {"params": np.array([p.data for p in self.params], dtype=np.float64)}

    def load(self, values: Any) -> None:
        for p, v in zip(self.params, values.tolist(), strict=True):
            p.data = v


def _micrograd_run(args: Any, run: Any, stop: Any, start: int) -> int:
    import time

    from groundup.scalar.train import accuracy, fit
    from groundup.train import load_checkpoint, newest_checkpoint, save_checkpoint

    write_args(run, args)
    model, X, y = recipes.micrograd(args.n_samples, args.noise, args.seed)
    numbers, history = _Numbers(model), []
    if args.resume:
        ckpt = load_checkpoint(newest_checkpoint(run.path, ("last", "checkpoint")) or run.path)
        numbers.load(ckpt.model_state["params"])
        history = list(ckpt.state.get("history", []))[:start]

    def save(folder: str, done: int) -> None:
        state = {"step": done, "history": history, "seconds": seconds[0]}
        save_checkpoint(run / folder, numbers, {"model": {"type": "micrograd"}}, state=state)

    progress = Progress(args, run, args.steps, start, "micrograd", mininterval=0.1)
    save_every, seconds = max(1, args.steps // 10), [0.0]
    t0 = time.perf_counter()

    def on_step(row: dict[str, float]) -> None:
        if not math.isfinite(row["loss"]):
            raise FloatingPointError(
                f"the loss became {row['loss']} at step {row['step']} (lr {row['lr']:g}); "
                "try a smaller --lr"
            )
        history.append(row)
        progress.done, seconds[0] = int(row["step"]) + 1, time.perf_counter() - t0
        progress.bar.set_postfix(loss=f"{row['loss']:.4f}", acc=f"{row['accuracy']:.0%}",
                                 refresh=False)  # fmt: skip
        progress.bar.update(1)
        if progress.done % save_every == 0 and progress.done < args.steps:
            save("last", progress.done)
        stop.check()

    def steps() -> None:
        fit(model, X, y, steps=args.steps, lr=args.lr, on_step=on_step, start_step=start)

    if not train_or_save(run, "micrograd", progress, start, lambda: save("last", progress.done),
                         steps):  # fmt: skip
        return 1
    seconds_run = time.perf_counter() - t0
    save("checkpoint", args.steps)

    final_accuracy = accuracy(model, X, y)
    perfect = [row["step"] for row in history if row["accuracy"] == 1.0]
    new_steps = max(1, args.steps - start)
    metrics = {
        "stage": "micrograd", "model": "MLP(2, [16, 16, 1])",
        "num_parameters": len(model.parameters()), "steps": args.steps, "lr": args.lr,
        "seed": args.seed, "n_samples": args.n_samples, "noise": args.noise,
        "final_loss": history[-1]["loss"], "final_accuracy": final_accuracy,
        "first_step_at_100_percent": perfect[0] if perfect else None,
        "seconds": round(seconds_run, 3), "seconds_per_step": round(seconds_run / new_steps, 4),
    }  # fmt: skip
    run.write_text("history.csv", recipes.micrograd_history_csv(history))
    _micrograd_pictures(run.path, model, X, y, history)
    run.write_json("metrics.json", metrics)

    print(f"final loss {metrics['final_loss']:.4f}, train accuracy {final_accuracy:.0%}")
    print(f"{seconds_run / new_steps:.3f} s per step; run folder: {run.path}")
    return 0


def _micrograd_pictures(run_dir: Path, model: Any, X: Any, y: Any, history: list[dict]) -> None:
    """The decision boundary, the loss curve, and a live hidden neuron on a point where it is
    active, back-propagated: neuron_graph.svg (its dot source without the `dot` program)."""
    from groundup.scalar.train import one_neuron_graph
    from groundup.viz import plot_decision_boundary, plot_loss_curve
    from groundup.viz.graph import draw_graph, render_graph

    plot_decision_boundary(
        model, X, y, path=run_dir / "decision_boundary.png", title="MLP(2, [16, 16, 1]) on moons"
    )
    plot_loss_curve({"loss": [row["loss"] for row in history]}, path=run_dir / "loss_curve.png",
                    title="hinge loss + 1e-4 L2")  # fmt: skip
    out = one_neuron_graph(model, X)
    try:
        render_graph(out, run_dir / "neuron_graph.svg")
    except RuntimeError as err:  # no `dot` program: keep the graph's source, say how to fix
        (run_dir / "neuron_graph.dot").write_text(draw_graph(out).source)
        print(f"neuron_graph.svg skipped: {err}", file=sys.stderr)
    model.zero_grad()


# ---------------------------------------------------------------- stages 2-3: bigram, MLP


def train_charlm(args: Any) -> int:
    """``groundup train bigram|mlp``: saved to last/ every 5% of the steps."""
    return run_training(args, _charlm_prepare, _charlm_run)


def _charlm_prepare(args: Any) -> dict[str, Any]:
    from groundup.train import ArrayBatches, FullBatches

    start = resume_step(args.resume, args.steps, "--steps") if args.resume else 0
    is_bigram = args.model_type == "bigram"
    words, tokenizer, splits = recipes.word_data(
        args.data, args.seed, shuffle=args.split_shuffle, split=not (is_bigram and args.no_split)
    )
    splits = {name: ws for name, ws in splits.items() if ws}
    # before any folder is made or model built
    checks.training_split(splits.get("train", []), args.data, len(words),
                          hint=" (or --no-split for the bigram)")  # fmt: skip
    block_size = 1 if is_bigram else args.block_size
    if not is_bigram:  # before the arrays, which alone can outgrow memory: (rows, block) ids
        rows = {name: sum(len(w) + 1 for w in ws) for name, ws in splits.items()}
        checks.mlp_fits(args, tokenizer.vocab_size, rows.get("train", 0), sum(rows.values()))
    data = recipes.charlm_arrays(splits, tokenizer, block_size, bigram=is_bigram)
    if is_bigram:
        checks.bigram_fits(tokenizer.vocab_size)
        model, optimizer, config = recipes.bigram(
            tokenizer.vocab_size, steps=args.steps, lr=args.lr, seed=args.seed,
            eval_interval=args.eval_interval, dtype=args.dtype, device=args.device,
        )  # fmt: skip
    else:
        model, optimizer, config = recipes.mlp(
            tokenizer.vocab_size, block_size=args.block_size, n_embd=args.n_embd,
            n_hidden=args.n_hidden, n_layers=args.n_layers, batchnorm=args.batchnorm,
            hierarchical=args.hierarchical, steps=args.steps, lr=args.lr,
            decay_step=args.lr_decay_step, eval_interval=args.eval_interval, eval_batches=20,
            seed=args.seed, dtype=args.dtype, device=args.device,
        )  # fmt: skip
    if args.batch_size == 0:  # the whole split every step
        batches: Any = FullBatches(data)
    else:
        batches = ArrayBatches(data, args.batch_size, args.seed)
    training = config.to_dict()
    training.update(batch_size=args.batch_size, optimizer="SGD", l2=getattr(args, "l2", 0.0),
                    lr_decay_step=config.step_size)  # fmt: skip
    checkpoint_config = {
        "model": {"type": model.MODEL_TYPE, "kwargs": model.model_kwargs()},
        "training": training,
        "data": {"source": str(args.data), "seed": args.seed, "block_size": block_size,
                 "split": "all" if len(splits) == 1 else "80/10/10 by word",
                 "split_shuffle": args.split_shuffle},
        "tokenizer": tokenizer.to_config(),
    }  # fmt: skip
    return dict(words=words, tokenizer=tokenizer, splits=splits, data=data, model=model,
                config=config, batches=batches, optimizer=optimizer,
                checkpoint_config=checkpoint_config, start=start)  # fmt: skip


def _charlm_run(args: Any, run: Any, stop: Any, words: list[str], tokenizer: Any,
                splits: dict[str, list[str]], data: dict[str, Any], model: Any, config: Any,
                batches: Any, optimizer: Any, checkpoint_config: dict,
                start: int) -> int:  # fmt: skip
    from groundup.models.base import sample_words
    from groundup.models.bigram import CountingBigram
    from groundup.train import ArrayBatches, History, evaluate, resume, save_checkpoint, train

    is_bigram, world = args.model_type == "bigram", run.world
    write_args(run, args, world_size=world.size)
    history = History()
    if args.resume:
        start, history = resume(run.path, model, optimizer)
    l2 = getattr(args, "l2", 0.0)

    def loss_fn(m: Any, X: Any, Y: Any) -> Any:
        _, loss = m(X, Y)
        if l2 and m.training:  # the penalty shapes training; reported losses are pure NLL
            loss = loss + l2 * m.l2_penalty()
        return loss

    def save(folder: str, done: int) -> None:
        state = {"step": done, "history": history.to_dict()}
        save_checkpoint(run / folder, model, checkpoint_config, optimizer, state, tokenizer)

    print(
        f"{args.model_type}: {model.num_parameters():,} parameters, "
        f"{len(words):,} words ({', '.join(f'{k} {len(v):,}' for k, v in splits.items())}), "
        f"vocab {tokenizer.vocab_size}, run folder {run.path}",
        file=sys.stderr,
    )
    progress = Progress(args, run, args.steps, start, args.model_type)
    save_every = max(1, args.steps // 20)

    def on_step(row: dict[str, Any]) -> None:
        progress.bar.update(1)
        progress.done = row["step"] + 1
        if row["step"] % 100 == 0 or row["val_loss"] is not None:
            progress.bar.set_postfix(loss=f"{row['train_loss']:.4f}", lr=f"{row['lr']:g}",
                                     refresh=False)  # fmt: skip
        if progress.done % save_every == 0 and progress.done < args.steps:
            if run.writer:
                save("last", progress.done)  # a crash or Ctrl-C loses at most 5% of the run
            world.barrier()  # no rank runs ahead of a save that may fail
        stop.check()

    def steps() -> None:
        train(model, batches, optimizer, config, on_step=on_step, loss_fn=loss_fn,
              start_step=start, history=history, world=world)  # fmt: skip

    command, save_last = f"train {args.model_type}", lambda: save("last", progress.done)
    if not train_or_save(run, command, progress, start, save_last, steps):
        return 1
    if getattr(model, "batchnorm", False):
        model.calibrate_batchnorm(data["train"][0])

    # exact losses on the full splits (eval mode: BatchNorm uses its population statistics)
    full = ArrayBatches(data, batch_size=8192, seed=args.seed)
    losses = {name: evaluate(model, full, name, None, world=world) for name in data}
    if not run.writer:
        return 0  # rank 0 samples, writes and prints
    metrics: dict[str, Any] = {
        "model": args.model_type, "num_parameters": model.num_parameters(),
        **{f"{name}_loss": loss for name, loss in losses.items()}, "steps": args.steps,
        "seconds": history.seconds[-1] if history.seconds else 0.0, "seed": args.seed,
        "data": args.data, "world_size": world.size,
    }  # fmt: skip
    if is_bigram:
        counting = CountingBigram.fit(splits["train"], tokenizer=tokenizer)
        metrics["counting_train_loss"] = counting.nll(splits["train"])

    samples = sample_words(model, tokenizer, args.samples, seed=args.seed)
    lines, new = sampling.mark_new(samples, set(splits["train"]))
    metrics["samples_new_share"] = new / len(samples) if samples else None
    save("checkpoint", args.steps)
    write_results(run, "\n".join(lines) + "\n", history, metrics, args.model_type, smoothed=True)

    for name, loss in losses.items():
        print(f"{name} loss: {loss:.4f}")
    if is_bigram:
        print(f"counting model on train: {metrics['counting_train_loss']:.4f}")
    print(f"samples ({new}/{len(samples)} new):")
    for line in lines:
        print(f"  {line}")
    print(f"run folder: {run.path}")
    return 0


# ---------------------------------------------------------------- stages 4-5: GPT, Llama


def train_transformer(args: Any) -> int:
    """``groundup train gpt|llama``: keeps the best model by validation loss in checkpoint/
    and the latest evaluation in last/."""
    return run_training(args, _transformer_prepare, _transformer_run)


def _model(args: Any, vocab_size: int | None = None, block_size: int | None = None) -> Any:
    """The target's model class and config from the flags (older run folders lack some)."""
    return recipes.transformer_config(
        getattr(args, "model_type", "gpt"), args.preset, vocab_size=vocab_size,
        block_size=block_size, dropout=args.dropout,
        tie=not getattr(args, "no_tie_weights", False), init=getattr(args, "init", "gpt2"),
    )  # fmt: skip


def _words_data(args: Any) -> dict[str, Any]:
    """Words, split 80/10/10 by word with the seed as in stages 2-3, one padded row each."""
    words, tokenizer, splits = recipes.word_data(args.data, args.seed)
    checks.training_split(splits["train"], args.data, len(words))
    longest = max(len(w) for w in words)
    checks.words_fit_context(args.block_size, longest, args.data)
    block = args.block_size or longest + 1  # the boundary, then the longest word
    return dict(
        kind="words", tokenizer=tokenizer, block_size=block,
        data=recipes.padded_words(splits, tokenizer, block), train_words=set(splits["train"]),
        sizes={k: len(v) for k, v in splits.items()},
        entry={"source": str(args.data), "kind": "words", "seed": args.seed,
               "split": "80/10/10 by word", "block_size": block},
    )  # fmt: skip


def _text_data(args: Any, default_block: int) -> dict[str, Any]:
    """Text as one token stream: the first 90% trains, the last 10% validates."""
    block = args.block_size or default_block
    tokenizer, train, val = recipes.text_data(args.data, args.tokenizer, args.vocab_size, block)
    return dict(
        kind="text", tokenizer=tokenizer, block_size=block, data={"train": train, "val": val},
        sizes={"train": len(train), "val": len(val)},
        entry={"source": str(args.data), "kind": "text", "split": "90/10 of the stream",
               "tokenizer": args.tokenizer, "block_size": block},
    )  # fmt: skip


def _transformer_prepare(args: Any) -> dict[str, Any]:
    from groundup.train import ArrayBatches, TokenBatches

    start = resume_step(args.resume, args.max_iters, "--max-iters") if args.resume else 0
    _, preset = _model(args)
    if recipes.reads_words(args.data, args.words):
        d = _words_data(args)
    else:
        d = _text_data(args, preset.block_size)
    tokenizer, block = d["tokenizer"], d["block_size"]
    model_class, model_config = _model(args, tokenizer.vocab_size, block)
    checks.transformer_fits(args.batch_size, model_config)
    model = model_class(model_config, seed=args.seed).to(args.device)
    if d["kind"] == "words":
        batches: Any = ArrayBatches(d["data"], args.batch_size, seed=args.seed)
    else:
        batches = TokenBatches(d["data"], args.batch_size, block, seed=args.seed)
    min_lr = getattr(args, "min_lr", None)  # run folders from before the flag lack it
    optimizer, config = recipes.transformer_training(
        model, lr=args.lr, max_steps=args.max_iters, warmup_steps=min(args.warmup, args.max_iters),
        min_lr=args.lr / 10 if min_lr is None else min_lr, weight_decay=args.weight_decay,
        eval_interval=args.eval_interval, eval_batches=args.eval_iters, log_interval=10,
        seed=args.seed,
    )  # fmt: skip
    return dict(d=d, model=model, batches=batches, optimizer=optimizer, config=config,
                start=start)  # fmt: skip


def _transformer_run(args: Any, run: Any, stop: Any, d: dict[str, Any], model: Any,
                     batches: Any, optimizer: Any, config: Any, start: int) -> int:  # fmt: skip
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
    write_args(run, args, world_size=world.size)
    training = {**config.to_dict(), "batch_size": args.batch_size, "optimizer": "AdamW",
                "betas": [0.9, 0.99], "weight_decay": args.weight_decay,
                "preset": args.preset}  # fmt: skip
    ckpt_config = {"model": {"type": model.MODEL_TYPE, "kwargs": model.model_kwargs()},
                   "training": training, "data": d["entry"],
                   "tokenizer": tokenizer.to_config()}  # fmt: skip

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
        progress.write(f"step {step + 1}: train loss {train_loss:.4f}, val loss {val_loss:.4f}")
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
    progress = Progress(args, run, args.max_iters, start, args.model_type)
    val_shown = ["-"]

    def on_step(row: dict[str, Any]) -> None:
        progress.bar.update(1)
        progress.done = row["step"] + 1
        if row["val_loss"] is not None:
            val_shown[0] = f"{row['val_loss']:.4f}"
        else:
            stop.check()  # an evaluation step stops after its checkpoint, in on_eval
        if row["step"] % 10 == 0 or row["val_loss"] is not None:
            progress.bar.set_postfix(loss=f"{row['train_loss']:.4f}", val=val_shown[0],
                                     refresh=False)  # fmt: skip

    def steps() -> None:
        train(model, batches, optimizer, config, on_step=on_step, on_eval=on_eval,
              start_step=start, history=history, world=world)  # fmt: skip

    def save_last() -> None:
        k, state = keep_last, {"step": progress.done, "history": history.to_dict(),
                               "interrupted": True}  # fmt: skip
        save_checkpoint(k.folder, k.model, k.config, k.optimizer, state, k.tokenizer)

    if not train_or_save(run, f"train {args.model_type}", progress, start, save_last, steps):
        return 1

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
    samples, extra = _transformer_samples(model, d, args)
    metrics.update(extra)
    write_results(run, samples, history, metrics, f"{args.model_type} {args.preset} on {args.data}")

    for split in d["data"]:
        print(f"{split} loss: {metrics[f'{split}_loss']:.4f}")
    print(
        f"best checkpoint: step {metrics['best_step']}, estimated val "
        f"{metrics['best_val_loss_estimate']:.4f}; {metrics['seconds']:.0f} s"
    )
    print(samples)
    print(f"run folder: {run_dir}")
    return 0


def _read_evals(path: Path, before: int) -> list[str]:
    """The lines of evals.csv (header included) for steps up to ``before`` (a resume point)."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return lines[:1] + [line for line in lines[1:] if int(line.split(",")[0]) <= before]


def _transformer_samples(model: Any, d: dict[str, Any], args: Any) -> tuple[str, dict]:
    """The text of samples.txt, and for words the share of samples that are new names."""
    tokenizer = d["tokenizer"]
    if d["kind"] == "words":
        n = sampling.DEFAULT_WORDS if args.samples is None else args.samples
        if n == 0:
            return "", {"samples_new_share": None}
        words = sampling.generate_words(model, tokenizer, n, seed=args.seed)
        lines, new = sampling.mark_new(words, d["train_words"])
        return "\n".join(lines) + "\n", {"samples_new_share": new / n}
    n = sampling.DEFAULT_TOKENS if args.samples is None else args.samples
    return sampling.continue_text(model, tokenizer, None, n, seed=args.seed) + "\n", {}
