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

import json
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from groundup import nn
from groundup.models.sampling import as_generator, sample_next
from groundup.nn import fused as F
from groundup.tensor import Tensor

# --------------------------------------------------------------------------- config


@dataclass
class GPTConfig:
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
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_embd must be a multiple of n_head, got n_embd={self.n_embd}, "
                f"n_head={self.n_head}"
            )
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> GPTConfig:
        """A named size, with any field overridden.

        >>> GPTConfig.preset("baby", vocab_size=27).n_embd
        128
        """
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
        return cls(**{**PRESETS[name], **overrides})


INITS = ("gpt2", "pytorch")

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
        q, k, v = self.qkv(x)  # (B, H, T, D)
        if cache is None:
            p = self.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(
                q, k, v, dropout_p=p, is_causal=True, generator=self._rng
            )  # (B, H, T, D)
        else:
            past = cache.length
            k, v = cache.append(layer, k, v)  # (B, H, past + T, D)
            if past == 0:  # the prompt: an ordinary causal pass
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            elif T == 1:  # one new token may look at every cached one
                y = F.scaled_dot_product_attention(q, k, v)
            else:  # new token i sits at position past + i and sees keys 0 .. past + i
                rows = np.arange(T)[:, None] + past
                mask = np.arange(past + T)[None, :] <= rows  # (T, past + T), True = keep
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C): heads side by side again
        return self.resid_dropout(self.c_proj(y))

    def attention_weights(self, x: Tensor) -> np.ndarray:
        """The attention matrices for x (B, T, C) as an array (B, H, T, T); rows sum to 1.

        The same sum as inside :meth:`forward`, spelled out step by step.
        """
        q, k, _ = self.qkv(x)
        D = q.shape[-1]
        scores = q.data @ np.swapaxes(k.data, -1, -2) / math.sqrt(D)  # (B, H, T, T)
        T = scores.shape[-1]
        future = np.triu(np.ones((T, T), dtype=bool), k=1)  # a token never sees ahead
        scores = np.where(future, -np.inf, scores)
        scores = scores - scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        return weights / weights.sum(axis=-1, keepdims=True)


