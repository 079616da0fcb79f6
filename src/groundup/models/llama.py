"""Stage 5: from GPT-2 to Llama, the pieces every open model changed since 2019.

Llama (2023) and the models after it (Qwen2, Mistral, SmolLM ...) keep GPT-2's stack of
pre-norm blocks with residual connections, and change the same few pieces. One class or
function per change, bottom-up:

* RMSNorm instead of LayerNorm (``nn.RMSNorm``): rescale each vector to unit root mean
  square; no mean subtracted, no bias. Cheaper, and as good.
* Rotary position embeddings instead of learned ones (``F.rotary_embedding``): q and k are
  turned by angles proportional to their position, so a query-key dot product depends on
  the distance between them only. Nothing to learn, and no table to outgrow.
* :class:`GroupedQueryAttention`: groups of query heads share one key/value head, so the
  KV cache holds fewer heads (``num_key_value_heads``; 1 is multi-query attention).
* :class:`SwiGLU`: a gated feed-forward, ``down(silu(gate(x)) * up(x))``, instead of GELU.
* No biases (Qwen2 keeps those of q, k and v); the head tied to the embedding or not.

:class:`LlamaBlock` and :class:`Llama` assemble them. The field and parameter names are
Hugging Face's (``hidden_size``, ``model.layers.0.self_attn.q_proj.weight`` ...), so a
``LlamaForCausalLM`` or ``Qwen2ForCausalLM`` folder loads with :meth:`Llama.from_pretrained`
and :meth:`Llama.save_pretrained` writes one that ``transformers`` opens.
"""

from __future__ import annotations

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
from groundup.nn.functional import rope_cos_sin
from groundup.tensor import Tensor
from groundup.tensor.backend import to_host

# --------------------------------------------------------------------------- config


@dataclass
class LlamaConfig(TransformerConfig):
    """The shape of a Llama, in Hugging Face's names. Presets: :meth:`preset` (``tiny``,
    ``baby``, ``lecture``, ``smollm``)."""

    vocab_size: int = 65  # distinct tokens: the 65 characters of tinyshakespeare
    hidden_size: int = 64  # width of the residual stream
    intermediate_size: int = 192  # width inside SwiGLU: 3 matrices of hidden x this
    num_hidden_layers: int = 4  # blocks stacked: depth
    num_attention_heads: int = 4  # query heads per block
    # key/value heads, each shared by num_attention_heads / num_key_value_heads query heads;
    # None: one per query head (multi-head, Hugging Face's default), 1: multi-query
    num_key_value_heads: int = 2
    head_dim: int = None  # type: ignore[assignment]  # one head's width; None: hidden / heads
    max_position_embeddings: int = 32  # the context trained on, and the window generate keeps
    rope_theta: float = 10000.0  # RoPE's base: pair i turns by theta^(-2i/head_dim) per position
    rms_norm_eps: float = 1e-5  # added to the mean square before the square root
    tie_word_embeddings: bool = True  # the head reuses the token embedding
    attention_bias: bool = False  # biases on q, k, v and o (Llama's option)
    qkv_bias: bool = False  # biases on q, k and v only (Qwen2 has them)
    dropout: float = 0.0  # on the attention weights in training (Hugging Face's attention_dropout)
    init: str = "gpt2"  # as GPT: "gpt2" (N(0, 0.02), scaled residual projections) or "pytorch"

    def __post_init__(self) -> None:
        if self.num_key_value_heads is None:  # as Hugging Face: multi-head attention
            self.num_key_value_heads = self.num_attention_heads
        sizes = [
            "vocab_size",
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "num_attention_heads",
            "num_key_value_heads",
            "max_position_embeddings",
        ]
        self._check_sizes(sizes + (["head_dim"] if self.head_dim is not None else []))
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError(
                f"num_key_value_heads must divide num_attention_heads, got "
                f"num_key_value_heads={self.num_key_value_heads}, "
                f"num_attention_heads={self.num_attention_heads}"
            )
        if self.head_dim is None:
            if self.hidden_size % self.num_attention_heads:
                raise ValueError(
                    f"hidden_size must be a multiple of num_attention_heads (or give head_dim), "
                    f"got hidden_size={self.hidden_size}, "
                    f"num_attention_heads={self.num_attention_heads}"
                )
            self.head_dim = self.hidden_size // self.num_attention_heads
        if self.head_dim % 2:
            raise ValueError(f"head_dim must be even (RoPE turns pairs), got {self.head_dim}")
        for name in ("rope_theta", "rms_norm_eps"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        self._check_training()

    @property
    def block_size(self) -> int:
        """The context, by GPT's name: ``max_position_embeddings``."""
        return self.max_position_embeddings

    def kv_cache_shape(self) -> tuple[int, int, int, int]:
        """What a :class:`KVCache` holds: (layers, key/value heads, context, head size)."""
        return (self.num_hidden_layers, self.num_key_value_heads, self.max_position_embeddings,
                self.head_dim)  # fmt: skip

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> LlamaConfig:
        """A named size, with any field overridden.

        >>> LlamaConfig.preset("baby", vocab_size=27).hidden_size
        128
        """
        return cls._from_preset(PRESETS, name, overrides)


# tiny, baby and lecture are GPT's presets of the same names, made Llama: with half as many
# key/value heads as query heads, attention holds 3 C^2 parameters (GPT's: 4 C^2), and a
# SwiGLU 3C wide holds 9 C^2 (GPT's 4C MLP: 8 C^2), so a block has GPT's 12 C^2.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(vocab_size=65, hidden_size=64, intermediate_size=192, num_hidden_layers=4,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32),
    "baby": dict(vocab_size=65, hidden_size=128, intermediate_size=384, num_hidden_layers=4,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64),
    "lecture": dict(vocab_size=65, hidden_size=384, intermediate_size=1152, num_hidden_layers=6,
                    num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=256,
                    dropout=0.2),
    # SmolLM-135M's shape (Hugging Face, 2024): 30 layers, 9 query and 3 key/value heads,
    # 49,152 BPE tokens, tied head (134,515,008 parameters)
    "smollm": dict(vocab_size=49152, hidden_size=576, intermediate_size=1536,
                   num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                   max_position_embeddings=2048),
}  # fmt: skip


