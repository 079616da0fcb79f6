"""Text corpora for stage 4: loading, the 90/10 split and random next-token windows."""

from __future__ import annotations

import numpy as np

from groundup.data.text import get_batch, load_text, split_tokens


def test_load_text_reads_a_utf8_file(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("héllo\nwörld\n", encoding="utf-8")
    assert load_text(path) == "héllo\nwörld\n"
    assert load_text(str(path)) == "héllo\nwörld\n"


def test_load_text_shakespeare():
    text = load_text("shakespeare")
    assert text.startswith("First Citizen:")
    assert len(text) == 1_115_394
    assert len(set(text)) == 65


def test_split_is_a_90_10_head_and_tail():
    train, val = split_tokens(list(range(1, 11)))
    assert train.tolist() == list(range(1, 10))
    assert val.tolist() == [10]
    assert train.dtype == np.int64


def test_get_batch_targets_are_inputs_shifted_by_one():
    data = np.arange(100)
    x, y = get_batch(data, batch_size=8, block_size=5, rng=np.random.default_rng(0))
    assert x.shape == y.shape == (8, 5)
    np.testing.assert_array_equal(y[:, :-1], x[:, 1:])
    np.testing.assert_array_equal(y[:, -1], x[:, -1] + 1)  # data is arange: next id is +1


def test_get_batch_reaches_both_ends_and_never_overflows():
    data = np.arange(10)
    x, y = get_batch(data, batch_size=2000, block_size=3, rng=np.random.default_rng(1))
    assert x.min() == 0 and y.max() == 9


def test_get_batch_is_deterministic_for_a_seed():
    data = np.arange(1000)
    a = get_batch(data, 4, 8, np.random.default_rng(3))
    b = get_batch(data, 4, 8, np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
