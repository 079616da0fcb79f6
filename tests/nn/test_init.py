"""Initialisers: the statistics each promises, determinism and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup.nn as nn
from groundup.nn import init


def P(*shape):
    return nn.Parameter(np.zeros(shape, dtype=np.float64))


def test_gains_known():
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2)
    assert init.calculate_gain("linear") == 1


def test_kaiming_normal_std_and_modes():
    t = init.kaiming_normal_(P(400, 300), generator=0)  # tanh by default, fan_in 300
    assert t.data.std() == pytest.approx(5 / 3 / math.sqrt(300), rel=0.02)
    t = init.kaiming_normal_(P(400, 300), mode="fan_out", nonlinearity="relu", generator=0)
    assert t.data.std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)


def test_uniform_bounds_and_xavier():
    t = init.kaiming_uniform_(P(200, 50), generator=1)
    bound = math.sqrt(3) * 5 / 3 / math.sqrt(50)
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.95 * bound
    t = init.xavier_uniform_(P(100, 300), generator=2)
    assert np.abs(t.data).max() <= math.sqrt(6 / 400)
    t = init.xavier_normal_(P(300, 500), generator=2)
    assert t.data.std() == pytest.approx(math.sqrt(2 / 800), rel=0.03)


def test_constant_fills_and_normal_moments():
    assert (init.ones_(P(2, 2)).data == 1).all() and (init.zeros_(P(3)).data == 0).all()
    assert (init.constant_(P(2), 0.5).data == 0.5).all()
    t = init.normal_(P(100_000), mean=2.0, std=0.5, generator=3)
    assert t.data.mean() == pytest.approx(2.0, abs=0.01)
    assert t.data.std() == pytest.approx(0.5, rel=0.01)


def test_generators_int_seed_generator_none():
    a = init.normal_(P(5), generator=7).data
    b = init.normal_(P(5), generator=np.random.default_rng(7)).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(init.normal_(P(5)).data, init.normal_(P(5)).data)


def test_float32_parameter_keeps_dtype():
    t = nn.Parameter(np.zeros((3, 3), dtype=np.float32))
    assert init.kaiming_normal_(t, generator=0).data.dtype == np.float32
