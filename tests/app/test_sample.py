"""`groundup sample`: words from a words model (new ones counted), a continuation of a prompt
from a text model, and text from a Hugging Face GPT-2 folder. Checkpoints are written
directly (no training), so each case takes a fraction of a second."""

from __future__ import annotations

import pytest

from groundup.app.cli import main
from groundup.models.gpt import GPT, GPTConfig
from groundup.tokenizers import CharTokenizer
from groundup.train import save_checkpoint

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "luna"] * 3


def gpt_run(folder, tokenizer, data, block_size=16):
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=block_size, n_layer=1,
                          n_head=2, n_embd=16), seed=0)  # fmt: skip
    config = {"data": data, "tokenizer": tokenizer.to_config()}
    save_checkpoint(folder / "checkpoint", model, config, tokenizer=tokenizer)
    return folder


@pytest.fixture
def words_run(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    tokenizer = CharTokenizer.from_words(WORDS)
    data = {"source": str(path), "kind": "words", "seed": 42, "split": "80/10/10 by word"}
    return gpt_run(tmp_path / "words-run", tokenizer, data)


@pytest.fixture
def text_run(tmp_path):
    tokenizer = CharTokenizer.from_text("ROMEO:\nJuliet, what light breaks yonder?\n")
    return gpt_run(tmp_path / "text-run", tokenizer, {"source": "x.txt", "kind": "text"})


def test_words_model_prints_names_and_the_new_share(words_run, capsys):
    assert main(["sample", str(words_run), "-n", "12", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 14  # 12 names, a blank line, the summary
    assert lines[-1].endswith("are new: not in the training set")
    assert lines[-1].split()[2] == "12"
    names = [line.split("  (")[0].strip() for line in lines[:12]]
    names = ["" if name == "(empty)" else name for name in names]  # the boundary drawn first
    assert all(set(name) <= set("abeghilmnoprsuv") for name in names)


def test_sampling_is_reproducible_with_a_seed(words_run, capsys):
    main(["sample", str(words_run), "-n", "5", "--seed", "3"])
    first = capsys.readouterr().out
    main(["sample", str(words_run), "-n", "5", "--seed", "3"])
    assert capsys.readouterr().out == first


def test_text_model_continues_the_prompt(text_run, capsys):
    assert main(["sample", str(text_run), "--prompt", "ROMEO:", "-n", "40", "--seed", "0",
                 "--top-k", "5", "--temperature", "0.8"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith("ROMEO:")
    assert len(out.rstrip("\n")) >= len("ROMEO:")  # 40 characters follow (some may be newlines)


def test_text_model_runs_past_its_block_size(text_run, capsys):
    assert main(["sample", str(text_run), "-n", "50", "--seed", "0", "--top-p", "0.9"]) == 0
    assert len(capsys.readouterr().out) == 1 + 50 + 1  # default prompt "\n", 50 new, print's "\n"


def test_unknown_prompt_character_is_an_error(text_run, capsys):
    assert main(["sample", str(text_run), "--prompt", "XYZ"]) == 2
    assert "not in the vocabulary" in capsys.readouterr().err


def test_hugging_face_gpt2_folder(tmp_path, capsys):
    from groundup.tokenizers.bpe import BPETokenizer

    text = "hello world, hello there. the world is wide and the sea is deep.\n" * 20
    tokenizer = BPETokenizer().train(text, vocab_size=270)
    folder = tmp_path / "gpt2-like"
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=32, n_layer=1, n_head=2,
                          n_embd=16), seed=0)  # fmt: skip
    model.save_pretrained(folder)
    tokenizer.save(folder)
    assert main(["sample", str(folder), "--prompt", "hello", "-n", "10", "--seed", "0"]) == 0
    assert capsys.readouterr().out.startswith("hello")


@pytest.mark.parametrize("qkv_bias", [False, True], ids=["llama", "qwen2"])
def test_hugging_face_llama_and_qwen2_folders(tmp_path, capsys, qkv_bias):
    import json

    from groundup.models.llama import Llama, LlamaConfig
    from groundup.tokenizers.bpe import BPETokenizer

    text = "hello world, hello there. the world is wide and the sea is deep.\n" * 20
    tokenizer = BPETokenizer().train(text, vocab_size=270)
    folder = tmp_path / "hf-like"
    model = Llama(LlamaConfig(vocab_size=tokenizer.vocab_size, hidden_size=16,
                              intermediate_size=24, num_hidden_layers=1, num_attention_heads=2,
                              num_key_value_heads=1, max_position_embeddings=8,
                              qkv_bias=qkv_bias), seed=0)  # fmt: skip
    model.save_pretrained(folder)
    tokenizer.save(folder)
    assert json.loads((folder / "config.json").read_text())["model_type"] == (
        "qwen2" if qkv_bias else "llama"
    )
    # 30 new tokens past a context of 8: the rotary cache slides
    assert main(["sample", str(folder), "--prompt", "hello", "-n", "30", "--seed", "0"]) == 0
    assert capsys.readouterr().out.startswith("hello")


def test_llama_words_run_samples_whole_words(tmp_path, capsys):
    from groundup.models.llama import Llama, LlamaConfig

    tokenizer = CharTokenizer.from_words(WORDS)
    model = Llama(LlamaConfig(vocab_size=tokenizer.vocab_size, hidden_size=16,
                              intermediate_size=24, num_hidden_layers=1, num_attention_heads=2,
                              max_position_embeddings=10), seed=0)  # fmt: skip
    config = {"data": {"kind": "words"}, "tokenizer": tokenizer.to_config()}
    save_checkpoint(tmp_path / "run" / "checkpoint", model, config, tokenizer=tokenizer)
    assert main(["sample", str(tmp_path / "run"), "-n", "5", "--seed", "0"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert all(len(line.split("  (")[0].strip()) <= 9 for line in lines[:5])  # block 10 - 1


def test_bigram_run_folder(tmp_path, capsys):
    from groundup.models.bigram import NeuralBigram

    tokenizer = CharTokenizer.from_words(WORDS)
    model = NeuralBigram(tokenizer.vocab_size, generator=0)
    save_checkpoint(tmp_path / "bigram" / "checkpoint", model, {"data": {}}, tokenizer=tokenizer)
    assert main(["sample", str(tmp_path / "bigram"), "-n", "4", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "cannot say which are new" in out


def test_missing_folder_is_an_error(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "nothing")]) == 2
    assert "no such checkpoint folder" in capsys.readouterr().err


def test_negative_seed_is_refused_at_parse_time(words_run, capsys):
    with pytest.raises(SystemExit):
        main(["sample", str(words_run), "--seed", "-1"])
    assert "argument --seed: must be an int >= 0, got -1" in capsys.readouterr().err


def test_new_names_are_marked_and_counted(words_run, capsys):
    assert main(["sample", str(words_run), "-n", "12", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    marked = sum(line.endswith("(new)") for line in lines[:12])
    assert lines[-1].startswith(f"{marked} of 12 ")
    assert all(line == line.rstrip() for line in lines)


def test_sample_refuses_what_it_cannot_do_in_one_line(tmp_path, capsys):
    from groundup.app.cli import main

    out = tmp_path / "mg"
    assert main(["micrograd", "--steps", "2", "--n-samples", "6", "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["sample", str(out)]) == 2
    assert "has no text to sample" in capsys.readouterr().err
    names = tmp_path / "names"
    assert main(["train", "bigram", "--steps", "3", "--out", str(names), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["sample", str(names), "--prompt", "em"]) == 2
    assert "--prompt" in capsys.readouterr().err
    for flag, value in (("--temperature", "nan"), ("--top-k", "0"), ("--top-p", "1.5")):
        assert main(["sample", str(names), flag, value]) == 2
        err = capsys.readouterr().err
        assert flag in err and len(err.strip().splitlines()) == 1


def test_sample_refuses_a_tampered_checkpoint(tmp_path, capsys):
    import json

    from groundup.app.cli import main

    run = tmp_path / "run"
    assert main(["train", "bigram", "--steps", "3", "--out", str(run), "--no-progress"]) == 0
    config = run / "checkpoint" / "config.json"
    data = json.loads(config.read_text())
    data["model"]["kwargs"]["vocab_size"] = 10**9
    config.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["sample", str(run), "-n", "3"]) == 0  # the run's last/ still verifies
    assert "checkpoint does not verify" in capsys.readouterr().err
    import shutil

    shutil.rmtree(run / "last")
    assert main(["sample", str(run)]) == 2
    assert "no complete checkpoint" in capsys.readouterr().err
    assert main(["sample", str(run / "checkpoint")]) == 2
    assert "config.json: does not match manifest.json" in capsys.readouterr().err
    (run / "checkpoint" / "manifest.json").unlink()  # an old-style checkpoint: no manifest
    assert main(["sample", str(run)]) == 2  # then the sizes are checked against the weights
    err = capsys.readouterr().err
    assert "model vocab_size is 1000000000 but model.safetensors holds weights for 27" in err
