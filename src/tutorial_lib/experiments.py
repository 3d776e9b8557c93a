"""Experiment units shared by the chapters, each cached in the run store.

A chapter asks for "the tuned prompts of model A with seed s" or "the scores of method M from A to B"
and gets them from disk when an earlier chapter (or run) computed them with the same settings.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from hashlib import sha256

import torch

from . import data
from .progress import tqdm
from .prompts import PromptSet, TuneConfig, evaluate, tune_or_load
from .results import RunStore
from .world import DEFAULT_RELATIONS, relations_for
from .zoo import MaskedLM, load_model


@dataclass(frozen=True)
class World:
    """The models, relations and scoring vocabulary a chapter works in."""

    models: dict[str, MaskedLM]
    relations: dict[str, data.Relation]
    vocab: list[str]

    @cached_property
    def facts_digest(self) -> str:
        """A hash of every fact of the world (:func:`data.facts_digest`; it keys the cached units scored on them)."""
        return data.facts_digest(self.relations)

    def revisions(self, names) -> dict[str, str]:
        """The weights' revision of each named model (it keys the cached units, see :func:`zoo.load_model`)."""
        return {name: self.models[name].revision for name in names}


def load_world(models: list[str], relations: list[str] | None = None, device: str = "auto",
               test_facts: int | None = None) -> World:
    """Load ``models``; relations default to the mini zoo's 12. The facts are :func:`world.relations_for` the
    models (with a zoo model: the facts the zoo was pretrained on, for any subset of its relations); the scoring
    vocabulary is the words that are one token in every model.
    ``test_facts``: score on at most this many test facts per relation (:func:`data.cap_split`; None: all)."""
    if not models:
        raise ValueError("give at least one model name")
    device = None if device in (None, "auto") else device
    return world_of({name: load_model(name, device=device) for name in models}, relations, test_facts)


def world_of(lms: dict[str, MaskedLM], relations: list[str] | None = None, test_facts: int | None = None) -> World:
    """:func:`load_world` for models already loaded (``{name: MaskedLM}``, e.g. a zoo model trained further)."""
    if relations is not None and not list(relations):
        raise ValueError("relations is empty: give relation ids, or None for the mini zoo's 12")
    ids = list(relations) if relations is not None else list(DEFAULT_RELATIONS)
    rels = {r: data.cap_split(rel, "test", test_facts) for r, rel in relations_for(list(lms), ids).items()}
    vocab = data.scoring_vocabulary([lm.tokenizer for lm in lms.values()])
    return World(lms, rels, vocab)


def source_prompts(world: World, model: str, seed: int, m: int = 5, epochs: int = 10,
                   store: RunStore | None = None, progress: bool = True) -> tuple[PromptSet, dict]:
    """Prompts tuned directly on ``model`` (chapter 1), loaded from the run store when present."""
    return tune_or_load(world.models[model], world.relations, world.vocab, TuneConfig(m=m, epochs=epochs, seed=seed),
                        store=store, progress=progress)


def _transfer_config(world: World, method: str, sources: list[str], target: str, seed: int, m: int, epochs: int,
                     options: dict) -> dict:
    return {"method": method, "sources": list(sources), "target": target, "seed": seed,
            "revisions": world.revisions([*sources, target]), "relations": list(world.relations),
            "source_tuning": asdict(TuneConfig(m=m, epochs=epochs, seed=seed)),
            "vocab_size": len(world.vocab), "facts": world.facts_digest, "options": options}


def _scored(world: World, target: str, prompts: torch.Tensor, m: int):
    """A transfer record's content: test P@1 of target prompts [R, m, d_t], and the prompts."""
    target_prompts = PromptSet(target, list(world.relations), prompts.detach().cpu(), {"m": m})
    return {"test": evaluate(world.models[target], target_prompts, world.relations, world.vocab)}, \
        {"vectors": target_prompts.vectors}


def transfer_scores(world: World, method: str, sources: list[str], target: str, seed: int, m: int = 5,
                    epochs: int = 10, store: RunStore | None = None, progress: bool = True,
                    **options) -> tuple[dict, torch.Tensor]:
    """Test P@1 per relation of ``method`` from ``sources`` (tuned with ``seed``) to ``target``.

    ``options`` go to :func:`tutorial_lib.transfer.transfer` (``n_anchors``, ``steps``, ``topk``, ...);
    they must be JSON-serialisable (no callbacks) since they key the cached record.
    ``projector_epochs`` is the projector's ``epochs`` (``epochs`` here is the source prompts' tuning);
    ``avoid_relation_words=True`` (discretize) forbids each relation's vectors the words of its own patterns
    (:attr:`data.Relation.words`). Returns (scores, target prompts).
    """
    from .transfer import transfer

    store = store if store is not None else RunStore()
    prompts = [source_prompts(world, s, seed, m, epochs, store, progress)[0] for s in sources]

    def compute():
        seeded = {"seed": seed} if method in ("projector", "relative") else {}
        method_options = {"epochs" if k == "projector_epochs" else k: v for k, v in options.items()}
        if method_options.pop("avoid_relation_words", False):
            method_options["avoid"] = [world.relations[r].words for r in prompts[0].relations]
        result = transfer(method, [world.models[s] for s in sources], [p.vectors for p in prompts],
                          world.models[target], **seeded, **method_options)
        return _scored(world, target, result.prompts, m)

    record = store.get_or_compute("transfer", _transfer_config(world, method, sources, target, seed, m, epochs,
                                                               options), compute)
    return record.metrics["test"], record.tensors["vectors"]


