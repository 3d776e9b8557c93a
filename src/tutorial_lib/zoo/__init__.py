"""The model zoo: the book's mini masked LMs, or any Hugging Face masked LM by id or directory.

``load_model(name_or_id)`` is the one entry point. Mini-zoo names load the checkpoints shipped in
``data/zoo/<name>/``; anything else goes to ``transformers.AutoModelForMaskedLM.from_pretrained`` (a Hub id
such as ``bert-base-cased`` on a machine with internet, or a local directory).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..data import DATA_DIR

ZOO_DIR = DATA_DIR / "zoo"


@dataclass(frozen=True)
class ZooSpec:
    """Architecture of one mini-zoo model; ``family`` picks the tokenizer (WordPiece or byte-level BPE)."""

    family: str  # "bert" or "roberta"
    hidden: int
    layers: int
    heads: int
    seed: int

    @property
    def intermediate(self) -> int:
        return 4 * self.hidden


# Mirrors the papers' grid: BERT/RoBERTa x base/large; same-width pairs allow direct transfer.
ZOO: dict[str, ZooSpec] = {
    "mini-bert-base": ZooSpec("bert", hidden=192, layers=4, heads=4, seed=11),
    "mini-bert-large": ZooSpec("bert", hidden=256, layers=6, heads=4, seed=12),
    "mini-roberta-base": ZooSpec("roberta", hidden=192, layers=4, heads=4, seed=13),
    "mini-roberta-large": ZooSpec("roberta", hidden=256, layers=6, heads=4, seed=14),
}


def quality_checks(mean: dict, geometry: dict | None = None) -> list[tuple[str, float, str, bool]]:
    """What makes a zoo model good, as (criterion, measured, target, holds) rows: its facts are stored (far
    above the majority object), the held-out manual template recovers them only partly, another relation's
    template does not, and (with ``geometry``, the card's rows per other model) it shares word geometry with
    the other models but not coordinates."""
    stored, manual = mean["paraphrase"], mean["manual"]
    rows = [("facts stored (best pretraining phrasing)", stored, ">= 0.5", stored >= 0.5),
            ("facts stored / majority object", stored / max(mean["majority"], 1e-9), ">= 2",
             stored >= 2 * mean["majority"]),
            ("manual template / facts stored", manual / max(stored, 1e-9), "<= 0.8", manual <= 0.8 * stored),
            ("another relation's template / manual", mean["other_template"] / max(manual, 1e-9), "<= 0.5",
             mean["other_template"] <= 0.5 * manual)]
    if geometry:
        translation = min(g["p_at_1"] for g in geometry.values())
        rows.append(("word translation to the other models (lowest)", translation, ">= 0.9", translation >= 0.9))
        if all("same_index_mean" in g for g in geometry.values()):
            shared = max(g["same_index_mean"] for g in geometry.values())
            rows.append(("same-index abs(r), mean over dimensions (highest pair)", shared, "<= 0.2", shared <= 0.2))
        if all("same_index_chance_95" in g for g in geometry.values()):
            ratio = max(g["same_index_r"] / g["same_index_chance_95"] for g in geometry.values())
            rows.append(("same-index abs(r), largest / 95th percentile for random rotations (highest pair)", ratio,
                         "<= 1", ratio <= 1))
    return rows


class UnknownModel(ValueError):
    """Neither a mini-zoo name nor a loadable Hugging Face model."""


@dataclass
class MaskedLM:
    """A frozen-able masked LM with its tokenizer and a name for tables."""

    name: str
    model: torch.nn.Module
    tokenizer: object
    revision: str = ""  # which weights: a digest of the checkpoint file, or the Hub commit (keys cached runs)

    @property
    def width(self) -> int:
        return self.model.get_input_embeddings().weight.shape[1]

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def card(self) -> dict:
        path = ZOO_DIR / self.name / "card.json"
        return json.loads(path.read_text()) if path.is_file() else {}


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def zoo_names() -> list[str]:
    return list(ZOO)


def load_model(name_or_id: str, device: str | torch.device | None = None) -> MaskedLM:
    """Load a masked LM and its tokenizer, in eval mode, float32, on ``device`` (CUDA when present)."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    device = torch.device(device) if device is not None else default_device()
    if name_or_id in ZOO:
        path = ZOO_DIR / name_or_id
        if not (path / "config.json").is_file():
            raise UnknownModel(f"mini-zoo model {name_or_id!r} has no checkpoint in {path}; "
                               "rebuild the zoo with `python -m tutorial_lib.zoo.build`")
        source = str(path)
    else:
        source = name_or_id  # a local directory or a Hub id
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForMaskedLM.from_pretrained(source, dtype=torch.float32)
    except (OSError, ValueError) as err:
        raise UnknownModel(f"unknown model {name_or_id!r}: not in the mini zoo {zoo_names()} and not "
                           f"loadable by transformers ({err.__class__.__name__}: {str(err)[:200]})") from err
    return MaskedLM(name_or_id, model.to(device).eval(), tokenizer, _revision(source, model))


def _revision(source: str, model) -> str:
    """sha256 (16 hex digits) of a local checkpoint's weight files; a Hub model's commit hash otherwise. A
    rebuilt zoo model gets a new revision, so results cached for its old weights are not reused."""
    files = sorted(Path(source).glob("*.safetensors")) + sorted(Path(source).glob("*.bin"))
    if files:
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.read_bytes())
        return digest.hexdigest()[:16]
    return str(getattr(model.config, "_commit_hash", None) or source)
