"""The two moons: a toy 2-D classification set that no straight line can separate.

Our own version of scikit-learn's ``make_moons`` (no scikit-learn needed): two
interleaving half circles, with Gaussian noise, labelled -1 and +1 for a hinge loss.
"""

from __future__ import annotations

import numbers

import numpy as np

from groundup._check import generator


def make_moons(
    n_samples: int = 100, noise: float = 0.1, seed: int | np.random.Generator | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in the plane.

    The upper moon is the half circle (cos t, sin t) for t in [0, pi], labelled -1; the
    lower one is (1 - cos t, 0.5 - sin t), labelled +1. Points are shuffled, then moved
    by Gaussian noise of standard deviation ``noise``.

    Args:
        n_samples: total number of points (the upper moon gets ``n_samples // 2``).
        noise: standard deviation of the Gaussian noise added to each coordinate.
        seed: an int seed, a ``numpy.random.Generator``, or None (unseeded).

    Returns:
        ``X`` float64 (n_samples, 2) and ``y`` int64 (n_samples,) with values -1 and +1.

    Example:
        >>> X, y = make_moons(100, noise=0.1, seed=0)
        >>> X.shape, y.shape, sorted(set(y.tolist()))
        ((100, 2), (100,), [-1, 1])
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}")
    if not isinstance(noise, numbers.Real) or isinstance(noise, bool) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    rng = generator(seed, "seed")
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)  # (n_upper, 2)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)  # (n_lower, 2)
    X = np.concatenate([upper, lower])  # (n_samples, 2)
    y = np.concatenate([-np.ones(n_upper, dtype=np.int64), np.ones(n_lower, dtype=np.int64)])
    order = rng.permutation(n_samples)
    X, y = X[order], y[order]
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return X, y
