"""The shared recipes: what the CLI and the journey build from them."""

from __future__ import annotations

import numpy as np

from groundup.app.recipes import charlm_arrays, transformer_training
from groundup.models.gpt import GPT, GPTConfig
from groundup.tokenizers import CharTokenizer


def test_charlm_arrays_for_the_bigram_and_the_mlp():
    tok = CharTokenizer.from_words(["ab", "ba"])
    bigram = charlm_arrays({"train": ["ab"]}, tok, 1, bigram=True)["train"]
    assert bigram[0].tolist() == [0, 1, 2] and bigram[1].tolist() == [1, 2, 0]  # . a b -> a b .
    X, Y = charlm_arrays({"train": ["ab"]}, tok, 1)["train"]  # an MLP with one character
    assert X.shape == (3, 1) and Y.tolist() == [1, 2, 0]
    X, _ = charlm_arrays({"train": ["ab"], "val": ["ba"]}, tok, 3)["val"]
    assert X.shape == (3, 3) and X[0].tolist() == [0, 0, 0]


def test_transformer_training_is_nanogpts_recipe():
    model = GPT(GPTConfig.preset("tiny", vocab_size=11, block_size=8), seed=0)
    optimizer, config = transformer_training(model, lr=1e-3, max_steps=50, warmup_steps=5,
                                             min_lr=1e-4, weight_decay=0.1)  # fmt: skip
    assert config.schedule == "warmup_cosine" and config.grad_clip == 1.0
    assert config.lr_at(0) < config.lr_at(4) < config.lr_at(5) == 1e-3  # warmup, then the peak
    assert np.isclose(config.lr_at(49), 1e-4, rtol=0.05)  # the cosine ends at min_lr
    decays = [g["weight_decay"] for g in optimizer.param_groups]
    assert decays == [0.1, 0.0]  # matrices and embeddings decay, gains and biases do not
    assert all(g["betas"] == (0.9, 0.99) for g in optimizer.param_groups)
