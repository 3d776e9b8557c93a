import json

from tutorial_lib import previous_zoos


def test_load_and_value_in_either_order(tmp_path):
    path = tmp_path / "previous.json"
    path.write_text(json.dumps({"zoos": {"first": {"a|b": {"same_index_r": 0.35, "p_at_1": 0.01}}}}))
    zoos = previous_zoos.load(path)
    assert list(zoos) == ["first"]
    assert previous_zoos.value(zoos["first"], "a", "b", "same_index_r") == 0.35
    assert previous_zoos.value(zoos["first"], "b", "a", "p_at_1") == 0.01
    assert previous_zoos.value(zoos["first"], "a", "c", "p_at_1") is None
    assert previous_zoos.value(zoos["first"], "a", "b", "linear_r2") is None


def test_missing_file_is_no_zoos(tmp_path):
    assert previous_zoos.load(tmp_path / "absent.json") == {}


def test_shipped_file_follows_the_schema():
    for pairs in previous_zoos.load().values():
        for pair, values in pairs.items():
            assert pair.count("|") == 1 and {"p_at_1", "same_index_r", "same_index_chance"} <= set(values)
