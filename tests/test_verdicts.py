"""The book's verdict rule: a difference counts only when it exceeds the spread over seeds."""
import math

import pytest

from tutorial_lib import verdicts


def test_difference_beyond_the_spread_is_called():
    c = verdicts.compare([0.50, 0.52, 0.54], [0.40, 0.41, 0.42])
    assert c.diff == pytest.approx(0.11)
    assert c.spread == pytest.approx(0.02)  # sample std (ddof=1) of the noisier side
    assert c.outcome == verdicts.HIGHER
    assert verdicts.claim(c) == verdicts.HOLDS
    assert verdicts.claim(c, expected=verdicts.LOWER) == verdicts.DIFFERS


def test_difference_within_the_spread_is_noise():
    c = verdicts.compare([0.50, 0.60, 0.40], [0.45, 0.46, 0.47])
    assert c.outcome == verdicts.NOISE
    assert verdicts.claim(c) == verdicts.NOISE


def test_single_number_against_seeds_uses_the_seeds_spread():
    assert verdicts.compare(0.2, [0.50, 0.52, 0.54]).outcome == verdicts.LOWER
    assert verdicts.compare(0.53, [0.50, 0.52, 0.54]).outcome == verdicts.NOISE


def test_one_seed_is_not_judged():
    c = verdicts.compare([0.9], 0.1)
    assert c.outcome == verdicts.ONE_SEED and math.isnan(c.spread)
    assert verdicts.claim(c) == verdicts.ONE_SEED


def test_bad_input_raises():
    with pytest.raises(ValueError):
        verdicts.compare([], 0.1)
    with pytest.raises(ValueError):
        verdicts.compare([float("nan"), 0.2], 0.1)
    with pytest.raises(ValueError):
        verdicts.claim(verdicts.compare([1.0, 1.1], 0.0), expected="bigger")


def test_nothing_to_compare_is_not_judged():
    nothing = verdicts.compare_if_any([], 0.0)
    assert nothing.outcome == verdicts.NO_DATA and verdicts.claim(nothing, verdicts.LOWER) == verdicts.NO_DATA
    assert verdicts.compare_if_any([-0.9, -0.8], 0.0) == verdicts.compare([-0.9, -0.8], 0.0)
    # either side: no large source models in a run leaves the base ones nothing to be set against
    for a, b in (([0.5, 0.6], []), ([0.5, 0.6], [float("nan")] * 2), (float("nan"), [0.5, 0.6])):
        assert verdicts.compare_if_any(a, b).outcome == verdicts.NO_DATA
    with pytest.raises(ValueError):  # a missing value among numbers is an error, not "nothing"
        verdicts.compare_if_any([0.5, float("nan")], [0.5, 0.6])
