"""The layer diagram holds: every import in src/groundup runs down the stage order.

Read from the source with ``ast`` (nothing is imported): ``import groundup.x``,
``from groundup.x import y``, ``from groundup import x``, relative imports, and the module
paths that lazy loaders name as strings (``importlib.import_module("groundup.x.y")``).
docs/design.md draws the same picture and says why each arrow exists.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "groundup"

# layer -> the layers it may import (besides itself)
BASE = {"_check", "_lazy"}
ALLOWED: dict[str, set[str]] = {
    "_check": set(),
    "_lazy": set(),
    "_allocator": set(),  # malloc's thresholds: the command sets them, the library never
    "_launch": set(),  # what mpiexec's environment says, read before NumPy loads
    "scalar": BASE,
    "tensor": BASE,
    "nn": BASE | {"tensor"},
    "optim": BASE | {"tensor", "nn"},
    "tokenizers": BASE,
    "data": BASE | {"tokenizers"},
    "models": BASE | {"tensor", "nn", "tokenizers", "data"},
    "train": BASE | {"tensor", "nn", "optim", "tokenizers", "data", "models", "_launch"},
    "viz": BASE | {"scalar", "tensor", "nn", "optim", "tokenizers", "data", "models", "train"},
    "app": BASE
    | {
        "scalar",
        "tensor",
        "nn",
        "optim",
        "tokenizers",
        "data",
        "models",
        "train",
        "viz",
        "__init__",
        "_allocator",
        "_launch",
        "cuda",
    },  # fmt: skip
    "__init__": {"tensor", "_lazy", "cuda"},  # the lazy re-exports of groundup.Tensor & co.
    "cuda": {"tensor"},  # groundup.cuda: torch.cuda's spellings of tensor/cuda.py
    "__main__": {"app"},  # `python -m groundup` is the command
}
EXCEPTIONS: set[tuple[str, str]] = set()  # (file, imported layer): none left
_MODULE_PATH = re.compile(r"groundup(\.\w+)+")


def layer_of(path: Path, src: Path = SRC) -> str:
    rel = path.relative_to(src)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_layers(path: Path, src: Path = SRC) -> set[str]:
    """The layers of groundup that the file at ``path`` imports."""
    rel = path.relative_to(src)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                package = ("groundup", *rel.parts[:-1])[: len(rel.parts) - node.level + 1]
                base = ".".join(package)
                modules.append(f"{base}.{node.module}" if node.module else base)
                if not node.module:
                    modules += [f"{base}.{alias.name}" for alias in node.names]
            elif node.module == "groundup":  # from groundup import nn
                modules += [f"groundup.{alias.name}" for alias in node.names]
            elif node.module:
                modules.append(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _MODULE_PATH.fullmatch(node.value):  # a lazy loader's module path
                modules.append(node.value)
    layers = set()
    for module in modules:
        parts = module.split(".")
        if parts[0] == "groundup" and len(parts) > 1:
            # groundup.__version__ and the lazy names (groundup.Tensor) live in __init__
            layers.add(parts[1] if parts[1] in ALLOWED else "__init__")
    return layers


FILES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SRC)) for p in FILES])
def test_imports_run_down_the_layers(path):
    layer = layer_of(path)
    assert layer in ALLOWED, f"{path.relative_to(SRC)}: layer {layer!r} is not in the diagram"
    wrong = {
        target
        for target in imported_layers(path) - {layer}
        if target not in ALLOWED[layer] and (str(path.relative_to(SRC)), target) not in EXCEPTIONS
    }
    assert not wrong, f"{path.relative_to(SRC)} ({layer}) imports {sorted(wrong)} against the order"


def test_nothing_but_the_app_layer_prints():
    offenders = []
    for path in FILES:
        if layer_of(path) in ("app", "__main__"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr"):
                if getattr(node.value, "id", None) == "sys":
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not offenders, f"the library prints: {offenders}"


def test_the_checker_sees_a_wrong_arrow(tmp_path):
    """The test itself can fail: a model importing the app layer is caught."""
    src = tmp_path / "groundup"
    fake = src / "models" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        "from groundup.app.cli import main\nfrom . import gpt\nfrom ..train import loop\n"
        "from groundup import viz\nMODULE = 'groundup.scalar.engine'\n"
    )
    assert imported_layers(fake, src) == {"app", "models", "train", "viz", "scalar"}
    assert layer_of(fake, src) == "models"
    assert {"app", "train", "viz", "scalar"}.isdisjoint(ALLOWED["models"])


REFERENCES = {"torch", "transformers", "tokenizers", "micrograd", "tiktoken"}
TESTS = Path(__file__).resolve().parent


def test_only_the_reference_tests_import_the_references():
    """The core suite runs with NumPy and hypothesis alone; torch & co. live in
    tests/reference/ (marker ``reference``)."""
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        if "reference" in path.relative_to(TESTS).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "importorskip":
                names = [a.value for a in node.args if isinstance(a, ast.Constant)]
            hits = {n.split(".")[0] for n in names} & REFERENCES
            if hits:
                offenders.append(f"{path.relative_to(TESTS)}:{node.lineno} {sorted(hits)}")
    assert not offenders, f"reference libraries outside tests/reference: {offenders}"
