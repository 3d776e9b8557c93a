"""Tests of the command line (python -m tutorial_lib transfer) and the PEFT adapter format."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from tiny_models import COMMON, tiny_lm
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


# ---------------------------------------------------------------- bad inputs fail first, in one line (issue #18)

@pytest.fixture()
def no_model_loading(monkeypatch):
    """Fail the test if the CLI loads a model: these errors must come before any model is loaded."""
    from tutorial_lib import zoo
    monkeypatch.setattr(zoo, "load_model", lambda *a, **k: pytest.fail("a model was loaded before the check"))


@pytest.fixture()
def prompt_file(tmp_path):
    return prompt_io.save_prompts(tmp_path / "in.safetensors", torch.randn(1, 3, 32), "tiny", ["P19"])


def one_line_error(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines()
             if line.strip() and not line.startswith("Loading weights")]  # transformers' progress bars
    assert len(lines) == 1 and lines[0].startswith("tutorial_lib transfer: error: "), lines
    return lines[0]


def run_cli(prompt, out, *extra):
    return cli.main(["transfer", "--source", "a", "--target", "b", "--prompt", str(prompt), "--out", str(out),
                     *extra])


@pytest.mark.parametrize("option, value", [("--steps", "0"), ("--steps", "-5"), ("--anchors", "3"),
                                           ("--epochs", "0"), ("--hidden", "0"), ("--topk", "-1"),
                                           ("--lr", "0"), ("--lr", "nan"), ("--seed", "-1")])
def test_degenerate_options_are_rejected_first(tmp_path, prompt_file, no_model_loading, capsys, option, value):
    assert run_cli(prompt_file, tmp_path / "out.safetensors", option, value) == 2
    assert option in one_line_error(capsys)
    assert not (tmp_path / "out.safetensors").exists()


def test_output_paths_are_checked_first(tmp_path, prompt_file, no_model_loading, capsys):
    (tmp_path / "a_dir").mkdir()
    assert run_cli(prompt_file, tmp_path / "a_dir") == 2
    assert "is a directory" in one_line_error(capsys)
    assert run_cli(prompt_file, prompt_file, "--peft") == 2
    assert "existing file" in one_line_error(capsys)
    assert run_cli(prompt_file, "/proc/tutorial-lib-test/out.safetensors") == 2  # read-only even for root
    assert "cannot write in /proc" in one_line_error(capsys)


@pytest.mark.parametrize("damage", ["truncated", "text", "nan"])
def test_bad_prompt_files_are_one_line_before_any_model(tmp_path, prompt_file, no_model_loading, capsys, damage):
    if damage == "truncated":
        prompt_file.write_bytes(prompt_file.read_bytes()[:60])
    elif damage == "text":
        prompt_file.write_text("P19: [0.1, 0.2]\n")
    else:
        vectors = torch.randn(2, 3, 32)
        vectors[1, 2, 5] = float("nan")
        prompt_io._atomic_save({"prompts": vectors}, {"model": "tiny", "relations": '["P19", "P36"]'}, prompt_file)
    assert run_cli(prompt_file, tmp_path / "out.safetensors") == 2
    err = one_line_error(capsys)
    assert ("['P36']" in err and "NaN" in err) if damage == "nan" else "not a readable safetensors file" in err


def test_non_finite_prompts_are_never_written(tmp_path):
    vectors = torch.randn(1, 3, 32)
    vectors[0, 0, 0] = float("inf")
    with pytest.raises(prompt_io.PromptFileError, match=r"\['P19'\] hold NaN or infinite"):
        prompt_io.save_prompts(tmp_path / "p.safetensors", vectors, "tiny", ["P19"])
    with pytest.raises(prompt_io.PromptFileError, match="NaN or infinite"):
        prompt_io.save_peft_adapter(tmp_path / "adapter", vectors[0], "tiny", "P19")
    assert list(tmp_path.iterdir()) == []


def test_cuda_without_cuda_is_one_line_before_any_model(tmp_path, prompt_file, no_model_loading, capsys,
                                                        monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert run_cli(prompt_file, tmp_path / "out.safetensors", "--device", "cuda", "--method", "direct") == 2
    assert "CUDA is not available" in one_line_error(capsys)
    assert run_cli(prompt_file, tmp_path / "out.safetensors", "--device", "gpu0", "--method", "direct") == 2
    assert "not a device" in one_line_error(capsys)


def test_an_unexpected_error_is_one_line_too(tmp_path, model_dirs, capsys, monkeypatch):
    import tutorial_lib.transfer

    bert, lm = model_dirs["bert"]
    src = prompt_io.save_prompts(tmp_path / "p.safetensors", torch.randn(1, 3, 32), bert, ["P19"])

    def boom(*args, **kwargs):
        raise RuntimeError("deep inside\nthe search")

    monkeypatch.setattr(tutorial_lib.transfer, "transfer", boom)
    assert cli.main(["transfer", "--source", bert, "--target", bert, "--prompt", str(src), "--method", "direct",
                     "--out", str(tmp_path / "out.safetensors"), "--device", "cpu"]) == 2
    assert one_line_error(capsys).endswith("RuntimeError: deep inside the search")


def test_a_zoo_model_named_by_path_is_the_same_model(tmp_path):
    from tutorial_lib.zoo import ZOO_DIR

    if not (ZOO_DIR / "mini-bert-base").is_dir():
        pytest.skip("no mini zoo")
    path = prompt_io.save_prompts(tmp_path / "p.safetensors", torch.randn(1, 3, 192), "mini-bert-base", ["P19"])
    for name in (str(ZOO_DIR / "mini-bert-base"), str(ZOO_DIR / "mini-bert-base") + "/", "mini-bert-base"):
        assert prompt_io.load_prompts(path, expect_model=name).model == "mini-bert-base"
    with pytest.raises(prompt_io.PromptFileError, match="holds prompts of model"):
        prompt_io.load_prompts(path, expect_model=str(ZOO_DIR / "mini-roberta-base"))


def test_prompt_files_get_the_modes_of_the_umask(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = prompt_io.save_prompts(tmp_path / "p.safetensors", torch.randn(1, 3, 8), "tiny", ["P19"])
        adapter = prompt_io.save_peft_adapter(tmp_path / "adapter", torch.randn(3, 8), "tiny", "P19")
    finally:
        os.umask(old)
    for made in (path, adapter / prompt_io.PEFT_WEIGHTS, adapter / prompt_io.PEFT_CONFIG):
        assert stat.S_IMODE(made.stat().st_mode) == 0o644, made
