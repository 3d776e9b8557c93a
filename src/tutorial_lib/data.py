"""LAMA T-REx: facts, templates, paraphrases, common vocabularies and deterministic splits.

The files are read from a local directory (argument, or the ``LAMA_DIR`` environment variable, or the
user cache ``~/.cache/tutorial_lib/lama``). Without a local copy they are downloaded once from their
public sources (yanaiela/pararel, princeton-nlp/OptiPrompt), checked against the sha256 sums in
``data/lama_sha256.json`` before they are written. Offline, loading fails at once with a message saying
where to put the files. Every directory is verified against the same sums before its files are read, once
per process and content state (size and modification time of each file): an edited or truncated file is
an error naming it, never a silent change of the facts.

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

from .files import atomic
from .tokens import single_token_ids


def _find_data_dir() -> Path:
    """``$TUTORIAL_LIB_DATA``, else the ``data/`` folder of the clone this module runs from, else the copy
    shipped inside the installed package (``tutorial_lib/_data``, see pyproject.toml)."""
    given = os.environ.get("TUTORIAL_LIB_DATA")
    if given:
        return Path(given).expanduser()
    here = Path(__file__).resolve()
    found = [d for d in (here.parents[2] / "data", here.parent / "_data") if (d / "lama_sha256.json").is_file()]
    return found[0] if found else here.parent / "_data"


DATA_DIR = _find_data_dir()
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


class LamaDataCorrupt(LamaDataMissing):
    """A LAMA file differs from its sha256 in ``data/lama_sha256.json`` (edited, truncated or replaced)."""


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
    """sha256 of every LAMA file the library reads, by path relative to the LAMA directory."""
    path = DATA_DIR / "lama_sha256.json"
    if not path.is_file():
        raise FileNotFoundError(f"no {path}: the library's data folder (mini zoo, LAMA checksums) is not there; "
                                "set TUTORIAL_LIB_DATA to a copy of the repository's data/ folder")
    return json.loads(path.read_text())


def user_cache() -> Path:
    """The library's folder in the user cache: ``$XDG_CACHE_HOME/tutorial_lib`` (``~/.cache/tutorial_lib``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tutorial_lib"


def _default_cache() -> Path:
    return user_cache() / "lama"


def _is_complete(path: Path) -> bool:
    return all((path / name).is_file() for name in checksums())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _url(name: str) -> str:
    if name.startswith("facts/"):
        return f"{PARAREL}/trex_lms_vocab/{Path(name).name}"
    if name.startswith("paraphrases/"):
        return f"{PARAREL}/pattern_data/graphs_json/{Path(name).name}"
    return ROOT_SOURCES[name]


def _download(path: Path, timeout: float = 10.0) -> None:
    """Fetch every file that is missing or differs from its checksum; each is checked before it is written
    (to a temporary file renamed into place), so the cache never holds a partial or unverified file."""
    for name, digest in checksums().items():
        target = path / name
        if target.is_file() and _sha256(target) == digest:
            continue
        url = _url(name)
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = response.read()
        got = hashlib.sha256(payload).hexdigest()
        if got != digest:
            raise LamaDataCorrupt(f"LAMA file {name} downloaded from {url} has sha256 {got}, not {digest} "
                                  f"(data/lama_sha256.json): the public file changed or the transfer was "
                                  f"corrupted; nothing was written. Put a verified copy of the LAMA files in {path}")
        with atomic(target) as tmp:
            tmp.write_bytes(payload)


_VERIFIED: set[tuple] = set()


def _state(root: Path) -> tuple:
    """(name, size, modification time) of every checksummed file: changes when a file is edited or replaced."""
    return tuple((name, st.st_size, st.st_mtime_ns) for name in sorted(checksums()) for st in [(root / name).stat()])


def verify(root: Path) -> tuple:
    """Check every LAMA file in ``root`` against ``data/lama_sha256.json`` (all 84 files, 3.6 MB: about 6 ms),
    once per process and content state (:func:`_state`, 0.5 ms); returns the state. Raises
    :class:`LamaDataCorrupt` naming the first file that differs (and its first broken JSON line, if any)."""
    state = _state(root)
    if (root, state) in _VERIFIED:
        return state
    for name, digest in checksums().items():
        got = _sha256(root / name)
        if got != digest:
            broken = ""
            if name.endswith(".jsonl"):
                try:
                    _read_jsonl(root / name)
                except ValueError as err:
                    broken = f" ({err})"
            raise LamaDataCorrupt(f"LAMA file {root / name} has sha256 {got}, not {digest} (data/lama_sha256.json)"
                                  f"{broken}: it was edited, truncated or replaced. Restore the original file "
                                  "(or delete it from the download cache to fetch it again)")
    _VERIFIED.add((root, state))
    return state


