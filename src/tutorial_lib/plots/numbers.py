"""Numbers as the book shows them: mean ± standard deviation over seeds, in percent.

One convention everywhere (tables, error bars, verdicts): "± std" is the **sample** standard deviation over
seeds (ddof = 1, as pandas' ``std``); with one seed it is undefined (NaN): the table shows the mean only and a
figure draws no error bar. A missing number is shown as "–".
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..page import DASH, dash


def check_columns(table: pd.DataFrame, needed: list[str], what: str) -> None:
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"{what} needs columns {needed}; missing {missing} (got {list(table.columns)})")


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof = 1) of a list of numbers (std NaN for one, both NaN for none)."""
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        return float("nan"), float("nan")
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else float("nan")


def summarize(table: pd.DataFrame, by, value: str = "test") -> pd.DataFrame:
    """:func:`mean_std` of ``value`` per group ``by`` (one row per seed in ``table``): columns ``by``, ``mean``,
    ``std`` (NaN for a group of one), ``n``."""
    by = [by] if isinstance(by, str) else list(by)
    check_columns(table, by + [value], "summarize")
    out = table.groupby(by, sort=False)[value].agg(["mean", "std", "count"]).rename(columns={"count": "n"})
    return out.reset_index()


def pct(mean: float | None, std: float | None = None, digits: int = 1) -> str:
    """``"12.3 ± 1.0"``: a fraction's mean (and std) in percent; the mean only when the std is None or NaN (one
    seed); "–" when the mean is missing."""
    if mean is None or math.isnan(float(mean)):
        return DASH
    text = f"{100 * mean:.{digits}f}"
    return text if std is None or math.isnan(float(std)) else f"{text} ± {100 * std:.{digits}f}"


def pm(values, digits: int = 1) -> str:
    """:func:`pct` of the :func:`mean_std` of per-seed accuracies (fractions)."""
    return pct(*mean_std(values), digits=digits)


def pm_table(table: pd.DataFrame, index: str, columns: str, value: str = "test", digits: int = 1) -> pd.DataFrame:
    """Pivot a tidy table (one row per seed) into :func:`pm` strings, ``index`` x ``columns``."""
    return table.pivot_table(index=index, columns=columns, values=value, aggfunc=lambda v: pm(v, digits),
                             sort=False)


def beside_paper(ours: pd.DataFrame, theirs: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """Interleave our cells (strings such as "12.3 ± 1.0") with the paper's numbers: columns become
    (column, "ours") and (column, "paper"), "–" where the paper has none."""
    out = {}
    for col in ours.columns:
        out[(col, "ours")] = ours[col]
        paper_col = theirs[col] if col in theirs.columns else pd.Series(np.nan, index=ours.index)
        out[(col, "paper")] = paper_col.reindex(ours.index).map(lambda v: dash(v, f".{digits}f"))
    return pd.DataFrame(out, index=ours.index)
