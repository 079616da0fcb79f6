"""Drawing scalar graphs: graphviz records and the terminal tree."""

from __future__ import annotations

import pytest

from groundup.scalar import Value
from groundup.viz import draw_graph, graph_text
from groundup.viz import graph as graph_module
from groundup.viz.graph import render_graph


def _neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def test_draw_graph_has_one_record_per_value_and_one_node_per_op():
    pytest.importorskip("graphviz")
    dot = draw_graph(_neuron())
    source = dot.source
    assert source.count("shape=record") == 10  # 5 leaves + 2 products + 2 sums + tanh
    assert source.count("shape=ellipse") == 5  # *, *, +, +, tanh
    assert "rankdir=LR" in source
    assert "data 0.7071 | grad 1.0000" in source  # o
    assert "x1 | data 2.0000 | grad -1.5000" in source
    assert "label=tanh" in source
    assert "rankdir=TB" in draw_graph(_neuron(), rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(_neuron(), rankdir="up")


def test_render_graph_writes_svg(tmp_path, needs_dot):
    path = render_graph(_neuron(), tmp_path / "neuron.svg")
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "tanh" in text


def test_render_without_dot_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(graph_module.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        render_graph(_neuron(), tmp_path / "neuron.svg")


def test_graph_text_known_tree():
    a = Value(2.0, label="a")
    b = Value(-1.0, label="b")
    c = a * b + a
    c.label = "c"
    c.backward()
    assert graph_text(c) == "\n".join(
        [
            "c (+) = 0.0000  grad 1.0000",
            "├── (*) = -2.0000  grad 1.0000",
            "│   ├── a = 2.0000  grad 0.0000",
            "│   └── b = -1.0000  grad 2.0000",
            "└── a = 2.0000  grad 0.0000  (see above)",
        ]
    )


def test_graph_text_on_a_deep_chain_is_iterative_and_cut():
    v = Value(1.0)
    for _ in range(100_000):
        v = v.relu()
    text = graph_text(v, max_lines=50)
    assert len(text.splitlines()) == 51 and text.endswith("(cut at 50 lines)")
