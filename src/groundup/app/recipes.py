"""The recipes the command line and the journey share: how each stage's data, model,
optimiser and schedule are made, written once. A command chooses the sizes from its
flags, the journey from its budgets; both call these, so what the journey shows is what
``groundup train`` runs.

- stage 1: :func:`micrograd` (the moons and the scalar MLP), :func:`micrograd_history_csv`;
- stages 2-3: :func:`word_data` (words, tokenizer, split), :func:`charlm_arrays`,
  :func:`bigram`, :func:`mlp`;
- stages 4-5: :func:`padded_words` and :func:`text_data`, :func:`transformer_config`,
  :func:`transformer_training`.

Nothing here prints or writes a file; the refusals a recipe needs name the flag, as the
command line prints them (:mod:`groundup.app.checks`).
"""

from __future__ import annotations

from typing import Any

WORD_SOURCES = ("names",)  # the shipped data read as words; any other --data is text unless --words


# ---------------------------------------------------------------- stage 1: micrograd


def micrograd(n_samples: int, noise: float, seed: int) -> tuple[Any, Any, Any]:
    """Stage 1's model and data, both from ``seed``: (MLP(2, [16, 16, 1]) of scalar Values,
    X, y), ``n_samples`` points of the two moons with ``noise``."""
    from groundup.data import make_moons
    from groundup.scalar import MLP

    X, y = make_moons(n_samples, noise=noise, seed=seed)
    return MLP(2, [16, 16, 1], seed=seed), X, y


def micrograd_history_csv(history: list[dict[str, Any]]) -> str:
    """micrograd's rows as a CSV, ``step,loss,accuracy,lr`` (repr: the floats round-trip)."""
    lines = ["step,loss,accuracy,lr"]
    lines += [f"{r['step']},{r['loss']!r},{r['accuracy']!r},{r['lr']!r}" for r in history]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- words: stages 2-5


def word_data(source: str, seed: int, shuffle: str = "numpy",
              split: bool = True) -> tuple[list[str], Any, dict[str, list[str]]]:  # fmt: skip
    """(words, tokenizer, splits): the words of ``source`` (``"names"`` or a file), the
    character tokenizer of all of them (so dev and test hold no unseen letter), and their
    80/10/10 split by word with ``seed``; ``split=False`` trains on every word (stage 2's
    known-answer setting): ``{"train": words}``."""
    from groundup.data import load_words, split_words
    from groundup.tokenizers import CharTokenizer

    words = load_words(source)
    tokenizer = CharTokenizer.from_words(words)
    if not split:
        return words, tokenizer, {"train": list(words)}
    parts = split_words(words, seed, shuffle=shuffle)
    return words, tokenizer, dict(zip(("train", "val", "test"), parts, strict=True))


def reads_words(data: str, words: bool) -> bool:
    """Whether ``--data`` is read as words (``--words``, or a shipped word list) or as text."""
    return words or data in WORD_SOURCES


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


def padded_words(splits: dict[str, list[str]], tokenizer: Any, block_size: int) -> dict:
    """(X, Y) for each split that holds words, the data of stages 4-5 on words: each word
    one row ``.emma`` -> ``emma.``, padded to ``block_size`` (targets past the end ignored)."""
    from groundup.data.words import word_rows

    return {name: word_rows(ws, tokenizer, block_size) for name, ws in splits.items() if ws}


# ---------------------------------------------------------------- stage 2: the bigram


def bigram(vocab_size: int, *, steps: int, lr: float, seed: int, eval_interval: int,
           dtype: str = "float32", device: str = "cpu") -> tuple[Any, Any, Any]:  # fmt: skip
    """Stage 2's recipe, makemore's: (model, optimizer, TrainConfig) for the neural bigram
    trained by plain gradient descent (SGD at a constant ``lr``); an evaluation is one
    batch, the whole split when the batches are full."""
    from groundup.models.bigram import NeuralBigram
    from groundup.optim import SGD
    from groundup.train import TrainConfig

    model = NeuralBigram(vocab_size, generator=seed, dtype=dtype).to(device)
    config = TrainConfig(max_steps=steps, lr=lr, seed=seed, eval_interval=eval_interval,
                         eval_batches=1)  # fmt: skip
    return model, SGD(model.parameters(), lr=lr), config


