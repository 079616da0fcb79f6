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

import sys
from pathlib import Path
from typing import Any

from groundup.app.commands._args import seed_int


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "micrograd",
        help="stage 1: a scalar-autograd MLP learns the two moons",
        description="Train MLP(2, [16, 16, 1]) on the two moons with the scalar autograd engine; "
        "write the decision boundary, the loss curve and one neuron's graph into a run folder.",
    )
    parser.add_argument("--steps", type=int, default=100, help="gradient-descent steps")
    parser.add_argument(
        "--lr", type=float, default=1.0,
        help="initial learning rate; it decays linearly to a tenth of it by the last step",
    )  # fmt: skip
    parser.add_argument("--seed", type=seed_int, default=0, help="seed of the moons and the init")
    parser.add_argument("--n-samples", type=int, default=100, help="number of moons points")
    parser.add_argument("--noise", type=float, default=0.1, help="std of the moons' noise")
    parser.add_argument(
        "--out", default=None,
        help="run folder to write (default: runs/micrograd-<YYYYmmdd-HHMMSS>/)",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args: Any) -> int:
    import time

    from tqdm import tqdm

    from groundup.data import make_moons
    from groundup.scalar import MLP
    from groundup.scalar.train import fit

    if args.steps < 1 or not args.lr > 0 or args.n_samples < 2:
        print(
            "groundup micrograd: error: --steps and --n-samples must be positive "
            f"(n-samples >= 2) and --lr > 0, got steps={args.steps} lr={args.lr} "
            f"n-samples={args.n_samples}",
            file=sys.stderr,
        )
        return 2
    if not args.noise >= 0:
        print(f"groundup micrograd: error: --noise must be >= 0, got {args.noise}", file=sys.stderr)
        return 2
    try:
        run_dir = _make_run_dir(args.out)
    except ValueError as err:
        print(f"groundup micrograd: error: {err}", file=sys.stderr)
        return 2
    X, y = make_moons(args.n_samples, noise=args.noise, seed=args.seed)
    model = MLP(2, [16, 16, 1], seed=args.seed)

    bar = tqdm(total=args.steps, file=sys.stderr, disable=args.no_progress, desc="micrograd")

    def on_step(row: dict[str, float]) -> None:
        bar.set_postfix(loss=f"{row['loss']:.4f}", acc=f"{row['accuracy']:.0%}", refresh=False)
        bar.update(1)

    start = time.perf_counter()
    history = fit(model, X, y, steps=args.steps, lr=args.lr, on_step=on_step)
    seconds = time.perf_counter() - start
    bar.close()

    from groundup.scalar.train import accuracy

    final_accuracy = accuracy(model, X, y)
    perfect = [row["step"] for row in history if row["accuracy"] == 1.0]
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
        "seconds": round(seconds, 3),
        "seconds_per_step": round(seconds / args.steps, 4),
    }
    _write_json(run_dir / "metrics.json", metrics)
    _write_history(run_dir / "history.csv", history)
    _write_pictures(run_dir, model, X, y, history)

    print(f"final loss {metrics['final_loss']:.4f}, train accuracy {final_accuracy:.0%}")
    print(f"{seconds / args.steps:.3f} s per step; run folder: {run_dir}")
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


def _make_run_dir(out: str | None) -> Path:
    """``out``, or ``runs/micrograd-<timestamp>``; ValueError when ``out`` cannot be a folder."""
    from groundup.train.io import make_run_dir

    return make_run_dir("micrograd", out)


def _write_json(path: Path, obj: dict) -> None:
    import json

    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def _write_history(path: Path, history: list[dict]) -> None:
    lines = ["step,loss,accuracy,lr"]
    lines += [f"{r['step']},{r['loss']!r},{r['accuracy']!r},{r['lr']!r}" for r in history]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
