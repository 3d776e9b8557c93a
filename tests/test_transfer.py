"""Tests of tutorial_lib.transfer and tutorial_lib.prompt_io on tiny random embeddings and models."""
from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F

from tiny_models import COMMON, FACTS, gen, random_orthogonal, tiny_lm
from tutorial_lib import prompt_io
from tutorial_lib.data import Fact, Relation
from tutorial_lib.transfer import (AnchorError, FewAnchorsWarning, WidthMismatch, anchor_embeddings, anchor_words,
                                   direct_transfer, discretize_transfer, embedding_stats, fact_words, init_prompts,
                                   matching_loss, normalize_to_target, projector_transfer, relative_encoding,
                                   relative_transfer, search_one, topk_mask, train_projectors, transfer)
from tutorial_lib.zoo import MaskedLM

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def space():
    """A 16-wide 'source' embedding matrix, its first 64 rows as anchors, and 3 relations x 4 prompts."""
    emb = torch.randn(300, 16, generator=gen(0))
    prompts = 2.0 * torch.randn(3, 4, 16, generator=gen(1))
    return emb, emb[:64], prompts


@pytest.fixture(scope="module")
def rotated(space):
    """The same space rotated by a random orthogonal matrix and scaled by 3."""
    emb, _, _ = space
    q = random_orthogonal(16, seed=2)
    target = 3.0 * emb @ q
    return q, target, target[:64]


@pytest.fixture(scope="module")
def lms():
    return tiny_lm("bert", 32, seed=0), tiny_lm("roberta", 24, seed=1)


# ---------------------------------------------------------------- Eq. 3-6 as pure functions

def test_relative_encoding_is_cosine_and_vectorised(space):
    emb, anchors, prompts = space
    rel = relative_encoding(prompts, anchors)
    assert rel.shape == (3, 4, 64)
    explicit = F.cosine_similarity(prompts[1, 2][None], anchors, dim=-1)
    torch.testing.assert_close(rel[1, 2], explicit, atol=1e-6, rtol=0)


def test_relative_encoding_invariant_to_rotation_and_scaling(space, rotated):
    _, anchors, prompts = space
    q, _, target_anchors = rotated
    torch.testing.assert_close(relative_encoding(prompts, anchors),
                               relative_encoding(0.5 * prompts @ q, target_anchors), atol=1e-5, rtol=0)
    # and it is not invariant to a non-orthogonal map (the test can fail)
    skew = torch.eye(16) + torch.randn(16, 16, generator=gen(3))
    assert (relative_encoding(prompts, anchors) - relative_encoding(prompts @ skew, anchors @ skew)).abs().max() > 0.1


def test_topk_mask_keeps_the_largest_entries():
    rel = torch.tensor([[0.1, 0.9, -0.5, 0.4], [0.3, 0.2, 0.8, -0.1]])
    mask = topk_mask(rel, 2)
    assert mask.tolist() == [[False, True, False, True], [True, False, True, False]]
    assert topk_mask(rel, None).all() and topk_mask(rel, 10).all()
    with pytest.raises(ValueError, match="topk"):
        topk_mask(rel, 0)


def test_normalize_matches_eq6(space, rotated):
    _, _, prompts = space
    _, target, _ = rotated
    out = normalize_to_target(prompts, target)
    mean, std = embedding_stats(target)
    assert out.mean().item() == pytest.approx(mean, abs=1e-5)
    assert out.std(correction=0).item() == pytest.approx(std, rel=1e-5)
    expected = (prompts - prompts.mean()) / prompts.std(correction=0) * target.std(correction=0) + target.mean()
    torch.testing.assert_close(out, expected)
    per_relation = normalize_to_target(prompts, (mean, std), dims=(-2, -1))
    for r in range(3):
        assert per_relation[r].mean().item() == pytest.approx(mean, abs=1e-5)
        assert per_relation[r].std(correction=0).item() == pytest.approx(std, rel=1e-5)


