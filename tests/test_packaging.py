"""Installed from a wheel (not `pip install -e`), the library finds its data and keeps its caches in the user
cache, not inside the environment (issue #18)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tutorial_lib import results

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, tutorial_lib
from tutorial_lib import data, results, zoo
lm = zoo.load_model("mini-bert-base", device="cpu")
print(json.dumps({"package": tutorial_lib.__file__, "data": str(data.DATA_DIR), "zoo": str(zoo.ZOO_DIR),
                  "checksums": len(data.checksums()), "runs": str(results.RunStore().root),
                  "code": results.code_digest(), "revision": lm.revision}))
"""


def test_a_wheel_finds_the_zoo_and_caches_in_the_user_cache(tmp_path):
    if not (ROOT / "data" / "zoo" / "mini-bert-base" / "config.json").is_file():
        pytest.skip("no mini zoo to ship")
    source = tmp_path / "source"
    for name in ("src", "data"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "wheel"), str(source)],
                   check=True, capture_output=True, timeout=300)
    wheel, = (tmp_path / "wheel").glob("tutorial_lib-*.whl")
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, capture_output=True,
                   timeout=300)
    shutil.rmtree(source)  # nothing may come from the source tree
    env = {k: v for k, v in os.environ.items() if k not in ("TUTORIAL_LIB_DATA", "TUTORIAL_LIB_RUNS")}
    env.update(PYTHONPATH=str(site), XDG_CACHE_HOME=str(tmp_path / "cache"), HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(got["package"]).is_relative_to(site)
    assert Path(got["zoo"]) == site / "tutorial_lib" / "_data" / "zoo"
    assert got["checksums"] == 84
    assert got["runs"] == str(tmp_path / "cache" / "tutorial_lib" / "runs")
    assert got["code"] == results.code_digest(), "the wheel does not hold the same computing modules"
    from tutorial_lib.zoo import _revision
    assert got["revision"] == _revision(str(ROOT / "data" / "zoo" / "mini-bert-base"), None)
