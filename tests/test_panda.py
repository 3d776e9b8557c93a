"""Tests of tutorial_lib.panda (PANDA: prompt transfer across tasks) on a tiny random masked LM.

Each test runs in seconds: tasks are invented relations over the tiny tokenizer's words, tuning runs 2-3
epochs on a handful of facts, and every run store lives in a temporary folder.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tiny_models import COMMON, FACTS, tiny_lm
from tutorial_lib import panda
from tutorial_lib.data import Fact, Relation
from tutorial_lib.prompts import PromptSet, TuneConfig, init_prompts, tune_prompts
from tutorial_lib.results import RunStore

torch.set_num_threads(1)

VOCAB = list(FACTS)
CONFIG = panda.PandaConfig(n_train=8, epochs=2, batch_size=4, seed=0, min_steps=0)


def run(lm, job: panda.TargetJob, store: RunStore) -> panda.TargetRun:
    return panda.tune_targets(lm, [job], VOCAB, store)[0]


def relation(rel_id: str, objects: list[str], n: int = 40) -> Relation:
    facts = tuple(Fact(rel_id, f"{COMMON[i % len(COMMON)]} {COMMON[(3 * i + 1) % len(COMMON)]}",
                       objects[i % len(objects)], f"{rel_id}-{i}") for i in range(n))
    return Relation(rel_id, rel_id, "[X] is [Y] .", "N-1", (), None, facts)


@pytest.fixture(scope="module")
def lm():
    return tiny_lm("bert", width=32, seed=0)


@pytest.fixture(scope="module")
def tasks():
    return {"A": relation("A", ["Paris", "Berlin", "Rome"]),
            "B": relation("B", ["Paris", "Vienna", "Rome"]),
            "C": relation("C", ["Dante", "Einstein", "Mozart"])}


@pytest.fixture(scope="module")
def sources(lm, tasks):
    vectors = torch.randn(3, CONFIG.m, lm.width, generator=torch.Generator().manual_seed(5))
    return PromptSet(lm.name, list(tasks), vectors)


def test_low_resource_is_deterministic_nested_and_keeps_eval(tasks):
    rel = tasks["A"]
    small, large = panda.low_resource(rel, 4, 0, VOCAB), panda.low_resource(rel, 8, 0, VOCAB)
    assert len(small.split("train")) == 4 and len(large.split("train")) == 8
    assert {f.uuid for f in small.split("train")} <= {f.uuid for f in large.split("train")}
    assert small.split("test") == rel.split("test") and small.split("dev") == rel.split("dev")
    assert panda.low_resource(rel, 4, 0, VOCAB).facts == small.facts
    assert panda.low_resource(rel, 4, 1, VOCAB).split("train") != small.split("train")
    assert len(panda.low_resource(rel, 10_000, 0, VOCAB).split("train")) == len(rel.split("train"))
    with pytest.raises(ValueError, match="n_train"):
        panda.low_resource(rel, 0, 0, VOCAB)


@pytest.mark.parametrize("metric", panda.METRICS)
def test_metric_is_the_cosine_of_the_task_embeddings(lm, tasks, sources, metric):
    anchors = lm.model.get_input_embeddings().weight.detach()[5:45]
    scores = panda.transferability(lm, sources, tasks, VOCAB, metric, n_probe=8, anchors=anchors)
    values = torch.tensor(scores.values)
    assert list(scores.index) == list(tasks) == list(scores.columns)
    embeddings = panda.task_embeddings(lm, sources, tasks, VOCAB, metric, n_probe=8, anchors=anchors).double()
    for s, t in [(0, 1), (0, 2), (2, 1)]:  # the metric is the cosine of the two tasks' embeddings
        cosine = torch.nn.functional.cosine_similarity(embeddings[s], embeddings[t], dim=0).item()
        assert values[s, t].item() == pytest.approx(cosine, abs=1e-6) == pytest.approx(values[t, s].item(), abs=1e-6)
    assert torch.allclose(values.diagonal(), torch.ones(3), atol=1e-6)


def test_answer_overlap_ranks_shared_answers_higher(lm, tasks, sources):
    scores = panda.transferability(lm, sources, tasks, VOCAB, "answer_overlap")
    assert scores.loc["A", "B"] > 0.5 > scores.loc["A", "C"] == 0.0


def test_activation_metric_depends_on_the_prompt(lm, tasks, sources):
    same = PromptSet(lm.name, list(tasks), sources.vectors[[0, 0, 2]])
    facts = panda.probe_facts(tasks["A"], VOCAB, 8)
    a = panda.ffn_activations(lm, same["A"], facts)
    assert a.shape == (2, 1, 2 * lm.width)
    assert ((a[1] >= 0) & (a[1] <= 1)).all()
    b = panda.ffn_activations(lm, sources["C"], facts)
    assert not torch.allclose(a, b)


def test_distillation_term_is_zero_when_student_and_teacher_agree():
    logits = torch.randn(6, 50, generator=torch.Generator().manual_seed(0))
    other = torch.randn(6, 50, generator=torch.Generator().manual_seed(1))
    for kind in panda.DISTILL_KINDS:
        assert panda.distillation_loss(logits, logits.clone(), kind).item() == 0.0
        assert panda.distillation_loss(logits, [logits.clone()], kind, weights=[0.7]).item() == 0.0
        assert panda.distillation_loss(other, logits, kind).item() > 1e-3
    # two identical teachers mixed = one teacher; KL matches its textbook form
    assert torch.allclose(panda.distillation_loss(other, [logits, logits], "kl", weights=[1, 3]),
                          panda.distillation_loss(other, logits, "kl"), atol=1e-6)
    t = 2.0
    p_teacher = F.softmax(logits / t, -1)
    manual = t ** 2 * (p_teacher * (p_teacher.log() - F.log_softmax(other / t, -1))).sum(-1).mean()
    assert torch.allclose(panda.distillation_loss(other, logits, "kl", t), manual, atol=1e-5)
    with pytest.raises(ValueError, match="distillation kind"):
        panda.distillation_loss(logits, logits, "l1")
    with pytest.raises(ValueError, match="do not match"):
        panda.distillation_loss(logits, logits[:, :10])


@pytest.mark.parametrize("kind", panda.DISTILL_KINDS)
def test_panda_loss_is_what_a_panda_run_descends(bert_base, lama_dir, kind):
    """The fast path (tune_prompts' cross-entropy + distillation_term) takes its first step on panda_loss.
    On a zoo model: a tiny random one has near-flat outputs and a distillation term near zero."""
    from tutorial_lib import data
    from tutorial_lib.probing import vocab_ids
    from tutorial_lib.prompts import prompt_logits, scored_facts
    vocab = data.scoring_vocabulary([bert_base.tokenizer])
    task = panda.low_resource(data.load_relations(["P103"], max_facts=200)["P103"], 8, 0, vocab)
    facts = scored_facts(task.split("train"), vocab)
    gen = torch.Generator().manual_seed(0)
    std = bert_base.model.get_input_embeddings().weight.std().item()
    teacher, start = (torch.randn(2, 5, bert_base.width, generator=gen) * std).unbind()
    term = panda.distillation_term(bert_base, [teacher], facts, 20.0, kind)
    _, history = tune_prompts(bert_base, {"P103": task}, vocab, TuneConfig(m=5, epochs=1, batch_size=8),
                              progress=False, init_vectors=start[None], extra_loss=term, seeds=[0])  # one batch
    with torch.no_grad():
        logits = prompt_logits(bert_base, start[None], facts, torch.zeros(len(facts), dtype=torch.long))
    gold = vocab_ids(bert_base.tokenizer, [f.object for f in facts])
    frozen = panda.teacher_logits(bert_base, teacher, facts)
    expected = panda.panda_loss(logits, gold, frozen, 20.0, kind)
    assert history[0]["step_losses"][0] == pytest.approx(expected.item(), rel=1e-5)
    without = panda.panda_loss(logits, gold, frozen, 0.0, kind).item()
    assert expected.item() - without > 0.01 * expected.item()  # w * D counts, far beyond the tolerance


def test_mse_distillation_is_the_authors_form_divided_by_the_batch_size():
    """The authors' trainer: mse_loss(student, teacher) / batch size, the mean over N x V entries divided by N."""
    student, teacher = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), torch.zeros(2, 3)
    assert panda.distillation_loss(student, teacher, "mse").item() == pytest.approx((1 + 4 + 9) / (2 * 3) / 2)
    logits = torch.randn(4, 50, generator=torch.Generator().manual_seed(0))
    other = torch.randn(4, 50, generator=torch.Generator().manual_seed(1))
    for k in (2, 16):  # the same facts k times over: the authors' term shrinks by k, the KL mean does not
        many, many_other = logits.repeat(k, 1), other.repeat(k, 1)
        assert torch.allclose(panda.distillation_loss(many_other, many, "mse"),
                              panda.distillation_loss(other, logits, "mse") / k, rtol=1e-5)
        assert torch.allclose(panda.distillation_loss(many_other, many, "kl"),
                              panda.distillation_loss(other, logits, "kl"), rtol=1e-5)
    gold = torch.tensor([3, 7, 0, 1])
    w = panda.distill_weight(0.6, "mse")  # 0.1 * beta, beta = the transferability
    by_hand = F.cross_entropy(other, gold) + 0.06 * ((other - logits) ** 2).sum() / (4 * 50) / 4
    assert torch.allclose(panda.panda_loss(other, gold, logits, w), by_hand, rtol=1e-5)


