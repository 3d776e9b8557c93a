"""Tests of tutorial_lib.results: the run store (one record per config; load if valid, else compute)."""
from __future__ import annotations

import json
import math

import pytest
import torch

from tutorial_lib.results import Record, RunStore, config_key

torch.set_num_threads(1)

CONFIG = {"model": "mini-bert-base", "relations": ["P19", "P36"], "m": 5, "seed": 0, "lr": 3e-3}
METRICS = {"test": {"P19": 0.25, "P36": 0.5, "mean": 0.375}, "history": [{"epoch": 1, "loss": 2.5}],
           "dev": {"P19": float("nan")}, "pair": (1, 2)}


def tensors():
    gen = torch.Generator().manual_seed(0)
    return {"vectors": torch.randn(2, 5, 8, generator=gen), "steps": torch.arange(4)}


def counting(result, calls):
    def compute():
        calls.append(1)
        return result() if callable(result) else result
    return compute


def files_under(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def same_metrics(a, b) -> bool:
    """Deep equality with matching types (a tuple is not a list), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_metrics(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_metrics(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def test_a_saved_run_reloads_identically(tmp_path):
    store, calls = RunStore(tmp_path), []
    first = store.get_or_compute("prompts", CONFIG, counting(lambda: (METRICS, tensors()), calls))
    again = RunStore(tmp_path).get_or_compute("prompts", dict(CONFIG), counting(lambda: (METRICS, tensors()), calls))
    assert len(calls) == 1, "a present record was recomputed"
    assert same_metrics(first.metrics, again.metrics)
    assert math.isnan(again.metrics["dev"]["P19"]) and again.metrics["pair"] == [1, 2]
    assert first.tensors.keys() == again.tensors.keys()
    for name, value in tensors().items():
        assert torch.equal(again.tensors[name], value) and again.tensors[name].dtype == value.dtype
        assert torch.equal(first.tensors[name], again.tensors[name])
    assert again.config == CONFIG


def test_different_configs_get_different_records(tmp_path):
    store, calls = RunStore(tmp_path), []
    store.get_or_compute("prompts", CONFIG, counting(lambda: (METRICS, tensors()), calls))
    store.get_or_compute("prompts", {**CONFIG, "seed": 1}, counting(lambda: (METRICS, tensors()), calls))
    assert len(calls) == 2
    assert config_key(CONFIG) != config_key({**CONFIG, "seed": 1})
    assert config_key(CONFIG) == config_key(dict(reversed(list(CONFIG.items()))))  # key order is irrelevant


def test_a_failing_compute_writes_nothing_and_keeps_good_records(tmp_path):
    store = RunStore(tmp_path)
    good = store.get_or_compute("prompts", CONFIG, lambda: (METRICS, tensors()))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    def boom():
        raise RuntimeError("out of memory half way")

    other = {**CONFIG, "seed": 7}
    with pytest.raises(RuntimeError, match="half way"):
        store.get_or_compute("prompts", other, boom)
    assert store.load("prompts", other) is None
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.rglob(".tmp-*")], "a temporary folder was left behind"

    # A failure while writing (a tensor that cannot be serialised) over an existing record: the old one stays.
    with pytest.raises(Exception):
        store.save("prompts", Record(CONFIG, {"test": {"mean": 0.0}}, {"vectors": "not a tensor"}))
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    kept = store.load("prompts", CONFIG)
    assert kept is not None and same_metrics(kept.metrics, good.metrics)
    assert torch.equal(kept.tensors["vectors"], good.tensors["vectors"])


@pytest.mark.parametrize("damage", ["truncate_tensors", "garbage_json", "drop_json", "status_failed",
                                    "other_config", "json_not_a_dict"])
def test_a_corrupt_record_is_recomputed(tmp_path, damage):
    store = RunStore(tmp_path)
    store.get_or_compute("prompts", CONFIG, lambda: (METRICS, tensors()))
    folder = store.path("prompts", CONFIG)
    record, weights = folder / "record.json", folder / "tensors.safetensors"
    if damage == "truncate_tensors":
        weights.write_bytes(weights.read_bytes()[:40])
    elif damage == "garbage_json":
        record.write_text("{ not json")
    elif damage == "drop_json":
        record.unlink()
    elif damage == "status_failed":
        record.write_text(json.dumps({**json.loads(record.read_text()), "status": "running"}))
    elif damage == "other_config":
        record.write_text(json.dumps({**json.loads(record.read_text()), "config": {**CONFIG, "seed": 99}}))
    elif damage == "json_not_a_dict":
        record.write_text("[1, 2, 3]")
    assert store.load("prompts", CONFIG) is None

    fresh_metrics = {"test": {"mean": 0.9}}
    fresh_tensors = {"vectors": torch.ones(2, 5, 8)}
    calls = []
    got = store.get_or_compute("prompts", CONFIG, counting((fresh_metrics, fresh_tensors), calls))
    assert calls == [1] and got.metrics == fresh_metrics
    reloaded = store.load("prompts", CONFIG)
    assert reloaded is not None and reloaded.metrics == fresh_metrics
    assert torch.equal(reloaded.tensors["vectors"], fresh_tensors["vectors"])
    assert files_under(folder) == ["record.json", "tensors.safetensors"]


def test_a_code_change_gives_a_new_key_and_a_presentation_change_does_not(tmp_path):
    """Issue #18: a changed default (the relative search's lr) served the record the old code made."""
    import shutil

    from tutorial_lib import results

    copy = tmp_path / "tutorial_lib"
    shutil.copytree(results.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = results.code_digest(copy)
    assert results.code_digest(results.PACKAGE_DIR) == results.code_digest()  # the installed package by default
    plots = copy / "plots" / "numbers.py"
    plots.write_text(plots.read_text() + "\n# a figure's colour changed\n")
    results.code_digest.cache_clear()
    assert results.code_digest(copy) == before, "editing a plotting module must keep the run store valid"
    builder = copy / "zoo" / "build.py"
    builder.write_text(builder.read_text() + "\n# a new build option\n")
    results.code_digest.cache_clear()
    assert results.code_digest(copy) == before, "a rebuilt model changes its revision, not the builder's code"
    relative = copy / "transfer" / "relative.py"
    text = relative.read_text()
    assert "lr: float = 5e-3" in text
    relative.write_text(text.replace("lr: float = 5e-3", "lr: float = 1e-2", 1))
    results.code_digest.cache_clear()
    assert results.code_digest(copy) != before


def test_the_store_recomputes_what_other_code_made(tmp_path, monkeypatch):
    from tutorial_lib import results

    store, calls = RunStore(tmp_path), []
    monkeypatch.setattr(results, "code_digest", lambda: "old code")
    store.get_or_compute("transfer", CONFIG, counting(lambda: (METRICS, tensors()), calls))
    monkeypatch.setattr(results, "code_digest", lambda: "new code")
    store.get_or_compute("transfer", CONFIG, counting(lambda: (METRICS, tensors()), calls))
    assert len(calls) == 2, "a record made by other code was served"
    assert json.loads((store.path("transfer", CONFIG) / "record.json").read_text())["code"] == "new code"
    monkeypatch.setattr(results, "code_digest", lambda: "old code")
    store.get_or_compute("transfer", CONFIG, counting(lambda: (METRICS, tensors()), calls))
    assert len(calls) == 2


def test_the_default_store_is_in_the_user_cache(tmp_path, monkeypatch):
    from tutorial_lib import results

    monkeypatch.delenv("TUTORIAL_LIB_RUNS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert RunStore().root == tmp_path / "cache" / "tutorial_lib" / "runs"
    monkeypatch.setenv("TUTORIAL_LIB_RUNS", str(tmp_path / "mine"))
    assert results.default_root() == tmp_path / "mine"


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_records_get_the_modes_of_the_umask(tmp_path, umask):
    import os
    import stat

    old = os.umask(umask)
    try:
        folder = RunStore(tmp_path).save("prompts", Record(CONFIG, METRICS, tensors()))
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name
