"""Pictures of the journey: computation graphs, decision boundaries, loss curves,
count heatmaps, activation diagnostics, embedding scatters and attention maps.

matplotlib and graphviz come with the ``viz`` extra (``pip install 'groundup[viz]'``)
and are imported inside the functions that draw; functions that return data work
without them. Names resolve lazily so importing this package stays cheap.
"""

from __future__ import annotations

from groundup._lazy import lazy_exports

# module -> the names it defines, each imported on first use (PEP 562)
_MODULES = {
    # stage 1
    "groundup.viz.graph": ("draw_graph", "graph_text"),
    "groundup.viz.plots": ("plot_decision_boundary", "plot_loss_curve", "smoothed_loss_curves"),
    # stages 2-3
    "groundup.viz.charlm": ("plot_bigram_counts", "plot_embeddings"),
    "groundup.viz.diagnostics": (
        "layer_diagnostics",
        "activation_stats",
        "gradient_stats",
        "weight_gradient_stats",
        "update_to_data_ratios",
        "plot_activation_histograms",
        "plot_gradient_histograms",
        "plot_update_ratios",
    ),
    # stage 4
    "groundup.viz.attention": ("attention_maps", "plot_attention_maps"),
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names}

__all__ = list(_LAZY)

__getattr__ = lazy_exports(__name__, _LAZY, globals())
