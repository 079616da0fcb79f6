"""Samples from a trained model, for ``groundup sample``, the end of ``groundup train`` and
the journey: the model of a run or Hugging Face folder, whole words drawn from the boundary,
the continuation of a prompt, and which words are new (absent from the training split).

    model, tokenizer, data = load_for_sampling(Path("runs/gpt-20260125-141502"))
    print(continue_text(model, tokenizer, "ROMEO:", 200, seed=0))
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_WORDS = 20  # words to sample from a words model, when the flags do not say
DEFAULT_TOKENS = 500  # new tokens to sample from a text model


# ---------------------------------------------------------------- the model


def hf_model_type(folder: Path) -> str | None:
    """The "model_type" of a Hugging Face folder's config.json; None for anything else (our
    run folders nest "model")."""
    path = folder / "config.json"
    if not path.is_file():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    if not isinstance(config, dict) or "model" in config:
        return None
    return config.get("model_type")


def load_for_sampling(folder: Path) -> tuple[Any, Any, dict[str, Any]]:
    """(model, tokenizer, data entry of config.json) from a run folder or a Hugging Face
    folder (GPT-2, Llama, Qwen2)."""
    model_type = hf_model_type(folder)
    if model_type is not None:
        from groundup.models.gpt import GPT
        from groundup.models.llama import HF_MODEL_TYPES, Llama
        from groundup.tokenizers.bpe import BPETokenizer

        model_class = Llama if model_type in HF_MODEL_TYPES else GPT
        return model_class.from_pretrained(folder), BPETokenizer.from_pretrained(folder), {}
    from groundup.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(folder)
    best = folder / "checkpoint"
    if ckpt.folder != best and best.is_dir():
        from groundup.train.checkpoint import verify_checkpoint

        try:
            verify_checkpoint(best)
        except (OSError, ValueError) as err:
            print(f"note: the best checkpoint does not verify ({err}); sampling from "
                  f"{ckpt.folder} (step {ckpt.step}) instead", file=sys.stderr)  # fmt: skip
    if (ckpt.config.get("model") or {}).get("type") == "micrograd":
        raise ValueError(
            f"{folder}: a micrograd run classifies points, it has no text to sample; its "
            "pictures are in the run folder"
        )
    if ckpt.tokenizer is None:
        raise ValueError(f"{ckpt.folder}: the checkpoint has no tokenizer to decode samples")
    return ckpt.build_model(), ckpt.tokenizer, dict(ckpt.config.get("data") or {})


# ---------------------------------------------------------------- words


def generate_words(model: Any, tokenizer: Any, n: int, *, temperature: float = 1.0,
                   top_k: int | None = None, top_p: float | None = None, seed: Any = None,
                   max_len: int = 30) -> list[str]:  # fmt: skip
    """``n`` words: each row starts at the boundary (id 0) and is cut at the next one. A GPT
    or a Llama writes at most ``block_size - 1`` characters, so a whole word stays inside
    its context; the others ``max_len``."""
    import numpy as np

    from groundup.models.base import decode_words

    if getattr(model, "MODEL_TYPE", "") in ("gpt", "llama"):
        max_len = model.config.block_size - 1
    start = np.zeros((n, 1), dtype=np.int64)
    ids = model.generate(start, max_len, temperature=temperature, top_k=top_k, top_p=top_p,
                         seed=seed)  # fmt: skip
    return decode_words(ids, tokenizer)


def mark_new(words: list[str], known: set[str]) -> tuple[list[str], int]:
    """Each word, ``"  (new)"`` after those absent from ``known``, and how many those are."""
    lines = [w if w in known else f"{w}  (new)" for w in words]
    return lines, sum(w not in known for w in words)


def training_words(data: dict[str, Any]) -> set[str] | None:
    """The training split named by a run's data entry, or None when it cannot be rebuilt."""
    from groundup.data.words import load_words, split_words

    source = data.get("source")
    if source is None:
        return None
    try:
        words = load_words(source)
    except (FileNotFoundError, ValueError):
        return None
    split = data.get("split", "80/10/10 by word")
    if split == "all":  # trained on every word (stage 2's known-answer setting)
        return set(words)
    fractions = tuple(split) if isinstance(split, (list, tuple)) else (0.8, 0.1, 0.1)
    train, _, _ = split_words(words, seed=data.get("seed", 42), fractions=fractions)
    return set(train)


# ---------------------------------------------------------------- text


def continue_text(model: Any, tokenizer: Any, prompt: str | None, n: int, *,
                  temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None, seed: Any = None) -> str:  # fmt: skip
    """``prompt`` and ``n`` new tokens after it; no prompt: a newline when the vocabulary
    has one, else its first token."""
    import numpy as np

    if prompt is None:
        prompt = "\n" if _encodes(tokenizer, "\n") else tokenizer.decode([0])
    ids = tokenizer.encode(prompt)
    if not ids:
        raise ValueError("--prompt: the prompt encodes to no tokens; give some text")
    out = model.generate(np.array([ids]), n, temperature=temperature, top_k=top_k, top_p=top_p,
                         seed=seed)  # fmt: skip
    return tokenizer.decode(out[0].tolist())


def _encodes(tokenizer: Any, text: str) -> bool:
    try:
        return bool(tokenizer.encode(text))
    except ValueError:
        return False
