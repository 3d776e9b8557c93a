"""Anchor words: the shared vocabulary that relative-space transfer (and the projector) measures prompts against,
and that :mod:`geometry` compares two models' embedding spaces on.

The paper (relative-space transfer, step 1) uses LAMA's BERT / RoBERTa / ALBERT common vocabulary
(17,230 words) and keeps the words that are one token in both models. We add two rules from probe runs on
the mini zoo: anchors are alphabetic common words ranked by frequency (rare words keep
embeddings close to their random initialisation), and never words of the facts themselves (subjects and
objects shared by construction would leak answers rather than measure geometry).
"""
from __future__ import annotations

import string
import warnings
from functools import lru_cache

import torch

from . import data
from .tokens import single_token_ids


class AnchorError(ValueError):
    """No usable anchor words for a pair (or set) of models."""


class FewAnchorsWarning(UserWarning):
    """Fewer anchor words exist than were requested; the available ones are used."""


def _name(tokenizer) -> str:
    return str(getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__)


def _as_list(x) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def fact_words(relations) -> set[str]:
    """All object labels and the capitalised whitespace tokens of subject labels (names such as "Dante",
    also with punctuation stripped) of ``relations`` (a dict of :class:`data.Relation`, or an iterable of
    them or of facts). Lower-case words of subject labels ("of", "river") stay available as anchors."""
    items = relations.values() if isinstance(relations, dict) else relations
    facts = [f for r in items for f in (r.facts if hasattr(r, "facts") else [r])]
    words = {f.object for f in facts}
    for f in facts:
        for token in f.subject.split():
            if token[:1].isupper():
                words.update({token, token.strip(string.punctuation)})
    words.discard("")
    return words


def _is_word(w: str) -> bool:
    """Alphabetic and at least two letters: single letters are the tokenizers' alphabet, whose ids follow
    the alphabet rather than frequency (they would head every frequency-ranked list)."""
    return w.isalpha() and len(w) > 1


def shared_words(tokenizers, words: list[str] | None = None, exclude=(), alphabetic: bool = True,
                 lama_dir=None) -> list[str]:
    """Words (LAMA's ``cased_be_ro_al`` list by default) that are one token in every tokenizer, not in
    ``exclude``, alphabetic with two or more letters if asked, ordered by frequency rank proxied by the
    largest of their token ids (BPE and WordPiece trainers give frequent words low ids)."""
    words = data.common_vocab("cased_be_ro_al", lama_dir) if words is None else list(words)
    exclude = set(exclude)
    words = [w for w in dict.fromkeys(words) if w not in exclude and (not alphabetic or _is_word(w))]
    ids = [single_token_ids(t, words) for t in _as_list(tokenizers)]
    ranked = [(max(col), w) for w, col in zip(words, zip(*ids)) if None not in col]
    return [w for _, w in sorted(ranked)]


def anchor_words(source_tok, target_tok, k: int | None, exclude=(), words: list[str] | None = None,
                 lama_dir=None) -> list[str]:
    """The ``k`` most frequent anchor words shared by the source tokenizer(s) and the target (paper,
    relative space step 1; ``k=None``: all). ``source_tok`` may be a list (multi-source, Eq. 7): the
    anchors are then shared by every model. Warns and returns fewer when fewer exist; raises
    :class:`AnchorError` when none exist."""
    if k is not None and k < 1:
        raise AnchorError(f"the number of anchors must be positive or None (all), got {k}")
    tokenizers = _as_list(source_tok) + [target_tok]
    found = shared_words(tokenizers, words, exclude, lama_dir=lama_dir)
    names = ", ".join(_name(t) for t in tokenizers)
    if not found:
        raise AnchorError(f"no anchor words: none of the candidate words is a single alphabetic token in all "
                          f"of [{names}] outside the {len(set(exclude))} excluded fact words; check the "
                          "tokenizers or pass a larger word list")
    if k is not None and len(found) < k:
        warnings.warn(f"asked for {k} anchors but only {len(found)} words are shared by [{names}]; "
                      f"using {len(found)}", FewAnchorsWarning, stacklevel=2)
    return found if k is None else found[:k]


def anchor_embeddings(lm, words: list[str]) -> torch.Tensor:
    """Input-embedding rows [k, d] of ``words`` in ``lm`` (a MaskedLM), detached float32."""
    ids = single_token_ids(lm.tokenizer, list(words))
    bad = [w for w, i in zip(words, ids) if i is None]
    if bad:
        raise AnchorError(f"{len(bad)} anchor words are not single tokens of {lm.name!r}, e.g. {bad[:5]}")
    weight = lm.model.get_input_embeddings().weight
    return weight.detach()[torch.tensor(ids, device=weight.device)].float().cpu()


@lru_cache(maxsize=4)
def _lama_fact_words(lama_dir) -> frozenset[str]:
    return frozenset(fact_words(data.load_relations(lama_dir=lama_dir)))


def lama_fact_words(lama_dir=None) -> frozenset[str]:
    """Objects and subject words of all 41 LAMA T-REx relations: the default anchor exclusion."""
    return _lama_fact_words(None if lama_dir is None else str(lama_dir))


def anchor_pairs(source_lms, target_lm, n_anchors: int | None = None, exclude=None, words: list[str] | None = None,
                 lama_dir=None) -> tuple[list[str], list[torch.Tensor], torch.Tensor]:
    """The anchor words of a transfer (:func:`anchor_words`; ``exclude`` None: :func:`lama_fact_words`) and their
    embeddings: ``(words, [k, d_s] per source, [k, d_t])``."""
    exclude = lama_fact_words(lama_dir) if exclude is None else exclude
    sources = list(source_lms) if isinstance(source_lms, (list, tuple)) else [source_lms]
    chosen = anchor_words([lm.tokenizer for lm in sources], target_lm.tokenizer, n_anchors, exclude, words, lama_dir)
    return chosen, [anchor_embeddings(lm, chosen) for lm in sources], anchor_embeddings(target_lm, chosen)
