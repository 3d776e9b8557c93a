"""Figures of chapters 5 (multi-source transfer) and 6 (analyses: Figs. 2-4 of the paper).

Each function takes the tidy tables of :mod:`tutorial_lib.experiments` (``transfer_grid``,
``search_trajectory``, ``transfer_sweep``), draws one figure with labelled axes in the book's style and returns
the matplotlib Figure; error bars are the sample std over seeds (:mod:`.numbers`).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .numbers import summarize
from .style import use_book_style


def plot_multi_source(grid: pd.DataFrame, paper: dict | None = None, baseline: dict | None = None):
    """Grouped bars: test P@1 (mean ± std over seeds) per target (groups) and source set (bars).

    Hatched bars: the target is one of the sources (not held out). ``paper``: {(sources, target): %}
    drawn as black diamonds; ``baseline``: {target: fraction} (e.g. the majority answer) as a dash."""
    use_book_style()
    stats = summarize(grid, ["target", "sources"])
    held = grid.groupby(["target", "sources"], sort=False).held_out.first()
    targets = list(dict.fromkeys(grid.target))
    sets = list(dict.fromkeys(grid.sources))
    width = 0.8 / len(sets)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(targets) + 1.5) + 2.5, 3.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, src in enumerate(sets):
        for i, tgt in enumerate(targets):
            row = stats[(stats.target == tgt) & (stats.sources == src)]
            if row.empty:
                continue
            x = i - 0.4 + width * (j + 0.5)
            ax.bar(x, 100 * row["mean"].iloc[0], width, yerr=100 * row["std"].iloc[0], capsize=2,
                   color=colors[j % len(colors)], hatch=None if held[(tgt, src)] else "//", edgecolor="white",
                   label=src if i == 0 else None)
            if paper and paper.get((src, tgt)) is not None:
                ax.plot(x, paper[(src, tgt)], "kD", ms=4, label="paper" if (j, i) == (0, 0) else None)
    if baseline:
        for i, tgt in enumerate(targets):
            if baseline.get(tgt) is not None:
                ax.hlines(100 * baseline[tgt], i - 0.45, i + 0.45, colors="grey", linestyles="--",
                          label="majority answer" if i == 0 else None)
    ax.set_xticks(range(len(targets)), targets)
    ax.set_xlabel("target model (hatched: target is one of the sources)")
    ax.set_ylabel("test P@1 (%)")
    ax.set_title("Single vs multi-source relative transfer (± std over seeds)")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_loss_vs_accuracy(trajectory: pd.DataFrame, split: str = "test", rho: float | None = None,
                          baseline: float | None = None):
    """Fig. 2, stacked for the book's column: (top) matching loss and target P@1 along the search, on a log
    step axis (step 0, the random start, at the left end); (bottom) loss vs P@1, one point per recorded step
    (mean over relations, coloured by step) and the per-relation points in grey. ``baseline``: a reference
    accuracy (fraction, e.g. the majority answer) drawn as a dashed line."""
    use_book_style()
    mean = trajectory[trajectory.relation == "mean"].sort_values("step")
    rel = trajectory[trajectory.relation != "mean"]
    fig, (left, right) = plt.subplots(2, 1, figsize=(6.5, 6.6), layout="constrained")
    left.plot(mean.step, mean.loss, color="C0", marker=".", label="matching loss")
    left.set_xscale("symlog", linthresh=1)  # log-spaced steps, with step 0 kept
    left.set_xlabel("search step (log scale)")
    left.set_ylabel("matching loss (1 - cos)", color="C0")
    twin = left.twinx()
    twin.plot(mean.step, 100 * mean[split], color="C1", marker=".", label=f"{split} P@1")
    if "dev" in mean and split != "dev":
        twin.plot(mean.step, 100 * mean["dev"], color="C2", ls=":", label="dev P@1")
    twin.set_ylabel("target P@1 (%)", color="C1")
    if baseline is not None:
        twin.axhline(100 * baseline, color="grey", ls="--", lw=0.8, label="majority answer")
    chosen = trajectory.attrs.get("chosen_step")
    if chosen is not None:
        left.axvline(chosen, color="grey", ls="--", lw=0.8)
    twin.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.18), ncol=3)
    right.scatter(rel.loss, 100 * rel[split], s=6, color="lightgrey", label="one relation")
    points = right.scatter(mean.loss, 100 * mean[split], c=mean.step, cmap="viridis", s=18, label="mean",
                           norm=plt.matplotlib.colors.SymLogNorm(linthresh=1, vmin=0, vmax=max(1, mean.step.max())))
    fig.colorbar(points, ax=right, label="search step")
    right.set_xlabel("matching loss (1 - cos)")
    right.set_ylabel(f"target {split} P@1 (%)")
    right.set_title("Loss vs accuracy" + ("" if rho is None else f" (Spearman rho of the mean = {rho:.2f})"))
    right.legend(fontsize=8, frameon=False)
    left.set_title("Along the search")
    return fig


def plot_normalization(table: pd.DataFrame, paper: dict | None = None, baseline: float | None = None):
    """Fig. 3: test P@1 with Eq. 6 off and on, per (source -> target) pair. ``table`` needs columns
    ``pair``, ``normalize``, ``test`` (one row per seed); ``paper``: {pair: %} for the "on" bars;
    ``baseline``: a reference accuracy (fraction) drawn as a dashed line."""
    use_book_style()
    stats = summarize(table, ["pair", "normalize"])
    pairs = list(dict.fromkeys(table.pair))
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for k, (flag, label) in enumerate(((False, "without Eq. 6"), (True, "with Eq. 6"))):
        rows = stats[stats.normalize == flag].set_index("pair").reindex(pairs)
        xs = [i - 0.2 + 0.4 * k for i in range(len(pairs))]
        ax.bar(xs, 100 * rows["mean"], 0.38, yerr=100 * rows["std"], capsize=3, color=f"C{k}", label=label)
    if paper:
        for i, p in enumerate(pairs):
            if paper.get(p) is not None:
                ax.plot(i + 0.2, paper[p], "kD", ms=5, label="paper (normalised)" if i == 0 else None)
    if baseline is not None:
        ax.axhline(100 * baseline, color="grey", ls="--", lw=0.8, label="majority answer")
    ax.set_xticks(range(len(pairs)), [p.replace(": ", ":\n") for p in pairs], fontsize=8)
    ax.set_xlabel("source -> target")
    ax.set_ylabel("test P@1 (%)")
    ax.set_title("Normalisation (Eq. 6) on and off (paper Fig. 3)")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside, never on a bar
    fig.tight_layout()
    return fig


def plot_sweep(sweep: pd.DataFrame, parameter: str, paper_best=None, x: str | None = None,
               xlabel: str | None = None, source_label: str = "source prompt on its own model",
               title: str | None = None, baseline: float | None = None):
    """Fig. 4: transferred test P@1 (mean ± std over seeds) against a swept parameter, beside the source
    prompts' own accuracy; ``paper_best`` marks the paper's best value with a dotted line."""
    use_book_style()
    x = x or ("anchors_used" if parameter == "n_anchors" else parameter)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for value, label, style in (("test", "transferred to the target", "o-"), ("source_test", source_label, "s--")):
        if value not in sweep:
            continue
        stats = summarize(sweep, x, value).sort_values(x)
        ax.errorbar(stats[x], 100 * stats["mean"], yerr=100 * stats["std"], fmt=style, capsize=3, label=label)
    if paper_best is not None:
        ax.axvline(paper_best, color="grey", ls=":", label=f"paper's best ({paper_best})")
    if baseline is not None:
        ax.axhline(100 * baseline, color="grey", ls="--", lw=0.8, label="majority answer")
    if parameter == "n_anchors":
        ax.set_xscale("log")
        ax.minorticks_off()
    ticks = sorted(sweep[x].dropna().unique())
    ax.set_xticks(ticks, [f"{t:,.0f}" if float(t).is_integer() else f"{t}" for t in ticks])
    ax.set_xlabel(xlabel or {"n_anchors": "anchor words used", "m": "prompt length m"}.get(parameter, parameter))
    ax.set_ylabel("test P@1 (%)")
    ax.set_title(title or f"Transfer accuracy against {parameter} (paper Fig. 4)")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
