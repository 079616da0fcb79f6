"""The shipped 8x8 digits: scikit-learn's load_digits() without scikit-learn."""

from __future__ import annotations

import numpy as np

from groundup.data import load_digits


def test_digits_shapes_ranges_and_class_counts():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 16
    assert np.array_equal(images, np.round(images))  # counts of on-pixels in 4x4 blocks
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert labels[:10].tolist() == list(range(10))


def test_first_digit_is_a_zero_as_in_scikit_learn():
    images, _ = load_digits()
    # scikit-learn's digits.images[0], the "0" of its gallery
    assert images[0, 0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert images[0, 3].tolist() == [0, 4, 12, 0, 0, 8, 8, 0]
    assert images[0].sum() == 294
