"""BPETokenizer: known answers, the incremental trainer against a plain recount, the fast
encoder against minbpe's loop, the ASCII split twins and the cutting into pieces against the
split patterns, round trips (hypothesis), special tokens, and GPT-2 file format save/load."""

from __future__ import annotations

import doctest
import json
from itertools import pairwise, product
from unittest.mock import patch

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.tokenizers import BPETokenizer, load_tokenizer
from groundup.tokenizers import bpe as bpe_module
from groundup.tokenizers.bpe import (
    PATTERNS,
    bytes_to_unicode,
    get_stats,
    merge,
)

EOT = "<|endoftext|>"

# strings that trip up byte-level code: multi-byte characters, joiners, combining marks,
# Windows newlines, long runs of spaces, and special-token look-alikes
EDGE_CASES = [
    "",
    " ",
    "a",
    "hello world",
    "😀👍🏽🇫🇷👨‍👩‍👧",
    "東京は日本の首都です。",
    "e\u0301 n\u0303 a\u0308\u0301",
    "line one\r\nline two\r\n\r\n",
    " " * 40 + "x" + " " * 17,
    "\t\t\n \n\x00\x1c\x85\u2028\u3000end",
    "<|endoftext",
    "|>",
    "don't STOP we'LL 1234567 3.14159",
]


def test_known_answer_wikipedia():
    """Wikipedia's BPE example: aaabdaaabac -> ZabdZabac -> ZYdZYac -> XdXac."""
    tok = BPETokenizer().train("aaabdaaabac", vocab_size=256 + 3, pattern=None, special_tokens=())
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tok.vocab[258] == b"aaab"
    assert tok.decode([258, 100, 258, 97, 99]) == "aaabdaaabac"
    assert tok.vocab_size == 259


def test_known_answer_with_special_token_last():
    tok = BPETokenizer().train("aaabdaaabac", vocab_size=256 + 3 + 1, pattern=None)
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tok.special_tokens == {EOT: 259} and tok.vocab_size == 260


