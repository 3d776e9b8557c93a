"""The book's one heatmap: a matrix of numbers with labelled rows and columns, optionally annotated."""
from __future__ import annotations

import numpy as np


def heatmap(ax, matrix, row_labels=None, col_labels=None, title: str = "", cmap: str = "viridis",
            vmin=None, vmax=None, annotate: bool = False, fmt: str = "{:.1f}", cbar_label: str = ""):
    """One heatmap on ``ax`` with a colour bar; NaN cells are left blank, annotations (``fmt``) in white on dark
    cells. Returns the image."""
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