def test_distill_weight_follows_the_authors_scale():
    assert panda.distill_weight(0.8, "mse") == pytest.approx(0.08)
    assert panda.distill_weight(0.8, "kl") == pytest.approx(0.8)
    assert panda.distill_weight(-0.3, "mse") == 0.0
    assert panda.distill_weight(0.5, "mse", alpha=2.0) == 1.0


def test_tune_prompts_defaults_are_unchanged_by_the_new_arguments(lm, tasks):
    config = TuneConfig(m=3, epochs=2, batch_size=8, seed=1)
    plain, _ = tune_prompts(lm, {"A": tasks["A"]}, VOCAB, config, progress=False)
    start = init_prompts(lm, [tasks["A"]], config)
    same, _ = tune_prompts(lm, {"A": tasks["A"]}, VOCAB, config, progress=False, init_vectors=start,
                           extra_loss=lambda logits, facts, index, vectors: 0.0 * logits.sum())
    assert torch.equal(plain.vectors, same.vectors)
    with pytest.raises(ValueError, match="init_vectors"):
        tune_prompts(lm, {"A": tasks["A"]}, VOCAB, config, progress=False, init_vectors=start[:, :2])


def test_panda_with_weight_zero_equals_plain_tuning(lm, tasks, sources, tmp_path):
    target = tasks["B"]
    base = run(lm, panda.scratch_job(target, CONFIG), RunStore(tmp_path / "a"))
    student = run(lm, panda.panda_job(sources["A"], target, 0.0, CONFIG), RunStore(tmp_path / "b"))
    assert student.weight == 0.0
    assert torch.equal(base.vectors, student.vectors) and base.test == student.test
    for kind in panda.DISTILL_KINDS:  # the zero weight comes from alpha = 0 as well
        cfg = panda.PandaConfig(**{**CONFIG.__dict__, "distill": kind, "alpha": 0.0})
        other = run(lm, panda.panda_job(sources["A"], target, 0.9, cfg), RunStore(tmp_path / kind))
        assert torch.equal(base.vectors, other.vectors)


