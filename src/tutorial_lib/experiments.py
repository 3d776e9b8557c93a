"""Experiment units shared by the chapters, each cached in the run store.

A chapter asks for "the tuned prompts of model A with seed s" or "the scores of method M from A to B"
and gets them from disk when an earlier chapter (or run) computed them with the same settings.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from . import data
from .prompts import PromptSet, TuneConfig, evaluate, tune_or_load
from .results import RunStore
from .zoo import ZOO, MaskedLM, load_model
from .zoo.build import DEFAULT_RELATIONS, WorldConfig


@dataclass(frozen=True)
class World:
    """The models, relations and scoring vocabulary a chapter works in."""

    models: dict[str, MaskedLM]
    relations: dict[str, data.Relation]
    vocab: list[str]


def load_world(models: list[str], relations: list[str] | None = None, device: str = "auto") -> World:
    """Load ``models``; relations default to the mini zoo's 12. On zoo models the facts are the subset
    the zoo was pretrained on; the scoring vocabulary is the words that are one token in every model."""
    if not models:
        raise ValueError("give at least one model name")
    device = None if device in (None, "auto") else device
    lms = {name: load_model(name, device=device) for name in models}
    ids = list(relations) if relations else list(DEFAULT_RELATIONS)
    cap = WorldConfig().max_facts if all(n in ZOO for n in models) else None
    rels = data.load_relations(ids, max_facts=cap)
    vocab = data.scoring_vocabulary([lm.tokenizer for lm in lms.values()])
    return World(lms, rels, vocab)


def source_prompts(world: World, model: str, seed: int, m: int = 5, epochs: int = 10,
                   store: RunStore | None = None, progress: bool = True) -> tuple[PromptSet, dict]:
    """Prompts tuned directly on ``model`` (chapter 1), loaded from the run store when present."""
    return tune_or_load(world.models[model], world.relations, world.vocab, TuneConfig(m=m, epochs=epochs, seed=seed),
                        store=store, progress=progress)


def transfer_scores(world: World, method: str, sources: list[str], target: str, seed: int, m: int = 5,
                    epochs: int = 10, store: RunStore | None = None, progress: bool = True,
                    **options) -> tuple[dict, torch.Tensor]:
    """Test P@1 per relation of ``method`` from ``sources`` (tuned with ``seed``) to ``target``.

    ``options`` go to :func:`tutorial_lib.transfer.transfer` (``n_anchors``, ``steps``, ``topk``, ...);
    they must be JSON-serialisable (no callbacks) since they key the cached record.
    Returns (scores, target prompts).
    """
    from .transfer import transfer

    store = store if store is not None else RunStore()
    prompts = [source_prompts(world, s, seed, m, epochs, store, progress)[0] for s in sources]
    config = {"method": method, "sources": list(sources), "target": target, "seed": seed,
              "relations": list(world.relations), "source_tuning": asdict(TuneConfig(m=m, epochs=epochs, seed=seed)),
              "vocab_size": len(world.vocab), "options": options}

    def compute():
        seeded = {"seed": seed} if method in ("projector", "relative") else {}
        result = transfer(method, [world.models[s] for s in sources], [p.vectors for p in prompts],
                          world.models[target], **seeded, **options)
        target_prompts = PromptSet(target, list(world.relations), result.prompts.detach().cpu(), {"m": m})
        scores = evaluate(world.models[target], target_prompts, world.relations, world.vocab)
        return {"test": scores}, {"vectors": target_prompts.vectors}

    record = store.get_or_compute("transfer", config, compute)
    return record.metrics["test"], record.tensors["vectors"]
