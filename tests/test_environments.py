"""Where the book is installed and run: the pins, and the GitHub Actions workflows (validated offline)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CHECK_JSONSCHEMA = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which(
    "check-jsonschema")


def workflow(name: str) -> dict:
    return yaml.load((WORKFLOWS / name).read_text(), Loader=yaml.BaseLoader)  # "on" stays a key, not True


def steps(job: dict) -> list[str]:
    return [f"{s.get('uses', '')} {s.get('run', '')} {s.get('with', '')}" for s in job["steps"]]


def test_ranges_in_pyproject_exact_torch_where_environments_are_built():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in deps if "==" in d], "pyproject.toml holds ranges; pins live in requirements-lock.txt"
    lock = re.search(r"^torch==(\S+)$", (ROOT / "requirements-lock.txt").read_text(), re.M).group(1)
    make = re.search(r"^TORCH_VERSION \?= (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    conda = re.search(r"- torch==(\S+)$", (ROOT / "environment.yml").read_text(), re.M).group(1)
    assert lock == make == conda
    assert "-c requirements-lock.txt" in (ROOT / "Makefile").read_text()


@pytest.mark.skipif(CHECK_JSONSCHEMA is None, reason="check-jsonschema not installed (dev extra)")
@pytest.mark.parametrize("schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"])
def test_workflows_validate_against_the_vendored_schema(schema, tmp_path):
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["book-gpu.yml", "ci.yml"]
    run = subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", schema, *map(str, files)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    broken = tmp_path / "broken.yml"  # the check can fail: a job with no runner and a misspelt key
    broken.write_text("on: push\njobs:\n  x:\n    step: []\n")
    assert subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", schema, str(broken)],
                          capture_output=True).returncode != 0


def test_cpu_ci_runs_the_ci_script():
    job = workflow("ci.yml")["jobs"]["test"]
    assert any(s.strip() == "bash .ci/run" for s in (st.get("run", "") for st in job["steps"]))
    assert any("../shared/lama" in s for s in steps(job)), "CI must put the LAMA copy beside the clone"


def test_gpu_book_runs_in_colabs_image_and_fails_without_cuda():
    flow = workflow("book-gpu.yml")
    book = flow["jobs"]["book"]
    assert book["container"]["image"].startswith("us-docker.pkg.dev/colab-images/public/runtime")
    assert "--gpus all" in book["container"]["options"]
    texts = steps(book)
    cuda = next(i for i, s in enumerate(texts) if "assert torch.cuda.is_available()" in s)
    run = next(i for i, s in enumerate(texts) if "build_book.py --params params/gpu.yaml" in s)
    assert cuda < run and "device: cuda" in texts[run]
    upload = next(s for s in texts if "actions/upload-artifact" in s)
    assert all(p in upload for p in ("_build/html", "_build/executed/book/*.ipynb", "_build/budget.json"))
    pages = flow["jobs"]["pages"]
    assert pages["if"] == "github.ref == 'refs/heads/main'" and pages["needs"] == "book"
    assert any("actions/deploy-pages" in s for s in steps(pages))
