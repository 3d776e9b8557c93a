"""Tests of tutorial_lib.geometry (Eq. 3 and the measures of shared word geometry) and tutorial_lib.tokens."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tiny_models import COMMON, bpe_tokenizer, gen, random_orthogonal, tiny_lm, wordpiece_tokenizer
from tutorial_lib import anchors, data, probing
from tutorial_lib.geometry import cosine_matrix, linear_map_r2, shared_geometry, word_translation
from tutorial_lib.tokens import single_token_ids


@pytest.fixture(scope="module")
def space():
    """A 16-wide embedding matrix and the same space rotated by a random orthogonal matrix and scaled by 3."""
    emb = torch.randn(300, 16, generator=gen(0))
    return emb, 3.0 * emb @ random_orthogonal(16, seed=2)


@pytest.fixture(scope="module")
def lms():
    return tiny_lm("bert", 32, seed=0), tiny_lm("roberta", 24, seed=1)


def test_word_translation_is_perfect_for_a_rotated_copy_and_chance_for_unrelated_spaces(space):
    emb, target = space
    assert word_translation(emb[:64], target[:64], emb[64:], target[64:]) == 1.0  # Eq. 3 is rotation invariant
    unrelated = torch.randn(300, 16, generator=gen(7))
    assert word_translation(emb[:64], unrelated[:64], emb[64:], unrelated[64:]) < 0.05  # chance is 1/236
    with pytest.raises(ValueError, match="same words"):
        word_translation(emb[:64], target[:60], emb[64:], target[64:])


def test_linear_map_r2_is_one_for_a_rotated_copy_and_near_zero_for_unrelated_spaces(space):
    emb, target = space
    assert linear_map_r2(emb[:200], target[:200], emb[200:], target[200:]) == pytest.approx(1.0, abs=1e-9)
    unrelated = torch.randn(300, 16, generator=gen(7))
    assert linear_map_r2(emb[:200], unrelated[:200], emb[200:], unrelated[200:]) < 0.1
    with pytest.raises(ValueError, match="same words"):
        linear_map_r2(emb[:200], target[:150], emb[200:], target[200:])


def test_shared_geometry_of_a_model_with_itself(lms):
    a, _ = lms
    words = [w for w in COMMON if w.isalpha()]
    found = shared_geometry(a, a, words=words, exclude=())
    assert found["p_at_1"] == 1.0 and found["probes"] >= 2 and found["chance"] == 1 / found["probes"]
    assert found["same_index_r"] == found["same_index_mean"] == 1.0 > found["same_index_chance"]  # same coordinates
    assert 0.3 < found["linear_r2"] < 1  # fewer anchors (24) than dimensions + 1 (33): no exact fit on the probes
    with pytest.raises(ValueError, match="probe_every"):
        shared_geometry(a, a, probe_every=1, words=words, exclude=())


def test_cosine_matrix_is_the_cosine_of_every_pair_of_rows():
    rows = torch.randn(5, 7, generator=gen(3))
    sims = cosine_matrix(rows)
    expected = F.cosine_similarity(rows[:, None], rows[None], dim=-1)
    torch.testing.assert_close(sims, expected, atol=1e-6, rtol=0)
    assert cosine_matrix(torch.cat([rows, torch.zeros(1, 7)]))[-1].abs().max() == 0  # a zero row scores 0


# ---------------------------------------------------------------- the one word-to-token-id function

@pytest.mark.parametrize("make", [wordpiece_tokenizer, bpe_tokenizer])
def test_single_token_ids_keep_one_ordinary_token_only(make):
    tok = make()
    words = ["city", "the", "rivers", "Zürich"]  # one token, one token, two pieces (river + s), unknown letters
    ids = single_token_ids(tok, words)
    assert ids[0] == tok.encode(" city", add_special_tokens=False)[0] and ids[1] is not None
    assert ids[2] is None and len(tok.encode(" rivers", add_special_tokens=False)) == 2
    assert ids[3] is None  # WordPiece: the single token [UNK], no token of the word; BPE: several byte tokens
    assert single_token_ids(tok, ["Zürich", "city"]) == [None, ids[0]]  # remembered, in the order asked


def test_unknown_words_are_in_no_word_list():
    tok = wordpiece_tokenizer()
    assert tok.encode(" Zürich", add_special_tokens=False) == [tok.unk_token_id]  # what WordPiece does
    assert data.scoring_vocabulary([tok], ["Paris", "Zürich", "Rome"]) == ["Paris", "Rome"]
    assert anchors.shared_words([tok], ["Paris", "Zürich"], alphabetic=False) == ["Paris"]
    with pytest.raises(probing.VocabularyError, match="Zürich"):
        probing.vocab_ids(tok, ["Paris", "Zürich"])
