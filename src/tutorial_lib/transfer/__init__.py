"""Zero-shot continuous prompt transfer: source prompts [R, m, d_s] -> target prompts [R, m, d_t].

``transfer(method, source_lms, source_prompts, target_lm, **options)`` is the one call for notebooks and
the command line; the modules hold the methods as small functions:

- :mod:`.direct`: the source vectors unchanged (same width only; paper Table 1);
- :mod:`.discretize`: nearest source words, fed to the target (baseline);
- :mod:`.projector`: an MLP trained on anchor-word pairs (baseline);
- :mod:`.relative`: relative-space search, Eqs. 3-7 (multi-source with several sources).

The shared anchor words (:mod:`tutorial_lib.anchors`, never fact subjects or objects) and the measures of shared
word geometry with Eq. 3 (:mod:`tutorial_lib.geometry`) live below the zoo, which uses them too; they are
re-exported here so that one import serves a chapter.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..anchors import (AnchorError, FewAnchorsWarning, anchor_embeddings, anchor_pairs, anchor_words, fact_words,
                       lama_fact_words, shared_words)
from ..geometry import (linear_map_r2, relative_encoding, rotation_chance, same_index, same_index_correlations,
                        shared_geometry, word_translation)
from .direct import WidthMismatch, direct_transfer
from .discretize import discretize_transfer, nearest_words
from .projector import Projector, projector_transfer, train_projectors
from .relative import (embedding_stats, init_prompts, matching_loss, normalize_to_target, relative_transfer,
                       search_one, topk_mask)

METHODS = ("direct", "discretize", "projector", "relative")

__all__ = ["METHODS", "AnchorError", "FewAnchorsWarning", "Projector", "TransferResult", "WidthMismatch",
           "anchor_embeddings", "anchor_pairs", "anchor_words", "direct_transfer", "discretize_transfer",
           "embedding_stats",
           "fact_words", "init_prompts", "lama_fact_words", "linear_map_r2", "matching_loss", "nearest_words",
           "normalize_to_target", "projector_transfer", "relative_encoding", "relative_transfer", "rotation_chance",
           "same_index", "same_index_correlations", "search_one",
           "shared_words", "topk_mask", "train_projectors", "transfer",
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
