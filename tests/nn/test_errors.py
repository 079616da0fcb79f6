"""Every argument the layers, modules and initialisers refuse, as one table: the exception
type and the argument the one-line message must name, not its exact wording (issue 14).

The functional ops' refusals stay in test_functional.py and test_conv.py: they run on every
tier (composed, fused, kernels off) and pin PyTorch's own wording and exception types."""

from __future__ import annotations

import numpy as np
from error_table import refusal_test

import groundup.nn as nn
from groundup.nn import init


def P(*shape: int) -> nn.Parameter:
    return nn.Parameter(np.zeros(shape, dtype=np.float64))


def forgot_super_init() -> None:
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    Bad()


def buffer_over_a_parameter() -> None:
    layer = nn.Linear(1, 1)
    layer.register_buffer("weight", np.zeros(1))


def batchnorm_wrong_width() -> None:
    nn.BatchNorm1d(3)(np.ones((2, 4)))


def transpose_output_size() -> None:
    up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    up(np.zeros((1, 2, 4, 4), dtype=np.float32), output_size=(9, 9))


CONVS = [nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d]

CASES = [
    # (id, a call that must fail, the exception, what its message must name)
    ("linear-in_features", lambda: nn.Linear(0, 3), ValueError, "in_features"),
    ("linear-out_features", lambda: nn.Linear(3, -1), ValueError, "out_features"),
    ("linear-in_features-bool", lambda: nn.Linear(True, 3), ValueError, "in_features"),
    ("linear-in_features-float", lambda: nn.Linear(3.0, 3), ValueError, "in_features"),
    ("linear-generator", lambda: nn.Linear(3, 3, generator="seed"), TypeError, "generator"),
    ("embedding-num_embeddings", lambda: nn.Embedding(0, 4), ValueError, "num_embeddings"),
    ("embedding-embedding_dim", lambda: nn.Embedding(4, 0), ValueError, "embedding_dim"),
    ("embedding-padding_idx", lambda: nn.Embedding(4, 2, padding_idx=4), AssertionError,
     "padding_idx"),
    ("batchnorm-num_features", lambda: nn.BatchNorm1d(0), ValueError, "num_features"),
    ("batchnorm-input-width", batchnorm_wrong_width, ValueError, "BatchNorm1d"),
    ("dropout-p-above-one", lambda: nn.Dropout(1.5), ValueError, "p must"),
    ("dropout-p-bool", lambda: nn.Dropout(True), ValueError, "p must"),
    ("dropout-generator", lambda: nn.Dropout(0.1, generator=1.5), TypeError, "generator"),
    ("gelu-approximate", lambda: nn.GELU("erf"), ValueError, "approximate"),
    # the convolutions: sizes, groups, kernel, padding and its mode
    *[(f"{c.__name__}-{arg}", lambda c=c, a=args: c(*a), ValueError, arg)
      for c in CONVS
      for arg, args in [("in_channels", (0, 4, 3)), ("out_channels", (3, 0, 3))]],
    ("conv-groups-zero", lambda: nn.Conv2d(3, 4, 3, groups=0), ValueError, "groups"),
    ("conv-groups-not-dividing", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, "groups"),
    ("conv-kernel_size-three", lambda: nn.Conv2d(3, 4, (3, 3, 3)), ValueError, "kernel_size"),
    ("conv-kernel_size-zero", lambda: nn.Conv1d(3, 4, 0), ValueError, "kernel_size"),
    ("conv-stride-three", lambda: nn.Conv2d(3, 4, 3, stride=(1, 1, 1)), ValueError, "stride"),
    ("conv-dilation-three", lambda: nn.Conv2d(3, 4, 3, dilation=(1, 1, 1)), ValueError,
     "dilation"),
    ("conv-padding-three", lambda: nn.Conv2d(3, 4, 3, padding=(1, 1, 1)), ValueError,
     "padding"),
    ("conv-padding-string", lambda: nn.Conv2d(3, 4, 3, padding="full"), ValueError, "padding"),
    ("conv-padding-same-strided", lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"),
     ValueError, "padding='same'"),
    ("conv-padding_mode", lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), ValueError,
     "padding_mode"),
    ("conv-transpose-padding_mode", lambda: nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"),
     ValueError, "padding_mode"),
    ("conv-transpose-padding-same", lambda: nn.ConvTranspose2d(3, 4, 3, padding="same"),
     ValueError, "padding"),
    ("conv-transpose-output_size", transpose_output_size, ValueError, "output_size"),
    # modules
    ("module-train-mode", lambda: nn.Linear(1, 1).train("yes"), ValueError, "mode"),
    ("module-forgot-super-init", forgot_super_init, AttributeError, "super().__init__()"),
    ("module-buffer-over-parameter", buffer_over_a_parameter, KeyError, "'weight'"),
    ("modulelist-has-no-forward", lambda: nn.ModuleList()(1), NotImplementedError, "forward"),
    # initialisers
    ("init-gain-nonlinearity", lambda: init.calculate_gain("swish"), ValueError, "swish"),
    ("init-fans-of-a-vector", lambda: init.kaiming_normal_(P(3)), ValueError, "2 dims"),
    ("init-kaiming-mode", lambda: init.kaiming_normal_(P(3, 3), mode="fan"), ValueError, "mode"),
    ("init-kaiming-uniform-mode", lambda: init.kaiming_uniform_(P(3, 3), mode="in"), ValueError,
     "mode"),
    ("init-xavier-of-a-vector", lambda: init.xavier_uniform_(P(3)), ValueError, "2 dims"),
    ("init-generator", lambda: init.normal_(P(5), generator="seed"), TypeError, "generator"),
    # found by the tables' author; each was accepted or failed later without a name
    ("layernorm-normalized_shape-zero", lambda: nn.LayerNorm(0), ValueError, "normalized_shape"),
    ("layernorm-normalized_shape-negative", lambda: nn.LayerNorm((4, -1)), ValueError,
     "normalized_shape"),
    ("layernorm-eps-negative", lambda: nn.LayerNorm(4, eps=-1.0), ValueError, "eps"),
    ("rmsnorm-normalized_shape-zero", lambda: nn.RMSNorm(0), ValueError, "normalized_shape"),
    ("embedding-padding_idx-float", lambda: nn.Embedding(4, 2, padding_idx=1.5), TypeError,
     "padding_idx"),
    ("batchnorm-momentum-above-1", lambda: nn.BatchNorm1d(3, momentum=2.0), ValueError,
     "momentum"),
    ("conv2d-stride-zero", lambda: nn.Conv2d(1, 1, 3, stride=0), ValueError, "stride"),
    ("conv1d-dilation-zero", lambda: nn.Conv1d(1, 1, 3, dilation=0), ValueError, "dilation"),
]  # fmt: skip


test_refused_naming_the_argument = refusal_test(CASES)
