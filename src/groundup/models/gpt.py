"""Stage 4: GPT, a decoder-only Transformer, on groundup's own tensor engine.

The pieces, bottom-up, one class per idea of "Attention Is All You Need" / GPT-2:

* :class:`CausalSelfAttention` - every position looks back at the earlier ones and takes a
  weighted average of their values; the weights come from query-key dot products scaled
  by 1/sqrt(head size); several heads run side by side in one reshaped tensor.
* :class:`MLP` - a per-position feed-forward net, 4x wider inside, GELU (tanh form).
* :class:`Block` - LayerNorm before each of the two, and a residual connection around each
  (GPT-2's "pre-norm": the residual stream carries gradients straight to the bottom).
* :class:`GPT` - token and position embeddings, a stack of blocks, a final LayerNorm, and
  the language-model head (tied to the token embedding by default).

The parameter names are GPT-2's (``transformer.h.0.attn.c_attn.weight`` ...), so a Hugging
Face GPT-2 checkpoint loads with :meth:`GPT.from_pretrained` and a groundup model saves
with :meth:`GPT.save_pretrained` into a folder that ``transformers`` opens.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from groundup import nn
from groundup.models.hf import load_pretrained, write_folder
from groundup.models.sampling import as_generator
from groundup.models.transformer import KVCache, TransformerConfig, TransformerLM
from groundup.nn import fused as F
from groundup.tensor import Tensor
from groundup.tensor.backend import to_host

# --------------------------------------------------------------------------- config


@dataclass
class GPTConfig(TransformerConfig):
    """The shape of a GPT. Presets: :meth:`preset` (``tiny``, ``baby``, ``lecture``, ``gpt2``)."""

    vocab_size: int = 65  # distinct tokens: the 65 characters of tinyshakespeare
    block_size: int = 64  # the longest context; positions have learned embeddings up to it
    n_layer: int = 4  # blocks stacked: depth
    n_head: int = 4  # attention heads per block; each is n_embd // n_head wide
    n_embd: int = 128  # width of the residual stream
    dropout: float = 0.0  # on embeddings, attention weights and residual branches (training)
    bias: bool = True  # biases in Linear and LayerNorm (GPT-2 has them)
    tie_weights: bool = True  # the head reuses the token embedding (fewer params, GPT-2)
    # "gpt2": N(0, 0.02), scaled residual projections; "pytorch": PyTorch's layer defaults
    # (Linear U(+-1/sqrt(fan_in)), Embedding N(0, 1)), what the course notebook's model used
    init: str = "gpt2"

    def __post_init__(self) -> None:
        self._check_sizes(("vocab_size", "block_size", "n_layer", "n_head", "n_embd"))
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_embd must be a multiple of n_head, got n_embd={self.n_embd}, "
                f"n_head={self.n_head}"
            )
        self._check_training()

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> GPTConfig:
        """A named size, with any field overridden.

        >>> GPTConfig.preset("baby", vocab_size=27).n_embd
        128
        """
        return cls._from_preset(PRESETS, name, overrides)

    def kv_cache_shape(self) -> tuple[int, int, int, int]:
        """What a :class:`KVCache` holds: (layers, heads, block_size, head size)."""
        return self.n_layer, self.n_head, self.block_size, self.n_embd // self.n_head


PRESETS: dict[str, dict[str, Any]] = {
    # the course notebook's model: 4 layers, 4 heads, 64 wide, block 32 (0.21M parameters)
    "tiny": dict(vocab_size=65, block_size=32, n_layer=4, n_head=4, n_embd=64),
    # nanoGPT's CPU shakespeare_char model: 4/4/128, block 64
    "baby": dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128),
    # the lecture's model: 6/6/384, block 256, dropout 0.2 (about 10.8M parameters)
    "lecture": dict(vocab_size=65, block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2),
    # GPT-2 small: 12/12/768, block 1024, the 50,257 BPE tokens (124,439,808 parameters)
    "gpt2": dict(vocab_size=50257, block_size=1024, n_layer=12, n_head=12, n_embd=768),
}


# --------------------------------------------------------------------------- attention


class CausalSelfAttention(nn.Module):
    """Multi-head masked self-attention: softmax(q k^T / sqrt(D)) v, heads side by side.

    One Linear makes queries, keys and values at once (3 * n_embd outputs); the heads are
    a reshape, not separate modules, so each projection is one BLAS matmul.
    """

    def __init__(self, config: GPTConfig, rng: np.random.Generator) -> None:
        super().__init__()
        C = config.n_embd
        self.n_head = config.n_head
        self.n_embd = C
        self.dropout = float(config.dropout)
        self.c_attn = nn.Linear(C, 3 * C, bias=config.bias)  # x -> q, k, v
        self.c_proj = nn.Linear(C, C, bias=config.bias)  # heads -> residual stream
        self.resid_dropout = nn.Dropout(self.dropout, generator=rng)
        self._rng = rng  # attention-weight dropout draws from it

    def qkv(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Queries, keys and values of x (B, T, C), each (B, H, T, D)."""
        B, T, C = x.shape
        H = self.n_head
        qkv = self.c_attn(x)  # (B, T, 3C)
        qkv = qkv.view(B, T, 3, H, C // H).permute(2, 0, 3, 1, 4)  # (3, B, H, T, D)
        return qkv[0], qkv[1], qkv[2]  # each (B, H, T, D)

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        B, T, C = x.shape
        if cache is None:  # qkv's split into heads, their attention and merge: one op
            p = self.dropout if self.training else 0.0
            y = F.causal_self_attention(self.c_attn(x), self.n_head, dropout_p=p,
                                        generator=self._rng)  # (B, T, C)  # fmt: skip
        else:  # the new tokens see every cached one and, among themselves, the earlier ones
            q, k, v = self.qkv(x)  # (B, H, T, D)
            mask = cache.visible(T)  # (T, past + T), True = keep; None for one token
            k, v = cache.append(layer, k, v)  # (B, H, past + T, D)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C): heads side by side again
        return self.resid_dropout(self.c_proj(y))

    def attention_weights(self, x: Tensor) -> np.ndarray:
        """The attention matrices for x (B, T, C) as an array (B, H, T, T); rows sum to 1.

        The same sum as inside :meth:`forward`, spelled out step by step.
        """
        q, k, _ = self.qkv(x)
        D = q.shape[-1]
        q, k = to_host(q.data), to_host(k.data)  # a picture's arrays: on the host
        scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(D)  # (B, H, T, T)
        T = scores.shape[-1]
        future = np.triu(np.ones((T, T), dtype=bool), k=1)  # a token never sees ahead
        scores = np.where(future, -np.inf, scores)
        scores = scores - scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        return weights / weights.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------- MLP and block


class MLP(nn.Module):
    """Position-wise feed-forward: Linear (C -> 4C), GELU (tanh form, as GPT-2), Linear back."""

    def __init__(self, config: GPTConfig, rng: np.random.Generator) -> None:
        super().__init__()
        C = config.n_embd
        self.c_fc = nn.Linear(C, 4 * C, bias=config.bias)
        self.c_proj = nn.Linear(4 * C, C, bias=config.bias)
        self.dropout = nn.Dropout(float(config.dropout), generator=rng)

    def forward(self, x: Tensor) -> Tensor:
        h = self.c_fc(x)  # (B, T, 4C)
        # c_proj(gelu(h)) in one call: the fast tier keeps h alone, not gelu(h) too, and
        # makes gelu(h) again in the backward (gelu(h) is a quarter of what a block keeps)
        proj = self.c_proj
        return self.dropout(F.gelu_linear(h, proj.weight, proj.bias, approximate="tanh"))


class Block(nn.Module):
    """x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x)): communicate, then compute."""

    def __init__(self, config: GPTConfig, rng: np.random.Generator) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config, rng)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config, rng)

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer)  # (B, T, C)
        return x + self.mlp(self.ln_2(x))  # (B, T, C)


