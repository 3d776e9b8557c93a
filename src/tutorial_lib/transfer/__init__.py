"""Zero-shot continuous prompt transfer: source prompts [R, m, d_s] -> target prompts [R, m, d_t].

``transfer(method, source_lms, source_prompts, target_lm, **options)`` is the one call for notebooks and
the command line; the modules hold the methods as small functions:

- :mod:`.direct`: the source vectors unchanged (same width only; paper Table 1);
- :mod:`.discretize`: nearest source words, fed to the target (baseline);
- :mod:`.projector`: an MLP trained on anchor-word pairs (baseline);
- :mod:`.relative`: relative-space search, Eqs. 3-7 (multi-source with several sources);
- :mod:`.anchors`: the shared anchor words (never fact subjects or objects).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import torch

from .. import data
from .anchors import (AnchorError, FewAnchorsWarning, anchor_embeddings, anchor_words, fact_words,
                      shared_words, single_token_ids)
from .direct import WidthMismatch, direct_transfer
from .discretize import discretize_transfer, nearest_words
from .projector import (Projector, linear_map_r2, projector_transfer, rotation_chance, same_index_correlations,
                        train_projectors)
from .relative import (embedding_stats, init_prompts, matching_loss, normalize_to_target, relative_encoding,
                       relative_transfer, topk_mask, word_translation)

METHODS = ("direct", "discretize", "projector", "relative")

__all__ = ["METHODS", "AnchorError", "FewAnchorsWarning", "Projector", "TransferResult", "WidthMismatch",
           "anchor_embeddings", "anchor_pairs", "anchor_words", "direct_transfer", "discretize_transfer",
           "embedding_stats",
           "fact_words", "init_prompts", "lama_fact_words", "linear_map_r2", "matching_loss", "nearest_words",
           "normalize_to_target", "projector_transfer", "relative_encoding", "relative_transfer", "rotation_chance",
           "same_index_correlations",
           "shared_words", "single_token_ids", "topk_mask", "train_projectors", "transfer",
           "shared_geometry", "word_translation"]


@dataclass
class TransferResult:
    """Target prompts [R, m, d_t] and what produced them (history: search/training losses; words: the
    discretized words [R][m]; anchors: the anchor words used)."""

    prompts: torch.Tensor
    method: str
    history: dict | None = None
    words: list | None = None
    anchors: list[str] | None = field(default=None, repr=False)


@lru_cache(maxsize=4)
def _lama_fact_words(lama_dir) -> frozenset[str]:
    return frozenset(fact_words(data.load_relations(lama_dir=lama_dir)))


def lama_fact_words(lama_dir=None) -> frozenset[str]:
    """Objects and subject words of all 41 LAMA T-REx relations: the default anchor exclusion."""
    return _lama_fact_words(None if lama_dir is None else str(lama_dir))


def _embeddings(lm) -> torch.Tensor:
    return lm.model.get_input_embeddings().weight.detach()


def _check_sources(source_lms, source_prompts) -> None:
    if len(source_lms) != len(source_prompts) or not source_lms:
        raise ValueError(f"give one prompt tensor per source model: {len(source_lms)} models, "
                         f"{len(source_prompts)} prompt tensors")
    for lm, p in zip(source_lms, source_prompts):
        if p.dim() != 3 or p.shape[-1] != lm.width:
            raise WidthMismatch(f"prompts of shape {list(p.shape)} do not belong to source {lm.name!r} "
                                f"(expected [R, m, {lm.width}])")


def anchor_pairs(source_lms, target_lm, n_anchors: int | None = None, exclude=None, words: list[str] | None = None,
                 lama_dir=None) -> tuple[list[str], list[torch.Tensor], torch.Tensor]:
    """The anchor words of a transfer (see :func:`transfer`) and their embeddings: ``(words, [k, d_s] per
    source, [k, d_t])``."""
    exclude = lama_fact_words(lama_dir) if exclude is None else exclude
    sources = list(source_lms) if isinstance(source_lms, (list, tuple)) else [source_lms]
    chosen = anchor_words([lm.tokenizer for lm in sources], target_lm.tokenizer, n_anchors, exclude, words, lama_dir)
    return chosen, [anchor_embeddings(lm, chosen) for lm in sources], anchor_embeddings(target_lm, chosen)


def shared_geometry(source_lm, target_lm, n_anchors: int | None = None, probe_every: int = 4, exclude=None,
                    words: list[str] | None = None, lama_dir=None) -> dict:
    """:func:`word_translation` between two models on their shared words: every ``probe_every``-th shared
    word (by frequency) is a probe, the others (at most ``n_anchors``) are the anchors. Returns
    ``{"p_at_1", "chance", "probes", "anchors", "relative_cosine", "linear_r2", "same_index_r", "same_index_mean",
    "same_index_chance"}``:
    ``relative_cosine`` is the mean
    cosine between the source relative encodings of different probe words (near 1: every word looks the same
    through the anchors, as in a strongly anisotropic embedding space); ``linear_r2`` the share of the probes'
    target embeddings that an affine map fitted on the anchors explains (:func:`linear_map_r2`); ``same_index_r``
    and ``same_index_mean`` the largest and the mean |r| between dimension i of one model and dimension i of the
    other over all shared words (:func:`same_index_correlations`: do the models share coordinates, not only
    geometry?), ``same_index_chance`` the largest for a random rotation of the source (:func:`rotation_chance`)."""
    if probe_every < 2:
        raise ValueError(f"probe_every must be >= 2 (some shared words must stay anchors), got {probe_every}")
    shared, (source_all,), target_all = anchor_pairs(source_lm, target_lm, None, exclude, words, lama_dir)
    probes = torch.arange(0, len(shared), probe_every)
    anchors = torch.tensor([i for i in range(len(shared)) if i % probe_every], dtype=torch.long)[:n_anchors]
    if len(probes) < 2 or not len(anchors):
        raise AnchorError(f"too few shared words ({len(shared)}) to split into anchors and probes")
    encodings = torch.nn.functional.normalize(relative_encoding(source_all[probes], source_all[anchors]), dim=-1)
    off_diagonal = (encodings @ encodings.T).fill_diagonal_(float("nan"))
    return {"p_at_1": word_translation(source_all[anchors], target_all[anchors], source_all[probes],
                                       target_all[probes]),
            "chance": 1 / len(probes), "probes": len(probes), "anchors": len(anchors),
            "relative_cosine": off_diagonal.nanmean().item(),
            "linear_r2": linear_map_r2(source_all[anchors], target_all[anchors], source_all[probes],
                                       target_all[probes]),
            **same_index(source_all, target_all)}


def same_index(source: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Largest and mean same-index |r| of two embedding matrices (rows the same words), and the chance level."""
    r = same_index_correlations(source, target)
    return {"same_index_r": r.max().item(), "same_index_mean": r.mean().item(),
            "same_index_chance": rotation_chance(source)}


