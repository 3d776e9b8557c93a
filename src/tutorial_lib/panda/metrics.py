"""PANDA's transferability metric: the cosine between two tasks' embeddings, built from their tuned prompts,
and five ways to build those embeddings; a metric is judged by how it ranks the real PoT gains."""
from __future__ import annotations

import pandas as pd
import torch

from ..data import Fact, Relation
from ..geometry import cosine_matrix
from ..progress import tqdm
from ..prompts import PromptSet, build_inputs, prompt_logits, scored_facts
from ..zoo import MaskedLM
from .tasks import PromptMismatch, check_vector, low_resource, source_vectors

METRICS = ("activation", "neuron_overlap", "relative", "prompt_cosine", "answer_overlap")
METRIC_LABELS = {
    "activation": "FFN activations (PANDA-style)",
    "neuron_overlap": "activated-neuron overlap (Su et al.)",
    "relative": "relative-space prompts",
    "prompt_cosine": "raw prompt cosine (baseline)",
    "answer_overlap": "answer overlap (data baseline)",
}


def intermediate_modules(lm: MaskedLM) -> list[torch.nn.Module]:
    """The feed-forward ``intermediate`` module of every layer (BERT / RoBERTa naming): dense + activation."""
    found = [mod for name, mod in lm.model.named_modules() if name.endswith(".intermediate")]
    if not found:
        raise ValueError(f"{lm.name} has no '*.intermediate' feed-forward modules (BERT/RoBERTa layout); the "
                         "activation metrics need them: use metric='relative' or 'prompt_cosine'")
    return found


@torch.no_grad()
def ffn_activations(lm: MaskedLM, prompt: torch.Tensor, facts: list[Fact], batch_size: int = 64) -> torch.Tensor:
    """[2, L, F]: per layer and FFN neuron, (0) the mean activation and (1) the share of activations > 0,
    over ``facts`` and the m prompt positions, while the frozen model reads ``prompt`` [m, d] after each
    fact's subject. Taken with forward hooks on the ``intermediate`` modules (after the GELU)."""
    if not facts:
        raise ValueError("no facts to read the prompt with")
    prompt = check_vector(lm, prompt, prompt.shape[0], "the prompt")
    m = prompt.shape[0]
    modules = intermediate_modules(lm)
    caught: list[torch.Tensor] = []
    hooks = [mod.register_forward_hook(lambda _mod, _inp, out: caught.append(out)) for mod in modules]
    total = None
    try:
        for s in range(0, len(facts), batch_size):
            chunk = facts[s:s + batch_size]
            _, _, starts = build_inputs(lm, chunk, m)
            caught.clear()
            prompt_logits(lm, prompt[None], chunk, torch.zeros(len(chunk), dtype=torch.long))
            rows = torch.arange(len(chunk))[:, None]
            cols = starts[:, None] + torch.arange(m)
            for layer, out in enumerate(caught):
                at_prompt = out.float().cpu()[rows, cols]  # [B, m, F]
                if total is None:
                    total = torch.zeros(2, len(modules), at_prompt.shape[-1])
                total[0, layer] += at_prompt.sum((0, 1))
                total[1, layer] += (at_prompt > 0).float().sum((0, 1))
    finally:
        for h in hooks:
            h.remove()
    return total / (len(facts) * m)


def probe_facts(relation: Relation, vocab: list[str], n_probe: int) -> list[Fact]:
    """The ``n_probe`` training facts (seed 0 of :func:`low_resource`) a task's prompt is read with."""
    return scored_facts(low_resource(relation, n_probe, 0, vocab).split("train"), vocab)


