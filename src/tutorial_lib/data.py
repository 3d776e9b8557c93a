"""LAMA T-REx: facts, templates, paraphrases, common vocabularies and deterministic splits.

The files are read from a local directory (argument, or the ``LAMA_DIR`` environment variable, or the
user cache ``~/.cache/tutorial_lib/lama``). Without a local copy they are downloaded once from their
public sources (yanaiela/pararel, princeton-nlp/OptiPrompt) and checked against the sha256 sums in
``data/lama_sha256.json``. Offline, loading fails at once with a message saying where to put the files.

Splits: every fact goes to train / dev / test by a hash of its ``uuid`` (50 % / 10 % / 40 %), so the
split does not depend on file order, machine or Python version.
"""
from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(os.environ.get("TUTORIAL_LIB_DATA", Path(__file__).resolve().parents[2] / "data"))
SPLIT_FRACTIONS = {"train": 0.5, "dev": 0.1, "test": 0.4}
SPLITS = tuple(SPLIT_FRACTIONS)

PARAREL = "https://raw.githubusercontent.com/yanaiela/pararel/main/data"
OPTIPROMPT = "https://raw.githubusercontent.com/princeton-nlp/OptiPrompt/main"
ROOT_SOURCES = {
    "relations.jsonl": f"{OPTIPROMPT}/relation_metainfo/LAMA_relations.jsonl",
    "autoprompt_relations.jsonl": f"{OPTIPROMPT}/relation_metainfo/AutoPrompt_relations.jsonl",
    "common_vocab_cased.txt": f"{OPTIPROMPT}/common_vocabs/common_vocab_cased.txt",
    "common_vocab_cased_be_ro_al.txt": f"{OPTIPROMPT}/common_vocabs/common_vocab_cased_be_ro_al.txt",
}


class LamaDataMissing(FileNotFoundError):
    """The LAMA files are neither on disk nor downloadable."""


@dataclass(frozen=True)
class Fact:
    relation: str
    subject: str
    object: str
    uuid: str

    @property
    def split(self) -> str:
        return split_of(self.uuid)


@dataclass(frozen=True)
class Relation:
    """One T-REx relation: its manual LAMA template, ParaRel paraphrases and facts."""

    id: str
    label: str
    template: str
    type: str
    paraphrases: tuple[str, ...]
    autoprompt: str | None
    facts: tuple[Fact, ...] = field(repr=False)

    def split(self, name: str) -> list[Fact]:
        if name not in SPLIT_FRACTIONS:
            raise ValueError(f"unknown split {name!r}; choose one of {list(SPLITS)}")
        return [f for f in self.facts if f.split == name]

    @property
    def words(self) -> frozenset[str]:
        """Lower-cased words of all the relation's patterns (manual template, ParaRel paraphrases, AutoPrompt
        template): the words in which the mini zoo read the relation during pretraining."""
        patterns = (self.template, *self.paraphrases, *([self.autoprompt] if self.autoprompt else []))
        text = " ".join(patterns).replace("[X]", " ").replace("[Y]", " ")
        return frozenset(w.strip(".,").lower() for w in text.split() if w.strip(".,"))

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={len(self.split(s))}" for s in SPLITS)
        return f"Relation({self.id} {self.label!r}: {self.template!r}; {sizes})"


