"""The book's one rule for calling a difference: only when it exceeds the spread over seeds.

``compare(a, b)``: a and b are per-seed values (or one number, e.g. the paper's). The difference is
mean(a) - mean(b); the spread is the larger sample standard deviation (ddof = 1) over seeds of the two
sides (a single number has none). The difference counts ("higher" / "lower") only when |difference| >
spread; otherwise it is "within noise". With fewer than two seeds on both sides there is no spread to judge
against: "not judged (one seed)". ``claim`` turns that into a verdict on a claim that a should be higher (or lower).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

HIGHER, LOWER, NOISE, ONE_SEED = "higher", "lower", "within noise", "not judged (one seed)"
NO_DATA = "not judged (nothing to compare)"
HOLDS, DIFFERS = "holds", "differs"


@dataclass(frozen=True)
class Comparison:
    diff: float      # mean(a) - mean(b)
    spread: float    # larger sample std over seeds of a and b (nan: no side has two seeds)
    outcome: str     # HIGHER, LOWER, NOISE or ONE_SEED


def _floats(x: float | Sequence[float]) -> list[float]:
    return [float(v) for v in x] if hasattr(x, "__len__") else [float(x)]


def _values(x: float | Sequence[float]) -> list[float]:
    values = _floats(x)
    if not values or any(math.isnan(v) for v in values):
        raise ValueError(f"compare needs numbers, got {x!r}")
    return values


def _std(values: list[float]) -> float:
    if len(values) < 2:
        return math.nan
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def compare(a: float | Sequence[float], b: float | Sequence[float]) -> Comparison:
    """Difference of means and whether it exceeds the spread over seeds (the module's rule)."""
    a, b = _values(a), _values(b)
    diff = sum(a) / len(a) - sum(b) / len(b)
    stds = [s for s in (_std(a), _std(b)) if not math.isnan(s)]
    if not stds:
        return Comparison(diff, math.nan, ONE_SEED)
    spread = max(stds)
    if abs(diff) <= spread:
        return Comparison(diff, spread, NOISE)
    return Comparison(diff, spread, HIGHER if diff > 0 else LOWER)


def _has_numbers(x: float | Sequence[float]) -> bool:
    return any(not math.isnan(v) for v in _floats(x))


def compare_if_any(a: float | Sequence[float], b: float | Sequence[float]) -> Comparison:
    """:func:`compare`, or NO_DATA when a side has no numbers: empty or NaN only (e.g. no relation whose accuracy
    moved, so no ranking; or no large source models in the run, so nothing to set the base ones against)."""
    if not (_has_numbers(a) and _has_numbers(b)):
        return Comparison(math.nan, math.nan, NO_DATA)
    return compare(a, b)


def claim(comparison: Comparison, expected: str = HIGHER) -> str:
    """Verdict on a claim that a is ``expected`` (HIGHER or LOWER) than b: holds, differs, within noise or not
    judged."""
    if expected not in (HIGHER, LOWER):
        raise ValueError(f"expected must be {HIGHER!r} or {LOWER!r}, got {expected!r}")
    if comparison.outcome in (NOISE, ONE_SEED, NO_DATA):
        return comparison.outcome
    return HOLDS if comparison.outcome == expected else DIFFERS
