"""Loss curves and decision boundaries (matplotlib, headless)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from groundup.data import make_moons
from groundup.scalar import MLP
from groundup.viz import plot_decision_boundary, plot_loss_curve
from groundup.viz.plots import _scores

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_loss_curve_from_a_list_saves_png(tmp_path):
    fig = plot_loss_curve([3.0, 2.0, 1.5], path=tmp_path / "sub" / "loss.png", title="t")
    assert (tmp_path / "sub" / "loss.png").read_bytes()[:8] == PNG_MAGIC
    ax = fig.axes[0]
    assert list(ax.lines[0].get_xdata()) == [0, 1, 2]
    assert list(ax.lines[0].get_ydata()) == [3.0, 2.0, 1.5]
    assert ax.get_title() == "t" and ax.get_ylabel() == "loss"
    assert ax.get_legend() is None


def test_loss_curve_from_a_dict_of_curves_with_own_steps():
    fig = plot_loss_curve(
        {"train": [3.0, 2.0, 1.0, 0.5], "val": ([0, 3], [3.1, 1.2])}, ylabel="nll", logy=True
    )
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["train", "val"]
    assert list(ax.lines[1].get_xdata()) == [0, 3]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "nll"
    assert ax.get_legend() is not None


def test_loss_curve_rejects_empty_and_mismatched_series():
    with pytest.raises(ValueError, match="at least one"):
        plot_loss_curve([])
    with pytest.raises(ValueError, match="at least one"):
        plot_loss_curve({})
    with pytest.raises(ValueError, match=re.escape("series['val']: 2 x values but 3 y")):
        plot_loss_curve({"val": ([0, 1], [1.0, 2.0, 3.0])})


def test_numpy_fast_path_equals_the_scalar_forward():
    model = MLP(2, [5, 4, 1], seed=3)
    points = np.random.default_rng(0).normal(size=(20, 2))
    fast = _scores(model, points)
    slow = np.array([model(p).data for p in points.tolist()])
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    generic = _scores(lambda p: model(p), points)  # any callable works, point by point
    np.testing.assert_allclose(generic, slow, rtol=1e-12, atol=1e-12)


def test_decision_boundary_saves_png(tmp_path):
    X, y = make_moons(30, seed=0)
    model = MLP(2, [4, 1], seed=0)
    fig = plot_decision_boundary(model, X, y, path=tmp_path / "boundary.png", resolution=20)
    assert (tmp_path / "boundary.png").read_bytes()[:8] == PNG_MAGIC
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match=r"X must be \(n, 2\)"):
        plot_decision_boundary(model, X[:, :1], y)
