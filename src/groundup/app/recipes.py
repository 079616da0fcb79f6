"""The recipes the command line and the journey share: how a stage's data, optimiser and
schedule are made, written once. A command chooses the sizes from its flags, the journey
from its budgets; both call these.
"""

from __future__ import annotations

from typing import Any


def charlm_arrays(splits: dict[str, list[str]], tokenizer: Any, block_size: int,
                  bigram: bool = False) -> dict:  # fmt: skip
    """(X, Y) for each split of words, the data of stages 2-3: ``block_size`` characters of
    context predict the next one. The bigram (``bigram=True``, block 1) takes X as the (N,)
    current ids rather than (N, 1).

    ``charlm_arrays({"train": ["ab"]}, tok, 1, bigram=True)["train"]`` -> ([0, 1, 2], [1, 2, 0]).
    """
    from groundup.data import build_dataset

    arrays = {}
    for name, words in splits.items():
        X, Y = build_dataset(words, block_size, tokenizer)
        arrays[name] = (X[:, 0], Y) if bigram else (X, Y)
    return arrays


def transformer_training(
    model: Any,
    *,
    lr: float,
    max_steps: int,
    warmup_steps: int,
    min_lr: float,
    weight_decay: float = 0.1,
    eval_interval: int = 0,
    eval_batches: int | None = 20,
    log_interval: int = 1,
    seed: int = 0,
) -> tuple[Any, Any]:
    """Stages 4-5's recipe, nanoGPT's: (optimizer, TrainConfig).

    AdamW with betas (0.9, 0.99) and ``weight_decay`` on matrices and embeddings only (the
    model's ``optim_groups``); linear warmup for ``warmup_steps``, then a cosine from ``lr``
    down to ``min_lr`` at ``max_steps``; the gradient's global norm clipped at 1.0.
    """
    from groundup.optim import AdamW
    from groundup.train import TrainConfig

    optimizer = AdamW(model.optim_groups(weight_decay), lr=lr, betas=(0.9, 0.99),
                      weight_decay=weight_decay)  # fmt: skip
    config = TrainConfig(
        max_steps=max_steps, lr=lr, schedule="warmup_cosine", warmup_steps=warmup_steps,
        min_lr=min_lr, grad_clip=1.0, eval_interval=eval_interval, eval_batches=eval_batches,
        log_interval=log_interval, seed=seed,
    )  # fmt: skip
    return optimizer, config
