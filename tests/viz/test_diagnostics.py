"""Stage 3 diagnostics: activation/gradient statistics, saturation, update:data ratios."""

from __future__ import annotations

import math

import numpy as np
import pytest

from groundup.models.mlp import MLPLanguageModel
from groundup.optim import SGD
from groundup.viz.diagnostics import (
    activation_stats,
    layer_diagnostics,
    plot_activation_histograms,
    plot_gradient_histograms,
    plot_update_ratios,
    tensor_stats,
    update_to_data_ratios,
    weight_gradient_stats,
)

DEEP = dict(block_size=3, n_embd=10, n_hidden=100, n_layers=4)


def _batch(block_size=3, n=256, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 27, (n, block_size)), rng.integers(0, 27, n)


def test_tensor_stats_known_answer():
    s = tensor_stats("h", np.array([-1.0, 0.0, 0.99, 0.5]), bins=2, saturation=0.97)
    assert s["saturated"] == 0.5
    assert s["mean"] == pytest.approx(0.1225)
    assert s["std"] == pytest.approx(np.std([-1.0, 0.0, 0.99, 0.5]))
    assert s["counts"].tolist() == [1, 3] and s["counts"].sum() == 4
    with pytest.raises(ValueError, match="no values"):
        tensor_stats("empty", np.array([]))


def test_kaiming_init_keeps_tanh_out_of_saturation_and_bad_init_does_not():
    """The lesson of makemore part 3 as a test: scale every hidden weight up 5x and most
    tanh units saturate; Kaiming's (5/3)/sqrt(fan_in) keeps them in the active range."""
    X, Y = _batch()
    good = MLPLanguageModel(27, **DEEP, generator=0)
    bad = MLPLanguageModel(27, **DEEP, generator=0)
    for linear in bad.linears:
        linear.weight.data *= 5
    good_stats = layer_diagnostics(good, X, Y)["activations"]
    bad_stats = layer_diagnostics(bad, X, Y)["activations"]
    assert [s["name"] for s in good_stats] == [f"layer {i} tanh" for i in range(4)]
    assert max(s["saturated"] for s in good_stats) < 0.25  # makemore: ~20% first, ~5% later
    assert min(s["saturated"] for s in bad_stats) > 0.5


def test_layer_diagnostics_gradients_and_weights():
    X, Y = _batch()
    model = MLPLanguageModel(27, **DEEP, batchnorm=True, generator=0)
    stats = layer_diagnostics(model, X, Y)
    assert len(stats["gradients"]) == 4
    assert all(s["std"] > 0 for s in stats["gradients"])
    names = [s["name"] for s in stats["weights"]]
    assert names == ["wte.weight", *[f"linears.{i}.weight" for i in range(4)], "lm_head.weight"]
    w = stats["weights"][1]
    assert w["grad_to_data"] == pytest.approx(
        np.std(model.linears[0].weight.grad) / np.std(model.linears[0].weight.data)
    )
    assert model.record_activations is False  # restored
    with pytest.raises(TypeError, match="does not record"):
        layer_diagnostics(SGD, X, Y)


def test_update_to_data_ratio_is_log10_of_the_sgd_step_size():
    X, Y = _batch()
    model = MLPLanguageModel(27, generator=0)
    _, loss = model(X, Y)
    loss.backward()
    ratios = update_to_data_ratios(model.named_parameters(), lr=0.1)
    assert set(ratios) == {"wte.weight", "linears.0.weight", "lm_head.weight"}  # 2-D only
    W = model.linears[0].weight
    before = W.data.copy()
    SGD(model.parameters(), lr=0.1).step()
    actual = np.std(W.data - before) / np.std(before)
    assert ratios["linears.0.weight"] == pytest.approx(math.log10(actual), abs=1e-5)


def test_weight_gradient_stats_skip_missing_grads():
    model = MLPLanguageModel(27, generator=0)
    assert weight_gradient_stats(model.named_parameters()) == []


def test_plots_write_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    X, Y = _batch()
    model = MLPLanguageModel(27, **DEEP, generator=0)
    stats = layer_diagnostics(model, X, Y)
    fig = plot_activation_histograms(stats["activations"], path=tmp_path / "act.png")
    assert "saturated" in fig.axes[0].get_legend().get_texts()[0].get_text()
    plot_gradient_histograms(stats["gradients"], path=tmp_path / "grad.png")
    plot_gradient_histograms(stats["weights"], path=tmp_path / "wgrad.png")
    history = [update_to_data_ratios(model.named_parameters(), lr) for lr in (0.1, 0.01)]
    plot_update_ratios(history, path=tmp_path / "ud.png")
    for name in ("act", "grad", "wgrad", "ud"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="empty"):
        plot_update_ratios([])
    with pytest.raises(ValueError, match="no stats"):
        plot_activation_histograms(activation_stats({}))
