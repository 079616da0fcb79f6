"""groundup._check, the validators the edges share: a table of what passes, and of what
fails with which exception naming which argument."""

from __future__ import annotations

import numpy as np
import pytest

from groundup import _check


@pytest.mark.parametrize(
    "fn, value, want",
    [
        (_check.positive_int, 3, 3),
        (_check.positive_int, np.int64(4), 4),
        (_check.non_negative_int, 0, 0),
        (_check.probability, 0.5, 0.5),
        (_check.probability, np.float32(1.0), 1.0),
        (_check.probability, 0, 0.0),
    ],
)
def test_accepted(fn, value, want):
    got = fn(value, "x")
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize(
    "fn, value",
    [
        (_check.positive_int, 0),
        (_check.positive_int, True),
        (_check.positive_int, 2.0),
        (_check.positive_int, "3"),
        (_check.non_negative_int, -1),
        (_check.probability, 1.5),
        (_check.probability, -0.1),
        (_check.probability, False),
        (_check.probability, float("nan")),
    ],
)
def test_refused_naming_the_argument_and_value(fn, value):
    with pytest.raises(ValueError, match=rf"^the_arg must be .*, got {value!r}$"):
        fn(value, "the_arg")


def test_one_of():
    assert _check.one_of("mean", ("mean", "sum"), "reduction") == "mean"
    with pytest.raises(ValueError, match=r"reduction must be one of 'mean', 'sum', got 'max'"):
        _check.one_of("max", ("mean", "sum"), "reduction")


def test_generator():
    g = np.random.default_rng(0)
    assert _check.generator(g) is g  # one generator can drive a whole model
    a, b = _check.generator(7), _check.generator(np.int64(7))
    assert a.integers(1000) == b.integers(1000)
    assert isinstance(_check.generator(None), np.random.Generator)
    for bad in (True, 1.5, "7", [1, 2]):
        with pytest.raises(TypeError, match="seed must be an int seed"):
            _check.generator(bad, "seed")
