"""The third zoo's recipe (issue 15): no shared coordinates, and a manual template the corpus never phrases."""
import pytest
import torch

from tutorial_lib import data
from tutorial_lib.transfer import relative_encoding, rotation_chance, same_index_correlations
from tutorial_lib.zoo import quality_checks
from tutorial_lib.zoo.corpus import jaccard, pattern_words, pretraining_patterns
from tutorial_lib.zoo.embeddings import random_rotation


def test_random_rotation_is_orthogonal_and_its_own_per_seed():
    q = random_rotation(64, seed=11)
    assert torch.allclose(q @ q.T, torch.eye(64), atol=1e-5)
    assert torch.equal(q, random_rotation(64, seed=11))
    assert not torch.allclose(q, random_rotation(64, seed=12), atol=1e-2)


def _words_with_structure(n=4000, d=48, seed=0):
    """Embeddings with a few strong directions, as the PPMI-SVD start has (its leading singular vectors)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g) * torch.linspace(3.0, 0.3, d)


def test_rotation_keeps_every_relative_encoding():
    words = _words_with_structure()
    prompt, anchors = words[:5] + 0.1, words[100:600]
    q = random_rotation(words.shape[1], seed=3)
    assert torch.allclose(relative_encoding(prompt @ q, anchors @ q), relative_encoding(prompt, anchors), atol=1e-5)


def test_rotation_removes_shared_coordinates():
    words = _words_with_structure(d=192)
    other = words + 0.05 * torch.randn(words.shape, generator=torch.Generator().manual_seed(1))
    assert same_index_correlations(words, other).min() > 0.95          # the second zoo: same coordinates
    rotated = same_index_correlations(words, other @ random_rotation(words.shape[1], seed=5))
    assert rotated.mean() < 0.1
    chance = rotation_chance(words, draws=40)  # draw k turns by random_rotation(d, seed=k)
    assert chance.shape == (40,) and abs(rotated.max() - chance[5]) < 0.05  # a noisy copy: the same rotation's level
    assert 0.15 < chance.median() < 0.4  # the largest of 192 |r| of a random rotation: far from 0 and from 1


def test_same_index_correlations_see_a_sign_flip_and_check_rows():
    words = _words_with_structure()
    flipped = words * torch.where(torch.arange(words.shape[1]) % 2 == 0, 1.0, -1.0)
    assert torch.allclose(same_index_correlations(words, flipped), torch.ones(words.shape[1]))
    with pytest.raises(ValueError, match="same words"):
        same_index_correlations(words, words[:-1])


def test_pattern_overlap():
    assert pattern_words("[X] Was born in [Y] .") == {"[X]", "was", "born", "in", "[Y]"}
    assert jaccard("[X] was born in [Y] .", "[X] is born in [Y] .") == pytest.approx(4 / 6)
    assert jaccard("[X] was born in [Y] .", "[Y] is the birthplace of [X] .") == pytest.approx(2 / 9)
    assert jaccard("The capital of [X] is [Y] .", "[Y] is the capital of [X] .") == 1.0


def test_paraphrases_near_the_manual_template_are_held_out(lama_dir):
    for rel in data.load_relations(["P19", "P36", "P530"], max_facts=5).values():
        kept = pretraining_patterns(rel, holdout_jaccard=0.5)
        assert kept, rel.id
        paraphrases = [p for p in kept if p != rel.autoprompt]
        near = [p for p in rel.paraphrases if jaccard(p, rel.template) >= 0.5]
        if len(near) < len(rel.paraphrases):
            assert all(jaccard(p, rel.template) < 0.5 for p in paraphrases), rel.id
        else:  # every paraphrase is near: the least similar one stays
            assert len(paraphrases) == 1
        assert len(kept) < len(pretraining_patterns(rel)) or not near


def test_quality_checks_flag_a_template_that_recovers_everything():
    good = {"majority": 0.2, "paraphrase": 0.6, "manual": 0.4, "other_template": 0.1}
    easy = {**good, "manual": 0.58}
    assert all(ok for *_, ok in quality_checks(good))
    failed = [what for what, _, _, ok in quality_checks(easy) if not ok]
    assert failed == ["manual template / facts stored"]
    shared = {"m": {"p_at_1": 0.99, "same_index_mean": 0.9}}
    assert [w for w, *_, ok in quality_checks(good, shared) if not ok] == [
        "same-index abs(r), mean over dimensions (highest pair)"]


def test_the_builders_evaluation_reads_lama_from_the_given_folder(lama_dir, monkeypatch, tmp_path):
    """`zoo.build --lama-dir` without $LAMA_DIR: the scoring vocabulary came from the download path (no network)."""
    from tutorial_lib.zoo import load_model
    from tutorial_lib.zoo.build import evaluate_facts

    relations = data.load_relations(["P36"], lama_dir, max_facts=20)
    monkeypatch.delenv("LAMA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no cached copy to fall back on
    lm = load_model("mini-bert-base", device="cpu")
    scores = evaluate_facts(lm.model, lm.tokenizer, relations, holdout_jaccard=0.5, limit=3, lama_dir=lama_dir)
    assert set(scores["mean"]) == {"majority", "paraphrase", "manual", "other_template"}


def test_quality_checks_flag_a_pair_above_the_chance_range():
    good = {"majority": 0.2, "paraphrase": 0.6, "manual": 0.4, "other_template": 0.1}
    pair = {"p_at_1": 0.99, "same_index_mean": 0.06, "same_index_r": 0.24, "same_index_chance_95": 0.28}
    assert all(ok for *_, ok in quality_checks(good, {"m": pair}))
    shared = {**pair, "same_index_r": 0.35}  # one dimension shared beyond what 95 % of rotations show
    assert [w for w, *_, ok in quality_checks(good, {"m": shared}) if not ok] == [
        "same-index abs(r), largest / 95th percentile for random rotations (highest pair)"]