def resolve_lama_dir(path: str | os.PathLike | None = None, download: bool | None = None) -> Path:
    """The directory that holds the LAMA files: ``path``, else ``$LAMA_DIR``, else the user cache.

    A cache that is incomplete is filled by downloading (unless ``download=False`` or
    ``TUTORIAL_LIB_OFFLINE=1``); any failure raises :class:`LamaDataMissing` at once. The files are checked
    by :func:`verify` (in the cache, a file that differs is downloaded again when downloads are on).
    """
    given = path if path is not None else os.environ.get("LAMA_DIR")
    if given is not None:
        given = Path(given).expanduser()
        if _is_complete(given):
            verify(given)
            return given
        missing = [n for n in checksums() if not (given / n).is_file()]
        raise LamaDataMissing(
            f"LAMA directory {given} is incomplete ({len(missing)} files missing, e.g. {missing[0]}). "
            "Point LAMA_DIR (or the lama_dir argument) at a copy of the LAMA T-REx files "
            "(facts/P*.jsonl, paraphrases/P*.jsonl, relations.jsonl, ...), or unset it to download them.")
    cache = _default_cache()
    if download is None:
        download = os.environ.get("TUTORIAL_LIB_OFFLINE", "0") != "1"
    if _is_complete(cache):
        try:
            verify(cache)
            return cache
        except LamaDataCorrupt:
            if not download:
                raise  # else the download below replaces the files that differ
    where = (f"Put the LAMA T-REx files (facts/P*.jsonl, paraphrases/P*.jsonl, relations.jsonl, "
             f"autoprompt_relations.jsonl, common_vocab_cased*.txt) in {cache} or set LAMA_DIR to a "
             "directory that holds them.")
    if not download:
        raise LamaDataMissing(f"No local LAMA data and downloads are off. {where}")
    try:
        _download(cache)
    except LamaDataCorrupt:
        raise
    except OSError as err:  # URLError, timeouts and DNS failures are OSErrors
        raise LamaDataMissing(f"No local LAMA data and the download failed ({err}). {where}") from err
    verify(cache)
    return cache


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as err:
                    raise ValueError(f"{path}, line {number}: not valid JSON ({err})") from None
    return rows


def _loaded(lama_dir) -> dict[str, dict]:
    root = resolve_lama_dir(lama_dir)
    return _load_all(root, _state(root))


@lru_cache(maxsize=8)
def _load_all(root: Path, state: tuple) -> dict[str, dict]:
    """Every relation in ``root`` as read in content ``state`` (:func:`_state`, which keys the cache)."""
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
    return sorted(_loaded(lama_dir), key=lambda r: int(r[1:]))


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


def facts_digest(relations: dict[str, Relation]) -> str:
    """A hash of every fact of ``relations``, subject, object and uuid: it keys the cached runs made on them, so
    an edited fact never reuses a record made on the original."""
    return hashlib.sha256(repr([(f.subject, f.object, f.uuid) for r in relations.values()
                                for f in r.facts]).encode()).hexdigest()


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
    everything = _loaded(lama_dir)
    ids = list(everything) if ids is None else list(ids)
    if not ids:
        raise ValueError("no relation ids given; pass None for all 41 relations")
    unknown = [r for r in ids if r not in everything]
    if unknown:
        raise KeyError(f"unknown relation(s) {unknown}; known: {sorted(everything, key=lambda r: int(r[1:]))}")
    if max_facts is not None and max_facts < 1:
        raise ValueError(f"max_facts must be >= 1 or None, got {max_facts}")
    chosen = {r: everything[r] for r in ids}
    prefer = shared_subjects(chosen)
    out = {
        r: Relation(id=r, label=row["meta"]["label"], template=row["meta"]["template"],
                    type=row["meta"]["type"], paraphrases=row["paraphrases"],
                    autoprompt=row["autoprompt"], facts=select_facts(row["facts"], max_facts, prefer))
        for r, row in chosen.items()
    }
    untested = [r for r, rel in out.items() if not rel.split("test")]
    if untested:
        raise ValueError(f"relation(s) {untested} have no test facts among the {max_facts} kept per relation, so "
                         "their P@1 would be undefined; raise max_facts")
    return out


def common_vocab(name: str = "cased_be_ro_al", lama_dir: str | os.PathLike | None = None) -> list[str]:
    """LAMA's common vocabulary: ``"cased"`` (21,018 words) or ``"cased_be_ro_al"`` (the 17,230 words
    shared by BERT, RoBERTa and ALBERT; the anchor list of the zero-shot transfer paper)."""
    names = {"cased": "common_vocab_cased.txt", "cased_be_ro_al": "common_vocab_cased_be_ro_al.txt"}
    if name not in names:
        raise ValueError(f"unknown common vocabulary {name!r}; choose one of {list(names)}")
    text = (resolve_lama_dir(lama_dir) / names[name]).read_text(encoding="utf-8")
    return [w.strip() for w in text.splitlines() if w.strip()]


def scoring_vocabulary(tokenizers, words: list[str] | None = None,
                       lama_dir: str | os.PathLike | None = None) -> list[str]:
    """Words that are one token in every tokenizer given (:func:`tokens.single_token_ids`; LAMA's cased common
    vocabulary by default): the set the argmax at the mask is restricted to."""
    words = common_vocab("cased", lama_dir) if words is None else list(words)
    ids = [single_token_ids(t, words) for t in tokenizers]
    return [w for i, w in enumerate(words) if all(column[i] is not None for column in ids)]
