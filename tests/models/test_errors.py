"""Every input the models refuse, as one table: the exception type and the argument (or
config field) the one-line message must name, not its exact wording (issue 14)."""

from __future__ import annotations

import numpy as np
from error_table import refusal_test

from groundup.models import build_model, model_class
from groundup.models.bigram import CountingBigram, NeuralBigram
from groundup.models.gpt import GPT, GPTConfig
from groundup.models.llama import Llama, LlamaConfig
from groundup.models.mlp import MLPLanguageModel
from groundup.models.sampling import filter_logits, sample_next

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "ella"]
GPT_SMALL = dict(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16)
LLAMA_SMALL = dict(vocab_size=11, hidden_size=24, intermediate_size=40, num_hidden_layers=2,
                   num_attention_heads=6, num_key_value_heads=2,
                   max_position_embeddings=16)  # fmt: skip


def gpt_config(**bad) -> GPTConfig:
    return GPTConfig(**{**GPT_SMALL, **bad})


def llama_config(**bad) -> LlamaConfig:
    return LlamaConfig(**{**LLAMA_SMALL, **bad})


def gpt() -> GPT:
    return GPT(gpt_config(), seed=0)


def llama() -> Llama:
    return Llama(llama_config(), seed=0)


def ints(*shape: int) -> np.ndarray:
    return np.zeros(shape, dtype=np.int64)


def counting() -> CountingBigram:
    return CountingBigram.fit(WORDS)


def sample(**bad) -> np.ndarray:
    return sample_next(np.zeros((1, 3)), np.random.default_rng(0), **bad)