# --------------------------------------------------------------------------- the model


class GPT(TransformerLM, nn.Module):
    """A GPT language model: ``forward(idx, targets=None) -> (logits, loss)``.

    Args:
        config: its shape (:class:`GPTConfig`); keyword fields may be given instead.
        seed: an int or a ``numpy.random.Generator`` for the initial weights and dropout;
            None draws fresh entropy.

    >>> model = GPT(GPTConfig.preset("tiny"), seed=0)  # doctest: +SKIP
    >>> logits, loss = model(x, y)  # x, y: (B, T) int arrays  # doctest: +SKIP
    """

    MODEL_TYPE = "gpt"
    config_class = GPTConfig
    residual_projections = ("c_proj.weight",)  # attention's and the MLP's, into the stream

    def __init__(
        self, config: GPTConfig | None = None, *, seed: Any = None, **overrides: Any
    ) -> None:
        super().__init__()
        self.config = config = GPTConfig._overridden(config, overrides)
        rng = as_generator(seed)
        C = config.n_embd
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, C),  # token -> vector
                wpe=nn.Embedding(config.block_size, C),  # position -> vector
                drop=nn.Dropout(float(config.dropout), generator=rng),
                h=nn.ModuleList([Block(config, rng) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(C, bias=config.bias),
            )
        )
        if not config.tie_weights:
            self.lm_head = nn.Linear(C, config.vocab_size, bias=False)
        self._init_weights(rng, config.n_layer)

    # -- the contract of every language model (forward, generate, optim_groups,
    # model_kwargs and from_model_kwargs come from TransformerLM) ----------------------

    @staticmethod
    def sizes_from_state(state: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, int]:
        """The sizes a state dict's shapes imply, checked against a config before building."""
        vocab_size, n_embd = state["transformer.wte.weight"].shape
        blocks = {k.split(".")[2] for k in state if k.startswith("transformer.h.")}
        return {"vocab_size": vocab_size, "n_embd": n_embd, "n_layer": len(blocks),
                "block_size": state["transformer.wpe.weight"].shape[0]}  # fmt: skip

    def _embed(self, idx: np.ndarray, start: int) -> tuple[Tensor, tuple[()]]:
        """Token plus learned position embeddings of ids (B, T) at positions start ..
        start + T - 1; the blocks take nothing else."""
        T = idx.shape[1]
        if start + T > self.config.block_size:
            raise ValueError(
                f"idx: sequence length {start + T} exceeds block_size {self.config.block_size}"
            )
        tr = self.transformer
        pos = np.arange(start, start + T)
        return tr.drop(tr.wte(idx) + tr.wpe(pos)), ()  # (B, T, C) + (T, C) -> (B, T, C)

    def _decoder(self) -> tuple[Any, Any, Tensor]:
        """The blocks, the final LayerNorm, and the head: the token embedding when tied."""
        tr = self.transformer
        head = tr.wte.weight if self.config.tie_weights else self.lm_head.weight  # (V, C)
        return tr.h, tr.ln_f, head

    # -- GPT-2 interoperability ----------------------------------------------------------

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike) -> GPT:
        """Load a Hugging Face GPT-2 folder (``config.json`` + ``model.safetensors``).

        GPT-2 small (the ``gpt2`` folder from the Hugging Face hub) loads with 124,439,808
        parameters. A folder with only ``pytorch_model.bin`` is refused: see the message.
        """
        return load_pretrained(
            cls, folder, ("gpt2",), "GPT-2", gpt2_config_to_ours, hf_to_groundup_state
        )

    def save_pretrained(self, folder: str | os.PathLike) -> Path:
        """Write a Hugging Face GPT-2 folder that ``GPT2LMHeadModel.from_pretrained`` opens."""
        state = {name: p.data for name, p in self.named_parameters()}
        hf_state = groundup_to_hf_state(state, self.config)
        return write_folder(folder, hf_state, ours_to_gpt2_config(self.config))


