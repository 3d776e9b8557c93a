"""The world of a model: which relations, which facts, scored on which words.

A mini-zoo model was pretrained on the facts of :data:`DEFAULT_RELATIONS`, at most ``WorldConfig().max_facts``
per relation, chosen with all of them loaded together (subjects shared by several relations first,
:func:`data.select_facts`). Loading a subset of the relations on its own would pick other facts, some of which
the zoo never read; :func:`relations_for` therefore loads the whole world and then cuts it. Any other masked
LM is scored on every LAMA fact of the relations asked for. The scoring vocabulary is
:func:`data.scoring_vocabulary` of the models' tokenizers. :class:`WorldConfig` also holds the recipe of the
zoo's pretraining corpus; the builder (:mod:`tutorial_lib.zoo.build`) imports it from here, never the other way.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import data
from .zoo import ZOO
from .zoo.corpus import build_corpus

# Near pairs for the PANDA chapter (P19/P20/P937 places of a life, P27/P1412/P103 nationality and
# language) and a cluster of country relations whose subjects overlap (P36, P37, P30, P47, P530), so that
# the same subject needs different answers under different prompts.
DEFAULT_RELATIONS = ("P19", "P20", "P937", "P27", "P1412", "P103", "P106", "P36", "P37", "P30", "P47", "P530")


@dataclass(frozen=True)
class WorldConfig:
    """What every zoo model is pretrained on."""

    relations: tuple[str, ...] = DEFAULT_RELATIONS
    max_facts: int | None = 200  # facts per relation (None: all)
    per_fact: int | None = 2  # pretraining sentences per fact, each a random paraphrase (None: all)
    # paraphrases whose word overlap (Jaccard) with the manual template reaches this are held out too (None: keep)
    holdout_jaccard: float | None = 0.5
    text_fraction: float = 0.25  # share of English (WordNet) sentences in the corpus
    vocab_size: int = 10_000
    corpus_seed: int = 0
    # "ppmi-svd": word embeddings start from co-occurrence statistics of all fact and gloss sentences and stay
    # frozen but for fact words (zoo/embeddings.py); "random": the usual random start, all trainable
    word_vectors: str = "ppmi-svd"
    rotate: bool = True  # turn each model's PPMI-SVD start by its own random rotation (no shared coordinates)

    def corpus(self, relations, text: list[str]):
        return build_corpus(relations, text, self.text_fraction, self.per_fact, self.corpus_seed,
                            self.holdout_jaccard)


def world_relations(world: WorldConfig, lama_dir=None) -> dict[str, data.Relation]:
    """Every relation of ``world`` with its facts, as its models read them (the builder's and
    :func:`relations_for`'s one load)."""
    ids = data.relation_ids(lama_dir) if world.relations == ("all",) else list(world.relations)
    return data.load_relations(ids, lama_dir, max_facts=world.max_facts)


def relations_for(models, ids=None, lama_dir=None) -> dict[str, data.Relation]:
    """The relations ``ids`` with the facts of the world of ``models`` (model names), the one way the library
    loads facts for models. With a mini-zoo model among them: the facts the zoo was pretrained on (its whole
    world loaded, then cut to ``ids``; None: all of the world's relations), so that a subset of the relations
    has the same facts as in the whole world; a relation outside the zoo's world is a KeyError. Otherwise:
    every LAMA fact of ``ids`` (None: all 41 relations)."""
    models = [models] if isinstance(models, str) else list(models)
    if not any(name in ZOO for name in models):
        return data.load_relations(ids, lama_dir)
    world = world_relations(WorldConfig(), lama_dir)
    ids = list(world) if ids is None else list(ids)
    unknown = [r for r in ids if r not in world]
    if unknown:
        raise KeyError(f"relation(s) {unknown} are not in the mini zoo's world: its models were pretrained on the "
                       f"facts of {list(world)} only")
    return {r: world[r] for r in ids}
