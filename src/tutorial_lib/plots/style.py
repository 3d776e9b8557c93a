"""The book's one figure style and its colours (one per condition, method and zoo model, everywhere)."""
from __future__ import annotations

import matplotlib.pyplot as plt

COLORS = {
    "random prompt": "#bbbbbb",
    "manual template": "#7f7f7f",
    "tuned prompt": "#2ca02c",
    "direct tuning": "#2ca02c",
    "majority object": "#222222",
}
CONDITIONS = ["random prompt", "manual template", "tuned prompt"]
# Colours of the transfer methods (chapters 2-4).
METHOD_COLORS = {"random prompt": COLORS["random prompt"], "direct": "#8c564b", "discretization": "#ff7f0e",
                 "projector": "#9467bd", "manual template": COLORS["manual template"], "relative": "#1f77b4",
                 "relative (base sources)": "#17becf", "direct tuning": COLORS["direct tuning"]}
# One colour per mini-zoo model (BERT blue, RoBERTa orange; large = darker).
MODEL_COLORS = {
    "mini-bert-base": "#6baed6",
    "mini-bert-large": "#08519c",
    "mini-roberta-base": "#fdae6b",
    "mini-roberta-large": "#d94801",
}


def use_book_style() -> None:
    """The one figure style of the book, sized for its 650 px column (6.5 in at 100 dpi): seaborn's white grid,
    small fonts, no top/right spines. Every figure function calls it."""
    try:
        import seaborn as sns
    except ImportError:  # seaborn is optional; matplotlib settings below are the style
        pass
    else:
        sns.set_theme(context="notebook", style="whitegrid", font_scale=0.85)
    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (6.5, 3.4), "figure.autolayout": False,
        "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 11, "axes.titleweight": "bold",
        "axes.labelsize": 10, "font.size": 9, "legend.fontsize": 8, "legend.frameon": False,
        "grid.alpha": 0.4,
    })


def model_color(name: str) -> str:
    return MODEL_COLORS.get(name, "#555555")
