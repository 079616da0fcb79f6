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
from pathlib import Path
from typing import Any

from groundup.app.commands._args import add_device_flag, add_flags, seed_int
from groundup.app.sampling import DEFAULT_TOKENS, DEFAULT_WORDS


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
    add_flags(parser, (
        ("--prompt", None, None,
         "text to continue (text models; default: a newline, or the first token of the "
         "vocabulary)"),
        (("-n", "--num"), int, None,
         f"words to sample for a words model (default {DEFAULT_WORDS}), new tokens for a text "
         f"model (default {DEFAULT_TOKENS})"),
        ("--temperature", float, 1.0,
         "softmax temperature: 0 is greedy, <1 sharper, >1 flatter (default 1.0)"),
        ("--top-k", int, None, "sample only among the k most likely tokens (default: all)"),
        ("--top-p", float, None,
         "nucleus sampling: the smallest set of tokens with this much probability (default: off)"),
        ("--seed", seed_int, None, "random seed, for a reproducible sample (default: fresh)"),
    ))  # fmt: skip
    add_device_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from groundup.app import checks, sampling

    checks.sample_flags(args)  # before loading anything: a bad flag answers at once
    model, tokenizer, data = sampling.load_for_sampling(Path(args.folder))
    model.to(args.device)
    knobs = dict(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, seed=args.seed)
    if getattr(tokenizer, "boundary", None) is None:
        n = DEFAULT_TOKENS if args.num is None else args.num
        print(sampling.continue_text(model, tokenizer, args.prompt, n, **knobs))
        return 0
    if args.prompt is not None:
        raise ValueError(
            f"--prompt: {args.folder} is a model of words (names); it samples whole "
            "words from the boundary and takes no prompt; drop --prompt"
        )
    n = DEFAULT_WORDS if args.num is None else args.num
    words = sampling.generate_words(model, tokenizer, n, **knobs)
    _print_words(words, sampling.training_words(data))
    return 0


def _print_words(words: list[str], known: set[str] | None) -> None:
    """One word a line, the new ones marked, then how many are new."""
    n, width = len(words), max((len(w) for w in words), default=0)
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
