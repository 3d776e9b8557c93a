"""A tiny world (two random 1-layer masked LMs, three invented relations) for the experiment and widget
tests: everything runs in a second or two (plain helpers, not a pytest conftest)."""
from __future__ import annotations

from tiny_models import COMMON, FACTS, tiny_lm
from tutorial_lib import data
from tutorial_lib.data import Fact, Relation
from tutorial_lib.experiments import World

# Objects: whole-word tokens of both tiny tokenizers (the scoring vocabulary must contain them).
OBJECTS = "city river music school family world team house water king village".split()

# Transfer options that keep every method inside the tiny vocabularies (JSON-serialisable: they key the
# cached records).
TINY_OPTIONS = {"words": COMMON, "exclude": []}


def tiny_relations(n_facts: int = 40) -> dict[str, Relation]:
    templates = {"P19": "[X] was born in [Y] .", "P20": "[X] died in [Y] .", "P36": "The capital of [X] is [Y] ."}
    out = {}
    for k, (rel_id, template) in enumerate(templates.items()):
        facts = tuple(Fact(rel_id, FACTS[(i + k) % len(FACTS)], OBJECTS[(2 * i + k) % len(OBJECTS)], f"{rel_id}-{i}")
                      for i in range(n_facts))
        out[rel_id] = Relation(rel_id, f"relation {rel_id}", template, "N-1", (), None, facts)
    return out


def tiny_world(width_a: int = 32, width_b: int = 24) -> World:
    models = {"tiny-a": tiny_lm("bert", width_a, seed=0, name="tiny-a"),
              "tiny-b": tiny_lm("roberta", width_b, seed=1, name="tiny-b")}
    vocab = data.scoring_vocabulary([lm.tokenizer for lm in models.values()], words=COMMON)
    return World(models, tiny_relations(), vocab)