def test_matching_loss_eq5_with_mask():
    src = torch.tensor([[1.0, 0.0, 5.0], [0.0, 1.0, 0.0]])
    tgt = torch.tensor([[1.0, 0.0, -5.0], [1.0, 1.0, 0.0]])
    full = 1 - F.cosine_similarity(src, tgt, dim=-1)
    assert matching_loss(src, tgt).item() == pytest.approx(full.mean().item())
    mask = torch.tensor([[True, True, False], [True, True, True]])
    per_vector = matching_loss(src, tgt, mask, reduction="none")
    assert per_vector[0].item() == pytest.approx(0.0, abs=1e-6)  # the disagreeing entry is masked out
    assert per_vector[1].item() == pytest.approx(1 - 2 ** -0.5, abs=1e-6)


# ---------------------------------------------------------------- the relative search

def test_transfer_to_rotated_scaled_copy_recovers_rotated_prompts(space, rotated):
    emb, anchors, prompts = space
    q, target, target_anchors = rotated
    out, history = relative_transfer(prompts, anchors, target_anchors, target, steps=400, lr=5e-2, seed=1,
                                     progress=False)
    assert out.shape == (3, 4, 16)
    assert min(history["loss"]) < 5e-3 < history["loss"][0]
    assert relative_encoding(out, target_anchors).sub(relative_encoding(prompts, anchors)).abs().max() < 0.1
    cos = F.cosine_similarity(out, prompts @ q, dim=-1)  # equal to the rotated originals up to Eq. 6
    assert cos.min() > 0.98, cos
    mean, std = embedding_stats(target)
    assert out.mean().item() == pytest.approx(mean, abs=1e-4)
    assert out.std(correction=0).item() == pytest.approx(std, rel=1e-4)


def test_self_transfer_recovers_the_prompt(space):
    emb, anchors, prompts = space
    out, history = relative_transfer(prompts, anchors, anchors, emb, steps=400, lr=5e-2, seed=3,
                                     normalize=False, progress=False)
    assert F.cosine_similarity(out, prompts, dim=-1).min() > 0.99
    start = F.cosine_similarity(relative_transfer(prompts, anchors, anchors, emb, steps=0, seed=3,
                                                  normalize=False)[0], prompts, dim=-1)
    assert start.abs().max() < 0.9  # the random start is not already the answer
    normalised, _ = relative_transfer(prompts, anchors, anchors, emb, steps=400, lr=5e-2, seed=3, progress=False)
    assert F.cosine_similarity(normalised, prompts, dim=-1).mean() > 0.95


def test_topk_search_matches_only_the_masked_entries(space, rotated):
    emb, anchors, prompts = space
    _, target, target_anchors = rotated
    out, history = relative_transfer(prompts, anchors, target_anchors, target, steps=300, lr=5e-2, topk=32,
                                     progress=False)
    src_rel = relative_encoding(prompts, anchors)
    mask = topk_mask(src_rel, 32)
    assert matching_loss(src_rel, relative_encoding(out, target_anchors), mask).item() == \
        pytest.approx(min(history["loss"]), abs=1e-5)


def test_multi_source_with_one_source_equals_single_source(space, rotated):
    emb, anchors, prompts = space
    _, target, target_anchors = rotated
    single, h1 = relative_transfer(prompts, anchors, target_anchors, target, steps=50, seed=7, topk=40)
    multi, h2 = relative_transfer([prompts], [anchors], target_anchors, target, steps=50, seed=7, topk=40)
    twice, h3 = relative_transfer([prompts, prompts], [anchors, anchors], target_anchors, target, steps=50,
                                  seed=7, topk=40)
    assert torch.equal(single, multi) and h1["loss"] == h2["loss"]
    assert torch.equal(single, twice)  # the average of two equal losses is the same loss
    other, _ = relative_transfer(prompts, anchors, target_anchors, target, steps=50, seed=8, topk=40)
    assert not torch.equal(single, other)


def test_searches_run_together_equal_searches_alone(space, rotated):
    emb, anchors, prompts = space
    _, target, target_anchors = rotated
    other = 2.0 * torch.randn(3, 4, 16, generator=gen(3))
    starts = torch.cat([init_prompts(3, 4, 16, seed=7), init_prompts(3, 4, 16, seed=8)])
    together, history = relative_transfer(torch.cat([prompts, other]), anchors, target_anchors, target, steps=60,
                                          topk=40, init=starts, runs=2)
    for i, (source, seed) in enumerate([(prompts, 7), (other, 8)]):
        alone, own = relative_transfer(source, anchors, target_anchors, target, steps=60, topk=40, seed=seed)
        assert torch.allclose(together[3 * i:3 * i + 3], alone, atol=1e-5)
        assert history["chosen_step"][i] == own["chosen_step"]
    with pytest.raises(ValueError, match="divide"):
        relative_transfer(prompts, anchors, target_anchors, target, steps=5, runs=2)


