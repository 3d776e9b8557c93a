"""Speed of the vectorised relative-space search against loop versions (not library code).

    .venv/bin/python benchmarks/relative_vectorised.py [--steps 200] [--relations 12] [--anchors 4000]

Realistic sizes: R relations x m = 5 prompt vectors, k anchors, width 192 -> 256. Three implementations
of the same search (Eqs. 3, 5, 6, Adam, lowest-loss step) from the same random start:
- ``relative_transfer``: the library, one [R, m, d_t] tensor optimised at once;
- per relation: one search per relation, as the authors' code (statistics of Eq. 6 over its m x d values);
- per relation and vector: one search per prompt vector (Eq. 6 over the vector's d values).
Printed: seconds, speed ratios, and the largest difference between the library's and the per-relation
results (they optimise the same function; only Adam's epsilon sees the loss scaled by 1/R).
"""
from __future__ import annotations

import argparse
import time

import torch

from tutorial_lib.transfer.relative import (embedding_stats, init_prompts, matching_loss, normalize_to_target,
                                            relative_encoding, relative_transfer, topk_mask)


def relative_transfer_loop(source, source_anchors, target_anchors, stats, steps, lr, topk, init, per_vector):
    """One search per relation (or per prompt vector); returns [R, m, d_t]."""
    r, m = source.shape[:2]
    out = torch.empty(r, m, target_anchors.shape[1])
    units = [(i, slice(j, j + 1)) for i in range(r) for j in range(m)] if per_vector else \
        [(i, slice(0, m)) for i in range(r)]
    for i, cols in units:
        rel_s = relative_encoding(source[i, cols], source_anchors)
        mask = topk_mask(rel_s, topk)
        raw = init[i, cols].clone().requires_grad_(True)
        optimizer = torch.optim.Adam([raw], lr=lr)
        best_value, best = float("inf"), None
        for step in range(steps + 1):
            v = normalize_to_target(raw, stats)
            loss = matching_loss(rel_s * mask, relative_encoding(v, target_anchors), mask)
            if loss.item() < best_value:
                best_value, best = loss.item(), v.detach().clone()
            if step < steps:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        out[i, cols] = best
    return out


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
    init = init_prompts(args.relations, args.m, args.target_width, seed=1)
    relative_transfer(prompts, source_anchors, target_anchors, stats, steps=2, init=init, progress=False)  # warm-up

    timings = {}
    start = time.perf_counter()
    vectorised, _ = relative_transfer(prompts, source_anchors, target_anchors, stats, steps=args.steps,
                                      topk=args.topk, init=init, progress=False)
    timings["vectorised"] = time.perf_counter() - start
    start = time.perf_counter()
    per_relation = relative_transfer_loop(prompts, source_anchors, target_anchors, stats, args.steps, 5e-3,
                                          args.topk, init, per_vector=False)
    timings["per relation"] = time.perf_counter() - start
    if not args.skip_per_vector:
        start = time.perf_counter()
        relative_transfer_loop(prompts, source_anchors, target_anchors, stats, args.steps, 5e-3, args.topk, init,
                               per_vector=True)
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