def transfer(method: str, source_lms, source_prompts, target_lm, *, n_anchors: int | None = None,
             exclude=None, words: list[str] | None = None, lama_dir=None, device=None,
             **options) -> TransferResult:
    """Transfer ``source_prompts`` (a tensor [R, m, d_s], or a list, one per source in ``source_lms``) to
    ``target_lm`` with ``method`` in :data:`METHODS`; several sources only with ``"relative"`` (Eq. 7).

    Anchors (projector, relative) are the ``n_anchors`` most frequent shared words (None: all) outside
    ``exclude`` (default: every LAMA fact word, see :func:`lama_fact_words`; pass ``()`` to exclude
    nothing), from ``words`` (default LAMA's BERT/RoBERTa/ALBERT vocabulary). ``options`` go to the method
    (e.g. ``steps``, ``topk``, ``seed``, ``select_step``, ``callback`` for relative; ``epochs``,
    ``select_epoch`` for projector; ``avoid`` for discretize). ``device`` runs the relative search there
    (default: the target's).
    """
    sources = list(source_lms) if isinstance(source_lms, (list, tuple)) else [source_lms]
    prompts = list(source_prompts) if isinstance(source_prompts, (list, tuple)) else [source_prompts]
    _check_sources(sources, prompts)
    if method not in METHODS:
        raise ValueError(f"unknown transfer method {method!r}; choose one of {list(METHODS)}")
    if len(sources) > 1 and method != "relative":
        raise ValueError(f"method {method!r} takes one source; {len(sources)} given (only 'relative' is "
                         "multi-source)")
    if method == "direct":
        return TransferResult(direct_transfer(prompts[0], target_lm.width), method)
    tokenizers = [lm.tokenizer for lm in sources]
    if method == "discretize":
        candidates = shared_words(tokenizers + [target_lm.tokenizer], words, alphabetic=False, lama_dir=lama_dir)
        if not candidates:
            raise AnchorError(f"no word is a single token in both {sources[0].name!r} and {target_lm.name!r}")
        out, chosen = discretize_transfer(prompts[0], anchor_embeddings(sources[0], candidates),
                                          anchor_embeddings(target_lm, candidates), candidates, **options)
        return TransferResult(out, method, words=chosen)
    chosen_anchors, source_anchors, target_anchors = anchor_pairs(sources, target_lm, n_anchors, exclude, words,
                                                                  lama_dir)
    if method == "projector":
        out, history = projector_transfer(prompts[0], source_anchors[0], target_anchors, **options)
        return TransferResult(out, method, history, anchors=chosen_anchors)
    device = target_lm.device if device is None else torch.device(device)
    out, history = relative_transfer(prompts, source_anchors, target_anchors.to(device),
                                     embedding_stats(_embeddings(target_lm)), **options)
    return TransferResult(out, method, history, anchors=chosen_anchors)
