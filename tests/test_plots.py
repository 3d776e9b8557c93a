"""Tests of tutorial_lib.plots: one "mean ± std" convention (sample std, ddof = 1), its table cells, the one
heatmap."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from tutorial_lib import plots  # noqa: E402


def test_mean_std_is_the_sample_std_and_undefined_for_one_seed():
    assert plots.mean_std([0.2, 0.4, 0.6]) == pytest.approx((0.4, 0.2))  # ddof = 1 (population: 0.163)
    mean, std = plots.mean_std([0.3])
    assert mean == 0.3 and math.isnan(std)
    table = pd.DataFrame({"model": ["a", "a", "a", "b"], "test": [0.2, 0.4, 0.6, 0.5]})
    summary = plots.summarize(table, "model").set_index("model")
    assert summary.loc["a", "std"] == pytest.approx(0.2) and summary.loc["a", "n"] == 3
    assert math.isnan(summary.loc["b", "std"])  # one seed: no spread, not a spread of 0


def test_cells_show_the_mean_alone_for_one_seed_and_a_dash_for_none():
    assert plots.pm([0.2, 0.4, 0.6]) == "40.0 ± 20.0"
    assert plots.pm([0.123]) == "12.3" == plots.pct(0.123, float("nan")) == plots.pct(0.123)
    assert plots.pm([]) == "–" == plots.pct(None) == plots.pct(float("nan"))
    table = pd.DataFrame({"source": ["a", "a"], "target": ["b", "b"], "test": [0.1, 0.3]})
    cells = plots.pm_table(table, "source", "target")
    assert cells.loc["a", "b"] == "20.0 ± 14.1"
    both = plots.beside_paper(cells, pd.DataFrame({"b": [np.nan]}, index=["a"]))
    assert both.loc["a", ("b", "paper")] == "–"


def test_the_heatmap_annotates_numbers_and_leaves_missing_cells_blank():
    fig, ax = matplotlib.pyplot.subplots()
    plots.heatmap(ax, [[1.0, np.nan], [3.0, 4.0]], ["r1", "r2"], ["c1", "c2"], annotate=True)
    assert sorted(t.get_text() for t in ax.texts) == ["1.0", "3.0", "4.0"]
    matrix = pd.DataFrame([[0.5, -1.0], [2.0, 0.0]], index=["P19", "P20"], columns=["P19", "P20"])
    ax = plots.task_heatmap(matrix, "gain", labels={"P19": "place of birth"}, center=0.0, cmap="RdBu")
    image = ax.images[0]
    assert image.get_clim() == (-2.0, 2.0)  # centred: the largest distance from 0 on both sides
    assert [t.get_text() for t in ax.get_yticklabels()] == ["P19 place of birth", "P20"]
    matplotlib.pyplot.close("all")
