"""Shared fixtures: offline, one thread, LAMA from $LAMA_DIR (CI: ../shared/lama)."""
import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TUTORIAL_LIB_OFFLINE", "1")
_shared = Path(__file__).resolve().parents[1].parent / "shared" / "lama"
if "LAMA_DIR" not in os.environ and _shared.is_dir():
    os.environ["LAMA_DIR"] = str(_shared)
torch.set_num_threads(1)


def zoo_available(name: str) -> bool:
    from tutorial_lib.zoo import ZOO_DIR
    return (ZOO_DIR / name / "config.json").is_file()


@pytest.fixture(scope="session")
def lama_dir():
    if "LAMA_DIR" not in os.environ:
        pytest.skip("no local LAMA data (set LAMA_DIR)")
    return os.environ["LAMA_DIR"]


@pytest.fixture(scope="session")
def bert_base():
    from tutorial_lib.zoo import load_model
    if not zoo_available("mini-bert-base"):
        pytest.skip("mini-bert-base checkpoint not built")
    return load_model("mini-bert-base", device="cpu")
