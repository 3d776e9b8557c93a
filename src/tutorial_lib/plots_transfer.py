"""Figures and small tables of the transfer chapters (2: direct transfer, 3: baselines, 4: relative space).

Every function takes plain numbers (tensors, lists, pandas tables) and returns a matplotlib Figure; the
notebooks compute, these functions draw. The book-wide style and captions come from :mod:`tutorial_lib.plots`
(re-exported here as :func:`use_book_style` and :func:`caption`).
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .plots import COLORS, caption, use_book_style  # noqa: F401  (the book's style and captions)

# Colours of the transfer methods, one per method everywhere in the book's transfer chapters.
METHOD_COLORS = {"random prompt": COLORS["random prompt"], "direct": "#8c564b", "discretization": "#ff7f0e",
                 "projector": "#9467bd", "manual template": COLORS["manual template"], "relative": "#1f77b4",
                 "relative (base sources)": "#17becf", "direct tuning": COLORS["direct tuning"]}


# ---------------------------------------------------------------- numbers

def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof = 1, the book's "± std") of a list of numbers (std NaN for one)."""
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        return float("nan"), float("nan")
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else float("nan")


def pm(values, scale: float = 100.0, digits: int = 1) -> str:
    """``"12.3 ± 1.0"``: mean ± sample std over seeds of accuracies (fractions shown as %, ``scale=100``);
    only the mean for one seed."""
    mean, std = mean_std(values)
    if math.isnan(mean):
        return "–"
    return f"{scale * mean:.{digits}f}" + ("" if math.isnan(std) else f" ± {scale * std:.{digits}f}")


def pm_table(table: pd.DataFrame, index: str, columns: str, value: str = "test", scale: float = 100.0,
             digits: int = 1) -> pd.DataFrame:
    """Pivot a tidy table (one row per seed) into ``"mean ± std"`` strings, ``index`` x ``columns``."""
    return table.pivot_table(index=index, columns=columns, values=value,
                             aggfunc=lambda v: pm(v, scale, digits), sort=False)


PAPER_METHOD = {"discretize": "discretization", "projector": "projector", "relative": "relative"}


def paper_grid(method: str, sources: list[str], targets: list[str]) -> pd.DataFrame:
    """The paper's Table 3 numbers (%) for our (zoo) models' twins, ``sources`` x ``targets`` (NaN where the
    paper has none). ``method``: ours ("discretize", "projector", "relative") or the paper's row name."""
    from .paper import transfer_reference

    name = PAPER_METHOD.get(method, method)
    values = [[transfer_reference(name, s, t) for t in targets] for s in sources]
    return pd.DataFrame(values, index=sources, columns=targets, dtype=float)


def beside_paper(ours: pd.DataFrame, theirs: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """Interleave our cells (strings such as "12.3 ± 1.0") with the paper's numbers: columns become
    (column, "ours") and (column, "paper")."""
    out = {}
    for col in ours.columns:
        out[(col, "ours")] = ours[col]
        paper_col = theirs[col] if col in theirs.columns else pd.Series(np.nan, index=ours.index)
        out[(col, "paper")] = paper_col.reindex(ours.index).map(lambda v: "–" if pd.isna(v) else f"{v:.{digits}f}")
    return pd.DataFrame(out, index=ours.index)


# ---------------------------------------------------------------- drawing helpers

def heatmap(ax, matrix, row_labels=None, col_labels=None, title: str = "", cmap: str = "viridis",
            vmin=None, vmax=None, annotate: bool = False, fmt: str = "{:.1f}", cbar_label: str = ""):
    """One annotated heatmap on ``ax``; NaN cells are left blank. Returns the image."""
    data = np.asarray(matrix, dtype=float)
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    if row_labels is not None:
        ax.set_yticks(range(len(row_labels)), row_labels)
    if col_labels is not None:
        ax.set_xticks(range(len(col_labels)), col_labels, rotation=45, ha="right", rotation_mode="anchor")
    if annotate:
        lo = np.nanmin(data) if vmin is None else vmin
        hi = np.nanmax(data) if vmax is None else vmax
        for (i, j), v in np.ndenumerate(data):
            if not np.isnan(v):
                dark = (v - lo) / (hi - lo + 1e-12) < 0.6
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    ax.set_title(title)
    cbar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label(cbar_label)
    return image


def cosine_matrix(embeddings: torch.Tensor) -> torch.Tensor:
    """Pairwise cosine similarities [n, n] of the rows of ``embeddings`` [n, d]."""
    unit = F.normalize(embeddings.float(), dim=-1)
    return unit @ unit.T


# ---------------------------------------------------------------- chapter 2

def anchor_geometry(words: list[str], emb_a: torch.Tensor, emb_b: torch.Tensor, name_a: str, name_b: str,
                    dims: int = 24):
    """Raw coordinates (first ``dims`` dimensions) and cosine matrices of the same ``words`` in two models.

    Top row: the coordinates (words x dimensions) do not line up across models. Bottom row: the cosine
    similarity among the words does."""
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
