"""groundup: deep learning from the ground up.

Stage 1 lives in :mod:`groundup.scalar`; stages 2-4 run on the NumPy tensor engine,
whose main names are re-exported here (``groundup.Tensor``, ``groundup.no_grad``,
``groundup.zeros`` ...). They are loaded on first use, so that ``groundup --help``
starts without importing NumPy.
"""

from __future__ import annotations

from groundup._lazy import lazy_exports

__version__ = "0.1.0"

# name -> module that defines it; resolved lazily by __getattr__ (PEP 562). Every name is
# the tensor engine's: its classes, constructors, and the torch.<fn> spellings of its ops
# (groundup.tensor.routines), listed here so that `import groundup` need not load NumPy.
_TENSOR_NAMES = (
    "Tensor", "no_grad", "is_grad_enabled", "zeros", "ones", "randn", "arange", "tensor",
    "cat", "stack", "where", "zeros_like", "ones_like", "full", "full_like", "eye",
    "linspace", "randint",
    # groundup.tensor.routines.__all__ (tests/test_lazy_exports.py keeps the two in step)
    "abs", "acos", "add", "all", "allclose", "amax", "amin", "any", "arccos", "arcsin",
    "arctan", "arctan2", "argmax", "argmin", "argsort", "asin", "atan", "atan2", "ceil",
    "clamp", "clamp_max", "clamp_min", "clip", "cos", "cosh", "cummax", "cummin", "cumprod",
    "cumsum", "diag", "diag_embed", "diagonal", "div", "divide", "einsum", "erf", "exp", "fix",
    "flatten", "flip", "floor", "frac", "gather", "index_select", "isclose", "isfinite",
    "isinf", "isnan", "kthvalue", "log", "log2", "log_softmax", "logsumexp", "masked_fill",
    "masked_select", "matmul", "max", "maximum", "mean", "median", "meshgrid", "min", "minimum",
    "mul", "multiply", "neg", "negative", "nonzero", "numel", "permute", "pow", "prod", "relu",
    "repeat_interleave", "reshape", "roll", "round", "rsqrt", "scatter", "scatter_add",
    "scatter_reduce", "sgn", "sigmoid", "sign", "sin", "sinh", "softmax", "sort", "split",
    "sqrt", "square", "squeeze", "std", "sub", "subtract", "sum", "swapaxes", "swapdims",
    "take_along_dim", "tan", "tanh", "tile", "topk", "trace", "transpose", "tril", "triu",
    "true_divide", "trunc", "unsqueeze", "var",
)  # fmt: skip
_LAZY = dict.fromkeys(_TENSOR_NAMES, "groundup.tensor")

__all__ = ["__version__", *_LAZY]

_tensor_names = lazy_exports(__name__, _LAZY, globals())


def __getattr__(name: str) -> object:
    if name == "cuda":  # the submodule groundup.cuda, as torch.cuda (CuPy stays unimported)
        import importlib

        return importlib.import_module("groundup.cuda")
    return _tensor_names(name)
