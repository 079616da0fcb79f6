"""Module: registration, traversal, modes, state_dict round trips and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import groundup.nn as nn
from groundup import Tensor


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4, generator=0)
        self.norm = nn.BatchNorm1d(4)
        self.blocks = nn.ModuleList([nn.Linear(4, 4, generator=1), nn.Tanh()])
        self.scale = nn.Parameter(np.ones(1))
        self.not_a_param = np.ones(3)

    def forward(self, x):
        x = self.norm(self.fc(x))
        for block in self.blocks:
            x = block(x)
        return x * self.scale


def test_registration_and_names():
    m = Tiny()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc.weight", "fc.bias", "norm.weight", "norm.bias",
                     "blocks.0.weight", "blocks.0.bias"]  # fmt: skip
    assert [n for n, _ in m.named_modules()] == ["", "fc", "norm", "blocks", "blocks.0",
                                                   "blocks.1"]  # fmt: skip
    assert m.num_parameters() == 1 + 12 + 4 + 4 + 4 + 16 + 4
    assert "norm.running_mean" in m.state_dict() and "not_a_param" not in m.state_dict()


def test_state_dict_order_matches_pytorch_layout():
    keys = list(Tiny().state_dict())
    assert keys == ["scale", "fc.weight", "fc.bias", "norm.weight", "norm.bias",
                    "norm.running_mean", "norm.running_var", "norm.num_batches_tracked",
                    "blocks.0.weight", "blocks.0.bias"]  # fmt: skip


def test_reassigning_replaces_and_none_unregisters():
    m = Tiny()
    m.fc = nn.Linear(3, 4, bias=False)
    assert "fc.bias" not in dict(m.named_parameters())
    m.scale = None
    assert "scale" not in dict(m.named_parameters()) and m.scale is None
    del m.norm
    assert "norm" not in dict(m.named_children())


def test_missing_attribute_error_names_class():
    with pytest.raises(AttributeError, match="'Tiny' object has no attribute 'nope'"):
        _ = Tiny().nope


def test_train_eval_reach_every_module_and_zero_grad():
    m = Tiny()
    assert m.eval() is m and not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    out = m(Tensor(np.random.default_rng(0).normal(size=(5, 3))))
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_state_dict_round_trip_and_copies():
    a, b = Tiny(), Tiny()
    for p in b.parameters():
        p.data += 1.0
    state = a.state_dict()
    state["fc.weight"][0, 0] = 123.0  # a copy: the model is untouched
    assert a.fc.weight.data[0, 0] != 123.0
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb
        np.testing.assert_array_equal(va, vb)
    assert b.fc.weight.data.dtype == np.float32


def test_load_state_dict_lists_every_problem():
    m = Tiny()
    state = m.state_dict()
    del state["fc.bias"]
    state["extra.weight"] = np.zeros(2)
    state["fc.weight"] = np.zeros((5, 3))
    state["blocks.0.bias"] = np.zeros(7)
    with pytest.raises(ValueError) as e:
        m.load_state_dict(state)
    msg = str(e.value)
    assert "missing keys: ['fc.bias']" in msg and "unexpected keys: ['extra.weight']" in msg
    assert "fc.weight: state has (5, 3), model has (4, 3)" in msg
    assert "blocks.0.bias: state has (7,), model has (4,)" in msg
    good = m.state_dict()
    del good["fc.bias"]
    good["extra"] = np.zeros(1)
    missing, unexpected = m.load_state_dict(good, strict=False)
    assert missing == ["fc.bias"] and unexpected == ["extra"]


def test_tied_weights_counted_once_saved_under_both_names():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(5, 3, generator=0)
            self.head = nn.Linear(3, 5, bias=False, generator=1)
            self.head.weight = self.emb.weight

    m = Tied()
    assert m.num_parameters() == 15 and len(list(m.parameters())) == 1
    assert list(m.state_dict()) == ["emb.weight", "head.weight"]
    m.load_state_dict(m.state_dict())


def test_repr_is_pytorch_like():
    m = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU()), nn.Dropout(0.25))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "  )\n"
        "  (2): Dropout(p=0.25)\n"
        ")"
    )
    assert repr(nn.Parameter(np.zeros(1))).startswith("Parameter containing:")


def test_to_double_and_buffers():
    m = Tiny().double()
    assert all(t.data.dtype == np.float64 for t in [*m.parameters(), m.norm.running_mean])
    assert m.norm.num_batches_tracked.data.dtype == np.int64
    m.register_buffer("temp", np.zeros(2), persistent=False)
    assert "temp" not in m.state_dict() and "temp" in dict(m.named_buffers())
    m.temp = np.ones(2)  # reassigning keeps it a buffer
    assert isinstance(m.temp, Tensor) and "temp" in m._buffers


def test_containers():
    seq = nn.Sequential({"a": nn.Tanh(), "b": nn.ReLU()})
    assert len(seq) == 2 and isinstance(seq[1], nn.ReLU) and len(seq[:1]) == 1
    assert list(dict(seq.named_children())) == ["a", "b"]
    ml = nn.ModuleList().append(nn.Tanh()).extend([nn.ReLU()])
    ml[0] = nn.GELU()
    assert [type(x).__name__ for x in ml] == ["GELU", "ReLU"]
    md = nn.ModuleDict({"x": nn.Linear(1, 1)})
    md["y"] = nn.Linear(1, 2)
    assert "y" in md and list(md.keys()) == ["x", "y"] and md.num_parameters() == 2 + 4
    del md["x"]
    assert list(md) == ["y"]


def test_apply_visits_children_first():
    order = []
    nn.Sequential(nn.Tanh(), nn.ReLU()).apply(lambda m: order.append(type(m).__name__))
    assert order == ["Tanh", "ReLU", "Sequential"]


@given(st.lists(st.integers(1, 6), min_size=2, max_size=5), st.integers(0, 2**31))
def test_property_state_dict_transfers_the_function(widths, seed):
    def mlp(s):
        g = np.random.default_rng(s)
        layers = []
        for a, b in zip(widths, widths[1:], strict=False):
            layers += [nn.Linear(a, b, generator=g, dtype="float64"), nn.Tanh()]
        return nn.Sequential(*layers)

    a, b = mlp(seed), mlp(seed + 1)
    x = np.random.default_rng(seed).normal(size=(3, widths[0]))
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert a.num_parameters() == sum(i * o + o for i, o in zip(widths, widths[1:], strict=False))


def test_evaluating_switches_to_eval_and_no_grad_and_restores_the_mode():
    from groundup.tensor import is_grad_enabled

    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    for mode in (True, False):
        model.train(mode)
        with nn.evaluating(model):
            assert not model.training and not model[1].training and not is_grad_enabled()
        assert model.training is mode and is_grad_enabled()
    model.train()
    with pytest.raises(KeyError), nn.evaluating(model):
        raise KeyError("inside")
    assert model.training and is_grad_enabled()
