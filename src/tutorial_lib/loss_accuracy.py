"""Fig. 2 of the paper as a cached unit (chapter 6): the relative search with the matching loss and the target's
accuracy recorded along its steps, and their rank correlation."""
from __future__ import annotations

from dataclasses import asdict

import torch

from . import data
from .experiments import World, source_prompts
from .prompts import PromptSet, TuneConfig, evaluate
from .results import RunStore
from .zoo import MaskedLM


def log_steps(last: int, points: int) -> list[int]:
    """About ``points`` distinct search steps from 0 to ``last``, log-spaced (dense where the loss and the
    accuracy move most, in the first steps), always with 0 (the random start) and ``last``."""
    import numpy as np

    if not isinstance(points, int) or isinstance(points, bool) or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    if not isinstance(last, int) or isinstance(last, bool) or last < 1:
        raise ValueError(f"last must be a positive number of steps, got {last!r}")
    return sorted({0, last, *np.unique(np.geomspace(1, last, points - 1).round().astype(int)).tolist()})


class AccuracyRecorder:
    """A ``callback(step, prompts)`` for :func:`tutorial_lib.transfer.relative_transfer` that scores the
    target prompts at the search steps ``steps`` (e.g. :func:`log_steps`) with :func:`evaluate` on
    ``splits``: the accuracy half of the paper's Fig. 2. ``points``: one dict per recorded step,
    ``{"step": s, "dev": {relation: P@1, ..., "mean": ...}, "test": {...}}``. Uses target labels: an
    analysis tool, not part of zero-shot transfer."""

    def __init__(self, lm: MaskedLM, relations: dict[str, data.Relation], vocab: list[str], steps,
                 splits=("dev", "test")):
        steps = set(steps)
        if not steps or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in steps):
            raise ValueError(f"steps must be non-negative integers (search steps), got {sorted(steps, key=str)}")
        bad = [s for s in splits if s not in data.SPLITS]
        if bad or not splits:
            raise ValueError(f"unknown split(s) {bad or list(splits)}; choose from {list(data.SPLITS)}")
        self.lm, self.relations, self.vocab = lm, relations, vocab
        self.steps, self.splits = steps, tuple(splits)
        self.points: list[dict] = []

    def __call__(self, step: int, prompts: torch.Tensor) -> None:
        if step not in self.steps:
            return
        prompt_set = PromptSet(self.lm.name, list(self.relations), prompts.detach().cpu(), {})
        point = {"step": step}
        for split in self.splits:
            point[split] = evaluate(self.lm, prompt_set, self.relations, self.vocab, split)
        self.points.append(point)


def search_trajectory(world: World, sources: list[str], target: str, seed: int, points: int = 25, m: int = 5,
                      epochs: int = 10, store: RunStore | None = None, progress: bool = True, **options):
    """Fig. 2 unit: the relative search from ``sources`` to ``target`` with the matching loss and the
    target's dev and test P@1 recorded at about ``points`` log-spaced steps (:func:`log_steps`: densely in
    the first steps, where both move most), cached in the run store.

    ``options`` as in :func:`transfer_scores` (``steps``, ``n_anchors``, ``topk``, ``normalize``).
    Returns a tidy table, one row per recorded step and relation (plus relation ``"mean"``): ``step``,
    ``relation``, ``loss`` (Eq. 5/7 matching loss), ``dev``, ``test``; ``attrs["chosen_step"]`` is the step
    the search returns (lowest loss).
    """
    import pandas as pd
    from .transfer import transfer

    sources = [sources] if isinstance(sources, str) else list(sources)
    recorded = log_steps(options.get("steps", 2000), points)  # fails early on a bad ``points``
    store = store if store is not None else RunStore()
    prompts = [source_prompts(world, s, seed, m, epochs, store, progress)[0] for s in sources]
    config = {"sources": sources, "target": target, "seed": seed, "steps_recorded": recorded,
              "revisions": world.revisions([*sources, target]), "relations": list(world.relations),
              "source_tuning": asdict(TuneConfig(m=m, epochs=epochs, seed=seed)), "vocab_size": len(world.vocab),
              "facts": world.facts_digest, "options": options}

    def compute():
        recorder = AccuracyRecorder(world.models[target], world.relations, world.vocab, recorded)
        result = transfer("relative", [world.models[s] for s in sources], [p.vectors for p in prompts],
                          world.models[target], seed=seed, callback=recorder, record_every=1, **options)
        history = result.history
        points = []
        for point in recorder.points:
            i = history["step"].index(point["step"])
            loss = dict(zip(world.relations, history["per_relation"][i]), mean=history["loss"][i])
            points.append({**point, "loss": loss})
        return {"points": points, "chosen_step": history["chosen_step"]}, {"vectors": result.prompts}

    record = store.get_or_compute("trajectory", config, compute)
    rows = [{"step": p["step"], "relation": r, "loss": p["loss"][r], "dev": p["dev"][r], "test": p["test"][r]}
            for p in record.metrics["points"] for r in p["loss"]]
    table = pd.DataFrame(rows)
    table.attrs["chosen_step"] = record.metrics["chosen_step"]
    return table


def loss_accuracy_coefficients(trajectory, split: str = "test") -> dict[str, float]:
    """Each relation's own Spearman rank correlation between the matching loss and ``split`` P@1 over the
    recorded steps of a :func:`search_trajectory` table (as the paper's Fig. 2 reads the search, one relation
    at a time); relations whose loss or accuracy never changes have no ranking and are left out."""
    from scipy.stats import spearmanr

    rows = trajectory[trajectory.relation != "mean"].dropna(subset=["loss", split])
    if rows.empty or rows.groupby("relation").size().min() < 3:
        raise ValueError(f"need at least 3 recorded points for a rank correlation, got {len(rows)}")
    return {relation: float(spearmanr(r["loss"], r[split]).statistic) for relation, r in rows.groupby("relation")
            if r[split].nunique() > 1 and r["loss"].nunique() > 1}


def loss_accuracy_correlation(trajectory, split: str = "test", per_relation: bool = False) -> float:
    """Spearman rank correlation between the matching loss and ``split`` P@1 over the recorded steps of the
    mean over relations; ``per_relation=True``: the mean of :func:`loss_accuracy_coefficients`. Negative =
    lower loss goes with higher accuracy."""
    from scipy.stats import spearmanr

    if per_relation:
        coefficients = list(loss_accuracy_coefficients(trajectory, split).values())
        return sum(coefficients) / len(coefficients) if coefficients else float("nan")
    rows = trajectory[trajectory.relation == "mean"].dropna(subset=["loss", split])
    if len(rows) < 3:
        raise ValueError(f"need at least 3 recorded points for a rank correlation, got {len(rows)}")
    if rows[split].nunique() < 2 or rows["loss"].nunique() < 2:
        return float("nan")
    return float(spearmanr(rows["loss"], rows[split]).statistic)