def projector_pairs(world: World, pairs, seeds, m: int = 5, epochs: int = 10, store: RunStore | None = None,
                    progress: bool = False, **options) -> None:
    """Store the projector transfers of every (source, target) pair in ``pairs`` and seed (the records
    :func:`transfer_scores` reads with the same ``options``, at most ``n_anchors`` and ``projector_epochs``),
    training the projectors of all pairs with the same widths and anchor count together in one batched pass
    (:func:`transfer.train_projectors`: the same projectors, many times faster than one by one). Runs
    already in the store are skipped."""
    from .transfer import anchor_pairs, train_projectors

    if set(options) - {"n_anchors", "projector_epochs"}:
        raise ValueError(f"batched projectors take only n_anchors and projector_epochs, got {sorted(options)}")
    store = store if store is not None else RunStore()
    groups: dict[tuple, list] = {}  # (d_s, d_t, k) -> [(config, source, target, seed, anchors)]
    for source, target in pairs:
        configs = {seed: _transfer_config(world, "projector", [source], target, seed, m, epochs, options)
                   for seed in seeds}
        missing = [seed for seed, config in configs.items() if store.load("transfer", config) is None]
        if missing:
            _, (source_anchors,), target_anchors = anchor_pairs(world.models[source], world.models[target],
                                                                options.get("n_anchors"))
            key = (source_anchors.shape[1], target_anchors.shape[1], len(target_anchors))
            groups.setdefault(key, []).extend((configs[seed], source, target, seed, (source_anchors, target_anchors))
                                              for seed in missing)
    for runs in tqdm(list(groups.values()), desc="projectors (trained together)", disable=not progress):
        projectors, _ = train_projectors(torch.stack([a[0] for *_, a in runs]), torch.stack([a[1] for *_, a in runs]),
                                         [seed for _, _, _, seed, _ in runs],
                                         epochs=options.get("projector_epochs", 10))
        for (config, source, target, seed, _), projector in zip(runs, projectors):
            prompts = source_prompts(world, source, seed, m, epochs, store, progress=False)[0].vectors
            with torch.no_grad():
                mapped = projector(prompts.float())
            store.get_or_compute("transfer", config, lambda mapped=mapped: _scored(world, target, mapped, m))


def relative_seeds(world: World, sources: list[str], target: str, seeds, m: int = 5, epochs: int = 10,
                   store: RunStore | None = None, **options) -> None:
    """Store the relative transfers of several seeds (the records :func:`transfer_scores` reads with the same
    ``options``) from one search over the prompts of all seeds at once (``runs``, see
    :func:`transfer.relative_transfer`: each seed's search as if alone). Seeds already in the store are
    skipped."""
    from .transfer import init_prompts, transfer

    store = store if store is not None else RunStore()
    configs = {seed: _transfer_config(world, "relative", sources, target, seed, m, epochs, options) for seed in seeds}
    missing = [seed for seed, config in configs.items() if store.load("transfer", config) is None]
    if len(missing) < 2:
        return  # nothing to batch: transfer_scores computes a single seed on its own
    prompts = [torch.cat([source_prompts(world, s, seed, m, epochs, store, progress=False)[0].vectors
                          for seed in missing]) for s in sources]
    r, width = len(world.relations), world.models[target].width
    starts = torch.cat([init_prompts(r, m, width, seed) for seed in missing])
    result = transfer("relative", [world.models[s] for s in sources], prompts, world.models[target], init=starts,
                      runs=len(missing), progress=False, **options)
    for seed, found in zip(missing, result.prompts.split(r)):
        store.get_or_compute("transfer", configs[seed], lambda found=found: _scored(world, target, found, m))


# ---------------------------------------------------------------- units of the analyses (chapters 5 and 6)

