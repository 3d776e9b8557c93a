"""Discretization baseline (paper Table 3, no equation number): replace each source prompt vector by its
nearest source token (cosine similarity) among the words the target can represent, and feed the target
model the input embeddings of those words."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def nearest_words(vectors: torch.Tensor, candidate_embeddings: torch.Tensor,
                  allowed: torch.Tensor | None = None) -> torch.Tensor:
    """Index of the candidate row with the highest cosine similarity to each vector ([..., d] -> [...]).
    ``allowed`` (bool, broadcastable to [..., C]) hides the candidates marked False."""
    sims = F.normalize(vectors.float(), dim=-1) @ F.normalize(candidate_embeddings.float(), dim=-1).T
    if allowed is not None:
        sims = sims.masked_fill(~allowed, float("-inf"))
    return sims.argmax(dim=-1)


def discretize_transfer(source_prompts: torch.Tensor, source_candidates: torch.Tensor,
                        target_candidates: torch.Tensor, words: list[str], avoid=None):
    """Target prompts [R, m, d_t] and the chosen words ([R][m] lists, for display).

    ``source_candidates`` [C, d_s] and ``target_candidates`` [C, d_t] are the two models' input embeddings
    of the same ``words`` (single tokens in both, see :func:`anchors.shared_words`). ``avoid`` (one
    collection of words per relation, compared lower-cased) forbids those words to that relation's vectors:
    chapter 3 forbids each relation its own words to test why discretization works on the mini zoo."""
    if not (len(words) == source_candidates.shape[0] == target_candidates.shape[0]):
        raise ValueError(f"{len(words)} words but {source_candidates.shape[0]} source and "
                         f"{target_candidates.shape[0]} target candidate embeddings; they must match row by row")
    allowed = None
    if avoid is not None:
        if len(avoid) != source_prompts.shape[0]:
            raise ValueError(f"avoid holds {len(avoid)} word sets for {source_prompts.shape[0]} relations")
        banned = [{w.lower() for w in relation_words} for relation_words in avoid]
        allowed = torch.tensor([[w.lower() not in ban for w in words] for ban in banned])[:, None, :]
    index = nearest_words(source_prompts, source_candidates, allowed)
    chosen = [[words[i] for i in row] for row in index.tolist()]
    return target_candidates.float()[index].clone(), chosen
