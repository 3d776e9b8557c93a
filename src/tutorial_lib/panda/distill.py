"""PANDA's knowledge-distillation PoT as maths: the teacher is the PoT prompt tuned on the target (frozen), the
student a fresh prompt, and the student's loss is :func:`panda_loss`, cross-entropy + w * distillation.

The fast path (:func:`distillation_term`, added to :func:`prompts.tune_prompts`' cross-entropy) computes the
same total, tested equal to :func:`panda_loss`.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from ..data import Fact
from ..prompts import prompt_logits
from ..zoo import MaskedLM
from .tasks import check_vector

DISTILL_KINDS = ("mse", "kl")


def teacher_mix(weights, k: int) -> list[float]:
    """The weights of ``k`` teachers, checked and normalised to sum 1 (None: uniform)."""
    if weights is None:
        return [1.0 / k] * k
    weights = [float(w) for w in weights]
    if len(weights) != k:
        raise ValueError(f"{k} teachers but {len(weights)} teacher weights")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"teacher weights must be >= 0 with a positive sum, got {weights}")
    total = sum(weights)
    return [w / total for w in weights]


def mse_distillation(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """The authors' D (their released trainer): the mean squared error of the [N, V] logits, divided once
    more by the batch size N; no temperature. The 0.1 * beta factor is in the weight (:func:`distill_weight`)."""
    return F.mse_loss(student_logits, teacher_logits) / student_logits.shape[0]


def kl_distillation(student_logits: torch.Tensor, teacher_log_probs: torch.Tensor,
                    temperature: float = 2.0) -> torch.Tensor:
    """The book's variant of D (Hinton et al.): T^2 * KL(teacher_T || student_T) between the tempered output
    distributions at the mask, averaged over the N facts; ``teacher_log_probs`` [N, V] are log softmax(z / T)."""
    log_q = F.log_softmax(student_logits / temperature, dim=-1)
    return temperature ** 2 * F.kl_div(log_q, teacher_log_probs, log_target=True, reduction="batchmean")


def distillation_loss(student_logits: torch.Tensor, teacher_logits, kind: str = "mse",
                      temperature: float = 2.0, weights=None) -> torch.Tensor:
    """The distillation term D pulling the student's outputs at the mask ([N, V] logits) to the teacher's:
    ``kind="mse"`` the authors' form (:func:`mse_distillation`), ``kind="kl"`` the book's variant
    (:func:`kl_distillation`, softmax temperature T).
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
    w = teacher_mix(weights, len(teachers))
    if kind == "mse":
        return mse_distillation(student_logits, sum(wi * t.detach() for wi, t in zip(w, teachers)))
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    log_p = torch.logsumexp(torch.stack([math.log(wi) + F.log_softmax(t.detach() / temperature, dim=-1)
                                         for wi, t in zip(w, teachers) if wi > 0]), dim=0)
    return kl_distillation(student_logits, log_p, temperature)


def distill_weight(transferability: float, kind: str = "mse", alpha: float | None = None) -> float:
    """The distillation weight w = ``alpha * max(transferability, 0)`` (similar tasks distil more).

    The authors' code multiplies the MSE by 0.1 * beta; we read beta as the predicted transferability, so
    ``alpha`` defaults to 0.1 for MSE and to 1.0 for KL.
    """
    if kind not in DISTILL_KINDS:
        raise ValueError(f"unknown distillation kind {kind!r}; choose one of {list(DISTILL_KINDS)}")
    alpha = (0.1 if kind == "mse" else 1.0) if alpha is None else alpha
    if not math.isfinite(float(transferability)):
        raise ValueError(f"transferability must be a finite number, got {transferability}")
    return float(alpha) * max(float(transferability), 0.0)


def panda_loss(student_logits: torch.Tensor, gold: torch.Tensor, teacher_logits, weight: float,
               kind: str = "mse", temperature: float = 2.0, teacher_weights=None) -> torch.Tensor:
    """PANDA's total loss of the student on one batch of N facts: CE(gold, student) + w * D(student, teacher).

    ``student_logits`` [N, V] at the mask, ``gold`` [N] the answers' ids, ``teacher_logits`` [N, V] (or a
    list of them, late fusion), ``weight`` w from :func:`distill_weight`, D = :func:`distillation_loss`.
    The authors' form: w = 0.1 * beta, D = MSE(logits) / N (:func:`mse_distillation`).
    """
    return (F.cross_entropy(student_logits, gold)
            + weight * distillation_loss(student_logits, teacher_logits, kind, temperature, teacher_weights))


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
    distillation term against the teachers' logits on the batch of training ``facts`` (with the
    cross-entropy that tune_prompts adds: :func:`panda_loss`).

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
    """How hard each term of :func:`panda_loss` pulls on the student prompt [m, d]: the norm of its gradient on
    ``facts`` for the cross-entropy, the KL term (alpha 1) and the authors' MSE term (0.1 * beta), each with its
    :func:`distill_weight` for ``transferability``. (Numerically) zero for both distillation terms when
    student == teacher."""
    student = check_vector(lm, student, student.shape[0], "the student prompt").to(lm.device).requires_grad_(True)
    teacher = check_vector(lm, teacher, student.shape[0], "the teacher prompt")
    for p in lm.model.parameters():
        p.requires_grad_(False)
    from ..probing import vocab_ids
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
