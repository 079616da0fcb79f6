"""The 8x8 handwritten digits: 1,797 images for a first convolutional network.

The test set of UCI's "Optical Recognition of Handwritten Digits" (Alpaydin and Kaynak,
1998), as scikit-learn bundles it: 32x32 bitmaps of digits written by 13 people, each
4x4 block counted into one pixel, so every pixel is an integer from 0 to 16. It ships
with the package (files/README.md: provenance, licence, checksum), so nothing is
downloaded and scikit-learn is not needed.
"""

from __future__ import annotations

import io

import numpy as np

from groundup.data.shipped import IMAGE_SOURCES, read_text_file, shipped_file


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits as ``(images, labels)``: images (1797, 8, 8) float32 with pixel values
    0..16 (divide by 16 for [0, 1]), labels (1797,) int64 in 0..9, in the file's order
    (scikit-learn's ``load_digits()``: ``images``, ``target``).

    >>> images, labels = load_digits()
    >>> images.shape, labels[:5].tolist()
    ((1797, 8, 8), [0, 1, 2, 3, 4])
    """
    text = read_text_file(shipped_file(IMAGE_SOURCES["digits"]))
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64)  # 64 pixels, label
    images = table[:, :64].reshape(-1, 8, 8).astype(np.float32)  # row by row, as written
    return images, table[:, 64]
