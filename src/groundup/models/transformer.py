"""What the two decoder-only Transformers of the journey share: GPT (stage 4) and Llama (stage 5).

Both are ``forward(idx, targets=None) -> (logits, loss)`` over (B, T) token ids, start from
GPT-2's initialisation, decay only their matrices in AdamW, and generate with a KV cache.
The pieces, in the order a model uses them:

* :class:`TransformerConfig` - what the two configs share: the checks of their sizes,
  dropout and init, and presets;
* :func:`as_ids` and :func:`lm_loss` - the ids in, the mean cross-entropy out;
* :func:`init_gpt2_` and :func:`init_pytorch_` - the two initialisations (``init="gpt2"``,
  ``init="pytorch"``);
* :func:`decay_groups` - AdamW's parameter groups;
* :class:`KVCache` - the keys and values of the tokens seen so far, per layer;
* :class:`TransformerLM` - the methods the two models share: ``forward`` (embed, every
  block, the final norm, the head), ``generate`` (the prompt once, then one token per step
  through the cache, restarted from the last half context when it is full), the
  initialisation, ``optim_groups``, and the constructor arguments a checkpoint records.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import asdict, fields
from typing import Any, TypeVar

import numpy as np

from groundup import _check, nn
from groundup.models.sampling import as_generator, sample_next
from groundup.nn import fused as F
from groundup.tensor import Tensor
from groundup.tensor.backend import get_device, to_host

INITS = ("gpt2", "pytorch")

# --------------------------------------------------------------------------- configs

_Config = TypeVar("_Config", bound="TransformerConfig")


class TransformerConfig:
    """What GPTConfig and LlamaConfig share (each a dataclass with ``dropout`` and ``init``
    fields): the checks their ``__post_init__`` runs, and building one from a preset or
    from another config with some fields overridden."""

    dropout: float
    init: str

    def _check_sizes(self, names: Iterable[str]) -> None:
        """Each named field is a positive int: ``n_layer must be a positive int, got 0``."""
        for name in names:
            _check.positive_int(getattr(self, name), name)

    def _check_training(self) -> None:
        """``dropout`` in [0, 1) and ``init`` one of :data:`INITS`."""
        real = isinstance(self.dropout, numbers.Real) and not isinstance(self.dropout, bool)
        if not real or not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")

    @classmethod
    def _from_preset(
        cls: type[_Config], presets: dict[str, dict[str, Any]], name: str, overrides: Any
    ) -> _Config:
        if name not in presets:
            raise ValueError(f"preset must be one of {sorted(presets)}, got {name!r}")
        return cls(**{**presets[name], **overrides})

    @classmethod
    def _overridden(cls: type[_Config], config: Any, overrides: dict[str, Any]) -> _Config:
        """A fresh config: the fields of ``config`` (the defaults when None), then
        ``overrides``."""
        return cls(**{**(asdict(config) if config else {}), **overrides})


# --------------------------------------------------------------------------- ids and loss


def as_ids(idx: Any, name: str = "idx") -> np.ndarray:
    """Token ids as an int64 array (B, T); accepts lists, arrays and int Tensors."""
    data = idx.data if isinstance(idx, Tensor) else np.asarray(idx)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2 or not np.issubdtype(data.dtype, np.integer):
        raise ValueError(f"{name} must be ints of shape (B, T), got {data.dtype} {data.shape}")
    return data.astype(np.int64, copy=False)


def lm_loss(logits: Tensor, targets: Any) -> Tensor | None:
    """The mean cross-entropy of logits (B, T, V) against targets (B, T); targets of -1 are
    padding and ignored. None without targets."""
    if targets is None:
        return None
    targets = as_ids(targets, "targets")
    if targets.shape != logits.shape[:2]:
        raise ValueError(
            f"targets must have the shape of idx {logits.shape[:2]}, got {targets.shape}"
        )
    return F.cross_entropy(logits, targets, ignore_index=-1)


# --------------------------------------------------------------------------- initialisation


def init_gpt2_(
    model: nn.Module, rng: np.random.Generator, n_layer: int, residual: str | tuple[str, ...]
) -> None:
    """GPT-2's initialisation: N(0, 0.02) weights and embeddings, zero biases, unit norm
    gains; the projections that write into the residual stream (names ending in
    ``residual``) get std 0.02 / sqrt(2 * n_layer), so the stream's variance does not grow
    with depth (each block adds two such branches)."""
    residual_std = 0.02 / math.sqrt(2 * n_layer)
    for name, p in model.named_parameters():
        if name.endswith(residual):
            nn.init.normal_(p, mean=0.0, std=residual_std, generator=rng)
        elif name.endswith(".weight") and p.ndim == 2:  # Linear and Embedding
            nn.init.normal_(p, mean=0.0, std=0.02, generator=rng)
        elif name.endswith("weight"):  # the gains of LayerNorm and RMSNorm
            nn.init.ones_(p)
        else:  # biases
            nn.init.zeros_(p)


def init_pytorch_(model: nn.Module, rng: np.random.Generator) -> None:
    """PyTorch's layer defaults, as in the course notebook's model: Linear weights and
    biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), embeddings N(0, 1), norm gains 1, biases 0.
    Larger than GPT-2's 0.02, which trains a small model faster in a short run."""
    modules = dict(model.named_modules())
    for name, p in model.named_parameters():
        owner = modules.get(name.rsplit(".", 1)[0])
        if isinstance(owner, nn.Embedding):
            p.data[...] = rng.standard_normal(p.shape)
        elif isinstance(owner, nn.Linear):
            bound = 1.0 / math.sqrt(owner.weight.shape[1])
            p.data[...] = rng.uniform(-bound, bound, p.shape)
        elif name.endswith("weight"):  # norm gains
            p.data[...] = 1.0
        else:
            p.data[...] = 0.0


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW parameter groups: decay the matrices (Linear weights, embeddings), not the
    biases and norm gains, whose scale is not a capacity to be regularised."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return [
        {"params": decay, "weight_decay": float(weight_decay)},
        {"params": no_decay, "weight_decay": 0.0},
    ]


