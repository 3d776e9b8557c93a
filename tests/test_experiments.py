"""Tests of tutorial_lib.experiments: world loading, the cached transfer unit, references, options."""
from __future__ import annotations

import itertools

import pytest
import torch

import tutorial_lib.transfer as transfer_pkg
from conftest import zoo_available
from tiny_world import TINY_OPTIONS, tiny_world
from tutorial_lib import experiments
from tutorial_lib.results import RunStore
from tutorial_lib.transfer import WidthMismatch
from tutorial_lib.zoo import UnknownModel

torch.set_num_threads(1)
FAST = {"m": 2, "epochs": 1}  # source prompts: 2 vectors, 1 epoch of tuning


@pytest.fixture(scope="module")
def world():
    return tiny_world()


# ---------------------------------------------------------------- load_world

def test_load_world_needs_a_model():
    with pytest.raises(ValueError, match="at least one model"):
        experiments.load_world([])


def test_load_world_unknown_model_names_it():
    with pytest.raises(UnknownModel, match="no-such-model-xyz"):
        experiments.load_world(["./no-such-model-xyz"])


def test_load_world_unknown_relation_names_it(monkeypatch, lama_dir):
    from tiny_models import tiny_lm
    monkeypatch.setattr(experiments, "load_model", lambda name, device=None: tiny_lm("bert", 16, name=name))
    with pytest.raises(KeyError, match="P99999"):
        experiments.load_world(["tiny"], ["P19", "P99999"])


def test_load_world_zoo_defaults(lama_dir):
    if not zoo_available("mini-bert-base"):
        pytest.skip("mini-bert-base checkpoint not built")
    w = experiments.load_world(["mini-bert-base"], ["P19", "P36"], device="cpu")
    assert list(w.relations) == ["P19", "P36"] and w.models["mini-bert-base"].width == 192
    assert all(len(r.facts) <= 200 for r in w.relations.values())  # the zoo's pretraining subset
    assert "Paris" in w.vocab or len(w.vocab) > 1000


# ---------------------------------------------------------------- transfer_scores is cached

