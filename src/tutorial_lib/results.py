"""The run store: one record per expensive run, keyed by its full config and the code that computed it.

A record is a folder ``<root>/<kind>/<key>/`` holding ``record.json`` (config, code digest, metrics, status)
and ``tensors.safetensors``. ``RunStore.get_or_compute`` loads a present, valid record instead of
recomputing; a run that raises leaves nothing behind, so a failed run never overwrites a good record. The
key holds :func:`code_digest`, so a change of the library's computing code (a default learning rate, a
loss) never serves a record that the old code made.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .data import user_cache
from .files import atomic

PACKAGE_DIR = Path(__file__).resolve().parent
# Modules (and the plots/ package) that only present results (tables, figures, widgets, the CLI, parameter
# checks), and the zoo's builder (a rebuilt model has new weights, hence a new revision in every key): they make
# no record, so editing them keeps the run store valid. Every other module is in the digest.
PRESENTATION = frozenset({"__main__.py", "cli.py", "comparison.py", "page.py", "paper.py", "parameters.py",
                          "plots", "progress.py", "verdicts.py", "widgets.py",
                          "zoo/build.py", "zoo/embeddings.py", "zoo/pretrain.py", "zoo/vocab.py"})


@dataclass
class Record:
    config: dict
    metrics: dict
    tensors: dict[str, torch.Tensor]


@lru_cache(maxsize=4)
def code_digest(package: Path = PACKAGE_DIR) -> str:
    """sha256 (16 hex digits) of the source of every computing module of ``package`` (all ``*.py`` but
    :data:`PRESENTATION`), by relative path; computed once per process."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        if name not in PRESENTATION and name.split("/")[0] not in PRESENTATION:
            digest.update(f"{name}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def config_key(config: dict) -> str:
    """A stable hash of a JSON-serialisable config and of :func:`code_digest`."""
    text = json.dumps({**config, "code": code_digest()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_root() -> Path:
    """``$TUTORIAL_LIB_RUNS``, else the user cache (``~/.cache/tutorial_lib/runs``): never inside the
    environment the library is installed in."""
    return Path(os.environ.get("TUTORIAL_LIB_RUNS") or user_cache() / "runs")


class RunStore:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()

    def path(self, kind: str, config: dict) -> Path:
        return self.root / kind / config_key(config)

    def load(self, kind: str, config: dict) -> Record | None:
        """The saved record of this config, or None when absent or invalid."""
        folder = self.path(kind, config)
        try:
            meta = json.loads((folder / "record.json").read_text())
            tensors = load_file(folder / "tensors.safetensors")
        except (OSError, ValueError, SafetensorError):  # missing, truncated or corrupt: recompute
            return None
        if (not isinstance(meta, dict) or meta.get("status") != "ok" or "metrics" not in meta
                or meta.get("config") != json.loads(json.dumps(config, default=str))):
            return None
        return Record(meta["config"], meta["metrics"], tensors)

    def save(self, kind: str, record: Record) -> Path:
        """Write atomically: the record appears complete or not at all."""
        folder = self.path(kind, record.config)
        with atomic(folder, folder=True) as tmp:
            save_file({k: v.detach().cpu().contiguous() for k, v in record.tensors.items()},
                      tmp / "tensors.safetensors")
            (tmp / "record.json").write_text(json.dumps(
                {"status": "ok", "config": record.config, "code": code_digest(), "metrics": record.metrics},
                indent=1, default=str))
        return folder

    def get_or_compute(self, kind: str, config: dict,
                       compute: Callable[[], tuple[dict, dict[str, torch.Tensor]]]) -> Record:
        """Load the record of ``config`` if valid, else run ``compute() -> (metrics, tensors)`` and save it."""
        found = self.load(kind, config)
        if found is not None:
            return found
        metrics, tensors = compute()
        # Return exactly what a later load() gives back (JSON-normalised metrics, detached CPU tensors),
        # so a fresh run and a reloaded run are indistinguishable to the caller.
        record = Record(json.loads(json.dumps(config, default=str)),
                        json.loads(json.dumps(metrics, default=str)),
                        {k: v.detach().cpu().contiguous() for k, v in tensors.items()})
        self.save(kind, record)
        return record
