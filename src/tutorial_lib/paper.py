"""The numbers the book compares itself to (accuracy %, LAMA T-REx, mean over relations), and their lookups.

Wu, Wu & Mou, "Zero-Shot Continuous Prompt Transfer", ICLR 2024, Tables 1-3, and PANDA (Zhong et al.,
TKDE 2024). Mini-zoo models stand in for the paper's models by family and size (``ZOO_TWIN``). Any other model
(a Hub model, a local checkpoint) has no twin: every lookup then says "no paper number" (None, or NaN for a
mean of none), and a table cell shows "–".
"""
from __future__ import annotations

import math

import pandas as pd

from .page import dash

MODELS = ["BERT-base", "BERT-large", "RoBERTa-base", "RoBERTa-large", "ALBERT-base", "ALBERT-large"]

# Which paper model each mini-zoo model mirrors.
ZOO_TWIN = {"mini-bert-base": "BERT-base", "mini-bert-large": "BERT-large",
            "mini-roberta-base": "RoBERTa-base", "mini-roberta-large": "RoBERTa-large"}

# Table 1: direct transfer between same-width models (source -> target).
DIRECT_TRANSFER = {("BERT-base", "RoBERTa-base"): 0.11, ("RoBERTa-base", "BERT-base"): 0.12,
                   ("BERT-large", "RoBERTa-large"): 6.27, ("RoBERTa-large", "BERT-large"): 0.49}

# Table 2: non-transfer references per target model.
REFERENCE = pd.DataFrame(
    [[0.00] * 6,
     [30.64, 32.22, 20.48, 23.59, 18.63, 24.44],
     [50.56, 51.97, 46.24, 41.06, 42.98, 43.78]],
    index=["random prompt", "manual template", "direct tuning"], columns=MODELS)

# Table 3: transfer; rows (method, source), columns target; the diagonal is self-transfer.
_T3 = {
    ("discretization", "BERT-base"): [12.93, 10.76, 10.88, 11.96, 11.44, 11.10],
    ("discretization", "RoBERTa-base"): [12.31, 10.35, 13.51, 11.01, 11.67, 12.33],
    ("discretization", "BERT-large"): [9.00, 11.02, 5.64, 11.93, 7.35, 6.66],
    ("discretization", "RoBERTa-large"): [1.35, 0.70, 2.28, 6.22, 3.15, 2.64],
    ("projector", "BERT-base"): [26.82, 12.49, 14.36, 9.78, 10.99, 18.77],
    ("projector", "RoBERTa-base"): [23.46, 17.46, 35.37, 20.16, 11.63, 14.44],
    ("projector", "BERT-large"): [3.15, 4.77, 5.64, 4.66, 8.18, 14.55],
    ("projector", "RoBERTa-large"): [2.62, 3.20, 5.54, 12.80, 7.45, 8.25],
    ("relative", "BERT-base"): [49.82, 31.40, 17.68, 21.07, 20.83, 16.80],
    ("relative", "RoBERTa-base"): [31.33, 27.52, 45.17, 25.09, 26.11, 24.72],
    ("relative", "BERT-large"): [26.78, 50.21, 7.64, 16.91, 15.10, 13.44],
    ("relative", "RoBERTa-large"): [3.81, 12.45, 3.63, 40.91, 4.48, 2.94],
    ("relative", "BERT-base + BERT-large"): [49.21, 47.78, 27.60, 23.21, 23.67, 22.32],
    ("relative", "BERT-base + RoBERTa-base"): [48.79, 32.83, 43.83, 25.26, 27.13, 26.54],
}
TRANSFER = pd.DataFrame.from_dict(_T3, orient="index", columns=MODELS)
TRANSFER.index = pd.MultiIndex.from_tuples(TRANSFER.index, names=["method", "source"])

# PANDA: average gain of PANDA over vanilla prompt transfer (PoT) across 189 task pairs, and the maximum.
PANDA_GAIN_OVER_POT = 2.3
PANDA_MAX_GAIN = 24.1


# Our method names -> the paper's Table 3 rows.
PAPER_METHOD = {"discretize": "discretization", "projector": "projector", "relative": "relative"}


def reference(row: str, zoo_model: str) -> float | None:
    """Table 2 number (``"manual template"``, ``"direct tuning"``, ...) for a zoo model's paper twin."""
    twin = ZOO_TWIN.get(zoo_model)
    return None if twin is None else float(REFERENCE.loc[row, twin])


def direct_reference(source: str, target: str) -> float | None:
    """Table 1 number (direct transfer) for zoo (or paper) model names; None where the paper has none."""
    return DIRECT_TRANSFER.get((ZOO_TWIN.get(source, source), ZOO_TWIN.get(target, target)))


def transfer_reference(method: str, source: str, target: str) -> float | None:
    """Table 3 number for zoo (or paper) model names, ``method`` ours (:data:`PAPER_METHOD`) or the paper's row;
    sources joined by ``" + "`` for multi-source. None where the paper has none."""
    method = PAPER_METHOD.get(method, method)
    src = " + ".join(ZOO_TWIN.get(s, s) for s in source.split(" + "))
    tgt = ZOO_TWIN.get(target, target)
    if (method, src) not in TRANSFER.index or tgt not in TRANSFER.columns:
        return None
    return float(TRANSFER.loc[(method, src), tgt])


def transfer_cells(method: str, pairs) -> dict[tuple[str, str], float]:
    """The Table 3 numbers of those (source, target) ``pairs`` the paper has (:func:`transfer_reference`)."""
    cells = {(s, t): transfer_reference(method, s, t) for s, t in pairs}
    return {pair: value for pair, value in cells.items() if value is not None}


def transfer_mean(method: str, pairs) -> float:
    """Mean of the Table 3 numbers the paper has among ``pairs``; NaN when it has none of them."""
    values = list(transfer_cells(method, pairs).values())
    return sum(values) / len(values) if values else math.nan


def ours_and_paper(ours: str, theirs: float | None, fmt: str = ".1f") -> str:
    """A table cell "ours / paper's", the paper's number formatted with ``fmt`` or "–" where it has none."""
    return f"{ours} / {dash(theirs, fmt)}"


def transfer_table(method: str, sources: list[str], targets: list[str]) -> pd.DataFrame:
    """The Table 3 numbers (%) for ``sources`` x ``targets`` (NaN where the paper has none)."""
    return pd.DataFrame([[transfer_reference(method, s, t) for t in targets] for s in sources], index=sources,
                        columns=targets, dtype=float)
