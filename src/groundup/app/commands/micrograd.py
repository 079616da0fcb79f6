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

from typing import Any

from groundup.app.commands._args import add_flags, add_run_flags, seed_int, steps_flag

DEFAULT_STEPS = 100


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "micrograd",
        help="stage 1: a scalar-autograd MLP learns the two moons",
        description="Train MLP(2, [16, 16, 1]) on the two moons with the scalar autograd engine; "
        "write the decision boundary, the loss curve and one neuron's graph into a run folder.",
    )
    add_flags(parser, (
        steps_flag("--steps", "gradient-descent steps", DEFAULT_STEPS),
        ("--lr", float, 1.0,
         "initial learning rate; it decays linearly to a tenth of it by the last step"),
        ("--seed", seed_int, 0, "seed of the moons and the init"),
        ("--n-samples", int, 100, "number of moons points"),
        ("--noise", float, 0.1, "std of the moons' noise"),
    ))  # fmt: skip
    add_run_flags(parser, "micrograd", saves="every 10% of the steps")
    parser.set_defaults(func=run)


def run(args: Any) -> int:
    from groundup.app import checks, training
    from groundup.app.runs import resumed_args

    if args.resume:
        args = resumed_args(args, "micrograd", total="steps", required="n_samples")
    elif args.steps is None:
        args.steps = DEFAULT_STEPS
    checks.micrograd_flags(args)
    return training.train_micrograd(args)