def test_the_readers_search_one_equals_the_batched_search(space, rotated):
    """search_one (one relation, the authors' loop) and relative_transfer (all relations at once) are one search:
    the same start from the same seed, the same prompt and the same chosen step, with and without the mask."""
    emb, anchors, prompts = space
    _, target, target_anchors = rotated
    for topk in (None, 40):
        batched, history = relative_transfer(prompts[:1], anchors, target_anchors, target, steps=60, topk=topk,
                                             seed=5)
        one, step = search_one(prompts[0], anchors, target_anchors, target, steps=60, topk=topk, seed=5)
        torch.testing.assert_close(one, batched[0], atol=1e-5, rtol=1e-5)
        assert step == history["chosen_step"]
    # three relations, each its own run (own loss and start): row r is search_one of relation r with seed r
    starts = torch.cat([init_prompts(1, 4, target.shape[1], seed=r) for r in range(3)])
    batched, history = relative_transfer(prompts, anchors, target_anchors, target, steps=60, topk=40, init=starts,
                                         runs=3)
    for r in range(3):
        one, step = search_one(prompts[r], anchors, target_anchors, target, steps=60, topk=40, seed=r)
        torch.testing.assert_close(one, batched[r], atol=1e-5, rtol=1e-5)
        assert step == history["chosen_step"][r]


def test_multi_source_averages_the_per_source_losses(space, rotated):
    emb, anchors, prompts = space
    q, target, target_anchors = rotated
    other = torch.randn(3, 4, 16, generator=gen(9))
    _, h = relative_transfer([prompts, other], [anchors, anchors], target_anchors, target, steps=0)
    init, _ = relative_transfer(prompts, anchors, target_anchors, target, steps=0)
    rel_t = relative_encoding(init, target_anchors)
    expected = (matching_loss(relative_encoding(prompts, anchors), rel_t)
                + matching_loss(relative_encoding(other, anchors), rel_t)) / 2
    assert h["loss"][0] == pytest.approx(expected.item(), abs=1e-6)


def test_step_selection_callback_and_history(space, rotated):
    emb, anchors, prompts = space
    _, target, target_anchors = rotated
    seen = []
    out, h = relative_transfer(prompts, anchors, target_anchors, target, steps=30, lr=5e-2,
                               callback=lambda step, v: seen.append((step, v.shape)))
    assert seen == [(s, (3, 4, 16)) for s in range(31)]
    assert h["step"] == list(range(31)) and len(h["per_relation"][0]) == 3
    assert h["chosen_step"] == min(range(31), key=lambda s: h["loss"][s])
    # dev-based selection (uses target labels): a scorer that prefers step 10's prompts
    snapshots = {}
    relative_transfer(prompts, anchors, target_anchors, target, steps=30, lr=5e-2,
                      callback=lambda step, v: snapshots.setdefault(step, v.clone()))
    chosen, h2 = relative_transfer(prompts, anchors, target_anchors, target, steps=30, lr=5e-2, select_every=10,
                                   select_step=lambda v: -float((v - snapshots[10]).abs().sum()))
    assert h2["chosen_step"] == 10 and torch.allclose(chosen, snapshots[10])
    _, sparse = relative_transfer(prompts, anchors, target_anchors, target, steps=30, record_every=10)
    assert sparse["step"] == [0, 10, 20, 30]


def test_relative_input_errors(space, rotated):
    emb, anchors, prompts = space
    _, target, target_anchors = rotated
    with pytest.raises(ValueError, match="same anchor words"):
        relative_transfer(prompts, anchors, target_anchors[:10], target, steps=1)
    with pytest.raises(ValueError, match="source anchor"):
        relative_transfer([prompts, prompts], [anchors], target_anchors, target, steps=1)


# ---------------------------------------------------------------- baselines

def test_direct_transfer_same_width_and_mismatch(space):
    _, _, prompts = space
    assert torch.equal(direct_transfer(prompts, 16), prompts)
    with pytest.raises(WidthMismatch, match=r"width 16.*width 32"):
        direct_transfer(prompts, 32)


