"""make_moons: our own two-moons generator (no scikit-learn)."""

from __future__ import annotations

import numpy as np
import pytest

from groundup.data import make_moons


def test_without_noise_points_lie_on_the_two_half_circles():
    X, y = make_moons(101, noise=0.0, seed=0)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    upper, lower = X[y == -1], X[y == 1]
    assert len(upper) == 50 and len(lower) == 51
    # upper moon: unit circle around (0, 0), y >= 0; lower: unit circle around (1, 0.5), y <= 0.5
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()
    # both half circles are covered end to end
    assert upper[:, 0].min() == pytest.approx(-1.0) and upper[:, 0].max() == pytest.approx(1.0)
    assert lower[:, 0].min() == pytest.approx(0.0) and lower[:, 0].max() == pytest.approx(2.0)


def test_labels_are_minus_one_and_plus_one_and_shuffled():
    _, y = make_moons(100, seed=0)
    assert set(y.tolist()) == {-1, 1}
    assert not (np.diff(y) >= 0).all()  # not sorted by class


def test_noise_has_the_requested_spread():
    X0, y0 = make_moons(4000, noise=0.0, seed=3)
    X1, y1 = make_moons(4000, noise=0.2, seed=3)
    assert (y0 == y1).all()  # noise is drawn after the shuffle
    assert np.std(X1 - X0) == pytest.approx(0.2, rel=0.05)


def test_seed_reproducible_and_generator_accepted():
    a = make_moons(50, seed=1)
    b = make_moons(50, seed=1)
    c = make_moons(50, seed=2)
    assert all((u == v).all() for u, v in zip(a, b, strict=True))
    assert not (a[0] == c[0]).all()
    X, _ = make_moons(50, seed=np.random.default_rng(1))
    assert (X == a[0]).all()
