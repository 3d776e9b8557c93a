import random

import pytest

from tutorial_lib import data


def test_41_relations_with_templates(lama_dir):
    ids = data.relation_ids()
    assert len(ids) == 41 and "P19" in ids
    rels = data.load_relations(["P19", "P36"])
    assert rels["P19"].template == "[X] was born in [Y] ."
    assert len(rels["P19"].facts) == 779
    assert rels["P19"].paraphrases and rels["P19"].autoprompt


def test_relation_words_cover_all_patterns(lama_dir):
    p19 = data.load_relations(["P19"], lama_dir=lama_dir)["P19"]
    assert {"born", "originally", "from"} <= p19.words  # manual template and paraphrases
    assert set(p19.autoprompt.replace("[X]", " ").replace("[Y]", " ").lower().strip(". ").split()) <= p19.words
    assert not {"[x]", "[y]", "x", "y", "."} & p19.words


def test_split_is_a_pure_function_of_the_uuid(lama_dir):
    rel = data.load_relations(["P19"])["P19"]
    splits = {f.uuid: f.split for f in rel.facts}
    shuffled = list(rel.facts)
    random.Random(1).shuffle(shuffled)
    assert {f.uuid: data.split_of(f.uuid) for f in shuffled} == splits
    sizes = {s: len(rel.split(s)) / len(rel.facts) for s in data.SPLITS}
    for name, frac in data.SPLIT_FRACTIONS.items():
        assert abs(sizes[name] - frac) < 0.06
    assert sum(len(rel.split(s)) for s in data.SPLITS) == len(rel.facts)


def test_split_known_values():
    # fixed by the hash, so a change of the split rule shows up here
    assert [data.split_of(u) for u in ("a", "b", "c", "d")] == [data.split_of(u) for u in ("a", "b", "c", "d")]
    counts = {s: 0 for s in data.SPLITS}
    for i in range(10000):
        counts[data.split_of(f"uuid-{i}")] += 1
    assert abs(counts["train"] - 5000) < 200 and abs(counts["test"] - 4000) < 200


def test_max_facts_is_deterministic_and_prefers_shared_subjects(lama_dir):
    a = data.load_relations(["P36", "P37"], max_facts=50)
    b = data.load_relations(["P37", "P36"], max_facts=50)
    assert [f.uuid for f in a["P36"].facts] == [f.uuid for f in b["P36"].facts]
    assert len(a["P36"].facts) == 50
    shared = data.shared_subjects(a)
    assert len(shared) > 20  # countries have a capital and an official language


def test_unknown_relation_and_bad_cap(lama_dir):
    with pytest.raises(KeyError, match="P9999"):
        data.load_relations(["P9999"])
    with pytest.raises(ValueError, match="max_facts"):
        data.load_relations(["P19"], max_facts=0)
    with pytest.raises(ValueError, match="split"):
        data.load_relations(["P19"])["P19"].split("validation")


def test_cap_split_keeps_a_fixed_sample_of_one_split(lama_dir):
    rel = data.load_relations(["P19"], lama_dir, max_facts=200)["P19"]
    capped = data.cap_split(rel, "test", 10)
    assert len(capped.split("test")) == 10
    assert {f.uuid for f in capped.split("test")} <= {f.uuid for f in rel.split("test")}
    assert capped.split("train") == rel.split("train") and capped.split("dev") == rel.split("dev")
    assert data.cap_split(rel, "test", 10) == capped and data.cap_split(rel, "test", None) is rel
    assert set(map(id, data.cap_split(rel, "test", 5).split("test"))) <= set(map(id, capped.split("test")))
    assert data.cap_split(rel, "test", 10_000).facts == rel.facts
    with pytest.raises(ValueError, match="positive integer"):
        data.cap_split(rel, "test", 0)


def test_missing_directory_fails_at_once_with_where_to_put_files(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMA_DIR", str(tmp_path))
    with pytest.raises(data.LamaDataMissing, match="LAMA_DIR"):
        data.load_relations(["P19"])
    monkeypatch.delenv("LAMA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(data.LamaDataMissing, match="downloads are off"):
        data.resolve_lama_dir(download=False)


def test_download_failure_is_reported_not_hung(tmp_path, monkeypatch):
    monkeypatch.delenv("LAMA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    with pytest.raises(data.LamaDataMissing, match="download failed"):
        data.resolve_lama_dir(download=True)


def test_checksums_cover_every_file(lama_dir):
    sums = data.checksums()
    assert len([n for n in sums if n.startswith("facts/")]) == 41
    import hashlib
    from pathlib import Path
    root = Path(lama_dir)
    name = "facts/P19.jsonl"
    assert hashlib.sha256((root / name).read_bytes()).hexdigest() == sums[name]


def test_common_vocabularies(lama_dir):
    assert len(data.common_vocab("cased")) == 21018
    shared = data.common_vocab("cased_be_ro_al")
    assert len(shared) == 17230 and all(w == w.strip() for w in shared)
    with pytest.raises(ValueError, match="unknown common vocabulary"):
        data.common_vocab("uncased")


class _Vocab:
    """A whitespace tokenizer knowing a fixed word list (stands in for an HF tokenizer)."""

    def __init__(self, words):
        self.ids = {w: i for i, w in enumerate(words)}

    all_special_ids = ()

    def __len__(self):
        return len(self.ids)

    def __call__(self, texts, add_special_tokens=False):
        return {"input_ids": [[self.ids[w]] if w in self.ids else [-1, -1] for w in (t.strip() for t in texts)]}


def test_scoring_vocabulary_is_the_intersection():
    a, b = _Vocab(["Paris", "Rome", "jazz"]), _Vocab(["Paris", "jazz", "piano"])
    assert data.scoring_vocabulary([a, b], words=["Paris", "Rome", "jazz", "piano", "Oslo"]) == ["Paris", "jazz"]
