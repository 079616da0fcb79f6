"""``groundup sample``: text from a trained model, of any stage, or from a Hugging Face folder.

    groundup sample runs/gpt-20260125-141502 --prompt "ROMEO:" -n 500
    groundup sample runs/mlp-20260125-120000 -n 20          # names; new ones are marked
    groundup sample ~/models/gpt2 --prompt "Hello, I'm a language model," -n 40 --top-k 50
    groundup sample ~/models/SmolLM-135M --prompt "Once upon a time" -n 40 --top-k 50

A run folder (or its checkpoint/) is rebuilt from its config.json with
``groundup.models.build_model``. A model trained on words (its tokenizer has the boundary
".") prints whole words and says which are new, i.e. absent from its training split; a model
trained on running text prints the continuation of ``--prompt``. A Hugging Face folder
(config.json + model.safetensors + vocab.json and merges.txt, or tokenizer.json) of GPT-2
loads with GPT.from_pretrained, one of Llama or Qwen2 with Llama.from_pretrained.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from groundup.app.commands._args import add_device_flag, seed_int

DEFAULT_WORDS = 20
DEFAULT_TOKENS = 500


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="sample text from a run folder (bigram, mlp, gpt, llama) or a Hugging Face "
        "GPT-2, Llama or Qwen2 folder",
        description="Sample from a trained model: names for a model trained on words (new "
        "ones marked), a continuation of --prompt for a model trained on text.",
    )
    parser.add_argument(
        "folder",
        metavar="RUN_OR_HF_FOLDER",
        help="a run folder of `groundup train` (or its checkpoint/), or a Hugging Face GPT-2, "
        "Llama or Qwen2 folder with config.json, model.safetensors, vocab.json and merges.txt",
    )
    parser.add_argument(
        "--prompt",
        default=None,
        help="text to continue (text models; default: a newline, or the first "
        "token of the vocabulary)",
    )
    parser.add_argument(
        "-n",
        "--num",
        type=int,
        default=None,
        help=f"words to sample for a words model (default {DEFAULT_WORDS}), new "
        f"tokens for a text model (default {DEFAULT_TOKENS})",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="softmax temperature: 0 is greedy, <1 sharper, >1 flatter (default 1.0)",
    )
    parser.add_argument(
        "--top-k",
        type=int,
        default=None,
        help="sample only among the k most likely tokens (default: all)",
    )
    parser.add_argument(
        "--top-p",
        type=float,
        default=None,
        help="nucleus sampling: the smallest set of tokens with this much "
        "probability (default: off)",
    )
    parser.add_argument(
        "--seed",
        type=seed_int,
        default=None,
        help="random seed, for a reproducible sample (default: fresh)",
    )
    add_device_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_args(args)  # before loading anything: a bad flag answers at once
    model, tokenizer, data = load_for_sampling(Path(args.folder))
    model.to(args.device)
    if getattr(tokenizer, "boundary", None) is not None:
        if args.prompt is not None:
            raise ValueError(
                f"--prompt: {args.folder} is a model of words (names); it samples whole "
                "words from the boundary and takes no prompt; drop --prompt"
            )
        print_words(model, tokenizer, data, args)
    else:
        print_text(model, tokenizer, args)
    return 0


def check_args(args: argparse.Namespace) -> None:
    """The flags' ranges, as the one-line errors the command prints."""
    if args.num is not None and args.num < 0:
        raise ValueError(f"-n must be >= 0, got {args.num}")
    if not (math.isfinite(args.temperature) and args.temperature >= 0):
        raise ValueError(
            f"--temperature must be a finite number >= 0 (0: greedy), got {args.temperature}"
        )
    if args.top_k is not None and args.top_k < 1:
        raise ValueError(f"--top-k must be a positive int, got {args.top_k}")
    if args.top_p is not None and not 0 < args.top_p <= 1:
        raise ValueError(f"--top-p must be in (0, 1], got {args.top_p}")


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


# --------------------------------------------------------------------------- words


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


def sample_words(model: Any, n: int, args: argparse.Namespace, max_len: int = 30) -> list[str]:
    """n words: each row starts at the boundary (id 0) and is cut at the next one."""
    import numpy as np

    if getattr(model, "MODEL_TYPE", "") in ("gpt", "llama"):
        max_len = model.config.block_size - 1  # a whole word stays inside the context
    start = np.zeros((n, 1), dtype=np.int64)
    ids = model.generate(
        start,
        max_len,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=args.seed,
    )
    rows = []
    for row in ids[:, 1:].tolist():
        rows.append(row[: row.index(0)] if 0 in row else row)
    return rows


def print_words(model: Any, tokenizer: Any, data: dict[str, Any], args: argparse.Namespace):
    n = DEFAULT_WORDS if args.num is None else args.num
    words = [tokenizer.decode(row) for row in sample_words(model, n, args)]
    known = training_words(data)
    width = max((len(w) for w in words), default=0)
    for word in words:
        shown = word if word else "(empty)"  # the boundary drawn first: an empty name
        if known is not None and word not in known:
            print(f"{shown:{width}s}  (new)")
        else:
            print(shown)
    if known is None:
        print(f"\n{n} words (training set not available: cannot say which are new)")
    elif n:
        new = sum(w not in known for w in words)
        print(f"\n{new} of {n} ({100 * new / n:.0f}%) are new: not in the training set")


# --------------------------------------------------------------------------- text


def print_text(model: Any, tokenizer: Any, args: argparse.Namespace) -> None:
    import numpy as np

    prompt = args.prompt
    if prompt is None:
        prompt = "\n" if _encodes(tokenizer, "\n") else tokenizer.decode([0])
    ids = tokenizer.encode(prompt)
    if not ids:
        raise ValueError("--prompt: the prompt encodes to no tokens; give some text")
    n = DEFAULT_TOKENS if args.num is None else args.num
    out = model.generate(
        np.array([ids]),
        n,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=args.seed,
    )
    print(tokenizer.decode(out[0].tolist()))


def _encodes(tokenizer: Any, text: str) -> bool:
    try:
        return bool(tokenizer.encode(text))
    except ValueError:
        return False
