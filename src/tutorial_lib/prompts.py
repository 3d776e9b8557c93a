"""Soft prompts (OptiPrompt): m trainable vectors after the subject, the masked LM frozen.

Input of one fact: ``[CLS] x v1 .. vm [MASK] . [SEP]`` where ``x`` are the subject's tokens and
``v1..vm`` the prompt vectors of the fact's relation. The prompts of many relations are tuned in one
batched pass (the model is frozen, so facts of different relations can share a batch); each relation
keeps its own best-on-dev vectors.
"""
from __future__ import annotations

import math
import random
import warnings
from dataclasses import dataclass, replace
from typing import Callable

import torch
import torch.nn.functional as F

from . import data
from .data import Fact, Relation
from .probing import restricted_argmax, vocab_ids
from .progress import tqdm
from .prompt_io import PromptSet
from .zoo import MaskedLM


@dataclass(frozen=True)
class TuneConfig:
    """OptiPrompt's settings: AdamW lr 3e-3, 10 % linear warm-up, 10 epochs, batch 16, best on dev."""

    m: int = 5
    epochs: int = 10
    lr: float = 3e-3
    batch_size: int = 16
    warmup: float = 0.1
    init: str = "random"  # or "manual": the manual template's token embeddings
    seed: int = 0
    eval_every: int = 1  # epochs between dev checks (the last epoch is always checked)

    def __post_init__(self):
        if self.m < 1:
            raise ValueError(f"m (prompt length) must be >= 1, got {self.m}")
        if self.init not in ("random", "manual"):
            raise ValueError(f"init must be 'random' or 'manual', got {self.init!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.eval_every < 1:
            raise ValueError(f"epochs, batch_size and eval_every must be >= 1, got {self.epochs}, "
                             f"{self.batch_size}, {self.eval_every}")


def period_id(tokenizer) -> int:
    """The id of a sentence-final '.' attached to the preceding word."""
    return tokenizer.encode("a.", add_special_tokens=False)[-1]


def scored_facts(facts: list[Fact], vocab: list[str]) -> list[Fact]:
    """The facts whose object is in the scoring vocabulary (LAMA's convention)."""
    allowed = set(vocab)
    return [f for f in facts if f.object in allowed]


def build_inputs(lm: MaskedLM, facts: list[Fact], m: int):
    """Token ids with ``m`` placeholder slots after the subject, plus the slot and mask positions."""
    tok = lm.tokenizer
    subjects = tok([f.subject for f in facts], add_special_tokens=False)["input_ids"]
    head = [tok.cls_token_id] if tok.cls_token_id is not None else []
    tail = [tok.sep_token_id] if tok.sep_token_id is not None else []
    rows = [head + s[:40] + [tok.mask_token_id] * m + [tok.mask_token_id, period_id(tok)] + tail for s in subjects]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), tok.pad_token_id)
    attention = torch.zeros_like(ids)
    starts = torch.tensor([len(head) + len(s[:40]) for s in subjects])
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        attention[i, :len(r)] = 1
    return ids, attention, starts


def prompt_logits(lm: MaskedLM, prompts: torch.Tensor, facts: list[Fact], relation_index: torch.Tensor) -> torch.Tensor:
    """Logits at the mask ([N, V]) with ``prompts[relation_index[i]]`` inserted after fact i's subject."""
    m = prompts.shape[1]
    ids, attention, starts = build_inputs(lm, facts, m)
    device = lm.device
    ids, attention, starts = ids.to(device), attention.to(device), starts.to(device)
    embeds = lm.model.get_input_embeddings()(ids)
    rows = torch.arange(len(facts), device=device)[:, None].expand(-1, m)
    cols = starts[:, None] + torch.arange(m, device=device)
    embeds = embeds.index_put((rows, cols), prompts.to(device)[relation_index.to(device)].to(embeds.dtype))
    at_mask = (torch.arange(len(facts), device=device), starts + m)
    head = _mlm_head(lm.model)
    if head is None:  # an architecture we do not know: full logits, then pick the mask
        return lm.model(inputs_embeds=embeds, attention_mask=attention).logits[at_mask]
    # The MLM head over the mask position only: the same numbers, without the [N, L, V] logits that
    # cost as much as the whole encoder of a small model.
    hidden = lm.model.base_model(inputs_embeds=embeds, attention_mask=attention).last_hidden_state
    return head(hidden[at_mask])


