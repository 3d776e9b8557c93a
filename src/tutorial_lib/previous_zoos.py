"""The earlier zoos' measurements (``data/zoo/previous_zoos.json``, written by ``benchmarks/zoo_geometry.py``),
for the chapters' tables that set the shipped zoo beside them.

Schema: ``{"zoos": {zoo name: {"<A>|<B>": {"p_at_1", "linear_r2", "same_index_r", ...}}}}``.
"""
from __future__ import annotations

import json
from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "data" / "zoo" / "previous_zoos.json"


def load(path: Path = PATH) -> dict[str, dict[str, dict[str, float]]]:
    """Zoo name -> pair -> measurements; empty when the file is absent (a checkout without it)."""
    path = Path(path)
    return json.loads(path.read_text())["zoos"] if path.is_file() else {}


def value(pairs: dict[str, dict[str, float]], a: str, b: str, key: str) -> float | None:
    """``key`` measured for the pair (a, b) in either order, or None when it was not measured."""
    return (pairs.get(f"{a}|{b}") or pairs.get(f"{b}|{a}") or {}).get(key)
