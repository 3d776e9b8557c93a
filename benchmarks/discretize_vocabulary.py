"""Is the book's discretization strong because it keeps to LAMA's common vocabulary? (not library code)

    LAMA_DIR=../shared/lama .venv/bin/python benchmarks/discretize_vocabulary.py   # 2 min on 2 cores, runs cached

Chapter 3 snaps each tuned vector to the nearest word (cosine) that both models hold as one token, from LAMA's
common vocabulary. The paper snaps to the nearest of *all* source tokens and gives the target those tokens as
text, which the target re-tokenizes. Both variants are written out as templates ``[X] w1 .. wm [Y] .`` and scored
on the target's test facts with the cpu profile's models, seeds and facts, beside the library's discretization
(vectors, as chapter 3) and relative transfer (as chapter 4), both from the run store. Printed: how often the
nearest of all tokens is a common-vocabulary word, and per cross-model cell the mean test P@1 over seeds.
"""
from __future__ import annotations

import itertools
import warnings

import pandas as pd
import torch
import torch.nn.functional as F
from zoo_seeds import CPU, TOPK  # the cpu profile and chapter 4's top-k, as the zoo benchmark reads them

from tutorial_lib import experiments
from tutorial_lib.anchors import shared_words
from tutorial_lib.probing import template_p_at_1, vocab_ids
from tutorial_lib.prompts import scored_facts
from tutorial_lib.results import RunStore
from tutorial_lib.tokens import single_token_ids

def nearest_tokens(lm, vectors: torch.Tensor, candidates: list[int] | None = None) -> torch.Tensor:
    """[R, m] id of the token whose input embedding is nearest (cosine) to each vector: among ``candidates``,
    or among every ordinary token of ``lm``."""
    embeddings = F.normalize(lm.model.get_input_embeddings().weight.detach().float(), dim=-1)
    sims = F.normalize(vectors.float(), dim=-1) @ embeddings.T
    hidden = torch.zeros(embeddings.shape[0], dtype=torch.bool)
    hidden[lm.tokenizer.all_special_ids] = True
    if candidates is not None:
        hidden |= ~torch.isin(torch.arange(embeddings.shape[0]), torch.tensor(candidates))
    return sims.masked_fill(hidden, -2.0).argmax(-1)


def as_template(lm_source, lm_target, ids: torch.Tensor, tests: dict, vocab: list[str]) -> float:
    """Mean test P@1 over relations of the snapped tokens, given to the target as text."""
    allowed = vocab_ids(lm_target.tokenizer, vocab)
    with torch.no_grad():
        scores = [template_p_at_1(lm_target.model, lm_target.tokenizer, facts,
                                  f"[X] {lm_source.tokenizer.decode(row.tolist()).strip()} [Y] .", allowed)
                  for row, facts in zip(ids, tests.values())]
    return 100 * sum(scores) / len(scores)


def main() -> None:
    warnings.simplefilter("ignore")
    store, p = RunStore(), CPU
    models, seeds = p["models"], p["seeds"]
    world = experiments.load_world(models, p["relations"], "cpu", p["test_facts"])
    tests = {r: scored_facts(world.relations[r].split("test"), world.vocab) for r in world.relations}
    library = {}
    for method in ("discretize", "relative"):
        options = experiments.method_options(method, p["n_anchors"], p["max_steps"], TOPK, p["projector_epochs"])
        grid = experiments.transfer_grid(world, method, [[s] for s in models], models, seeds, p["m"],
                                         p["epochs"], store, progress=False, **options)
        library[method] = 100 * grid.groupby(["sources", "target"]).test.mean()
    rows, inside = {}, []
    for s, t in itertools.permutations(models, 2):
        lm_s, lm_t = world.models[s], world.models[t]
        candidates = single_token_ids(lm_s.tokenizer, shared_words([lm_s.tokenizer, lm_t.tokenizer],
                                                                   alphabetic=False))
        paper, book = [], []
        for seed in seeds:
            vectors = experiments.source_prompts(world, s, seed, p["m"], p["epochs"], store, progress=False)[0].vectors
            every = nearest_tokens(lm_s, vectors)
            inside.append(torch.isin(every, torch.tensor(candidates)).float().mean().item())
            paper.append(as_template(lm_s, lm_t, every, tests, world.vocab))
            book.append(as_template(lm_s, lm_t, nearest_tokens(lm_s, vectors, candidates), tests, world.vocab))
        rows[s, t] = {"paper's (all tokens, as text)": sum(paper) / len(paper),
                      "book's (common words, as text)": sum(book) / len(book),
                      "book's (library, vectors)": library["discretize"][s, t],
                      "relative (library)": library["relative"][s, t]}
    table = pd.DataFrame(rows).T
    print(f"nearest of all source tokens is a common-vocabulary word: {100 * sum(inside) / len(inside):.0f} % "
          "of the vectors")
    print(table.round(1).to_string())
    print("mean across cells:", table.mean().round(1).to_dict())
    for column in table.columns[:3]:
        print(f"relative beats {column} in {int((table['relative (library)'] > table[column]).sum())} of {len(table)}")


if __name__ == "__main__":
    main()
