"""The LAMA files are verified against data/lama_sha256.json before they are read (issue #18), and the
download writes only verified, complete files (issue #14: a local HTTP server stands in for GitHub)."""
from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from tutorial_lib import data
from tutorial_lib.experiments import World


@pytest.fixture()
def lama_copy(tmp_path, lama_dir):
    """A private copy of the checksummed LAMA files (3.6 MB)."""
    root = tmp_path / "lama"
    for name in data.checksums():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(lama_dir) / name, root / name)
    return root


def test_a_truncated_facts_file_is_an_error_naming_it(lama_copy):
    assert len(data.load_relations(["P19"], lama_copy)["P19"].facts) == 779
    path = lama_copy / "facts" / "P19.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:300]))
    with pytest.raises(data.LamaDataCorrupt, match=r"facts/P19\.jsonl has sha256 [0-9a-f]{64}, not "
                       + data.checksums()["facts/P19.jsonl"]):
        data.load_relations(["P19"], lama_copy)


def test_edited_objects_are_an_error(lama_copy):
    path = lama_copy / "facts" / "P19.jsonl"
    path.write_text(path.read_text().replace('"obj_label": "', '"obj_label": "X'))
    with pytest.raises(data.LamaDataCorrupt, match="P19.jsonl"):
        data.relation_ids(lama_copy)


def test_a_broken_json_line_is_named_by_file_and_line(lama_copy):
    path = lama_copy / "facts" / "P36.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[4] = lines[4][:20] + "\n"
    path.write_text("".join(lines))
    with pytest.raises(data.LamaDataCorrupt, match=r"P36\.jsonl, line 5: not valid JSON"):
        data.load_relations(["P36"], lama_copy)
    with pytest.raises(ValueError, match=r"P36\.jsonl, line 5: not valid JSON"):
        data._read_jsonl(path)


def test_files_are_hashed_once_per_content_state(lama_copy, monkeypatch):
    hashed = []
    real = data._sha256
    monkeypatch.setattr(data, "_sha256", lambda path: hashed.append(path) or real(path))
    data.load_relations(["P19"], lama_copy)
    assert len(hashed) == len(data.checksums())
    data.load_relations(["P36"], lama_copy)
    data.common_vocab("cased", lama_copy)
    assert len(hashed) == len(data.checksums()), "an unchanged directory was hashed again"
    path = lama_copy / "facts" / "P19.jsonl"
    path.write_text(path.read_text().replace('"obj_label": "', '"obj_label": "X', 1))
    with pytest.raises(data.LamaDataCorrupt, match="P19.jsonl"):
        data.load_relations(["P36"], lama_copy)


def test_the_facts_digest_hashes_subjects_and_objects():
    """A store filled from the original facts served their P@1 for edited ones (the digest hashed uuids only)."""
    def world(obj):
        facts = (data.Fact("P19", "Dante", obj, "u1"),)
        return World({}, {"P19": data.Relation("P19", "place of birth", "[X] was born in [Y] .", "N-1", (), None,
                                               facts)}, [])

    assert world("Florence").facts_digest != world("Rome").facts_digest
    assert world("Florence").facts_digest == world("Florence").facts_digest


def test_no_relations_and_no_test_facts_are_errors(lama_dir):
    with pytest.raises(ValueError, match="no relation ids"):
        data.load_relations([])
    # one fact kept: for P19 it is not a test fact, so its P@1 would be NaN (and silently left out of a mean)
    full = data.load_relations(["P19"])["P19"]
    assert data.select_facts(full.facts, 1)[0].split != "test"
    with pytest.raises(ValueError, match=r"\['P19'\] have no test facts"):
        data.load_relations(["P19"], max_facts=1)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture()
def server(tmp_path, lama_copy, monkeypatch):
    """The LAMA files served over HTTP on localhost; downloads go to a fresh user cache."""
    served = tmp_path / "served"
    shutil.copytree(lama_copy, served)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(data, "_url", lambda name: f"http://127.0.0.1:{httpd.server_port}/{name}")
    monkeypatch.delenv("LAMA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield served
    httpd.shutdown()
    thread.join()


def test_download_from_a_server_with_a_corrupted_file(server, tmp_path):
    good = (server / "facts" / "P36.jsonl").read_bytes()
    (server / "facts" / "P36.jsonl").write_bytes(good[:-100] + b"x" * 100)
    cache = tmp_path / "cache" / "tutorial_lib" / "lama"
    with pytest.raises(data.LamaDataCorrupt, match=r"facts/P36\.jsonl downloaded from http://127\.0\.0\.1:\d+/"
                       r"facts/P36\.jsonl has sha256 [0-9a-f]{64}, not " + data.checksums()["facts/P36.jsonl"]):
        data.resolve_lama_dir(download=True)
    assert not (cache / "facts" / "P36.jsonl").exists()
    assert not [p for p in cache.rglob("*") if p.name.startswith(".")], "a temporary file was left in the cache"
    written = [p for p in cache.rglob("*") if p.is_file()]
    assert written and all(data._sha256(p) == data.checksums()[p.relative_to(cache).as_posix()] for p in written)

    (server / "facts" / "P36.jsonl").write_bytes(good)  # the server is fixed: the next run completes the cache
    assert data.resolve_lama_dir(download=True) == cache
    assert len(data.load_relations(["P36"])["P36"].facts) == len(data.load_relations(["P36"], server)["P36"].facts)
    # a file of the cache damaged later is fetched again, not served
    (cache / "facts" / "P19.jsonl").write_text("{}\n")
    assert data.resolve_lama_dir(download=True) == cache
    assert data._sha256(cache / "facts" / "P19.jsonl") == data.checksums()["facts/P19.jsonl"]
    with pytest.raises(data.LamaDataCorrupt, match="P19.jsonl"):
        (cache / "facts" / "P19.jsonl").write_text("{}\n")
        data.resolve_lama_dir(download=False)


def test_a_missing_data_folder_names_tutorial_lib_data(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DATA_DIR", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="TUTORIAL_LIB_DATA"):
        data.checksums()
