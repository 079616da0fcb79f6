"""Pictures of the journey: computation graphs, decision boundaries, loss curves,
count heatmaps, activation diagnostics, embedding scatters and attention maps.

matplotlib and graphviz come with the ``viz`` extra (``pip install 'groundup[viz]'``)
and are imported inside the functions that draw; functions that return data work
without them. Names resolve lazily so importing this package stays cheap.
"""

from __future__ import annotations

from groundup._lazy import lazy_exports

_LAZY = {
    # stage 1
    "draw_graph": "groundup.viz.graph",
    "graph_text": "groundup.viz.graph",
    "plot_decision_boundary": "groundup.viz.plots",
    "plot_loss_curve": "groundup.viz.plots",
    "smoothed_loss_curves": "groundup.viz.plots",
    # stages 2-3
    "plot_bigram_counts": "groundup.viz.charlm",
    "plot_embeddings": "groundup.viz.charlm",
    "layer_diagnostics": "groundup.viz.diagnostics",
    "activation_stats": "groundup.viz.diagnostics",
    "gradient_stats": "groundup.viz.diagnostics",
    "weight_gradient_stats": "groundup.viz.diagnostics",
    "update_to_data_ratios": "groundup.viz.diagnostics",
    "plot_activation_histograms": "groundup.viz.diagnostics",
    "plot_gradient_histograms": "groundup.viz.diagnostics",
    "plot_update_ratios": "groundup.viz.diagnostics",
    # stage 4
    "attention_maps": "groundup.viz.attention",
    "plot_attention_maps": "groundup.viz.attention",
}

__all__ = list(_LAZY)

__getattr__ = lazy_exports(__name__, _LAZY, globals())
