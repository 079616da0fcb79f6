"""The journey's report: one HTML page that shows every picture of a run folder.

:func:`write_report` takes the :class:`~groundup.app.journey.JourneyResult` of
:func:`~groundup.app.journey.run_journey` and writes, next to the stages' own pictures:

* ``loss_curves.png`` - every stage's loss on one chart (:func:`plot_journey_losses`);
* ``loss_ladder.png`` - the val loss falling from stage to stage (:func:`plot_loss_ladder`);
* ``report.html`` - the summary table, the pictures (linked by relative paths, so the
  folder can be moved or zipped as a whole), the samples and the files of the run.

matplotlib comes with the ``viz`` extra and is imported inside the plotting functions.
"""

from __future__ import annotations

import html
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

LM_COLORS = {"neural bigram": "tab:orange", "mlp": "tab:green", "gpt": "tab:red",
             "llama": "tab:purple"}  # fmt: skip


def _figure(figsize: tuple[float, float]) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("plotting needs matplotlib: pip install 'groundup[viz]'") from err
    return Figure(figsize=figsize, layout="constrained")


def smooth(values: Sequence[float], window: int) -> list[float]:
    """Running mean over the last ``window`` values (a noisy batch loss made readable).

    >>> smooth([1.0, 3.0, 5.0, 7.0], 2)
    [1.0, 2.0, 4.0, 6.0]
    """
    if window < 1:
        raise ValueError(f"window must be a positive int, got {window}")
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


# ---------------------------------------------------------------- the pictures


