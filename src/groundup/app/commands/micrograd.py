"""``groundup micrograd``: stage 1 from the command line.

    groundup micrograd                          # MLP(2, [16, 16, 1]) on 100 moons, 100 steps
    groundup micrograd --steps 50 --lr 0.5 --seed 1 --out runs/mg

Trains a scalar MLP with the hinge loss on the two moons (full-batch gradient descent,
the learning rate decaying from --lr to a tenth of it) and writes into the run folder
(``runs/micrograd-<timestamp>/`` or ``--out``): decision_boundary.png, loss_curve.png,
neuron_graph.svg (the graph of one neuron, with its gradients; neuron_graph.dot when the
graphviz ``dot`` program is missing), metrics.json and history.csv. Nothing heavy is
imported until ``run``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from groundup.app.commands._args import add_run_flags, seed_int

DEFAULT_STEPS = 100
MAX_NOISE = 100.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "micrograd",
        help="stage 1: a scalar-autograd MLP learns the two moons",
        description="Train MLP(2, [16, 16, 1]) on the two moons with the scalar autograd engine; "
        "write the decision boundary, the loss curve and one neuron's graph into a run folder.",
    )
    parser.add_argument(
        "--steps", type=int, default=None,
        help=f"gradient-descent steps ({DEFAULT_STEPS}; with --resume: the run's own, or "
        "this total)",
    )  # fmt: skip
    parser.add_argument(
        "--lr", type=float, default=1.0,
        help="initial learning rate; it decays linearly to a tenth of it by the last step",
    )  # fmt: skip
    parser.add_argument("--seed", type=seed_int, default=0, help="seed of the moons and the init")
    parser.add_argument("--n-samples", type=int, default=100, help="number of moons points")
    parser.add_argument("--noise", type=float, default=0.1, help="std of the moons' noise")
    add_run_flags(parser, "micrograd", saves="every 10% of the steps")
    parser.set_defaults(func=run)


def run(args: Any) -> int:
    from groundup.app.runs import check_memory, graceful_interrupt, open_run

    if args.resume:
        from groundup.app.runs import resumed_args

        args = resumed_args(args, "micrograd", total="steps", required="n_samples")
    elif args.steps is None:
        args.steps = DEFAULT_STEPS
    _check_args(args)
    # one step's graph holds ~1,000 Values per point, ~150 bytes each
    check_memory(150_000 * args.n_samples, "--n-samples")
    start = 0
    if args.resume:
        from groundup.app.runs import resume_step

        start = resume_step(args.resume, args.steps, "--steps")
    with open_run("micrograd", args.out, resume=bool(args.resume), force=args.force) as run:
        with graceful_interrupt() as stop:
            return _run(args, run, stop, start)


def _check_args(args: Any) -> None:
    if args.steps < 1:
        raise ValueError(f"--steps must be a positive int, got {args.steps}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise ValueError(f"--lr must be a finite number > 0, got {args.lr}")
    if args.n_samples < 2:
        raise ValueError(f"--n-samples must be an int >= 2, got {args.n_samples}")
    if not 0 <= args.noise <= MAX_NOISE:  # beyond this the moons are noise (and NaN false)
        raise ValueError(
            f"--noise must be in [0, {MAX_NOISE:g}] (the moons span about 3), got {args.noise}"
        )


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


def _run(args: Any, run: Any, stop: Any, start: int) -> int:
    import time

    from tqdm import tqdm

    from groundup.app.runs import RunInterrupted, save_interrupted
    from groundup.data import make_moons
    from groundup.scalar import MLP
    from groundup.scalar.train import accuracy, fit
    from groundup.train import load_checkpoint, newest_checkpoint, save_checkpoint

    transient = ("func", "resume", "out", "force")
    run.write_json("args.json", {k: v for k, v in vars(args).items() if k not in transient})
    X, y = make_moons(args.n_samples, noise=args.noise, seed=args.seed)
    model = MLP(2, [16, 16, 1], seed=args.seed)
    numbers, history = _Numbers(model), []
    if args.resume:
        ckpt = load_checkpoint(newest_checkpoint(run.path, ("last", "checkpoint")) or run.path)
        numbers.load(ckpt.model_state["params"])
        history = list(ckpt.state.get("history", []))[:start]

    def save(folder: str, done: int) -> None:
        state = {"step": done, "history": history, "seconds": seconds[0]}
        save_checkpoint(run / folder, numbers, {"model": {"type": "micrograd"}}, state=state)

    bar = tqdm(total=args.steps, initial=start, file=sys.stderr, disable=args.no_progress,
               desc="micrograd")  # fmt: skip
    save_every, done, seconds = max(1, args.steps // 10), [start], [0.0]  # fmt: skip
    t0 = time.perf_counter()

    def on_step(row: dict[str, float]) -> None:
        if not math.isfinite(row["loss"]):
            raise FloatingPointError(
                f"the loss became {row['loss']} at step {row['step']} (lr {row['lr']:g}); "
                "try a smaller --lr"
            )
        history.append(row)
        done[0], seconds[0] = int(row["step"]) + 1, time.perf_counter() - t0
        bar.set_postfix(loss=f"{row['loss']:.4f}", acc=f"{row['accuracy']:.0%}", refresh=False)
        bar.update(1)
        if done[0] % save_every == 0 and done[0] < args.steps:
            save("last", done[0])
        stop.check()

    try:
        fit(model, X, y, steps=args.steps, lr=args.lr, on_step=on_step, start_step=start)
    except RunInterrupted:
        bar.close()
        return save_interrupted(run, "micrograd", lambda: save("last", done[0]), done[0], start)
    finally:
        bar.close()
    seconds_run = time.perf_counter() - t0
    save("checkpoint", args.steps)

    final_accuracy = accuracy(model, X, y)
    perfect = [row["step"] for row in history if row["accuracy"] == 1.0]
    new_steps = max(1, args.steps - start)
    metrics = {
        "stage": "micrograd",
        "model": "MLP(2, [16, 16, 1])",
        "num_parameters": len(model.parameters()),
        "steps": args.steps,
        "lr": args.lr,
        "seed": args.seed,
        "n_samples": args.n_samples,
        "noise": args.noise,
        "final_loss": history[-1]["loss"],
        "final_accuracy": final_accuracy,
        "first_step_at_100_percent": perfect[0] if perfect else None,
        "seconds": round(seconds_run, 3),
        "seconds_per_step": round(seconds_run / new_steps, 4),
    }
    lines = ["step,loss,accuracy,lr"]
    lines += [f"{r['step']},{r['loss']!r},{r['accuracy']!r},{r['lr']!r}" for r in history]
    run.write_text("history.csv", "\n".join(lines) + "\n")
    _write_pictures(run.path, model, X, y, history)
    run.write_json("metrics.json", metrics)

    print(f"final loss {metrics['final_loss']:.4f}, train accuracy {final_accuracy:.0%}")
    print(f"{seconds_run / new_steps:.3f} s per step; run folder: {run.path}")
    return 0


def _write_pictures(run_dir: Path, model: Any, X: Any, y: Any, history: list[dict]) -> None:
    from groundup.viz import plot_decision_boundary, plot_loss_curve

    plot_decision_boundary(
        model, X, y, path=run_dir / "decision_boundary.png", title="MLP(2, [16, 16, 1]) on moons"
    )
    plot_loss_curve(
        {"loss": [row["loss"] for row in history]},
        path=run_dir / "loss_curve.png",
        title="hinge loss + 1e-4 L2",
    )
    _write_neuron_graph(run_dir, model, X)


def _write_neuron_graph(run_dir: Path, model: Any, X: Any) -> None:
    """A live hidden neuron on a point where it is active, back-propagated: neuron_graph.svg."""
    from groundup.scalar.train import one_neuron_graph
    from groundup.viz.graph import draw_graph, render_graph

    out = one_neuron_graph(model, X)
    try:
        render_graph(out, run_dir / "neuron_graph.svg")
    except RuntimeError as err:  # no `dot` program: keep the graph's source, say how to fix
        (run_dir / "neuron_graph.dot").write_text(draw_graph(out).source)
        print(f"neuron_graph.svg skipped: {err}", file=sys.stderr)
    model.zero_grad()