def task_embeddings(lm: MaskedLM, prompts: PromptSet, tasks: dict[str, Relation], vocab: list[str],
                    metric: str = "activation", n_probe: int = 16, anchors: torch.Tensor | None = None,
                    progress: bool = False) -> torch.Tensor:
    """One vector per task [R, D] (rows in the order of ``tasks``); the metric is their cosine.

    - ``activation``: the mean FFN activation of every neuron of every layer (concatenated, L * 4d values)
      while the frozen model reads the task's prompt, averaged over the prompt positions of ``n_probe`` of
      the task's training facts (:func:`ffn_activations`). The task embedding PANDA's released hooks point to.
    - ``neuron_overlap``: the activated neurons (active > 0 at more than half of those positions) as a 0/1
      vector; its cosine is the overlap |A and B| / sqrt(|A| |B|), in the spirit of Su et al. (2022).
    - ``relative``: the prompt's relative encoding (cosine of each prompt vector to ``anchors`` [k, d],
      the zero-shot transfer paper's Eq. 3), flattened over the m positions.
    - ``prompt_cosine`` (baseline): the flattened prompt itself.
    - ``answer_overlap`` (baseline, no model): counts of each answer word among the task's training facts.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown transferability metric {metric!r}; choose one of {list(METRICS)}")
    ids = list(tasks)
    if metric == "answer_overlap":
        index = {w: i for i, w in enumerate(vocab)}
        counts = torch.zeros(len(ids), len(vocab))
        for r, rel_id in enumerate(ids):
            for f in scored_facts(tasks[rel_id].split("train"), vocab):
                counts[r, index[f.object]] += 1
        return counts
    vectors = source_vectors(lm, prompts, ids)
    if metric == "prompt_cosine":
        return vectors.flatten(1)
    if metric == "relative":
        from ..transfer.relative import relative_encoding
        if anchors is None:
            raise ValueError("metric 'relative' needs anchors: the input embeddings [k, d] of shared words, "
                             "e.g. transfer.anchor_embeddings(lm, transfer.anchor_words(tok, tok, 2000))")
        if anchors.dim() != 2 or anchors.shape[1] != lm.width or anchors.shape[0] == 0:
            raise PromptMismatch(f"anchors of shape {list(anchors.shape)} do not fit {lm.name}: "
                                 f"expected [k>0, {lm.width}]")
        return relative_encoding(vectors, anchors.float().cpu()).flatten(1)
    rows = []
    for r, rel_id in enumerate(tqdm(ids, desc="task embeddings", disable=not progress, leave=False)):
        stats = ffn_activations(lm, vectors[r], probe_facts(tasks[rel_id], vocab, n_probe))
        rows.append(stats[0].flatten() if metric == "activation" else (stats[1] > 0.5).float().flatten())
    return torch.stack(rows)


def transferability(lm: MaskedLM, prompts: PromptSet, tasks: dict[str, Relation], vocab: list[str],
                    metric: str = "activation", n_probe: int = 16, anchors: torch.Tensor | None = None,
                    progress: bool = False) -> pd.DataFrame:
    """PANDA's transferability metric: the cosine between the task embeddings of every pair of tasks
    (:func:`task_embeddings` says which embedding each ``metric`` uses). Rows: source, columns: target."""
    sims = cosine_matrix(task_embeddings(lm, prompts, tasks, vocab, metric, n_probe, anchors, progress))
    return pd.DataFrame(sims.numpy(), index=list(tasks), columns=list(tasks))


def rank_correlation(scores: pd.DataFrame, gains: pd.DataFrame) -> tuple[float, float, int]:
    """Spearman's rho (and its p-value, and the number of pairs) between a metric's scores and the real
    PoT gains over all source != target pairs that both tables hold (rows source, columns target)."""
    from scipy.stats import spearmanr
    pairs = [(s, t) for s in gains.index for t in gains.columns
             if s != t and s in scores.index and t in scores.columns and pd.notna(gains.loc[s, t])]
    if len(pairs) < 3:
        raise ValueError(f"need at least 3 source-target pairs to rank, got {len(pairs)}")
    rho, p = spearmanr([scores.loc[s, t] for s, t in pairs], [gains.loc[s, t] for s, t in pairs])
    return float(rho), float(p), len(pairs)