def test_helpers_known_answers_and_docstrings():
    assert get_stats([1, 2, 3, 1, 2]) == {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    assert merge([5, 6, 6, 7], (6, 7), 99) == [5, 6, 99]
    assert merge([1, 1, 1, 1, 1], (1, 1), 9) == [9, 9, 1]
    table = bytes_to_unicode()
    assert len(set(table.values())) == 256
    assert all(c.isprintable() and not c.isspace() for c in table.values())
    assert doctest.testmod(bpe_module).failed == 0


def test_gpt2_and_gpt4_pre_tokenisers():
    gpt2 = regex.compile(PATTERNS["gpt2"])
    assert gpt2.findall("Hello world's  end 12345!!") == [
        "Hello",
        " world",
        "'s",
        " ",
        " end",
        " 12345",
        "!!",
    ]
    gpt4 = regex.compile(PATTERNS["gpt4"])
    assert gpt4.findall("I'LL pay 12345\n\n  x") == [
        "I",
        "'LL",
        " pay",
        " ",
        "123",
        "45",
        "\n\n",
        " ",
        " x",
    ]


def naive_train(text: str, num_merges: int, pattern: str | None) -> dict:
    """minbpe's loop: recount every pair over every chunk at each merge (slow, obviously right)."""
    chunks = regex.findall(PATTERNS[pattern], text) if pattern else [text]
    words = [list(c.encode("utf-8")) for c in chunks]
    merges = {}
    for i in range(num_merges):
        stats: dict = {}
        for w in words:
            get_stats(w, stats)
        if not stats:
            break
        pair = max(stats, key=lambda p: (stats[p], -p[0], -p[1]))  # ties: smallest pair
        words = [merge(w, pair, 256 + i) for w in words]
        merges[pair] = 256 + i
    return merges


@given(
    text=st.text(alphabet=st.sampled_from("aab  cé😀\n.'"), max_size=200),
    num_merges=st.integers(0, 40),
    pattern=st.sampled_from(["gpt2", "gpt4", None]),
)
def test_incremental_training_equals_full_recount(text, num_merges, pattern):
    tok = BPETokenizer().train(text, 256 + num_merges, pattern=pattern, special_tokens=())
    assert tok.merges == naive_train(text, num_merges, pattern)


def test_training_on_corpus_equals_full_recount(corpus):
    text = corpus[:20_000]
    tok = BPETokenizer().train(text, 256 + 60, special_tokens=())
    assert tok.merges == naive_train(text, 60, "gpt2")


def test_training_stops_when_pairs_run_out():
    tok = BPETokenizer().train("ab ab", vocab_size=400)
    assert len(tok.merges) == 2  # (a, b) then (" ", ab)
    assert tok.special_tokens == {EOT: 258} and tok.vocab_size == 259


def test_merges_never_cross_chunks_or_special_tokens():
    tok = BPETokenizer().train(("ab" + EOT) * 50 + " cd" * 50, vocab_size=300)
    merged = [tok.vocab[i] for i in tok.merges.values()]
    assert b"ab" in merged and b" cd" in merged
    for token in merged:
        assert b"<" not in token and b"|" not in token  # EOT's bytes were never trained on
        assert b" " not in token[1:]  # a space only ever leads a gpt2 chunk


@pytest.fixture(scope="module")
def trained(corpus) -> BPETokenizer:
    return BPETokenizer().train(corpus, vocab_size=600)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_round_trip_edge_cases(trained, text):
    ids = trained.encode(text)
    assert trained.decode(ids) == text
    assert all(0 <= i < trained.vocab_size for i in ids)


@given(st.text())
def test_round_trip_any_text(trained, text):
    if EOT in text:
        return
    assert trained.decode(trained.encode(text)) == text


@given(st.lists(st.sampled_from(EDGE_CASES + ["Привет", "😀", " ", "\r\n"]), max_size=12))
def test_round_trip_any_mix_of_edge_cases(trained, pieces):
    text = "".join(pieces)  # may join "<|endoftext" + "|>" into the special token
    assert trained.decode(trained.encode(text, allowed_special="all")) == text


def test_compression_on_training_text(corpus, trained):
    assert len(trained.encode(corpus)) < len(corpus.encode("utf-8")) / 2


def test_cache_gives_the_same_ids(trained):
    text = "the the the Привет мир"
    first = trained.encode(text)
    assert trained.encode(text) == first == trained.encode_ordinary(text)


def test_the_cache_is_bounded_and_refilled(monkeypatch, corpus, trained):
    fresh = BPETokenizer().train(corpus, vocab_size=600)
    expected = fresh.encode(corpus)  # a full cache
    monkeypatch.setattr(bpe_module, "CACHE_SIZE", 50)
    small = BPETokenizer().train(corpus, vocab_size=600)
    for line in corpus.splitlines(keepends=True):
        small.encode(line)
        assert len(small._cache) <= max(50, len(set(small._split(line))))
    assert small.encode(corpus) == expected  # more new chunks than CACHE_SIZE: still right
    assert small.encode(corpus[:300]) == fresh.encode(corpus[:300])


# -- the fast encoder against minbpe's loop ---------------------------------------------------


def minbpe_encode(tok: BPETokenizer, chunk: str) -> list[int]:
    """minbpe's encoding loop, the definition: merge the lowest-rank pair, again and again."""
    ids = [tok.byte_ids[b] for b in chunk.encode("utf-8")]
    while len(ids) >= 2:
        pair = min(pairwise(ids), key=lambda p: tok.ranks.get(p, float("inf")))
        if pair not in tok.ranks:
            break
        ids = merge(ids, pair, tok.merges[pair])
    return ids


def test_fast_encoder_equals_minbpe_on_every_chunk_of_the_corpus(corpus, trained):
    chunks = set(trained._split(corpus))
    assert all(trained._bpe(c) == minbpe_encode(trained, c) for c in chunks)


@given(
    text=st.text(alphabet=st.sampled_from("aab  cé😀\n.'"), max_size=120),
    other=st.text(alphabet=st.sampled_from("aab  cé😀\n.'"), max_size=60),
    num_merges=st.integers(0, 40),
)
def test_fast_encoder_equals_minbpe(text, other, num_merges):
    """One long chunk (no pattern) on the training text and on another: overlapping runs
    (``aaaa``), merges of merges, pairs that reappear after a merge."""
    tok = BPETokenizer().train(text, 256 + num_merges, pattern=None, special_tokens=())
    for chunk in (text, other, text + other):
        assert tok._bpe(chunk) == minbpe_encode(tok, chunk)


@given(st.text())
def test_fast_encoder_equals_minbpe_on_any_text(trained, text):
    assert trained._bpe(text) == minbpe_encode(trained, text)


# -- the ASCII twins of the split patterns ----------------------------------------------------

# the characters each pattern tells apart, and the ASCII ones a twin could get wrong: the
# whitespace that \s holds (\v, \f) and the separators it does not (\x1c-\x1f)
ASCII_PIECES = [*"aZ7' \n\t\x0b\x0c\x1c\x1f\x00!_~", "xyz", "1234", "'s", "'LL", "'ve", "'Re"]
ASCII_PIECES += ["  ", "\r\n", ".."]
# non-ASCII letters, numbers, marks, whitespace and symbols
OTHER_PIECES = [*"éǅ²٣\xa0\x85\u2028\u3000😀—\ufeff", "東京", "e\u0301"]


def splitter(name: str) -> BPETokenizer:
    return BPETokenizer().train("", 256, pattern=name, special_tokens=())


@pytest.mark.parametrize("name", ["gpt2", "gpt4"])
@given(pieces=st.lists(st.sampled_from(ASCII_PIECES), max_size=30), text=st.text(
    alphabet=st.characters(max_codepoint=127), max_size=60))  # fmt: skip
def test_ascii_twins_split_ascii_text_as_their_patterns(name, pieces, text):
    ascii_findall = splitter(name)._ascii_findall
    for t in ("".join(pieces), text):
        assert ascii_findall(t) == regex.findall(PATTERNS[name], t)


def chunks_of_pieces(tok: BPETokenizer, text: str, piece: int) -> list[str]:
    """What encode_ordinary splits: ``text`` cut into pieces (``piece`` characters long at
    least; 1 cuts at every safe place), each piece split into chunks."""
    with patch.object(bpe_module, "PIECE", piece):
        pieces = tok._pieces(text)
    assert "".join(pieces) == text
    assert all(p[0] == " " and regex.match(r"\S", q[-1]) for q, p in pairwise(pieces))
    return [chunk for p in pieces for chunk in tok._split(p)]


@pytest.mark.parametrize("name", ["gpt2", "gpt4"])
@settings(max_examples=200)  # cheap, and cut points are where bugs hide
@given(pieces=st.lists(st.sampled_from(ASCII_PIECES + OTHER_PIECES), max_size=30),
       text=st.text(max_size=60), piece=st.sampled_from([1, 2, 7]))  # fmt: skip
def test_pieces_split_as_the_whole_text(name, pieces, text, piece):
    tok = splitter(name)
    for t in ("".join(pieces), text, text + "".join(pieces) + text):
        assert chunks_of_pieces(tok, t, piece) == regex.findall(PATTERNS[name], t)


@pytest.mark.parametrize("name", ["gpt2", "gpt4"])
def test_pieces_split_as_the_whole_text_on_every_short_text(name):
    """Every text of up to 5 characters from letters, digits, symbols and whitespace, ASCII
    or not, cut at every safe place: whether a space starts a chunk is decided in a few
    characters."""
    tok, findall = splitter(name), regex.compile(PATTERNS[name]).findall
    texts = ["".join(t) for n in range(6) for t in product("a1! \né\xa0\x1c", repeat=n)]
    assert [chunks_of_pieces(tok, t, 1) for t in texts] == [findall(t) for t in texts]


def test_pieces_known_answer(corpus):
    tok = splitter("gpt2")
    with patch.object(bpe_module, "PIECE", 1):
        assert tok._pieces("ab  cd\n ef gh") == ["ab", "  cd\n ef", " gh"]
    pieces = tok._pieces(corpus)  # about PIECE characters each, and the corpus's ids
    assert len(pieces) > 1 and all(len(p) >= bpe_module.PIECE for p in pieces[:-1])
    assert tok.encode(corpus) == [i for p in pieces for i in tok.encode(p)]


def test_custom_and_no_patterns_split_without_a_twin():
    tok = BPETokenizer().train("ab ab", 258, pattern=r"\S+|\s+", special_tokens=())
    assert tok._ascii_findall is None and tok._split("ab  é x") == ["ab", "  ", "é", " ", "x"]
    assert tok._pieces("ab " * 5000) == ["ab " * 5000]  # no safe cuts known: one piece
    tok = BPETokenizer().train("ab ab", 258, pattern=None, special_tokens=())
    assert tok._split("ab  é") == ["ab  é"] and tok._split("") == []


def test_decode_accepts_numpy_and_replaces_cut_characters(trained):
    ids = trained.encode("日本")
    assert trained.decode(np.array(ids)) == "日本"
    cut = trained.encode_ordinary("😀")
    if len(cut) > 1:  # a slice can end inside a character: U+FFFD, never an exception
        assert "\ufffd" in trained.decode(cut[:1])
    with pytest.raises(ValueError, match="id 100000 at position 1"):
        trained.decode([1, 100000])


def test_special_tokens_raise_by_default(trained):
    text = "hello" + EOT + "world"
    with pytest.raises(ValueError, match=r"special token '<\|endoftext\|>' \(at position 5\)"):
        trained.encode(text)


def test_special_tokens_allowed(trained):
    eot = trained.special_tokens[EOT]
    text = "hello" + EOT + "world" + EOT
    ids = trained.encode(text, allowed_special="all")
    assert ids == trained.encode("hello") + [eot] + trained.encode("world") + [eot]
    assert trained.encode(text, allowed_special={EOT}) == ids
    assert trained.decode(ids) == text
    assert ids.count(eot) == 2


def test_special_tokens_as_ordinary_text(trained):
    ids = trained.encode(EOT, allowed_special="none")
    assert trained.special_tokens[EOT] not in ids and len(ids) > 1
    assert trained.decode(ids) == EOT


def test_an_allowed_special_token_is_encoded():
    tok = BPETokenizer().train("a b c " * 20, 262, special_tokens=(EOT, "<|pad|>"))
    assert tok.encode("a<|pad|>", allowed_special={"<|pad|>"})[-1] == tok.special_tokens["<|pad|>"]


def test_custom_pattern():
    tok = BPETokenizer().train("ab ab ab cd", vocab_size=257, pattern=r"\S+|\s+", special_tokens=())
    assert tok.merges == {(97, 98): 256}
    assert tok.decode(tok.encode("ab cd  ab")) == "ab cd  ab"


@pytest.mark.parametrize("pattern", ["gpt2", "gpt4", None])
def test_save_and_load_round_trip(tmp_path, corpus, pattern):
    text = corpus[: 30_000 if pattern else 5_000]  # no pattern: one long chunk, slower merges
    tok = BPETokenizer().train(text, 400, pattern=pattern, special_tokens=(EOT, "<|x|>"))
    tok.save(tmp_path)
    vocab = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["Ġ"] == ord(" ") and vocab[EOT] == tok.special_tokens[EOT]
    merges = (tmp_path / "merges.txt").read_text(encoding="utf-8").splitlines()
    assert merges[0].startswith("#version") and len(merges) == 1 + len(tok.merges)
    config = json.loads((tmp_path / "groundup_tokenizer.json").read_text())
    assert config["type"] == "bpe" and config["pattern"] == pattern

    again = load_tokenizer(tmp_path)
    assert isinstance(again, BPETokenizer)
    assert again.merges == tok.merges and again.vocab == tok.vocab
    assert again.special_tokens == tok.special_tokens and again.pattern == pattern
    text = corpus[-3000:] + EOT + "Привет 😀"
    assert again.encode(text, allowed_special="all") == tok.encode(text, allowed_special="all")


def test_from_pretrained_names_a_bad_merges_line(tmp_path, trained):
    trained.save(tmp_path)
    with open(tmp_path / "merges.txt", "a", encoding="utf-8") as f:
        f.write("Ġzz qq\n")
    with pytest.raises(ValueError, match=r"merges.txt line \d+ 'Ġzz qq'"):
        BPETokenizer.from_pretrained(tmp_path)
    merges = (tmp_path / "merges.txt").read_text(encoding="utf-8").splitlines()
    (tmp_path / "merges.txt").write_bytes("\r\n".join(merges[:-1]).encode())  # Windows endings
    assert BPETokenizer.from_pretrained(tmp_path).merges == trained.merges


def hf_tokenizer_json(tok: BPETokenizer, merges_as_pairs: bool, pattern: str) -> dict:
    """Hugging Face's tokenizer.json for a trained tokenizer, written by hand: vocab and merges
    in GPT-2's byte-to-unicode characters, a Split pre-tokeniser, the special tokens added."""
    from groundup.tokenizers.bpe import token_to_str

    specials = tok.special_tokens
    vocab = {token_to_str(t): i for i, t in tok.vocab.items() if i not in specials.values()}
    merges = [[token_to_str(tok.vocab[a]), token_to_str(tok.vocab[b])] for a, b in tok.merges]
    split = {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated"}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}
    return {
        "version": "1.0",
        "added_tokens": [{"id": i, "content": s, "special": True} for s, i in specials.items()],
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split, byte_level]},
        "model": {"type": "BPE", "vocab": vocab,
                  "merges": merges if merges_as_pairs else [" ".join(m) for m in merges]},
    }  # fmt: skip


