"""The journey: every stage of groundup, one after the other, in a few minutes.

    result = run_journey("runs/journey", seed=42)          # what `groundup journey` runs
    for row in table_rows(result): ...

1. **micrograd** - a scalar-autograd MLP(2, [16, 16, 1]) learns the two moons (hinge loss).
2. **counting bigram** - count which character follows which, normalise the rows.
3. **neural bigram** - the same table, learned by gradient descent on the tensor engine.
4. **mlp** - Bengio et al. (2003): three characters of context, embeddings, a tanh layer.
5. **gpt** - a small Transformer: self-attention over the whole name so far.
6. **llama** - the same size as a Llama (RMSNorm, rotary positions, grouped-query
   attention, SwiGLU), trained with the same recipe and steps.

Stages 2-6 train on makemore's names (``load_words("names")``, shipped with the package)
with one 80/10/10 split by word, so their losses are comparable: each is the mean negative
log-likelihood per character (the end-of-name boundary included) on the same validation
names. The falling val loss from stage to stage is the *loss ladder*.

Everything goes through the stage libraries and the recipes ``groundup train`` uses
(:mod:`groundup.app.recipes`); this module only chooses sizes and step budgets, times the
stages, and writes the run folder: one picture per idea, one history CSV per trained
stage, and ``metrics.json``. It never prints; progress goes to the
optional callbacks. :mod:`groundup.app.report` turns the result into ``report.html``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from groundup.app import recipes

STAGES = ("micrograd", "counting bigram", "neural bigram", "mlp", "gpt", "llama")

OnStageStart = Callable[[str, int], None]  # (stage, total steps)
OnStep = Callable[[str, dict[str, Any]], None]  # (stage, {"step", "loss", ...})


# ---------------------------------------------------------------- budgets


@dataclass(frozen=True)
class Budget:
    """How much each stage trains. ``FULL``: about 40 s on one core; ``QUICK``: about half
    of it (docs/results.md has the measured times)."""

    moons: int = 100  # training points of the moons (the held-out set has twice as many)
    micrograd_steps: int = 50  # full-batch steps; 100% train accuracy comes by about 25-40
    bigram_steps: int = 300  # full-batch gradient descent at lr 50 (makemore's setting)
    mlp_steps: int = 15_000  # batch 32, lr 0.1 then 0.01 for the last quarter
    gpt_steps: int = 1_600  # batch 32 names, AdamW 3e-3, warmup then cosine

    def scaled(self, scale: float) -> Budget:
        """Every step count times ``scale`` (at least 2 each)."""
        if not scale > 0:
            raise ValueError(f"steps_scale must be positive, got {scale!r}")
        steps = {k: max(2, round(v * scale)) for k, v in asdict(self).items() if k != "moons"}
        return replace(self, **steps)


FULL = Budget()
QUICK = Budget(moons=50, micrograd_steps=30, bigram_steps=100, mlp_steps=3_000, gpt_steps=500)

# The models' sizes: the classic configurations of each stage, small enough for a CPU.
MLP_CONFIG: dict[str, Any] = dict(
    block_size=3, n_embd=10, n_hidden=200
)  # makemore part 2: 11,897 params
GPT_CONFIG: dict[str, Any] = dict(n_layer=2, n_head=4, n_embd=64, dropout=0.0)  # ~0.1M params


# ---------------------------------------------------------------- results


@dataclass
class StageResult:
    """What one stage gives back: its figures, curves, samples and files."""

    name: str  # one of STAGES
    what: str  # the model and the data, in a few words
    num_parameters: int
    train_loss: float
    val_loss: float
    loss: str  # what the losses measure
    seconds: float  # training and evaluation (pictures not included)
    samples: list[str] = field(default_factory=list)
    curves: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    steps: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)  # the stage's own extras
    files: dict[str, str] = field(default_factory=dict)  # role -> file name in the folder

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("curves")  # the history CSVs hold them
        return d


@dataclass
class JourneyResult:
    folder: Path
    seed: int
    quick: bool
    budget: Budget
    data: dict[str, Any]
    stages: list[StageResult] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # pictures skipped, and why
    pictures: bool = True  # False: run_journey draws nothing

    def stage(self, name: str) -> StageResult:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"no stage {name!r}; stages run: {[s.name for s in self.stages]}")

    def to_dict(self) -> dict[str, Any]:
        """metrics.json: the settings, the data, and each stage's figures (no curves)."""
        stages = {s.name: s.to_dict() for s in self.stages}
        return {"seed": self.seed, "quick": self.quick, "budget": asdict(self.budget),
                "data": self.data, "seconds": round(self.seconds, 3), "stages": stages,
                "notes": self.notes}  # fmt: skip


