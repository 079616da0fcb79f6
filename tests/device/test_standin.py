"""The stand-in itself: it computes like NumPy and refuses every leak."""

from __future__ import annotations

import numpy as np
import pytest
from gpu_standin import DeviceArray, LeakError, standin


def test_it_computes_like_numpy():
    a = standin.asarray(np.arange(6.0).reshape(2, 3))
    out = standin.exp(a) * 2 + a.sum(axis=0)
    assert type(out) is DeviceArray
    np.testing.assert_allclose(
        standin.asnumpy(out), np.exp(np.arange(6.0).reshape(2, 3)) * 2 + [3, 5, 7]
    )
    assert type(a.sum()) is DeviceArray and a.sum().ndim == 0  # 0-d, as CuPy


@pytest.mark.parametrize(
    "leak",
    [
        lambda a: np.exp(a),  # a NumPy ufunc on device data
        lambda a: np.asarray(a),  # an implicit copy to the host
        lambda a: np.concatenate([a, a]),  # a NumPy function
        lambda a: a + np.ones(3),  # a host array meets device data
        lambda a: np.ones(3) * a,
        lambda a: a[np.array([0, 1])],  # a host index
        lambda a: standin.where(np.ones(3, bool), a, 0.0),  # a host array into the module
        lambda a: standin.argsort([3, 1, 2]),  # a Python list where an array is meant
        lambda a: standin.errstate(),  # CuPy has none
    ],
)
def test_every_leak_fails(leak):
    a = standin.asarray(np.ones(3))
    with pytest.raises((LeakError, TypeError, AttributeError)):
        leak(a)


def test_in_place_updates_reach_the_array():
    a = standin.asarray(np.zeros(3))
    alias = a
    a += 1.0
    standin.add.at(a, standin.asarray(np.array([0, 0])), 1.0)
    assert alias is a and standin.asnumpy(a).tolist() == [3.0, 1.0, 1.0]