def _mlm_head(model):
    """The masked-LM head of BERT-like (``cls``) and RoBERTa-like (``lm_head``) models, else None."""
    for name in ("cls", "lm_head"):
        head = getattr(model, name, None)
        if isinstance(head, torch.nn.Module):
            return head
    return None


def _facts_and_index(relations: dict[str, Relation], order: list[str], split: str, vocab: list[str]):
    facts, index = [], []
    for r, rel_id in enumerate(order):
        kept = scored_facts(relations[rel_id].split(split), vocab)
        facts += kept
        index += [r] * len(kept)
    return facts, torch.tensor(index, dtype=torch.long)


def subject_length_order(lm: MaskedLM, facts: list[Fact]) -> list[int]:
    """Indices of ``facts`` sorted by the token length of their subject (stable)."""
    lengths = [len(ids) for ids in lm.tokenizer([f.subject for f in facts], add_special_tokens=False)["input_ids"]]
    return sorted(range(len(facts)), key=lengths.__getitem__)


@torch.no_grad()
def evaluate(lm: MaskedLM, prompts: PromptSet, relations: dict[str, Relation], vocab: list[str],
             split: str = "test", batch_size: int = 256) -> dict[str, float]:
    """Precision@1 per relation (argmax over ``vocab``), plus ``"mean"`` over relations (the papers'
    headline number)."""
    if prompts.width != lm.width:
        raise ValueError(f"prompts of width {prompts.width} (from {prompts.model}) do not fit {lm.name} "
                         f"(width {lm.width}); transfer them first")
    missing = [r for r in relations if r not in prompts.relations]
    if missing:
        raise KeyError(f"no prompt for relation(s) {missing}: these prompts (of {prompts.model}) hold "
                       f"{prompts.relations}")
    allowed = vocab_ids(lm.tokenizer, vocab)
    order = [r for r in prompts.relations if r in relations]
    facts, index = _facts_and_index(relations, order, split, vocab)
    correct = torch.zeros(len(facts), dtype=torch.bool)
    by_length = subject_length_order(lm, facts)  # batches of similar length: little padding (about 2x faster)
    for s in range(0, len(facts), batch_size):
        rows = by_length[s:s + batch_size]
        chunk = [facts[i] for i in rows]
        rel_rows = torch.tensor([prompts.relations.index(order[index[i]]) for i in rows])
        pred = restricted_argmax(prompt_logits(lm, prompts.vectors, chunk, rel_rows), allowed).cpu()
        correct[rows] = pred == vocab_ids(lm.tokenizer, [f.object for f in chunk])
    scores = {r: correct[index == i].float().mean().item() if (index == i).any() else float("nan")
              for i, r in enumerate(order)}
    valid = [v for v in scores.values() if not math.isnan(v)]
    empty = [r for r, v in scores.items() if math.isnan(v)]
    if empty:
        warnings.warn(f"relation(s) {empty} have no {split} fact whose answer is in the scoring vocabulary: "
                      "their P@1 is NaN and the mean leaves them out", stacklevel=2)
    scores["mean"] = sum(valid) / len(valid) if valid else float("nan")
    return scores


def init_prompts(lm: MaskedLM, relations: list[Relation], config: TuneConfig) -> torch.Tensor:
    """[R, m, d] initial vectors: random (normal with the embedding matrix's std) or the manual template's
    words (in order, cut or padded with random vectors to m)."""
    emb = lm.model.get_input_embeddings().weight.detach().float().cpu()
    gen = torch.Generator().manual_seed(config.seed)
    vectors = torch.randn(len(relations), config.m, emb.shape[1], generator=gen) * emb.std()
    if config.init == "manual":
        for r, rel in enumerate(relations):
            words = rel.template.replace("[X]", " ").replace("[Y]", " ").replace(" .", " ")
            ids = lm.tokenizer(words.strip(), add_special_tokens=False)["input_ids"][:config.m]
            vectors[r, :len(ids)] = emb[ids]
    return vectors