# --------------------------------------------------------------------------- GPT-2 mapping
#
# Hugging Face names every parameter as we do (transformer.h.0.attn.c_attn.weight ...), but
# its projections are Conv1D modules storing the weight as (in, out), where a Linear stores
# (out, in): those four weights are transposed on the way in and out. The attention
# "bias" buffers (attn.bias, the causal mask; attn.masked_bias) are not parameters.

_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def gpt2_config_to_ours(hf: dict[str, Any]) -> GPTConfig:
    """A GPTConfig from a Hugging Face GPT-2 ``config.json`` dict."""
    act = hf.get("activation_function", "gelu_new")
    if act not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError(
            f"config.json: activation_function {act!r} is not supported; groundup's GPT uses "
            "GELU's tanh form ('gelu_new', as GPT-2)"
        )
    n_embd = hf["n_embd"]
    if hf.get("n_inner") not in (None, 4 * n_embd):
        raise ValueError(
            f"config.json: n_inner must be 4 * n_embd = {4 * n_embd}, got {hf['n_inner']}"
        )
    if abs(hf.get("layer_norm_epsilon", 1e-5) - 1e-5) > 1e-12:
        raise ValueError(
            f"config.json: layer_norm_epsilon must be 1e-5, got {hf['layer_norm_epsilon']}"
        )
    if hf.get("scale_attn_by_inverse_layer_idx") or hf.get("scale_attn_weights") is False:
        raise ValueError(
            "config.json: only GPT-2's 1/sqrt(head size) attention scaling is supported"
        )
    return GPTConfig(
        vocab_size=hf["vocab_size"],
        block_size=hf.get("n_positions", hf.get("n_ctx", 1024)),
        n_layer=hf["n_layer"],
        n_head=hf["n_head"],
        n_embd=n_embd,
        dropout=0.0,
        bias=True,
        tie_weights=bool(hf.get("tie_word_embeddings", True)),
    )


