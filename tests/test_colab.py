"""The Colab path: one set-up cell, identical in every chapter, and one repository URL (``_config.yml``)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from importlib.metadata import version
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("0*.ipynb"))
REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]


def colab_cell(path: Path):
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" and "google.colab" in c.source]
    assert len(cells) == 1, f"{path.name}: {len(cells)} Colab set-up cells, want exactly 1"
    return cells[0]


def test_every_chapter_has_the_same_colab_cell():
    sources = {p.name: colab_cell(p).source for p in CHAPTERS}
    assert len(CHAPTERS) == 7 and len(set(sources.values())) == 1, sorted(sources)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_colab_cell_is_hidden_and_clones_the_configured_repository(path):
    cell = colab_cell(path)
    assert "remove-cell" in cell.metadata.get("tags", []), "the set-up cell is not part of the rendered page"
    urls = set(re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", cell.source))
    assert urls == {REPOSITORY["url"]}, f"{path.name}: {urls} vs _config.yml {REPOSITORY['url']}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_colab_badge_opens_this_notebook_of_the_configured_repository(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    badges = re.findall(r"https://colab\.research\.google\.com/github/[^)\s]+", text)
    owner_repo = REPOSITORY["url"].removeprefix("https://github.com/")
    assert badges == [f"https://colab.research.google.com/github/{owner_repo}/blob/{REPOSITORY['branch']}/"
                      f"book/{path.name}"]


def test_colab_cell_is_idempotent_and_keeps_colabs_torch(monkeypatch, tmp_path):
    """Run the cell twice as on Colab (subprocess and the file system faked): one clone, torch pinned to the
    installed version in every pip call, and the second run does not fail."""
    calls, made = [], set()
    clone = Path("/content/prompt-transfer-book")

    def fake_run(cmd, check):
        calls.append(cmd)
        if cmd[:2] == ["git", "clone"]:
            assert not made, "cloned a second time"
            made.add(clone / ".git")
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(os.path, "isdir", lambda p: Path(p) in made)
    monkeypatch.setattr(os, "chdir", lambda p: calls.append(["chdir", p]))
    monkeypatch.setattr(sys, "path", list(sys.path))
    source = colab_cell(CHAPTERS[0]).source
    exec(source, {})  # noqa: S102 - our own cell
    exec(source, {})  # noqa: S102
    clones = [c for c in calls if c[:2] == ["git", "clone"]]
    pips = [c for c in calls if c[1:4] == ["-m", "pip", "install"]]
    assert len(clones) == 1 and clones[0][-2:] == [REPOSITORY["url"], str(clone)]
    assert len(pips) == 2 and all(f"torch=={version('torch')}" in c for c in pips)
    assert sys.path.count(str(clone / "src")) == 1
    assert calls[-1] == ["chdir", str(clone / "book")]
