"""Neural-network building blocks on the tensor engine, shaped like ``torch.nn``.

* :mod:`.module`: ``Module`` (registration, parameters, train/eval, state_dict) and
  ``Parameter``.
* :mod:`.layers`: ``Linear``, ``Embedding``, ``LayerNorm``, ``RMSNorm``, ``BatchNorm1d``,
  ``Dropout``, ``Tanh``, ``ReLU``, ``GELU``, ``Sequential``, ``ModuleList``, ``ModuleDict``; the
  convolution and pooling layers ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``,
  ``ConvTranspose2d``, ``MaxPool1d``, ``MaxPool2d``, ``AvgPool1d``, ``AvgPool2d``,
  ``AdaptiveAvgPool1d``, ``AdaptiveAvgPool2d``, ``Upsample``, ``Flatten``.
* :mod:`.init`: initialisers (``normal_``, ``kaiming_normal_`` ...).
* :mod:`.functional`: the functions (``F.cross_entropy``, ``F.layer_norm`` ...), each
  composed from primitive ops: the definitions to read.
* :mod:`.fused`: the same functions as fused kernels with hand-derived backwards, what the
  layers and models run (bound to the definitions by a test).
"""

from groundup.nn import functional, fused, init
from groundup.nn.layers import (
    GELU,
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    BatchNorm1d,
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
    Dropout,
    Embedding,
    Flatten,
    LayerNorm,
    Linear,
    MaxPool1d,
    MaxPool2d,
    ModuleDict,
    ModuleList,
    ReLU,
    RMSNorm,
    Sequential,
    Tanh,
    Upsample,
)
from groundup.nn.module import Module, Parameter, evaluating

__all__ = [
    "GELU",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Flatten",
    "MaxPool1d",
    "MaxPool2d",
    "Upsample",
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
