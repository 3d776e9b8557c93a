"""Speed of tuning the prompts of N relations in one batched pass vs one relation at a time (not library code).

    .venv/bin/python benchmarks/batched_tuning.py [--model mini-bert-base] [--relations P19 P36 ...]
                                                  [--epochs 1] [--threads 1] [--repeats 1]

Both variants run :func:`tutorial_lib.prompts.tune_prompts` with the same facts (the zoo's subset of each
relation), the same scoring vocabulary and the same settings (OptiPrompt: batch 16, AdamW 3e-3, warm-up,
dev evaluation after every epoch):
- batched: one call for all relations; a batch of 16 mixes facts of several relations, each with its own
  relation's prompt vectors (the model is frozen, so nothing else couples them);
- one at a time: one call per relation (what a tuning script per task does).
The batched pass does the same arithmetic (same facts, same batch size), so its throughput gain is only
the per-call overhead it saves. What it changes is the optimisation: every optimizer step updates every
relation's prompt (Adam normalises each coordinate's step, so a relation with one fact in the batch still
moves by about lr), i.e. ~N times more updates per prompt and epoch than one relation at a time. Compare
at equal quality with ``--single-epochs 10``.

Printed: wall and CPU seconds, training facts per second (train facts x epochs / time, dev evaluation
included, as a reader waits for it), the ratios, and the dev P@1 of both (they differ: the batches differ).
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from tutorial_lib import data, prompts
from tutorial_lib.zoo import load_model
from tutorial_lib.world import DEFAULT_RELATIONS, WorldConfig


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mini-bert-base")
    parser.add_argument("--relations", nargs="+", default=list(DEFAULT_RELATIONS))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--single-epochs", type=int, default=None,
                        help="epochs of the one-at-a-time runs (default: --epochs, i.e. the same settings)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: comparable runs)")
    parser.add_argument("--repeats", type=int, default=1, help="best of this many timings per variant")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    lm = load_model(args.model, device=args.device)
    rels = data.load_relations(args.relations, max_facts=WorldConfig().max_facts)
    vocab = data.scoring_vocabulary([lm.tokenizer])
    config = prompts.TuneConfig(epochs=args.epochs, seed=0)
    n_train = sum(len(prompts.scored_facts(r.split("train"), vocab)) for r in rels.values())
    print(f"{args.model} on {args.device} ({args.threads} thread(s)), {len(rels)} relations, {n_train} training "
          f"facts, {args.epochs} epoch(s), batch {config.batch_size}, scoring vocabulary {len(vocab):,} words")

    def batched():
        tuned, history = prompts.tune_prompts(lm, rels, vocab, config, progress=False)
        return history[-1]["dev_mean"]

    single_epochs = args.single_epochs or args.epochs
    single = dataclasses.replace(config, epochs=single_epochs)

    def one_at_a_time():
        devs = []
        for rel_id, rel in rels.items():
            tuned, history = prompts.tune_prompts(lm, {rel_id: rel}, vocab, single, progress=False)
            devs.append(history[-1][f"dev_{rel_id}"])
        return sum(devs) / len(devs)

    one_at_a_time_steps = sum(-(-len(prompts.scored_facts(r.split("train"), vocab)) // config.batch_size)
                              for r in rels.values()) * single_epochs
    batched_steps = -(-n_train // config.batch_size) * args.epochs
    first = next(iter(rels))
    prompts.tune_prompts(lm, {first: rels[first]}, vocab, config, progress=False)  # warm-up, not timed
    results = {}
    variants = (("batched", batched, batched_steps, args.epochs),
                ("one at a time", one_at_a_time, one_at_a_time_steps, single_epochs))
    for name, run, steps, epochs in variants:
        best, best_cpu, dev = float("inf"), float("inf"), None
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            dev = run()
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
        results[name] = (best, best_cpu)
        facts = n_train * epochs
        print(f"{name:14s} {best:7.1f} s wall ({facts / best:6.1f} facts/s)  {best_cpu:7.1f} s CPU "
              f"({facts / best_cpu:6.1f} facts/CPU-s)  {epochs} epoch(s), {steps:4d} optimizer steps  "
              f"dev P@1 (last epoch) {100 * dev:.1f} %")
    (wall_b, cpu_b), (wall_o, cpu_o) = results["batched"], results["one at a time"]
    scale = single_epochs / args.epochs  # facts processed by one-at-a-time per fact processed batched
    print(f"throughput (facts/s) batched / one-at-a-time: {wall_o / (scale * wall_b):.2f}x wall, "
          f"{cpu_o / (scale * cpu_b):.2f}x CPU time (the fairer number on a shared machine)")
    if single_epochs != args.epochs:
        print(f"time to tune all {len(rels)} prompts: batched {args.epochs} epoch(s) is {wall_o / wall_b:.2f}x "
              f"faster (wall), {cpu_o / cpu_b:.2f}x (CPU) than one at a time with {single_epochs} epochs")


if __name__ == "__main__":
    main()
