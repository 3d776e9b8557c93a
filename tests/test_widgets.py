"""The chapter-4 explorer builds, and its update callback runs, without a display (tiny world)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from tiny_world import TINY_OPTIONS, tiny_world  # noqa: E402
from tutorial_lib import widgets  # noqa: E402
from tutorial_lib.results import RunStore  # noqa: E402

torch.set_num_threads(1)
SEARCH = {"steps": 5, "topk": None, **TINY_OPTIONS}


@pytest.fixture(scope="module")
def world():
    return tiny_world()


def test_explorer_builds_and_updates(world, tmp_path):
    explorer = widgets.TransferExplorer(world, seed=0, m=2, epochs=1, anchor_counts=(8, 16), store=RunStore(tmp_path),
                                        **SEARCH)
    view = explorer.view
    assert view.relation == "P19" and view.source == "tiny-a" and view.target == "tiny-b" and view.n_anchors == 16
    assert len(view.source_nearest) == 2 and len(view.target_nearest[0]) == 5
    assert "P19" in explorer.table.value and "tiny-b" in explorer.table.value
    # every control triggers the callback through its observer
    explorer.relation.value = "P36"
    assert explorer.view.relation == "P36" and "P36" in explorer.table.value
    explorer.anchors.value = 8
    assert explorer.view.n_anchors == 8
    assert all(w in TINY_OPTIONS["words"] for row in explorer.view.target_nearest for w, _ in row)
    explorer.target.value = "tiny-a"  # self-transfer
    assert explorer.view.target == "tiny-a" and 0 <= explorer.view.accuracy <= 1
    assert all(0 <= k <= 5 for k in explorer.view.overlap)
    assert explorer.widget.children  # a displayable box


def test_explorer_view_errors_and_drawing(world, tmp_path):
    store = RunStore(tmp_path)
    with pytest.raises(ValueError, match="P999"):
        widgets.explorer_view(world, "P999", "tiny-a", "tiny-b", 8, m=2, epochs=1, store=store, **SEARCH)
    with pytest.raises(ValueError, match="nope"):
        widgets.explorer_view(world, "P19", "nope", "tiny-b", 8, m=2, epochs=1, store=store, **SEARCH)
    view = widgets.explorer_view(world, "P20", "tiny-a", "tiny-b", 8, m=2, epochs=1, k=3, store=store, **SEARCH)
    fig = widgets.draw_explorer(view)
    assert len(fig.axes) >= 2 and "P20" in fig._suptitle.get_text()
    assert "<table>" in widgets.view_html(view)


def test_explorer_shows_errors_in_the_widget(world, tmp_path, monkeypatch):
    explorer = widgets.TransferExplorer(world, seed=0, m=2, epochs=1, anchor_counts=(8,), store=RunStore(tmp_path),
                                        **SEARCH)

    def broken(*args, **kwargs):
        raise RuntimeError("search diverged")

    monkeypatch.setattr(widgets, "explorer_view", broken)
    explorer.relation.value = "P20"  # a callback must not raise into the frontend
    assert "search diverged" in explorer.status.value
