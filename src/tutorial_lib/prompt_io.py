"""Soft prompts on disk: our safetensors prompt files and PEFT prompt-tuning adapters.

A prompt file holds one tensor ``"prompts"`` of shape [R, m, d] (R relations, m prompt vectors, width d of
the model's input embeddings) and string metadata ``{"model", "relations" (JSON list), "m", "width", ...}``.
A PEFT adapter directory (``adapter_config.json`` + ``adapter_model.safetensors`` with the tensor
``prompt_embeddings`` [m, d], as ``peft`` writes for ``PromptTuningConfig``) holds one relation.

Writes go to a temporary file first and are renamed into place, so a failed run never leaves a
half-written file over a good one. Prompts holding NaN or infinite values are refused when read and before
they are written.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .files import atomic

PEFT_CONFIG = "adapter_config.json"
PEFT_WEIGHTS = "adapter_model.safetensors"
PEFT_KEY = "prompt_embeddings"  # the key peft uses for prompt tuning (peft.utils.save_and_load)


class PromptFileError(ValueError):
    """A prompt file or adapter that is malformed or belongs to another model or width."""


@dataclass
class PromptSet:
    """Soft prompts of several relations for one model: ``vectors[r]`` is relation ``relations[r]``'s [m, d]."""

    model: str | None
    relations: list[str]
    vectors: torch.Tensor  # [R, m, d]
    meta: dict = field(default_factory=dict)

    @property
    def m(self) -> int:
        return self.vectors.shape[1]

    @property
    def width(self) -> int:
        return self.vectors.shape[2]

    def __getitem__(self, relation: str) -> torch.Tensor:
        return self.vectors[self.relations.index(relation)]

    def save(self, path) -> Path:
        return save_prompts(path, self.vectors, self.model, self.relations, **self.meta)

    @classmethod
    def load(cls, path, expect_model=None) -> "PromptSet":
        return load_prompts(path, expect_model=expect_model)


def _atomic_save(tensors: dict[str, torch.Tensor], metadata: dict[str, str], path: Path) -> None:
    with atomic(path) as tmp:
        save_file({k: v.detach().to("cpu", torch.float32).contiguous() for k, v in tensors.items()}, tmp,
                  metadata=metadata)


def _check_shape(tensor: torch.Tensor, relations) -> None:
    if tensor.dim() != 3:
        raise PromptFileError(f"prompts must have shape [R, m, d], got {list(tensor.shape)}")
    if len(relations) != tensor.shape[0]:
        raise PromptFileError(f"{len(relations)} relation ids for {tensor.shape[0]} prompts; give one id per row")


def check_finite(tensor: torch.Tensor, relations, where) -> None:
    """Refuse prompts [R, m, d] with a NaN or infinite entry (one NaN in a source prompt makes every
    vector of a relative transfer NaN), naming the relations that hold them."""
    bad = ~torch.isfinite(tensor.detach()).flatten(1).all(1)
    if bad.any():
        names = [relations[i] for i in bad.nonzero().flatten().tolist()]
        raise PromptFileError(f"{where}: the prompts of relation(s) {names} hold NaN or infinite values")


def _read_safetensors(path: Path, key: str) -> tuple[dict, torch.Tensor]:
    """The metadata and the tensor ``key`` of a safetensors file; a file that is not one is a PromptFileError."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = dict(handle.metadata() or {})
            if key not in handle.keys():
                raise PromptFileError(f"{path} has no tensor {key!r} (found {list(handle.keys())})")
            return meta, handle.get_tensor(key).float()
    except SafetensorError as err:
        raise PromptFileError(f"{path} is not a readable safetensors file (truncated or another format: {err})") \
            from None


def save_prompts(path, tensor: torch.Tensor, model: str, relations, **meta) -> Path:
    """Write prompts [R, m, d] of ``model`` for ``relations`` (extra ``meta`` stored as JSON strings)."""
    relations = list(relations)
    _check_shape(tensor, relations)
    check_finite(tensor, relations, f"not writing {path}")
    metadata = {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}
    metadata.update(model=str(model), relations=json.dumps(relations), m=str(tensor.shape[1]),
                    width=str(tensor.shape[2]))
    path = Path(path)
    _atomic_save({"prompts": tensor}, metadata, path)
    return path


def model_id(name: str) -> str:
    """One name per model: a mini-zoo model named by its directory is its zoo name, another local directory
    its resolved path, a Hub id itself (so ``mini-bert-base`` and ``data/zoo/mini-bert-base`` match)."""
    from .zoo import ZOO, ZOO_DIR

    path = Path(name).expanduser()
    if name in ZOO or not path.is_dir():
        return name
    path = path.resolve()
    return path.name if path.parent == ZOO_DIR.resolve() and path.name in ZOO else str(path)


def check_expected(path, model: str | None, width: int, expect_model, expect_width) -> None:
    """Raise :class:`PromptFileError` when prompts of ``model`` / ``width`` read from ``path`` do not belong
    to ``expect_model`` (a name or a MaskedLM) or ``expect_width``."""
    if expect_model is not None and not isinstance(expect_model, str):  # a MaskedLM
        expect_width = expect_model.width if expect_width is None else expect_width
        expect_model = expect_model.name
    if expect_model is not None and model is not None and model_id(model) != model_id(expect_model):
        raise PromptFileError(f"{path} holds prompts of model {model!r}, not of {expect_model!r}; "
                              f"pass a prompt file tuned on {expect_model!r}")
    if expect_width is not None and width != expect_width:
        raise PromptFileError(f"{path} holds prompts of width {width} but the model {expect_model or ''} has "
                              f"input embeddings of width {expect_width}")


def load_prompts(path, expect_model=None, expect_width: int | None = None) -> PromptSet:
    """Read a prompt file; ``expect_model`` (a name or a MaskedLM) and ``expect_width`` are checked."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no prompt file at {path}")
    meta, prompts = _read_safetensors(path, "prompts")
    if "model" not in meta or "relations" not in meta:
        raise PromptFileError(f"{path} lacks the 'model' / 'relations' metadata of a prompt file")
    model, relations = meta.pop("model"), json.loads(meta.pop("relations"))
    _check_shape(prompts, relations)
    check_finite(prompts, relations, path)
    check_expected(path, model, prompts.shape[-1], expect_model, expect_width)
    return PromptSet(model, relations, prompts, meta)


