"""comparison: chapter 4's per-target method table and the paper's chain."""
import pandas as pd
import pytest

from tutorial_lib import comparison

MODELS = ["mini-bert-base", "mini-roberta-base", "mini-bert-large", "mini-roberta-large"]
WIDTHS = {"mini-bert-base": 4, "mini-roberta-base": 4, "mini-bert-large": 8, "mini-roberta-large": 8}


def test_paper_chain_over_six_targets_has_manual_above_relative_from_base():
    six = comparison.paper_chain_means()
    assert six["manual template"] == pytest.approx(25.0, abs=0.05)
    assert six["relative (base sources)"] == pytest.approx(24.3, abs=0.05)
    assert comparison.ordering(six["manual template"], six["relative (base sources)"]) == "does not hold"
    assert comparison.ordering(1.0, 2.0) == "holds"


def test_source_sets_and_paper_cells():
    sets = comparison.source_sets(MODELS, WIDTHS)
    assert sets["direct"]["mini-bert-base"] == ["mini-roberta-base"]
    assert sets["relative (base sources)"]["mini-bert-base"] == ["mini-roberta-base"]
    assert sets["relative (base sources)"]["mini-bert-large"] == ["mini-bert-base", "mini-roberta-base"]
    assert len(sets["projector"]["mini-bert-large"]) == 3
    # paper Table 3, relative into BERT-large from BERT-base and RoBERTa-base: (31.40 + 27.52) / 2
    assert comparison.paper_cell("relative (base sources)", "mini-bert-large", MODELS, WIDTHS) == \
        pytest.approx(29.46)
    assert comparison.paper_cell("direct", "mini-bert-base", MODELS, WIDTHS) == pytest.approx(0.12)


def test_chain_links_judge_each_link_against_the_seed_spread():
    grid = pd.DataFrame([{"source": s, "target": t, "seed": seed, "test": 0.1 * (seed + 1) if s != t else 0.9}
                         for s in MODELS for t in MODELS for seed in (0, 1)])
    grids = {k: grid for k in ("direct", "discretize", "projector", "relative")}
    refs = {"random prompt": {t: [0.0, 0.0] for t in MODELS}, "manual template": {t: [0.5, 0.6] for t in MODELS},
            "direct tuning": {t: [0.9, 0.9] for t in MODELS}}
    values = comparison.method_values(grids, refs, MODELS, WIDTHS)
    assert values["mini-bert-base", "projector"] == pytest.approx([0.1, 0.2])
    links = comparison.chain_links(values, comparison.paper_chain_means(), MODELS)
    verdict = links["ours: the link"]
    assert verdict["discretization < projector"] == "within noise"  # the same numbers
    assert verdict["projector < manual template"] == "holds"  # 0.15 vs 0.55, spread 0.07
    assert verdict["manual template < relative (base sources)"] == "differs"
    assert links.loc["manual template < relative (base sources)", "paper: the link"] == "does not hold"


def test_plain_outcome_words():
    from tutorial_lib import verdicts
    pairs = (([0.6, 0.62], [0.5, 0.51]), ([0.4, 0.41], [0.5, 0.52]), ([0.5, 0.6], [0.52, 0.58]), (0.5, 0.4))
    words = [comparison.plain_outcome(verdicts.compare(a, b), "better than", "worse than") for a, b in pairs]
    assert words[:2] == ["better than", "worse than"]
    assert "within the seed spread" in words[2] and "one seed" in words[3]
    nothing = comparison.plain_outcome(verdicts.compare_if_any([0.5, 0.6], []), "better than", "worse than")
    assert "nothing to compare" in nothing


def test_cell_outcomes_judge_each_cross_model_cell_against_its_seed_spread():
    pairs = [("a", "b"), ("b", "a"), ("a", "c")]

    def grid(values):  # (source, target) -> per-seed test; the diagonal is ignored
        return pd.DataFrame([{"source": s, "target": t, "seed": seed, "test": v}
                             for (s, t), per_seed in values.items() for seed, v in enumerate(per_seed)])

    ours = grid({("a", "b"): [0.6, 0.62], ("b", "a"): [0.4, 0.41], ("a", "c"): [0.5, 0.6], ("a", "a"): [0.9, 0.9]})
    other = grid({("a", "b"): [0.5, 0.51], ("b", "a"): [0.5, 0.52], ("a", "c"): [0.52, 0.58], ("a", "a"): [0.0, 0.0]})
    outcomes = comparison.cell_outcomes(ours, other)
    assert list(outcomes.index) == sorted(pairs)
    assert outcomes[("a", "b")] == "higher" and outcomes[("b", "a")] == "lower"
    assert outcomes[("a", "c")] == "within noise"