def test_transfer_scores_loads_instead_of_recomputing(world, tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    calls = []
    real = transfer_pkg.transfer

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(transfer_pkg, "transfer", counting)
    first, vectors = experiments.transfer_scores(world, "projector", ["tiny-a"], "tiny-b", 0, store=store,
                                                 progress=False, **FAST, n_anchors=16, hidden=8, **TINY_OPTIONS)
    assert calls == ["projector"] and vectors.shape == (3, 2, 24)
    assert set(first) == set(world.relations) | {"mean"} and 0 <= first["mean"] <= 1

    def refuse(*args, **kwargs):
        raise AssertionError("recomputed a cached transfer")

    monkeypatch.setattr(transfer_pkg, "transfer", refuse)
    again, vectors_again = experiments.transfer_scores(world, "projector", ["tiny-a"], "tiny-b", 0, store=store,
                                                       progress=False, **FAST, n_anchors=16, hidden=8, **TINY_OPTIONS)
    assert again == first and torch.equal(vectors, vectors_again)
    # a different option is a different run
    with pytest.raises(AssertionError, match="recomputed"):
        experiments.transfer_scores(world, "projector", ["tiny-a"], "tiny-b", 0, store=store, progress=False,
                                    **FAST, n_anchors=8, hidden=8, **TINY_OPTIONS)


def test_source_prompts_are_cached_too(world, tmp_path):
    store = RunStore(tmp_path)
    p1, m1 = experiments.source_prompts(world, "tiny-a", 0, store=store, progress=False, **FAST)
    assert len(list((tmp_path / "prompts").iterdir())) == 1
    p2, m2 = experiments.source_prompts(world, "tiny-a", 0, store=store, progress=False, **FAST)
    assert torch.equal(p1.vectors, p2.vectors) and m1 == m2
    assert len(list((tmp_path / "prompts").iterdir())) == 1


def test_direct_transfer_needs_equal_widths(world, tmp_path):
    with pytest.raises(WidthMismatch, match="32.*24"):
        experiments.transfer_scores(world, "direct", ["tiny-a"], "tiny-b", 0, store=RunStore(tmp_path),
                                    progress=False, **FAST)
    assert not (tmp_path / "transfer").exists() or not any((tmp_path / "transfer").iterdir())


def test_direct_transfer_between_same_width_zoo_models(tmp_path, lama_dir):
    if not (zoo_available("mini-bert-base") and zoo_available("mini-roberta-base")):
        pytest.skip("base zoo checkpoints not built")
    w = experiments.load_world(["mini-bert-base", "mini-roberta-base"], ["P36"], device="cpu")
    store = RunStore(tmp_path)
    scores, vectors = experiments.transfer_scores(w, "direct", ["mini-bert-base"], "mini-roberta-base", 0,
                                                  store=store, progress=False, **FAST)
    source, _ = experiments.source_prompts(w, "mini-bert-base", 0, store=store, progress=False, **FAST)
    assert torch.equal(vectors, source.vectors)  # the same numbers, now read by the other model
    assert 0 <= scores["P36"] <= 1 and scores["mean"] == scores["P36"]


def test_projector_pairs_store_what_transfer_scores_would_compute(world, tmp_path):
    batched, single = RunStore(tmp_path / "batched"), RunStore(tmp_path / "single")
    pairs = [("tiny-a", "tiny-b"), ("tiny-b", "tiny-a"), ("tiny-a", "tiny-a")]
    experiments.projector_pairs(world, pairs, [0, 1], store=batched, n_anchors=30, projector_epochs=3, **FAST)
    for (source, target), seed in itertools.product(pairs, (0, 1)):
        loaded, vectors = experiments.transfer_scores(world, "projector", [source], target, seed, store=batched,
                                                      progress=False, n_anchors=30, projector_epochs=3, **FAST)
        alone, vectors_alone = experiments.transfer_scores(world, "projector", [source], target, seed,
                                                           store=single, progress=False, n_anchors=30,
                                                           projector_epochs=3, **FAST)
        assert torch.allclose(vectors, vectors_alone, atol=1e-4), (source, target, seed)
        assert loaded == alone
    with pytest.raises(ValueError, match="only n_anchors and projector_epochs"):
        experiments.projector_pairs(world, pairs, [0, 1], store=batched, hidden=8)


def test_relative_seeds_store_what_transfer_scores_would_compute(world, tmp_path):
    batched, single = RunStore(tmp_path / "batched"), RunStore(tmp_path / "single")
    options = {"n_anchors": 16, "steps": 30, "topk": 8, **TINY_OPTIONS}
    experiments.relative_seeds(world, ["tiny-a", "tiny-b"], "tiny-b", [0, 1], store=batched, **FAST, **options)
    for seed in (0, 1):
        loaded, vectors = experiments.transfer_scores(world, "relative", ["tiny-a", "tiny-b"], "tiny-b", seed,
                                                      store=batched, progress=False, **FAST, **options)
        alone, vectors_alone = experiments.transfer_scores(world, "relative", ["tiny-a", "tiny-b"], "tiny-b", seed,
                                                           store=single, progress=False, **FAST, **options)
        assert torch.allclose(vectors, vectors_alone, atol=1e-5) and loaded == alone


# ---------------------------------------------------------------- options and references

def test_method_options_are_what_each_method_takes():
    assert experiments.method_options("direct", 10, 20, 5) == {}
    assert experiments.method_options("discretize", 10, 20, 5) == {}
    assert experiments.method_options("projector", 10, 20, 5) == {"n_anchors": 10, "projector_epochs": 10}
    assert experiments.method_options("projector", 10, 20, 5, projector_epochs=3) == {"n_anchors": 10,
                                                                                      "projector_epochs": 3}
    assert experiments.method_options("relative", 10, 20, 5) == {"n_anchors": 10, "steps": 20, "topk": 5}
    with pytest.raises(ValueError, match="telepathy"):
        experiments.method_options("telepathy")


def test_method_options_default_to_the_papers_search():
    """No trap defaults: the relative search runs the authors' 2,000 steps with their top-8,192 mask (None
    would turn the mask off; steps=None crashed the search)."""
    assert experiments.method_options("relative") == {"n_anchors": None, "steps": 2000, "topk": 8192}
    assert experiments.method_options("projector") == {"n_anchors": None, "projector_epochs": 10}


def test_reference_scores(world, tmp_path):
    store = RunStore(tmp_path)
    refs = experiments.reference_scores(world, "tiny-a", seed=0, m=2, store=store)
    assert set(refs) == {"random prompt", "manual template", "majority"}
    for scores in refs.values():
        assert set(scores) == set(world.relations) | {"mean"}
        assert all(0 <= v <= 1 for v in scores.values())
    # objects cycle through 11 words: the majority answer is right on a small share of the test facts
    assert refs["majority"]["mean"] < 0.5
    assert len(list((tmp_path / "reference").iterdir())) == 1
    again = experiments.reference_scores(world, "tiny-a", seed=0, m=2, store=store)
    assert again == refs and len(list((tmp_path / "reference").iterdir())) == 1  # loaded, not recomputed
    fresh = experiments.reference_scores(world, "tiny-a", seed=0, m=2, store=RunStore(tmp_path / "other"))
    assert fresh == refs  # deterministic for a seed
