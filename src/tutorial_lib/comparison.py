"""Every method on every target (chapter 4): per-seed values of ours, the paper's matching cells, the chain.

The paper's headline ordering (Tables 1-3) is a chain of methods, each below the next. ``method_values``
collects, per target and method, one number per seed (the mean over the method's sources); ``paper_cell``
is the paper's number for the same target and sources (its twin models, :data:`paper.ZOO_TWIN`);
``chain_links`` judges each link of the chain with :func:`verdicts.compare` (a link holds only when the
difference exceeds the spread over seeds).
"""
from __future__ import annotations

import math

import pandas as pd

from . import paper, verdicts

COLUMNS = ["random prompt", "direct", "discretization", "projector", "manual template", "relative",
           "relative (base sources)", "direct tuning"]
CHAIN = ["discretization", "projector", "manual template", "relative (base sources)", "direct tuning"]
GRID = {"direct": "direct", "discretization": "discretize", "projector": "projector", "relative": "relative",
        "relative (base sources)": "relative"}


def source_sets(models: list[str], widths: dict[str, int]) -> dict[str, dict[str, list[str]]]:
    """Per column with sources, per target: the source models (direct: the same-width partners; base sources:
    the smallest models; the other transfers: every other model)."""
    base = [s for s in models if widths[s] == min(widths.values())]
    out = {}
    for column in GRID:
        out[column] = {t: [s for s in models if s != t and (
            column not in ("direct", "relative (base sources)") or
            (column == "direct" and widths[s] == widths[t]) or (column != "direct" and s in base))]
            for t in models}
    return out


def per_seed(table: pd.DataFrame, target: str, sources: list[str]) -> list[float]:
    """Per seed (sorted): the mean over ``sources`` of the test P@1 into ``target`` (tidy grid table with
    columns source, target, seed, test)."""
    rows = table[(table.target == target) & table.source.isin(sources)]
    return rows.groupby("seed").test.mean().tolist()


def cell_outcomes(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    """Per cross-model (source, target) cell of two tidy grid tables: :func:`verdicts.compare` of ``a``'s
    per-seed test P@1 against ``b``'s (HIGHER: ``a`` ahead by more than the spread over seeds)."""
    pairs = a[a.source != a.target].groupby(["source", "target"]).groups
    return pd.Series({(s, t): verdicts.compare(per_seed(a, t, [s]), per_seed(b, t, [s])).outcome for s, t in pairs},
                     dtype=object)


def method_values(grids: dict[str, pd.DataFrame], references: dict[str, dict[str, list[float]]],
                  models: list[str], widths: dict[str, int]) -> dict[tuple[str, str], list[float]]:
    """(target, column) -> per-seed test P@1: the transfer columns from ``grids`` (keyed as :data:`GRID`'s
    values), the others from ``references[column][target]`` (random prompt, manual template, direct tuning)."""
    sources = source_sets(models, widths)
    values = {}
    for t in models:
        for column in COLUMNS:
            if column in GRID:
                values[t, column] = per_seed(grids[GRID[column]], t, sources[column][t])
            else:
                values[t, column] = list(references[column][t])
    return values


def paper_cell(column: str, target: str, models: list[str], widths: dict[str, int]) -> float:
    """The paper's number for ``column`` on ``target``'s twin, averaged over the twins of the same sources
    as ours (NaN where the paper has none of them)."""
    if column in ("manual template", "direct tuning", "random prompt"):
        return paper.reference(column, target)
    sources = source_sets(models, widths)[column][target]
    if column == "direct":
        cells = [c for s in sources if (c := paper.direct_reference(s, target)) is not None]
        return sum(cells) / len(cells) if cells else math.nan
    return paper.transfer_mean(column.split(" (")[0], [(s, target) for s in sources])


def over_targets(values: dict[tuple[str, str], list[float]], column: str, targets: list[str]) -> list[float]:
    """Per seed: the mean over ``targets`` of a column's per-seed values (targets without any, e.g. "direct" into
    a model of a width no other model has, are left out)."""
    per_target = [values[t, column] for t in targets if values[t, column]]
    if not per_target:
        return []
    return [sum(v[i] for v in per_target) / len(per_target) for i in range(len(per_target[0]))]


def chain_links(values, paper_means: dict[str, float], targets: list[str]) -> pd.DataFrame:
    """One row per link a < b of :data:`CHAIN`: our means over targets (%), the verdict on "b is higher"
    (:func:`verdicts.claim`), and the paper's means with whether its link holds."""
    rows = []
    for a, b in zip(CHAIN, CHAIN[1:]):
        ours_a, ours_b = over_targets(values, a, targets), over_targets(values, b, targets)
        rows.append({"link": f"{a} < {b}", "ours": f"{100 * _mean(ours_a):.1f} vs {100 * _mean(ours_b):.1f}",
                     "ours: the link": verdicts.claim(verdicts.compare(ours_b, ours_a)),
                     "paper": f"{paper_means[a]:.1f} vs {paper_means[b]:.1f}",
                     "paper: the link": ordering(paper_means[a], paper_means[b])})
    return pd.DataFrame(rows).set_index("link")


def ordering(a: float, b: float) -> str:
    """"holds" when a < b, else "does not hold" (single numbers: no spread to judge against)."""
    return "holds" if a < b else "does not hold"


def paper_chain_means(targets: list[str] | None = None) -> dict[str, float]:
    """The paper's own mean for each chain column over its ``targets`` (default: all six of Table 2):
    transfers averaged over every other source model of Table 3 (base sources: BERT-base and RoBERTa-base)."""
    targets = list(targets or paper.MODELS)
    sources = [s for method, s in paper.TRANSFER.index if method == "relative" and " + " not in s]
    base = ["BERT-base", "RoBERTa-base"]

    def transfer_mean(method, pool):
        cells = [paper.TRANSFER.loc[(method, s), t] for s in pool for t in targets if s != t]
        return float(sum(cells) / len(cells))

    return {"discretization": transfer_mean("discretization", sources),
            "projector": transfer_mean("projector", sources),
            "manual template": float(paper.REFERENCE.loc["manual template", targets].mean()),
            "relative (base sources)": transfer_mean("relative", base),
            "direct tuning": float(paper.REFERENCE.loc["direct tuning", targets].mean())}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def plain_outcome(comparison: verdicts.Comparison, higher: str, lower: str) -> str:
    """A comparison in words for a sentence "a is ... b": ``higher`` / ``lower`` when the gap exceeds the spread
    over seeds, else "no differently (within the seed spread) from" (or "... (one seed) ..." without seeds, "...
    (nothing to compare ...) ..." when a side has no runs)."""
    return {verdicts.HIGHER: higher, verdicts.LOWER: lower,
            verdicts.NOISE: "no differently (within the seed spread) from",
            verdicts.ONE_SEED: "not measurably differently (one seed, no spread to judge) from",
            verdicts.NO_DATA: "not measurably differently (nothing to compare: no runs on one side) from"}[
        comparison.outcome]