# --------------------------------------------------------------------------- attention


class GroupedQueryAttention(nn.Module):
    """Causal self-attention where each key/value head serves a group of query heads
    (GQA, Ainslie et al. 2023), with q and k rotated by their positions (RoPE) first.

    ``num_key_value_heads == num_attention_heads`` is ordinary multi-head attention, 1 is
    multi-query attention. The groups need no copies of k and v: q is viewed as (B, H_kv,
    G, T, D) and k, v as (B, H_kv, 1, S, D), and the matmuls broadcast over the G query
    heads of a group. The KV cache keeps only the H_kv heads, G times less than GPT's.
    """

    def __init__(self, config: LlamaConfig, rng: np.random.Generator) -> None:
        super().__init__()
        C, D = config.hidden_size, config.head_dim
        self.n_head = config.num_attention_heads  # query heads
        self.n_kv_head = config.num_key_value_heads  # key/value heads, each serving a group
        self.head_dim = D
        qkv_bias = config.attention_bias or config.qkv_bias
        self.q_proj = nn.Linear(C, self.n_head * D, bias=qkv_bias)
        self.k_proj = nn.Linear(C, self.n_kv_head * D, bias=qkv_bias)
        self.v_proj = nn.Linear(C, self.n_kv_head * D, bias=qkv_bias)
        self.o_proj = nn.Linear(self.n_head * D, C, bias=config.attention_bias)
        self.dropout = float(config.dropout)
        self._rng = rng  # attention-weight dropout draws from it

    def forward(
        self, x: Tensor, cos: Any, sin: Any, cache: KVCache | None = None, layer: int = 0
    ) -> Tensor:
        B, T, _ = x.shape
        H, Hkv, D = self.n_head, self.n_kv_head, self.head_dim
        q = self.q_proj(x).view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(B, T, Hkv, D).transpose(1, 2)  # (B, H_kv, T, D)
        v = self.v_proj(x).view(B, T, Hkv, D).transpose(1, 2)  # (B, H_kv, T, D)
        q, k = F.rotary_embedding(q, cos, sin), F.rotary_embedding(k, cos, sin)  # positions in
        mask, causal = None, True
        if cache is not None:  # the new tokens see every cached one and the earlier new ones
            mask, causal = cache.visible(T), False  # (T, past + T), True = keep; None for one
            k, v = cache.append(layer, k, v)  # (B, H_kv, past + T, D): kv heads only
        q = q.view(B, Hkv, H // Hkv, T, D)  # (B, H_kv, G, T, D): each kv head's query group
        y = F.scaled_dot_product_attention(
            q, k.unsqueeze(2), v.unsqueeze(2), attn_mask=mask, is_causal=causal,
            dropout_p=self.dropout if self.training else 0.0, generator=self._rng,
        )  # (B, H_kv, G, T, D)  # fmt: skip
        y = y.reshape(B, H, T, D).transpose(1, 2).reshape(B, T, H * D)  # heads side by side
        return self.o_proj(y)  # (B, T, C)


# --------------------------------------------------------------------------- SwiGLU and block


class SwiGLU(nn.Module):
    """The gated feed-forward of Llama (Shazeer 2020): ``down(silu(gate(x)) * up(x))``.

    Two projections up instead of one: ``up(x)`` is the signal, ``silu(gate(x))`` decides
    per hidden unit how much of it passes. No biases.
    """

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        C, hidden = config.hidden_size, config.intermediate_size
        self.gate_proj = nn.Linear(C, hidden, bias=False)
        self.up_proj = nn.Linear(C, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, C, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        h = F.silu(self.gate_proj(x)) * self.up_proj(x)  # (B, T, intermediate_size)
        return self.down_proj(h)  # (B, T, C)


class LlamaBlock(nn.Module):
    """x + attention(RMSNorm(x)), then x + SwiGLU(RMSNorm(x)): GPT-2's pre-norm block with
    Llama's pieces (Hugging Face's ``LlamaDecoderLayer``)."""

    def __init__(self, config: LlamaConfig, rng: np.random.Generator) -> None:
        super().__init__()
        C, eps = config.hidden_size, config.rms_norm_eps
        self.input_layernorm = nn.RMSNorm(C, eps=eps)
        self.self_attn = GroupedQueryAttention(config, rng)
        self.post_attention_layernorm = nn.RMSNorm(C, eps=eps)
        self.mlp = SwiGLU(config)

    def forward(
        self, x: Tensor, cos: Any, sin: Any, cache: KVCache | None = None, layer: int = 0
    ) -> Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache, layer)  # (B, T, C)
        return x + self.mlp(self.post_attention_layernorm(x))  # (B, T, C)


# --------------------------------------------------------------------------- the model


class Llama(TransformerLM, nn.Module):
    """A Llama language model: ``forward(idx, targets=None) -> (logits, loss)``, built as
    :class:`~groundup.models.gpt.GPT` is: from a :class:`LlamaConfig` (or keyword fields)
    and a ``seed`` (an int or a ``numpy.random.Generator``) for the weights and dropout.

    Rotary positions have no table to outgrow: like Hugging Face's, the model accepts ids of
    any length, though it was trained on ``max_position_embeddings``.

    >>> model = Llama(LlamaConfig.preset("tiny"), seed=0)  # doctest: +SKIP
    >>> logits, loss = model(x, y)  # x, y: (B, T) int arrays  # doctest: +SKIP
    """

    MODEL_TYPE = "llama"
    config_class = LlamaConfig
    residual_projections = ("o_proj.weight", "down_proj.weight")  # into the residual stream

    def __init__(
        self, config: LlamaConfig | None = None, *, seed: Any = None, **overrides: Any
    ) -> None:
        super().__init__()
        self.config = config = LlamaConfig._overridden(config, overrides)
        rng = as_generator(seed)
        C = config.hidden_size
        self.model = nn.ModuleDict(
            dict(
                embed_tokens=nn.Embedding(config.vocab_size, C),  # no position embedding
                layers=nn.ModuleList(
                    [LlamaBlock(config, rng) for _ in range(config.num_hidden_layers)]
                ),
                norm=nn.RMSNorm(C, eps=config.rms_norm_eps),
            )
        )
        if not config.tie_word_embeddings:
            self.lm_head = nn.Linear(C, config.vocab_size, bias=False)
        self._init_weights(rng, config.num_hidden_layers)  # as GPT's

    # -- the contract of every language model (forward, generate, optim_groups,
    # model_kwargs and from_model_kwargs come from TransformerLM) ----------------------

    @staticmethod
    def sizes_from_state(state: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, int]:
        """The sizes a state dict's shapes imply, checked against a config before building."""
        vocab_size, hidden_size = state["model.embed_tokens.weight"].shape
        layers = {k.split(".")[2] for k in state if k.startswith("model.layers.")}
        q_out = state["model.layers.0.self_attn.q_proj.weight"].shape[0]
        kv_out = state["model.layers.0.self_attn.k_proj.weight"].shape[0]
        sizes = {
            "vocab_size": vocab_size,
            "hidden_size": hidden_size,
            "num_hidden_layers": len(layers),
            "intermediate_size": state["model.layers.0.mlp.gate_proj.weight"].shape[0],
        }
        head_dim = kwargs.get("head_dim")
        if isinstance(head_dim, int) and head_dim > 0:  # q and k widths are heads x head_dim
            sizes["num_attention_heads"] = q_out // head_dim
            sizes["num_key_value_heads"] = kv_out // head_dim
        return sizes  # fmt: skip

    def _embed(self, idx: np.ndarray, start: int) -> tuple[Tensor, tuple[Any, Any]]:
        """The token embeddings of ids (B, T), and the rotary angles of positions start ..
        start + T - 1, which every block turns q and k by."""
        c = self.config
        # one table of angles for every layer: position p turns pair i by p theta^(-2i/D)
        positions = np.arange(start, start + idx.shape[1])
        cos, sin = rope_cos_sin(positions, c.head_dim, c.rope_theta, self._dtype())  # (T, D)
        x = self.model.embed_tokens(idx)  # (B, T, C): positions enter through q and k only
        return x, (cos, sin)

    def _decoder(self) -> tuple[Any, Any, Tensor]:
        """The blocks, the final RMSNorm, and the head: the token embedding when tied."""
        tied = self.config.tie_word_embeddings
        head = self.model.embed_tokens.weight if tied else self.lm_head.weight  # (V, C)
        return self.model.layers, self.model.norm, head

    # -- Hugging Face interoperability ---------------------------------------------------

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike) -> Llama:
        """Load a Hugging Face ``LlamaForCausalLM`` or ``Qwen2ForCausalLM`` folder
        (``config.json`` + ``model.safetensors``, or its shards; float32, float16 or
        bfloat16 weights, read as float32). Configurations groundup cannot honour (RoPE
        scaling, another activation, a sliding window in use ...) are refused, naming the
        field."""
        return load_pretrained(
            cls, folder, HF_MODEL_TYPES, "Llama or Qwen2", hf_config_to_ours, hf_to_groundup_state
        )

    def save_pretrained(self, folder: str | os.PathLike) -> Path:
        """Write a Hugging Face folder that ``transformers`` opens: ``Qwen2ForCausalLM``
        for a model with q/k/v biases only (``qkv_bias``), ``LlamaForCausalLM`` otherwise."""
        state = {
            name: np.asarray(to_host(p.data), dtype=np.float32)
            for name, p in self.named_parameters()
        }
        return write_folder(folder, state, ours_to_hf_config(self.config))


