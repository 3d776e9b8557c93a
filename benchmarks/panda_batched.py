"""Speed of PANDA's low-resource target runs tuned together vs one after the other (not library code).

    .venv/bin/python benchmarks/panda_batched.py [--model mini-bert-base] [--n-train 2] [--threads 2]

The jobs are chapter 7's source x target grid: PoT from every task's tuned prompt to every other task
(5 tasks: 20 runs, ``--n-train`` facts each, the chapter's settings: at least 100 steps, dev checked 5 times).
Both variants call :func:`tutorial_lib.panda.tune_targets` on an empty run store:
- together: one call with all jobs (one batched pass, each run with its own facts, seed and start);
- alone: one call per job.
Printed: wall seconds of both, the ratio, and the largest difference between the prompts of the two variants
(the same runs up to float rounding) and between their test P@1.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import torch

from tutorial_lib import data, panda, prompts
from tutorial_lib.results import RunStore
from tutorial_lib.zoo import load_model

TASKS = ["P19", "P20", "P1412", "P103", "P106"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mini-bert-base")
    parser.add_argument("--n-train", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    lm = load_model(args.model, device="cpu")
    tasks = panda.load_tasks(lm.name, TASKS)
    vocab = data.scoring_vocabulary([lm.tokenizer])
    sources, _ = prompts.tune_or_load(lm, tasks, vocab, prompts.TuneConfig(epochs=1), RunStore(tempfile.mkdtemp()),
                                      progress=False)
    config = panda.PandaConfig(n_train=args.n_train, epochs=5, min_steps=100, distill="kl")
    jobs = [panda.pot_job(sources[s], tasks[t], config) for s in TASKS for t in TASKS if s != t]
    print(f"{lm.name}, {args.threads} thread(s): {len(jobs)} PoT runs of {args.n_train} facts, "
          f"{config.tune_config(args.n_train).epochs} epochs each")

    start = time.perf_counter()
    together = panda.tune_targets(lm, jobs, vocab, RunStore(tempfile.mkdtemp()))
    t_together = time.perf_counter() - start
    start = time.perf_counter()
    alone = [panda.tune_targets(lm, [job], vocab, RunStore(tempfile.mkdtemp()))[0] for job in jobs]
    t_alone = time.perf_counter() - start

    vector_gap = max((a.vectors - b.vectors).abs().max().item() for a, b in zip(together, alone))
    score_gap = max(abs(a.test - b.test) for a, b in zip(together, alone))
    print(f"together: {t_together:.1f} s   alone: {t_alone:.1f} s   ratio: {t_alone / t_together:.1f}x")
    print(f"largest difference: prompt coordinate {vector_gap:.2e}, test P@1 {100 * score_gap:.1f} points")


if __name__ == "__main__":
    main()