# --------------------------------------------------------------------------- the KV cache


class KVCache:
    """Keys and values of the tokens seen so far, one preallocated buffer per layer.

    Incremental decoding feeds one new token at a time; its query attends to the cached
    keys and values instead of recomputing them for the whole context (O(T) instead of
    O(T^2) work per token). Buffers are (B, H_kv, capacity, D), where H_kv is the number
    of key/value heads (all heads for GPT, fewer for grouped-query attention); ``length``
    positions are filled.

    Args:
        config: the model's config; its ``kv_cache_shape()`` gives (layers, kv heads,
            context, head size).
        batch: sequences decoded side by side.
        dtype: of the buffers (the model's).
        capacity: positions to allocate, at most the context (default: the context).
        device: where the buffers live, the model's ("cpu" by default).
    """

    def __init__(
        self,
        config: Any,
        batch: int,
        dtype: Any,
        capacity: int | None = None,
        device: Any = None,
    ) -> None:
        n_layer, n_kv_head, context, head_dim = config.kv_cache_shape()
        self.capacity = context if capacity is None else min(int(capacity), context)
        shape = (batch, n_kv_head, self.capacity, head_dim)
        xp = np if device is None else get_device(device).xp
        self.k = [xp.empty(shape, dtype=dtype) for _ in range(n_layer)]
        self.v = [xp.empty(shape, dtype=dtype) for _ in range(n_layer)]
        self.length = 0  # positions filled; advanced by the model once every layer appended

    @property
    def bytes_per_token(self) -> int:
        """Memory one position takes, keys and values of every layer and sequence."""
        B, H, _, D = self.k[0].shape
        return 2 * len(self.k) * B * H * D * self.k[0].itemsize

    def append(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store k, v (B, H_kv, T, D) after the cached ones; return all keys and values so far."""
        start, end = self.length, self.length + k.shape[2]
        if end > self.capacity:
            raise ValueError(
                f"KVCache: {end} positions exceed its capacity {self.capacity}; "
                "restart the cache from a shorter window"
            )
        self.k[layer][:, :, start:end] = k.data
        self.v[layer][:, :, start:end] = v.data
        # views of the buffers, not copies (and at their dtype: a float64 model stays float64)
        return Tensor._wrap(self.k[layer][:, :, :end]), Tensor._wrap(self.v[layer][:, :, :end])

    def visible(self, T: int) -> np.ndarray | None:
        """Which keys T new queries may see, as an attention mask (T, length + T), True =
        may attend: new token i sits at position length + i and sees keys 0 .. length + i.
        None for one new token (it sees every key: no mask needed)."""
        if T == 1:
            return None
        rows = np.arange(T)[:, None] + self.length
        return np.arange(self.length + T)[None, :] <= rows

    def reset(self) -> None:
        """Empty the cache; the next token is position 0 again."""
        self.length = 0


# --------------------------------------------------------------------------- the shared methods


class TransformerLM:
    """What GPT and Llama share as language models: the forward pass around their blocks,
    generation, the initialisation, and the checkpoint contract.

    A model using it names its dataclass config in ``config_class`` and the weights that
    write into the residual stream in ``residual_projections``, and provides ``config``
    (with ``block_size``, the context it sees, ``kv_cache_shape()`` and ``init``) and two
    methods: ``_embed(ids, start)``, the vectors (B, T, C) of ids at positions start ..
    start + T - 1 and what its blocks take besides them, and ``_decoder()``, its blocks,
    final norm and head weight (V, C).
    """

    config: Any
    config_class: Any
    residual_projections: tuple[str, ...]

    def forward(self, idx: Any, targets: Any = None) -> tuple[Tensor, Tensor | None]:
        """Logits (B, T, vocab_size) for token ids idx (B, T); with targets (B, T), also the
        mean cross-entropy (targets of -1 are padding and ignored)."""
        logits = self._logits(as_ids(idx))
        return logits, lm_loss(logits, targets)

    def _logits(
        self, idx: np.ndarray, cache: KVCache | None = None, last_only: bool = False
    ) -> Tensor:
        """The logits of ids (B, T) that follow the ``cache.length`` cached tokens (none
        without a cache); with ``last_only``, of the last position only."""
        T = idx.shape[1]
        start = cache.length if cache is not None else 0
        x, extra = self._embed(idx, start)  # (B, T, C), and what every block takes besides
        blocks, norm, head = self._decoder()
        for layer, block in enumerate(blocks):
            x = block(x, *extra, cache, layer)  # (B, T, C)
        if cache is not None:
            cache.length += T
        if last_only:
            x = x[:, -1:, :]  # (B, 1, C): generation needs only the next token's logits
        return F.linear(norm(x), head)  # (B, T, V)

    def _embed(self, idx: np.ndarray, start: int) -> tuple[Tensor, tuple[Any, ...]]:
        raise NotImplementedError

    def _decoder(self) -> tuple[Any, Any, Tensor]:
        raise NotImplementedError

    def _init_weights(self, rng: np.random.Generator, n_layer: int) -> None:
        """GPT-2's initialisation (the ``residual_projections`` scaled by 1/sqrt(2 n_layer)),
        or PyTorch's layer defaults with ``init="pytorch"``: both models start alike, so
        they compare fairly."""
        if self.config.init == "pytorch":
            init_pytorch_(self, rng)  # type: ignore[arg-type]
        else:
            init_gpt2_(self, rng, n_layer, residual=self.residual_projections)  # type: ignore[arg-type]

    def model_kwargs(self) -> dict[str, Any]:
        """Constructor arguments as JSON-able values (rebuilt by ``build_model``)."""
        return asdict(self.config)

    @classmethod
    def from_model_kwargs(cls, kwargs: dict[str, Any]) -> Any:
        """The model of a checkpoint's ``model_kwargs`` (fields it does not know are skipped)."""
        known = {f.name for f in fields(cls.config_class)}
        config = cls.config_class(**{k: v for k, v in kwargs.items() if k in known})
        return cls(config)  # type: ignore[call-arg]

    def optim_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        """AdamW parameter groups: decay the matrices (Linear weights, embeddings), not the
        biases and norm gains, whose scale is not a capacity to be regularised."""
        return decay_groups(self, weight_decay)  # type: ignore[arg-type]

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
        tokens (one forward pass over half a block), then grows again: it cannot just drop
        its oldest token, because every cached key depends on the tokens before it (GPT's
        through its learned absolute position; in both models, above the first layer,
        through the hidden states that attended to the token being dropped). Without the
        cache each step recomputes the last block_size tokens (nanoGPT's way). Within
        block_size the two give identical logits.
        """
        ids = as_ids(idx)
        if not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be a non-negative int, got {max_new_tokens!r}")
        if ids.shape[1] == 0:
            raise ValueError("idx must hold at least one token to continue from, got none")
        rng = as_generator(seed)
        block = self.config.block_size
        keep = max(1, block // 2)  # context that survives a restart of the cache
        with nn.evaluating(self):  # type: ignore[arg-type]
            if use_cache:  # room for the prompt and every new token, up to the context
                room = min(ids.shape[1], block) + max_new_tokens
                cache = KVCache(
                    self.config, ids.shape[0], self._dtype(), capacity=room, device=self._device()
                )
                logits = self._logits(ids[:, -block:], cache, last_only=True)  # the prompt
            for i in range(max_new_tokens):
                if not use_cache:
                    logits = self._logits(ids[:, -block:], last_only=True)
                # the last logits (B, V) come to the host, where the ids and the rng live
                last = to_host(logits.data[:, -1, :])
                nxt = sample_next(last, rng, temperature, top_k, top_p)
                ids = np.concatenate([ids, nxt[:, None]], axis=1)  # (B, T + 1)
                if not use_cache or i == max_new_tokens - 1:
                    continue
                if cache.length < cache.capacity:  # room for one more position: the new token
                    logits = self._logits(nxt[:, None], cache, last_only=True)
                else:  # full: rebuild the cache from the most recent `keep` tokens
                    cache.reset()
                    logits = self._logits(ids[:, -keep:], cache, last_only=True)
        return ids

    def _dtype(self) -> Any:
        return next(iter(self.parameters())).data.dtype  # type: ignore[attr-defined]

    def _device(self) -> Any:
        return next(iter(self.parameters())).device  # type: ignore[attr-defined]