def _unit_hash(text: str, salt: str = "") -> float:
    digest = hashlib.sha256((salt + text).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(uuid: str) -> str:
    """The split of a fact, a pure function of its uuid (50 / 10 / 40 train / dev / test)."""
    u, edge = _unit_hash(uuid, "split:"), 0.0
    for name, frac in SPLIT_FRACTIONS.items():
        edge += frac
        if u < edge:
            return name
    return SPLITS[-1]


def checksums() -> dict[str, str]:
    return json.loads((DATA_DIR / "lama_sha256.json").read_text())


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tutorial_lib" / "lama"


def _is_complete(path: Path) -> bool:
    return all((path / name).is_file() for name in checksums())


def _download(path: Path, timeout: float = 10.0) -> None:
    sums = checksums()
    for name, digest in sums.items():
        target = path / name
        if target.is_file():
            continue
        if name.startswith("facts/"):
            url = f"{PARAREL}/trex_lms_vocab/{Path(name).name}"
        elif name.startswith("paraphrases/"):
            url = f"{PARAREL}/pattern_data/graphs_json/{Path(name).name}"
        else:
            url = ROOT_SOURCES[name]
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = response.read()
        if hashlib.sha256(payload).hexdigest() != digest:
            raise LamaDataMissing(f"checksum mismatch for {url}: the public file changed; "
                                  f"put a verified copy of the LAMA files in {path}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)


def resolve_lama_dir(path: str | os.PathLike | None = None, download: bool | None = None) -> Path:
    """The directory that holds the LAMA files: ``path``, else ``$LAMA_DIR``, else the user cache.

    A cache that is incomplete is filled by downloading (unless ``download=False`` or
    ``TUTORIAL_LIB_OFFLINE=1``); any failure raises :class:`LamaDataMissing` at once.
    """
    given = path if path is not None else os.environ.get("LAMA_DIR")
    if given is not None:
        given = Path(given).expanduser()
        if _is_complete(given):
            return given
        missing = [n for n in checksums() if not (given / n).is_file()]
        raise LamaDataMissing(
            f"LAMA directory {given} is incomplete ({len(missing)} files missing, e.g. {missing[0]}). "
            "Point LAMA_DIR (or the lama_dir argument) at a copy of the LAMA T-REx files "
            "(facts/P*.jsonl, paraphrases/P*.jsonl, relations.jsonl, ...), or unset it to download them.")
    cache = _default_cache()
    if _is_complete(cache):
        return cache
    if download is None:
        download = os.environ.get("TUTORIAL_LIB_OFFLINE", "0") != "1"
    where = (f"Put the LAMA T-REx files (facts/P*.jsonl, paraphrases/P*.jsonl, relations.jsonl, "
             f"autoprompt_relations.jsonl, common_vocab_cased*.txt) in {cache} or set LAMA_DIR to a "
             "directory that holds them.")
    if not download:
        raise LamaDataMissing(f"No local LAMA data and downloads are off. {where}")
    try:
        _download(cache)
    except OSError as err:  # URLError, timeouts and DNS failures are OSErrors
        raise LamaDataMissing(f"No local LAMA data and the download failed ({err}). {where}") from err
    return cache


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@lru_cache(maxsize=8)
def _load_all(root: Path) -> dict[str, dict]:
    meta = {row["relation"]: row for row in _read_jsonl(root / "relations.jsonl")}
    auto = {row["relation"]: row["template"] for row in _read_jsonl(root / "autoprompt_relations.jsonl")}
    out = {}
    for rel_id, row in meta.items():
        if not (root / "facts" / f"{rel_id}.jsonl").is_file():
            continue  # LAMA's metadata lists relations that T-REx has no facts for
        para = root / "paraphrases" / f"{rel_id}.jsonl"
        out[rel_id] = {
            "meta": row,
            "autoprompt": auto.get(rel_id),
            "paraphrases": tuple(p["pattern"] for p in _read_jsonl(para)) if para.is_file() else (),
            "facts": tuple(Fact(rel_id, f["sub_label"], f["obj_label"], f["uuid"])
                           for f in _read_jsonl(root / "facts" / f"{rel_id}.jsonl")),
        }
    return out


def relation_ids(lama_dir: str | os.PathLike | None = None) -> list[str]:
    """The ids of the 41 T-REx relations, sorted."""
    return sorted(_load_all(resolve_lama_dir(lama_dir)), key=lambda r: int(r[1:]))


def select_facts(facts: tuple[Fact, ...], max_facts: int | None,
                 prefer_subjects: frozenset[str] = frozenset()) -> tuple[Fact, ...]:
    """A deterministic subset of at most ``max_facts`` facts, returned in the original file order.

    Facts whose subject is in ``prefer_subjects`` come first, ranked by a hash of the subject (so that
    several relations keep the same shared subjects), the others by a hash of the uuid.
    """
    if max_facts is None or max_facts >= len(facts):
        return facts

    def rank(f: Fact) -> tuple[bool, float]:
        shared = f.subject in prefer_subjects
        return not shared, _unit_hash(f.subject if shared else f.uuid, "pick:")

    ranked = sorted(facts, key=rank)
    keep = {f.uuid for f in ranked[:max_facts]}
    return tuple(f for f in facts if f.uuid in keep)


def cap_split(relation: Relation, split: str, n: int | None) -> Relation:
    """``relation`` with at most ``n`` facts of ``split`` (a fixed hash-ranked sample, the same in every run;
    None: all), the other splits untouched. A lighter test set for slow machines."""
    if n is None:
        return relation
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"the cap on {split} facts must be a positive integer or None, got {n!r}")
    keep = {f.uuid for f in sorted(relation.split(split), key=lambda f: _unit_hash(f.uuid, "cap:"))[:n]}
    return replace(relation, facts=tuple(f for f in relation.facts if f.split != split or f.uuid in keep))


def shared_subjects(relations: dict[str, Relation] | dict[str, dict]) -> frozenset[str]:
    """Subjects that have facts in at least two of the given relations."""
    seen: dict[str, set[str]] = {}
    for rel_id, rel in relations.items():
        facts = rel.facts if isinstance(rel, Relation) else rel["facts"]
        for f in facts:
            seen.setdefault(f.subject, set()).add(rel_id)
    return frozenset(s for s, rels in seen.items() if len(rels) > 1)


def load_relations(ids: list[str] | tuple[str, ...] | None = None,
                   lama_dir: str | os.PathLike | None = None,
                   max_facts: int | None = None) -> dict[str, Relation]:
    """Load T-REx relations by id (all 41 when ``ids`` is None).

    ``max_facts`` caps the facts per relation deterministically, preferring subjects that have facts in
    several of the requested relations (the mini zoo is pretrained on such a subset).
    """
    everything = _load_all(resolve_lama_dir(lama_dir))
    ids = list(everything) if ids is None else list(ids)
    unknown = [r for r in ids if r not in everything]
    if unknown:
        raise KeyError(f"unknown relation(s) {unknown}; known: {sorted(everything, key=lambda r: int(r[1:]))}")
    if max_facts is not None and max_facts < 1:
        raise ValueError(f"max_facts must be >= 1 or None, got {max_facts}")
    chosen = {r: everything[r] for r in ids}
    prefer = shared_subjects(chosen)
    return {
        r: Relation(id=r, label=row["meta"]["label"], template=row["meta"]["template"],
                    type=row["meta"]["type"], paraphrases=row["paraphrases"],
                    autoprompt=row["autoprompt"], facts=select_facts(row["facts"], max_facts, prefer))
        for r, row in chosen.items()
    }


def common_vocab(name: str = "cased_be_ro_al", lama_dir: str | os.PathLike | None = None) -> list[str]:
    """LAMA's common vocabulary: ``"cased"`` (21,018 words) or ``"cased_be_ro_al"`` (the 17,230 words
    shared by BERT, RoBERTa and ALBERT; the anchor list of the zero-shot transfer paper)."""
    names = {"cased": "common_vocab_cased.txt", "cased_be_ro_al": "common_vocab_cased_be_ro_al.txt"}
    if name not in names:
        raise ValueError(f"unknown common vocabulary {name!r}; choose one of {list(names)}")
    text = (resolve_lama_dir(lama_dir) / names[name]).read_text(encoding="utf-8")
    return [w.strip() for w in text.splitlines() if w.strip()]


def word_token_id(tokenizer, word: str) -> int | None:
    """The id of ``word`` as it follows a space, when it is a single token of ``tokenizer``, else None.

    A leading space makes byte-level BPE (RoBERTa: ``ĠParis``) and SentencePiece (``▁Paris``) use
    their word-initial form; WordPiece ignores it.
    """
    ids = tokenizer.encode(" " + word, add_special_tokens=False)
    return ids[0] if len(ids) == 1 else None


def scoring_vocabulary(tokenizers, words: list[str] | None = None,
                       lama_dir: str | os.PathLike | None = None) -> list[str]:
    """Words that are one token in every tokenizer given (LAMA's cased common vocabulary by default):
    the set the argmax at the mask is restricted to."""
    words = common_vocab("cased", lama_dir) if words is None else words
    return [w for w in words if all(word_token_id(t, w) is not None for t in tokenizers)]