def test_discretize_picks_nearest_source_words(space, rotated):
    emb, _, _ = space
    _, target, _ = rotated
    words = [f"w{i}" for i in range(50)]
    chosen_rows = torch.tensor([[3, 17], [42, 0]])
    prompts = 4.0 * emb[chosen_rows] + 0.01 * torch.randn(2, 2, 16, generator=gen(4))  # scaled: cosine, not L2
    out, chosen = discretize_transfer(prompts, emb[:50], target[:50], words)
    assert chosen == [["w3", "w17"], ["w42", "w0"]]
    assert torch.equal(out, target[chosen_rows])
    with pytest.raises(ValueError, match="row by row"):
        discretize_transfer(prompts, emb[:50], target[:40], words)


def test_discretize_avoids_forbidden_words_per_relation(space, rotated):
    emb, _, _ = space
    _, target, _ = rotated
    words = [f"w{i}" for i in range(50)]
    prompts = emb[torch.tensor([[3, 17], [3, 17]])]
    _, free = discretize_transfer(prompts, emb[:50], target[:50], words)
    _, avoided = discretize_transfer(prompts, emb[:50], target[:50], words, avoid=[{"W3"}, ()])
    assert avoided[1] == free[1] == ["w3", "w17"]  # the second relation may use every word
    assert avoided[0][0] != "w3" and avoided[0][1] == "w17"  # forbidden (case-insensitive): the next nearest
    sims = torch.nn.functional.cosine_similarity(emb[3][None], emb[:50], dim=-1)
    sims[3] = -2
    assert avoided[0][0] == f"w{sims.argmax().item()}"
    with pytest.raises(ValueError, match="2 relations"):
        discretize_transfer(prompts, emb[:50], target[:50], words, avoid=[{"w3"}])


def test_projector_lowers_training_mse_and_maps_prompts(space, rotated):
    emb, _, prompts = space
    q, target, _ = rotated
    out, history = projector_transfer(prompts, emb[:200], target[:200], hidden=64, epochs=10, seed=0)
    assert out.shape == (3, 4, 16)
    assert history["epoch"] == list(range(11)) and history["chosen_epoch"] == 10
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    again, _ = projector_transfer(prompts, emb[:200], target[:200], hidden=64, epochs=10, seed=0)
    assert torch.equal(out, again)
    scores = iter([0.1, 0.5, 0.2])
    _, picked = projector_transfer(prompts, emb[:200], target[:200], hidden=64, epochs=3,
                                   select_epoch=lambda p: next(scores))
    assert picked["chosen_epoch"] == 2


def test_projectors_trained_together_equal_projectors_trained_alone(space, rotated):
    emb, _, prompts = space
    _, target, _ = rotated
    together, losses = train_projectors(emb[:200], target[:200], [0, 1], hidden=32, epochs=3)
    for seed, projector, curve in zip([0, 1], together, losses):
        alone, history = projector_transfer(prompts, emb[:200], target[:200], hidden=32, epochs=3, seed=seed)
        with torch.no_grad():
            assert torch.allclose(projector(prompts), alone, atol=1e-4)
        assert curve == pytest.approx(history["loss"], rel=1e-4)
    with torch.no_grad():
        assert not torch.allclose(together[0](prompts), together[1](prompts))  # the seeds differ
    # one anchor set per projector: two problems (here: two slices of the space) in one pass
    sources, targets = torch.stack([emb[:150], emb[150:]]), torch.stack([target[:150], target[150:]])
    pair, _ = train_projectors(sources, targets, [0, 0], hidden=32, epochs=3)
    for projector, x, y in zip(pair, sources, targets):
        alone, _ = projector_transfer(prompts, x, y, hidden=32, epochs=3, seed=0)
        with torch.no_grad():
            assert torch.allclose(projector(prompts), alone, atol=1e-4)
    with pytest.raises(ValueError, match="one per projector"):
        train_projectors(sources, targets, [0, 1, 2], hidden=32, epochs=1)


# ---------------------------------------------------------------- anchors