@pytest.mark.parametrize("merges_as_pairs", [False, True], ids=["strings", "pairs"])
def test_a_hugging_face_tokenizer_json_alone_loads(tmp_path, corpus, merges_as_pairs):
    """Llama 3 ships only tokenizer.json: the vocabulary, merges (either spelling), split
    regex and special tokens all come from it."""
    from groundup.tokenizers.bpe import GPT4_SPLIT_PATTERN

    tok = BPETokenizer().train(corpus, 400, pattern="gpt4", special_tokens=(EOT,))
    data = hf_tokenizer_json(tok, merges_as_pairs, GPT4_SPLIT_PATTERN)
    (tmp_path / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = BPETokenizer.from_pretrained(tmp_path)
    assert again.merges == tok.merges and again.vocab == tok.vocab
    assert again.pattern == GPT4_SPLIT_PATTERN and again.special_tokens == tok.special_tokens
    text = corpus[-2000:] + EOT + " 12345 digits"
    assert again.encode(text, allowed_special="all") == tok.encode(text, allowed_special="all")


def test_a_sentencepiece_tokenizer_json_is_refused(tmp_path):
    model = {"type": "BPE", "vocab": {"<0x41>": 0, "▁a": 1}, "merges": [], "byte_fallback": True}
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": model}), encoding="utf-8")
    with pytest.raises(ValueError, match="byte fallback.*byte-level BPE only"):
        BPETokenizer.from_pretrained(tmp_path)


def test_train_tokenizer_by_name(tmp_path):
    from groundup.tokenizers import CharTokenizer, train_tokenizer

    text = "to be or not to be " * 30
    char = train_tokenizer("char", text)
    assert isinstance(char, CharTokenizer) and char.vocab_size == len(set(text))
    bpe = train_tokenizer("bpe", text, vocab_size=262)
    assert isinstance(bpe, BPETokenizer) and bpe.vocab_size == 262
    assert bpe.decode(bpe.encode(text)) == text


def test_a_crafted_split_pattern_in_a_file_is_refused(tmp_path):
    """A regex read from a checkpoint could take exponential time; only known ones load."""
    import json

    from groundup.tokenizers.base import config_path

    tok = BPETokenizer().train("hello world " * 20, vocab_size=260)
    tok.save(tmp_path)
    path = config_path(tmp_path)
    config = json.loads(path.read_text())
    config["pattern"] = r"(a|aa)+$"  # 1.6x the time per letter: 25 s at 38 letters
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"split pattern .* backtracks without bound"):
        BPETokenizer.from_pretrained(tmp_path)
    assert BPETokenizer.from_pretrained(tmp_path, trust_pattern=True).pattern == r"(a|aa)+$"
    config["pattern"] = r"\w+|\s+|[^\w\s]+"  # a custom pattern that splits in linear time loads
    path.write_text(json.dumps(config))
    assert BPETokenizer.from_pretrained(tmp_path).pattern == r"\w+|\s+|[^\w\s]+"
