"""Pictures of a scalar computation graph: graphviz for notebooks, a text tree for terminals.

Every ``Value`` is drawn as a record ``label | data | grad``; the op that made it is a
small node feeding into it, so the graph reads left to right like the forward pass and
right to left like backpropagation.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from groundup.scalar.engine import Value, topological_order

INSTALL_DOT = (
    "the graphviz `dot` program is needed to render graphs: install it with "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) "
    "or `conda install graphviz`"
)


def draw_graph(value: Value, rankdir: str = "LR", fmt: str = "svg") -> Any:
    """The computation graph that produced ``value``, as a ``graphviz.Digraph``.

    In a notebook the returned object displays itself; ``render_graph`` writes a file.

    Args:
        value: the output node; every node it depends on is drawn.
        rankdir: "LR" (left to right, inputs first) or "TB" (top to bottom).
        fmt: output format used when the graph is rendered ("svg", "png", ...).
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of LR, RL, TB, BT, got {rankdir!r}")
    try:
        import graphviz
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("draw_graph needs graphviz: pip install 'groundup[viz]'") from err

    dot = graphviz.Digraph(format=fmt, graph_attr={"rankdir": rankdir})
    order = topological_order(value)
    # names by position in the order, not id(): the same graph draws the same file each run
    name = {id(node): f"v{i}" for i, node in enumerate(order)}
    for node in order:
        uid = name[id(node)]
        dot.node(uid, label=_record(node), shape="record")
        if node._op:
            dot.node(uid + node._op, label=node._op, shape="ellipse", width="0.3", height="0.3")
            dot.edge(uid + node._op, uid)
        for child in node._prev:
            dot.edge(name[id(child)], uid + node._op)
    return dot


def render_graph(value: Value, path: str | Path, rankdir: str = "LR") -> Path:
    """Draw the graph of ``value`` and write it to ``path`` (format from its suffix: .svg, .png).

    Raises RuntimeError saying how to install graphviz when the `dot` program is missing.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "svg"
    if shutil.which("dot") is None:
        raise RuntimeError(f"cannot render {path}: {INSTALL_DOT}")
    dot = draw_graph(value, rankdir=rankdir, fmt=fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dot.pipe(format=fmt))
    return path


def graph_text(value: Value, max_lines: int | None = 200) -> str:
    """The graph of ``value`` as an indented tree, output at the top, inputs below.

    A node used more than once is written in full the first time, then as ``(see above)``.

    Example:
        >>> a = Value(2.0, label="a"); b = a * a; b.backward()
        >>> print(graph_text(b))
        (*) = 4.0000  grad 1.0000
        ├── a = 2.0000  grad 4.0000
        └── a = 2.0000  grad 4.0000  (see above)
    """
    lines: list[str] = []
    seen: set[int] = set()
    # iterative DFS (deep graphs would overflow recursion); each entry: node, prefixes
    stack: list[tuple[Value, str, str]] = [(value, "", "")]
    while stack:
        node, lead, indent = stack.pop()
        again = id(node) in seen
        lines.append(lead + _describe(node) + ("  (see above)" if again else ""))
        if max_lines is not None and len(lines) >= max_lines:
            lines.append(f"... (cut at {max_lines} lines)")
            break
        if again:
            continue
        seen.add(id(node))
        children = node._prev
        for k in reversed(range(len(children))):  # reversed: the first input pops first
            last = k == len(children) - 1
            branch, extend = ("└── ", "    ") if last else ("├── ", "│   ")
            stack.append((children[k], indent + branch, indent + extend))
    return "\n".join(lines)


def _name(node: Value) -> str:
    if node.label and node._op:
        return f"{node.label} ({node._op})"
    return node.label or (f"({node._op})" if node._op else "value")


def _describe(node: Value) -> str:
    return f"{_name(node)} = {node.data:.4f}  grad {node.grad:.4f}"


def _record(node: Value) -> str:
    label = node.label.replace("|", "\\|").replace("{", "\\{").replace("}", "\\}")
    return f"{{ {label} | data {node.data:.4f} | grad {node.grad:.4f} }}"