def plot_journey_losses(stages: Sequence[Any], path: str | os.PathLike[str] | None = None) -> Any:
    """Every stage's loss against the fraction of its training, on one chart.

    The language models (left axis, nats per character): the train loss smoothed over
    about 2% of the run, val estimates as dots, and the counting bigram as a dashed line
    (it does not train, it counts). micrograd's hinge loss on the moons has its own scale:
    the right axis, in grey.

    Args:
        stages: StageResults (``name``, ``curves``, ``steps``, ``val_loss``).
        path: where to save the PNG; None saves nothing.

    Returns the matplotlib Figure.
    """
    fig = _figure((7.5, 4.5))
    ax = fig.add_subplot()
    for stage in stages:
        if stage.name == "counting bigram":
            ax.axhline(stage.val_loss, color="tab:blue", linestyle="--", linewidth=1,
                       label=f"counting bigram (val {stage.val_loss:.3f})")  # fmt: skip
            continue
        if stage.name == "micrograd" or "train" not in stage.curves:
            continue
        color = LM_COLORS.get(stage.name)
        steps, losses = stage.curves["train"]
        xs = [s / max(1, stage.steps) for s in steps]
        ys = smooth(list(losses), max(1, len(losses) // 50))
        ax.plot(xs, ys, color=color, linewidth=1.2, label=f"{stage.name} train")
        if "val" in stage.curves:
            vs, vl = stage.curves["val"]
            ax.plot([s / max(1, stage.steps) for s in vs], vl, "o", color=color, markersize=4,
                    label=f"{stage.name} val")  # fmt: skip
    ax.set_xlabel("fraction of the stage's training steps")
    ax.set_ylabel("loss (nats per character)")
    ax.grid(alpha=0.3)
    micrograd = [s for s in stages if s.name == "micrograd" and "train" in s.curves]
    if micrograd:
        right = ax.twinx()
        steps, losses = micrograd[0].curves["train"]
        right.plot([s / max(1, micrograd[0].steps) for s in steps], losses, color="gray",
                   linewidth=1, linestyle=":", label="micrograd hinge (moons)")  # fmt: skip
        right.set_ylabel("micrograd: hinge loss on the moons", color="gray")
        right.tick_params(axis="y", colors="gray")
        lines, labels = ax.get_legend_handles_labels()
        more, more_labels = right.get_legend_handles_labels()
        ax.legend(lines + more, labels + more_labels, fontsize=8, loc="upper right")
    else:
        ax.legend(fontsize=8, loc="upper right")
    ax.set_title("the journey: every stage's loss")
    _save(fig, path)
    return fig


def plot_loss_ladder(
    stages: Sequence[Any],
    path: str | os.PathLike[str] | None = None,
    vocab_size: int | None = None,
) -> Any:
    """The loss ladder: each language model's val loss, one step down per stage.

    Args:
        stages: StageResults; those whose losses are per character are drawn (micrograd's
            hinge loss measures something else and is left out).
        path: where to save the PNG; None saves nothing.
        vocab_size: draws ln(vocab_size), the loss of a uniform guess, as the top rung.

    Returns the matplotlib Figure.
    """
    rungs = [s for s in stages if s.name != "micrograd"]
    if not rungs:
        raise ValueError("plot_loss_ladder: stages holds no language-model stage")
    names = [s.name for s in rungs]
    vals = [s.val_loss for s in rungs]
    if vocab_size:
        names, vals = [f"uniform guess\n(ln {vocab_size})", *names], [math.log(vocab_size), *vals]
    fig = _figure((7.0, 4.0))
    ax = fig.add_subplot()
    xs = list(range(len(names)))
    # a staircase: each rung a flat step at its val loss, a drop to the next
    for x, v in zip(xs, vals, strict=True):
        ax.hlines(v, x - 0.4, x + 0.4, color="tab:blue", linewidth=3,
                  label="val loss" if x == 0 else None)  # fmt: skip
        ax.annotate(f"{v:.3f}", (x, v), textcoords="offset points", xytext=(0, 6),
                    ha="center", fontsize=9)  # fmt: skip
    for x, (a, b) in enumerate(zip(vals, vals[1:], strict=False)):
        ax.plot([x + 0.4, x + 0.6], [a, b], color="tab:blue", linewidth=1, linestyle=":")
    train = [None] * (len(names) - len(rungs)) + [s.train_loss for s in rungs]
    tx = [x for x, t in zip(xs, train, strict=True) if t is not None]
    ax.plot(tx, [t for t in train if t is not None], "x", color="gray", label="train loss")
    ax.set_xticks(xs)
    ax.set_xticklabels(names)
    ax.set_ylabel("val loss (nats per character)")
    low, high = min(vals + [t for t in train if t is not None]), max(vals)
    ax.set_ylim(low - 0.1 * (high - low + 0.1), high + 0.15 * (high - low + 0.1))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title("the loss ladder: names, the same 80/10/10 split at every stage")
    _save(fig, path)
    return fig


def _save(fig: Any, path: str | os.PathLike[str] | None) -> None:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)


# ---------------------------------------------------------------- the page


def write_report(result: Any) -> Path:
    """Draw the two journey-wide charts and write ``report.html`` into ``result.folder``.

    Pictures the stages could not draw (no matplotlib) are left out with their note.
    Returns the path of report.html.
    """
    folder = Path(result.folder)
    charts: dict[str, str] = {}
    for name, draw in (
        ("loss_ladder.png", lambda p: plot_loss_ladder(result.stages, p,
                                                       result.data.get("vocab_size"))),
        ("loss_curves.png", lambda p: plot_journey_losses(result.stages, p)),
    ):  # fmt: skip
        try:
            draw(folder / name)
            charts[name] = name
        except ImportError as err:
            result.notes.append(f"{name} skipped: {err}")
    path = folder / "report.html"
    path.write_text(report_html(result, charts), encoding="utf-8")
    return path


def report_html(result: Any, charts: dict[str, str]) -> str:
    """The page's HTML (every picture linked by its name inside the run folder)."""
    from groundup.app.journey import TABLE_NOTE, table_rows

    e = html.escape
    rows = table_rows(result)
    head = "".join(f"<th>{e(k)}</th>" for k in rows[0]) if rows else ""
    body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r.values()) + "</tr>"
                   for r in rows)  # fmt: skip
    parts = [
        f"<h1>groundup journey</h1><p>{e(time.strftime('%Y-%m-%d %H:%M'))} &middot; seed "
        f"{result.seed} &middot; {'quick' if result.quick else 'full'} budget &middot; "
        f"{result.seconds:.0f} s in all &middot; data: {e(_data_line(result.data))}</p>",
        f"<table><tr>{head}</tr>{body}</table><p class=note>{e(TABLE_NOTE)}</p>",
    ]
    for name, caption in (
        ("loss_ladder.png", "The loss ladder: val loss per character, stage by stage."),
        ("loss_curves.png", "Every stage's loss during training."),
    ):
        if name in charts:
            parts.append(_figure_html(name, caption))
    for stage in result.stages:
        parts.append(_stage_html(stage, Path(result.folder)))
    files = sorted(p.name for p in Path(result.folder).iterdir()
                   if p.suffix in (".json", ".csv"))  # fmt: skip
    parts.append("<h2>Files</h2><ul>" + "".join(
        f'<li><a href="{e(f)}">{e(f)}</a></li>' for f in files) + "</ul>")  # fmt: skip
    if result.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in result.notes)
                     + "</ul>")  # fmt: skip
    return _PAGE.format(body="\n".join(parts))


