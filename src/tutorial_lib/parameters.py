"""The chapters' papermill parameters, checked once at the top of each chapter: ``parameters.check(globals())``.

papermill passes ``-p name value`` as a number, a bool, None or a plain string, and ``-y`` / ``-f`` values as
YAML. :func:`check` validates every chapter parameter present in the namespace before any work, coerces the
forms a reader naturally types (``-p relations P19``, ``-p relations '["P19"]'``, ``-p seeds 0``) into the
lists the chapters use, writes them back, and raises :class:`ParameterError` naming the parameter, the value
and the expected form (``-p epochs two``).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

# A floor against mistakes: a handful of anchors describe a prompt vector by too few similarities to find it
# again (#18: --anchors 3 wrote prompts no better than the random start). The book uses 250 and more, the
# authors 8,192.
MIN_ANCHORS = 100


class ParameterError(ValueError):
    """A chapter parameter (or a CLI option) with a value of the wrong form."""


class _Wrong(Exception):
    """Raised by a form's parser; :func:`check` turns it into a ParameterError naming the parameter."""


def _listed(value):
    """A list from a list, a YAML / JSON list in a string, a string of words, or one scalar."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return yaml.safe_load(text)
            except yaml.YAMLError:
                raise _Wrong from None
        return [word for word in re.split(r"[,\s]+", text) if word]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _integer(low: int):
    def parse(value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise _Wrong
        return value
    return parse


def _optional(parse):
    return lambda value: None if value is None else parse(value)


def _list_of(parse, optional: bool = False):
    def parse_list(value):
        if value is None and optional:
            return None
        items = _listed(value)
        if not isinstance(items, list) or not items:
            raise _Wrong
        return [parse(item) for item in items]
    return parse_list


def _boolean(value):
    if not isinstance(value, bool):
        raise _Wrong
    return value


def _one_of(*choices):
    def parse(value):
        if value not in choices:
            raise _Wrong
        return value
    return parse


def _relation(value):
    from .data import checksums

    if not isinstance(value, str) or f"facts/{value}.jsonl" not in checksums():
        raise _Wrong
    return value


def _hub_offline() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes", "on") for v in ("HF_HUB_OFFLINE",
                                                                                   "TRANSFORMERS_OFFLINE"))


def _model(value):
    """A mini-zoo name or a model directory; a Hub id only when the Hub can be reached (transformers checks it)."""
    from .zoo import ZOO

    if not isinstance(value, str) or not value.strip():
        raise _Wrong
    if value in ZOO or Path(value).expanduser().is_dir():
        return value
    if value.startswith("mini-") or _hub_offline():
        raise _Wrong
    return value


def _models(value):
    names = _list_of(_model)(value)
    if len(set(names)) != len(names):
        raise _Wrong
    return names


def _model_group(value):
    names = _models(value)
    if len(names) < 2:
        raise _Wrong
    return names


def _text(value):
    if not isinstance(value, str):
        raise _Wrong
    return value


def _device(value):
    if value == "auto":
        return value
    check_device(value, "device")
    return value


def check_device(name: str, label: str) -> None:
    """Raise :class:`ParameterError` unless ``name`` is cpu, or a CUDA device that this machine has."""
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise ParameterError(f"{label} {name!r} is not a device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"{label} {name}: CUDA is not available on this machine; use cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ParameterError(f"{label} {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type not in ("cpu", "cuda"):
        raise ParameterError(f"{label} {name}: only cpu and cuda devices are supported")


_RELATIONS = ("a non-empty list of LAMA T-REx relation ids such as [P19, P36] (-y 'relations: [P19, P36]' or "
              "-p relations P19)")
_MODELS = "a non-empty list of distinct models (mini-zoo names, model directories or, online, Hub ids)"
# name: (parser, expected form)
FORMS = {
    "profile": (_text, "a profile name"),
    "device": (_device, "'auto', 'cpu', 'cuda' or 'cuda:N' (a device this machine has)"),
    "models": (_models, _MODELS),
    "relations": (_list_of(_relation, optional=True), f"None (the zoo's 12 relations) or {_RELATIONS}"),
    "test_facts": (_optional(_integer(1)), "None (all) or an integer >= 1"),
    "m": (_integer(1), "an integer >= 1"),
    "epochs": (_integer(1), "an integer >= 1 (e.g. -p epochs 2)"),
    "seeds": (_list_of(_integer(0)), "a non-empty list of integers >= 0 (e.g. -p seeds 0 or -y 'seeds: [0, 1]')"),
    "max_steps": (_integer(1), "an integer >= 1"),
    "n_anchors": (_optional(_integer(MIN_ANCHORS)), f"None (all shared words) or an integer >= {MIN_ANCHORS}"),
    "topk": (_optional(_integer(1)), "None (keep every entry) or an integer >= 1"),
    "projector_epochs": (_integer(1), "an integer >= 1"),
    "multi_source_pairs": (_list_of(_model_group),
                           "a non-empty list of model lists, each of at least 2 distinct models"),
    "multi_source_targets": (_list_of(_model, optional=True), f"None (every model) or {_MODELS}"),
    "multi_source_all": (_boolean, "True or False"),
    "analysis_source": (_model, "a model"),
    "analysis_target": (_model, "a model"),
    "analysis_seeds": (_list_of(_integer(0)), "a non-empty list of integers >= 0"),
    "analysis_relations": (_list_of(_relation, optional=True), f"None (all of relations) or {_RELATIONS}"),
    "trajectory_points": (_integer(2), "an integer >= 2"),
    "anchor_counts": (_list_of(_optional(_integer(1))), "a non-empty list of integers >= 1 or None (all)"),
    "prompt_lengths": (_list_of(_integer(1)), "a non-empty list of integers >= 1"),
    "panda_relations": (_list_of(_relation, optional=True), f"None (all of relations) or {_RELATIONS}"),
    "panda_target": (_relation, "a LAMA T-REx relation id such as P103"),
    "n_train": (_list_of(_integer(1)), "a non-empty list of integers >= 1"),
    "panda_grid_n": (_list_of(_integer(1), optional=True), "None (the smallest n_train) or a list of integers >= 1"),
    "panda_epochs": (_integer(1), "an integer >= 1"),
    "panda_min_steps": (_integer(1), "an integer >= 1"),
    "panda_distill": (_one_of("mse", "kl"), "'mse' or 'kl'"),
    "panda_compare_forms": (_boolean, "True or False"),
    "panda_unlabelled": (_boolean, "True or False"),
    "k_fusion": (_integer(1), "an integer >= 1"),
    "n_probe": (_integer(1), "an integer >= 1"),
}


def check(namespace: dict) -> None:
    """Validate and coerce, in place, every parameter of :data:`FORMS` present in ``namespace`` (a chapter's
    ``globals()``); the first wrong value raises :class:`ParameterError`."""
    for name, (parse, form) in FORMS.items():
        if name not in namespace:
            continue
        value = namespace[name]
        try:
            namespace[name] = parse(value)
        except ParameterError as err:
            raise ParameterError(f"parameter {name} = {value!r}: {err}") from None
        except (_Wrong, TypeError, ValueError):
            raise ParameterError(f"parameter {name} = {value!r}: expected {form}") from None