def ours_to_gpt2_config(config: GPTConfig) -> dict[str, Any]:
    """A Hugging Face GPT-2 ``config.json`` dict for our config."""
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": config.vocab_size,
        "n_positions": config.block_size,
        "n_ctx": config.block_size,
        "n_embd": config.n_embd,
        "n_layer": config.n_layer,
        "n_head": config.n_head,
        "n_inner": None,
        "activation_function": "gelu_new",
        "resid_pdrop": config.dropout,
        "embd_pdrop": config.dropout,
        "attn_pdrop": config.dropout,
        "layer_norm_epsilon": 1e-5,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "tie_word_embeddings": config.tie_weights,
        "bos_token_id": config.vocab_size - 1,
        "eos_token_id": config.vocab_size - 1,
        "torch_dtype": "float32",
    }


def hf_to_groundup_state(state: dict[str, np.ndarray], config: GPTConfig) -> dict[str, Any]:
    """Hugging Face GPT-2 tensors -> our state dict (float32, Conv1D weights transposed).

    Accepts both spellings of the hub: with the ``transformer.`` prefix
    (``GPT2LMHeadModel``) and without it (``GPT2Model``, the original gpt2 upload).
    """
    out: dict[str, Any] = {}
    for key, value in state.items():
        name = key if key.startswith(("transformer.", "lm_head.")) else "transformer." + key
        parts = name.split(".")
        if parts[-2] == "attn" and parts[-1] in ("bias", "masked_bias"):
            continue  # the causal-mask buffers
        if name == "lm_head.weight" and config.tie_weights:
            continue  # the same matrix as transformer.wte.weight
        if name.endswith(_CONV1D):
            value = value.T
        out[name] = np.ascontiguousarray(value, dtype=np.float32)
    return out


def groundup_to_hf_state(state: dict[str, np.ndarray], config: GPTConfig) -> dict[str, Any]:
    """Our state dict -> Hugging Face GPT2LMHeadModel tensors (Conv1D weights transposed;
    zero biases written where ``bias=False``, since GPT-2 always has them)."""
    out: dict[str, np.ndarray] = {}
    for name, value in state.items():
        value = np.asarray(value, dtype=np.float32)
        out[name] = np.ascontiguousarray(value.T if name.endswith(_CONV1D) else value)
    if not config.bias:
        C = config.n_embd
        widths = {
            "ln_1": C,
            "ln_2": C,
            "attn.c_attn": 3 * C,
            "attn.c_proj": C,
            "mlp.c_fc": 4 * C,
            "mlp.c_proj": C,
        }
        for i in range(config.n_layer):
            for mod, width in widths.items():
                out[f"transformer.h.{i}.{mod}.bias"] = np.zeros(width, dtype=np.float32)
        out["transformer.ln_f.bias"] = np.zeros(C, dtype=np.float32)
    return out
