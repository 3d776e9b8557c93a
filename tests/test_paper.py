"""Tests of tutorial_lib.paper's lookups: zoo models find their twin's numbers, any other model gets "no paper
number" (None, NaN for a mean of none, "–" in a cell) instead of a crash (chapters 3 and 4 on a Hub model)."""
from __future__ import annotations

import math

from tutorial_lib import comparison, paper

ZOO = ["mini-bert-base", "mini-roberta-base"]
OTHER = "my-finetuned-bert"  # a local checkpoint or Hub id: no twin in the paper


def test_zoo_models_find_their_twins_numbers():
    assert paper.reference("direct tuning", "mini-bert-base") == 50.56
    assert paper.direct_reference("mini-bert-base", "mini-roberta-base") == 0.11
    assert paper.transfer_reference("discretize", "mini-bert-base", "mini-roberta-base") == 10.88  # our name
    assert paper.transfer_reference("discretization", "mini-bert-base", "mini-roberta-base") == 10.88
    assert paper.transfer_mean("relative", [("mini-bert-base", "mini-roberta-base"),
                                            ("mini-roberta-base", "mini-bert-base")]) == (17.68 + 31.33) / 2


def test_a_model_without_a_twin_has_no_paper_number():
    assert paper.reference("direct tuning", OTHER) is None
    assert paper.direct_reference(OTHER, "mini-bert-base") is None
    assert paper.transfer_reference("relative", OTHER, "mini-bert-base") is None
    pairs = [(s, t) for s in [*ZOO, OTHER] for t in [*ZOO, OTHER] if s != t]
    assert set(paper.transfer_cells("projector", pairs)) == {tuple(ZOO), tuple(reversed(ZOO))}  # twins only
    assert math.isnan(paper.transfer_mean("projector", [(OTHER, "mini-bert-base"), ("mini-bert-base", OTHER)]))
    assert paper.ours_and_paper("12.3 ± 1.0", paper.reference("direct tuning", OTHER)) == "12.3 ± 1.0 / –"
    assert paper.ours_and_paper("12.3", paper.reference("direct tuning", "mini-bert-base")) == "12.3 / 50.6"
    widths = {ZOO[0]: 192, ZOO[1]: 192, OTHER: 768}
    assert math.isnan(comparison.paper_cell("relative", OTHER, [*ZOO, OTHER], widths))
    assert math.isnan(comparison.paper_cell("direct", OTHER, [*ZOO, OTHER], widths))
    assert comparison.paper_cell("relative", ZOO[0], [*ZOO, OTHER], widths) == 31.33  # the twin source only


def test_a_column_without_values_on_a_target_is_left_out_of_the_mean_over_targets():
    values = {("a", "direct"): [0.2, 0.4], ("b", "direct"): [], ("a", "relative"): [0.1, 0.3],
              ("b", "relative"): [0.3, 0.5]}
    assert comparison.over_targets(values, "direct", ["a", "b"]) == [0.2, 0.4]  # b has no same-width source
    assert comparison.over_targets(values, "relative", ["a", "b"]) == [0.2, 0.4]
    assert comparison.over_targets({("b", "direct"): []}, "direct", ["b"]) == []
