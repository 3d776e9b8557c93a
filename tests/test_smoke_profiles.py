"""The smokes beyond the CI profile (scripts/smoke.py; their execution is ``make smoke``): what they run with,
params/paper.yaml, and the Hub-layout fixture model that stands in for a reader's checkpoint."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import hub_fixture  # noqa: E402
import smoke  # noqa: E402

PAPER_MODELS = {"bert-base-cased", "bert-large-cased", "roberta-base", "roberta-large", "albert-base-v2",
                "albert-large-v2"}


def profile(name: str) -> dict:
    return yaml.safe_load((ROOT / "params" / f"{name}.yaml").read_text())


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory, monkeypatch_module, lama_dir):
    """scripts/smoke.py's fixture models, built into a temporary folder instead of _build/fixtures."""
    monkeypatch_module.setattr(smoke, "FIXTURES", tmp_path_factory.mktemp("fixtures"))
    return smoke.FIXTURES


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_paper_profile_is_the_papers_setting(lama_dir):
    from tutorial_lib import data

    paper = profile("paper")
    assert set(paper["models"]) == PAPER_MODELS
    assert sorted(paper["relations"]) == sorted(data.relation_ids()) and len(paper["relations"]) == 41
    assert (paper["epochs"], paper["max_steps"], paper["topk"], paper["n_anchors"], paper["projector_epochs"],
            paper["m"], paper["test_facts"]) == (10, 2000, 8192, None, 10, 5, None)
    assert set(profile("gpu")) - {"topk"} <= set(paper), "paper.yaml lacks keys of gpu.yaml"


def test_gpu_structure_keeps_every_key_and_null_of_the_gpu_profile():
    gpu, params = profile("gpu"), smoke.gpu_structure()
    assert set(params) >= set(gpu) and params["max_steps"] <= 20 and len(params["seeds"]) > 1
    nulls = {k for k, v in gpu.items() if v is None} - {"test_facts"}  # "all test facts" is a size
    assert nulls >= {"relations", "multi_source_targets", "panda_relations"} and all(params[k] is None for k in nulls)


def test_second_model_smoke_gives_the_hub_model_every_role(fixtures):
    params = smoke.second_model()
    hub = params["models"][-1]
    assert Path(hub).parent == fixtures and (Path(hub) / "config.json").is_file()
    assert params["multi_source_targets"] == [hub] and params["analysis_target"] == hub
    assert params["relations"] == ["P19", "P36", "P103"] and params["profile"] == "ci"


def test_paper_structure_runs_all_relations_on_fixture_models(fixtures):
    params = smoke.paper_structure()
    text = yaml.safe_dump(params)
    assert not [m for m in PAPER_MODELS if m in text], "a Hub id left: CI cannot download it"
    assert len(params["relations"]) == 41 and len(params["models"]) == 3 == len(set(params["models"]))
    assert all(Path(m).parent == fixtures for m in params["models"])
    a, b = params["multi_source_pairs"]
    assert a[0] == b[0] and len({*a, *b}) == 3  # the paper's two pairs stay two different pairs
    assert set(params) == set(profile("paper")) | set(profile("tiny"))


def test_fixture_is_a_hub_layout_masked_lm_with_a_realistic_vocabulary(fixtures):
    from tutorial_lib.zoo import ZOO, load_model

    path = Path(smoke.fixture(64, 0))
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in path.iterdir()}
    lm = load_model(str(path), device="cpu")
    assert lm.name not in ZOO and lm.width == 64 and len(lm.tokenizer) == hub_fixture.VOCAB_SIZE
    ids = lm.tokenizer("Allan Peiper was born in [MASK] .", return_tensors="pt")
    assert lm.model(**ids).logits.shape[-1] == hub_fixture.VOCAB_SIZE
    before = (path / "model.safetensors").stat().st_mtime_ns
    assert smoke.fixture(64, 0) == str(path) and (path / "model.safetensors").stat().st_mtime_ns == before
