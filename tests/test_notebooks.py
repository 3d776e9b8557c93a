"""Static checks of the book's notebooks (their execution is the smoke run in ``make book-ci``)."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
PROFILES = {name: yaml.safe_load((ROOT / "params" / f"{name}.yaml").read_text())
            for name in ("ci", "cpu", "gpu", "paper", "tiny")}


def parameters(path: Path) -> dict:
    """The values the notebook's ``parameters`` cell assigns (what a reader gets without papermill)."""
    cells = [c for c in nbformat.read(path, as_version=4).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name} needs exactly one cell tagged 'parameters', found {len(cells)}"
    namespace: dict = {}
    exec(cells[0].source, namespace)  # noqa: S102 - our own notebooks' assignments
    return {k: v for k, v in namespace.items() if not k.startswith("__")}


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    assert NOTEBOOKS and all(f"book/{p.stem}" in toc for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_defaults_are_the_cpu_profile(path):
    """Opened on Colab or run by hand, a chapter does what ``make book`` does (params/cpu.yaml)."""
    cpu = PROFILES["cpu"]
    values = parameters(path)
    differ = {k: (v, cpu[k]) for k, v in values.items() if k in cpu and v != cpu[k]}
    assert not differ, f"{path.name}: notebook default vs params/cpu.yaml: {differ}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_profiles_only_set_declared_parameters_of_known_type(path):
    """A profile key a notebook declares must keep the notebook default's type (papermill injects it as is)."""
    values = parameters(path)
    for name, profile in PROFILES.items():
        for key, value in profile.items():
            if key in values and values[key] is not None and value is not None:
                assert isinstance(value, type(values[key])) or (
                    isinstance(values[key], (int, float)) and isinstance(value, (int, float))), \
                    f"params/{name}.yaml: {key}={value!r} vs the default {values[key]!r} of {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
