"""load_words / split_words / build_dataset: the shipped names, files, errors, the split."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundup.data import build_dataset, load_words, split_words
from groundup.tokenizers import CharTokenizer


def test_names_are_makemores_32033_names():
    words = load_words("names")
    assert len(words) == 32_033
    assert words[:3] == ["emma", "olivia", "ava"]
    assert all(w.isascii() and w.isalpha() and w.islower() for w in words)
    assert max(len(w) for w in words) == 15
    assert len(set("".join(words))) == 26


def test_file_source_keeps_order_and_skips_empty_lines(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("\ufeffEmma\n  zoë \n\nbob\n", encoding="utf-8")
    assert load_words(path) == ["Emma", "zoë", "bob"]
    assert load_words(str(path)) == ["Emma", "zoë", "bob"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (b"ann\nb\xffob\n", "line 2"),
        (b"ann\n   \n", "line 2: '   ' has no usable characters"),
        (b"ann\nbo\x00b\n", "control character"),
        (b"ann\nmr.x\n", "reserved for the word boundary"),
    ],
)
def test_bad_files_give_errors_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as err:
        load_words(path)
    assert str(path) in str(err.value)


def test_split_is_80_10_10_deterministic_and_a_partition():
    words = [f"w{i}" for i in range(1000)]
    train, dev, test = split_words(words, seed=42)
    assert (len(train), len(dev), len(test)) == (800, 100, 100)
    assert sorted(train + dev + test) == sorted(words)
    assert split_words(words, seed=42) == (train, dev, test)
    assert split_words(words, seed=43)[0] != train
    gen = split_words(words, seed=np.random.default_rng(42))
    assert gen == (train, dev, test)


def test_makemore_shuffle_is_pythons_random_shuffle():
    import random

    words = [f"w{i}" for i in range(1000)]
    expected = list(words)
    random.Random(42).shuffle(expected)  # makemore: random.seed(42); random.shuffle(words)
    state = random.getstate()
    train, dev, test = split_words(words, seed=42, shuffle="makemore")
    assert train + dev + test == expected
    assert random.getstate() == state  # the global generator is left alone


def test_build_dataset_known_answer():
    tok = CharTokenizer.from_words(["emma"])  # . a e m
    X, Y = build_dataset(["emma"], block_size=3, tokenizer=tok)
    assert X.dtype == np.int64 and Y.dtype == np.int64
    assert X.tolist() == [[0, 0, 0], [0, 0, 2], [0, 2, 3], [2, 3, 3], [3, 3, 1]]
    assert Y.tolist() == [2, 3, 3, 1, 0]


@given(
    words=st.lists(st.text(alphabet="abcde", min_size=1, max_size=8), min_size=1, max_size=10),
    block_size=st.integers(1, 5),
)
def test_build_dataset_properties(words, block_size):
    tok = CharTokenizer.from_words(words)
    X, Y = build_dataset(words, block_size, tok)
    # one example per character plus the closing boundary of each word
    assert X.shape == (sum(len(w) + 1 for w in words), block_size)
    assert Y.shape == (X.shape[0],)
    assert (Y == 0).sum() == len(words)
    # each context is the previous one shifted left with the previous target appended
    for i in range(1, len(Y)):
        if Y[i - 1] != 0:
            assert X[i].tolist() == X[i - 1, 1:].tolist() + [Y[i - 1]]
        else:
            assert X[i].tolist() == [0] * block_size


def test_build_dataset_takes_a_numpy_int_block_size():
    X, Y = build_dataset(["ab"], np.int64(2))  # e.g. read back from an array or a config
    assert X.tolist() == [[0, 0], [0, 1], [1, 2]] and Y.tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="block_size must be a positive int, got True"):
        build_dataset(["ab"], True)


def test_load_words_on_a_folder_says_it_is_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="is a folder; expected a UTF-8 text file"):
        load_words(tmp_path)
