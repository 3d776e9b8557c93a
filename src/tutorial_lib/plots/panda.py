"""Figures of the PANDA chapter (book/07_panda.ipynb): transferability heatmaps, metric-vs-gain scatters,
and method bars over training-set sizes with their spread over seeds."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .heatmap import heatmap
from .style import use_book_style

METHOD_ORDER = ["scratch", "PoT", "PANDA", "PANDA (mse)", "PANDA (kl)", "PANDA + unlabelled", "early fusion PoT",
                "early fusion PANDA", "late fusion PANDA"]


def _label(rel_id: str, labels: dict[str, str] | None, width: int = 22) -> str:
    if not labels or rel_id not in labels:
        return rel_id
    text = labels[rel_id]
    return f"{rel_id} {text if len(text) <= width else text[:width - 1] + '…'}"


def task_heatmap(matrix: pd.DataFrame, title: str, ax=None, labels: dict[str, str] | None = None,
                 cmap: str = "viridis", fmt: str = ".2f", center: float | None = None, cbar_label: str = ""):
    """An annotated [source x target] task matrix (rows: source task, labelled with ``labels``; columns: target
    task) drawn by the book's :func:`heatmap`; ``center``: a diverging ``cmap`` centred on this value."""
    use_book_style()
    if ax is None:
        _, ax = plt.subplots(figsize=(min(6.5, 0.8 * len(matrix.columns) + 4), 0.6 * len(matrix.index) + 1.5))
    values = matrix.to_numpy(dtype=float)
    vmin = vmax = None
    if center is not None:
        spread = float(np.nanmax(np.abs(values - center))) or 1.0
        vmin, vmax = center - spread, center + spread
    heatmap(ax, values, [_label(r, labels) for r in matrix.index], list(matrix.columns), title, cmap, vmin, vmax,
            annotate=True, fmt="{:" + fmt + "}", cbar_label=cbar_label)
    ax.set_aspect("equal")
    ax.tick_params(axis="x", labelrotation=0)
    ax.set_xlabel("target task")
    ax.set_ylabel("source task")
    return ax


def metric_vs_gain(scores: dict[str, pd.DataFrame], gains: pd.DataFrame, correlations: dict[str, float],
                   near: set[frozenset] = frozenset(), n_label: str = ""):
    """One panel per metric: its score for each (source, target) pair against the real PoT gain, with
    Spearman's rho in the title; near pairs (as sets of two relation ids) drawn in another colour."""
    use_book_style()
    cols = min(3, len(scores))  # panels in rows of three: readable in the book's 6.5 in column
    rows = -(-len(scores) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5, 2.5 * rows + 0.6), sharey=True, squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(scores):]:
        ax.set_visible(False)
    for ax, (name, table) in zip(axes.flat, scores.items()):
        pairs = [(s, t) for s in gains.index for t in gains.columns if s != t and pd.notna(gains.loc[s, t])]
        x = np.array([table.loc[s, t] for s, t in pairs])
        y = 100 * np.array([gains.loc[s, t] for s, t in pairs])
        is_near = np.array([frozenset((s, t)) in near for s, t in pairs], dtype=bool)
        ax.scatter(x[~is_near], y[~is_near], s=22, alpha=0.8, label="other pairs")
        if is_near.any():
            ax.scatter(x[is_near], y[is_near], s=30, marker="D", alpha=0.9, label="near pairs")
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        ax.set_title(f"{name}\nSpearman rho = {correlations[name]:+.2f}", fontsize=9)
        ax.set_xlabel("score (cosine)", fontsize=8)
        ax.tick_params(labelsize=7)
    for row in axes:
        row[0].set_ylabel(f"PoT gain (points){n_label}", fontsize=8)
    axes[0][0].legend(fontsize=7, loc="best")
    return fig


def method_bars(results: pd.DataFrame, title: str, paper_gain: float | None = None):
    """Test P@1 (%) per method, grouped by training-set size: bar = mean over seeds, error bar = sample standard
    deviation (seaborn's "sd": pandas' std, ddof = 1), dots = single seeds."""
    import seaborn as sns
    use_book_style()
    data = results.assign(p_at_1=100 * results["test"])
    order = [m for m in METHOD_ORDER if m in set(data["method"])]
    fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    sns.barplot(data=data, x="n_train", y="p_at_1", hue="method", hue_order=order, errorbar="sd", capsize=0.1,
                ax=ax, alpha=0.85)
    sns.stripplot(data=data, x="n_train", y="p_at_1", hue="method", hue_order=order, dodge=True, palette="dark:black",
                  size=3, ax=ax, legend=False)
    ax.set_xlabel("target training facts (n_train; actual number used may be smaller)")
    ax.set_ylabel("test P@1 on the target (%)")
    ax.set_title(title + (f"\n(paper: PANDA beats PoT by {paper_gain} points on average)" if paper_gain else ""))
    ax.legend(title="method", fontsize=7, title_fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return fig
