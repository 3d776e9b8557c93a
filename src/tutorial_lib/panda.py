"""PANDA (Zhong et al., TKDE 2024): prompt transfer across tasks, a transferability metric, knowledge
distillation and multi-task fusion. Tasks are LAMA relations of one masked LM.

The pieces, in the paper's order (see ``shared/reference/panda.md``):

- vanilla prompt transfer, PoT (SPoT, Vu et al. 2022): start the target's prompt from a source task's
  tuned prompt, then tune it on the target (:func:`prompt_transfer`), against tuning from a random prompt
  (:func:`scratch`), in low-resource settings (:func:`low_resource`);
- a transferability metric: cosine between task embeddings (:func:`transferability`, :data:`METRICS`),
  judged by the rank correlation of its scores with the real PoT gains (:func:`rank_correlation`);
- knowledge-distillation PoT (:func:`panda`): teacher = the PoT prompt (frozen), student = a fresh random
  prompt, loss = CE + weight * distillation, the weight scaled by the predicted transferability;
- multi-task transfer: early fusion (:func:`early_fusion`) and late fusion (:func:`late_fusion`).

Every tuning run goes through the run store, so a second run of a notebook is instant.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, replace
from typing import Callable

import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import data
from .data import Fact, Relation
from .prompts import (PromptSet, TuneConfig, build_inputs, evaluate, init_prompts, prompt_logits, scored_facts,
                      tune_prompts)
from .results import RunStore
from .zoo import MaskedLM

DISTILL_KINDS = ("mse", "kl")
DISTILL_INPUTS = ("labelled", "unlabelled")
METRICS = ("activation", "neuron_overlap", "relative", "prompt_cosine", "answer_overlap")
METRIC_LABELS = {
    "activation": "FFN activations (PANDA-style)",
    "neuron_overlap": "activated-neuron overlap (Su et al.)",
    "relative": "relative-space prompts",
    "prompt_cosine": "raw prompt cosine (baseline)",
    "answer_overlap": "answer overlap (data baseline)",
}


class PromptMismatch(ValueError):
    """Prompts that do not belong to the model (other model name, other width or other length)."""


# ---------------------------------------------------------------------------------------------------------
# Tasks and the low-resource setting

def load_tasks(model: str, ids: list[str] | tuple[str, ...] | None = None, lama_dir=None) -> dict[str, Relation]:
    """The relations (tasks) with the facts ``model`` saw in pretraining.

    A mini-zoo model was pretrained on ``WorldConfig().max_facts`` facts of each of the world's relations,
    chosen with all of them loaded together (shared subjects first); loading a subset on its own would pick
    other facts, so the world is loaded whole and then cut to ``ids`` (None: all of the world's relations).
    Any other model gets every LAMA fact of ``ids``.
    """
    from .zoo import ZOO
    if model not in ZOO:
        return data.load_relations(ids, lama_dir)
    from .zoo.build import WorldConfig
    world = WorldConfig()
    world_ids = data.relation_ids(lama_dir) if world.relations == ("all",) else list(world.relations)
    ids = world_ids if ids is None else list(ids)
    unknown = [r for r in ids if r not in world_ids]
    if unknown:
        raise KeyError(f"relation(s) {unknown} are not tasks of {model}'s world; it was pretrained on {world_ids}")
    everything = data.load_relations(world_ids, lama_dir, max_facts=world.max_facts)
    return {r: everything[r] for r in ids}


def _hash01(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def low_resource(relation: Relation, n_train: int, seed: int, vocab: list[str]) -> Relation:
    """The task with only ``n_train`` of its (scorable) training facts, dev and test untouched.

    The facts are drawn by a seeded hash of their uuid, so the draw is deterministic and nested: the 8 facts
    of a seed are among its 32. Fewer facts than ``n_train`` exist: all are kept.
    """
    if not isinstance(n_train, int) or n_train < 1:
        raise ValueError(f"n_train must be a positive number of training facts, got {n_train!r}")
    train = scored_facts(relation.split("train"), vocab)
    ranked = sorted(train, key=lambda f: _hash01(f"low-resource:{seed}:{f.uuid}"))
    keep = {f.uuid for f in ranked[:n_train]}
    return replace(relation, facts=tuple(f for f in relation.facts if f.split != "train" or f.uuid in keep))


# ---------------------------------------------------------------------------------------------------------
# Checking prompts against the model

def source_vectors(lm: MaskedLM, prompts: PromptSet, relations: str | list[str]) -> torch.Tensor:
    """The [m, d] prompt of one relation (or [S, m, d] of several) from ``prompts``, checked against ``lm``."""
    if prompts.model != lm.name:
        raise PromptMismatch(f"prompts were tuned on {prompts.model!r}, not on {lm.name!r}: prompt transfer across "
                             "tasks stays inside one model (transfer them across models first, chapters 2-5)")
    if prompts.width != lm.width:
        raise PromptMismatch(f"prompts of width {prompts.width} do not fit {lm.name} (width {lm.width})")
    ids = [relations] if isinstance(relations, str) else list(relations)
    unknown = [r for r in ids if r not in prompts.relations]
    if unknown:
        raise KeyError(f"no source prompt for relation(s) {unknown}; these prompts hold {prompts.relations}")
    vectors = torch.stack([prompts[r] for r in ids]).float()
    return vectors[0] if isinstance(relations, str) else vectors


def _check_vector(lm: MaskedLM, vector: torch.Tensor, m: int, what: str) -> torch.Tensor:
    if vector.dim() != 2 or vector.shape[1] != lm.width:
        raise PromptMismatch(f"{what} of shape {list(vector.shape)} does not fit {lm.name}: expected [m, {lm.width}]")
    if vector.shape[0] != m:
        raise PromptMismatch(f"{what} has {vector.shape[0]} vectors but the run uses m={m}")
    return vector.detach().float().cpu()


def _digest(x) -> str:
    if isinstance(x, torch.Tensor):
        payload = x.detach().float().cpu().contiguous().numpy().tobytes()
    else:
        payload = " ".join(map(str, x)).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------------------
# Distillation (PANDA's second piece)

def _teacher_weights(weights, k: int) -> list[float]:
    if weights is None:
        return [1.0 / k] * k
    weights = [float(w) for w in weights]
    if len(weights) != k:
        raise ValueError(f"{k} teachers but {len(weights)} teacher weights")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"teacher weights must be >= 0 with a positive sum, got {weights}")
    total = sum(weights)
    return [w / total for w in weights]


def distillation_loss(student_logits: torch.Tensor, teacher_logits, kind: str = "mse",
                      temperature: float = 2.0, weights=None) -> torch.Tensor:
    """The distillation term pulling the student's outputs at the mask ([N, V] logits) to the teacher's.

    ``kind="mse"``: mean squared error between the logits (the authors' code, no temperature; the
    0.1 * beta factor is in the weight, see :func:`distill_weight`). ``kind="kl"``: Hinton-style
    T^2 * KL(teacher_T || student_T) with softmax temperature T, averaged over facts.
    Several teachers (late fusion): ``teacher_logits`` is a list and the teachers are combined with
    ``weights`` (normalised): their logits are averaged for MSE, their tempered distributions mixed for KL.
    Zero when the student equals the (single) teacher.
    """
    if kind not in DISTILL_KINDS:
        raise ValueError(f"unknown distillation kind {kind!r}; choose one of {list(DISTILL_KINDS)}")
    teachers = list(teacher_logits) if isinstance(teacher_logits, (list, tuple)) else [teacher_logits]
    if not teachers:
        raise ValueError("at least one teacher is needed")
    for t in teachers:
        if t.shape != student_logits.shape:
            raise ValueError(f"teacher logits {list(t.shape)} do not match the student's {list(student_logits.shape)}")
    w = _teacher_weights(weights, len(teachers))
    if kind == "mse":
        target = sum(wi * t.detach() for wi, t in zip(w, teachers))
        return F.mse_loss(student_logits, target)
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    log_p = torch.logsumexp(torch.stack([math.log(wi) + F.log_softmax(t.detach() / temperature, dim=-1)
                                         for wi, t in zip(w, teachers) if wi > 0]), dim=0)
    log_q = F.log_softmax(student_logits / temperature, dim=-1)
    return temperature ** 2 * F.kl_div(log_q, log_p, log_target=True, reduction="batchmean")


def distill_weight(transferability: float, kind: str = "mse", alpha: float | None = None) -> float:
    """The distillation weight: ``alpha * max(transferability, 0)`` (similar tasks distil more).

    The authors' code multiplies the MSE by 0.1 * beta; we read beta as the predicted transferability, so
    ``alpha`` defaults to 0.1 for MSE and to 1.0 for KL.
    """
    if kind not in DISTILL_KINDS:
        raise ValueError(f"unknown distillation kind {kind!r}; choose one of {list(DISTILL_KINDS)}")
    alpha = (0.1 if kind == "mse" else 1.0) if alpha is None else alpha
    if not math.isfinite(float(transferability)):
        raise ValueError(f"transferability must be a finite number, got {transferability}")
    return float(alpha) * max(float(transferability), 0.0)


@torch.no_grad()
def teacher_logits(lm: MaskedLM, teacher: torch.Tensor, facts: list[Fact], batch_size: int = 256) -> torch.Tensor:
    """Logits [N, V] at the mask of a frozen teacher prompt [m, d] on ``facts``."""
    rows = [prompt_logits(lm, teacher[None], facts[s:s + batch_size], torch.zeros(len(facts[s:s + batch_size]),
                                                                                  dtype=torch.long))
            for s in range(0, len(facts), batch_size)]
    return torch.cat(rows)


def distillation_term(lm: MaskedLM, teachers: list[torch.Tensor], facts: list[Fact], weight: float,
                      kind: str = "mse", temperature: float = 2.0, teacher_weights=None,
                      unlabelled: list[Fact] = (), seed: int = 0) -> Callable:
    """``extra_loss(logits, facts, index, vectors)`` for :func:`prompts.tune_prompts`: ``weight`` times the
    distillation term against the teachers' logits on the batch of training ``facts``.

    ``unlabelled``: further inputs of the task whose answers the run may not see; each step then adds the
    same term on a batch of them (as many as the labelled batch, drawn with ``seed``), so the teacher's
    knowledge reaches the student on more inputs than the few labelled ones. Teacher logits are computed
    once."""
    labelled = {f.uuid for f in facts}
    every = list(facts) + [f for f in unlabelled if f.uuid not in labelled]
    frozen = [teacher_logits(lm, t, every) for t in teachers]
    row = {f.uuid: i for i, f in enumerate(every)}
    extra_rows = torch.arange(len(facts), len(every))
    gen = torch.Generator().manual_seed(seed)

    def term(logits: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return distillation_loss(logits, [t[rows.to(t.device)] for t in frozen], kind, temperature, teacher_weights)

    def extra_loss(logits: torch.Tensor, batch: list[Fact], _index: torch.Tensor, vectors: torch.Tensor):
        loss = term(logits, torch.tensor([row[f.uuid] for f in batch]))
        if len(extra_rows):
            pick = extra_rows[torch.randperm(len(extra_rows), generator=gen)[:len(batch)]]
            zeros = torch.zeros(len(pick), dtype=torch.long)
            loss = loss + term(prompt_logits(lm, vectors, [every[i] for i in pick], zeros), pick)
        return weight * loss

    return extra_loss


def gradient_pulls(lm: MaskedLM, student: torch.Tensor, teacher: torch.Tensor, facts: list[Fact],
                   transferability: float, temperature: float = 2.0) -> dict[str, float]:
    """How hard each term of PANDA's loss pulls on the student prompt [m, d]: the norm of its gradient on
    ``facts`` for the cross-entropy, the KL term (alpha 1) and the authors' MSE term (0.1 * beta), each with its
    :func:`distill_weight` for ``transferability``. (Numerically) zero for both distillation terms when
    student == teacher."""
    student = _check_vector(lm, student, student.shape[0], "the student prompt").to(lm.device).requires_grad_(True)
    teacher = _check_vector(lm, teacher, student.shape[0], "the teacher prompt")
    for p in lm.model.parameters():
        p.requires_grad_(False)
    from .probing import vocab_ids
    gold = vocab_ids(lm.tokenizer, [f.object for f in facts]).to(lm.device)
    frozen = teacher_logits(lm, teacher, facts)
    terms = {"cross-entropy": lambda z: F.cross_entropy(z, gold)}
    for kind in DISTILL_KINDS:
        w = distill_weight(transferability, kind)
        terms[f"{kind.upper()} distillation (weight {w:.3g})"] = (
            lambda z, kind=kind, w=w: w * distillation_loss(z, frozen, kind, temperature))
    pulls = {}
    for name, term in terms.items():
        logits = prompt_logits(lm, student[None], facts, torch.zeros(len(facts), dtype=torch.long))
        (grad,) = torch.autograd.grad(term(logits), student)
        pulls[name] = grad.norm().item()
    return pulls


# ---------------------------------------------------------------------------------------------------------
# Tuning a target prompt: scratch, PoT, PANDA, fusion

@dataclass(frozen=True)
class PandaConfig:
    """One low-resource target run: tuning settings (OptiPrompt's, see :class:`prompts.TuneConfig`), the
    training-set size and seed, and the distillation settings of PANDA runs.

    ``min_steps``: every run takes at least this many optimiser steps; the epochs are raised when the training
    set is small. With 8 facts, 10 epochs are 10 steps: a random start (scratch, the PANDA student) is then
    far from converged while PoT starts from a good prompt, and the comparison measures the step budget,
    not the transfer. (The paper trains 100 epochs.)

    ``distill_on``: the inputs the distillation term is computed on: ``"labelled"``, the ``n_train`` training
    facts (the paper); ``"unlabelled"``, also every other training subject of the task with its answer hidden
    (semi-supervised distillation, our extension: a low-resource task often has inputs without labels).
    """

    n_train: int = 32
    m: int = 5
    epochs: int = 10
    min_steps: int = 100
    lr: float = 3e-3
    batch_size: int = 16
    seed: int = 0
    distill: str = "mse"  # "mse": the authors' 0.1 * beta * MSE(logits); "kl": T^2 KL with temperature
    alpha: float | None = None  # distillation weight scale; None: 0.1 (mse) or 1.0 (kl)
    temperature: float = 2.0  # KL only
    distill_on: str = "labelled"  # or "unlabelled": also the task's other training inputs, answers hidden

    def __post_init__(self):
        if not isinstance(self.n_train, int) or self.n_train < 1:
            raise ValueError(f"n_train must be a positive number of training facts, got {self.n_train!r}")
        if self.distill not in DISTILL_KINDS:
            raise ValueError(f"unknown distillation kind {self.distill!r}; choose one of {list(DISTILL_KINDS)}")
        if self.distill_on not in DISTILL_INPUTS:
            raise ValueError(f"distill_on must be one of {list(DISTILL_INPUTS)}, got {self.distill_on!r}")
        if not isinstance(self.min_steps, int) or self.min_steps < 0:
            raise ValueError(f"min_steps must be an integer >= 0, got {self.min_steps!r}")
        TuneConfig(m=self.m, epochs=self.epochs, lr=self.lr, batch_size=self.batch_size, seed=self.seed)

    def tune_config(self, n_facts: int | None = None) -> TuneConfig:
        """The prompt-tuning settings for ``n_facts`` training facts (default ``n_train``): ``epochs``, raised
        to reach ``min_steps`` optimiser steps; dev P@1 is checked about ``epochs`` times either way."""
        steps_per_epoch = math.ceil((n_facts or self.n_train) / self.batch_size)
        epochs = max(self.epochs, math.ceil(self.min_steps / steps_per_epoch))
        return TuneConfig(m=self.m, epochs=epochs, lr=self.lr, batch_size=self.batch_size, seed=self.seed,
                          eval_every=epochs // self.epochs)


@dataclass
class TargetRun:
    """A tuned target prompt ``vectors`` [m, d] and its P@1 on the target's test and dev facts."""

    method: str
    target: str
    vectors: torch.Tensor
    test: float
    dev: float
    n_train: int
    seed: int
    weight: float = 0.0


@dataclass(eq=False)
class TargetJob:
    """One low-resource target run: tune a prompt on ``config.n_train`` of ``target``'s facts.

    ``init`` [m, d]: the start (None: random with ``config.seed``, as :func:`prompts.init_prompts`).
    ``teachers``: frozen prompts [m, d] whose outputs the prompt is distilled towards with ``weight``
    (``config.distill``); ``teacher_weights`` combine several teachers. No teachers: plain prompt tuning.
    """

    target: Relation
    config: PandaConfig = PandaConfig()
    init: torch.Tensor | None = None
    teachers: tuple[torch.Tensor, ...] = ()
    teacher_weights: tuple[float, ...] | None = None
    weight: float = 0.0
    method: str = "tune"


def scratch_job(target: Relation, config: PandaConfig = PandaConfig()) -> TargetJob:
    """Prompt tuning on the target alone from a random prompt (the reference every transfer must beat)."""
    return TargetJob(target, config, method="scratch")


def pot_job(source: torch.Tensor, target: Relation, config: PandaConfig = PandaConfig()) -> TargetJob:
    """Vanilla prompt transfer, PoT (SPoT; PANDA Sec. 3): the target's prompt starts from the source task's
    tuned prompt ``source`` [m, d] and is tuned on the target."""
    return TargetJob(target, config, init=source, method="pot")


def panda_job(teacher: torch.Tensor, target: Relation, transferability: float,
              config: PandaConfig = PandaConfig()) -> TargetJob:
    """PANDA's knowledge-distillation PoT: a fresh random student prompt tuned on the target with
    CE + ``distill_weight(transferability)`` * distillation towards the frozen ``teacher`` [m, d], the PoT
    prompt already tuned on the target. With weight 0 this is :func:`scratch_job`, number for number."""
    weight = distill_weight(transferability, config.distill, config.alpha)
    return TargetJob(target, config, teachers=(teacher,), weight=weight, method="panda")


def late_fusion_job(teachers: list[torch.Tensor], scores, target: Relation,
                    config: PandaConfig = PandaConfig()) -> TargetJob:
    """Multi-task transfer, late fusion: one teacher per source (each a PoT prompt tuned on the target), their
    outputs combined with the transferability weights (:func:`distillation_loss`), one fresh student."""
    w = fusion_weights(scores)
    weight = distill_weight(sum(wi * float(s) for wi, s in zip(w, scores)), config.distill, config.alpha)
    return TargetJob(target, config, teachers=tuple(teachers), teacher_weights=tuple(w), weight=weight,
                     method="panda")


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
    init = None if job.init is None else _check_vector(lm, job.init, config.m, "the initial prompt")
    teachers = [_check_vector(lm, t, config.m, f"teacher {i}") for i, t in enumerate(job.teachers)]
    if teachers:
        _teacher_weights(job.teacher_weights, len(teachers))
    key = {"method": job.method, "model": lm.name, "revision": lm.revision, "width": lm.width, "target": target.id,
           "train": _digest(sorted(f.uuid for f in train)),
           "eval": _digest(sorted(f.uuid for f in target.facts if f.split != "train")),
           "vocab": _digest(vocab), **asdict(config),
           "init": None if init is None else _digest(init[None]),
           "teachers": [_digest(t) for t in teachers],
           "teacher_weights": None if job.teacher_weights is None else [float(w) for w in job.teacher_weights],
           "weight": float(job.weight)}
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


def tune_target(lm: MaskedLM, target: Relation, vocab: list[str], config: PandaConfig = PandaConfig(),
                init: torch.Tensor | None = None, teachers: list[torch.Tensor] = (), teacher_weights=None,
                weight: float = 0.0, method: str = "tune", store: RunStore | None = None,
                progress: bool = False) -> TargetRun:
    """Tune one target prompt (a :class:`TargetJob`) on ``config.n_train`` of the target's facts, through the
    run store."""
    job = TargetJob(target, config, init, tuple(teachers),
                    None if teacher_weights is None else tuple(teacher_weights), weight, method)
    return tune_targets(lm, [job], vocab, store, progress)[0]


def scratch(lm: MaskedLM, target: Relation, vocab: list[str], config: PandaConfig = PandaConfig(),
            store: RunStore | None = None, progress: bool = False) -> TargetRun:
    """One :func:`scratch_job` run."""
    return tune_targets(lm, [scratch_job(target, config)], vocab, store, progress)[0]


def prompt_transfer(lm: MaskedLM, source: torch.Tensor, target: Relation, vocab: list[str],
                    config: PandaConfig = PandaConfig(), store: RunStore | None = None,
                    progress: bool = False) -> TargetRun:
    """One :func:`pot_job` run (PoT)."""
    return tune_targets(lm, [pot_job(source, target, config)], vocab, store, progress)[0]


def panda(lm: MaskedLM, teacher: torch.Tensor, target: Relation, vocab: list[str], transferability: float,
          config: PandaConfig = PandaConfig(), store: RunStore | None = None, progress: bool = False) -> TargetRun:
    """One :func:`panda_job` run (PANDA with one teacher)."""
    return tune_targets(lm, [panda_job(teacher, target, transferability, config)], vocab, store, progress)[0]


def fusion_weights(scores) -> list[float]:
    """Transferability weights of several sources: ``max(score, 0)`` normalised to sum 1 (uniform when no
    score is positive). One source: [1.0]."""
    clipped = [max(float(s), 0.0) for s in scores]
    if not clipped:
        raise ValueError("no sources to fuse")
    total = sum(clipped)
    return [c / total for c in clipped] if total > 0 else [1.0 / len(clipped)] * len(clipped)


def fuse_prompts(sources: torch.Tensor, scores) -> torch.Tensor:
    """Early fusion: the transferability-weighted average [m, d] of source prompts [S, m, d]."""
    if sources.dim() != 3 or sources.shape[0] != len(list(scores)):
        raise ValueError(f"sources {list(sources.shape)} must be [S, m, d] with one score per source")
    w = fusion_weights(scores)
    return sum(wi * p for wi, p in zip(w, sources.float()))


def early_fusion(lm: MaskedLM, sources: torch.Tensor, scores, target: Relation, vocab: list[str],
                 config: PandaConfig = PandaConfig(), store: RunStore | None = None,
                 progress: bool = False) -> tuple[TargetRun, TargetRun]:
    """Multi-task transfer, early fusion: PoT from the fused prompt (:func:`fuse_prompts`), then PANDA with
    that one teacher, distilled with the weighted mean transferability. Returns (PoT run, PANDA run)."""
    w = fusion_weights(scores)
    pot = prompt_transfer(lm, fuse_prompts(sources, scores), target, vocab, config, store, progress)
    mean_score = sum(wi * float(s) for wi, s in zip(w, scores))
    return pot, panda(lm, pot.vectors, target, vocab, mean_score, config, store, progress)


def late_fusion(lm: MaskedLM, teachers: list[torch.Tensor], scores, target: Relation, vocab: list[str],
                config: PandaConfig = PandaConfig(), store: RunStore | None = None,
                progress: bool = False) -> TargetRun:
    """One :func:`late_fusion_job` run."""
    return tune_targets(lm, [late_fusion_job(teachers, scores, target, config)], vocab, store, progress)[0]


# ---------------------------------------------------------------------------------------------------------
# Transferability (PANDA's first piece)

def intermediate_modules(lm: MaskedLM) -> list[torch.nn.Module]:
    """The feed-forward ``intermediate`` module of every layer (BERT / RoBERTa naming): dense + activation."""
    found = [mod for name, mod in lm.model.named_modules() if name.endswith(".intermediate")]
    if not found:
        raise ValueError(f"{lm.name} has no '*.intermediate' feed-forward modules (BERT/RoBERTa layout); the "
                         "activation metrics need them: use metric='relative' or 'prompt_cosine'")
    return found


@torch.no_grad()
def ffn_activations(lm: MaskedLM, prompt: torch.Tensor, facts: list[Fact], batch_size: int = 64) -> torch.Tensor:
    """[2, L, F]: per layer and FFN neuron, (0) the mean activation and (1) the share of activations > 0,
    over ``facts`` and the m prompt positions, while the frozen model reads ``prompt`` [m, d] after each
    fact's subject. Taken with forward hooks on the ``intermediate`` modules (after the GELU)."""
    if not facts:
        raise ValueError("no facts to read the prompt with")
    prompt = _check_vector(lm, prompt, prompt.shape[0], "the prompt")
    m = prompt.shape[0]
    modules = intermediate_modules(lm)
    caught: list[torch.Tensor] = []
    hooks = [mod.register_forward_hook(lambda _mod, _inp, out: caught.append(out)) for mod in modules]
    total = None
    try:
        for s in range(0, len(facts), batch_size):
            chunk = facts[s:s + batch_size]
            _, _, starts = build_inputs(lm, chunk, m)
            caught.clear()
            prompt_logits(lm, prompt[None], chunk, torch.zeros(len(chunk), dtype=torch.long))
            rows = torch.arange(len(chunk))[:, None]
            cols = starts[:, None] + torch.arange(m)
            for layer, out in enumerate(caught):
                at_prompt = out.float().cpu()[rows, cols]  # [B, m, F]
                if total is None:
                    total = torch.zeros(2, len(modules), at_prompt.shape[-1])
                total[0, layer] += at_prompt.sum((0, 1))
                total[1, layer] += (at_prompt > 0).float().sum((0, 1))
    finally:
        for h in hooks:
            h.remove()
    return total / (len(facts) * m)


def _probe_facts(relation: Relation, vocab: list[str], n_probe: int) -> list[Fact]:
    return scored_facts(low_resource(relation, n_probe, 0, vocab).split("train"), vocab)


def task_embeddings(lm: MaskedLM, prompts: PromptSet, tasks: dict[str, Relation], vocab: list[str],
                    metric: str = "activation", n_probe: int = 16, anchors: torch.Tensor | None = None,
                    progress: bool = False) -> torch.Tensor:
    """One vector per task [R, D] (rows in the order of ``tasks``); the metric is their cosine.

    - ``activation``: the mean FFN activation of every neuron of every layer (concatenated, L * 4d values)
      while the frozen model reads the task's prompt, averaged over the prompt positions of ``n_probe`` of
      the task's training facts (:func:`ffn_activations`). The task embedding PANDA's released hooks point to.
    - ``neuron_overlap``: the activated neurons (active > 0 at more than half of those positions) as a 0/1
      vector; its cosine is the overlap |A and B| / sqrt(|A| |B|), in the spirit of Su et al. (2022).
    - ``relative``: the prompt's relative encoding (cosine of each prompt vector to ``anchors`` [k, d],
      the zero-shot transfer paper's Eq. 3), flattened over the m positions.
    - ``prompt_cosine`` (baseline): the flattened prompt itself.
    - ``answer_overlap`` (baseline, no model): counts of each answer word among the task's training facts.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown transferability metric {metric!r}; choose one of {list(METRICS)}")
    ids = list(tasks)
    if metric == "answer_overlap":
        index = {w: i for i, w in enumerate(vocab)}
        counts = torch.zeros(len(ids), len(vocab))
        for r, rel_id in enumerate(ids):
            for f in scored_facts(tasks[rel_id].split("train"), vocab):
                counts[r, index[f.object]] += 1
        return counts
    vectors = source_vectors(lm, prompts, ids)
    if metric == "prompt_cosine":
        return vectors.flatten(1)
    if metric == "relative":
        from .transfer.relative import relative_encoding
        if anchors is None:
            raise ValueError("metric 'relative' needs anchors: the input embeddings [k, d] of shared words, "
                             "e.g. transfer.anchor_embeddings(lm, transfer.anchor_words(tok, tok, 2000))")
        if anchors.dim() != 2 or anchors.shape[1] != lm.width or anchors.shape[0] == 0:
            raise PromptMismatch(f"anchors of shape {list(anchors.shape)} do not fit {lm.name}: "
                                 f"expected [k>0, {lm.width}]")
        return relative_encoding(vectors, anchors.float().cpu()).flatten(1)
    rows = []
    for r, rel_id in enumerate(tqdm(ids, desc="task embeddings", disable=not progress, leave=False)):
        stats = ffn_activations(lm, vectors[r], _probe_facts(tasks[rel_id], vocab, n_probe))
        rows.append(stats[0].flatten() if metric == "activation" else (stats[1] > 0.5).float().flatten())
    return torch.stack(rows)


def cosine_matrix(embeddings: torch.Tensor) -> torch.Tensor:
    """Symmetric [R, R] cosine similarities of the rows of ``embeddings`` (an all-zero row scores 0)."""
    unit = F.normalize(embeddings.double(), dim=-1)
    sims = unit @ unit.T
    return ((sims + sims.T) / 2).float()


def transferability(lm: MaskedLM, prompts: PromptSet, tasks: dict[str, Relation], vocab: list[str],
                    metric: str = "activation", n_probe: int = 16, anchors: torch.Tensor | None = None,
                    progress: bool = False) -> pd.DataFrame:
    """PANDA's transferability metric: the cosine between the task embeddings of every pair of tasks
    (:func:`task_embeddings` says which embedding each ``metric`` uses). Rows: source, columns: target."""
    sims = cosine_matrix(task_embeddings(lm, prompts, tasks, vocab, metric, n_probe, anchors, progress))
    return pd.DataFrame(sims.numpy(), index=list(tasks), columns=list(tasks))


def rank_correlation(scores: pd.DataFrame, gains: pd.DataFrame) -> tuple[float, float, int]:
    """Spearman's rho (and its p-value, and the number of pairs) between a metric's scores and the real
    PoT gains over all source != target pairs that both tables hold (rows source, columns target)."""
    from scipy.stats import spearmanr
    pairs = [(s, t) for s in gains.index for t in gains.columns
             if s != t and s in scores.index and t in scores.columns and pd.notna(gains.loc[s, t])]
    if len(pairs) < 3:
        raise ValueError(f"need at least 3 source-target pairs to rank, got {len(pairs)}")
    rho, p = spearmanr([scores.loc[s, t] for s, t in pairs], [gains.loc[s, t] for s, t in pairs])
    return float(rho), float(p), len(pairs)


# ---------------------------------------------------------------------------------------------------------
# Experiments as tables (what the chapter plots)

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
    w = fusion_weights(top_scores)
    mean_score = sum(wi * s for wi, s in zip(w, top_scores))
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
            second[cfg, "early fusion PANDA", fused] = panda_job(early, rel, mean_score, cfg)
            second[cfg, "late fusion PANDA", fused] = late_fusion_job([done[cfg, "PoT", s].vectors for s in top],
                                                                      top_scores, rel, cfg)
    done.update(zip(second, tune_targets(lm, list(second.values()), vocab, store, progress)))
    rows = [{"target": target, "method": method, "source": source, "n_train": cfg.n_train, "n_used": run.n_train,
             "seed": cfg.seed, "test": run.test, "dev": run.dev, "weight": run.weight}
            for (cfg, method, source), run in done.items()
            if method != "PoT" or source == top[0]]  # the other sources' PoT runs are late fusion's teachers
    return pd.DataFrame(rows)