CASES = [
    # (id, a call that must fail, the exception, what its message must name)
    # GPTConfig: each size a positive int, heads dividing the width, dropout, init, preset
    *[(f"gpt-{f}-zero", lambda f=f: gpt_config(**{f: 0}), ValueError, f) for f in GPT_SMALL],
    ("gpt-n_layer-bool", lambda: gpt_config(n_layer=True), ValueError, "n_layer"),
    ("gpt-n_embd-float", lambda: gpt_config(n_embd=16.0), ValueError, "n_embd"),
    ("gpt-n_embd-not-multiple", lambda: gpt_config(n_embd=10, n_head=3), ValueError, "n_head"),
    ("gpt-dropout-one", lambda: gpt_config(dropout=1.0), ValueError, "dropout"),
    ("gpt-dropout-negative", lambda: gpt_config(dropout=-0.1), ValueError, "dropout"),
    ("gpt-init", lambda: gpt_config(init="xavier"), ValueError, "init"),
    ("gpt-preset", lambda: GPTConfig.preset("huge"), ValueError, "preset"),
    # LlamaConfig: the same, plus the grouped heads, RoPE's even head_dim, theta and eps
    *[(f"llama-{f}-zero", lambda f=f: llama_config(**{f: 0}), ValueError, f)
      for f in LLAMA_SMALL],
    ("llama-num_hidden_layers-bool", lambda: llama_config(num_hidden_layers=True), ValueError,
     "num_hidden_layers"),
    ("llama-kv-heads-not-dividing", lambda: llama_config(num_key_value_heads=4), ValueError,
     "num_key_value_heads"),
    ("llama-hidden-not-multiple", lambda: llama_config(hidden_size=25), ValueError,
     "hidden_size"),
    ("llama-head_dim-odd", lambda: llama_config(head_dim=5), ValueError, "head_dim"),
    ("llama-head_dim-zero", lambda: llama_config(head_dim=0), ValueError, "head_dim"),
    ("llama-rope_theta", lambda: llama_config(rope_theta=0.0), ValueError, "rope_theta"),
    ("llama-rms_norm_eps", lambda: llama_config(rms_norm_eps=-1.0), ValueError, "rms_norm_eps"),
    ("llama-dropout", lambda: llama_config(dropout=1.0), ValueError, "dropout"),
    ("llama-init", lambda: llama_config(init="xavier"), ValueError, "init"),
    ("llama-preset", lambda: LlamaConfig.preset("huge"), ValueError, "preset"),
    # the transformers' forward and generate
    ("gpt-idx-past-block_size", lambda: gpt()(ints(1, 17)), ValueError, "block_size"),
    ("gpt-idx-floats", lambda: gpt()(np.zeros((1, 3))), ValueError, "idx"),
    ("gpt-targets-shape", lambda: gpt()(ints(1, 3), ints(1, 4)), ValueError, "targets"),
    ("gpt-max_new_tokens", lambda: gpt().generate([[1]], -1), ValueError, "max_new_tokens"),
    ("gpt-generate-no-token", lambda: gpt().generate(ints(1, 0), 3), ValueError, "idx"),
    ("llama-idx-floats", lambda: llama()(np.zeros((1, 3))), ValueError, "idx"),
    ("llama-targets-shape", lambda: llama()(ints(1, 3), ints(1, 4)), ValueError, "targets"),
    ("llama-max_new_tokens", lambda: llama().generate([[1]], -1), ValueError, "max_new_tokens"),
    ("llama-generate-no-token", lambda: llama().generate(ints(1, 0), 3), ValueError, "idx"),
    # the bigrams
    ("counting-smoothing", lambda: CountingBigram.fit(WORDS, smoothing=-1), ValueError,
     "smoothing"),
    ("counting-no-words", lambda: CountingBigram.fit([]), ValueError, "words"),
    ("counting-counts-shape", lambda: CountingBigram(np.zeros((3, 3)), counting().tokenizer),
     ValueError, "counts"),
    ("counting-sample-n", lambda: counting().sample(-1), ValueError, "n must"),
    ("counting-sample-seed", lambda: counting().sample(1, seed=0.5), TypeError, "seed"),
    ("counting-nll-unknown-char", lambda: counting().nll(["zed"]), ValueError, "'z'"),
    ("neural-vocab_size", lambda: NeuralBigram(0), ValueError, "vocab_size"),
    ("neural-generator", lambda: NeuralBigram(3, generator="x"), TypeError, "generator"),
    ("neural-targets-shape", lambda: NeuralBigram(5, generator=0)(np.array([1, 2]), np.array([1])),
     ValueError, "targets"),
    ("neural-idx-floats", lambda: NeuralBigram(5, generator=0)(np.array([0.5])), TypeError,
     "idx"),
    ("neural-max_new_tokens", lambda: NeuralBigram(5, generator=0).generate(ints(1, 1), -1),
     ValueError, "max_new_tokens"),
    # the MLP language model
    *[(f"mlp-{f}-zero", lambda f=f: MLPLanguageModel(27, **{f: 0}), ValueError, f)
      for f in ("block_size", "n_embd", "n_hidden", "n_layers")],
    ("mlp-vocab_size", lambda: MLPLanguageModel(0), ValueError, "vocab_size"),
    ("mlp-hierarchical-block_size",
     lambda: MLPLanguageModel(27, block_size=3, n_layers=2, hierarchical=True), ValueError,
     "block_size"),
    ("mlp-idx-wrong-width", lambda: MLPLanguageModel(27, generator=0)(ints(2, 4)), ValueError,
     "block_size"),
    ("mlp-idx-floats", lambda: MLPLanguageModel(27, generator=0)(np.zeros((2, 3))), TypeError,
     "idx"),
    # sampling
    ("sample-temperature", lambda: sample(temperature=-1), ValueError, "temperature"),
    ("sample-temperature-nan", lambda: sample(temperature=float("nan")), ValueError,
     "temperature"),
    ("sample-top_k", lambda: sample(top_k=0), ValueError, "top_k"),
    ("sample-top_p", lambda: sample(top_p=1.5), ValueError, "top_p"),
    ("sample-logits-3d", lambda: sample_next(np.zeros((1, 1, 3)), np.random.default_rng(0)),
     ValueError, "logits"),
    ("filter-logits-1d", lambda: filter_logits(np.zeros(3), top_k=1), ValueError, "logits"),
    # the registry
    ("model-type", lambda: model_class("resnet"), ValueError, "model type"),
    ("build-model-type", lambda: build_model("resnet", {}), ValueError, "model type"),
    ("gpt-dropout-a-string", lambda: GPTConfig(dropout="x"), ValueError, "dropout"),
]  # fmt: skip


test_refused_naming_the_argument = refusal_test(CASES)
