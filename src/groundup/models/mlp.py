"""Stage 3: the MLP language model of Bengio et al. (2003), makemore parts 2-5.

The last ``block_size`` characters are looked up in an embedding table (each character a
learned vector of ``n_embd`` numbers), concatenated, and passed through ``n_layers`` hidden
layers ``tanh(BatchNorm(x W^T + b))`` to the logits of the next character:

    idx (B, T) -> embedding (B, T, n_embd) -> flatten (B, T * n_embd)
               -> [linear -> batchnorm? -> tanh] x n_layers -> linear -> logits (B, V)

With ``hierarchical=True`` (makemore part 5, "WaveNet"), each hidden layer instead fuses
*pairs* of neighbouring positions, so that the context is merged slowly, in a tree:
``(B, 8, C) -> (B, 4, H) -> (B, 2, H) -> (B, H)``; ``block_size`` must then be
``2 ** n_layers``.

Initialisation done right (makemore part 3): tanh layers get Kaiming's gain
``(5/3) / sqrt(fan_in)`` so activations keep unit scale without saturating, and the output
layer is scaled down (x 0.1) so that the initial loss is ln(V) rather than a confidently wrong
guess. With BatchNorm the hidden layers' biases are dropped: BatchNorm's own shift (beta)
replaces them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import groundup.nn.fused as F
from groundup import nn
from groundup.models.base import FixedContextLM, _ids
from groundup.tensor import Tensor, no_grad
from groundup.tensor.backend import array_module, to_host

TANH_GAIN = 5 / 3  # Kaiming gain for tanh: makes up for tanh squashing its input
OUTPUT_SCALE = 0.1  # a small output layer: nearly uniform predictions at step 0


def _array_of(buffer: Any) -> np.ndarray:
    """The NumPy array behind a buffer (a Tensor or an array), to update in place."""
    return buffer.data if isinstance(buffer, Tensor) else buffer


class MLPLanguageModel(FixedContextLM, nn.Module):
    """Predict the next character from the previous ``block_size`` ones.

    Args:
        vocab_size: number of tokens V (27 for names: ``.`` and a-z).
        block_size: context length T, the number of previous characters the model sees.
        n_embd: size of each character's embedding vector.
        n_hidden: width of each hidden layer.
        n_layers: number of hidden ``linear -> (batchnorm) -> tanh`` layers.
        batchnorm: insert BatchNorm1d before each tanh (and drop the linear's bias).
        hierarchical: fuse pairs of positions layer by layer (needs block_size = 2**n_layers).
        generator: seed or ``numpy.random.Generator`` for the initial weights.
        dtype: parameter precision, "float32" (default) or "float64".

    >>> model = MLPLanguageModel(27, generator=0)   # the classic config
    >>> model.num_parameters()
    11897
    """

    MODEL_TYPE = "mlp"

    def __init__(
        self,
        vocab_size: int,
        block_size: int = 3,
        n_embd: int = 10,
        n_hidden: int = 200,
        n_layers: int = 1,
        batchnorm: bool = False,
        hierarchical: bool = False,
        *,
        generator: int | np.random.Generator | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__()
        for name, value in [
            ("vocab_size", vocab_size),
            ("block_size", block_size),
            ("n_embd", n_embd),
            ("n_hidden", n_hidden),
            ("n_layers", n_layers),
        ]:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"MLPLanguageModel: {name} must be a positive int, got {value!r}")
        if hierarchical and block_size != 2**n_layers:
            raise ValueError(
                f"MLPLanguageModel: hierarchical=True fuses pairs of positions once per layer, "
                f"so block_size must be 2 ** n_layers = {2**n_layers}, got {block_size}"
            )
        self.vocab_size, self.block_size = int(vocab_size), int(block_size)
        self.n_embd, self.n_hidden, self.n_layers = int(n_embd), int(n_hidden), int(n_layers)
        self.batchnorm, self.hierarchical = bool(batchnorm), bool(hierarchical)
        self.dtype = str(np.dtype(dtype))
        rng = nn.init.as_generator(generator)

        # the table C of the paper: one learned vector per character
        self.wte = nn.Embedding(vocab_size, n_embd, generator=rng, dtype=dtype)
        # a hidden layer sees the whole flattened context, or (hierarchical) two positions
        fan_ins = [(2 if hierarchical else block_size) * n_embd]
        fan_ins += [(2 if hierarchical else 1) * n_hidden] * (n_layers - 1)
        self.linears = nn.ModuleList(
            [
                nn.Linear(f, n_hidden, bias=not batchnorm, generator=rng, dtype=dtype)
                for f in fan_ins
            ]
        )
        self.norms = nn.ModuleList(
            [nn.BatchNorm1d(n_hidden, dtype=dtype) for _ in fan_ins] if batchnorm else []
        )
        self.lm_head = nn.Linear(n_hidden, vocab_size, generator=rng, dtype=dtype)
        self._init_weights(rng)
        self.record_activations = False  # set True to keep tanh outputs for diagnostics
        self.activations: dict[str, Tensor] = {}

    def _init_weights(self, rng: np.random.Generator) -> None:
        with no_grad():
            self.wte.weight.data[...] = rng.standard_normal(self.wte.weight.shape)
            for linear in self.linears:
                fan_in = linear.weight.shape[1]
                linear.weight.data[...] = (
                    rng.standard_normal(linear.weight.shape) * TANH_GAIN / math.sqrt(fan_in)
                )
                if linear.bias is not None:
                    linear.bias.data[...] = 0.0
            self.lm_head.weight.data[...] = (
                rng.standard_normal(self.lm_head.weight.shape)
                * OUTPUT_SCALE
                / math.sqrt(self.n_hidden)
            )
            if self.lm_head.bias is not None:
                self.lm_head.bias.data[...] = 0.0

    def model_kwargs(self) -> dict[str, Any]:
        """The constructor arguments, JSON-able, for ``groundup.models.build_model``."""
        return {
            "vocab_size": self.vocab_size,
            "block_size": self.block_size,
            "n_embd": self.n_embd,
            "n_hidden": self.n_hidden,
            "n_layers": self.n_layers,
            "batchnorm": self.batchnorm,
            "hierarchical": self.hierarchical,
            "dtype": self.dtype,
        }

    @staticmethod
    def sizes_from_state(state: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, int]:
        """The sizes a state dict's shapes imply, checked against a config before building."""
        vocab_size, n_embd = state["wte.weight"].shape
        n_layers = len({k.split(".")[1] for k in state if k.startswith("linears.")})
        n_hidden, fan_in = state["linears.0.weight"].shape
        sizes = {"vocab_size": vocab_size, "n_embd": n_embd, "n_layers": n_layers,
                 "n_hidden": n_hidden}  # fmt: skip
        if not kwargs.get("hierarchical"):  # the first layer sees the whole context
            sizes["block_size"] = fan_in // n_embd
        return sizes

    # -- the forward pass ---------------------------------------------------------------

    def forward(self, idx: Any, targets: Any = None) -> tuple[Tensor, Tensor | None]:
        """Logits (B, V) of the character after each context ``idx`` (B, block_size);
        the mean cross-entropy against ``targets`` (B,) when given."""
        idx = self._check_idx(idx)
        if self.record_activations:
            self.activations = {}
        x = self._hidden(idx)  # (B, n_hidden)
        logits = self.lm_head(x)  # (B, V)
        loss = None if targets is None else F.cross_entropy(logits, _ids(targets, "targets"))
        return logits, loss

    def _check_idx(self, idx: Any) -> np.ndarray:
        ids = _ids(idx)
        if ids.ndim != 2 or ids.shape[1] != self.block_size:
            raise ValueError(
                f"MLPLanguageModel.forward: idx must have shape (B, block_size={self.block_size}),"
                f" got {ids.shape}"
            )
        return ids

    def _hidden(self, idx: np.ndarray, stop: int | None = None) -> Tensor:
        """The last hidden layer's output (B, n_hidden); with ``stop=i``, layer i's
        linear output before its BatchNorm, as rows (N, n_hidden) (for calibration)."""
        B, T = idx.shape
        x = F.embedding(idx, self.wte.weight)  # (B, T, n_embd)
        if not self.hierarchical:
            x = x.reshape(B, T * self.n_embd)  # (B, T * n_embd): the concatenated context
        for i, linear in enumerate(self.linears):
            if self.hierarchical:
                x = x.reshape(-1, 2 * x.shape[-1])  # (B * T/2, 2C): neighbours side by side
            x = linear(x)  # (N, n_hidden)
            if i == stop:
                return x
            if self.batchnorm:
                x = self.norms[i](x)
            x = x.tanh()
            if self.hierarchical:
                x = x.reshape(B, -1, self.n_hidden)  # (B, T/2, n_hidden)
            if self.record_activations:
                x.retain_grad()  # keep its gradient too, for the gradient histograms
                self.activations[f"layer {i} tanh"] = x
        return x.reshape(B, self.n_hidden)  # hierarchical: the tree merged the context

    def calibrate_batchnorm(self, X: Any, batch_size: int = 8192) -> None:
        """Set every BatchNorm's running statistics to the exact mean and (unbiased) variance
        of its input over the contexts ``X`` (makemore part 3: "calibrate the batch norm at
        the end of training"), layer by layer so each layer sees calibrated inputs.

        The running averages of training follow the weights with a lag and the noise of
        32-example batches; the population statistics of the training set do neither.
        """
        if not self.batchnorm:
            return
        X = self._check_idx(X)
        with nn.evaluating(self):
            for i, norm in enumerate(self.norms):
                total = np.zeros(self.n_hidden)
                total_sq = np.zeros(self.n_hidden)
                n = 0
                for start in range(0, len(X), batch_size):
                    h = to_host(self._hidden(X[start : start + batch_size], stop=i).data)
                    h = h.reshape(-1, self.n_hidden).astype(np.float64)
                    total += h.sum(axis=0)
                    total_sq += (h * h).sum(axis=0)
                    n += len(h)
                mean = total / n
                var = (total_sq - n * mean * mean) / max(n - 1, 1)
                xp = array_module(_array_of(norm.running_mean))  # the model's device
                _array_of(norm.running_mean)[...] = xp.asarray(mean)
                _array_of(norm.running_var)[...] = xp.asarray(var)
