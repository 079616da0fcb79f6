"""Language models of stages 2-5: bigram.py, mlp.py, gpt.py, llama.py.

`build_model(type, kwargs)` rebuilds a model from the `{"type": ..., "kwargs": ...}` entry
of a checkpoint's config.json; each model class names its type in `MODEL_TYPE` and gives
its constructor arguments back through `model_kwargs()`.
"""

from __future__ import annotations

import importlib
from typing import Any

# type -> (module, class); imported on demand so that loading a bigram never imports GPT
MODEL_TYPES = {
    "bigram": ("groundup.models.bigram", "NeuralBigram"),
    "mlp": ("groundup.models.mlp", "MLPLanguageModel"),
    "gpt": ("groundup.models.gpt", "GPT"),
    "llama": ("groundup.models.llama", "Llama"),
}


def model_class(model_type: str) -> type:
    """The class registered for `model_type` ("bigram", "mlp", "gpt" or "llama")."""
    if model_type not in MODEL_TYPES:
        raise ValueError(f"model type must be one of {sorted(MODEL_TYPES)}, got {model_type!r}")
    module, name = MODEL_TYPES[model_type]
    return getattr(importlib.import_module(module), name)


def build_model(model_type: str, kwargs: dict[str, Any] | None = None) -> Any:
    """A fresh model of `model_type` built from its constructor `kwargs`."""
    cls = model_class(model_type)
    kwargs = dict(kwargs or {})
    if hasattr(cls, "from_model_kwargs"):
        return cls.from_model_kwargs(kwargs)
    return cls(**kwargs)