def test_distillation_term_pulls_the_student_towards_the_teacher(bert_base, lama_dir):
    """On a real zoo model (a tiny random one has near-flat outputs): descending the distillation term alone
    moves a student prompt's outputs towards a teacher's."""
    from tutorial_lib import data
    from tutorial_lib.prompts import prompt_logits
    for p in bert_base.model.parameters():
        p.requires_grad_(False)
    facts = data.load_relations(["P103"], max_facts=200)["P103"].split("train")[:16]
    gen = torch.Generator().manual_seed(0)
    std = bert_base.model.get_input_embeddings().weight.std().item()
    teacher = torch.randn(5, bert_base.width, generator=gen) * std
    student = (torch.randn(5, bert_base.width, generator=gen) * std).requires_grad_(True)
    reference = panda.teacher_logits(bert_base, teacher, facts)
    index = torch.zeros(len(facts), dtype=torch.long)
    optimizer = torch.optim.Adam([student], lr=1e-2)
    losses = []
    for _ in range(15):
        loss = panda.distillation_loss(prompt_logits(bert_base, student[None], facts, index), reference, "kl")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_pot_starts_from_the_source_and_scratch_from_random(lm, tasks, sources, tmp_path):
    store = RunStore(tmp_path)
    cfg = panda.PandaConfig(n_train=8, epochs=1, lr=1e-9, batch_size=8, seed=0, min_steps=0)
    pot = run(lm, panda.pot_job(sources["A"], tasks["B"], cfg), store)
    assert torch.allclose(pot.vectors, sources["A"], atol=1e-5)
    base = run(lm, panda.scratch_job(tasks["B"], cfg), store)
    start = init_prompts(lm, [tasks["B"]], cfg.tune_config())[0]
    assert torch.allclose(base.vectors, start, atol=1e-5)