def test_anchor_words_shared_alphabetic_ranked_excluding(lms):
    a, b = lms
    words = COMMON + FACTS + ["3", "xyzzyq", "the"]
    got = anchor_words(a.tokenizer, b.tokenizer, None, exclude={"city"}, words=words)
    assert "city" not in got and "3" not in got and "xyzzyq" not in got
    assert len(got) == len(set(got)) and set(got) <= set(COMMON + FACTS)
    rank = [max(a.tokenizer.convert_tokens_to_ids(w), b.tokenizer.encode(" " + w, add_special_tokens=False)[0])
            for w in got]
    assert rank == sorted(rank)
    assert anchor_words(a.tokenizer, b.tokenizer, 5, words=words) == anchor_words(
        a.tokenizer, b.tokenizer, None, words=words)[:5]
    assert anchor_words([a.tokenizer, a.tokenizer], b.tokenizer, 5, words=words) == anchor_words(
        a.tokenizer, b.tokenizer, 5, words=words)


def test_fact_words_are_objects_and_capitalised_subject_tokens():
    facts = (Fact("P19", "Dante Alighieri", "Florence", "u1"), Fact("P19", "Mozart,", "Salzburg", "u2"),
             Fact("P17", "river of Bologna", "Italy", "u3"))
    rel = Relation("P19", "place of birth", "[X] was born in [Y] .", "N-1", (), None, facts)
    assert fact_words({"P19": rel}) == {"Florence", "Salzburg", "Dante", "Alighieri", "Mozart,", "Mozart",
                                        "Italy", "Bologna"}


def test_anchor_errors_name_the_models(lms):
    a, b = lms
    with pytest.raises(AnchorError, match="tiny|Tokenizer"):
        anchor_words(a.tokenizer, b.tokenizer, 10, words=["xyzzyq", "3"])
    with pytest.raises(AnchorError):
        anchor_words(a.tokenizer, b.tokenizer, 10, exclude=set(COMMON + FACTS), words=COMMON + FACTS)
    with pytest.warns(FewAnchorsWarning, match="only"):
        got = anchor_words(a.tokenizer, b.tokenizer, 10_000, words=COMMON)
    assert 0 < len(got) < 10_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        anchor_words(a.tokenizer, b.tokenizer, 3, words=COMMON)


def test_anchor_embeddings_are_embedding_rows(lms):
    a, _ = lms
    emb = anchor_embeddings(a, ["city", "river"])
    weight = a.model.get_input_embeddings().weight
    assert torch.equal(emb[1], weight[a.tokenizer.convert_tokens_to_ids("river")].detach())
    with pytest.raises(AnchorError, match="tiny-bert-32"):
        anchor_embeddings(a, ["city", "xyzzyq"])


def test_real_anchor_list_excludes_lama_fact_words(lms, lama_dir):
    a, b = lms
    from tutorial_lib.transfer import lama_fact_words
    excluded = lama_fact_words(lama_dir)
    assert {"Paris", "France"} <= excluded
    got = anchor_words(a.tokenizer, b.tokenizer, None, exclude=excluded, lama_dir=lama_dir)
    assert got and not set(got) & excluded
    from tutorial_lib.data import common_vocab
    assert set(got) <= set(common_vocab("cased_be_ro_al", lama_dir))  # the default word list


# ---------------------------------------------------------------- the dispatcher

def _rotated_copy(lm: MaskedLM, q: torch.Tensor, scale: float, name: str) -> MaskedLM:
    import copy
    model = copy.deepcopy(lm.model)
    with torch.no_grad():
        model.get_input_embeddings().weight.copy_(scale * lm.model.get_input_embeddings().weight @ q)
    return MaskedLM(name, model, lm.tokenizer)


def test_dispatcher_all_methods(lms):
    a, b = lms
    prompts = torch.randn(2, 3, 32, generator=gen(5))
    words = COMMON + FACTS
    rot = _rotated_copy(a, random_orthogonal(32, seed=6), 2.0, "tiny-bert-rotated")
    assert torch.equal(transfer("direct", a, prompts, rot).prompts, prompts)
    with pytest.raises(WidthMismatch, match="32.*24"):
        transfer("direct", a, prompts, b)
    disc = transfer("discretize", a, prompts, b, words=words)
    assert disc.prompts.shape == (2, 3, 24) and len(disc.words[0]) == 3
    proj = transfer("projector", a, prompts, b, words=words, exclude=(), epochs=2, hidden=16)
    assert proj.prompts.shape == (2, 3, 24) and proj.anchors
    rel = transfer("relative", a, prompts, b, words=words, exclude=FACTS, steps=20, topk=8)
    assert rel.prompts.shape == (2, 3, 24) and not set(rel.anchors) & set(FACTS)
    two = transfer("relative", [a, a], [prompts, prompts], b, words=words, exclude=FACTS, steps=20, topk=8)
    assert torch.equal(two.prompts, rel.prompts)
    with pytest.raises(ValueError, match="unknown transfer method"):
        transfer("telepathy", a, prompts, b)
    with pytest.raises(ValueError, match="one source"):
        transfer("projector", [a, a], [prompts, prompts], b, words=words, exclude=())
    with pytest.raises(WidthMismatch, match="tiny-roberta-24"):
        transfer("relative", b, prompts, a, words=words, exclude=())


