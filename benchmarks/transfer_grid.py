"""Time of the whole transfer grid of a profile: every method x source x target x seed (not library code).

    .venv/bin/python benchmarks/transfer_grid.py [--params params/cpu.yaml] [--prompts-from ~/.cache/tutorial_lib/runs]

The grid is what chapters 2-4 compute: direct transfer (same-width pairs), discretization, the projector and
the relative search from every model to every model, for every seed of the profile, each scored on the
target's test facts, through the same library calls as the chapters. Transfers run in a fresh temporary run
store, so nothing is loaded from an earlier run; the source prompts (chapter 1's work, timed separately) are
taken from ``--prompts-from`` when that store holds them. Printed: seconds per method (with the number of
transfers and seconds per transfer), the total, and the final grid (mean ± std over seeds of the mean test P@1
over relations).
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import torch
import yaml

from tutorial_lib import experiments
from tutorial_lib.results import RunStore, default_root
from tutorial_lib.transfer import FewAnchorsWarning


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params/cpu.yaml")
    parser.add_argument("--prompts-from", type=Path, default=None, help="run store with tuned source prompts")
    args = parser.parse_args(argv)
    p = yaml.safe_load(Path(args.params).read_text())
    warnings.simplefilter("ignore", FewAnchorsWarning)
    world = experiments.load_world(p["models"], p["relations"], p["device"], p.get("test_facts"))
    models, seeds, m, epochs = p["models"], p["seeds"], p["m"], p["epochs"]
    print(f"{args.params}: {len(models)} models, {len(world.relations)} relations, seeds {seeds}, "
          f"{torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as tmp:
        source = args.prompts_from or default_root()
        if (source / "prompts").is_dir():
            shutil.copytree(source / "prompts", Path(tmp) / "prompts")
        store = RunStore(tmp)
        t0 = time.perf_counter()
        for name in models:
            for seed in seeds:
                experiments.source_prompts(world, name, seed, m, epochs, store, progress=False)
        print(f"source prompts (chapter 1; loaded when --prompts-from has them): {time.perf_counter() - t0:.1f} s")
        widths = {name: lm.width for name, lm in world.models.items()}
        total, grids = 0.0, {}
        for method in ("direct", "discretize", "projector", "relative"):
            pairs = [([s], t) for s in models for t in models if method != "direct" or widths[s] == widths[t]]
            options = experiments.method_options(method, p["n_anchors"], p["max_steps"], 2000,
                                                 p.get("projector_epochs", 10))
            t0 = time.perf_counter()
            if method == "direct":  # same-width pairs only, one transfer at a time (as chapter 2)
                rows = [(s[0], t, seed, experiments.transfer_scores(world, method, s, t, seed, m, epochs, store,
                                                                    progress=False, **options)[0]["mean"])
                        for s, t in pairs for seed in seeds]
            else:  # as chapters 3 and 4 (the projector trains the seeds of a pair together)
                grid = experiments.transfer_grid(world, method, [[s] for s in models], models, seeds, m, epochs,
                                                 store, progress=False, **options)
                rows = list(zip(grid.sources, grid.target, grid.seed, grid.test))
            spent = time.perf_counter() - t0
            total += spent
            grids[method] = rows
            print(f"{method:<11} {spent:7.1f} s  {len(rows):3d} transfers  {spent / len(rows):5.2f} s each",
                  flush=True)
        print(f"{'grid':<11} {total:7.1f} s  ({total / 60:.1f} min; target: at most 10 min on 2 cores)")
    for method, rows in grids.items():
        print(f"\n{method}: test P@1 (%), rows source, columns target, mean ± std over {len(seeds)} seeds")
        print(" " * 20 + "".join(f"{t:>22}" for t in models))
        for s in models:
            cells = []
            for t in models:
                values = torch.tensor([100 * v for a, b, _, v in rows if a == s and b == t])
                cells.append(f"{values.mean():.1f} ± {values.std(correction=0):.1f}" if len(values) else "-")
            print(f"{s:<20}" + "".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