def test_fusion_of_one_source_equals_single_source_transfer(lm, tasks, sources, tmp_path):
    target, source, score = tasks["B"], sources["A"], 0.7
    pot = run(lm, panda.pot_job(source, target, CONFIG), RunStore(tmp_path / "single"))
    student = run(lm, panda.panda_job(pot.vectors, target, score, CONFIG), RunStore(tmp_path / "single"))
    early = RunStore(tmp_path / "early")
    early_pot = run(lm, panda.pot_job(panda.fuse_prompts(source[None], [score]), target, CONFIG), early)
    early_student = run(lm, panda.panda_job(early_pot.vectors, target, panda.fused_score([score]), CONFIG), early)
    assert torch.equal(early_pot.vectors, pot.vectors)
    assert torch.equal(early_student.vectors, student.vectors) and early_student.weight == student.weight
    late = run(lm, panda.late_fusion_job([pot.vectors], [score], target, CONFIG), RunStore(tmp_path / "late"))
    assert torch.equal(late.vectors, student.vectors)
    assert torch.equal(panda.fuse_prompts(source[None], [score]), source)


def test_runs_tuned_together_equal_runs_tuned_alone(lm, tasks, sources, tmp_path):
    teacher = sources["C"]
    cfg, semi = CONFIG, panda.PandaConfig(**{**CONFIG.__dict__, "seed": 1, "distill_on": "unlabelled"})
    jobs = [panda.scratch_job(tasks["B"], cfg), panda.pot_job(sources["A"], tasks["B"], semi),
            panda.panda_job(teacher, tasks["A"], 0.8, semi),
            panda.late_fusion_job([teacher, sources["B"]], [0.5, 0.2], tasks["C"], cfg)]
    together = panda.tune_targets(lm, jobs, VOCAB, RunStore(tmp_path / "together"))
    for i, (job, run) in enumerate(zip(jobs, together)):
        alone = panda.tune_targets(lm, [job], VOCAB, RunStore(tmp_path / f"alone{i}"))[0]
        assert torch.allclose(run.vectors, alone.vectors, atol=1e-4), job.method
        assert (run.method, run.target, run.seed, run.weight) == (alone.method, alone.target, alone.seed, alone.weight)


def test_fusion_weights_follow_transferability(sources):
    assert panda.fusion_weights([0.9]) == [1.0]
    assert panda.fusion_weights([0.6, 0.2, -0.5]) == pytest.approx([0.75, 0.25, 0.0])
    assert panda.fusion_weights([-1, -2]) == [0.5, 0.5]
    fused = panda.fuse_prompts(sources.vectors[:2], [3.0, 1.0])
    assert torch.allclose(fused, 0.75 * sources.vectors[0] + 0.25 * sources.vectors[1])


