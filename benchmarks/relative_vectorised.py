"""Speed of the vectorised relative-space search against loop versions (not library code).

    .venv/bin/python benchmarks/relative_vectorised.py [--steps 200] [--relations 12] [--anchors 4000]

Realistic sizes: R relations x m = 5 prompt vectors, k anchors, width 192 -> 256. Three ways to run the
same search (Eqs. 3, 5, 6, Adam, lowest-loss step), relation r always from the start of seed r:
- ``relative_transfer``: the library's batched search, one [R, m, d_t] tensor optimised at once;
- per relation: ``search_one`` for each relation, the authors' loop (Eq. 6 over its m x d values);
- per relation and vector: ``search_one`` for each prompt vector alone (Eq. 6 over the vector's d values).
Printed: seconds, speed ratios, and the largest difference between the batched and the per-relation results
(each relation is its own run of the batched search, so they are the same search).
"""
from __future__ import annotations

import argparse
import time

import torch

from tutorial_lib.transfer.relative import embedding_stats, init_prompts, relative_transfer, search_one


def one_by_one(source, source_anchors, target_anchors, stats, steps, topk, per_vector):
    """``search_one`` per relation (relation r with seed r), or per prompt vector; returns [R, m, d_t]."""
    r, m = source.shape[:2]
    if not per_vector:
        return torch.stack([search_one(source[i], source_anchors, target_anchors, stats, steps, topk=topk, seed=i)[0]
                            for i in range(r)])
    return torch.stack([torch.cat([search_one(source[i, j:j + 1], source_anchors, target_anchors, stats, steps,
                                              topk=topk, seed=i)[0] for j in range(m)]) for i in range(r)])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relations", type=int, default=12)
    parser.add_argument("--m", type=int, default=5)
    parser.add_argument("--anchors", type=int, default=4000)
    parser.add_argument("--source-width", type=int, default=192)
    parser.add_argument("--target-width", type=int, default=256)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--topk", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-per-vector", action="store_true", help="skip the slowest loop")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    source_emb = torch.randn(args.anchors + 1000, args.source_width, generator=g)
    target_emb = torch.randn(args.anchors + 1000, args.target_width, generator=g) * 0.05
    source_anchors, target_anchors = source_emb[:args.anchors], target_emb[:args.anchors]
    prompts = torch.randn(args.relations, args.m, args.source_width, generator=g)
    stats = embedding_stats(target_emb)
    init = torch.cat([init_prompts(1, args.m, args.target_width, seed=i) for i in range(args.relations)])
    relative_transfer(prompts, source_anchors, target_anchors, stats, steps=2, init=init, progress=False)  # warm-up

    timings = {}
    start = time.perf_counter()
    vectorised, _ = relative_transfer(prompts, source_anchors, target_anchors, stats, steps=args.steps,
                                      topk=args.topk, init=init, runs=args.relations, progress=False)
    timings["vectorised"] = time.perf_counter() - start
    start = time.perf_counter()
    per_relation = one_by_one(prompts, source_anchors, target_anchors, stats, args.steps, args.topk, False)
    timings["per relation"] = time.perf_counter() - start
    if not args.skip_per_vector:
        start = time.perf_counter()
        one_by_one(prompts, source_anchors, target_anchors, stats, args.steps, args.topk, True)
        timings["per relation and vector"] = time.perf_counter() - start

    print(f"R={args.relations} m={args.m} k={args.anchors} top-k={args.topk} "
          f"d {args.source_width}->{args.target_width} steps={args.steps} threads={args.threads}")
    for name, seconds in timings.items():
        print(f"{name:>24}: {seconds:7.2f} s   ratio {seconds / timings['vectorised']:6.1f}x")
    cos = torch.nn.functional.cosine_similarity(vectorised, per_relation, dim=-1)
    print(f"vectorised vs per-relation results: max |diff| {(vectorised - per_relation).abs().max():.2e}, "
          f"min cosine {cos.min():.6f}")


if __name__ == "__main__":
    main()
