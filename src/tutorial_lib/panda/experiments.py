"""Chapter 7's experiments as tables: the PoT gain of every (source, target) pair, and scratch / PoT / PANDA /
fusion on one target."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ..data import Relation
from ..prompts import PromptSet
from ..results import RunStore
from ..zoo import MaskedLM
from .distill import DISTILL_KINDS
from .jobs import PandaConfig, fuse_prompts, fused_score, late_fusion_job, panda_job, pot_job, scratch_job
from .runs import tune_targets
from .tasks import source_vectors


def transfer_gains(lm: MaskedLM, sources: PromptSet, tasks: dict[str, Relation], vocab: list[str],
                   n_train: list[int], seeds: list[int], config: PandaConfig = PandaConfig(),
                   store: RunStore | None = None, progress: bool = True) -> pd.DataFrame:
    """Scratch and PoT P@1 for every ordered (source, target) pair of ``tasks``, training-set size and seed.

    One row per (source, target, n_train, seed) with ``scratch``, ``pot`` and ``gain`` = pot - scratch.
    """
    ids = list(tasks)
    source_vectors(lm, sources, ids)
    cells = [(s, t, n, seed) for t in ids for n in n_train for seed in seeds for s in [None] + ids if s != t]
    jobs = [scratch_job(tasks[t], replace(config, n_train=n, seed=seed)) if s is None else
            pot_job(sources[s], tasks[t], replace(config, n_train=n, seed=seed)) for s, t, n, seed in cells]
    runs = dict(zip(cells, tune_targets(lm, jobs, vocab, store, progress)))
    return pd.DataFrame([{"source": s, "target": t, "n_train": n, "n_used": run.n_train, "seed": seed,
                          "scratch": runs[None, t, n, seed].test, "pot": run.test,
                          "gain": run.test - runs[None, t, n, seed].test}
                         for (s, t, n, seed), run in runs.items() if s is not None])


def gain_matrix(gains: pd.DataFrame, n_train: int | None = None) -> pd.DataFrame:
    """Mean PoT gain per (source, target) (over seeds; over one ``n_train`` or all): rows source, columns target."""
    rows = gains if n_train is None else gains[gains["n_train"] == n_train]
    return rows.groupby(["source", "target"])["gain"].mean().unstack("target")


def compare_methods(lm: MaskedLM, sources: PromptSet, tasks: dict[str, Relation], target: str,
                    scores: pd.DataFrame, vocab: list[str], n_train: list[int], seeds: list[int],
                    config: PandaConfig = PandaConfig(), k_fusion: int = 2, also_distill: tuple[str, ...] = (),
                    also_unlabelled: bool = False, store: RunStore | None = None,
                    progress: bool = True) -> pd.DataFrame:
    """Scratch, PoT and PANDA from the source the metric ``scores`` rank first, and early / late fusion of the
    top ``k_fusion`` sources, on ``target`` for every training-set size and seed. ``also_distill``: further
    distillation kinds to run single-source PANDA with (method ``"PANDA (mse)"``, ...); ``also_unlabelled``:
    single-source PANDA distilled on the task's unlabelled training inputs too (method ``"PANDA +
    unlabelled"``, see :class:`PandaConfig`). One row per run."""
    if target not in tasks:
        raise KeyError(f"unknown target {target!r}; the tasks are {list(tasks)}")
    for kind in also_distill:
        if kind not in DISTILL_KINDS:
            raise ValueError(f"unknown distillation kind {kind!r}; choose one of {list(DISTILL_KINDS)}")
    ranked = scores.loc[[s for s in scores.index if s != target and s in tasks], target].sort_values(ascending=False)
    top = list(ranked.index[:max(1, k_fusion)])
    top_vectors = source_vectors(lm, sources, top)
    top_scores = [float(ranked[s]) for s in top]
    rel, fused = tasks[target], "+".join(top)
    cells = [replace(config, n_train=n, seed=seed) for n in n_train for seed in seeds]
    # Stage 1, the teachers: scratch, PoT from each top source and from their fused prompt (early fusion).
    # Keys: (settings, method, source).
    first = {}
    for cfg in cells:
        first[cfg, "scratch", ""] = scratch_job(rel, cfg)
        first.update({(cfg, "PoT", s): pot_job(top_vectors[i], rel, cfg) for i, s in enumerate(top)})
        if len(top) > 1:
            first[cfg, "early fusion PoT", fused] = pot_job(fuse_prompts(top_vectors, top_scores), rel, cfg)
    done = dict(zip(first, tune_targets(lm, list(first.values()), vocab, store, progress)))
    # Stage 2, the students distilled from them
    second = {}
    for cfg in cells:
        teacher = done[cfg, "PoT", top[0]].vectors
        second[cfg, "PANDA", top[0]] = panda_job(teacher, rel, top_scores[0], cfg)
        for kind in also_distill:
            if kind != config.distill:  # that kind's default scale
                other = replace(cfg, distill=kind, alpha=None)
                second[cfg, f"PANDA ({kind})", top[0]] = panda_job(teacher, rel, top_scores[0], other)
        if also_unlabelled:
            semi = replace(cfg, distill_on="unlabelled")
            second[cfg, "PANDA + unlabelled", top[0]] = panda_job(teacher, rel, top_scores[0], semi)
        if len(top) > 1:
            early = done[cfg, "early fusion PoT", fused].vectors
            second[cfg, "early fusion PANDA", fused] = panda_job(early, rel, fused_score(top_scores), cfg)
            second[cfg, "late fusion PANDA", fused] = late_fusion_job([done[cfg, "PoT", s].vectors for s in top],
                                                                      top_scores, rel, cfg)
    done.update(zip(second, tune_targets(lm, list(second.values()), vocab, store, progress)))
    rows = [{"target": target, "method": method, "source": source, "n_train": cfg.n_train, "n_used": run.n_train,
             "seed": cfg.seed, "test": run.test, "dev": run.dev, "weight": run.weight}
            for (cfg, method, source), run in done.items()
            if method != "PoT" or source == top[0]]  # the other sources' PoT runs are late fusion's teachers
    return pd.DataFrame(rows)
