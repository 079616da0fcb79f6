"""Every input the optimisers, clipping and schedules refuse, as one table: the exception
type and the argument the one-line message must name (not its exact wording, issue 14)."""

from __future__ import annotations

import numpy as np
from error_table import refusal_test

from groundup.nn import Parameter
from groundup.optim import SGD, Adam, AdamW, clip_grad_norm_, lr_scheduler


def p() -> Parameter:
    return Parameter(np.ones(2))


def shared_in_two_groups() -> None:
    q = p()
    SGD([{"params": [q]}, {"params": [q]}], lr=0.1)


wc = lr_scheduler.warmup_cosine

CASES = [
    # (id, a call that must fail, the exception, what its message must name)
    ("sgd-lr-negative", lambda: SGD([p()], lr=-1), ValueError, "lr"),
    ("sgd-lr-bool", lambda: SGD([p()], lr=True), ValueError, "lr"),
    ("sgd-momentum-negative", lambda: SGD([p()], momentum=-0.9), ValueError, "momentum"),
    ("sgd-weight_decay", lambda: SGD([p()], weight_decay=-1e-4), ValueError, "weight_decay"),
    ("sgd-nesterov-no-momentum", lambda: SGD([p()], nesterov=True), ValueError, "Nesterov"),
    ("sgd-nesterov-dampening",
     lambda: SGD([p()], momentum=0.9, dampening=0.1, nesterov=True), ValueError, "dampening"),
    ("params-empty", lambda: SGD([], lr=0.1), ValueError, "params"),
    ("params-single-tensor", lambda: SGD(p(), lr=0.1), TypeError, "params"),
    ("params-in-two-groups", shared_in_two_groups, ValueError, "two groups"),
    ("params-group-not-a-dict", lambda: SGD([{"params": [p()]}, 3]), TypeError, "param group 1"),
    ("params-not-parameters", lambda: SGD([{"params": [3.0]}]), TypeError, "param group 0"),
    ("adam-lr", lambda: Adam([p()], lr=-1e-3), ValueError, "lr"),
    ("adam-eps", lambda: Adam([p()], eps=-1e-8), ValueError, "eps"),
    ("adam-weight_decay", lambda: Adam([p()], weight_decay=-0.1), ValueError, "weight_decay"),
    ("adam-beta2-one", lambda: Adam([p()], betas=(0.9, 1.0)), ValueError, "betas"),
    ("adam-beta1-negative", lambda: Adam([p()], betas=(-0.1, 0.9)), ValueError, "betas"),
    ("adam-three-betas", lambda: Adam([p()], betas=(0.9, 0.9, 0.9)), ValueError, "betas"),
    ("adamw-lr", lambda: AdamW([p()], lr=-1.0), ValueError, "lr"),
    ("adamw-betas", lambda: AdamW([p()], betas=(1.0, 0.9)), ValueError, "betas"),
    ("clip-max_norm-zero", lambda: clip_grad_norm_([p()], 0), ValueError, "max_norm"),
    ("clip-max_norm-bool", lambda: clip_grad_norm_([p()], True), ValueError, "max_norm"),
    ("step_decay-step_size", lambda: lr_scheduler.step_decay(5, 0.1, 0), ValueError,
     "step_size"),
    # a cosine *rising* to min_lr is a swapped argument
    ("cosine-min_lr-above-lr", lambda: wc(15, 1.0, 10, 20, 2.0), ValueError, "min_lr"),
    ("cosine-min_lr-negative", lambda: wc(15, 1.0, 10, 20, -0.1), ValueError, "min_lr"),
    ("cosine-warmup-negative", lambda: wc(0, 1.0, -1, 20), ValueError, "warmup_steps"),
    ("cosine-warmup-past-max", lambda: wc(0, 1.0, 30, 20), ValueError, "max_steps"),
    ("schedule-unknown", lambda: lr_scheduler.get_schedule("nope"), ValueError, "schedule"),
    ("sgd-dampening-negative", lambda: SGD([p()], lr=0.1, dampening=-1), ValueError, "dampening"),
    ("adam-betas-a-number", lambda: Adam([p()], betas=0.9), ValueError, "betas"),
    ("adam-betas-a-string", lambda: Adam([p()], betas=(0.9, "x")), ValueError, "betas"),
]  # fmt: skip


test_refused_naming_the_argument = refusal_test(CASES)
