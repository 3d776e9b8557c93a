"""The library's progress bars: tqdm, unless a book page switched them off (``page.setup``)."""
from __future__ import annotations

from tqdm.auto import tqdm as _tqdm

ENABLED = True  # page.setup(progress=False) sets this to False: no bars on a rendered page


def tqdm(*args, **kwargs):
    """``tqdm.auto.tqdm`` with ``disable`` forced on while progress bars are switched off."""
    kwargs["disable"] = kwargs.get("disable", False) or not ENABLED
    return _tqdm(*args, **kwargs)
