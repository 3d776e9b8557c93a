"""Relative-space prompt transfer (paper Eqs. 3-7) as small pure functions plus the search, twice.

A prompt vector is described by its cosine similarities to anchor words (Eq. 3, :func:`relative_encoding`, which
lives in :mod:`tutorial_lib.geometry` beside the measures of shared word geometry). The target prompt is
searched so that its description against the same words in the target model matches the source's (Eq. 5),
normalised to the target's embedding statistics in every step (Eq. 6), optionally against several
sources at once (Eq. 7).

:func:`search_one` is the search to read: one relation, the authors' loop, the equations as written.
:func:`relative_transfer` is the one the book runs: every relation (and seed) at once, the same search
(tested equal), many times faster.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from ..geometry import relative_encoding  # Eq. 3
from ..progress import tqdm


def topk_mask(rel: torch.Tensor, k: int | None) -> torch.Tensor:
    """Boolean mask [..., k_anchors] of the ``k`` largest entries of each source encoding (authors' code:
    the other entries are zeroed, and the same mask is applied to the target encoding). ``None``: keep all."""
    if k is None or k >= rel.shape[-1]:
        return torch.ones_like(rel, dtype=torch.bool)
    if k < 1:
        raise ValueError(f"topk must be a positive number of anchors or None, got {k}")
    index = rel.topk(k, dim=-1).indices
    return torch.zeros_like(rel, dtype=torch.bool).scatter_(-1, index, True)


def embedding_stats(embeddings: torch.Tensor) -> tuple[float, float]:
    """Mean and (population) standard deviation over every value of a word-embedding matrix (Eq. 6)."""
    values = embeddings.detach().float()
    return values.mean().item(), values.std(correction=0).item()


def normalize_to_target(v: torch.Tensor, target_embeddings, dims=None) -> torch.Tensor:
    """Eq. 6: v~ = (v - mean_v) / std_v * std + mean.

    mean_v, std_v are scalars over all values of ``v`` (or over ``dims``, e.g. ``(-2, -1)`` for one pair
    of scalars per relation); mean, std are scalars over the whole target word-embedding matrix
    (``target_embeddings``, or its precomputed ``(mean, std)`` from :func:`embedding_stats`)."""
    mean, std = target_embeddings if isinstance(target_embeddings, tuple) else embedding_stats(target_embeddings)
    dims = tuple(range(v.dim())) if dims is None else dims
    mean_v, std_v = v.mean(dim=dims, keepdim=True), v.std(dim=dims, keepdim=True, correction=0)
    return (v - mean_v) / std_v * std + mean


def matching_loss(src_rel: torch.Tensor, tgt_rel: torch.Tensor, mask: torch.Tensor | None = None,
                  reduction: str = "mean") -> torch.Tensor:
    """Eq. 5 as a loss: mean(1 - cos(r_s, r_t)) over the relative vectors, both restricted to ``mask``
    (entries outside it zeroed). ``reduction="none"`` keeps one value per vector ([...])."""
    if mask is not None:
        src_rel, tgt_rel = src_rel * mask, tgt_rel * mask
    loss = 1 - F.cosine_similarity(src_rel, tgt_rel, dim=-1)
    return loss.mean() if reduction == "mean" else loss


def init_prompts(r: int, m: int, width: int, seed: int = 0) -> torch.Tensor:
    """Random start [R, m, d_t] of the search: Xavier-normal per relation, as the authors' code."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(r, m, width, generator=generator) * math.sqrt(2.0 / (m + width))


def search_one(source_prompt: torch.Tensor, source_anchors: torch.Tensor, target_anchors: torch.Tensor,
               target_embeddings, steps: int = 2000, lr: float = 5e-3, topk: int | None = 8192,
               normalize: bool = True, seed: int = 0) -> tuple[torch.Tensor, int]:
    """The search for one relation's prompt [m, d_s], as the authors' code runs it: Adam on a random start, Eq. 6
    in every step, the Eq. 5 loss on the top-k mask of the source encoding; the prompt at the step of lowest loss
    is returned with that step. ``target_embeddings``: the target's word-embedding matrix or its (mean, std)."""
    stats = target_embeddings if isinstance(target_embeddings, tuple) else embedding_stats(target_embeddings)
    source = relative_encoding(source_prompt.float(), source_anchors.float())  # Eq. 3, [m, k]
    mask = topk_mask(source, topk)
    m, width = source_prompt.shape[0], target_anchors.shape[1]
    raw = init_prompts(1, m, width, seed)[0].requires_grad_(True)  # the start relative_transfer takes too
    optimizer = torch.optim.Adam([raw], lr=lr)
    best_loss, best, best_step = float("inf"), None, 0
    for step in range(steps + 1):
        v = normalize_to_target(raw, stats) if normalize else raw  # Eq. 6
        loss = matching_loss(source, relative_encoding(v, target_anchors.float()), mask)  # Eq. 5
        if loss.item() < best_loss:
            best_loss, best, best_step = loss.item(), v.detach().clone(), step
        if step < steps:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return best, best_step


def _as_list(x) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _source_encodings(sources, source_anchors, target_anchors, topk, device):
    if len(sources) != len(source_anchors):
        raise ValueError(f"{len(sources)} source prompt tensors but {len(source_anchors)} source anchor matrices")
    encodings = []
    for i, (p, a) in enumerate(zip(sources, source_anchors)):
        if p.shape[:2] != sources[0].shape[:2] or p.shape[-1] != a.shape[-1]:
            raise ValueError(f"source {i}: prompts {list(p.shape)} do not fit source 0 {list(sources[0].shape)} "
                             f"or its anchors {list(a.shape)}")
        if a.shape[0] != target_anchors.shape[0]:
            raise ValueError(f"source {i} has {a.shape[0]} anchors, the target {target_anchors.shape[0]}: "
                             "every model needs the embeddings of the same anchor words")
        rel = relative_encoding(p.detach().float().to(device), a.float().to(device))
        mask = topk_mask(rel, topk)
        encodings.append((F.normalize(rel * mask, dim=-1), mask))
    return encodings


