"""Does more English text give the mini zoo a shared word geometry, and does relative transfer profit?
(An experiment on the world, not library code.)

    .venv/bin/python benchmarks/zoo_more_text.py [--text 170880] [--lr 1e-3] [--threads 2]

Continues pretraining the two base models (``mini-bert-base``, ``mini-roberta-base``) for one epoch on a
corpus of every fact sentence of the zoo (replayed once) plus ``--text`` WordNet gloss sentences (the zoo saw
3,867; WordNet has 170,880), with the zoo's own pretraining code. Before and after, it prints per model the
three numbers of the model card (majority object, facts stored, held-out manual template), for the pair the
shared word geometry of chapter 6 (word translation P@1 over all shared words and over the 1,000 most frequent,
held-out linear-map R^2), and the test P@1 (seed 0, the cpu profile's settings) of direct tuning and of
discretization, projector and relative transfer in both directions. Nothing is written to ``data/zoo``.
"""
from __future__ import annotations

import argparse
import random
import tempfile
import time
import warnings
from pathlib import Path

import torch

from tutorial_lib import experiments
from tutorial_lib.results import RunStore
from tutorial_lib.transfer import FewAnchorsWarning, anchor_words, lama_fact_words, shared_geometry
from tutorial_lib.world import WorldConfig, world_relations
from tutorial_lib.zoo import ZOO, MaskedLM, load_model
from tutorial_lib.zoo.build import FAMILY_LR, evaluate_facts
from tutorial_lib.zoo.corpus import Sentence, fact_sentences, wordnet_glosses
from tutorial_lib.zoo.pretrain import TrainConfig, pretrain

PAIR = ("mini-bert-base", "mini-roberta-base")


def more_text(lm: MaskedLM, relations, n_text: int, lr: float, workdir) -> MaskedLM:
    """One epoch on the replayed fact sentences plus ``n_text`` gloss sentences, from the shipped weights."""
    world = WorldConfig()
    rng = random.Random(1)
    corpus = fact_sentences(relations, world.per_fact, world.corpus_seed)
    corpus += [Sentence(t) for t in rng.sample(wordnet_glosses(), n_text)]
    rng.shuffle(corpus)
    spec = ZOO[lm.name]
    config = TrainConfig(epochs=1.0, lr=lr * FAMILY_LR[spec.family], warmup_steps=50, seed=spec.seed + 100)
    lm.model.requires_grad_(True)  # prompt tuning froze it
    pretrain(lm.model, lm.tokenizer, corpus, config, workdir / lm.name)
    return lm


def top_words_translation(a: MaskedLM, b: MaskedLM, top: int = 1000) -> float:
    """Word translation P@1 among the ``top`` most frequent shared words (every 4th a probe)."""
    return shared_geometry(a, b, words=anchor_words(a.tokenizer, b.tokenizer, top, lama_fact_words()))["p_at_1"]


def report(label: str, lms: dict[str, MaskedLM], relations) -> None:
    print(f"\n== {label}")
    for name, lm in lms.items():
        card = evaluate_facts(lm.model, lm.tokenizer, relations)["mean"]
        print(f"{name:<18} majority {card['majority']:.3f}  facts stored {card['paraphrase']:.3f}  "
              f"manual template {card['manual']:.3f}")
    a, b = lms.values()
    geometry = shared_geometry(a, b)
    print(f"word translation {100 * geometry['p_at_1']:.1f} % (chance {100 * geometry['chance']:.2f} %), "
          f"top 1,000 words {100 * top_words_translation(a, b):.1f} % (chance 0.40 %), "
          f"linear R^2 {geometry['linear_r2']:.3f}")
    world = experiments.world_of(lms, test_facts=40)
    store = RunStore(tempfile.mkdtemp())
    for name in lms:
        _, record = experiments.source_prompts(world, name, 0, 5, 1, store, progress=False)
        print(f"direct tuning on {name}: {100 * record['test']['mean']:.1f} %")
    for method in ("discretize", "projector", "relative"):
        options = experiments.method_options(method, 4000, 500, 2000, 4)
        scores = [experiments.transfer_scores(world, method, [s], t, 0, 5, 1, store, progress=False, **options)[0]
                  for s, t in (PAIR, PAIR[::-1])]
        print(f"{method:<10} {PAIR[0]} -> {PAIR[1]} {100 * scores[0]['mean']:.1f} %, back "
              f"{100 * scores[1]['mean']:.1f} %")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=int, default=170_880, help="WordNet gloss sentences added (at most 170,880)")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak rate (times the family's factor)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", FewAnchorsWarning)
    relations = world_relations(WorldConfig())
    lms = {name: load_model(name, device="cpu") for name in PAIR}
    report("the shipped zoo", lms, relations)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        lms = {name: more_text(lm, relations, args.text, args.lr, Path(work)) for name, lm in lms.items()}
    print(f"\ncontinued pretraining: {time.perf_counter() - started:.0f} s for both models")
    report(f"after one more epoch with {args.text:,} gloss sentences (lr {args.lr:g})", lms, relations)


if __name__ == "__main__":
    main()
