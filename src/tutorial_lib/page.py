"""What every book page does first, and its numbered tables.

``glue()``: a number, string or figure kept for ``{glue:text}`` / ``{glue:figure}`` in the page's Markdown.
``setup()``: the book's figure style, no progress bars (transformers' "Loading weights" and the library's),
transformers' logging at errors only, and warnings printed as ``Category: message`` without the file path of
the machine that ran the page. ``table()``: a pandas table as a MyST ``{table}`` with a caption and a name,
numbered by Jupyter Book (needs ``nb_render_markdown_format: myst``), missing numbers shown as "–".
"""
from __future__ import annotations

import math
import warnings

import pandas as pd

DASH = "–"


def _short_warning(message, category, filename, lineno, line=None) -> str:
    return f"{category.__name__}: {message}\n"


def setup(progress: bool = False) -> None:
    """Call once at the top of a page; ``progress=True`` keeps progress bars (interactive use)."""
    import transformers

    from . import plots
    from . import progress as bars

    plots.use_book_style()
    bars.ENABLED = progress
    transformers.utils.logging.set_verbosity_error()
    if progress:
        transformers.utils.logging.enable_progress_bar()
    else:
        transformers.utils.logging.disable_progress_bar()
    warnings.formatwarning = _short_warning


def glue(name: str, value) -> None:
    """``myst_nb.glue(name, value, display=False)`` with numpy/torch scalars turned into Python numbers, whose
    text (``np.float64(1.5)`` otherwise) ``{glue:text}`` can format."""
    from myst_nb import glue as myst_glue

    if hasattr(value, "item") and getattr(value, "ndim", None) == 0 or type(value).__module__ == "numpy":
        value = value.item()
    myst_glue(name, Text(value) if isinstance(value, str) else value, display=False)


class Text(str):
    """A str whose text/plain is itself, not its repr: {glue:text} pastes ``holds``, not ``'holds'``."""

    def __repr__(self) -> str:
        return str(self)


def dash(value, fmt: str = "") -> str:
    """``value`` formatted with ``fmt``, or "–" when it is missing (None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    return format(value, fmt)


def _cell(value, floatfmt: str) -> str:
    text = value if isinstance(value, str) else dash(value, floatfmt if isinstance(value, float) else "")
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(df: pd.DataFrame, caption: str, name: str, index: bool = True, floatfmt: str = "") -> str:
    """MyST source of ``df`` as a captioned, named ``{table}``; multi-level labels are joined with " / "."""
    if not name.startswith("tbl-"):
        raise ValueError(f"table names start with 'tbl-' (got {name!r})")
    frame = df.rename_axis(index=[n or "" for n in df.index.names]).reset_index() if index else df
    header = [_cell(" / ".join(str(p) for p in c if p != "") if isinstance(c, tuple) else str(c), "")
              for c in frame.columns]
    rows = [[_cell(v, floatfmt) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return f":::{{table}} {caption}\n:name: {name}\n\n" + "\n".join(lines) + "\n:::\n"


def table(df: pd.DataFrame, caption: str, name: str, index: bool = True, floatfmt: str = "") -> None:
    """Display ``df`` as a numbered table with ``caption`` (Markdown); refer to it with {numref}`name`."""
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(df, caption, name, index, floatfmt)))
