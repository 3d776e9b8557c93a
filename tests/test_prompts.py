"""Tests of tutorial_lib.prompts: soft prompt tuning (OptiPrompt) and P@1 over a restricted vocabulary.

Most tests use a tiny random masked LM (milliseconds); the "tuning learns something" test uses the zoo's
mini-bert-base (skipped when its checkpoint is not built). Each test runs in a few seconds on one thread.
"""
from __future__ import annotations

import dataclasses
import hashlib

import pytest
import torch

from tiny_models import COMMON, FACTS, tiny_lm
from tutorial_lib import data, probing, prompts
from tutorial_lib.data import Fact, Relation
from tutorial_lib.prompt_io import PromptFileError
from tutorial_lib.prompts import PromptSet, TuneConfig, evaluate, tune_prompts
from tutorial_lib.results import RunStore

torch.set_num_threads(1)

VOCAB = list(FACTS)


def state_hash(model: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def lm():
    return tiny_lm("bert", width=32, seed=0)


def tiny_relations(n_facts: int = 40) -> dict[str, Relation]:
    """Three invented relations over the tiny tokenizer's words; objects are FACTS words (the vocabulary)."""
    templates = {"P19": "[X] was born in [Y] .", "P20": "[X] died in [Y] .", "P36": "The capital of [X] is [Y] ."}
    out = {}
    for k, (rel_id, template) in enumerate(templates.items()):
        facts = tuple(Fact(rel_id, f"{COMMON[(i + k) % len(COMMON)]} {COMMON[(5 * i + 2) % len(COMMON)]}",
                           FACTS[(3 * i + k) % len(FACTS)], f"{rel_id}-{i}") for i in range(n_facts))
        out[rel_id] = Relation(rel_id, f"relation {rel_id}", template, "N-1", (), None, facts)
    return out


@pytest.fixture(scope="module")
def rels():
    rels = tiny_relations(n_facts=40)
    assert all(r.split(s) for r in rels.values() for s in data.SPLITS)
    return rels


def random_prompts(lm, relations, seed: int = 0, m: int = 5) -> PromptSet:
    config = TuneConfig(m=m, seed=seed)
    vectors = prompts.init_prompts(lm, list(relations.values()), config)
    return PromptSet(lm.name, list(relations), vectors, {"m": m})


# ----------------------------------------------------------------------------- frozen model, prompt grads

def test_only_the_prompt_vectors_receive_gradients(lm, rels):
    for p in lm.model.parameters():
        p.requires_grad_(True)  # as a model fresh from from_pretrained would be
    before = state_hash(lm.model)
    tuned, history = tune_prompts(lm, rels, VOCAB, TuneConfig(epochs=2, batch_size=8), progress=False)
    assert state_hash(lm.model) == before, "tuning changed the model's weights"
    assert all(not p.requires_grad and p.grad is None for p in lm.model.parameters()), \
        "model parameters must be frozen (no gradient) during prompt tuning"
    assert len(history) == 2
    start = prompts.init_prompts(lm, list(rels.values()), TuneConfig())
    assert not torch.equal(tuned.vectors, start), "the prompt vectors did not move"

    # One backward pass through the scorer: the gradient reaches the prompt vectors (all m of them).
    facts = rels["P19"].split("train")[:4] or list(rels["P19"].facts[:4])
    vectors = torch.nn.Parameter(start.clone())
    logits = prompts.prompt_logits(lm, vectors, facts, torch.zeros(len(facts), dtype=torch.long))
    logits.logsumexp(-1).sum().backward()
    assert vectors.grad is not None and (vectors.grad[0].abs().sum(-1) > 0).all()
    assert (vectors.grad[1:] == 0).all(), "only the facts' own relation's prompt should get gradient"


def test_prompt_logits_match_the_full_model_at_the_mask(lm, rels):
    facts = list(rels["P36"].facts[:6])
    vectors = random_prompts(lm, rels).vectors
    index = torch.full((len(facts),), 2, dtype=torch.long)
    fast = prompts.prompt_logits(lm, vectors, facts, index)
    ids, attention, starts = prompts.build_inputs(lm, facts, vectors.shape[1])
    embeds = lm.model.get_input_embeddings()(ids)
    for i, s in enumerate(starts.tolist()):
        embeds[i, s:s + vectors.shape[1]] = vectors[2]
    full = lm.model(inputs_embeds=embeds, attention_mask=attention).logits
    slow = full[torch.arange(len(facts)), starts + vectors.shape[1]]
    assert fast.shape == (len(facts), lm.model.config.vocab_size)
    torch.testing.assert_close(fast, slow, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- restricted vocabulary

def test_restricted_argmax_never_leaves_the_allowed_ids():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(64, 50, generator=gen)
    allowed = torch.tensor([3, 7, 11, 42])
    logits[:, 0] = 100.0  # the unrestricted winner is always id 0, which is not allowed
    pred = probing.restricted_argmax(logits, allowed)
    assert set(pred.tolist()) <= set(allowed.tolist())
    assert torch.equal(pred, allowed[logits[:, allowed].argmax(-1)])


def test_majority_baseline_breaks_ties_by_first_seen_object():
    train = [Fact("P1", f"s{i}", obj, str(i)) for i, obj in enumerate(["Rome", "Paris", "Paris", "Rome", "Oslo"])]
    test = [Fact("P1", "t", obj, "t" + obj) for obj in ("Rome", "Oslo", "Oslo")]
    assert probing.majority_p_at_1(train, test) == pytest.approx(1 / 3)  # Rome and Paris tie; Rome came first
    assert probing.majority_p_at_1(train[1:], test) == 0.0  # now Paris comes first


def test_evaluate_predicts_only_scoring_words(lm, rels, monkeypatch):
    vocab = VOCAB[:4]
    allowed = set(probing.vocab_ids(lm.tokenizer, vocab).tolist())
    seen = []

    def spy(logits, allowed_ids):
        pred = probing.restricted_argmax(logits, allowed_ids)
        seen.append(pred)
        return pred

    monkeypatch.setattr(prompts, "restricted_argmax", spy)
    scores = evaluate(lm, random_prompts(lm, rels), rels, vocab, split="test")
    predicted = set(torch.cat(seen).tolist())
    assert seen and predicted <= allowed, f"predictions {predicted - allowed} outside the scoring vocabulary"
    assert set(scores) == set(rels) | {"mean"}


def test_one_word_vocabulary_makes_every_scored_fact_correct(lm, rels):
    # Only facts whose object is in the vocabulary are scored, and the argmax can only pick that word.
    word = next(f.object for f in rels["P19"].split("test"))
    scores = evaluate(lm, random_prompts(lm, rels), {"P19": rels["P19"]}, [word], split="test")
    assert scores["P19"] == 1.0 and scores["mean"] == 1.0


def test_a_relation_without_scored_facts_is_named_not_silently_dropped(lm, rels):
    from dataclasses import replace
    word = next(f.object for f in rels["P19"].split("test"))
    other = next(r for r in rels if r != "P19")
    unanswerable = replace(rels[other], facts=tuple(replace(f, object=word + "-not-a-word") for f in rels[other].facts))
    with pytest.warns(UserWarning, match=other):
        scores = evaluate(lm, random_prompts(lm, rels), {"P19": rels["P19"], other: unanswerable}, [word])
    assert scores["mean"] == scores["P19"]


# ----------------------------------------------------------------------------- determinism

def test_same_seed_gives_identical_prompts_and_scores(lm, rels):
    config = TuneConfig(epochs=2, batch_size=8, seed=3)
    a, hist_a = tune_prompts(lm, rels, VOCAB, config, progress=False)
    b, hist_b = tune_prompts(lm, rels, VOCAB, config, progress=False)
    assert torch.equal(a.vectors, b.vectors)
    assert hist_a == hist_b
    assert evaluate(lm, a, rels, VOCAB) == evaluate(lm, b, rels, VOCAB)
    c, _ = tune_prompts(lm, rels, VOCAB, dataclasses.replace(config, seed=4), progress=False)
    assert not torch.equal(a.vectors, c.vectors), "the seed is not threaded through tuning"


def test_relations_with_their_own_seeds_are_tuned_as_if_alone(lm, rels):
    config = TuneConfig(epochs=2, batch_size=8)
    together, _ = tune_prompts(lm, rels, VOCAB, config, progress=False, seeds=[3, 4, 5])
    for r, (rel_id, seed) in enumerate(zip(rels, [3, 4, 5])):
        alone, _ = tune_prompts(lm, {rel_id: rels[rel_id]}, VOCAB, dataclasses.replace(config, seed=seed),
                                progress=False)
        assert torch.allclose(together.vectors[r], alone.vectors[0], atol=1e-4), rel_id
    pooled, _ = tune_prompts(lm, rels, VOCAB, config, progress=False)
    assert not torch.allclose(pooled.vectors, together.vectors, atol=1e-4), "seeds did not separate the runs"
    with pytest.raises(ValueError, match="one seed per relation"):
        tune_prompts(lm, rels, VOCAB, config, progress=False, seeds=[3])


def test_tune_or_load_reuses_the_stored_run(lm, rels, tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    config = TuneConfig(epochs=1, batch_size=8)
    first, metrics = prompts.tune_or_load(lm, rels, VOCAB, config, store=store, progress=False)
    calls = []
    original = prompts.tune_prompts
    monkeypatch.setattr(prompts, "tune_prompts", lambda *a, **k: calls.append(1) or original(*a, **k))
    again, metrics_again = prompts.tune_or_load(lm, rels, VOCAB, config, store=store, progress=False)
    assert not calls, "a stored run was recomputed"
    assert torch.equal(first.vectors, again.vectors) and metrics == metrics_again
    assert metrics["test"] == pytest.approx(evaluate(lm, again, rels, VOCAB))
    prompts.tune_or_load(dataclasses.replace(lm, revision="rebuilt"), rels, VOCAB, config, store=store, progress=False)
    assert calls, "a run stored for other weights of the same model name was reused"


# ----------------------------------------------------------------------------- clear errors

def test_unknown_relation_is_named(lama_dir):
    with pytest.raises(KeyError, match="P0"):
        data.load_relations(["P19", "P0"])


def test_evaluating_a_relation_without_prompt_is_an_error(lm, rels):
    only_two = PromptSet(lm.name, ["P19", "P20"], random_prompts(lm, rels).vectors[:2])
    with pytest.raises(KeyError, match="P36"):
        evaluate(lm, only_two, rels, VOCAB)


@pytest.mark.parametrize("bad, match", [({"m": 0}, "m .*>= 1"), ({"epochs": 0}, "epochs"),
                                        ({"init": "zeros"}, "init")])
def test_bad_tuning_parameters(bad, match):
    with pytest.raises(ValueError, match=match):
        TuneConfig(**bad)


def test_width_mismatch_when_evaluating(lm, rels):
    wide = PromptSet("tiny-roberta-24", list(rels), torch.randn(len(rels), 5, 24))
    with pytest.raises(ValueError, match="width 24.*width 32"):
        evaluate(lm, wide, rels, VOCAB)


def test_prompt_file_round_trip_and_foreign_prompts(lm, rels, tmp_path):
    mine = random_prompts(lm, rels)
    mine.save(tmp_path / "mine.safetensors")
    back = PromptSet.load(tmp_path / "mine.safetensors", expect_model=lm)
    assert back.model == lm.name and back.relations == list(rels)
    assert torch.equal(back.vectors, mine.vectors)

    other = tiny_lm("roberta", width=24, seed=1, name="tiny-b")
    foreign = PromptSet(other.name, list(rels), torch.randn(len(rels), 5, other.width))
    foreign.save(tmp_path / "foreign.safetensors")
    with pytest.raises(PromptFileError, match="tiny-b"):
        PromptSet.load(tmp_path / "foreign.safetensors", expect_model=lm)


# ----------------------------------------------------------------------------- nearest tokens

def test_nearest_tokens_of_an_embedding_row_is_that_token(lm):
    emb = lm.model.get_input_embeddings().weight.detach()
    ids = probing.vocab_ids(lm.tokenizer, ["Paris", "Rome"])
    near = prompts.nearest_tokens(lm, emb[ids], k=3)
    assert [row[0][0] for row in near] == ["Paris", "Rome"]
    for row in near:
        assert row[0][1] == pytest.approx(1.0, abs=1e-5)
        cosines = [c for _, c in row]
        assert cosines == sorted(cosines, reverse=True) and all(-1 <= c <= 1 + 1e-6 for c in cosines)


# ----------------------------------------------------------------------------- it learns (zoo model)

def test_tuned_prompt_beats_a_random_prompt_on_a_zoo_model(bert_base, lama_dir):
    # P1412 (languages spoken): an untuned prompt rarely lands on a language among ~5k candidate words.
    from tutorial_lib.world import WorldConfig

    rel = data.load_relations(["P1412"], max_facts=WorldConfig().max_facts)
    vocab = data.scoring_vocabulary([bert_base.tokenizer])
    config = TuneConfig(epochs=3, seed=0)
    tuned, history = tune_prompts(bert_base, rel, vocab, config, progress=False)
    random = PromptSet(bert_base.name, ["P1412"], prompts.init_prompts(bert_base, list(rel.values()), config))
    tuned_p1 = evaluate(bert_base, tuned, rel, vocab)["P1412"]
    random_p1 = evaluate(bert_base, random, rel, vocab)["P1412"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert tuned_p1 > random_p1 + 0.2, f"tuned {tuned_p1:.3f} vs random {random_p1:.3f}"
