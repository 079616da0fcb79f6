"""Parity with the reference implementations: files trained by Hugging Face ``tokenizers``
load with ``BPETokenizer.from_pretrained`` and give identical ids; files we save load in
``transformers``' GPT-2 tokenizer and give identical ids."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.tokenizers import BPETokenizer, load_tokenizer

tokenizers = pytest.importorskip("tokenizers")

EOT = "<|endoftext|>"


def train_hf(text: str, vocab_size: int, folder) -> object:
    hf = tokenizers.ByteLevelBPETokenizer()  # add_prefix_space=False: GPT-2's behaviour
    hf.train_from_iterator([text], vocab_size=vocab_size, special_tokens=[EOT], show_progress=False)
    hf.save_model(str(folder))
    return hf


@pytest.fixture(scope="module")
def hf_shakespeare(tmp_path_factory, shakespeare_text):
    folder = tmp_path_factory.mktemp("hf_shakespeare")
    return train_hf(shakespeare_text[:100_000], 1000, folder), folder


@pytest.fixture(scope="module")
def hf_multilingual(tmp_path_factory, corpus):
    folder = tmp_path_factory.mktemp("hf_multilingual")
    return train_hf(corpus, 800, folder), folder


def test_hf_files_load_as_expected(hf_shakespeare):
    hf, folder = hf_shakespeare
    tok = BPETokenizer.from_pretrained(folder)
    assert tok.vocab_size == hf.get_vocab_size()
    assert tok.special_tokens == {EOT: hf.token_to_id(EOT)}  # HF puts it first: id 0
    assert isinstance(load_tokenizer(folder), BPETokenizer)  # no tokenizer.json: still BPE


def test_identical_ids_on_every_line_of_shakespeare(hf_shakespeare, shakespeare_text):
    hf, folder = hf_shakespeare
    tok = BPETokenizer.from_pretrained(folder)
    lines = shakespeare_text.splitlines(keepends=True)
    expected = [e.ids for e in hf.encode_batch(lines)]
    mismatches = [
        (n, line)
        for n, (line, ids) in enumerate(zip(lines, expected, strict=True))
        if tok.encode(line) != ids
    ]
    assert mismatches == [], (
        f"{len(mismatches)} of {len(lines)} lines differ, first: {mismatches[:3]}"
    )
    assert tok.encode(shakespeare_text[-20_000:]) == hf.encode(shakespeare_text[-20_000:]).ids


def test_identical_ids_with_special_tokens(hf_shakespeare):
    hf, folder = hf_shakespeare
    tok = BPETokenizer.from_pretrained(folder)
    text = "First Citizen:" + EOT + "\nBefore we proceed" + EOT
    assert tok.encode(text, allowed_special="all") == hf.encode(text).ids


LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def test_a_llama3_style_tokenizer_json_alone_gives_identical_ids(tmp_path, shakespeare_text):
    """Llama 3's layout: only tokenizer.json, a Split pre-tokeniser with its own regex (digits
    in groups of three) before a ByteLevel one, special tokens added."""
    from tokenizers import Regex, decoders, models, pre_tokenizers, trainers

    hf = tokenizers.Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])  # fmt: skip
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=["<|begin_of_text|>", EOT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)  # fmt: skip
    hf.train_from_iterator([shakespeare_text[:60_000]], trainer=trainer)
    hf.save(str(tmp_path / "tokenizer.json"))
    tok = BPETokenizer.from_pretrained(tmp_path)
    assert tok.pattern == LLAMA3_PATTERN
    assert tok.special_tokens == {"<|begin_of_text|>": 0, EOT: 1}
    text = shakespeare_text[-5000:] + " 1234567 isn't it"
    assert tok.encode(text) == hf.encode(text).ids
    special = "<|begin_of_text|>First Citizen:" + EOT
    assert tok.encode(special, allowed_special="all") == hf.encode(special).ids
    assert tok.decode(hf.encode(special).ids) == special


@settings(max_examples=300)  # cheap (~1 ms each); random unicode is where bugs hide
@given(st.text(max_size=60))
def test_identical_ids_on_random_unicode(hf_multilingual, text):
    hf, folder = hf_multilingual
    tok = _load_cached(folder)
    if EOT in text:
        return
    assert tok.encode(text) == hf.encode(text).ids
    assert tok.decode(tok.encode(text)) == text


@settings(max_examples=100)
@given(
    st.lists(
        st.sampled_from(
            [
                "Привет",
                " мир",
                "東京",
                "😀",
                "👍🏽",
                "e\u0301",
                "  ",
                "\r\n",
                "\t",
                "'s",
                " the",
                "123",
            ]
        ),
        max_size=15,
    )
)
def test_identical_ids_on_random_mixes(hf_multilingual, pieces):
    hf, folder = hf_multilingual
    text = "".join(pieces)
    assert _load_cached(folder).encode(text) == hf.encode(text).ids


_LOADED: dict = {}


def _load_cached(folder) -> BPETokenizer:
    if folder not in _LOADED:
        _LOADED[folder] = BPETokenizer.from_pretrained(folder)
    return _LOADED[folder]


def test_our_files_load_in_hugging_face(tmp_path, corpus):
    tok = BPETokenizer().train(corpus, 700)
    tok.save(tmp_path)
    ref = tokenizers.ByteLevelBPETokenizer.from_file(
        str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt")
    )
    text = corpus[:5000] + " Привет 😀 e\u0301\r\n  end"
    assert tok.encode(text) == ref.encode(text).ids
    assert ref.decode(tok.encode(text)) == text


def test_our_files_load_in_transformers_gpt2_tokenizer(tmp_path, corpus):
    transformers = pytest.importorskip("transformers")
    tok = BPETokenizer().train(corpus, 700)
    tok.save(tmp_path)
    # transformers 5 takes the file paths as vocab=/merges=, 4 as vocab_file=/merges_file=;
    # and from_pretrained(folder) would read our tokenizer.json as its own format, so the
    # two GPT-2 files are named explicitly
    files = {"vocab": str(tmp_path / "vocab.json"), "merges": str(tmp_path / "merges.txt")}
    if int(transformers.__version__.split(".")[0]) < 5:
        files = {"vocab_file": files["vocab"], "merges_file": files["merges"]}
    ref = transformers.GPT2TokenizerFast(**files)
    text = corpus[-5000:] + " Привет 😀 e\u0301\r\n  end"
    assert tok.encode(text) == ref.encode(text)
    assert ref.decode(tok.encode(text)) == text


def test_a_saved_folder_opens_with_transformers_from_pretrained(tmp_path, corpus):
    """Our config is groundup_tokenizer.json, so HF's from_pretrained(folder) finds only
    GPT-2's two files and reads them (a file named tokenizer.json would be taken as HF's)."""
    transformers = pytest.importorskip("transformers")
    tok = BPETokenizer().train(corpus, 700)
    tok.save(tmp_path)
    ref = transformers.GPT2TokenizerFast.from_pretrained(str(tmp_path))
    text = corpus[-2000:] + " Привет 😀"
    assert tok.encode(text) == ref.encode(text)


def test_a_legacy_tokenizer_json_still_loads(tmp_path, corpus):
    tok = BPETokenizer().train(corpus, 300)
    tok.save(tmp_path)
    (tmp_path / "groundup_tokenizer.json").rename(tmp_path / "tokenizer.json")
    assert load_tokenizer(tmp_path).encode(corpus[:500]) == tok.encode(corpus[:500])