STAGE_TITLES = {
    "micrograd": "Stage 1 - micrograd: a scalar autograd engine learns the moons",
    "counting bigram": "Stage 2 - the bigram, by counting",
    "neural bigram": "Stage 2 - the bigram, as a neural network",
    "mlp": "Stage 3 - the MLP language model",
    "gpt": "Stage 4 - the GPT",
    "llama": "Stage 5 - a Llama of the GPT's size",
}

CAPTIONS = {
    "decision boundary": "The trained MLP colours the plane by the sign of its score.",
    "neuron graph": "One live neuron, relu(w1 x1 + w2 x2 + b), on a point where it fires, after "
    "backward(): each node's value and gradient.",
    "bigram counts": "How often each character (row) is followed by each other (column).",
    "embeddings": "The learned character embeddings: letters used alike sit close.",
    "attention": "Attention weights, one map per layer and head: row = the position that "
    "looks, column = the position it looks at.",
}


def _stage_html(stage: Any, folder: Path) -> str:
    e = html.escape
    parts = [f"<h2>{e(STAGE_TITLES.get(stage.name, stage.name))}</h2>",
             f"<p>{e(stage.what)}. {stage.num_parameters:,} parameters; loss "
             f"({e(stage.loss)}) train {stage.train_loss:.4f}, val {stage.val_loss:.4f}; "
             f"{stage.seconds:.1f} s.</p>"]  # fmt: skip
    if stage.samples:
        parts.append("<p>Samples: " + ", ".join(f"<code>{e(s)}</code>" for s in stage.samples)
                     + "</p>")  # fmt: skip
    for role, name in stage.files.items():
        if role == "history":
            continue
        caption = CAPTIONS.get(role, role)
        if name.endswith(".txt"):  # the neuron graph as a text tree (no `dot`)
            text = (folder / name).read_text(encoding="utf-8")
            parts.append(
                f"<figure><pre>{e(text)}</pre><figcaption>{e(caption)} (text: the "
                f"graphviz `dot` program is not installed)</figcaption></figure>"
            )
        else:
            parts.append(_figure_html(name, caption))
    return "\n".join(parts)


def _figure_html(name: str, caption: str) -> str:
    e = html.escape
    return (f'<figure><a href="{e(name)}"><img src="{e(name)}" alt="{e(caption)}"></a>'
            f"<figcaption>{e(caption)}</figcaption></figure>")  # fmt: skip


def _data_line(data: dict[str, Any]) -> str:
    """``makemore's names, 32,033 words split 25,626/3,203/3,204 by word, 27 characters``"""
    source = data.get("source", "names")
    line = "makemore's names" if source == "names" else source
    if "words" in data:
        line += f", {data['words']:,} words"
    if data.get("split"):
        line += " split " + "/".join(f"{v:,}" for v in data["split"].values()) + " by word"
    if "vocab_size" in data:
        line += f", {data['vocab_size']} characters"
    return line


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>groundup journey</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
.note {{ font-size: 0.85em; color: #555; }}
figure {{ margin: 1em 0; }}
img {{ max-width: 100%; border: 1px solid #eee; }}
pre {{ background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }}
figcaption {{ font-size: 0.9em; color: #555; }}
</style></head><body>
{body}
</body></html>
"""