def llama_like(gpt: Any) -> LlamaConfig:
    """A Llama of a GPT's size, for a fair comparison: its layers, heads, width and context,
    half as many key/value heads, and the SwiGLU width whose parameter count is closest to
    the GPT's. The count is linear in ``intermediate_size`` (3 x hidden x layers parameters
    per unit), so one division finds it.

    >>> from groundup.models.gpt import GPTConfig
    >>> llama_like(GPTConfig.preset("tiny")).intermediate_size  # 205,952 against 206,272
    198
    """
    from groundup.models.gpt import GPT

    kv_heads = gpt.n_head // 2 if gpt.n_head % 2 == 0 else gpt.n_head

    def llama(intermediate: int) -> LlamaConfig:
        return LlamaConfig(vocab_size=gpt.vocab_size, hidden_size=gpt.n_embd,
                           intermediate_size=intermediate, num_hidden_layers=gpt.n_layer,
                           num_attention_heads=gpt.n_head, num_key_value_heads=kv_heads,
                           max_position_embeddings=gpt.block_size, dropout=gpt.dropout,
                           tie_word_embeddings=gpt.tie_weights)  # fmt: skip

    target = GPT(gpt, seed=0).num_parameters()
    per_unit = 3 * gpt.n_embd * gpt.n_layer
    base = Llama(llama(1), seed=0).num_parameters() - per_unit  # all but SwiGLU's width
    return llama(max(1, round((target - base) / per_unit)))


