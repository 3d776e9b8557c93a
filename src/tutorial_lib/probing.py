"""Fill-mask precision@1 with the argmax restricted to a scoring vocabulary.

This is the one scorer of the book: manual templates, zoo model cards and (through
``tutorial_lib.prompts``) soft prompts all end in :func:`restricted_argmax`.
"""
from __future__ import annotations

from collections import Counter

import torch

from .data import Fact
from .tokens import single_token_ids


class VocabularyError(ValueError):
    """A word that the scorer needs is not a single token of the model."""


def vocab_ids(tokenizer, words: list[str]) -> torch.Tensor:
    """Token ids of ``words`` (each must be one token after a space, :func:`tokens.single_token_ids`)."""
    ids = single_token_ids(tokenizer, words)
    bad = [w for w, i in zip(words, ids) if i is None]
    if bad:
        raise VocabularyError(f"{len(bad)} scoring words are not single tokens of this tokenizer, "
                              f"e.g. {bad[:5]}; build the vocabulary with data.scoring_vocabulary()")
    return torch.tensor(ids)


def restricted_argmax(logits: torch.Tensor, allowed_ids: torch.Tensor) -> torch.Tensor:
    """Ids of the highest-scoring allowed token for each row of ``logits`` ([N, V] -> [N])."""
    allowed_ids = allowed_ids.to(logits.device)
    return allowed_ids[logits[:, allowed_ids].argmax(dim=-1)]


def fill_template(template: str, subject: str, mask_token: str) -> str:
    """``[X] was born in [Y] .`` -> ``Dante was born in [MASK].`` (period attached as in running text)."""
    text = template.replace("[X]", subject).replace("[Y]", mask_token)
    return " ".join(text.split()).replace(" .", ".").replace(" ,", ",")


@torch.no_grad()
def template_predictions(model, tokenizer, facts: list[Fact], template: str, allowed_ids: torch.Tensor,
                         batch_size: int = 256) -> torch.Tensor:
    """Predicted token id at the mask for each fact, with ``template`` filled by its subject."""
    device = next(model.parameters()).device
    preds = []
    for start in range(0, len(facts), batch_size):
        texts = [fill_template(template, f.subject, tokenizer.mask_token) for f in facts[start:start + batch_size]]
        batch = tokenizer(texts, return_tensors="pt", padding=True, truncation=True).to(device)
        rows, cols = (batch["input_ids"] == tokenizer.mask_token_id).nonzero(as_tuple=True)
        if len(rows) != len(texts):
            raise ValueError(f"template {template!r} must contain [Y] exactly once")
        logits = model(**batch).logits[rows, cols]
        preds.append(restricted_argmax(logits, allowed_ids).cpu())
    return torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)


def gold_ids(tokenizer, facts: list[Fact]) -> torch.Tensor:
    return vocab_ids(tokenizer, [f.object for f in facts])


def template_p_at_1(model, tokenizer, facts: list[Fact], template: str, allowed_ids: torch.Tensor) -> float:
    """Precision@1 of a manual (or any) template on ``facts``."""
    if not facts:
        return float("nan")
    preds = template_predictions(model, tokenizer, facts, template, allowed_ids)
    return (preds == gold_ids(tokenizer, facts)).float().mean().item()


def majority_p_at_1(train: list[Fact], test: list[Fact]) -> float:
    """Accuracy of always answering the most frequent training object (the majority baseline); of tied
    objects the one met first in ``train`` (a set would break ties by hash order, different in every process)."""
    if not train or not test:
        return float("nan")
    top = Counter(f.object for f in train).most_common(1)[0][0]
    return sum(f.object == top for f in test) / len(test)