def test_dispatcher_relative_onto_rotated_model(lms):
    a, _ = lms
    q = random_orthogonal(32, seed=6)
    rot = _rotated_copy(a, q, 2.0, "tiny-bert-rotated")
    words = [w for w in a.tokenizer.get_vocab() if w.isalpha()]  # every whole-word token as an anchor
    prompts = a.model.get_input_embeddings().weight.detach()[torch.tensor([[40, 50, 60], [70, 80, 90]])]
    res = transfer("relative", a, prompts, rot, words=words, exclude=(), steps=300, lr=5e-2)
    assert len(res.anchors) > 32 and min(res.history["loss"]) < 1e-2
    assert F.cosine_similarity(res.prompts, prompts @ q, dim=-1).min() > 0.95


# ---------------------------------------------------------------- the real mini zoo (skipped until built)

def test_zoo_self_and_rotated_transfer(bert_base, lama_dir):
    """Self-transfer and transfer to a rotated copy recover the prompt on the real mini-bert-base."""
    from tutorial_lib.transfer import lama_fact_words
    lm = bert_base
    words = anchor_words(lm.tokenizer, lm.tokenizer, 500, exclude=lama_fact_words(lama_dir), lama_dir=lama_dir)
    anchors, weight = anchor_embeddings(lm, words), lm.model.get_input_embeddings().weight.detach()
    prompts = weight[torch.randint(1000, 3000, (2, 5), generator=gen(0))] + \
        0.02 * torch.randn(2, 5, lm.width, generator=gen(1))
    start, _ = relative_transfer(prompts, anchors, anchors, weight, steps=0)
    assert F.cosine_similarity(start, prompts, dim=-1).mean() < 0.2
    out, _ = relative_transfer(prompts, anchors, anchors, weight, steps=400, lr=5e-2, progress=False)
    assert F.cosine_similarity(out, prompts, dim=-1).mean() > 0.8
    q = random_orthogonal(lm.width, seed=3)
    out_rot, _ = relative_transfer(prompts, anchors, 2.0 * anchors @ q, 2.0 * weight @ q, steps=400, lr=5e-2,
                                   progress=False)
    assert F.cosine_similarity(out_rot, prompts @ q, dim=-1).mean() > 0.8


# ---------------------------------------------------------------- prompt files

def test_prompt_file_round_trip_and_errors(tmp_path, space):
    _, _, prompts = space
    path = prompt_io.save_prompts(tmp_path / "p.safetensors", prompts, "mini-bert-base", ["P19", "P20", "P36"],
                                  seed=3, note="x")
    back = prompt_io.load_prompts(path, expect_model="mini-bert-base")
    assert torch.equal(back.vectors, prompts) and back.relations == ["P19", "P20", "P36"]
    assert back.meta["m"] == "4" and back.meta["width"] == "16" and back.meta["seed"] == "3"
    with pytest.raises(prompt_io.PromptFileError, match="mini-bert-base.*mini-roberta-base"):
        prompt_io.load_prompts(path, expect_model="mini-roberta-base")
    with pytest.raises(prompt_io.PromptFileError, match="width 16.*192"):
        prompt_io.load_prompts(path, expect_width=192)
    with pytest.raises(prompt_io.PromptFileError, match="one id per row"):
        prompt_io.save_prompts(path, prompts, "other", ["P19"])
    assert torch.equal(prompt_io.load_prompts(path).vectors, prompts)  # the failed save left the file alone
    assert list(tmp_path.iterdir()) == [path]
    with pytest.raises(FileNotFoundError):
        prompt_io.load_prompts(tmp_path / "missing.safetensors")