def search_loss(v: torch.Tensor, encodings, unit_target_anchors: torch.Tensor) -> torch.Tensor:
    """Per-relation loss [R] of target prompts ``v`` [R, m, d_t]: Eq. 5 (:func:`matching_loss` with the
    mask) averaged over prompt vectors and, for several sources, averaged over sources (Eq. 7, as the
    authors' code). ``encodings``: (masked source encoding scaled to norm 1, mask) per source;
    ``unit_target_anchors``: the target anchors scaled to norm 1. Written for speed (the search's inner
    step): the source side is zero outside its mask, so only the target's norm needs the mask."""
    rel_t = F.normalize(v, dim=-1) @ unit_target_anchors.T
    squared = rel_t.square()
    per_source = [1 - (rel_t * unit_s).sum(-1) / (squared * mask).sum(-1).sqrt().clamp_min(1e-8)
                  for unit_s, mask in encodings]
    return torch.stack(per_source).mean(0).mean(-1)


def relative_transfer(source_prompts, source_anchors, target_anchors: torch.Tensor, target_embeddings,
                      steps: int = 2000, lr: float = 5e-3, topk: int | None = 8192, normalize: bool = True,
                      seed: int = 0, record_every: int = 1,
                      select_step: Callable[[torch.Tensor], float] | None = None, select_every: int = 50,
                      callback: Callable[[int, torch.Tensor], None] | None = None,
                      init: torch.Tensor | None = None, progress: bool | None = None, runs: int = 1):
    """Search target prompts whose relative encodings match the source's (Eqs. 3, 5, 6; Eq. 7 with several
    sources). Returns ``(target_prompts [R, m, d_t], history)``.

    ``source_prompts``: a tensor [R, m, d_s] or a list (one per source, multi-source); ``source_anchors``:
    the matching [k, d_s] anchor embeddings (list likewise); ``target_anchors`` [k, d_t]: the same words in
    the target; ``target_embeddings``: the target's word-embedding matrix (or its ``(mean, std)``) for Eq. 6.
    All relations and prompt vectors are optimised at once as one [R, m, d_t] tensor; Eq. 6 statistics are
    taken per relation, as in the authors' one-relation-at-a-time search, so vectorising changes nothing.

    Step selection: by default the prompts at the step with the lowest matching loss (no target labels).
    ``select_step(prompts) -> score`` (higher is better, every ``select_every`` steps) instead picks the step
    by score: the authors' protocol, which USES TARGET LABELS (dev accuracy). ``callback(step, prompts)`` is
    called at every step (0 = the random start) for analyses such as accuracy along the search.
    ``history``: {"step", "loss", "per_relation" (every ``record_every`` steps), "chosen_step"}.

    ``runs``: the R rows are that many independent searches of R / runs relations each, one after the other
    (e.g. the prompts of several seeds, with ``init`` their starts): each run's loss is its own mean, so its
    gradient and its chosen step (``history["chosen_step"]`` is then a list) are those it has alone.
    """
    sources, anchors = _as_list(source_prompts), _as_list(source_anchors)
    device = target_anchors.device
    target_anchors = target_anchors.float()
    encodings = _source_encodings(sources, anchors, target_anchors, topk, device)
    unit_anchors = F.normalize(target_anchors, dim=-1)  # once, not in every step
    stats = target_embeddings if isinstance(target_embeddings, tuple) else embedding_stats(target_embeddings)
    r, m = sources[0].shape[:2]
    if runs < 1 or r % runs or (runs > 1 and select_step is not None):
        raise ValueError(f"runs must be >= 1 and divide the {r} relations, without select_step; got runs={runs}")
    raw = (init_prompts(r, m, target_anchors.shape[1], seed) if init is None else init.float().clone())
    raw = raw.to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([raw], lr=lr)
    history = {"step": [], "loss": [], "per_relation": [], "chosen_step": [0] * runs}
    best_value, best = torch.full((runs,), float("inf")), raw.detach().clone()
    show = steps >= 200 if progress is None else progress
    for step in tqdm(range(steps + 1), desc="relative search", disable=not show, leave=False):
        v = normalize_to_target(raw, stats, dims=(-2, -1)) if normalize else raw
        per_relation = search_loss(v, encodings, unit_anchors)
        per_run = per_relation.view(runs, -1).mean(1)
        if step % record_every == 0 or step == steps:
            history["step"].append(step)
            history["loss"].append(per_relation.mean().item())
            history["per_relation"].append(per_relation.tolist())
        if callback is not None:
            callback(step, v.detach().clone())
        if select_step is None:
            value = per_run.detach().cpu()
        elif step % select_every == 0 or step == steps:
            value = torch.tensor([-float(select_step(v.detach().clone()))])
        else:
            value = torch.tensor([float("inf")])
        for i in (value < best_value).nonzero()[:, 0].tolist():
            rows = slice(i * r // runs, (i + 1) * r // runs)
            best_value[i], best[rows], history["chosen_step"][i] = value[i], v.detach()[rows], step
        if step < steps:
            optimizer.zero_grad()
            per_run.sum().backward()
            optimizer.step()
    for i in torch.isinf(best_value).nonzero()[:, 0].tolist():  # a scorer that never returned a number
        rows = slice(i * r // runs, (i + 1) * r // runs)
        best[rows], history["chosen_step"][i] = v.detach()[rows], steps
    if runs == 1:
        history["chosen_step"] = history["chosen_step"][0]
    return best.cpu(), history
