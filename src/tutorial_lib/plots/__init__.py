"""The book's figures and number formats: one style, one "mean ± std", one heatmap, each chapter's figures.

- :mod:`.style`: :func:`use_book_style`, the one figure style (sized for the book's column), and the colours;
- :mod:`.numbers`: mean ± sample std over seeds (:func:`mean_std`, :func:`summarize`) and table cells
  (:func:`pct`, :func:`pm`, :func:`pm_table`, :func:`beside_paper`; "–" where a number is missing);
- :mod:`.heatmap`: the one annotated heatmap;
- figures of chapter 1 (:mod:`.tuning`), 2-4 (:mod:`.transfer`), 5-6 (:mod:`.analyses`) and 7 (:mod:`.panda`).

Every figure function takes plain tidy tables or tensors and returns a matplotlib Figure (or Axes) with a title
and labelled axes; accuracies are stored as fractions and drawn in percent, like the paper's tables. The
paper's numbers come from :mod:`tutorial_lib.paper`.
"""
from .analyses import plot_loss_vs_accuracy, plot_multi_source, plot_normalization, plot_sweep
from .heatmap import heatmap
from .numbers import beside_paper, mean_std, pct, pm, pm_table, summarize
from .panda import METHOD_ORDER, method_bars, metric_vs_gain, task_heatmap
from .style import COLORS, CONDITIONS, METHOD_COLORS, MODEL_COLORS, model_color, use_book_style
from .transfer import anchor_geometry, encoding_bars, grid_heatmaps, loss_curve, method_summary
from .tuning import model_means, nearest_cosines, relation_bars, training_curves

__all__ = ["COLORS", "CONDITIONS", "METHOD_COLORS", "METHOD_ORDER", "MODEL_COLORS", "anchor_geometry",
           "beside_paper", "encoding_bars", "grid_heatmaps", "heatmap", "loss_curve", "mean_std", "method_bars",
           "method_summary", "metric_vs_gain", "model_color", "model_means", "nearest_cosines", "pct",
           "plot_loss_vs_accuracy", "plot_multi_source", "plot_normalization", "plot_sweep", "pm", "pm_table",
           "relation_bars", "summarize", "task_heatmap", "training_curves", "use_book_style"]
