"""Tests of the analysis units behind chapters 5 and 6 (multi-source grid, loss-vs-accuracy recorder,
sweeps) and of their figures, on tiny random models built in milliseconds."""
from __future__ import annotations

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from tiny_models import COMMON, FACTS, tiny_lm  # noqa: E402
from tutorial_lib import experiments  # noqa: E402
from tutorial_lib.data import Fact, Relation, scoring_vocabulary  # noqa: E402
from tutorial_lib.experiments import World, check_sweep, transfer_grid, transfer_scores, transfer_sweep  # noqa: E402
from tutorial_lib.results import RunStore  # noqa: E402
from tutorial_lib.loss_accuracy import (AccuracyRecorder, log_steps, loss_accuracy_coefficients,  # noqa: E402
                                        loss_accuracy_correlation, search_trajectory)
from tutorial_lib.transfer import FewAnchorsWarning, transfer  # noqa: E402

torch.set_num_threads(1)

# Objects: ten common words that are one token in both tiny tokenizers; anchors: the other common words,
# never the objects (JSON-serialisable options: they key the cached runs).
OBJECTS = COMMON[-10:]
OPTIONS = {"words": COMMON, "exclude": OBJECTS, "steps": 12, "topk": 8}


@pytest.fixture(scope="module")
def world():
    """Two tiny models (widths 32 and 24) and two relations of 40 made-up facts (FACTS subjects, OBJECTS)."""
    lms = {"a": tiny_lm("bert", 32, seed=0, name="a"), "b": tiny_lm("roberta", 24, seed=1, name="b")}
    vocab = scoring_vocabulary([lm.tokenizer for lm in lms.values()], OBJECTS)
    assert vocab == OBJECTS
    relations = {}
    for k, rid in enumerate(["P1", "P2"]):
        facts = tuple(Fact(rid, FACTS[i % len(FACTS)], vocab[(i + k) % len(vocab)], f"{rid}-{i}") for i in range(40))
        relations[rid] = Relation(rid, rid, "[X] is [Y] .", "N-1", (), None, facts)
    return World(lms, relations, vocab)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One run store for the module: later tests reuse the tuned prompts and searches of earlier ones."""
    return RunStore(tmp_path_factory.mktemp("runs"))


def test_multi_source_with_one_source_equals_single_source(world, store):
    single, v1 = transfer_scores(world, "relative", ["a"], "b", seed=0, m=2, epochs=1, store=store,
                                 progress=False, **OPTIONS)
    doubled, v2 = transfer_scores(world, "relative", ["a", "a"], "b", seed=0, m=2, epochs=1, store=store,
                                  progress=False, **OPTIONS)
    assert torch.equal(v1, v2) and single == doubled  # Eq. 7 averages two equal losses: the same search
    grid = transfer_grid(world, "relative", [["a"], "a"], ["b"], [0], m=2, epochs=1, store=store, progress=False,
                         **OPTIONS)
    assert list(grid.sources) == ["a", "a"] and grid.held_out.all() and (grid.n_sources == 1).all()
    assert grid.test.tolist() == [single["mean"]] * 2
    # the dispatcher: a list of one source is the single-source call
    p = torch.randn(2, 3, 32, generator=torch.Generator().manual_seed(3))
    kw = dict(words=COMMON, exclude=OBJECTS, steps=10, topk=8)
    assert torch.equal(transfer("relative", [world.models["a"]], [p], world.models["b"], **kw).prompts,
                       transfer("relative", world.models["a"], p, world.models["b"], **kw).prompts)


def test_grid_marks_held_out_targets_and_rejects_unknown_models(world, store):
    grid = transfer_grid(world, "relative", [["a"], ["a", "b"]], ["a", "b"], [0], m=2, epochs=1, store=store,
                         progress=False, **OPTIONS)
    assert len(grid) == 4
    assert grid.held_out.tolist() == [False, True, False, False]  # only a -> b has a target outside its sources
    assert set(grid.columns) >= {"sources", "target", "seed", "test", "P1", "P2"}
    with pytest.raises(ValueError, match="'c'.*loaded"):
        transfer_grid(world, "relative", [["a", "c"]], ["b"], [0], store=store)
    with pytest.raises(ValueError, match="at least one model"):
        transfer_grid(world, "relative", [[]], ["b"], [0], store=store)


def test_log_steps_are_dense_early_and_keep_both_ends():
    steps = log_steps(500, 25)
    assert steps[0] == 0 and steps[-1] == 500 and steps == sorted(set(steps))
    assert {1, 2, 3} <= set(steps) and 15 <= len(steps) <= 25
    assert sum(s <= 100 for s in steps) > sum(s > 100 for s in steps)  # most points before step 100
    assert log_steps(3, 10) == [0, 1, 2, 3]
    for bad in ({"last": 500, "points": 1}, {"last": 0, "points": 5}):
        with pytest.raises(ValueError, match="points|last"):
            log_steps(**bad)


def test_recorder_yields_one_point_per_recorded_step(world):
    recorder = AccuracyRecorder(world.models["b"], world.relations, world.vocab, steps=[0, 1, 5, 12])
    prompts = torch.randn(2, 2, 24)
    for step in range(13):
        recorder(step, prompts)
    assert [p["step"] for p in recorder.points] == [0, 1, 5, 12]
    assert all(set(p) == {"step", "dev", "test"} and set(p["test"]) == {"P1", "P2", "mean"} for p in recorder.points)
    with pytest.raises(ValueError, match="steps"):
        AccuracyRecorder(world.models["b"], world.relations, world.vocab, steps=[-1, 5])
    with pytest.raises(ValueError, match="split"):
        AccuracyRecorder(world.models["b"], world.relations, world.vocab, steps=[0], splits=("validation",))


def test_search_trajectory_points_match_the_search(world, store):
    table = search_trajectory(world, ["a"], "b", seed=0, points=4, m=2, epochs=1, store=store, progress=False,
                              **OPTIONS)
    assert sorted(table.step.unique()) == log_steps(12, 4) == [0, 1, 3, 12]
    assert len(table) == 4 * 3 and set(table.relation) == {"P1", "P2", "mean"}
    mean = table[table.relation == "mean"].set_index("step")
    per_rel = table[table.relation != "mean"].groupby("step").loss.mean()
    assert mean.loss.to_numpy() == pytest.approx(per_rel.to_numpy(), abs=1e-6)  # loss = mean over relations
    assert mean.loss.iloc[-1] < mean.loss.iloc[0]  # the search lowers the matching loss
    assert 0 <= table.attrs["chosen_step"] <= 12
    again = search_trajectory(world, ["a"], "b", seed=0, points=4, m=2, epochs=1, store=store, progress=False,
                              **OPTIONS)
    assert again.equals(table)  # the cached record gives the same table
    with pytest.raises(ValueError, match="at least 3"):
        loss_accuracy_correlation(table[table.step == 0])


@pytest.mark.parametrize("parameter, values, match", [
    ("n_anchors", [500, 0], r"bad n_anchors value\(s\) \[0\].*positive integers or None"),
    ("n_anchors", [1000, "all"], r"\['all'\]"),
    ("m", [1, 2.5], r"\[2.5\].*positive integers"),
    ("m", [], "empty m sweep"),
    ("m", [1, 3, 3], "3 given more than once"),
    ("normalize", [True, 1], r"\[1\].*True or False"),
    ("lr", [0.1], r"cannot sweep 'lr'.*n_anchors"),
    ("m", 5, "must be a list"),
])
def test_sweeps_reject_bad_values(parameter, values, match):
    with pytest.raises(ValueError, match=match):
        check_sweep(parameter, values)


def test_sweep_rejects_before_computing(world, tmp_path):
    store = RunStore(tmp_path)
    with pytest.raises(ValueError, match="bad m value"):
        transfer_sweep(world, "m", [0, 5], ["a"], "b", [0], store=store)
    with pytest.raises(ValueError, match="not loaded"):
        transfer_sweep(world, "m", [1], ["a"], "zzz", [0], store=store)
    with pytest.raises(ValueError, match="swept"):
        transfer_sweep(world, "n_anchors", [3], ["a"], "b", [0], store=store, n_anchors=5)
    assert not any(store.root.rglob("record.json"))  # nothing was run


def test_anchor_sweep_caps_requests_at_the_shared_words(world, store):
    shared = experiments.count_anchors(world, ["a"], "b", **OPTIONS)
    assert 3 < shared < 1000
    with pytest.warns(FewAnchorsWarning, match="1000"):  # asking for more anchors than exist says so
        table = transfer_sweep(world, "n_anchors", [3, 1000, None], ["a"], "b", [0], m=2, epochs=1, store=store,
                               progress=False, **OPTIONS)
    assert table.anchors_used.tolist() == [3, shared, shared]
    assert table.test.iloc[1] == table.test.iloc[2]  # "more than all" is all
    lengths = transfer_sweep(world, "m", [1, 2], ["a"], "b", [0], epochs=1, store=store, progress=False, **OPTIONS)
    assert lengths.m.tolist() == [1, 2] and lengths.source_test.between(0, 1).all()


def test_figures_have_labelled_axes(world, store):
    from tutorial_lib import plots as pa
    grid = transfer_grid(world, "relative", [["a"], ["a", "b"]], ["b"], [0, 1], m=2, epochs=1, store=store,
                         progress=False, **OPTIONS)
    traj = search_trajectory(world, ["a"], "b", seed=0, points=4, m=2, epochs=1, store=store, progress=False,
                             **OPTIONS)
    sweep = transfer_sweep(world, "m", [1, 2], ["a"], "b", [0, 1], epochs=1, store=store, progress=False, **OPTIONS)
    for fig in (pa.plot_multi_source(grid), pa.plot_loss_vs_accuracy(traj),
                pa.plot_sweep(sweep, "m", paper_best=5)):
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>" or not ax.has_data():
                continue
            siblings = ax.get_shared_x_axes().get_siblings(ax)  # a twin axis shares its x label
            assert ax.get_ylabel() and any(a.get_xlabel() for a in siblings)
    summary = pa.summarize(grid, ["sources", "target"])
    assert {"mean", "std", "n"} <= set(summary.columns) and (summary.n == 2).all()


def test_correlation_per_relation_averages_each_relations_own_coefficient():
    import pandas as pd
    rows = [{"step": s, "relation": r, "loss": 1 - s / 10, "test": acc}
            for s in range(5) for r, acc in (("P1", s / 10), ("P2", 0.3), ("P3", (s % 2) / 10))]
    rows += [{"step": s, "relation": "mean", "loss": 1 - s / 10, "test": s} for s in range(5)]
    table = pd.DataFrame(rows)
    assert loss_accuracy_correlation(table) == pytest.approx(-1)
    # P1: -1; P2 has a constant accuracy (no ranking, left out); P3: 0 -> mean -0.5
    assert loss_accuracy_correlation(table, per_relation=True) == pytest.approx(-0.5)
    assert loss_accuracy_coefficients(table) == pytest.approx({"P1": -1.0, "P3": 0.0})
