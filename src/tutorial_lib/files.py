"""Atomic writes: a file or folder is written under a temporary name beside its target and renamed onto it,
so it appears complete or not at all. The result gets the mode a plain ``open`` / ``mkdir`` gives under the
process's umask (``tempfile`` creates 0600 files and 0700 folders, and so does safetensors' ``save_file``)."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


def default_mode(folder: bool) -> int:
    """0666 (files) or 0777 (folders) less the current umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return (0o777 if folder else 0o666) & ~mask


@contextmanager
def atomic(path: str | os.PathLike, folder: bool = False):
    """Yield a temporary path beside ``path`` (a new empty folder when ``folder``); when the block succeeds,
    replace ``path`` by it; when it raises, delete it and leave ``path`` as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if folder:
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".tmp-{path.name}."))
    else:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        for made in [tmp, *(tmp.rglob("*") if folder else ())]:
            os.chmod(made, default_mode(made.is_dir()))
        if folder and path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if folder:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
