"""tutorial_lib.parameters: the chapters' papermill parameters checked once, before any work (issue #18)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
import torch
import yaml

from tutorial_lib import parameters
from tutorial_lib.parameters import ParameterError, check

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("0*.ipynb"))


def defaults(path: Path) -> dict:
    cell = next(c for c in nbformat.read(path, 4).cells if "parameters" in c.metadata.get("tags", []))
    return {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(cell.source).body}


@pytest.mark.parametrize("profile", sorted(p.name for p in (ROOT / "params").glob("*.yaml")))
def test_every_chapter_default_and_profile_passes_unchanged(profile, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # params/paper.yaml names Hub models, for a reader online
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    values = yaml.safe_load((ROOT / "params" / profile).read_text())
    for path in CHAPTERS:
        namespace = {**defaults(path), **{k: v for k, v in values.items() if k in defaults(path)}}
        expected = dict(namespace)
        check(namespace)
        assert namespace == expected, path.name


def test_every_chapter_parameter_has_a_form_and_every_chapter_checks_them():
    declared = {name for path in CHAPTERS for name in defaults(path)}
    assert declared == set(parameters.FORMS)
    for path in CHAPTERS:
        setup = "\n".join(c.source for c in nbformat.read(path, 4).cells if c.cell_type == "code")
        assert "parameters.check(globals())" in setup, path.name


@pytest.mark.parametrize("name, given, coerced", [
    ("relations", '["P19"]', ["P19"]),            # -p relations '["P19"]' (a JSON string)
    ("relations", "P19", ["P19"]),                # -p relations P19
    ("relations", "P19, P36", ["P19", "P36"]),
    ("seeds", 0, [0]),                            # -p seeds 0
    ("seeds", "[0, 1]", [0, 1]),
    ("models", "mini-bert-base", ["mini-bert-base"]),
    ("epochs", 2.0, 2),
    ("anchor_counts", "[250, null]", [250, None]),
    ("multi_source_pairs", [["mini-bert-base", "mini-roberta-base"]], [["mini-bert-base", "mini-roberta-base"]]),
])
def test_natural_forms_are_coerced(name, given, coerced):
    namespace = {name: given}
    check(namespace)
    assert namespace[name] == coerced


@pytest.mark.parametrize("name, given, expected", [
    ("epochs", "two", "an integer >= 1"),          # -p epochs two
    ("epochs", 0, "an integer >= 1"),
    ("epochs", True, "an integer >= 1"),
    ("relations", [], "a non-empty list of LAMA T-REx relation ids"),
    ("relations", ["P9999"], "relation ids"),
    ("relations", "[P19", "relation ids"),
    ("seeds", [-1], "integers >= 0"),
    ("models", ["mini-bert-bsae"], "mini-zoo names"),
    ("models", ["mini-bert-base", "mini-bert-base"], "distinct models"),
    ("n_anchors", 3, "integer >= 100"),
    ("max_steps", -5, "an integer >= 1"),
    ("multi_source_pairs", [["mini-bert-base"]], "at least 2"),
    ("panda_distill", "l2", "'mse' or 'kl'"),
    ("multi_source_all", "yes", "True or False"),
    ("device", "gpu", "not a device"),
])
def test_wrong_values_name_parameter_value_and_form(name, given, expected):
    with pytest.raises(ParameterError, match=f"parameter {name} = {re.escape(repr(given))}: .*{re.escape(expected)}"):
        check({name: given})


def test_a_hub_id_is_refused_only_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ParameterError, match="models"):
        check({"models": ["bert-base-cased"]})
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    check({"models": ["bert-base-cased"]})


def test_cuda_without_cuda_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ParameterError, match="parameter device = 'cuda'.*CUDA is not available"):
        check({"device": "cuda"})
    check({"device": "auto"})


def test_a_chapter_run_with_a_bad_parameter_stops_at_once_with_the_message(tmp_path):
    """papermill with -p epochs two on chapter 1 (ci profile): the set-up cell's check stops it, naming the value."""
    import papermill

    values = {**yaml.safe_load((ROOT / "params" / "ci.yaml").read_text()), "epochs": "two"}
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        papermill.execute_notebook(CHAPTERS[0], tmp_path / "out.ipynb", parameters=values, kernel_name="python3",
                                   cwd=str(ROOT / "book"), progress_bar=False)
    assert failure.value.ename == "ParameterError"
    assert failure.value.evalue == "parameter epochs = 'two': expected an integer >= 1 (e.g. -p epochs 2)"
