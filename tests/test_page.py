"""Book pages: numbered MyST tables with "–" for missing numbers; warnings without file paths; no bars."""
import warnings

import pandas as pd
import pytest

from tutorial_lib import page, progress


def test_markdown_table_is_a_named_myst_table_with_dashes():
    df = pd.DataFrame({("tuned", "ours"): [51.234, float("nan")], ("tuned", "paper"): [None, "48.2"]},
                      index=pd.Index(["bert", "a|b"], name="model"))
    text = page.markdown_table(df, "Mean P@1 (%).", "tbl-ch1-x", floatfmt=".1f")
    lines = text.splitlines()
    assert lines[0] == ":::{table} Mean P@1 (%)." and lines[1] == ":name: tbl-ch1-x"
    assert lines[3] == "| model | tuned / ours | tuned / paper |"
    assert lines[5] == "| bert | 51.2 | – |"
    assert lines[6] == "| a\\|b | – | 48.2 |"
    assert lines[-1] == ":::"


def test_unnamed_index_and_bad_name():
    text = page.markdown_table(pd.DataFrame({"|r|": [1]}, index=["r"]), "c", "tbl-a")
    assert "|  | \\|r\\| |" in text and "| r | 1 |" in text
    with pytest.raises(ValueError):
        page.markdown_table(pd.DataFrame({"x": [1]}), "c", "fig-a")


def test_dash():
    assert page.dash(None) == page.dash(float("nan")) == "–"
    assert page.dash(0.5, ".2f") == "0.50"


def test_setup_silences_bars_and_paths(monkeypatch):
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)
    monkeypatch.setattr(progress, "ENABLED", True)
    import transformers
    page.setup()
    try:
        assert not progress.ENABLED
        assert progress.tqdm(range(3), disable=False).disable
        assert not transformers.utils.logging.is_progress_bar_enabled()
        text = warnings.formatwarning("few anchors", UserWarning, "/home/someone/x.py", 12)
        assert text == "UserWarning: few anchors\n"
    finally:
        transformers.utils.logging.enable_progress_bar()


def test_glue_turns_numpy_scalars_into_numbers(monkeypatch):
    import numpy as np
    import torch
    import myst_nb

    kept = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: kept.update({name: (value, display)}))
    page.glue("a", np.float64(1.5))
    page.glue("b", torch.tensor(2.0))
    page.glue("c", "holds")
    assert kept == {"a": (1.5, False), "b": (2.0, False), "c": ("holds", False)}
    assert type(kept["a"][0]) is float
    from IPython.core.formatters import format_display_data
    assert format_display_data(kept["c"][0])[0]["text/plain"] == "holds"  # no quotes on the page