# --------------------------------------------------------------------------- Hugging Face
#
# The parameter names are already Hugging Face's and Linear weights are (out, in) on both
# sides, so the weights map one to one. Left out on the way in: lm_head.weight of a tied
# model (the embedding again) and the rotary_emb.inv_freq buffers of older checkpoints.

HF_MODEL_TYPES = ("llama", "qwen2")


def _rope_theta(hf: dict[str, Any]) -> float:
    """RoPE's base from a config.json of transformers 4 (``rope_theta``, ``rope_scaling``)
    or 5 (``rope_parameters``); only plain RoPE is supported."""
    for field in ("rope_scaling", "rope_parameters"):
        entry = hf.get(field) or {}
        kind = entry.get("rope_type", entry.get("type", "default"))
        if kind != "default":
            raise ValueError(
                f"config.json: {field} of type {kind!r} is not supported; groundup's Llama "
                "uses plain RoPE (rope_type 'default', no scaling)"
            )
    return float((hf.get("rope_parameters") or {}).get("rope_theta", hf.get("rope_theta", 1e4)))


def _sliding_window_in_use(hf: dict[str, Any]) -> bool:
    """Whether some layer attends to a window only: transformers 5 lists each layer's kind
    (``layer_types``); Qwen2's configs of transformers 4 slide the layers from
    ``max_window_layers`` on when ``use_sliding_window`` is set."""
    if hf.get("layer_types"):
        return set(hf["layer_types"]) != {"full_attention"}
    return (bool(hf.get("use_sliding_window")) and hf.get("sliding_window") is not None
            and hf["num_hidden_layers"] > hf.get("max_window_layers", 0))  # fmt: skip


