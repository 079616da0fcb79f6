import numpy as np
import pytest

from groundup.models.sampling import filter_logits, sample_next, softmax_rows


def test_greedy_at_temperature_zero():
    logits = np.array([[0.1, 2.0, -1.0], [5.0, 0.0, 4.9]])
    assert sample_next(logits, np.random.default_rng(0), temperature=0).tolist() == [1, 0]


def test_top_k_keeps_k_largest():
    out = filter_logits(np.array([[1.0, 3.0, 2.0, 0.0]]), top_k=2)
    assert np.isinf(out[0, [0, 3]]).all() and out[0, 1] == 3.0 and out[0, 2] == 2.0


def test_top_p_keeps_the_smallest_nucleus():
    probs = np.array([[0.5, 0.3, 0.15, 0.05]])
    out = filter_logits(np.log(probs), top_p=0.75)  # 0.5 < 0.75, 0.5+0.3 crosses: keep 2
    assert np.isfinite(out[0, :2]).all() and np.isinf(out[0, 2:]).all()
    # the most likely token always survives, however small top_p
    assert np.isfinite(filter_logits(np.log(probs), top_p=1e-9)[0, 0])


def test_sampling_matches_the_distribution():
    rng = np.random.default_rng(1)
    logits = np.log(np.array([[0.2, 0.5, 0.3]]).repeat(20000, axis=0))
    counts = np.bincount(sample_next(logits, rng), minlength=3) / 20000
    assert np.allclose(counts, [0.2, 0.5, 0.3], atol=0.015)


def test_same_seed_same_samples():
    logits = np.random.default_rng(0).normal(size=(8, 50))
    a = sample_next(logits, np.random.default_rng(7), temperature=0.8, top_k=10)
    b = sample_next(logits, np.random.default_rng(7), temperature=0.8, top_k=10)
    assert (a == b).all()


def test_extreme_logits_are_stable():
    probs = softmax_rows(np.array([[1e4, -1e4, 0.0]]))
    assert np.isfinite(probs).all() and probs[0, 0] == pytest.approx(1.0)


def test_a_tiny_temperature_is_greedy_not_nan():
    """logits / 1e-300 overflows to inf and inf - inf is NaN: the shift by the max comes
    first, so a tiny temperature picks the argmax, as the limit says."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(8, 50)).astype(np.float32)
    ids = sample_next(logits, np.random.default_rng(1), temperature=1e-300)
    assert ids.tolist() == logits.argmax(axis=-1).tolist()
