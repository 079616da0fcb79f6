"""Layers: the parts models are built from, each a Module with PyTorch's name, arguments,
default initialisation and repr.

Random initialisation takes ``generator`` (an int seed, a ``numpy.random.Generator`` or
None); pass one shared Generator to build a whole model reproducibly. ``dtype`` defaults to
float32; use ``dtype="float64"`` (or ``model.double()``) for gradient checks.

The forward passes call the fused kernels of :mod:`groundup.nn.fused` (the definitions they
equal are in :mod:`groundup.nn.functional`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import numpy as np

from groundup.nn import fused as F
from groundup.nn import init
from groundup.nn.functional import check_gelu, padding_row
from groundup.nn.module import Module, Parameter
from groundup.tensor import Tensor
from groundup.tensor.backend import default_float


def _dtype(dtype: Any) -> np.dtype:
    return np.dtype(default_float if dtype is None else dtype)


def _empty(shape: tuple[int, ...], dtype: Any) -> Parameter:
    return Parameter(np.zeros(shape, dtype=_dtype(dtype)))


def _check_positive(**sizes: Any) -> None:
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def _shape_tuple(normalized_shape: Any) -> tuple[int, ...]:
    """4, np.int64(4) (from an array's shape) or (4, 5) as a tuple of positive ints."""
    dims = [normalized_shape] if isinstance(normalized_shape, numbers.Integral) else None
    try:
        dims = dims or list(normalized_shape)
    except TypeError:
        dims = [normalized_shape]
    _check_positive(**{f"normalized_shape[{i}]": d for i, d in enumerate(dims)})
    return tuple(int(d) for d in dims)


def _check_non_negative(**numbers_: Any) -> None:
    for name, value in numbers_.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not float(value) >= 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")


def _as_input(x: Any) -> Tensor:
    """Accept a Tensor, or an array (kept at its dtype) for convenience."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    return Tensor(arr, dtype=arr.dtype if arr.dtype.kind == "f" else None)


# ---------------------------------------------------------------- affine and lookup


class Linear(Module):
    """``y = x @ W.T + b`` with ``W`` (out_features, in_features).

    PyTorch's default init: ``W`` and ``b`` ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        generator: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _check_positive(in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        rng = init.as_generator(generator)
        bound = 1.0 / math.sqrt(in_features)
        self.weight = init.uniform_(_empty((out_features, in_features), dtype), -bound, bound, rng)
        self.bias = (
            init.uniform_(_empty((out_features,), dtype), -bound, bound, rng) if bias else None
        )

    def forward(self, x: Any) -> Tensor:
        return F.linear(_as_input(x), self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` (num_embeddings, embedding_dim) is the vector
    of id ``i``. Default init N(0, 1), as PyTorch; the row ``padding_idx`` (if given)
    starts at zero and gets no gradient, so it stays zero through training."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        generator: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _check_positive(num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_row(padding_idx, num_embeddings)
        self.weight = init.normal_(
            _empty((num_embeddings, embedding_dim), dtype), generator=init.as_generator(generator)
        )
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0.0

    def forward(self, idx: Any) -> Tensor:
        return F.embedding(idx, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


# ---------------------------------------------------------------- normalisation


class _Norm(Module):
    """What LayerNorm and RMSNorm share: the last dims they normalise over, eps, and the
    learned scale ``weight`` (ones; None without ``elementwise_affine``)."""

    def __init__(
        self, normalized_shape: Any, eps: Any, elementwise_affine: bool, dtype: Any
    ) -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        if eps is not None:  # RMSNorm's None: the dtype's epsilon
            _check_non_negative(eps=eps)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = (
            init.ones_(_empty(self.normalized_shape, dtype)) if elementwise_affine else None
        )

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class LayerNorm(_Norm):
    """Normalise each sample over its last dims to mean 0, variance 1 (biased variance,
    divided by N), then scale by ``weight`` (ones) and shift by ``bias`` (zeros)."""

    def __init__(
        self,
        normalized_shape: int | Iterable[int],
        eps: float = 1e-5,
        bias: bool = True,
        *,
        elementwise_affine: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__(normalized_shape, eps, elementwise_affine, dtype)
        has_bias = elementwise_affine and bias
        self.bias = init.zeros_(_empty(self.normalized_shape, dtype)) if has_bias else None

    def forward(self, x: Any) -> Tensor:
        return F.layer_norm(_as_input(x), self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, bias={self.bias is not None}"


class RMSNorm(_Norm):
    """Scale each sample over its last dims to root-mean-square 1, then by ``weight``
    (ones): LayerNorm without the mean and the bias (Llama's norm). ``eps=None`` is the
    dtype's machine epsilon, as PyTorch's ``nn.RMSNorm``."""

    def __init__(
        self,
        normalized_shape: int | Iterable[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        super().__init__(normalized_shape, eps, elementwise_affine, dtype)

    def forward(self, x: Any) -> Tensor:
        return F.rms_norm(_as_input(x), self.normalized_shape, self.weight, self.eps)


class BatchNorm1d(Module):
    """Normalise each feature over the batch (Ioffe & Szegedy, 2015); input (N, C) or
    (N, C, L).

    Training uses the batch's mean and (biased) variance, and moves the running estimates
    toward them: ``running = (1 - momentum) * running + momentum * batch`` (the running
    variance takes the unbiased batch variance, as PyTorch); ``momentum=None`` keeps the
    plain average of all batches seen, as PyTorch. Eval mode uses the running
    estimates, so a single example gives a deterministic answer.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _check_positive(num_features=num_features)
        _check_non_negative(eps=eps)
        if momentum is not None and not (
            isinstance(momentum, numbers.Real) and 0 <= float(momentum) <= 1
        ):
            raise ValueError(f"momentum must be a number in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine = affine
        self.weight = init.ones_(_empty((num_features,), dtype)) if affine else None
        self.bias = init.zeros_(_empty((num_features,), dtype)) if affine else None
        self.register_buffer("running_mean", np.zeros(num_features, dtype=_dtype(dtype)))
        self.register_buffer("running_var", np.ones(num_features, dtype=_dtype(dtype)))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d: expected input (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got {x.shape}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum  # (eval uses none)
        if self.training:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # PyTorch's cumulative average: batch k weighs 1/k
                momentum = 1.0 / float(self.num_batches_tracked.data)
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            self.training, momentum, self.eps,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.affine}, track_running_stats=True"
        )


# ---------------------------------------------------------------- regularisation


class Dropout(Module):
    """In training, zero each entry with probability ``p`` and scale the survivors by
    ``1 / (1 - p)`` (expected value unchanged); in eval mode, the identity.

    The module owns its Generator (``generator``: int seed, Generator or None); checkpoints
    save its state so a resumed run draws the same masks.
    """

    def __init__(self, p: float = 0.5, *, generator: Any = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not (isinstance(p, numbers.Real) and 0.0 <= p <= 1.0):
            raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
        self.p: float = float(p)
        self.generator: Any = init.as_generator(generator)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(_as_input(x), self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ---------------------------------------------------------------- activations


class Tanh(Module):
    """``tanh(x)``, squashing to (-1, 1)."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(_as_input(x))


class ReLU(Module):
    """``max(x, 0)``."""

    def forward(self, x: Any) -> Tensor:
        return F.relu(_as_input(x))


class GELU(Module):
    """GELU, x Phi(x) with Phi the normal CDF; ``approximate="tanh"`` is GPT-2's form. The
    default is PyTorch's, the exact one (``"none"``)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        check_gelu(approximate)
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return F.gelu(_as_input(x), approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


# ---------------------------------------------------------------- convolution and pooling
# Each layer holds its arguments and calls the function of the same name in F; the weights
# and their initialisation are PyTorch's.


def _tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    """An int or n ints as an n-tuple of ints (PyTorch's ``_pair``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value),) * n
    t = tuple(value)
    if len(t) != n or not all(isinstance(v, numbers.Integral) for v in t):
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(int(v) for v in t)


class _Conv(Module):
    """What the convolution layers share: arguments (PyTorch's, in its order), weight, bias,
    forward, repr. A subclass names its spatial dims, ``_dims`` (1: (N, C, L), 2: (N, C, H,
    W)), and the function of F it calls, ``_function``.

    Weight (out, in / groups, *kernel) (transposed: (in, out / groups, *kernel)); PyTorch's
    default init, ``kaiming_uniform_(a=sqrt(5))``, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    with fan_in = weight.shape[1] * kernel entries, and the bias from the same range.
    """

    _MODES = ("zeros", "reflect", "replicate", "circular")
    _dims: int
    _function: Any
    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        generator: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        n, transposed = self._dims, self.transposed
        _check_positive(in_channels=in_channels, out_channels=out_channels, groups=groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by groups ({groups})"
            )
        if padding_mode not in self._MODES or (transposed and padding_mode != "zeros"):
            allowed = ["zeros"] if transposed else list(self._MODES)
            raise ValueError(f"padding_mode must be one of {allowed}, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, n, "kernel_size")
        if min(self.kernel_size) < 1:
            raise ValueError(f"kernel_size must be positive, got {kernel_size!r}")
        self.stride, self.dilation = _tuple(stride, n, "stride"), _tuple(dilation, n, "dilation")
        _check_positive(**{f"stride[{i}]": v for i, v in enumerate(self.stride)},
                        **{f"dilation[{i}]": v for i, v in enumerate(self.dilation)})  # fmt: skip
        self.output_padding = (0,) * n  # a transposed convolution's own argument
        if isinstance(padding, str):
            if transposed or padding not in ("valid", "same"):
                raise ValueError(
                    f"padding must be an int, a tuple or 'valid' / 'same', got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding: Any = padding
        else:
            self.padding = _tuple(padding, n, "padding")
        self.padding_mode = padding_mode
        shape = (
            (in_channels, out_channels // groups)
            if transposed
            else (out_channels, in_channels // groups)
        )
        rng = init.as_generator(generator)
        self.weight = init.kaiming_uniform_(
            _empty(shape + self.kernel_size, dtype),
            a=math.sqrt(5),
            nonlinearity="leaky_relu",
            generator=rng,
        )
        fan_in = shape[1] * math.prod(self.kernel_size)
        bound = 1.0 / math.sqrt(fan_in)
        self.bias = (
            init.uniform_(_empty((out_channels,), dtype), -bound, bound, rng) if bias else None
        )

    def forward(self, x: Any) -> Tensor:
        x, padding = self._padded(_as_input(x))
        return self._function(
            x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )

    def _padded(self, x: Tensor) -> tuple[Tensor, Any]:
        """(input, padding for F): a padding_mode other than zeros pads first, with F.pad."""
        if self.padding_mode == "zeros":
            return x, self.padding
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size, strict=True)]
            sides = [(t // 2, t - t // 2) for t in totals]
        else:
            pads = (0,) * len(self.kernel_size) if self.padding == "valid" else self.padding
            sides = [(p, p) for p in pads]
        amounts = tuple(v for side in reversed(sides) for v in side)  # last dim first
        return F.pad(x, amounts, self.padding_mode), 0

    def extra_repr(self) -> str:
        n = len(self.kernel_size)
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_Conv):
    """1-D convolution over (N, C, L): ``F.conv1d`` with ``out_channels`` filters of
    ``kernel_size``. padding: an int, "valid" or "same"; padding_mode: "zeros", "reflect",
    "replicate" or "circular"."""

    _dims, _function = 1, staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution over (N, C, H, W): ``F.conv2d`` with ``out_channels`` filters of
    ``kernel_size``, each spanning ``in_channels / groups`` channels. padding: an int, a
    pair, "valid" or "same"; padding_mode: "zeros", "reflect", "replicate" or "circular"."""

    _dims, _function = 2, staticmethod(F.conv2d)


class _ConvTranspose(_Conv):
    """A transposed convolution: PyTorch's arguments put ``output_padding`` after
    ``padding`` and ``dilation`` last; ``forward`` takes an ``output_size``."""

    transposed = True

    # _Conv's arguments in ConvTranspose's order, with output_padding
    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, ...],
        stride: Any = 1, padding: Any = 0, output_padding: Any = 0, groups: int = 1,
        bias: bool = True, dilation: Any = 1, padding_mode: str = "zeros", *,
        generator: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            generator=generator,
            dtype=dtype,
        )
        self.output_padding = _tuple(output_padding, self._dims, "output_padding")

    def forward(self, x: Any, output_size: Any = None) -> Tensor:
        x = _as_input(x)
        return self._function(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(x, output_size),
            self.groups,
            self.dilation,
        )

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple[int, ...]:
        """The output_padding that reaches ``output_size`` (PyTorch's forward argument)."""
        if output_size is None:
            return self.output_padding
        n = len(self.kernel_size)
        size = tuple(output_size)[-n:]
        pads = []
        for i, want in enumerate(size):
            low = (
                (x.shape[-n + i] - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            if not low <= want < low + self.stride[i]:
                raise ValueError(
                    f"output_size {tuple(output_size)}: dim {i} must be in "
                    f"[{low}, {low + self.stride[i] - 1}] for input {x.shape}"
                )
            pads.append(want - low)
        return tuple(pads)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution over (N, C, L): ``F.conv_transpose1d``; weight
    (in_channels, out_channels / groups, k). ``forward(x, output_size=None)``."""

    _dims, _function = 1, staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution over (N, C, H, W), the upsampling layer:
    ``F.conv_transpose2d``; weight (in_channels, out_channels / groups, kh, kw).
    ``forward(x, output_size=None)``: output_size picks the output_padding that reaches it."""

    _dims, _function = 2, staticmethod(F.conv_transpose2d)


class MaxPool2d(Module):
    """The largest entry of every window: ``F.max_pool2d`` (stride defaults to
    kernel_size)."""

    _function: Any = staticmethod(F.max_pool2d)  # MaxPool1d: F.max_pool1d

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = stride if stride is not None else kernel_size
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Any) -> Any:
        return self._function(
            _as_input(x),
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(MaxPool2d):
    """The largest entry of every window of (N, C, L): ``F.max_pool1d``."""

    _function = staticmethod(F.max_pool1d)


class AvgPool2d(Module):
    """The mean of every window: ``F.avg_pool2d`` (stride defaults to kernel_size)."""

    _function: Any = staticmethod(F.avg_pool2d)  # AvgPool1d: F.avg_pool1d

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = stride if stride is not None else kernel_size
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Any) -> Tensor:
        # passed only when set: avg_pool1d has no divisor_override (PyTorch's has none)
        divisor = () if self.divisor_override is None else (self.divisor_override,)
        return self._function(
            _as_input(x),
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            *divisor,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(AvgPool2d):
    """The mean of every window of (N, C, L): ``F.avg_pool1d``."""

    _function = staticmethod(F.avg_pool1d)

    # AvgPool2d's arguments but divisor_override, as PyTorch's
    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:  # fmt: skip
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        # PyTorch keeps 1-tuples here (and shows them in the repr)
        self.kernel_size = _tuple(kernel_size, 1, "kernel_size")
        self.stride = _tuple(self.stride, 1, "stride")
        self.padding = _tuple(padding, 1, "padding")


class AdaptiveAvgPool2d(Module):
    """The mean over an ``output_size`` grid of windows tiling the image:
    ``F.adaptive_avg_pool2d`` (``AdaptiveAvgPool2d(1)`` is global average pooling)."""

    _function: Any = staticmethod(F.adaptive_avg_pool2d)  # AdaptiveAvgPool1d: ...1d

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Any) -> Tensor:
        return self._function(_as_input(x), self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """The mean over ``output_size`` windows tiling (N, C, L): ``F.adaptive_avg_pool1d``."""

    _function = staticmethod(F.adaptive_avg_pool1d)


class Upsample(Module):
    """Resize the spatial dims: ``F.interpolate`` with the same arguments."""

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = (
            float(scale_factor) if isinstance(scale_factor, numbers.Real) else scale_factor
        )
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x: Any) -> Tensor:
        return F.interpolate(
            _as_input(x),
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        what = (
            f"scale_factor={self.scale_factor!r}"
            if self.scale_factor is not None
            else f"size={self.size!r}"
        )
        return f"{what}, mode={self.mode!r}"


class Flatten(Module):
    """``x.flatten(start_dim, end_dim)``: (N, C, H, W) -> (N, C * H * W) by default, between
    the convolutions and the linear head."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Tensor:
        return _as_input(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


# ---------------------------------------------------------------- containers


_Listed = TypeVar("_Listed", bound="_ModuleSequence")


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: their modules in order, and ``append`` (under
    the next index as its name)."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self: _Listed, module: Module) -> _Listed:
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSequence):
    """Modules applied in order: ``Sequential(Linear(2, 8), Tanh(), Linear(8, 1))``.
    Also accepts one dict of name -> module."""

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                self.add_module(str(name), module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        return items[index][1]


class ModuleList(_ModuleSequence):
    """A list of modules, registered (so their parameters count); no forward of its own."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Any:
        values = list(self._modules.values())
        return ModuleList(values[index]) if isinstance(index, slice) else values[index]

    def __setitem__(self, index: int, module: Module) -> None:
        key = list(self._modules)[index]
        self.add_module(key, module)

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self


class ModuleDict(Module):
    """A dict of named modules, registered under their keys."""

    def __init__(self, modules: dict[str, Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def update(self, modules: dict[str, Module]) -> None:
        for key, module in modules.items():
            self.add_module(key, module)