def transfer_grid(world: World, method: str, source_sets, targets, seeds, m: int = 5, epochs: int = 10,
                  store: RunStore | None = None, progress: bool = True, **options):
    """:func:`transfer_scores` for every source set x target x seed, as one tidy table.

    ``source_sets``: a list of model lists (one list = one transfer; several models = multi-source, Eq. 7).
    Columns: ``sources`` (names joined by " + "), ``n_sources``, ``target``, ``seed``, ``held_out`` (the
    target is none of the sources), ``test`` (mean test P@1 over relations) and one column per relation.
    """
    import pandas as pd

    source_sets = [[s] if isinstance(s, str) else list(s) for s in source_sets]
    targets, seeds = list(targets), list(seeds)
    if not source_sets or not targets or not seeds:
        raise ValueError(f"give at least one source set, target and seed; got {source_sets}, {targets}, {seeds}")
    unknown = sorted(({name for s in source_sets for name in s} | set(targets)) - set(world.models))
    if unknown:
        raise ValueError(f"model(s) {unknown} are not loaded in this world; loaded: {list(world.models)}")
    empty = [s for s in source_sets if not s]
    if empty:
        raise ValueError("every source set needs at least one model")
    if method == "projector" and set(options) <= {"n_anchors", "projector_epochs"}:  # every pair and seed at once
        pairs = [(s[0], t) for s in source_sets for t in targets if len(s) == 1]
        projector_pairs(world, pairs, seeds, m, epochs, store, progress, **options)
    if method == "relative" and len(seeds) > 1 and not {"select_step", "callback", "init", "runs"} & set(options):
        for sources, target in tqdm([(s, t) for s in source_sets for t in targets], desc="relative searches (seeds "
                                    "together)", disable=not progress):
            relative_seeds(world, sources, target, seeds, m, epochs, store, **options)
    jobs = [(s, t, seed) for s in source_sets for t in targets for seed in seeds]
    rows = []
    for sources, target, seed in tqdm(jobs, desc=f"{method} transfers", disable=not progress):
        scores, _ = transfer_scores(world, method, sources, target, seed, m, epochs, store, progress=False, **options)
        rows.append({"sources": " + ".join(sources), "n_sources": len(sources), "target": target, "seed": seed,
                     "held_out": target not in sources, "test": scores["mean"],
                     **{r: v for r, v in scores.items() if r != "mean"}})
    return pd.DataFrame(rows)


# What each sweepable parameter accepts: (description, test).
SWEEPS = {
    "n_anchors": ("positive integers or None (all shared words)",
                  lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 1)),
    "m": ("positive integers (prompt length)", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1),
    "normalize": ("True or False (Eq. 6 on or off)", lambda v: isinstance(v, bool)),
    "topk": ("positive integers or None (no top-k mask)",
             lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 1)),
    "steps": ("non-negative integers", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0),
}


def check_sweep(parameter: str, values) -> list:
    """Validate a sweep: ``parameter`` one of :data:`SWEEPS`, ``values`` a non-empty list of distinct
    accepted values; raises ValueError naming the bad value and what is accepted."""
    if parameter not in SWEEPS:
        raise ValueError(f"cannot sweep {parameter!r}; sweepable parameters: {list(SWEEPS)}")
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"values of a {parameter} sweep must be a list, got {values!r}")
    values = list(values)
    accepted, ok = SWEEPS[parameter]
    if not values:
        raise ValueError(f"empty {parameter} sweep: give at least one value ({accepted})")
    bad = [v for v in values if not ok(v)]
    if bad:
        raise ValueError(f"bad {parameter} value(s) {bad}: a {parameter} sweep takes {accepted}")
    dup = sorted({repr(v) for v in values if values.count(v) > 1})
    if dup:
        raise ValueError(f"{parameter} value(s) {', '.join(dup)} given more than once")
    return values


def count_anchors(world: World, sources: list[str], target: str, **options) -> int:
    """How many anchor words ``sources`` and ``target`` share (the most ``n_anchors`` can use)."""
    from .transfer import anchor_words, lama_fact_words

    exclude = options.get("exclude")
    exclude = lama_fact_words(options.get("lama_dir")) if exclude is None else exclude
    return len(anchor_words([world.models[s].tokenizer for s in sources], world.models[target].tokenizer, None,
                            exclude, options.get("words"), options.get("lama_dir")))