def test_runs_are_stored_and_reloaded(lm, tasks, sources, tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    first = run(lm, panda.pot_job(sources["A"], tasks["B"], CONFIG), store)
    monkeypatch.setattr(panda.runs, "tune_prompts", lambda *a, **k: pytest.fail("a stored run was recomputed"))
    again = run(lm, panda.pot_job(sources["A"], tasks["B"], CONFIG), store)
    assert torch.equal(first.vectors, again.vectors) and first.test == again.test
    with pytest.raises(pytest.fail.Exception):  # another source is another run
        run(lm, panda.pot_job(sources["C"], tasks["B"], CONFIG), store)


def test_rank_correlation_over_off_diagonal_pairs():
    import pandas as pd
    ids = ["A", "B", "C"]
    gains = pd.DataFrame([[0, 3, 1], [2, 0, 0], [5, 4, 0]], index=ids, columns=ids, dtype=float)
    rho, _, n = panda.rank_correlation(gains * 2 + 100 * torch.eye(3).numpy(), gains)
    assert n == 6 and rho == pytest.approx(1.0)
    assert panda.rank_correlation(-gains, gains)[0] == pytest.approx(-1.0)


def test_gain_tables_from_a_tiny_grid(lm, tasks, sources, tmp_path):
    cfg = panda.PandaConfig(n_train=4, epochs=1, batch_size=4, min_steps=0)
    two = {k: tasks[k] for k in ("A", "B")}
    rows = panda.transfer_gains(lm, sources, two, VOCAB, [4], [0], cfg, RunStore(tmp_path), progress=False)
    assert len(rows) == 2 and set(rows["source"]) == {"A", "B"}
    assert (rows["gain"] == rows["pot"] - rows["scratch"]).all()
    matrix = panda.gain_matrix(rows)
    assert matrix.loc["A", "B"] == rows.query("source == 'A'")["gain"].item()


def test_bad_inputs_give_clear_errors(lm, tasks, sources):
    with pytest.raises(KeyError, match="P9999"):
        panda.source_vectors(lm, sources, ["A", "P9999"])
    with pytest.raises(panda.PromptMismatch, match="tuned on 'other-model'"):
        panda.source_vectors(lm, PromptSet("other-model", sources.relations, sources.vectors), "A")
    wide = PromptSet(lm.name, sources.relations, torch.zeros(3, CONFIG.m, lm.width + 8))
    with pytest.raises(panda.PromptMismatch, match="width"):
        panda.source_vectors(lm, wide, "A")
    with pytest.raises(panda.PromptMismatch, match="does not fit"):
        panda.tune_targets(lm, [panda.pot_job(torch.zeros(CONFIG.m, lm.width + 8), tasks["B"], CONFIG)], VOCAB)
    with pytest.raises(panda.PromptMismatch, match="m=5"):
        panda.tune_targets(lm, [panda.pot_job(torch.zeros(3, lm.width), tasks["B"], CONFIG)], VOCAB)
    with pytest.raises(ValueError, match="unknown transferability metric"):
        panda.transferability(lm, sources, tasks, VOCAB, "euclid")
    with pytest.raises(ValueError, match="needs anchors"):
        panda.transferability(lm, sources, tasks, VOCAB, "relative")
    with pytest.raises(ValueError, match="distillation kind"):
        panda.PandaConfig(distill="l2")
    with pytest.raises(ValueError, match="n_train"):
        panda.PandaConfig(n_train=0)
    with pytest.raises(ValueError, match="min_steps"):
        panda.PandaConfig(min_steps=-1)
    with pytest.raises(ValueError, match="distill_on"):
        panda.PandaConfig(distill_on="test")
    with pytest.raises(KeyError, match="unknown target"):
        panda.compare_methods(lm, sources, tasks, "Z", None, VOCAB, [4], [0])
    with pytest.raises(ValueError, match="distillation kind"):
        panda.compare_methods(lm, sources, tasks, "A", None, VOCAB, [4], [0], also_distill=("l1",))


def test_load_tasks_rejects_relations_outside_the_zoo_world(lama_dir):
    with pytest.raises(KeyError, match="P176"):
        panda.load_tasks("mini-bert-base", ["P19", "P176"])
    with pytest.raises(KeyError, match="P0"):
        panda.load_tasks("not-a-zoo-model", ["P0"])


def test_zoo_tasks_are_the_facts_the_model_saw(lama_dir):
    from tutorial_lib import data
    from tutorial_lib.world import WorldConfig
    tasks = panda.load_tasks("mini-bert-base", ["P19", "P106"])
    world = data.load_relations(list(WorldConfig().relations), max_facts=WorldConfig().max_facts)
    assert list(tasks) == ["P19", "P106"] and tasks["P19"].facts == world["P19"].facts


def test_activation_metric_on_the_zoo_model(bert_base, lama_dir):
    from tutorial_lib import data
    tasks = panda.load_tasks(bert_base.name, ["P19", "P20", "P106"])
    vocab = data.scoring_vocabulary([bert_base.tokenizer])
    prompts = PromptSet(bert_base.name, list(tasks), init_prompts(bert_base, list(tasks.values()), TuneConfig()))
    stats = panda.ffn_activations(bert_base, prompts["P19"], panda.probe_facts(tasks["P19"], vocab, 8))
    assert stats.shape == (2, 4, 4 * bert_base.width)
    scores = panda.transferability(bert_base, prompts, tasks, vocab, "activation", n_probe=8)
    assert torch.allclose(torch.tensor(scores.values).diagonal(), torch.ones(3), atol=1e-6)


def test_compare_methods_runs_every_method(lm, tasks, sources, tmp_path):
    import pandas as pd
    cfg = panda.PandaConfig(n_train=4, epochs=1, batch_size=4, min_steps=0)
    scores = pd.DataFrame([[1, .9, .1], [.9, 1, .2], [.1, .2, 1]], index=list(tasks), columns=list(tasks))
    rows = panda.compare_methods(lm, sources, tasks, "B", scores, VOCAB, [4], [0, 1], cfg, k_fusion=2,
                                 also_distill=("kl",), also_unlabelled=True, store=RunStore(tmp_path),
                                 progress=False)
    assert len(rows) == 2 * 8
    assert set(rows["method"]) == {"scratch", "PoT", "PANDA", "PANDA (kl)", "PANDA + unlabelled", "early fusion PoT",
                                   "early fusion PANDA", "late fusion PANDA"}
    assert set(rows.query("method == 'PoT'")["source"]) == {"A"}  # the best-ranked source of B
    assert set(rows.query("method == 'late fusion PANDA'")["source"]) == {"A+C"}


def test_gradient_pulls_vanish_for_distillation_when_student_is_teacher(lm, tasks, sources):
    facts = panda.low_resource(tasks["B"], 8, 0, VOCAB).split("train")
    same = panda.gradient_pulls(lm, sources["A"], sources["A"], facts, 0.8)
    assert list(same)[0] == "cross-entropy" and same["cross-entropy"] > 0
    assert all(v < 1e-6 * same["cross-entropy"] for k, v in same.items() if k != "cross-entropy")
    other = panda.gradient_pulls(lm, sources["C"], sources["A"], facts, 0.8)
    assert all(v > 0 for v in other.values())


def test_min_steps_raises_the_epochs_of_small_training_sets():
    cfg = panda.PandaConfig(n_train=8, epochs=10, batch_size=16, min_steps=100)
    assert cfg.tune_config().epochs == 100  # 8 facts: one step per epoch
    assert cfg.tune_config().eval_every == 10  # dev checked `epochs` times, as without the raise
    assert cfg.tune_config(64).epochs == 25  # 4 steps per epoch
    assert cfg.tune_config(2000).epochs == 10  # enough steps already: the configured epochs
    assert panda.PandaConfig(n_train=8, epochs=10, min_steps=0).tune_config().epochs == 10


def test_distillation_on_unlabelled_inputs_adds_hidden_facts_only(lm, tasks, sources):
    labelled = panda.low_resource(tasks["B"], 4, 0, VOCAB).split("train")
    hidden = [f for f in tasks["B"].split("train") if f not in labelled]
    teacher, index = sources["A"], torch.zeros(len(labelled), dtype=torch.long)
    plain = panda.distillation_term(lm, [teacher], labelled, 1.0, "kl")
    semi = panda.distillation_term(lm, [teacher], labelled, 1.0, "kl", unlabelled=list(labelled) + hidden)
    at_teacher = panda.teacher_logits(lm, teacher, labelled)
    assert semi(at_teacher, labelled, index, teacher[None]).abs() < 1e-5  # zero wherever student == teacher
    student = sources["C"][None].clone().requires_grad_(True)
    logits = panda.teacher_logits(lm, sources["C"], labelled)  # the batch's logits, detached from `student`
    assert not plain(logits, labelled, index, student).requires_grad  # labelled only: the batch's logits
    (grad,) = torch.autograd.grad(semi(logits, labelled, index, student), student)
    assert grad.abs().sum() > 0  # the hidden inputs are read with the prompt being tuned


def test_panda_on_unlabelled_inputs_is_a_separate_run(lm, tasks, sources, tmp_path):
    store = RunStore(tmp_path)
    labelled = run(lm, panda.panda_job(sources["A"], tasks["B"], 0.9, CONFIG), store)
    semi_config = panda.PandaConfig(**{**CONFIG.__dict__, "distill_on": "unlabelled"})
    semi = run(lm, panda.panda_job(sources["A"], tasks["B"], 0.9, semi_config), store)
    assert not torch.equal(labelled.vectors, semi.vectors)
