"""Tuning target runs (:class:`jobs.TargetJob`): every run through the run store (a second run of a notebook
is instant), the runs that share a step schedule tuned together in one batched pass, each as if alone."""
from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, replace
from typing import Callable

import torch

from ..data import Fact, Relation
from ..progress import tqdm
from ..prompts import evaluate, init_prompts, scored_facts, tune_prompts
from ..results import RunStore
from ..zoo import MaskedLM
from .distill import distillation_term, teacher_mix
from .jobs import TargetJob, TargetRun
from .tasks import check_vector, low_resource


def _digest(x) -> str:
    if isinstance(x, torch.Tensor):
        payload = x.detach().float().cpu().contiguous().numpy().tobytes()
    else:
        payload = " ".join(map(str, x)).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


@dataclass(eq=False)
class _Prepared:
    job: TargetJob
    task: Relation
    train: list[Fact]
    init: torch.Tensor | None
    teachers: list[torch.Tensor]
    key: dict


def _prepare(lm: MaskedLM, job: TargetJob, vocab: list[str]) -> _Prepared:
    """Check a job against the model and build its run-store key."""
    config, target = job.config, job.target
    task = low_resource(target, config.n_train, config.seed, vocab)
    train = scored_facts(task.split("train"), vocab)
    if not train:
        raise ValueError(f"{target.id} has no training facts with objects in the scoring vocabulary")
    init = None if job.init is None else check_vector(lm, job.init, config.m, "the initial prompt")
    teachers = [check_vector(lm, t, config.m, f"teacher {i}") for i, t in enumerate(job.teachers)]
    if teachers:
        teacher_mix(job.teacher_weights, len(teachers))
    key = {"method": job.method, "model": lm.name, "revision": lm.revision, "width": lm.width, "target": target.id,
           "train": _digest(sorted(f.uuid for f in train)),
           "eval": _digest(sorted(f.uuid for f in target.facts if f.split != "train")),
           "vocab": _digest(vocab), **asdict(config),
           "init": None if init is None else _digest(init[None]),
           "teachers": [_digest(t) for t in teachers],
           "teacher_weights": None if job.teacher_weights is None else [float(w) for w in job.teacher_weights],
           "weight": float(job.weight)}
    if teachers and config.distill == "mse":
        key["mse"] = "divided by the batch size"  # the authors' form; stored runs without this key lack the / N
    return _Prepared(job, task, train, init, teachers, key)


def _per_run(terms: dict[int, Callable]) -> Callable:
    """One ``extra_loss`` for runs tuned together: run r's term on run r's rows of the batch and prompt."""
    def extra_loss(logits: torch.Tensor, facts: list[Fact], index: torch.Tensor, vectors: torch.Tensor):
        total = logits.new_zeros(())
        for r, term in terms.items():
            rows = (index == r).nonzero()[:, 0]
            if len(rows):
                total = total + term(logits[rows.to(logits.device)], [facts[i] for i in rows.tolist()],
                                     torch.zeros_like(rows), vectors[r:r + 1])
        return total
    return extra_loss


def _tune_together(lm: MaskedLM, runs: list[_Prepared], vocab: list[str], progress: bool):
    """(metrics, tensors) of runs that share a step schedule, tuned in one batched pass, each as if alone."""
    names = [f"{p.job.target.id}#{i}" for i, p in enumerate(runs)]
    tasks = dict(zip(names, (p.task for p in runs)))
    tune = runs[0].job.config.tune_config(len(runs[0].train))
    starts = torch.stack([p.init if p.init is not None else
                          init_prompts(lm, [p.task], replace(tune, seed=p.job.config.seed))[0] for p in runs])
    terms = {}
    for r, p in enumerate(runs):
        if p.teachers:
            config = p.job.config
            unlabelled = scored_facts(p.job.target.split("train"), vocab) if config.distill_on == "unlabelled" else ()
            terms[r] = distillation_term(lm, p.teachers, p.train, p.job.weight, config.distill, config.temperature,
                                         p.job.teacher_weights, unlabelled, config.seed)
    tuned, history = tune_prompts(lm, tasks, vocab, tune, progress, init_vectors=starts,
                                  extra_loss=_per_run(terms) if terms else None,
                                  seeds=[p.job.config.seed for p in runs])
    test, dev = (evaluate(lm, tuned, tasks, vocab, split) for split in ("test", "dev"))
    return [({"test": test[name], "dev": dev[name], "n_train": len(p.train),
              "history": [{"epoch": h["epoch"], "dev": h[f"dev_{name}"]} for h in history]},
             {"vectors": tuned.vectors[r]}) for r, (name, p) in enumerate(zip(names, runs))]


def _schedule(p: _Prepared) -> tuple:
    tune = p.job.config.tune_config(len(p.train))
    return replace(tune, seed=0), math.ceil(len(p.train) / tune.batch_size)


def tune_targets(lm: MaskedLM, jobs: list[TargetJob], vocab: list[str], store: RunStore | None = None,
                 progress: bool = False) -> list[TargetRun]:
    """Tune every job's target prompt, through the run store (saved runs are loaded).

    The runs with the same step schedule (same tuning settings and steps per epoch) are tuned together in
    one batched pass, each with its own facts, seed, start and teachers
    (:func:`prompts.tune_prompts` with ``seeds``): the prompts of separate runs up to float rounding,
    several times faster when the runs are small (100 steps on 8 facts keep two cores busy on overhead).
    """
    store = store if store is not None else RunStore()
    prepared = [_prepare(lm, job, vocab) for job in jobs]
    records = [store.load("panda", p.key) for p in prepared]
    groups: dict[tuple, list[int]] = {}
    seen = set()
    for i, p in enumerate(prepared):
        if records[i] is None and store.path("panda", p.key) not in seen:  # a job asked twice runs once
            seen.add(store.path("panda", p.key))
            groups.setdefault(_schedule(p), []).append(i)
    for members in tqdm(list(groups.values()), desc=f"tuning {sum(map(len, groups.values()))} target runs",
                        disable=not progress or not groups, leave=False):
        for i, result in zip(members, _tune_together(lm, [prepared[i] for i in members], vocab, progress)):
            store.get_or_compute("panda", prepared[i].key, lambda result=result: result)
    records = [record or store.load("panda", p.key) for record, p in zip(records, prepared)]
    return [TargetRun(p.job.method, p.job.target.id, r.tensors["vectors"], r.metrics["test"], r.metrics["dev"],
                      r.metrics["n_train"], p.job.config.seed, float(p.job.weight)) for p, r in zip(prepared, records)]