def hf_config_to_ours(hf: dict[str, Any]) -> LlamaConfig:
    """A LlamaConfig from a Hugging Face Llama or Qwen2 ``config.json`` dict."""
    qwen2 = hf.get("model_type") == "qwen2"
    if hf.get("hidden_act", "silu") != "silu":
        raise ValueError(
            f"config.json: hidden_act {hf['hidden_act']!r} is not supported; groundup's Llama "
            "uses SwiGLU with 'silu'"
        )
    if hf.get("mlp_bias"):
        raise ValueError("config.json: mlp_bias true is not supported; Llama's MLP has no biases")
    if _sliding_window_in_use(hf):
        raise ValueError(
            "config.json: use_sliding_window / layer_types: sliding-window attention is not "
            "supported; groundup's Llama attends to the whole context ('full_attention')"
        )
    kwargs: dict[str, Any] = dict(  # Any: Hugging Face may leave head sizes as None
        vocab_size=hf["vocab_size"],
        hidden_size=hf["hidden_size"],
        intermediate_size=hf["intermediate_size"],
        num_hidden_layers=hf["num_hidden_layers"],
        num_attention_heads=hf["num_attention_heads"],
        num_key_value_heads=hf.get("num_key_value_heads"),
        head_dim=hf.get("head_dim"),
        max_position_embeddings=hf.get("max_position_embeddings", 32768 if qwen2 else 2048),
        rope_theta=_rope_theta(hf),
        rms_norm_eps=hf.get("rms_norm_eps", 1e-6),
        tie_word_embeddings=bool(hf.get("tie_word_embeddings", False)),
        attention_bias=False if qwen2 else bool(hf.get("attention_bias", False)),
        qkv_bias=qwen2,
        dropout=float(hf.get("attention_dropout", 0.0)),
    )
    return LlamaConfig(**kwargs)


def ours_to_hf_config(config: LlamaConfig) -> dict[str, Any]:
    """A Hugging Face ``config.json`` dict for our config: Qwen2's when only q, k and v
    have biases, Llama's otherwise. RoPE's base is written both ways (``rope_theta`` for
    transformers 4, ``rope_parameters`` for 5)."""
    qwen2 = config.qkv_bias and not config.attention_bias
    out: dict[str, Any] = {
        "architectures": ["Qwen2ForCausalLM" if qwen2 else "LlamaForCausalLM"],
        "model_type": "qwen2" if qwen2 else "llama",
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "num_key_value_heads": config.num_key_value_heads,
        "head_dim": config.head_dim,
        "max_position_embeddings": config.max_position_embeddings,
        "hidden_act": "silu",
        "rms_norm_eps": config.rms_norm_eps,
        "rope_theta": config.rope_theta,
        "rope_scaling": None,
        "rope_parameters": {"rope_type": "default", "rope_theta": config.rope_theta},
        "attention_dropout": config.dropout,
        "tie_word_embeddings": config.tie_word_embeddings,
        "initializer_range": 0.02,
        "dtype": "float32",
    }
    if qwen2:
        out.update(use_sliding_window=False, sliding_window=None,
                   max_window_layers=config.num_hidden_layers,
                   layer_types=["full_attention"] * config.num_hidden_layers)  # fmt: skip
    else:
        out.update(attention_bias=config.attention_bias, mlp_bias=False)
    return out


def hf_to_groundup_state(state: dict[str, np.ndarray], config: LlamaConfig) -> dict[str, Any]:
    """Hugging Face Llama/Qwen2 tensors -> our state dict (float32)."""
    out: dict[str, Any] = {}
    for name, value in state.items():
        if name.endswith("rotary_emb.inv_freq"):
            continue  # recomputed from rope_theta
        if name == "lm_head.weight" and config.tie_word_embeddings:
            continue  # the same matrix as model.embed_tokens.weight
        out[name] = np.ascontiguousarray(value, dtype=np.float32)
    return out