# ---------------------------------------------------------------- stage 3: the MLP


def mlp(vocab_size: int, *, steps: int, lr: float, seed: int, eval_interval: int,
        eval_batches: int | None, decay_step: int | None = None, log_interval: int = 1,
        dtype: str = "float32", device: str = "cpu",
        **sizes: Any) -> tuple[Any, Any, Any]:  # fmt: skip
    """Stage 3's recipe, makemore's: (model, optimizer, TrainConfig) for the MLP language
    model of ``sizes`` (MLPLanguageModel's ``block_size``, ``n_embd``, ``n_hidden``,
    ``n_layers``, ``batchnorm``, ``hierarchical``) trained by SGD at ``lr``, then ``lr / 10``
    from ``decay_step`` (default: for the last quarter of the steps)."""
    from groundup.models.mlp import MLPLanguageModel
    from groundup.optim import SGD
    from groundup.train import TrainConfig

    model = MLPLanguageModel(vocab_size, **sizes, generator=seed, dtype=dtype).to(device)
    config = TrainConfig(
        max_steps=steps, lr=lr, schedule="step_decay",
        step_size=decay_step or max(1, (3 * steps) // 4), gamma=0.1,
        eval_interval=eval_interval, eval_batches=eval_batches, log_interval=log_interval,
        seed=seed,
    )  # fmt: skip
    return model, SGD(model.parameters(), lr=lr), config


# ---------------------------------------------------------------- stages 4-5: GPT, Llama


def text_data(source: str, tokenizer: str, vocab_size: int,
              block_size: int) -> tuple[Any, Any, Any]:  # fmt: skip
    """(tokenizer, train, val): the text of ``source`` as one token stream, split 90/10;
    ``tokenizer`` is ``"char"`` (its characters) or ``"bpe"`` (byte-level BPE of
    ``vocab_size`` learnt on the training part only). Each part must hold more than the
    context of ``block_size`` tokens."""
    from groundup.app import checks
    from groundup.data.text import load_text, split_tokens
    from groundup.tokenizers import CharTokenizer

    text = load_text(source)
    tok: Any
    if tokenizer == "bpe":
        from groundup.tokenizers.bpe import BPETokenizer

        checks.bpe_vocab(vocab_size)
        head = text[: int(0.9 * len(text))]  # learn merges from the training part only
        tok = BPETokenizer().train(head, vocab_size=vocab_size)
    else:
        tok = CharTokenizer.from_text(text)
    train, val = split_tokens(tok.encode(text))
    checks.text_fits_context(len(train), len(val), block_size, source, tokenizer)
    return tok, train, val


def transformer_config(model_type: str, preset: str, *, vocab_size: int | None = None,
                       block_size: int | None = None, dropout: float | None = None,
                       tie: bool = True, init: str = "gpt2") -> tuple[Any, Any]:  # fmt: skip
    """The model class of ``model_type`` (``"gpt"`` or ``"llama"``) and its config:
    ``preset``, with the sizes given (the others stay the preset's). The Llama takes the
    same meanings under Hugging Face's names (``max_position_embeddings``,
    ``tie_word_embeddings``): the one place the two differ."""
    overrides: dict[str, Any] = {"init": init}
    if dropout is not None:
        overrides["dropout"] = dropout
    if vocab_size is not None:
        overrides["vocab_size"] = vocab_size
    if model_type == "llama":
        from groundup.models.llama import Llama, LlamaConfig

        overrides["tie_word_embeddings"] = tie
        if block_size is not None:
            overrides["max_position_embeddings"] = block_size
        return Llama, LlamaConfig.preset(preset, **overrides)
    from groundup.models.gpt import GPT, GPTConfig

    overrides["tie_weights"] = tie
    if block_size is not None:
        overrides["block_size"] = block_size
    return GPT, GPTConfig.preset(preset, **overrides)


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
