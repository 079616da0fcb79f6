"""The ops of issue 16 against PyTorch: one more table run like ``test_tensor_parity``'s.

Each row draws (with hypothesis) input arrays with random shapes, broadcasting and memory
layouts (C order, transposed, strided), runs a function written once against a namespace
``m`` (ours: groundup + groundup.nn.functional, or PyTorch's), backpropagates one random
output gradient and compares the output and every input's gradient: float64 within 1e-10
(forward) and 1e-8 (gradients), float32 within 1e-5 relative to the largest entry. The
strategies, namespaces, runner and tolerances are ``test_tensor_parity``'s own, loaded
from that file so that both tables hold every op to the same standard. Then the known
answers PyTorch sets by convention (ties, zeros, NaN, errors).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from groundup.tensor import gradcheck  # noqa: E402


def _load_parity() -> Any:
    """test_tensor_parity as a module (test files are not importable by name here)."""
    name = "_groundup_tensor_parity"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("test_tensor_parity.py")
        )
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        sys.modules[name] = module
    return sys.modules[name]


parity = _load_parity()
Ours, OursFused, Ref = parity.Ours, parity.OursFused, parity.Ref
array, shapes, dims, broadcast_pair, dim_of = (
    parity.array, parity.shapes, parity.dims, parity.broadcast_pair, parity.dim_of)  # fmt: skip
unary, binary = parity.unary, parity.binary


def bounded(fn: Any, scale: float = 1.0) -> Any:
    """A unary case on inputs squashed into (-scale, scale) (tan's poles, asin's domain)."""
    return unary(lambda a: fn(a.tanh() * scale))


# ---------------------------------------------------------------- elementwise


def case_round(draw: Any) -> Any:
    decimals = draw(st.sampled_from([0, 1, 2, -1]))
    return [draw(array(draw(shapes)))], lambda m, a: (a * 30).round(decimals=decimals)


def case_gelu(draw: Any) -> Any:
    approximate = draw(st.sampled_from(["none", "tanh", None]))
    kw = {} if approximate is None else {"approximate": approximate}
    return [draw(array(draw(shapes)))], lambda m, a: m.F.gelu(a * 3, **kw)


CASES: dict[str, Any] = {
    # elementwise
    "sin": unary(lambda a: a.sin()),
    "cos": unary(lambda a: a.cos()),
    "tan": bounded(lambda a: a.tan(), 1.4),
    "asin": bounded(lambda a: a.asin(), 0.95),
    "acos": bounded(lambda a: a.acos(), 0.95),
    "atan": unary(lambda a: (a * 3).atan()),
    "atan2": binary(lambda a, b: a.atan2(b)),
    "sinh": unary(lambda a: (a * 3).sinh()),
    "cosh": unary(lambda a: (a * 3).cosh()),
    "erf": unary(lambda a: (a * 2).erf()),
    "floor": unary(lambda a: (a * 3).floor() + a),
    "ceil": unary(lambda a: (a * 3).ceil() * a),
    "trunc": unary(lambda a: (a * 3).trunc() * a),
    "sign": unary(lambda a: a.sign() * a),
    "frac": unary(lambda a: (a * 3).frac()),
    "round": case_round,
    "gelu": case_gelu,
}
FUSED = ["gelu"]


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize(
    "name, ns", [(n, Ours) for n in CASES] + [(n, OursFused) for n in FUSED],
    ids=list(CASES) + [f"{n}-fused" for n in FUSED],
)  # fmt: skip
@settings(max_examples=10)
@given(data=st.data())
def test_parity_with_pytorch(name: str, ns: Any, data: Any) -> None:
    """Values and gradients, float64 and float32, as test_tensor_parity's table."""
    arrays, fn = CASES[name](data.draw)
    seed = data.draw(st.integers(0, 1000))
    run = lambda dtype: parity.run_both(arrays, fn, dtype, seed, ns)  # noqa: E731
    out64, ref64, grads64 = run(np.float64)
    parity.assert_close(out64, ref64, 1e-10, False, f"{name} forward float64")
    for i, (g, r) in enumerate(grads64):
        parity.assert_close(g, r, 1e-8, False, f"{name} grad of input {i} float64")
    out, ref, grads = run(np.float32)
    parity.assert_close32(out, ref, ref64, f"{name} forward float32")
    for i, ((g, r), (_, truth)) in enumerate(zip(grads, grads64, strict=True)):
        assert g.dtype == np.float32, f"{name} grad of input {i} is {g.dtype}"
        parity.assert_close32(g, r, truth, f"{name} grad of input {i} float32")


@pytest.mark.parametrize("name", list(CASES))
@settings(max_examples=3)
@given(data=st.data())
def test_gradcheck_agrees(name: str, data: Any) -> None:
    arrays, fn = CASES[name](data.draw)
    assert gradcheck(lambda *ts: fn(Ours, *ts), *arrays)
