"""Figures of chapter 1 (soft prompt tuning): P@1 per relation and per model, training curves, nearest tokens."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .numbers import check_columns, summarize
from .style import COLORS, CONDITIONS, model_color, use_book_style


def relation_bars(scores: pd.DataFrame, majority: pd.Series | dict | None = None,
                  conditions: list[str] = CONDITIONS, ncols: int = 2) -> plt.Figure:
    """Per-relation P@1 (%) of each condition, one panel per model.

    ``scores``: tidy rows ``model, relation, condition, seed, p_at_1`` (several seeds -> mean bar with a
    ±std whisker). ``majority``: P@1 of always answering the most frequent training object, per relation,
    drawn as a black tick over each relation's group.
    """
    check_columns(scores, ["model", "relation", "condition", "p_at_1"], "relation_bars")
    use_book_style()
    models = list(dict.fromkeys(scores["model"]))
    relations = list(dict.fromkeys(scores["relation"]))
    conditions = [c for c in conditions if c in set(scores["condition"])]
    keys = ["model", "relation", "condition"]
    stats = summarize(scores, keys, "p_at_1").set_index(keys)
    ncols = min(ncols, len(models))
    nrows = math.ceil(len(models) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.5, 2.7 * nrows), sharey=True, squeeze=False)
    x = np.arange(len(relations))
    width = 0.8 / max(1, len(conditions))
    for ax, model in zip(axes.flat, models):
        for k, cond in enumerate(conditions):
            mean = [stats["mean"].get((model, r, cond), np.nan) * 100 for r in relations]
            std = [stats["std"].get((model, r, cond), np.nan) * 100 for r in relations]
            many = any(stats["n"].get((model, r, cond), 1) > 1 for r in relations)
            ax.bar(x + (k - (len(conditions) - 1) / 2) * width, mean, width, yerr=std if many else None,
                   color=COLORS.get(cond), label=cond, capsize=1.5, error_kw={"lw": 0.8})
        if majority is not None:
            maj = pd.Series(majority)
            ax.hlines([maj.get(r, np.nan) * 100 for r in relations], x - 0.42, x + 0.42, lw=1.6,
                      color=COLORS["majority object"], zorder=3, label="majority object")
        ax.set_title(model)
        ax.set_xticks(x, relations, rotation=45, ha="right")
        ax.set_ylim(0, 100)
        ax.set_xlabel("relation")
    for ax in axes[:, 0]:
        ax.set_ylabel("test P@1 (%)")
    for ax in list(axes.flat)[len(models):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.suptitle("P@1 per relation: random prompt, manual template, tuned soft prompt")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), bbox_to_anchor=(0.5, 0.955))
    return fig


def model_means(scores: pd.DataFrame, paper: pd.DataFrame | None = None,
                conditions: list[str] = CONDITIONS) -> plt.Figure:
    """Mean P@1 over relations (%) per model and condition; the paper's Table 2 number as a hollow marker.

    ``scores`` as in :func:`relation_bars`; ``paper``: rows ``model, condition, paper`` (percent).
    """
    check_columns(scores, ["model", "relation", "condition", "p_at_1"], "model_means")
    use_book_style()
    by_seed = scores.assign(seed=scores.get("seed", 0)).fillna({"seed": 0})
    means = by_seed.groupby(["model", "condition", "seed"], sort=False)["p_at_1"].mean().reset_index()
    stats = summarize(means, ["model", "condition"], "p_at_1").set_index(["model", "condition"])
    models = list(dict.fromkeys(scores["model"]))
    conditions = [c for c in conditions if c in set(scores["condition"])]
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    x = np.arange(len(models))
    width = 0.8 / max(1, len(conditions))
    for k, cond in enumerate(conditions):
        off = (k - (len(conditions) - 1) / 2) * width
        mean = [stats["mean"].get((m, cond), np.nan) * 100 for m in models]
        std = [stats["std"].get((m, cond), np.nan) * 100 for m in models]
        ax.bar(x + off, mean, width, yerr=std, color=COLORS.get(cond), label=f"{cond} (ours)", capsize=2)
        if paper is not None:
            ref = paper[paper["condition"] == cond].set_index("model")["paper"]
            ax.scatter(x + off, [ref.get(m, np.nan) for m in models], marker="D", s=22, facecolors="white",
                       edgecolors="black", zorder=3, label="paper (Table 2)" if k == 0 else None)
    ax.set_xticks(x, models)
    ax.set_ylabel("mean P@1 over relations (%)")
    ax.set_xlabel("model")
    ax.set_ylim(0, 100)
    ax.set_title("Mean P@1 per model (bars: ours, ± std over seeds; diamonds: paper)")
    ax.legend(ncol=2, loc="upper left")
    fig.tight_layout()
    return fig


def training_curves(history: pd.DataFrame, steps: pd.DataFrame | None = None, smooth: int = 10) -> plt.Figure:
    """Training loss and dev P@1 (mean over relations) of prompt tuning, one colour per model, one line per seed.

    ``history``: tidy rows ``model, seed, epoch, train_loss, dev_mean`` (an ``epoch`` 0 row, e.g. the untuned
    start's dev P@1 with ``train_loss`` NaN, is drawn on the dev panel). ``steps`` (optional): rows
    ``model, seed, epoch_pos, loss`` with the loss of every optimizer step at fractional epoch ``epoch_pos``;
    drawn as a running mean over ``smooth`` steps instead of the per-epoch means.
    """
    check_columns(history, ["model", "seed", "epoch", "train_loss", "dev_mean"], "training_curves")
    use_book_style()
    fig, (left, right) = plt.subplots(2, 1, figsize=(6.5, 5.4))  # stacked: one column of the book
    first_seed = history.groupby("model", sort=False)["seed"].first()
    for (model, seed), rows in history.groupby(["model", "seed"], sort=False):
        rows = rows.sort_values("epoch")
        kw = dict(color=model_color(model), lw=1.2, alpha=0.85, label=model if seed == first_seed[model] else None)
        if steps is None:
            trained = rows[rows["epoch"] > 0]
            left.plot(trained["epoch"], trained["train_loss"], marker="o", ms=3, **kw)
        else:
            check_columns(steps, ["model", "seed", "epoch_pos", "loss"], "training_curves(steps=...)")
            run = steps[(steps["model"] == model) & (steps["seed"] == seed)].sort_values("epoch_pos")
            left.plot(run["epoch_pos"], run["loss"].rolling(smooth, min_periods=1).mean(), **kw)
        right.plot(rows["epoch"], rows["dev_mean"] * 100, marker="o", ms=3, **kw)
    loss_label = "cross-entropy" + (f" ({smooth}-step mean)" if steps is not None else "")
    left.set(xlabel="epoch", ylabel=loss_label, title="Training loss")
    right.set(xlabel="epoch (0 = untuned start)" if (history["epoch"] == 0).any() else "epoch",
              ylabel="dev P@1 (%)", title="Dev accuracy (mean over relations)")
    right.set_ylim(0, 100)
    epochs = sorted(set(history["epoch"]))
    right.set_xticks(epochs if len(epochs) <= 12 else epochs[::2])
    left.set_xlim(left=0)
    left.legend(loc="upper right")
    fig.suptitle("Prompt tuning, one line per model and seed")
    fig.tight_layout()
    return fig


def nearest_cosines(table: pd.DataFrame) -> plt.Figure:
    """Cosine of each vector to its nearest vocabulary token, by group (tuned prompt vectors vs word
    embeddings), as a strip plot. ``table``: rows ``group, cosine`` (optionally ``model`` for colour)."""
    check_columns(table, ["group", "cosine"], "nearest_cosines")
    use_book_style()
    groups = list(dict.fromkeys(table["group"]))
    fig, ax = plt.subplots(figsize=(6.5, 1.4 + 0.7 * len(groups)))
    rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
    for k, group in enumerate(groups):
        rows = table[table["group"] == group]
        colors = [model_color(m) for m in rows["model"]] if "model" in rows else "#555555"
        ax.scatter(rows["cosine"], k + rng.uniform(-0.18, 0.18, len(rows)), s=10, c=colors, alpha=0.7)
        ax.vlines(rows["cosine"].median(), k - 0.3, k + 0.3, color="black", lw=2)
    ax.set_yticks(range(len(groups)), groups)
    ax.set_xlim(-0.1, 1.02)
    ax.set_xlabel("cosine similarity to the nearest vocabulary token (bar: median)")
    ax.set_title("How close are vectors to the vocabulary?")
    if "model" in table:
        for model in dict.fromkeys(table["model"]):
            ax.scatter([], [], color=model_color(model), s=10, label=model)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=4)
    ax.invert_yaxis()
    fig.tight_layout()
    return fig
