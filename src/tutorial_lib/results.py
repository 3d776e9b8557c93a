"""The run store: one record per expensive run, keyed by its full config.

A record is a folder ``<root>/<kind>/<key>/`` holding ``record.json`` (config, metrics, status) and
``tensors.safetensors``. ``RunStore.get_or_compute`` loads a present, valid record instead of recomputing;
a run that raises leaves nothing behind, so a failed run never overwrites a good record.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import __version__


@dataclass
class Record:
    config: dict
    metrics: dict
    tensors: dict[str, torch.Tensor]


def config_key(config: dict) -> str:
    """A stable hash of a JSON-serialisable config (plus the library version)."""
    text = json.dumps({**config, "library_version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_root() -> Path:
    return Path(os.environ.get("TUTORIAL_LIB_RUNS", Path(__file__).resolve().parents[2] / ".runs"))


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
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        try:
            save_file({k: v.detach().cpu().contiguous() for k, v in record.tensors.items()},
                      tmp / "tensors.safetensors")
            (tmp / "record.json").write_text(json.dumps(
                {"status": "ok", "config": record.config, "metrics": record.metrics}, indent=1, default=str))
            if folder.exists():
                shutil.rmtree(folder)
            tmp.rename(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
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