# ---------------------------------------------------------------- the journey


def run_journey(
    out: str | os.PathLike[str],
    seed: int = 42,
    quick: bool = False,
    steps_scale: float = 1.0,
    budget: Budget | None = None,
    pictures: bool = True,
    on_stage_start: OnStageStart | None = None,
    on_step: OnStep | None = None,
    on_stage_end: Callable[[StageResult], None] | None = None,
) -> JourneyResult:
    """Train every stage and write the run folder ``out``; returns the results.

    Args:
        out: the run folder (created if needed).
        seed: one seed for everything: the moons, the word split, weights, batches, samples.
        quick: the QUICK budget (about a third of the CPU time) instead of FULL.
        steps_scale: multiplies every step count.
        budget: the step budgets themselves, instead of QUICK or FULL (tests use tiny ones).
        pictures: False draws nothing (the figures and the histories only).
        on_stage_start: ``(stage, total_steps)`` before a stage trains.
        on_step: ``(stage, row)`` after each step; row has "step" and "loss".
        on_stage_end: the finished :class:`StageResult`.

    Writes ``metrics.json``, ``history_<stage>.csv`` and the pictures (with matplotlib;
    without it they are skipped and a note says so). Call
    :func:`groundup.app.report.write_report` for ``report.html``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, got {seed!r}")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    budget = (budget or (QUICK if quick else FULL)).scaled(steps_scale)
    data = _names_data(int(seed))
    result = JourneyResult(folder, int(seed), bool(quick), budget, data["info"],
                           pictures=bool(pictures))  # fmt: skip
    start = time.perf_counter()
    stages = [
        lambda: _micrograd(result, on_stage_start, on_step),
        lambda: _counting_bigram(result, data, on_stage_start, on_step),
        lambda: _neural_bigram(result, data, on_stage_start, on_step),
        lambda: _mlp(result, data, on_stage_start, on_step),
        lambda: _transformer(result, data, on_stage_start, on_step, "gpt"),
        lambda: _transformer(result, data, on_stage_start, on_step, "llama"),
    ]
    for run_stage in stages:
        stage = run_stage()
        result.stages.append(stage)
        if on_stage_end is not None:
            on_stage_end(stage)
    result.seconds = time.perf_counter() - start
    _write_json(folder / "metrics.json", result.to_dict())
    return result


def table_rows(result: JourneyResult) -> list[dict[str, str]]:
    """The summary table, one dict a stage: stage | parameters | train loss | val loss |
    seconds | five samples (strings, ready to print or put in HTML)."""
    rows = []
    for s in result.stages:
        if s.name == "micrograd":
            samples = (
                f"accuracy: train {s.metrics['train_accuracy']:.1%}, "
                f"val {s.metrics['val_accuracy']:.1%}"
            )
        else:
            samples = ", ".join(s.samples)
        rows.append(
            {
                "stage": s.name + (" *" if s.name == "micrograd" else ""),
                "parameters": f"{s.num_parameters:,}",
                "train loss": f"{s.train_loss:.4f}",
                "val loss": f"{s.val_loss:.4f}",
                "seconds": f"{s.seconds:.1f}",
                "five samples": samples,
            }
        )
    return rows


def format_table(rows: list[dict[str, str]]) -> str:
    """A Markdown table (it reads in a terminal and pastes into a README).

    >>> print(format_table([{"stage": "mlp", "val loss": "2.1"}]))
    | stage | val loss |
    |-------|----------|
    | mlp   | 2.1      |
    """
    if not rows:
        return ""
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in keys}

    def line(cells: list[str]) -> str:
        padded = (cell.ljust(widths[k]) for k, cell in zip(keys, cells, strict=True))
        return "| " + " | ".join(padded) + " |"

    out = [line(keys), "|" + "|".join("-" * (widths[k] + 2) for k in keys) + "|"]
    out += [line([r[k] for k in keys]) for r in rows]
    return "\n".join(out)


TABLE_NOTE = (
    "* micrograd: hinge loss on the two moons (train: the training points; val: twice as "
    "many held-out points, same noise); the other stages: mean negative log-likelihood per "
    "character (nats, end of name included) on the same 80/10/10 split of the names."
)


# ---------------------------------------------------------------- data


def _names_data(seed: int) -> dict[str, Any]:
    """The shipped names, the tokenizer and the 80/10/10 split every LM stage shares."""
    words, tokenizer, splits = recipes.word_data("names", seed)
    train, val, test = splits["train"], splits["val"], splits["test"]
    info = {
        "source": "names",
        "words": len(words),
        "split": {"train": len(train), "val": len(val), "test": len(test)},
        "split_seed": seed,
        "vocab_size": tokenizer.vocab_size,
        "longest": max(len(w) for w in words),
    }
    return {"tokenizer": tokenizer, "train": train, "val": val, "info": info}


# ---------------------------------------------------------------- stage 1: micrograd


def _micrograd(
    result: JourneyResult, on_start: OnStageStart | None, on_step: OnStep | None
) -> StageResult:
    from groundup.data import make_moons
    from groundup.scalar.train import fit, hinge_loss

    n, steps, seed = result.budget.moons, result.budget.micrograd_steps, result.seed
    model, X, y = recipes.micrograd(n, 0.1, seed)
    X_val, y_val = make_moons(2 * n, noise=0.1, seed=seed + 1)  # held out: other noise
    _start(on_start, "micrograd", steps)
    t0 = time.perf_counter()
    history = fit(model, X, y, steps=steps, lr=1.0, on_step=_relay(on_step, "micrograd"))
    # pure hinge losses (no L2 term) after training, on both sets
    train_loss, train_acc = hinge_loss(model, X, y, alpha=0.0)
    val_loss, val_acc = hinge_loss(model, X_val, y_val, alpha=0.0)
    seconds = time.perf_counter() - t0

    stage = StageResult(
        name="micrograd",
        what=f"MLP(2, [16, 16, 1]) on {n} moons, scalar autograd, hinge loss",
        num_parameters=len(model.parameters()),
        train_loss=train_loss.data,
        val_loss=val_loss.data,
        loss="hinge (moons)",
        seconds=seconds,
        curves={"train": ([int(r["step"]) for r in history], [r["loss"] for r in history])},
        steps=steps,
        metrics={
            "train_accuracy": train_acc,
            "val_accuracy": val_acc,
            "moons": n,
            "val_moons": 2 * n,
            "lr": "1.0 decaying to 0.1",
        },  # fmt: skip
    )
    _write_text(result.folder / "history_micrograd.csv", recipes.micrograd_history_csv(history))
    stage.files["history"] = "history_micrograd.csv"

    def boundary(path: Path) -> None:
        from groundup.viz import plot_decision_boundary

        plot_decision_boundary(model, X, y, path=path, title="MLP(2, [16, 16, 1]) on the moons")

    _picture(result, stage, "decision boundary", "decision_boundary.png", boundary)
    if result.pictures:
        _neuron_graph(result, stage, model, X)
    return stage


def _neuron_graph(result: JourneyResult, stage: StageResult, model: Any, X: Any) -> None:
    """A live hidden neuron on a point where it is active, back-propagated: neuron_graph.svg, or
    neuron_graph.txt (the text tree) when the graphviz `dot` program is missing."""
    from groundup.scalar.train import one_neuron_graph
    from groundup.viz.graph import graph_text, render_graph

    out = one_neuron_graph(model, X)
    try:
        if shutil.which("dot") is None:
            raise RuntimeError("the graphviz `dot` program is not installed")
        render_graph(out, result.folder / "neuron_graph.svg")
        stage.files["neuron graph"] = "neuron_graph.svg"
    except (RuntimeError, ImportError) as err:
        _write_text(result.folder / "neuron_graph.txt", graph_text(out) + "\n")
        stage.files["neuron graph"] = "neuron_graph.txt"
        result.notes.append(f"neuron graph drawn as text: {err}")
    model.zero_grad()


# ---------------------------------------------------------------- stage 2: the bigrams


def _counting_bigram(
    result: JourneyResult, data: dict, on_start: OnStageStart | None, on_step: OnStep | None
) -> StageResult:
    from groundup.models.bigram import CountingBigram

    _start(on_start, "counting bigram", 1)
    t0 = time.perf_counter()
    # add-one smoothing: a pair never seen in training must not get probability 0 on val
    model = CountingBigram.fit(data["train"], smoothing=1.0, tokenizer=data["tokenizer"])
    train_loss, val_loss = model.nll(data["train"]), model.nll(data["val"])
    seconds = time.perf_counter() - t0
    if on_step is not None:
        on_step("counting bigram", {"step": 0, "loss": train_loss})
    V = data["tokenizer"].vocab_size
    stage = StageResult(
        name="counting bigram",
        what=f"({V}, {V}) table of pair counts, add-one smoothing",
        num_parameters=V * V,
        train_loss=train_loss,
        val_loss=val_loss,
        loss="nll per char",
        seconds=seconds,
        samples=model.sample(5, seed=result.seed),
        steps=1,
        metrics={"smoothing": 1.0, "pairs": int(model.counts.sum())},
    )

    def heatmap(path: Path) -> None:
        from groundup.viz import plot_bigram_counts

        plot_bigram_counts(model, path=path)

    _picture(result, stage, "bigram counts", "bigram_counts.png", heatmap)
    return stage


def _neural_bigram(
    result: JourneyResult, data: dict, on_start: OnStageStart | None, on_step: OnStep | None
) -> StageResult:
    from groundup.models.base import sample_words
    from groundup.train import FullBatches

    tok, steps, seed = data["tokenizer"], result.budget.bigram_steps, result.seed
    splits = recipes.charlm_arrays({n: data[n] for n in ("train", "val")}, tok, 1, bigram=True)
    model, optimizer, config = recipes.bigram(tok.vocab_size, steps=steps, lr=50.0, seed=seed,
                                              eval_interval=max(1, steps // 10))  # fmt: skip
    return _train_stage(
        result, "neural bigram", model, FullBatches(splits), optimizer, config, on_start,
        on_step, samples=lambda: sample_words(model, tok, 5, seed=seed),
        what="one-hot x W, softmax; full-batch gradient descent, lr 50",
        metrics={"lr": 50.0, "batch": "full"},
    )  # fmt: skip


# ---------------------------------------------------------------- stage 3: the MLP


def _mlp(
    result: JourneyResult, data: dict, on_start: OnStageStart | None, on_step: OnStep | None
) -> StageResult:
    from groundup.models.base import sample_words
    from groundup.train import ArrayBatches

    tok, steps, seed = data["tokenizer"], result.budget.mlp_steps, result.seed
    block = MLP_CONFIG["block_size"]
    splits = recipes.charlm_arrays({n: data[n] for n in ("train", "val")}, tok, block)
    # every val point of the curve is the whole val split (eval_batches None), as the
    # table's figure is; at most ~2,000 history rows
    model, optimizer, config = recipes.mlp(
        tok.vocab_size, **MLP_CONFIG, steps=steps, lr=0.1, seed=seed,
        eval_interval=max(1, steps // 20), eval_batches=None, log_interval=max(1, steps // 2000),
    )  # fmt: skip
    batches = ArrayBatches(splits, 32, seed, chunk_size=4096)
    stage = _train_stage(
        result, "mlp", model, batches, optimizer, config, on_start, on_step,
        samples=lambda: sample_words(model, tok, 5, seed=seed),
        what="3 chars of context, 10-d embeddings, 200 tanh units; SGD batch 32",
        metrics={**MLP_CONFIG, "batch_size": 32, "lr": "0.1, then 0.01 for the last quarter"},
    )  # fmt: skip

    def scatter(path: Path) -> None:
        from groundup.viz import plot_embeddings

        plot_embeddings(model.wte.weight, tok.itos, path=path,
                        title="MLP character embeddings (10-d, first two PCs)")  # fmt: skip

    _picture(result, stage, "embeddings", "embeddings.png", scatter)
    return stage


# ---------------------------------------------------------------- stage 4: the GPT


def _transformer(
    result: JourneyResult, data: dict, on_start: OnStageStart | None, on_step: OnStep | None,
    arch: str,
) -> StageResult:  # fmt: skip
    """Stage 4 (the GPT) or 5 (a Llama of the GPT's size): one recipe, one step budget."""
    from groundup.app.sampling import generate_words
    from groundup.models.gpt import GPT, GPTConfig
    from groundup.models.llama import Llama, llama_like
    from groundup.train import ArrayBatches

    tok, steps, seed = data["tokenizer"], result.budget.gpt_steps, result.seed
    block = data["info"]["longest"] + 1  # a whole name and its end fit in one row
    splits = recipes.padded_words({n: data[n] for n in ("train", "val")}, tok, block)
    config = GPTConfig(vocab_size=tok.vocab_size, block_size=block, **GPT_CONFIG)
    model: Any = GPT(config, seed=seed)
    what = f"{config.n_layer} layers, {config.n_head} heads, {config.n_embd} wide"
    if arch == "llama":
        llama = llama_like(config)
        model = Llama(llama, seed=seed)
        what += (f", {llama.num_key_value_heads} kv heads, SwiGLU {llama.intermediate_size} "
                 "wide, RMSNorm, RoPE")  # fmt: skip
    lr = 3e-3
    optimizer, train_config = recipes.transformer_training(
        model, lr=lr, max_steps=steps, warmup_steps=min(100, steps // 10), min_lr=lr / 10,
        weight_decay=0.1, eval_interval=max(1, steps // 10), eval_batches=None, seed=seed,
    )  # fmt: skip
    batches = ArrayBatches(splits, 32, seed, chunk_size=512)  # val points: the whole split
    stage = _train_stage(  # five names, each from the boundary to the next, inside a row
        result, arch, model, batches, optimizer, train_config, on_start, on_step,
        samples=lambda: generate_words(model, tok, 5, seed=seed),
        what=f"{what}, block {block}; AdamW batch 32",
        metrics={**GPT_CONFIG, "block_size": block, "batch_size": 32, "lr": lr,
                 "schedule": "warmup then cosine to lr/10", "weight_decay": 0.1},
    )  # fmt: skip
    if arch != "gpt":
        return stage

    word = data["val"][0]
    stage.metrics["attention_word"] = word

    def heatmap(path: Path) -> None:
        from groundup.viz import attention_maps, plot_attention_maps

        weights = attention_maps(model, [0] + tok.encode(word))
        plot_attention_maps(weights, ["."] + list(word), path=path,
                            title=f"attention on '.{word}': row looks at column")  # fmt: skip

    _picture(result, stage, "attention", "attention.png", heatmap)
    return stage


# ---------------------------------------------------------------- helpers


def _train_stage(
    result: JourneyResult,
    name: str,
    model: Any,
    batches: Any,
    optimizer: Any,
    config: Any,
    on_start: OnStageStart | None,
    on_step: OnStep | None,
    samples: Callable[[], list[str]],
    what: str,
    metrics: dict[str, Any],
) -> StageResult:
    """What every language-model stage does: train, measure train and val on the whole
    splits (timed with the training), sample five names, write the history CSV."""
    from groundup.train import evaluate, train

    _start(on_start, name, config.max_steps)
    t0 = time.perf_counter()
    history = train(model, batches, optimizer, config, on_step=_relay_train(on_step, name))
    losses = {s: evaluate(model, batches, s, num_batches=None) for s in ("train", "val")}
    seconds = time.perf_counter() - t0
    stage = StageResult(
        name=name, what=what, num_parameters=model.num_parameters(),
        train_loss=losses["train"], val_loss=losses["val"], loss="nll per char",
        seconds=seconds, samples=samples(), curves=history.loss_series(),
        steps=config.max_steps, metrics=metrics,
    )  # fmt: skip
    _write_history(result, stage, history)
    return stage


def _start(on_start: OnStageStart | None, stage: str, total: int) -> None:
    if on_start is not None:
        on_start(stage, total)


def _relay(on_step: OnStep | None, stage: str) -> Callable[[dict], None] | None:
    """micrograd's rows ({"step", "loss", "accuracy", "lr"}) to on_step."""
    if on_step is None:
        return None
    return lambda row: on_step(stage, dict(row))


def _relay_train(on_step: OnStep | None, stage: str) -> Callable[[dict], None] | None:
    """groundup.train's rows to on_step, with "loss" = the batch's train loss."""
    if on_step is None:
        return None
    return lambda row: on_step(stage, {**row, "loss": row["train_loss"]})


def _picture(
    result: JourneyResult, stage: StageResult, role: str, name: str, draw: Callable[[Path], None]
) -> None:
    """Draw one picture into the run folder; without matplotlib, note why it is missing."""
    if not result.pictures:
        return
    try:
        draw(result.folder / name)
    except ImportError as err:
        result.notes.append(f"{role} skipped: {err}")
        return
    stage.files[role] = name


def _write_history(result: JourneyResult, stage: StageResult, history: Any) -> None:
    name = f"history_{stage.name.replace(' ', '_')}.csv"
    _write_text(result.folder / name, history.to_csv())
    stage.files["history"] = name


def _write_text(path: Path, text: str) -> None:
    from groundup.train import atomic_write_text

    atomic_write_text(path, text)


def _write_json(path: Path, obj: Any) -> None:
    _write_text(path, json.dumps(_jsonable(obj), indent=2) + "\n")


def _jsonable(obj: Any) -> Any:
    """NumPy scalars and paths to plain JSON values; non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj
