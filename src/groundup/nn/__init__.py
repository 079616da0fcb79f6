"""Neural-network building blocks on the tensor engine, shaped like ``torch.nn``.

* :mod:`.module`: ``Module`` (registration, parameters, train/eval, state_dict) and
  ``Parameter``.
* :mod:`.layers`: ``Linear``, ``Embedding``, ``LayerNorm``, ``RMSNorm``, ``BatchNorm1d``,
  ``Dropout``, ``Tanh``, ``ReLU``, ``GELU``, ``Sequential``, ``ModuleList``, ``ModuleDict``.
* :mod:`.init`: initialisers (``normal_``, ``kaiming_normal_`` ...).
* :mod:`.functional`: the functions (``F.cross_entropy``, ``F.layer_norm`` ...), each
  composed from primitive ops: the definitions to read.
* :mod:`.fused`: the same functions as fused kernels with hand-derived backwards, what the
  layers and models run (bound to the definitions by a test).
"""

from groundup.nn import functional, fused, init
from groundup.nn.layers import (
    GELU,
    BatchNorm1d,
    Dropout,
    Embedding,
    LayerNorm,
    Linear,
    ModuleDict,
    ModuleList,
    ReLU,
    RMSNorm,
    Sequential,
    Tanh,
)
from groundup.nn.module import Module, Parameter, evaluating

__all__ = [
    "GELU",
    "BatchNorm1d",
    "Dropout",
    "Embedding",
    "LayerNorm",
    "Linear",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "RMSNorm",
    "Sequential",
    "Tanh",
    "evaluating",
    "functional",
    "fused",
    "init",
]
