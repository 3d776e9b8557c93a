"""Shared word geometry and shared coordinates between every pair of models of a zoo directory.

    python benchmarks/zoo_geometry.py DIR NAME [--save data/zoo/previous_zoos.json]

Prints, for each pair, word translation P@1 through relative encodings (geometry), the held-out linear-map
R², and the largest same-index |r| (coordinates; `transfer.same_index_correlation`). With ``--save`` the
numbers are stored under ``NAME`` in that JSON file (the chapters read the earlier zoos' numbers from it).
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from tutorial_lib.transfer import shared_geometry
from tutorial_lib.zoo import load_model

KEYS = ("p_at_1", "chance", "linear_r2", "same_index_r", "same_index_mean", "same_index_chance")


def measure(zoo: Path) -> dict[str, dict[str, float]]:
    names = sorted(p.name for p in zoo.iterdir() if (p / "config.json").is_file())
    lms = {n: load_model(str(zoo / n), device="cpu") for n in names}
    out = {}
    for a, b in itertools.combinations(names, 2):
        g = shared_geometry(lms[a], lms[b])
        out[f"{a}|{b}"] = {k: round(g[k], 4) for k in KEYS}
        print(f"{a:>20} {b:>20}  translation {g['p_at_1']:.3f}  R2 {g['linear_r2']:.3f}  "
              f"same-index |r| mean {g['same_index_mean']:.3f} max {g['same_index_r']:.3f} "
              f"(chance {g['same_index_chance']:.3f})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("zoo", type=Path)
    parser.add_argument("name")
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    pairs = measure(args.zoo)
    if args.save:
        saved = json.loads(args.save.read_text()) if args.save.is_file() else {"zoos": {}}
        saved["zoos"][args.name] = pairs
        args.save.write_text(json.dumps(saved, indent=1) + "\n")


if __name__ == "__main__":
    main()
