"""viz/figures.py: the Figure every picture starts from, and saving it."""

from __future__ import annotations

import pytest

from groundup.viz.figures import new_figure, save

pytest.importorskip("matplotlib")


def test_new_figure_has_the_size_and_takes_figure_arguments():
    fig = new_figure((2.0, 3.0), layout="constrained")
    assert tuple(fig.get_size_inches()) == (2.0, 3.0)
    assert fig.get_layout_engine() is not None


def test_save_writes_a_png_only_when_given_a_path(tmp_path):
    fig = new_figure((1.0, 1.0))
    assert save(fig, None) is fig
    assert not list(tmp_path.iterdir())
    assert save(fig, tmp_path / "f.png") is fig
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
