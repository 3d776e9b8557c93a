"""Tests of the command line (python -m tutorial_lib transfer) and the PEFT adapter format."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from conftest_transfer import COMMON, tiny_lm
from tutorial_lib import cli, prompt_io

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """Two tiny models saved as local directories (load_model accepts a directory)."""
    root = tmp_path_factory.mktemp("models")
    out = {}
    for family, width in (("bert", 32), ("roberta", 24)):
        lm = tiny_lm(family, width, seed=0)
        path = root / f"tiny-{family}"
        lm.model.save_pretrained(path)
        lm.tokenizer.save_pretrained(path)
        out[family] = (str(path), lm)
    return out


@pytest.fixture()
def words_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(COMMON) + "\n")
    return path


def word_prompt(lm, words):
    """A prompt [m, d] made of the input embeddings of ``words`` (a prompt that lives in the model's space)."""
    ids = torch.tensor([lm.tokenizer.encode(" " + w, add_special_tokens=False)[0] for w in words])
    return lm.model.get_input_embeddings().weight.detach()[ids].clone()


def test_peft_adapter_is_loadable_by_peft(tmp_path, model_dirs):
    from peft import PeftModel
    path, lm = model_dirs["bert"]
    prompt = torch.randn(5, 32, generator=torch.Generator().manual_seed(0))
    prompt_io.save_peft_adapter(tmp_path / "adapter", prompt, path, "P19", num_layers=1, num_attention_heads=2)
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["peft_type"] == "PROMPT_TUNING" and config["num_virtual_tokens"] == 5 and config["token_dim"] == 32
    peft_model = PeftModel.from_pretrained(tiny_lm("bert", 32, seed=0).model, tmp_path / "adapter")
    loaded = peft_model.prompt_encoder["default"].embedding.weight.detach()
    assert torch.equal(loaded, prompt)
    back = prompt_io.load_peft_adapter(tmp_path / "adapter", expect_model=lm.__class__(path, lm.model, lm.tokenizer))
    assert torch.equal(back.vectors[0], prompt) and back.relations == ["P19"]
    with pytest.raises(prompt_io.PromptFileError, match="width 32"):
        prompt_io.load_peft_adapter(tmp_path / "adapter", expect_width=24)


def test_peft_adapter_written_by_peft_is_readable(tmp_path, model_dirs):
    from peft import PromptTuningConfig, get_peft_model
    peft_model = get_peft_model(tiny_lm("bert", 32, seed=0).model,
                                PromptTuningConfig(task_type="FEATURE_EXTRACTION", num_virtual_tokens=4))
    peft_model.save_pretrained(tmp_path / "from_peft")
    back = prompt_io.load_peft_adapter(tmp_path / "from_peft")
    assert back.vectors.shape == (1, 4, 32)
    assert torch.equal(back.vectors[0], peft_model.prompt_encoder["default"].embedding.weight.detach())


def test_cli_round_trips_a_peft_adapter_direct(tmp_path, model_dirs):
    path, lm = model_dirs["bert"]
    prompt = word_prompt(lm, ["city", "river", "music", "school", "water"])
    prompt_io.save_peft_adapter(tmp_path / "in", prompt, path, "P36")
    rc = cli.main(["transfer", "--source", path, "--target", path, "--prompt", str(tmp_path / "in"),
                   "--method", "direct", "--out", str(tmp_path / "out"), "--peft"])
    assert rc == 0
    back = prompt_io.load_peft_adapter(tmp_path / "out", expect_model=path)
    assert torch.equal(back.vectors[0], prompt) and back.relations == ["P36"]


def test_cli_relative_onto_the_same_model_via_peft(tmp_path, model_dirs, words_file):
    path, lm = model_dirs["bert"]
    prompt = word_prompt(lm, ["city", "river", "music", "school", "water"])
    prompt_io.save_peft_adapter(tmp_path / "in", prompt, path, "P36")
    rc = cli.main(["transfer", "--source", path, "--target", path, "--prompt", str(tmp_path / "in"),
                   "--method", "relative", "--out", str(tmp_path / "out"), "--peft", "--steps", "300",
                   "--lr", "0.05", "--anchor-words", str(words_file), "--keep-fact-words", "--device", "cpu"])
    assert rc == 0
    back = prompt_io.load_peft_adapter(tmp_path / "out", expect_model=path)
    assert back.vectors.shape == (1, 5, 32)
    assert F.cosine_similarity(back.vectors[0], prompt, dim=-1).mean() > 0.8


def test_cli_prompt_files_multi_source_across_widths(tmp_path, model_dirs, words_file):
    bert, lm = model_dirs["bert"]
    roberta, _ = model_dirs["roberta"]
    prompts = torch.stack([word_prompt(lm, ["city", "river", "music"]), word_prompt(lm, ["king", "house", "world"])])
    src = prompt_io.save_prompts(tmp_path / "bert.safetensors", prompts, bert, ["P19", "P20"])
    out = tmp_path / "roberta.safetensors"
    rc = cli.main(["transfer", "--source", bert, "--source", bert, "--target", roberta, "--prompt", str(src),
                   "--prompt", str(src), "--out", str(out), "--steps", "10", "--anchor-words", str(words_file),
                   "--keep-fact-words", "--device", "cpu"])
    assert rc == 0
    back = prompt_io.load_prompts(out, expect_model=roberta, expect_width=24)
    assert back.vectors.shape == (2, 3, 24) and back.relations == ["P19", "P20"]
    assert back.meta["method"] == "relative" and json.loads(back.meta["sources"]) == [bert, bert]


def test_cli_errors_are_clear_and_write_nothing(tmp_path, model_dirs, words_file, capsys):
    bert, lm = model_dirs["bert"]
    roberta, _ = model_dirs["roberta"]
    prompts = torch.randn(2, 3, 32)
    src = prompt_io.save_prompts(tmp_path / "bert.safetensors", prompts, bert, ["P19", "P20"])
    out = tmp_path / "out.safetensors"
    common = ["--anchor-words", str(words_file), "--keep-fact-words", "--device", "cpu", "--steps", "2"]
    assert cli.main(["transfer", "--source", roberta, "--target", bert, "--prompt", str(src), "--out", str(out),
                     *common]) == 2
    assert "holds prompts of model" in capsys.readouterr().err
    assert cli.main(["transfer", "--source", bert, "--source", bert, "--target", bert, "--prompt", str(src),
                     "--out", str(out), *common]) == 2
    assert "one --prompt per --source" in capsys.readouterr().err
    assert cli.main(["transfer", "--source", bert, "--target", roberta, "--prompt", str(src), "--method", "direct",
                     "--out", str(out), *common]) == 2
    assert "width 32" in capsys.readouterr().err
    assert cli.main(["transfer", "--source", bert, "--target", bert, "--prompt", str(src), "--peft",
                     "--out", str(tmp_path / "adapter"), *common]) == 2
    assert "one relation" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "adapter").exists()


def test_python_dash_m_entry_point():
    done = subprocess.run([sys.executable, "-m", "tutorial_lib", "transfer", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "--prompt" in done.stdout and "--peft" in done.stdout
