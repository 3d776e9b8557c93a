"""A distributional start for the mini zoo's word embeddings.

Real BERT and RoBERTa share a word geometry because each read billions of words of similar English; the zoo's
minutes of pretraining cannot give that (chapter 6, section 5: word translation 0.5 % between the first zoo's
models). So each zoo model starts its word embeddings from the co-occurrence statistics of the corpus, counted
with its own tokenizer: positive PMI with smoothed context counts (Levy, Goldberg and Dagan, 2015), reduced by
truncated SVD to the model's width. Those rows stay frozen during pretraining, except the tokens of fact words
(names and objects, never anchors), which must move for the model to store its facts.

A truncated SVD of two similar PPMI matrices returns nearly the same singular vectors (up to sign), so two
models started this way would share their coordinates, which real models do not. Each model therefore turns
its start by a random orthogonal matrix of its own (:func:`random_rotation`): every cosine between words, and
so every relative encoding, is unchanged, and no coordinate is shared.
"""
from __future__ import annotations

import torch

from ..geometry import random_rotation
from ..tokens import single_token_ids


def ppmi_svd(tokenizer, texts: list[str], width: int, window: int = 4, alpha: float = 0.75,
             min_count: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """[V, width] token vectors (U sqrt(S) of the truncated SVD of the positive PMI matrix of tokens
    co-occurring within ``window`` tokens, context counts raised to ``alpha``) and a [V] bool marking the tokens
    seen at least ``min_count`` times (the others should keep a random start)."""
    size = len(tokenizer)
    rows, cols = [], []
    for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]:
        ids = torch.tensor(ids, dtype=torch.long)
        for d in range(1, window + 1):
            rows.append(ids[:-d])
            cols.append(ids[d:])
    r, c = torch.cat(rows), torch.cat(cols)
    counts = torch.sparse_coo_tensor(torch.stack([torch.cat([r, c]), torch.cat([c, r])]), torch.ones(2 * len(r)),
                                     (size, size), check_invariants=False).coalesce()
    (i, j), n = counts.indices(), counts.values()
    word = torch.zeros(size).index_add_(0, i, n)
    context = word ** alpha
    pmi = torch.log(n * context.sum() / (word[i] * context[j]))
    keep = pmi > 0
    ppmi = torch.sparse_coo_tensor(torch.stack([i[keep], j[keep]]), pmi[keep], (size, size),
                                   check_invariants=False).coalesce()
    u, s, _ = torch.svd_lowrank(ppmi, q=min(width, size), niter=4)
    return u * s.sqrt(), word >= min_count


def distributional_start(model, tokenizer, texts: list[str], movable_words, rotation_seed: int | None = None) -> dict:
    """Set ``model``'s input embeddings (tied to the output ones) of the tokens seen in ``texts`` to their
    :func:`ppmi_svd` vectors, turned by :func:`random_rotation` of ``rotation_seed`` (when given) and rescaled
    to the random start's standard deviation, and freeze every row but the
    single-token ``movable_words`` (a gradient hook: the frozen rows still feel AdamW's weight decay, a common
    rescaling that no cosine sees). Returns counts for the model card."""
    embeddings = model.get_input_embeddings().weight
    vectors, seen = ppmi_svd(tokenizer, texts, embeddings.shape[1])
    if rotation_seed is not None:
        vectors = vectors @ random_rotation(vectors.shape[1], rotation_seed)
    with torch.no_grad():
        embeddings[seen] = vectors[seen] / vectors[seen].std() * embeddings.std()
    movable = torch.zeros(len(seen), 1)
    movable_ids = sorted({i for i in single_token_ids(tokenizer, sorted(movable_words)) if i is not None})
    movable[movable_ids] = 1.0
    embeddings.register_hook(lambda grad: grad * movable.to(grad.device))
    return {"distributional_tokens": int(seen.sum()), "movable_tokens": len(movable_ids)}