def transfer_sweep(world: World, parameter: str, values, sources, target: str, seeds, m: int = 5,
                   epochs: int = 10, store: RunStore | None = None, progress: bool = True, **options):
    """Relative transfer from ``sources`` to ``target`` for each value of ``parameter`` (see
    :data:`SWEEPS`; ``"m"`` tunes source prompts of that length) and each seed, every run cached.

    Columns: ``parameter`` value, ``seed``, ``test`` (mean test P@1 on the target), ``source_test`` (the
    source prompts' own test P@1, mean over sources) and, for ``n_anchors``, ``anchors_used``
    (requests at or above the number of shared words run once, as "all").
    """
    import pandas as pd

    values = check_sweep(parameter, values)
    sources = [sources] if isinstance(sources, str) else list(sources)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("give at least one seed")
    missing = [n for n in sources + [target] if n not in world.models]
    if missing:
        raise ValueError(f"model(s) {missing} are not loaded in this world; loaded: {list(world.models)}")
    if parameter in options:
        raise ValueError(f"{parameter!r} is swept: do not also pass it as an option")
    shared = count_anchors(world, sources, target, **options) if parameter == "n_anchors" else None
    # Every request >= the shared words means "all": run it once, under the smallest such number asked for
    # (so that it is the same cached run as the chapters' default n_anchors when that is in the list).
    as_all = min([v for v in values if v is not None and v >= shared], default=None) if shared else None
    rows = []
    jobs = [(v, s) for v in values for s in seeds]
    for value, seed in tqdm(jobs, desc=f"{parameter} sweep", disable=not progress):
        length, kwargs = (value, dict(options)) if parameter == "m" else (m, {**options, parameter: value})
        if parameter == "normalize" and value is True:
            kwargs.pop("normalize")  # the search's default: the same cached run as without the option
        row = {parameter: value, "seed": seed}
        if parameter == "n_anchors":
            used = shared if value is None else min(value, shared)
            kwargs["n_anchors"] = as_all if used == shared else value  # one run for every request >= all
            row["anchors_used"] = used
        scores, _ = transfer_scores(world, "relative", sources, target, seed, length, epochs, store, progress=False,
                                    **kwargs)
        own = [source_prompts(world, s, seed, length, epochs, store, progress=False)[1]["test"]["mean"]
               for s in sources]
        rows.append({**row, "test": scores["mean"], "source_test": sum(own) / len(own)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- units of the transfer chapters (2-4)

def method_options(method: str, n_anchors: int | None = None, steps: int = 2000, topk: int | None = 8192,
                   projector_epochs: int = 10) -> dict:
    """The options of ``method`` for :func:`transfer_scores` from the chapters' parameters, so that every
    chapter asks for (and reuses) the same cached runs: direct and discretization take none, the projector
    the anchor count (None: all shared words) and its training epochs (the authors: 10), the relative search
    the anchor count, the steps and the top-k mask (the authors: 2,000 steps, top 8,192; ``topk=None`` turns
    the mask off)."""
    if method in ("direct", "discretize"):
        return {}
    if method == "projector":
        return {"n_anchors": n_anchors, "projector_epochs": projector_epochs}
    if method == "relative":
        return {"n_anchors": n_anchors, "steps": steps, "topk": topk}
    raise ValueError(f"unknown transfer method {method!r}; choose one of "
                     "['direct', 'discretize', 'projector', 'relative']")


def reference_scores(world: World, model: str, seed: int = 0, m: int = 5,
                     store: RunStore | None = None) -> dict[str, dict[str, float]]:
    """Non-transfer references on ``model`` (paper Table 2), test P@1 per relation plus ``"mean"``:
    ``"random prompt"`` (m random vectors drawn with ``seed``, as prompt tuning's start), ``"manual
    template"`` (the relation's LAMA template) and ``"majority"`` (always the most frequent train object).
    Cached in the run store like every other unit."""
    from .probing import majority_p_at_1, template_p_at_1, vocab_ids
    from .prompts import init_prompts, scored_facts

    store = store if store is not None else RunStore()
    lm = world.models[model]
    order = list(world.relations)
    config = {"model": model, "revision": lm.revision, "relations": order, "seed": seed, "m": m,
              "templates": [world.relations[r].template for r in order],
              "facts": world.facts_digest, "vocab": sha256(" ".join(world.vocab).encode()).hexdigest()}

    def compute():
        random_vectors = init_prompts(lm, [world.relations[r] for r in order], TuneConfig(m=m, seed=seed))
        out = {"random prompt": evaluate(lm, PromptSet(model, order, random_vectors, {"m": m}), world.relations,
                                         world.vocab)}
        allowed = vocab_ids(lm.tokenizer, world.vocab)
        manual, majority = {}, {}
        with torch.no_grad():
            for r in order:
                test = scored_facts(world.relations[r].split("test"), world.vocab)
                train = scored_facts(world.relations[r].split("train"), world.vocab)
                manual[r] = template_p_at_1(lm.model, lm.tokenizer, test, world.relations[r].template, allowed)
                majority[r] = majority_p_at_1(train, test)
        for name, scores in (("manual template", manual), ("majority", majority)):
            valid = [v for v in scores.values() if v == v]
            out[name] = {**scores, "mean": sum(valid) / len(valid) if valid else float("nan")}
        return out, {"random_prompt": random_vectors}

    return store.get_or_compute("reference", config, compute).metrics