class KVCache:
    """Keys and values of the tokens seen so far, one preallocated buffer per layer.

    Incremental decoding feeds one new token at a time; its query attends to the cached
    keys and values instead of recomputing them for the whole context (O(T) instead of
    O(T^2) work per token). Buffers are (B, H, block_size, D); ``length`` tokens are filled.
    """

    def __init__(self, config: GPTConfig, batch: int, dtype: Any) -> None:
        shape = (batch, config.n_head, config.block_size, config.n_embd // config.n_head)
        self.k = [np.empty(shape, dtype=dtype) for _ in range(config.n_layer)]
        self.v = [np.empty(shape, dtype=dtype) for _ in range(config.n_layer)]
        self.length = 0  # positions filled; advanced by the model once every layer appended
        self.capacity = config.block_size

    def append(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store k, v (B, H, T, D) after the cached ones; return all keys and values so far."""
        start, end = self.length, self.length + k.shape[2]
        if end > self.capacity:
            raise ValueError(
                f"KVCache: {end} positions exceed block_size {self.capacity}; "
                "restart the cache from a shorter window"
            )
        self.k[layer][:, :, start:end] = k.data
        self.v[layer][:, :, start:end] = v.data
        return Tensor(self.k[layer][:, :, :end]), Tensor(self.v[layer][:, :, :end])


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
        h = F.gelu(self.c_fc(x), approximate="tanh")  # (B, T, 4C)
        return self.dropout(self.c_proj(h))  # (B, T, C)


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


def _as_ids(idx: Any, name: str = "idx") -> np.ndarray:
    """Token ids as an int64 array (B, T); accepts lists, arrays and int Tensors."""
    data = idx.data if isinstance(idx, Tensor) else np.asarray(idx)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2 or not np.issubdtype(data.dtype, np.integer):
        raise ValueError(f"{name} must be ints of shape (B, T), got {data.dtype} {data.shape}")
    return data.astype(np.int64, copy=False)


class GPT(nn.Module):
    """A GPT language model: ``forward(idx, targets=None) -> (logits, loss)``.

    Args:
        config: its shape (:class:`GPTConfig`); keyword fields may be given instead.
        seed: an int or a ``numpy.random.Generator`` for the initial weights and dropout;
            None draws fresh entropy.

    >>> model = GPT(GPTConfig.preset("tiny"), seed=0)  # doctest: +SKIP
    >>> logits, loss = model(x, y)  # x, y: (B, T) int arrays  # doctest: +SKIP
    """

    MODEL_TYPE = "gpt"

    def __init__(
        self, config: GPTConfig | None = None, *, seed: Any = None, **overrides: Any
    ) -> None:
        super().__init__()
        config = GPTConfig(**{**(asdict(config) if config else {}), **overrides})
        self.config = config
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
        self._init_weights(rng)

    def _init_weights(self, rng: np.random.Generator) -> None:
        """GPT-2's initialisation: N(0, 0.02) weights and embeddings, zero biases, unit
        LayerNorm gains; the projections that write into the residual stream (c_proj) get
        std 0.02 / sqrt(2 * n_layer), so the stream's variance does not grow with depth
        (each block adds two such branches)."""
        if self.config.init == "pytorch":
            self._init_weights_pytorch(rng)
            return
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=residual_std, generator=rng)
            elif name.endswith(".weight") and p.ndim == 2:  # Linear and Embedding
                nn.init.normal_(p, mean=0.0, std=0.02, generator=rng)
            elif ".ln_" in name and name.endswith(".weight"):
                nn.init.ones_(p)
            else:  # biases
                nn.init.zeros_(p)

    def _init_weights_pytorch(self, rng: np.random.Generator) -> None:
        """PyTorch's layer defaults, as in the course notebook's model: Linear weights and
        biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), embeddings N(0, 1), LayerNorm 1 and 0.
        Larger than GPT-2's 0.02, which trains a small model faster in a short run."""
        modules = dict(self.named_modules())
        for name, p in self.named_parameters():
            owner = modules.get(name.rsplit(".", 1)[0])
            if isinstance(owner, nn.Embedding):
                p.data[...] = rng.standard_normal(p.shape)
            elif isinstance(owner, nn.Linear):
                bound = 1.0 / math.sqrt(owner.weight.shape[1])
                p.data[...] = rng.uniform(-bound, bound, p.shape)
            elif name.endswith("weight"):  # LayerNorm gains
                p.data[...] = 1.0
            else:
                p.data[...] = 0.0

    # -- the contract of every language model -------------------------------------------

    def model_kwargs(self) -> dict[str, Any]:
        """Constructor arguments as JSON-able values (rebuilt by ``build_model("gpt", ...)``)."""
        return asdict(self.config)

    @staticmethod
    def sizes_from_state(state: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, int]:
        """The sizes a state dict's shapes imply, checked against a config before building."""
        vocab_size, n_embd = state["transformer.wte.weight"].shape
        blocks = {k.split(".")[2] for k in state if k.startswith("transformer.h.")}
        return {"vocab_size": vocab_size, "n_embd": n_embd, "n_layer": len(blocks),
                "block_size": state["transformer.wpe.weight"].shape[0]}  # fmt: skip

    @classmethod
    def from_model_kwargs(cls, kwargs: dict[str, Any]) -> GPT:
        known = {f.name for f in fields(GPTConfig)}
        return cls(GPTConfig(**{k: v for k, v in kwargs.items() if k in known}))

    def forward(self, idx: Any, targets: Any = None) -> tuple[Tensor, Tensor | None]:
        """Logits (B, T, vocab_size) for token ids idx (B, T); with targets (B, T), also the
        mean cross-entropy (targets of -1 are padding and ignored)."""
        logits = self._logits(_as_ids(idx))
        if targets is None:
            return logits, None
        targets = _as_ids(targets, "targets")
        if targets.shape != logits.shape[:2]:
            raise ValueError(
                f"targets must have the shape of idx {logits.shape[:2]}, got {targets.shape}"
            )
        loss = F.cross_entropy(logits, targets, ignore_index=-1)
        return logits, loss

    def _logits(
        self, idx: np.ndarray, cache: KVCache | None = None, last_only: bool = False
    ) -> Tensor:
        B, T = idx.shape
        start = cache.length if cache is not None else 0
        if start + T > self.config.block_size:
            raise ValueError(
                f"idx: sequence length {start + T} exceeds block_size {self.config.block_size}"
            )
        tr = self.transformer
        pos = np.arange(start, start + T)
        x = tr.drop(tr.wte(idx) + tr.wpe(pos))  # (B, T, C) + (T, C) -> (B, T, C)
        for layer, block in enumerate(tr.h):
            x = block(x, cache, layer)  # (B, T, C)
        if cache is not None:
            cache.length += T
        if last_only:
            x = x[:, -1:, :]  # (B, 1, C): generation needs only the next token's logits
        x = tr.ln_f(x)
        head = tr.wte.weight if self.config.tie_weights else self.lm_head.weight  # (V, C)
        return F.linear(x, head)  # (B, T, V)

    # -- generation ----------------------------------------------------------------------

    def generate(
        self,
        idx: Any,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: Any = None,
        use_cache: bool = True,
    ) -> np.ndarray:
        """Continue idx (B, T) by max_new_tokens sampled tokens; returns (B, T + new) ints.

        With ``use_cache`` (the default) the keys and values of past tokens are kept
        (:class:`KVCache`) and each step runs the model on the one new token. When the
        context outgrows block_size the cache restarts from the last block_size // 2
        tokens: learned position embeddings tie every cached key to its position, so a
        window cannot slide one token at a time without recomputing it. Without the
        cache each step recomputes the last block_size tokens (nanoGPT's way).
        Within block_size the two give identical logits.
        """
        ids = _as_ids(idx)
        if not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be a non-negative int, got {max_new_tokens!r}")
        if ids.shape[1] == 0:
            raise ValueError("idx must hold at least one token to continue from, got none")
        rng = as_generator(seed)
        block = self.config.block_size
        keep = max(1, block // 2)  # context that survives a restart of the cache
        with nn.evaluating(self):
            if use_cache:
                cache = KVCache(self.config, ids.shape[0], self._dtype())
                logits = self._logits(ids[:, -block:], cache, last_only=True)  # the prompt
            for i in range(max_new_tokens):
                if not use_cache:
                    logits = self._logits(ids[:, -block:], last_only=True)
                nxt = sample_next(logits.data[:, -1, :], rng, temperature, top_k, top_p)
                ids = np.concatenate([ids, nxt[:, None]], axis=1)  # (B, T + 1)
                if not use_cache or i == max_new_tokens - 1:
                    continue
                if cache.length < block:  # room for one more position: the new token
                    logits = self._logits(nxt[:, None], cache, last_only=True)
                else:  # full: rebuild the cache from the most recent `keep` tokens
                    cache.length = 0
                    logits = self._logits(ids[:, -keep:], cache, last_only=True)
        return ids

    def _dtype(self) -> Any:
        return self.transformer.wte.weight.data.dtype

    # -- optimisation --------------------------------------------------------------------

    def optim_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        """AdamW parameter groups: decay the matrices (Linear weights, embeddings), not the
        biases and LayerNorm gains, whose scale is not a capacity to be regularised."""
        decay = [p for p in self.parameters() if p.ndim >= 2]
        no_decay = [p for p in self.parameters() if p.ndim < 2]
        return [
            {"params": decay, "weight_decay": float(weight_decay)},
            {"params": no_decay, "weight_decay": 0.0},
        ]

    # -- GPT-2 interoperability ----------------------------------------------------------

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike) -> GPT:
        """Load a Hugging Face GPT-2 folder (``config.json`` + ``model.safetensors``).

        GPT-2 small (the ``gpt2`` folder from the Hugging Face hub) loads with 124,439,808
        parameters. A folder with only ``pytorch_model.bin`` is refused: see the message.
        """
        folder = Path(folder)
        config = gpt2_config_to_ours(_read_hf_config(folder))
        state = _read_hf_weights(folder)
        model = cls(config, seed=0)
        model.load_state_dict(hf_to_groundup_state(state, config), strict=True)
        return model

    def save_pretrained(self, folder: str | os.PathLike) -> Path:
        """Write a Hugging Face GPT-2 folder that ``GPT2LMHeadModel.from_pretrained`` opens."""
        from safetensors.numpy import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {name: p.data for name, p in self.named_parameters()}
        hf_state = groundup_to_hf_state(state, self.config)
        tmp = folder / "model.safetensors.tmp"
        save_file(hf_state, str(tmp), metadata={"format": "pt"})
        os.replace(tmp, folder / "model.safetensors")
        text = json.dumps(ours_to_gpt2_config(self.config), indent=2) + "\n"
        (folder / "config.json.tmp").write_text(text, encoding="utf-8")
        os.replace(folder / "config.json.tmp", folder / "config.json")
        return folder


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


def _read_hf_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"folder={str(folder)!r}: no config.json (expected a Hugging "
            "Face GPT-2 folder: config.json + model.safetensors)"
        )
    hf = json.loads(path.read_text(encoding="utf-8"))
    if hf.get("model_type", "gpt2") != "gpt2":
        raise ValueError(f"config.json: model_type must be 'gpt2', got {hf['model_type']!r}")
    return hf


def _read_hf_weights(folder: Path) -> dict[str, np.ndarray]:
    path = folder / "model.safetensors"
    if not path.is_file():
        if (folder / "pytorch_model.bin").is_file():
            raise ValueError(
                f"folder={str(folder)!r} holds only pytorch_model.bin, a Python pickle: "
                "loading a pickle can run arbitrary code, so groundup reads safetensors only. "
                "Convert it once where you trust the file: `from transformers import "
                "GPT2LMHeadModel; GPT2LMHeadModel.from_pretrained(folder)"
                ".save_pretrained(folder, safe_serialization=True)` writes model.safetensors."
            )
        raise FileNotFoundError(f"folder={str(folder)!r}: no model.safetensors")
    from safetensors.numpy import load_file

    return load_file(str(path))


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
