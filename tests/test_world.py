"""Tests of tutorial_lib.world: the facts of a model's world, the same for any subset of its relations."""
from __future__ import annotations

import pytest

from tiny_models import tiny_lm
from tutorial_lib import data, experiments, panda
from tutorial_lib.world import DEFAULT_RELATIONS, WorldConfig, relations_for, world_relations


def facts(relations) -> dict:
    return {r: rel.facts for r, rel in relations.items()}


@pytest.fixture(scope="module")
def zoo_world(lama_dir):
    return world_relations(WorldConfig())


@pytest.mark.parametrize("subset", [["P19"], ["P36", "P19"], ["P106"], ["P19", "P36", "P106"]])
def test_a_subset_of_the_zoo_world_has_the_whole_worlds_facts(zoo_world, subset):
    """The zoo read the facts of its 12-relation world; a subset must not pick others (loaded on their own, the
    subsets above pick 34, 92 and 20 P19 / P36 / P106 facts of 200 that the zoo never read)."""
    expected = {r: zoo_world[r].facts for r in subset}
    assert facts(relations_for(["mini-bert-base"], subset)) == expected
    assert facts(panda.load_tasks("mini-bert-base", subset)) == expected
    lms = {"mini-bert-base": tiny_lm("bert", 16, name="mini-bert-base")}  # a zoo name is what counts
    assert facts(experiments.world_of(lms, subset).relations) == expected
    mixed = {**lms, "my-model": tiny_lm("roberta", 16, name="my-model")}  # beside another model: still the zoo's
    assert facts(experiments.world_of(mixed, subset).relations) == expected


def test_the_zoo_world_is_the_default_and_its_edges_are_errors(zoo_world):
    assert list(relations_for(["mini-roberta-large"])) == list(DEFAULT_RELATIONS) == list(zoo_world)
    with pytest.raises(KeyError, match="P176"):
        relations_for(["mini-bert-base"], ["P19", "P176"])  # the zoo never read a fact of P176


def test_other_models_get_every_lama_fact(lama_dir):
    every = data.load_relations(["P19", "P176"])
    assert facts(relations_for(["my-model"], ["P19", "P176"])) == facts(every)
    assert len(every["P19"].facts) > WorldConfig().max_facts  # not the zoo's cap
    lms = {"my-model": tiny_lm("bert", 16, name="my-model")}
    assert facts(experiments.world_of(lms, ["P19"]).relations) == {"P19": every["P19"].facts}


def test_world_of_refuses_an_empty_relation_list():
    from tiny_models import tiny_lm
    from tutorial_lib.experiments import world_of
    with pytest.raises(ValueError, match="relations is empty"):
        world_of({"tiny-a": tiny_lm("bert", 16, seed=0, name="tiny-a")}, [])


def test_facts_digest_sees_an_edited_object():
    from tutorial_lib.data import Fact, Relation, facts_digest
    fact = Fact("P19", "Dante", "Florence", "u1")
    rel = Relation("P19", "place of birth", "[X] was born in [Y] .", "N-1", (), None, (fact,))
    edited = Relation("P19", "place of birth", "[X] was born in [Y] .", "N-1", (), None,
                      (Fact("P19", "Dante", "Rome", "u1"),))
    assert facts_digest({"P19": rel}) != facts_digest({"P19": edited})
    assert facts_digest({"P19": rel}) == facts_digest({"P19": rel})
