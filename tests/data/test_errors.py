"""Every input the data loaders refuse, as one table: the exception type and the argument
(or source) the one-line message must name, not its exact wording (issue 14).

Each row runs inside a fresh temporary folder (the test changes into it), so rows that need
a file use plain relative names. What a bad file's message says about its line stays in
test_words.py (it checks the line number as well as the refusal)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from error_table import refusal_test

from groundup.data import build_dataset, load_words, make_moons, split_words
from groundup.data.text import get_batch, load_text, split_tokens
from groundup.data.words import word_rows
from groundup.tokenizers import CharTokenizer


def empty_file(name: str) -> str:
    Path(name).write_text("")
    return name


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


CASES = [
    # (id, a call that must fail, the exception, what its message must name)
    ("moons-n_samples-zero", lambda: make_moons(0), ValueError, "n_samples"),
    ("moons-n_samples-bool", lambda: make_moons(True), ValueError, "n_samples"),
    ("moons-noise", lambda: make_moons(10, noise=-0.1), ValueError, "noise"),
    ("moons-seed", lambda: make_moons(10, seed="x"), TypeError, "seed"),
    ("text-absent", lambda: load_text("absent.txt"), FileNotFoundError, "absent.txt"),
    ("text-empty", lambda: load_text(empty_file("empty.txt")), ValueError, "empty.txt"),
    ("split-train_fraction-one", lambda: split_tokens([1, 2, 3], train_fraction=1.0),
     ValueError, "train_fraction"),
    ("split-train_fraction-zero", lambda: split_tokens([1, 2, 3], train_fraction=0.0),
     ValueError, "train_fraction"),
    ("split-ids-2d", lambda: split_tokens(np.zeros((2, 2))), ValueError, "ids"),
    ("batch-block_size", lambda: get_batch(np.arange(10), 2, 0, rng()), ValueError,
     "block_size"),
    ("batch-too-few-tokens", lambda: get_batch(np.arange(4), 2, 4, rng()), ValueError,
     "block_size"),
    ("words-removed-surnames", lambda: load_words("surnames"), FileNotFoundError, "surnames"),
    ("words-absent", lambda: load_words("no-such-file.txt"), FileNotFoundError,
     "no-such-file"),
    ("words-source-type", lambda: load_words(42), TypeError, "source"),
    ("split_words-fractions", lambda: split_words(["a", "b"], fractions=(0.5, 0.6, 0.1)),
     ValueError, "fractions"),
    ("split_words-two-fractions", lambda: split_words(["a", "b"], fractions=(0.5, 0.5)),
     ValueError, "fractions"),
    ("split_words-empty", lambda: split_words([]), ValueError, "words"),
    ("split_words-shuffle", lambda: split_words(["a"], shuffle="x"), ValueError, "shuffle"),
    ("split_words-makemore-seed",
     lambda: split_words(["a"], seed=np.random.default_rng(0), shuffle="makemore"), ValueError,
     "seed"),
    ("split_words-seed", lambda: split_words(["a"], seed="x"), TypeError, "seed"),
    ("dataset-block_size-zero", lambda: build_dataset(["ab"], block_size=0), ValueError,
     "block_size"),
    ("dataset-block_size-bool", lambda: build_dataset(["ab"], block_size=True), ValueError,
     "block_size"),
    ("dataset-words-a-str", lambda: build_dataset("emma", 3), TypeError, "words"),
    ("dataset-no-boundary", lambda: build_dataset(["ab"], 2, CharTokenizer.from_text("ab")),
     ValueError, "boundary"),
    ("dataset-unknown-char", lambda: build_dataset(["az"], 2, CharTokenizer.from_words(["a"])),
     ValueError, "'z'"),
    ("word_rows-block_size", lambda: word_rows(["abc"], CharTokenizer.from_words(["abc"]), 3),
     ValueError, "block_size"),
]  # fmt: skip


test_refused_naming_the_argument = refusal_test(CASES, in_tmp_path=True)


def test_a_numpy_float_noise_is_a_number():
    X, _ = make_moons(10, noise=np.float32(0.1), seed=0)
    assert X.shape == (10, 2)