def is_peft_adapter(path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / PEFT_CONFIG).is_file()


def save_peft_adapter(directory, prompt: torch.Tensor, model: str, relation: str | None = None,
                      num_layers: int | None = None, num_attention_heads: int | None = None) -> Path:
    """Write one relation's prompt [m, d] (or [1, m, d]) as a PEFT prompt-tuning adapter directory
    loadable with ``peft.PeftModel.from_pretrained(base_model, directory)``."""
    if prompt.dim() == 3:
        if prompt.shape[0] != 1:
            raise PromptFileError(f"a PEFT adapter holds one relation; got prompts for {prompt.shape[0]}")
        prompt = prompt[0]
    if prompt.dim() != 2:
        raise PromptFileError(f"a PEFT prompt has shape [m, d], got {list(prompt.shape)}")
    check_finite(prompt[None], [relation], f"not writing {directory}")
    m, d = prompt.shape
    config = {
        "auto_mapping": None, "base_model_name_or_path": model, "inference_mode": True,
        "modules_to_save": None, "num_attention_heads": num_attention_heads, "num_layers": num_layers,
        "num_transformer_submodules": 1, "num_virtual_tokens": m, "peft_type": "PROMPT_TUNING",
        "prompt_tuning_init": "RANDOM", "prompt_tuning_init_text": None, "revision": None,
        "task_type": "FEATURE_EXTRACTION", "token_dim": d, "tokenizer_kwargs": None,
        "tokenizer_name_or_path": None,
    }
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta = {"format": "pt", "model": str(model)}
    if relation is not None:
        meta["relation"] = relation
    _atomic_save({PEFT_KEY: prompt}, meta, directory / PEFT_WEIGHTS)
    with atomic(directory / PEFT_CONFIG) as tmp:
        tmp.write_text(json.dumps(config, indent=2) + "\n")
    return directory


def load_peft_adapter(directory, expect_model=None, expect_width: int | None = None) -> PromptSet:
    """Read a PEFT prompt-tuning adapter as a one-relation :class:`PromptSet` ([1, m, d])."""
    directory = Path(directory)
    if not is_peft_adapter(directory):
        raise FileNotFoundError(f"no PEFT adapter at {directory} (expected {PEFT_CONFIG} and {PEFT_WEIGHTS})")
    config = json.loads((directory / PEFT_CONFIG).read_text())
    if config.get("peft_type") != "PROMPT_TUNING" or config.get("num_transformer_submodules", 1) != 1:
        raise PromptFileError(f"{directory} is a {config.get('peft_type')} adapter with "
                              f"{config.get('num_transformer_submodules')} submodules; only single-stack "
                              "PROMPT_TUNING adapters (encoder MLMs) hold one [m, d] soft prompt")
    meta, prompt = _read_safetensors(directory / PEFT_WEIGHTS, PEFT_KEY)
    model = config.get("base_model_name_or_path") or meta.get("model")
    relation = meta.get("relation", directory.name)
    check_finite(prompt[None], [relation], directory)
    check_expected(directory, model, prompt.shape[-1], expect_model, expect_width)
    return PromptSet(model, [relation], prompt[None], {"peft_config": config})


def read_any(path, expect_model=None, expect_width: int | None = None) -> PromptSet:
    """A prompt file or a PEFT adapter directory, whichever ``path`` is."""
    if Path(path).is_dir():
        return load_peft_adapter(path, expect_model, expect_width)
    return load_prompts(path, expect_model, expect_width)