def tune_prompts(lm: MaskedLM, relations: dict[str, Relation], vocab: list[str],
                 config: TuneConfig = TuneConfig(), progress: bool = True,
                 init_vectors: torch.Tensor | None = None,
                 extra_loss: Callable[[torch.Tensor, list[Fact], torch.Tensor, torch.Tensor], torch.Tensor]
                 | None = None, seeds: list[int] | None = None,
                 ) -> tuple[PromptSet, list[dict]]:
    """Tune the soft prompts of all ``relations`` at once on their train facts, the model frozen.

    Cross-entropy at the mask over the full vocabulary; AdamW with linear warm-up then linear decay;
    after every ``config.eval_every`` epochs each relation keeps its vectors if its dev P@1 improved. Returns
    the prompts and the history, one row per dev check (mean train loss and the loss of every step since the
    last check, dev P@1 per relation).

    ``init_vectors`` ([R, m, d], relations in the order of ``relations``) replaces the start given by
    ``config.init`` (e.g. a prompt transferred from another task); ``extra_loss(logits, facts,
    relation_index, vectors)`` is added to each batch's cross-entropy (e.g. a distillation term; ``vectors``
    [R, m, d] are the prompts being tuned, for terms on other inputs). Both default to
    plain tuning.

    ``seeds`` (one per relation) makes every relation its own run, as if tuned alone with that seed: its own
    random start and shuffle, steps that take ``batch_size`` of its own facts, and a loss that is the sum of
    the relations' mean losses (up to float rounding the same prompts as separate runs, in a fraction of
    the time when each run is small). None: the relations share one shuffled pool of facts (chapter 1).
    """
    order = list(relations)
    lm.model.eval()  # frozen and deterministic: no dropout
    for p in lm.model.parameters():
        p.requires_grad_(False)
    if seeds is not None and len(seeds) != len(order):
        raise ValueError(f"{len(seeds)} seeds for {len(order)} relations: give one seed per relation")
    if init_vectors is None:
        init_vectors = (init_prompts(lm, [relations[r] for r in order], config) if seeds is None else
                        torch.cat([init_prompts(lm, [relations[r]], replace(config, seed=s))
                                   for r, s in zip(order, seeds)]))
    elif tuple(init_vectors.shape) != (len(order), config.m, lm.width):
        raise ValueError(f"init_vectors of shape {list(init_vectors.shape)} do not fit {len(order)} relations x "
                         f"m={config.m} x width {lm.width} of {lm.name}")
    vectors = torch.nn.Parameter(init_vectors.detach().float().clone().to(lm.device))
    facts, index = _facts_and_index(relations, order, "train", vocab)
    if not facts:
        raise ValueError(f"no training facts with objects in the scoring vocabulary for {order}")
    own_rows = [(index == r).nonzero()[:, 0].tolist() for r in range(len(order))]
    steps_per_epoch = math.ceil((len(facts) if seeds is None else max(map(len, own_rows))) / config.batch_size)
    total = steps_per_epoch * config.epochs
    warm = max(1, int(config.warmup * total))
    optimizer = torch.optim.AdamW([vectors], lr=config.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    gold = vocab_ids(lm.tokenizer, [f.object for f in facts])
    rngs = [random.Random(s) for s in ([config.seed] if seeds is None else seeds)]
    best = PromptSet(lm.name, order, vectors.detach().cpu().clone(), {"m": config.m, "seed": config.seed})
    best_dev = {r: -1.0 for r in order}
    history = []
    bar = tqdm(total=total, desc=f"tuning {lm.name}", disable=not progress, leave=False)
    losses = []
    for epoch in range(config.epochs):
        for batch in _epoch_batches(rngs, [list(range(len(facts)))] if seeds is None else own_rows,
                                    config.batch_size):
            batch_facts = [facts[i] for i in batch]
            logits = prompt_logits(lm, vectors, batch_facts, index[batch])
            if seeds is None:
                loss = F.cross_entropy(logits, gold[batch].to(logits.device))
            else:  # each run's mean loss, summed: every run's gradient is the one it would have alone
                share = index[batch].bincount()[index[batch]].float().to(logits.device)
                loss = (F.cross_entropy(logits, gold[batch].to(logits.device), reduction="none") / share).sum()
            if extra_loss is not None:
                loss = loss + extra_loss(logits, batch_facts, index[batch], vectors)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            bar.update(1)
        if (epoch + 1) % config.eval_every and epoch + 1 < config.epochs:
            continue
        current = PromptSet(lm.name, order, vectors.detach().cpu().clone(), best.meta)
        dev = evaluate(lm, current, relations, vocab, split="dev")
        for r, rel_id in enumerate(order):
            if dev[rel_id] > best_dev[rel_id] or math.isnan(dev[rel_id]):  # no dev facts: keep the latest
                best_dev[rel_id] = dev[rel_id]
                best.vectors[r] = current.vectors[r]
        history.append({"epoch": epoch + 1, "train_loss": sum(losses) / len(losses), "step_losses": losses,
                        **{f"dev_{k}": v for k, v in dev.items()}})
        losses = []
        bar.set_postfix(loss=f"{history[-1]['train_loss']:.2f}", dev=f"{dev['mean']:.3f}")
    bar.close()
    best.meta.update({"init": config.init, "epochs": config.epochs, "lr": config.lr, "width": lm.width})
    return best, history


def _epoch_batches(rngs: list[random.Random], rows: list[list[int]], batch_size: int):
    """One epoch's batches: each group of ``rows`` shuffled by its own rng and cut into chunks of
    ``batch_size``; step s joins the s-th chunk of every group."""
    shuffled = []
    for rng, own in zip(rngs, rows):
        own = list(own)
        rng.shuffle(own)
        shuffled.append(own)
    for s in range(0, max(map(len, shuffled)), batch_size):
        yield [i for own in shuffled for i in own[s:s + batch_size]]


def nearest_tokens(lm: MaskedLM, vectors: torch.Tensor, k: int = 3) -> list[list[tuple[str, float]]]:
    """For each vector of [m, d], the ``k`` vocabulary tokens with the highest cosine similarity."""
    emb = F.normalize(lm.model.get_input_embeddings().weight.detach().float().cpu(), dim=-1)
    sims = F.normalize(vectors.float().cpu(), dim=-1) @ emb.T
    top = sims.topk(k, dim=-1)
    return [[(lm.tokenizer.convert_ids_to_tokens(int(i)), float(v)) for v, i in zip(vals, ids)]
            for vals, ids in zip(top.values, top.indices)]


def tune_or_load(lm: MaskedLM, relations: dict[str, Relation], vocab: list[str],
                 config: TuneConfig = TuneConfig(), store=None, progress: bool = True) -> tuple[PromptSet, dict]:
    """:func:`tune_prompts` through the run store: a saved run with the same config is loaded instead.

    Returns the prompts and their metrics: ``{"test": {...}, "dev": {...}, "history": [...]}``.
    """
    from dataclasses import asdict
    from hashlib import sha256

    from .results import RunStore

    store = store if store is not None else RunStore()
    run_config = {"model": lm.name, "revision": lm.revision, "relations": list(relations), **asdict(config),
                  "facts": data.facts_digest(relations),
                  "vocab": sha256(" ".join(vocab).encode()).hexdigest()}

    def compute():
        prompts, history = tune_prompts(lm, relations, vocab, config, progress)
        metrics = {"test": evaluate(lm, prompts, relations, vocab, "test"),
                   "dev": evaluate(lm, prompts, relations, vocab, "dev"), "history": history}
        return metrics, {"vectors": prompts.vectors}

    record = store.get_or_compute("prompts", run_config, compute)
    meta = {"m": config.m, "seed": config.seed, "init": config.init, "width": lm.width}
    return PromptSet(lm.name, list(relations), record.tensors["vectors"], meta), record.metrics
