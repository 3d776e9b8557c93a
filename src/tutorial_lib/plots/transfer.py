"""Figures of the transfer chapters (2: direct transfer, 3: baselines, 4: relative space).

Every function takes plain numbers (tensors, lists, pandas tables) and returns a matplotlib Figure; the
notebooks compute, these functions draw.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ..geometry import cosine_matrix
from .heatmap import heatmap
from .style import METHOD_COLORS, use_book_style


# ---------------------------------------------------------------- chapter 2

def anchor_geometry(words: list[str], emb_a: torch.Tensor, emb_b: torch.Tensor, name_a: str, name_b: str,
                    dims: int = 24):
    """Raw coordinates (first ``dims`` dimensions) and cosine matrices of the same ``words`` in two models.

    Top row: the coordinates (words x dimensions) do not line up across models. Bottom row: the cosine
    similarity among the words does."""
    use_book_style()
    dims = min(dims, emb_a.shape[1], emb_b.shape[1])
    fig, axes = plt.subplots(2, 2, figsize=(6.5, 7.4))
    raw_a, raw_b = emb_a[:, :dims].numpy(), emb_b[:, :dims].numpy()
    lim = float(max(np.abs(raw_a).max(), np.abs(raw_b).max()))
    for ax, raw, name in ((axes[0, 0], raw_a, name_a), (axes[0, 1], raw_b, name_b)):
        heatmap(ax, raw, words, None, f"{name}\nraw coordinates", "RdBu_r", -lim, lim, cbar_label="value")
        ax.set_xlabel(f"embedding dimension (first {dims})")
        ax.set_ylabel("anchor word")
    for ax, emb, name in ((axes[1, 0], emb_a, name_a), (axes[1, 1], emb_b, name_b)):
        sims = cosine_matrix(emb).numpy()
        np.fill_diagonal(sims, np.nan)
        heatmap(ax, sims, words, None, f"{name}\ncosines among the words", "RdBu_r", -1, 1,
                cbar_label="cosine similarity")
        ax.set_xlabel("anchor word (same order)")
        ax.set_ylabel("anchor word")
    for ax in axes.flat:
        ax.tick_params(axis="y", labelsize=7)
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- chapters 3 and 4

def loss_curve(x, y, xlabel: str, ylabel: str, title: str = "", label: str | None = None, ax=None,
               marker: str | None = "o", logy: bool = False):
    """A training / search loss curve; draws on ``ax`` when given (to overlay several). Returns the Figure."""
    if ax is None:
        use_book_style()
        fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(list(x), list(y), marker=marker, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if label:
        ax.legend()
    ax.figure.tight_layout()
    return ax.figure


def grid_heatmaps(ours: pd.DataFrame, paper: pd.DataFrame | None, title: str, ours_label: str = "mini zoo (ours)",
                  paper_label: str = "paper", vmax: float | None = None):
    """Source x target grids of accuracy (%), stacked: ours (mean over seeds) above the paper's."""
    use_book_style()
    panels = [(ours, ours_label)] + ([(paper, paper_label)] if paper is not None else [])
    fig, axes = plt.subplots(len(panels), 1, figsize=(6.5, 4.2 * len(panels)), squeeze=False)
    for ax, (table, label) in zip(axes[:, 0], panels):
        top = vmax if vmax is not None else np.nanmax(table.to_numpy(dtype=float))
        heatmap(ax, table.to_numpy(dtype=float), list(table.index), list(table.columns), label, "viridis",
                0, top, annotate=True, cbar_label="test P@1 (%)")
        ax.set_xlabel("target model")
        ax.set_ylabel("source model")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def encoding_bars(words: list[str], source_cos, target_cos, source_name: str, target_name: str, title: str = ""):
    """Paired bars: one prompt vector's cosines to a few anchors in the source (its relative encoding,
    Eq. 3) beside the found target vector's cosines to the same anchors in the target."""
    use_book_style()
    x = np.arange(len(words))
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.bar(x - 0.2, np.asarray(source_cos, dtype=float), 0.4, label=f"source prompt in {source_name}")
    ax.bar(x + 0.2, np.asarray(target_cos, dtype=float), 0.4, label=f"found prompt in {target_name}")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(x, words, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_xlabel("anchor word")
    ax.set_ylabel("cosine similarity")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def method_summary(summary: pd.DataFrame, paper: pd.DataFrame | None = None, title: str = "",
                   xlabel: str = "target model"):
    """Grouped bars: accuracy (%) per target (rows of ``summary``) and method (columns), with the paper's
    number for the same cell as a black tick when ``paper`` (same shape, NaN where none) is given."""
    use_book_style()
    targets, methods = list(summary.index), list(summary.columns)
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    for j, method in enumerate(methods):
        x = np.arange(len(targets)) - 0.4 + (j + 0.5) * width
        ax.bar(x, summary[method].to_numpy(dtype=float), width, label=method,
               color=METHOD_COLORS.get(method))
        if paper is not None and method in paper.columns:
            ax.scatter(x, paper.loc[targets, method].to_numpy(dtype=float), marker="_", s=120, color="black",
                       zorder=3, label="paper" if j == 0 else None)
    ax.set_xticks(np.arange(len(targets)), targets)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test P@1 (%)")
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.08, 1, 1))  # room for the legend below the axis label
    fig.legend(handles, labels, ncol=5, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 0))
    return fig
