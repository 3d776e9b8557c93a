"""The zoo's targets (issue 15) on one built zoo, so that zoos pretrained with other seeds can be compared.

    python -m tutorial_lib.zoo.build --out .zoo-work/zoo-s100 --seed-offset 100     # another instance
    mkdir -p .zoo-work/data-s100 && cp data/lama_sha256.json .zoo-work/data-s100/
    ln -s ../zoo-s100 .zoo-work/data-s100/zoo
    TUTORIAL_LIB_DATA=.zoo-work/data-s100 python benchmarks/zoo_seeds.py --save benchmarks/zoo_seeds/s100.json
    python benchmarks/zoo_seeds.py --summary benchmarks/zoo_seeds/*.json       # the instances side by side
    python benchmarks/zoo_seeds.py --epochs 10 --save benchmarks/zoo_seeds/shipped-epochs10.json  # longer tuning

Measures, with the cpu profile's settings (3 tuning seeds, 40 test facts a relation, chapter 4's search;
``--epochs`` tunes the source prompts longer), on the zoo that ``$TUTORIAL_LIB_DATA`` (else ``data/``) holds:
chapter 1's tuned prompt minus the manual template; chapter 4's cross-model cells in which relative transfer
beats discretization (also by the book's rule, ``verdicts.compare``: by more than the spread over tuning
seeds) and the projector, and the mean of each method; and the largest same-index |r| of each pair against
its chance level. The runs go to the run store, so the book reuses them for the shipped zoo.
"""
from __future__ import annotations

import argparse
import itertools
import json
import warnings
from pathlib import Path

import pandas as pd
import yaml

from tutorial_lib import experiments
from tutorial_lib.anchors import anchor_pairs
from tutorial_lib.data import DATA_DIR
from tutorial_lib.geometry import same_index
from tutorial_lib.results import RunStore
from tutorial_lib.verdicts import HIGHER, LOWER, NOISE, compare

CPU = yaml.safe_load((Path(__file__).resolve().parents[1] / "params" / "cpu.yaml").read_text())
MODELS = CPU["models"]
TOPK = 2000  # chapter 4's default (the profile leaves it to the notebook)


def measure(epochs: int) -> dict:
    store, p = RunStore(), {**CPU, "epochs": epochs}
    world = experiments.load_world(MODELS, p["relations"], "cpu", p["test_facts"])
    cards = {name: json.loads((DATA_DIR / "zoo" / name / "card.json").read_text()) for name in MODELS}
    tuned = {(t, sd): experiments.source_prompts(world, t, sd, p["m"], p["epochs"], store)[1]["test"]["mean"]
             for t in MODELS for sd in p["seeds"]}
    manual = {(t, sd): experiments.reference_scores(world, t, sd, p["m"], store)["manual template"]["mean"]
              for t in MODELS for sd in p["seeds"]}
    cells = {}
    for method in ("relative", "discretize", "projector"):
        options = experiments.method_options(method, p["n_anchors"], p["max_steps"], TOPK, p["projector_epochs"])
        grid = experiments.transfer_grid(world, method, [[s] for s in MODELS], MODELS, p["seeds"], p["m"],
                                         p["epochs"], store, **options)
        cross = grid[grid.sources != grid.target]
        cells[method] = cross.groupby(["sources", "target"]).test.apply(lambda t: [round(100 * v, 6) for v in t])
    coordinates = {}
    for a, b in itertools.combinations(MODELS, 2):
        _, (emb_a,), emb_b = anchor_pairs(world.models[a], world.models[b], None)
        coordinates[f"{a}|{b}"] = {k: round(v, 4) for k, v in same_index(emb_a, emb_b).items()}
    return {"epochs": epochs, "pretraining_seeds": {name: card["spec"]["seed"] for name, card in cards.items()},
            "facts": {name: card["eval"]["mean"] for name, card in cards.items()},
            "tuned_minus_manual": 100 * (sum(tuned.values()) - sum(manual.values())) / len(tuned),
            "cells": {f"{s}|{t}": {k: cells[k][s, t] for k in cells} for s, t in cells["relative"].index},
            "coordinates": coordinates}


def summary(runs: dict[str, dict]) -> pd.DataFrame:
    """One column per zoo instance: the issue's targets."""
    rows = {}
    for name, run in runs.items():
        per_seed = pd.DataFrame(run["cells"]).T
        cells = per_seed.map(lambda seeds: sum(seeds) / len(seeds)).round(4)  # a tie stays a tie
        versus = pd.Series([compare(r, d).outcome for r, d in zip(per_seed.relative, per_seed.discretize)])
        same = pd.DataFrame(run["coordinates"]).T
        rows[name] = {
            "pretraining seeds": " ".join(str(s) for s in run["pretraining_seeds"].values()),
            "prompt-tuning epochs": run.get("epochs", CPU["epochs"]),
            "facts stored / manual template (fill-mask, per model)": " ".join(
                f"{f['paraphrase']:.2f}/{f['manual']:.2f}" for f in run["facts"].values()),
            "tuned - manual (points)": round(run["tuned_minus_manual"], 1),
            "relative beats discretization (of 12)": int((cells.relative > cells.discretize).sum()),
            "... by more than the seed spread / within it / discretization by more": " / ".join(
                str(int((versus == outcome).sum())) for outcome in (HIGHER, NOISE, LOWER)),
            "relative beats projector (of 12)": int((cells.relative > cells.projector).sum()),
            "cells discretization wins (source>target)": ", ".join(
                pair.replace("mini-", "").replace("|", ">")
                for pair in cells.index[cells.relative <= cells.discretize]),
            "relative / discretization / projector (%)": " / ".join(f"{cells[k].mean():.1f}" for k in
                                                                   ("relative", "discretize", "projector")),
            "same-index largest abs(r) (range over pairs)":
                f"{same.same_index_r.min():.2f}-{same.same_index_r.max():.2f}",
            "pairs below chance's 95th percentile (of 6)": int((same.same_index_r <= same.same_index_chance_95).sum()),
        }
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--save", type=Path, help="write the measurement to this JSON file")
    parser.add_argument("--epochs", type=int, default=CPU["epochs"],
                        help="prompt-tuning epochs of the source prompts (default: the cpu profile's)")
    parser.add_argument("--summary", type=Path, nargs="+", help="print saved measurements side by side and stop")
    args = parser.parse_args()
    if args.summary:
        print(summary({path.stem: json.loads(path.read_text()) for path in args.summary}).to_string())
        return
    warnings.simplefilter("ignore")
    run = measure(args.epochs)
    print(summary({"this zoo": run}).to_string())
    print(pd.DataFrame(run["cells"]).T.to_string())  # test P@1 (%) per tuning seed
    if args.save:
        args.save.write_text(json.dumps(run, indent=1) + "\n")


if __name__ == "__main__":
    main()
