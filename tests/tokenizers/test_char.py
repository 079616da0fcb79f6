"""CharTokenizer: makemore and nanoGPT vocabularies, round trips, errors, save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundup.tokenizers import CharTokenizer, load_tokenizer
from groundup.tokenizers.base import look_up


def test_from_words_is_makemore_vocabulary():
    tok = CharTokenizer.from_words(["emma", "olivia", "ava"])
    assert tok.boundary == "."
    assert tok.itos == [".", "a", "e", "i", "l", "m", "o", "v"]
    assert tok.chars == ["a", "e", "i", "l", "m", "o", "v"]
    assert tok.stoi["."] == 0 and tok.stoi["a"] == 1
    assert tok.vocab_size == 8
    assert tok.encode(".emma.") == [0, 2, 5, 5, 1, 0]


def test_from_words_on_names(names_path):
    words = names_path.read_text().split()
    tok = CharTokenizer.from_words(words)
    assert tok.vocab_size == 27  # makemore's 26 letters + "."
    assert tok.itos[0] == "." and tok.itos[1:] == list("abcdefghijklmnopqrstuvwxyz")


def test_from_text_is_nanogpt_vocabulary():
    tok = CharTokenizer.from_text("hello world")
    assert tok.boundary is None
    assert tok.itos == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert tok.encode("hold") == [3, 5, 4, 1]
    assert tok.decode(tok.encode("hello world")) == "hello world"


def test_constructor_keeps_given_order():
    tok = CharTokenizer("zyx", boundary="#")
    assert tok.itos == ["#", "z", "y", "x"]
    assert tok.encode("x#z") == [3, 0, 1]


def test_decode_accepts_numpy_arrays_and_tuples():
    tok = CharTokenizer.from_text("abc")
    assert tok.decode(np.array([2, 1, 0], dtype=np.int64)) == "cba"
    assert tok.decode(np.array([0, 1], dtype=np.int32)) == "ab"
    assert tok.decode((np.int64(2), 0)) == "ca"
    assert tok.decode([]) == ""


def test_unseen_character_is_named_with_position():
    tok = CharTokenizer.from_words(["abc"])
    with pytest.raises(ValueError, match=r"'z' at position 2"):
        tok.encode("abz")


def test_unseen_character_message_names_the_vocabulary():
    with pytest.raises(ValueError) as err:
        CharTokenizer.from_text("ba").encode("abzq")
    assert str(err.value) == (
        "CharTokenizer.encode: character 'z' at position 2 of the text is not in the "
        "vocabulary of 2 ('ab')"
    )


def test_look_up_maps_every_key_and_names_the_first_missing_one():
    table = {"a": 0, "b": 1}
    assert look_up(table, "abba", lambda key, pos: "unused") == [0, 1, 1, 0]
    assert look_up(table, "", lambda key, pos: "unused") == []
    with pytest.raises(ValueError, match=r"^'x' at 2$"):
        look_up(table, "abxy", lambda key, pos: f"{key!r} at {pos}")


@given(st.text(min_size=1))
def test_round_trip_any_text(text):
    tok = CharTokenizer.from_text(text)
    ids = tok.encode(text)
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text


@pytest.mark.parametrize("boundary", [".", None])
def test_save_and_load_round_trip(tmp_path, boundary):
    tok = CharTokenizer(["\n", " ", "a", "é", "😀"], boundary=boundary)
    tok.save(tmp_path / "tok")
    config = json.loads((tmp_path / "tok" / "groundup_tokenizer.json").read_text(encoding="utf-8"))
    assert config["type"] == "char"
    again = load_tokenizer(tmp_path / "tok")
    assert isinstance(again, CharTokenizer)
    assert again == tok and again.itos == tok.itos and again.boundary == boundary
    assert CharTokenizer.from_config(tok.to_config()) == tok
