"""PANDA's tasks: LAMA relations of one model, their low-resource cuts, and the prompts checked against the
model (prompt transfer across tasks stays inside one model)."""
from __future__ import annotations

import hashlib
from dataclasses import replace

import torch

from ..data import Relation
from ..prompts import PromptSet, scored_facts
from ..world import relations_for
from ..zoo import MaskedLM


class PromptMismatch(ValueError):
    """Prompts that do not belong to the model (other model name, other width or other length)."""


def load_tasks(model: str, ids: list[str] | tuple[str, ...] | None = None, lama_dir=None) -> dict[str, Relation]:
    """The relations (tasks) with the facts ``model`` saw in pretraining (:func:`world.relations_for`: a
    mini-zoo model's whole world cut to ``ids``, None: all of its relations; any other model: every LAMA fact
    of ``ids``)."""
    return relations_for([model], ids, lama_dir)


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


def check_vector(lm: MaskedLM, vector: torch.Tensor, m: int, what: str) -> torch.Tensor:
    """``vector`` [m, d] as a detached float CPU tensor, or :class:`PromptMismatch` when it does not fit ``lm``."""
    if vector.dim() != 2 or vector.shape[1] != lm.width:
        raise PromptMismatch(f"{what} of shape {list(vector.shape)} does not fit {lm.name}: expected [m, {lm.width}]")
    if vector.shape[0] != m:
        raise PromptMismatch(f"{what} has {vector.shape[0]} vectors but the run uses m={m}")
    return vector.detach().float().cpu()
