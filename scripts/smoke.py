#!/usr/bin/env python
"""Smoke runs of every chapter beyond the CI profile: the ways a reader runs the book off its default path.

    python scripts/smoke.py second-model      # a Hub-layout model that is not a zoo model, beside zoo models
    python scripts/smoke.py one-width         # two models of one width, two seeds (no large sources)
    python scripts/smoke.py gpu-structure     # params/gpu.yaml's keys at tiny sizes (params/tiny.yaml)
    python scripts/smoke.py paper-structure   # params/paper.yaml's keys, fixture models, 41 relations, tiny
    python scripts/smoke.py all

Each writes its merged parameters to _build/smoke/<name>/params.yaml and executes every chapter with
scripts/build_book.py into _build/smoke/<name>/ (no HTML; budget.json there has the timings). Fixture
models (scripts/hub_fixture.py) are built into _build/fixtures/ on first use. Exit status: that of the
first smoke that failed, else 0.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_book  # noqa: E402
import hub_fixture  # noqa: E402

ROOT = build_book.ROOT
SMOKE = ROOT / "_build" / "smoke"
FIXTURES = ROOT / "_build" / "fixtures"


def fixture(hidden: int, seed: int) -> str:
    """Path of a fixture model (BERT, 2 layers, random weights, 30,522 WordPiece tokens), built once."""
    return str(hub_fixture.build(FIXTURES / f"hub-bert-{hidden}-s{seed}", hidden=hidden, layers=2, seed=seed))


def load(*names: str) -> dict:
    params = {}
    for name in names:
        params.update(yaml.safe_load((ROOT / name).read_text()))
    return params


def rename(value, names: dict[str, str]):
    """``value`` with every model name in ``names`` replaced, inside lists too."""
    if isinstance(value, list):
        return [rename(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


def second_model() -> dict:
    """The CI profile with a non-zoo model as chapter 2-4's extra target, chapter 5's held-out target and
    chapter 6's analysis target (chapter 7 keeps models[0])."""
    hub = fixture(64, 0)
    return {**load("params/ci.yaml"), "relations": ["P19", "P36", "P103"],
            "models": ["mini-bert-base", "mini-roberta-base", hub],
            "multi_source_pairs": [["mini-bert-base", "mini-roberta-base"]],
            "multi_source_targets": [hub], "analysis_target": hub}


def one_width() -> dict:
    """The CI profile with two seeds on two models of one width (as a reader's bert-base-cased and roberta-base):
    no large source is there to set the base ones against."""
    return {**load("params/ci.yaml"), "models": ["mini-bert-base", "mini-roberta-base"], "seeds": [0, 1],
            "multi_source_targets": None, "analysis_target": "mini-roberta-base"}


def gpu_structure() -> dict:
    return load("params/gpu.yaml", "params/tiny.yaml")


def paper_structure() -> dict:
    """params/paper.yaml at tiny sizes, its six Hub ids played by three fixtures: two base widths, one large."""
    base_a, base_b, large = fixture(64, 0), fixture(64, 1), fixture(96, 2)
    names = {"bert-base-cased": base_a, "roberta-base": base_b, "albert-base-v2": base_b,
             "bert-large-cased": large, "roberta-large": large, "albert-large-v2": large}
    params = {key: rename(value, names) for key, value in load("params/paper.yaml", "params/tiny.yaml").items()}
    params["models"] = list(dict.fromkeys(params["models"]))
    return params


SMOKES = {"second-model": second_model, "one-width": one_width, "gpu-structure": gpu_structure,
          "paper-structure": paper_structure}


def run(name: str) -> int:
    out = SMOKE / name
    out.mkdir(parents=True, exist_ok=True)
    (out / "params.yaml").write_text(yaml.safe_dump(SMOKES[name](), sort_keys=False))
    print(f"smoke: {name}", flush=True)
    return build_book.main(["--params", str(out / "params.yaml"), "--no-build", "--out", str(out)])


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or ["all"]
    if names == ["all"]:
        names = list(SMOKES)
    unknown = [n for n in names if n not in SMOKES]
    if unknown:
        print(f"smoke: unknown {unknown}; known: {list(SMOKES)} or all", file=sys.stderr)
        return 2
    codes = [run(n) for n in names]
    return next((c for c in codes if c), 0)


if __name__ == "__main__":
    sys.exit(main())
