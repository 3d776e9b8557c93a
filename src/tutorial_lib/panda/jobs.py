"""The low-resource target runs as data: settings (:class:`PandaConfig`), one run (:class:`TargetJob`) and its
result (:class:`TargetRun`), and a builder per method: scratch, PoT, PANDA, early and late fusion. The runs
are tuned by :func:`runs.tune_targets`."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..data import Relation
from ..prompts import TuneConfig
from .distill import DISTILL_KINDS, distill_weight

DISTILL_INPUTS = ("labelled", "unlabelled")


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
    distill: str = "mse"  # "mse": the authors' 0.1 * beta * MSE(logits) / N; "kl": T^2 KL with temperature
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


def fusion_weights(scores) -> list[float]:
    """Transferability weights of several sources: ``max(score, 0)`` normalised to sum 1 (uniform when no
    score is positive). One source: [1.0]."""
    clipped = [max(float(s), 0.0) for s in scores]
    if not clipped:
        raise ValueError("no sources to fuse")
    total = sum(clipped)
    return [c / total for c in clipped] if total > 0 else [1.0 / len(clipped)] * len(clipped)


def fused_score(scores) -> float:
    """The transferability of fused sources: their scores averaged with :func:`fusion_weights`."""
    return sum(w * float(s) for w, s in zip(fusion_weights(scores), scores))


def fuse_prompts(sources: torch.Tensor, scores) -> torch.Tensor:
    """Early fusion: the transferability-weighted average [m, d] of source prompts [S, m, d]. Its PoT run
    (:func:`pot_job`) is the teacher of a PANDA run with the :func:`fused_score`."""
    if sources.dim() != 3 or sources.shape[0] != len(list(scores)):
        raise ValueError(f"sources {list(sources.shape)} must be [S, m, d] with one score per source")
    w = fusion_weights(scores)
    return sum(wi * p for wi, p in zip(w, sources.float()))


def late_fusion_job(teachers: list[torch.Tensor], scores, target: Relation,
                    config: PandaConfig = PandaConfig()) -> TargetJob:
    """Multi-task transfer, late fusion: one teacher per source (each a PoT prompt tuned on the target), their
    outputs combined with the transferability weights (:func:`distillation_loss`), one fresh student."""
    weight = distill_weight(fused_score(scores), config.distill, config.alpha)
    return TargetJob(target, config, teachers=tuple(teachers), teacher_weights=tuple(fusion_weights(scores)),
                     weight=weight, method="panda")
