"""Masked-LM pretraining of a mini zoo model, resumable from a checkpoint.

Recipe (from short probe runs made while building the zoo): in fact sentences only the object is masked
(always ``[MASK]``), so the fact loss is the object loss; English sentences get BERT's 15 % masking with
80/10/10 replacement. AdamW with linear warm-up then a constant rate; batches grouped by length; the
output layer is applied only at masked positions.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .corpus import Sentence


@dataclass(frozen=True)
class TrainConfig:
    epochs: float = 15.0
    batch_size: int = 128
    lr: float = 1e-3
    warmup_steps: int = 200
    weight_decay: float = 0.01
    mask_prob: float = 0.15
    max_len: int = 48
    seed: int = 0
    checkpoint_every_s: float = 120.0


@dataclass(frozen=True)
class Encoded:
    ids: list[int]
    object_pos: int  # token index of the object in a fact sentence, -1 for plain text


def encode(corpus: list[Sentence], tokenizer, max_len: int) -> list[Encoded]:
    """Tokenise the corpus and locate the object token of every fact sentence."""
    batch = tokenizer([s.text for s in corpus], truncation=True, max_length=max_len,
                      return_offsets_mapping=True)
    out = []
    for sent, ids, offsets in zip(corpus, batch["input_ids"], batch["offset_mapping"]):
        pos = -1
        if sent.object_span is not None:
            pos = next((i for i, span in enumerate(offsets) if tuple(span) == sent.object_span), -1)
            if pos < 0:
                continue  # object cut off by truncation
        out.append(Encoded(ids, pos))
    return out


def length_batches(lengths: list[int], batch_size: int, generator: torch.Generator) -> list[list[int]]:
    """Batches of similar lengths (less padding), in a random order drawn from ``generator``."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    order.sort(key=lambda i: lengths[i])
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def mask_batch(examples: list[Encoded], tokenizer, mask_prob: float, generator: torch.Generator):
    """Padded inputs, attention mask and the (row, col, label) triples of the masked positions."""
    width = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), width), tokenizer.pad_token_id)
    for row, e in enumerate(examples):
        ids[row, :len(e.ids)] = torch.tensor(e.ids)
    attention = (ids != tokenizer.pad_token_id).long()
    special = torch.tensor(tokenizer.all_special_ids)
    chosen = torch.zeros_like(ids, dtype=torch.bool)
    is_fact = torch.tensor([e.object_pos >= 0 for e in examples])
    text_rows = (~is_fact).nonzero().flatten()
    if len(text_rows):
        draw = torch.rand(len(text_rows), width, generator=generator) < mask_prob
        chosen[text_rows] = draw & ~torch.isin(ids[text_rows], special)
    for row, e in enumerate(examples):
        if e.object_pos >= 0:
            chosen[row, e.object_pos] = True
    labels = ids[chosen]
    inputs = ids.clone()
    roll = torch.rand(ids.shape, generator=generator)
    replace_mask = chosen & ((roll < 0.8) | is_fact[:, None])
    replace_random = chosen & ~replace_mask & (roll < 0.9)
    inputs[replace_mask] = tokenizer.mask_token_id
    inputs[replace_random] = torch.randint(len(tokenizer), (int(replace_random.sum()),), generator=generator)
    rows, cols = chosen.nonzero(as_tuple=True)
    return inputs, attention, rows, cols, labels


def masked_lm_loss(model, inputs, attention, rows, cols, labels) -> torch.Tensor:
    """Cross-entropy at the masked positions only (the vocabulary projection is the costly part)."""
    hidden = model.base_model(input_ids=inputs, attention_mask=attention).last_hidden_state
    head = model.cls if hasattr(model, "cls") else model.lm_head  # BERT / RoBERTa MLM heads
    return F.cross_entropy(head(hidden[rows, cols]), labels)


def _lr_factor(step: int, warmup: int) -> float:
    return min(1.0, (step + 1) / max(1, warmup))


def pretrain(model, tokenizer, corpus: list[Sentence], config: TrainConfig, workdir: Path,
             evaluate: Callable[[], dict] | None = None, eval_every: int = 0) -> list[dict]:
    """Train ``model`` on ``corpus``; resume from ``workdir/checkpoint.pt`` when present.

    Returns the history (loss, and ``evaluate()`` results every ``eval_every`` steps and at the end).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    ckpt_path = workdir / "checkpoint.pt"
    examples = encode(corpus, tokenizer, config.max_len)
    lengths = [len(e.ids) for e in examples]
    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    total_steps = int(config.epochs * steps_per_epoch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, config.warmup_steps))
    step, history, elapsed = 0, [], 0.0
    if ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=True)
        if state["config"] != asdict(config):
            raise ValueError(f"{ckpt_path} was written with another training config; delete it to restart")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, history, elapsed = state["step"], state["history"], state["elapsed"]

    def save() -> None:
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "step": step, "history": history,
                    "elapsed": elapsed, "config": asdict(config)}, tmp)
        tmp.replace(ckpt_path)

    model.train()
    bar = tqdm(total=total_steps, initial=step, desc="pretraining", unit="step")
    last_save, started = time.monotonic(), time.monotonic() - elapsed
    while step < total_steps:
        epoch, index = divmod(step, steps_per_epoch)
        order = length_batches(lengths, config.batch_size, torch.Generator().manual_seed(config.seed * 1000 + epoch))
        gen = torch.Generator().manual_seed(config.seed * 10**6 + step)
        batch = mask_batch([examples[i] for i in order[index]], tokenizer, config.mask_prob, gen)
        loss = masked_lm_loss(model, *batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        step += 1
        elapsed = time.monotonic() - started
        record = {"step": step, "epoch": step / steps_per_epoch, "loss": loss.item(), "seconds": elapsed}
        if evaluate is not None and ((eval_every and step % eval_every == 0) or step == total_steps):
            model.eval()
            record.update(evaluate())
            model.train()
            bar.write(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
        history.append(record)
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if time.monotonic() - last_save > config.checkpoint_every_s or step == total_steps:
            save()
            last_save = time.monotonic()
    bar.close()
    model.eval()
    return history
