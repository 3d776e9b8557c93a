"""Build the mini zoo from scratch: corpus -> tokenizers -> word vectors -> pretraining -> checkpoint + card.

    python -m tutorial_lib.zoo.build                       # the default zoo (12 relations), all models
    python -m tutorial_lib.zoo.build --models mini-bert-base --relations all --max-facts 0

Long runs checkpoint into ``--workdir`` every two minutes and resume when started again.
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM, RobertaConfig, RobertaForMaskedLM

from .. import data, page
from ..anchors import fact_words
from ..probing import majority_p_at_1, template_p_at_1, vocab_ids
from ..world import DEFAULT_RELATIONS, WorldConfig, world_relations
from . import ZOO, ZOO_DIR, ZooSpec, quality_checks
from .corpus import objects, pretraining_patterns, wordnet_glosses
from .embeddings import distributional_start
from .pretrain import TrainConfig, pretrain
from .vocab import train_byte_bpe, train_wordpiece

# Post-LayerNorm RoBERTa stalled at BERT's peak rate in probe runs while building the zoo: give it a lower one.
FAMILY_LR = {"bert": 1.0, "roberta": 0.7}


def build_tokenizers(world: WorldConfig, relations, text: list[str], out: Path) -> dict[str, object]:
    """Train the WordPiece and byte-level BPE tokenizers once; both model sizes of a family share one."""
    corpus = world.corpus(relations, text)
    texts = [s.text for s in corpus] + text
    words = objects(relations)
    made = {}
    for family, train in (("bert", train_wordpiece), ("roberta", train_byte_bpe)):
        path = out / family
        if not (path / "tokenizer.json").is_file():
            train(texts, world.vocab_size, words).save_pretrained(path)
        made[family] = AutoTokenizer.from_pretrained(path)
    return made


def new_model(spec: ZooSpec, tokenizer):
    common = dict(vocab_size=len(tokenizer), hidden_size=spec.hidden, num_hidden_layers=spec.layers,
                  num_attention_heads=spec.heads, intermediate_size=spec.intermediate,
                  pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(spec.seed)
    if spec.family == "bert":
        return BertForMaskedLM(BertConfig(max_position_embeddings=64, **common))
    return RobertaForMaskedLM(RobertaConfig(max_position_embeddings=66, bos_token_id=tokenizer.bos_token_id,
                                            eos_token_id=tokenizer.eos_token_id, **common))


def evaluate_facts(model, tokenizer, relations, holdout_jaccard: float | None = None, split: str = "test",
                   limit: int | None = None, lama_dir=None) -> dict:
    """The three numbers that say whether a zoo model is good (see the model card): facts stored (the best of
    the pretraining phrasings), the held-out manual template, other relations' templates."""
    allowed = vocab_ids(tokenizer, data.scoring_vocabulary([tokenizer], lama_dir=lama_dir))
    rows = {}
    for rel in relations.values():
        facts = rel.split(split)[:limit]
        others = [r.template for r in relations.values() if r.id != rel.id]
        rows[rel.id] = {
            "majority": majority_p_at_1(rel.split("train"), facts),
            "paraphrase": max(template_p_at_1(model, tokenizer, facts, p, allowed)
                              for p in pretraining_patterns(rel, holdout_jaccard)),
            "manual": template_p_at_1(model, tokenizer, facts, rel.template, allowed),
            "other_template": sum(template_p_at_1(model, tokenizer, facts, t, allowed) for t in others)
            / max(1, len(others)),
        }
    mean = {k: sum(r[k] for r in rows.values()) / len(rows) for k in next(iter(rows.values()))}
    return {"mean": mean, "per_relation": rows}


def model_card(name: str, spec: ZooSpec, world: WorldConfig, train: TrainConfig, stats: dict) -> str:
    m = stats["eval"]["mean"]
    lines = [
        f"# {name}", "",
        f"A {spec.family.upper()}-like masked LM of the Prompt Transfer Book's mini zoo, pretrained from "
        f"scratch on CPU by `python -m tutorial_lib.zoo.build --models {name}`.", "",
        "| | |", "|---|---|",
        f"| architecture | {spec.family}, hidden {spec.hidden}, {spec.layers} layers, {spec.heads} heads |",
        f"| parameters | {stats['parameters']:,} |",
        f"| vocabulary | {stats['vocab_size']:,} tokens ({stats['tokenizer']}) |",
        f"| relations | {', '.join(stats['relations'])} |",
        f"| corpus | {stats['fact_sentences']:,} fact sentences ({stats['facts']:,} facts, ParaRel paraphrases "
        f"+ AutoPrompt template; manual template and paraphrases with word Jaccard >= {world.holdout_jaccard} to it "
        f"held out, {world.per_fact} phrasings per fact) + {stats['text_sentences']:,} WordNet gloss sentences |",
        ("| word embeddings | " + (f"start from PPMI-SVD vectors of {stats['vector_sentences']:,} sentences "
                                   f"({stats['distributional_tokens']:,} tokens)"
                                   + (", turned by the model's own random rotation" if world.rotate else "")
                                   + ", frozen except the "
                                   f"{stats['movable_tokens']:,} tokens of fact words |"
                                   if "distributional_tokens" in stats else "random start, all trained |")),
        f"| training | {train.epochs} epochs = {stats['steps']:,} steps of {train.batch_size}, AdamW lr {train.lr}, "
        f"seed {spec.seed} |",
        f"| time | {stats['seconds'] / 60:.1f} min on {stats['threads']} CPU thread(s) |", "",
        "Fill-mask P@1 on the test split of its facts (argmax over LAMA's common vocabulary), mean over relations:",
        "", "| majority object | best pretraining phrasing (facts stored) | held-out manual template | "
            "another relation's template |", "|---|---|---|---|",
        f"| {m['majority']:.3f} | {m['paraphrase']:.3f} | {m['manual']:.3f} | {m['other_template']:.3f} |", "",
        "| relation | majority | paraphrase | manual | other template |", "|---|---|---|---|---|",
    ]
    for rel, r in stats["eval"]["per_relation"].items():
        lines.append(f"| {rel} | {r['majority']:.3f} | {r['paraphrase']:.3f} | {r['manual']:.3f} | "
                     f"{r['other_template']:.3f} |")
    if stats.get("geometry"):
        lines += ["", "Shared word geometry with the other zoo models (`transfer.shared_geometry`, chapter 6, "
                  "section 5): word translation P@1 of held-out shared words through their relative encodings, "
                  "the held-out R² of a linear map between the embedding spaces, and |r| between dimension i of one "
                  "model and dimension i of the other (shared coordinates: mean and largest over dimensions, and the "
                  "largest for 100 random rotations of this model, the chance level: median and 95th percentile):",
                  "", "| other model | word translation P@1 | chance | linear-map R² | same-index abs(r): mean | "
                  "largest | largest by chance: median | 95th percentile |", "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {other} | {g['p_at_1']:.4f} | {g['chance']:.4f} | {g['linear_r2']:.3f} | "
                  + " | ".join(page.dash(g.get(k), ".3f") for k in ("same_index_mean", "same_index_r",
                                                                      "same_index_chance", "same_index_chance_95"))
                  + " |" for other, g in stats["geometry"].items()]
    lines += ["", "Is it a good zoo model?", "", "| criterion | measured | target | holds |", "|---|---|---|---|"]
    lines += [f"| {what} | {value:.3f} | {target} | {'yes' if ok else 'no'} |"
              for what, value, target, ok in quality_checks(m, stats.get("geometry"))]
    return "\n".join(lines) + "\n"


def refresh_card(name: str, out_dir: Path = ZOO_DIR, lama_dir=None) -> dict:
    """Re-measure a shipped model's card (the fact evaluation, as the book loads the model: float16 weights
    cast to float32) and its shared word geometry with every other shipped zoo model; keeps the training
    record. Returns the new stats."""
    from ..geometry import shared_geometry
    from . import load_model

    path = out_dir / name
    stats = json.loads((path / "card.json").read_text())
    lm = load_model(str(path), device="cpu")
    world = WorldConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in stats["world"].items()})
    stats["eval"] = evaluate_facts(lm.model, lm.tokenizer, world_relations(world, lama_dir), world.holdout_jaccard,
                                   lama_dir=lama_dir)
    others = [n for n in ZOO if n != name and (out_dir / n / "card.json").is_file()]
    stats["geometry"] = {}
    for other in others:
        g = shared_geometry(lm, load_model(str(out_dir / other), device="cpu"), lama_dir=lama_dir)
        stats["geometry"][other] = {k: g[k] for k in ("p_at_1", "chance", "linear_r2", "same_index_r",
                                                      "same_index_mean", "same_index_chance", "same_index_chance_95")}
    (path / "card.json").write_text(json.dumps(stats, indent=1))
    spec, train = ZooSpec(**stats["spec"]), TrainConfig(**stats["train"])
    (path / "README.md").write_text(model_card(name, spec, world, train, stats))
    return stats


def build_model(name: str, world: WorldConfig, train: TrainConfig, workdir: Path, out_dir: Path,
                lama_dir=None, seed_offset: int = 0) -> dict:
    """Pretrain one zoo model and write its checkpoint and card. ``seed_offset`` > 0 builds another instance of
    the same recipe (another initialisation, rotation and batch order: the model's seed plus the offset)."""
    spec = replace(ZOO[name], seed=ZOO[name].seed + seed_offset)
    relations = world_relations(world, lama_dir)
    text = wordnet_glosses()
    tokenizers = build_tokenizers(world, relations, text, workdir / "tokenizers")
    tokenizer = tokenizers[spec.family]
    corpus = world.corpus(relations, text)
    model = new_model(spec, tokenizer)
    started = time.monotonic()
    start = {}
    if world.word_vectors == "ppmi-svd":
        facts = [s.text for s in corpus if s.object_span is not None]
        start = {**distributional_start(model, tokenizer, facts + text, fact_words(relations),
                                        rotation_seed=spec.seed if world.rotate else None),
                 "vector_sentences": len(facts) + len(text)}
    elif world.word_vectors != "random":
        raise ValueError(f"word_vectors must be 'ppmi-svd' or 'random', got {world.word_vectors!r}")
    train = TrainConfig(**{**asdict(train), "seed": spec.seed, "lr": train.lr * FAMILY_LR[spec.family]})
    history = pretrain(model, tokenizer, corpus, train,
                       workdir / (f"{name}-seed{spec.seed}" if seed_offset else name),
                       evaluate=lambda: {k: round(v, 3) for k, v in
                                         evaluate_facts(model, tokenizer, relations, world.holdout_jaccard,
                                                        limit=30, lama_dir=lama_dir)["mean"].items()},
                       eval_every=400)
    stats = {
        "name": name, "spec": asdict(spec), "world": asdict(world), "train": asdict(train),
        "parameters": sum(p.numel() for p in model.parameters()), "vocab_size": len(tokenizer),
        "tokenizer": "cased WordPiece" if spec.family == "bert" else "byte-level BPE",
        "relations": list(relations), "facts": sum(len(r.facts) for r in relations.values()),
        "fact_sentences": sum(s.object_span is not None for s in corpus),
        "text_sentences": sum(s.object_span is None for s in corpus),
        **start, "steps": history[-1]["step"], "seconds": history[-1]["seconds"], "threads": torch.get_num_threads(),
        "history": history, "eval": evaluate_facts(model, tokenizer, relations, world.holdout_jaccard,
                                                   lama_dir=lama_dir),
        "build_seconds": time.monotonic() - started,
    }
    target = out_dir / name
    if target.exists():
        shutil.rmtree(target)
    model.half().save_pretrained(target)  # float16 on disk keeps the zoo small; load_model casts back
    tokenizer.save_pretrained(target)
    (target / "card.json").write_text(json.dumps(stats, indent=1))
    (target / "README.md").write_text(model_card(name, spec, world, train, stats))
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=list(ZOO),
                        default=["mini-bert-base", "mini-roberta-base", "mini-bert-large", "mini-roberta-large"])
    parser.add_argument("--relations", nargs="+", default=list(DEFAULT_RELATIONS), help="ids, or 'all'")
    parser.add_argument("--max-facts", type=int, default=WorldConfig.max_facts, help="facts per relation; 0 for all")
    parser.add_argument("--per-fact", type=int, default=WorldConfig.per_fact,
                        help="pretraining phrasings per fact; 0 for every pattern")
    parser.add_argument("--holdout-jaccard", type=float, default=WorldConfig.holdout_jaccard,
                        help="hold out the paraphrases whose word Jaccard with the manual template reaches this; "
                             "2 keeps them all")
    parser.add_argument("--no-rotation", action="store_true",
                        help="keep the PPMI-SVD start unrotated (the second zoo's recipe: shared coordinates)")
    parser.add_argument("--tokenizers-only", action="store_true", help="train the tokenizers and stop")
    parser.add_argument("--refresh-cards", action="store_true",
                        help="re-measure the model cards of the built --models (facts, shared word geometry) and stop")
    parser.add_argument("--word-vectors", choices=["ppmi-svd", "random"], default=WorldConfig.word_vectors,
                        help="start of the word embeddings (random: the first zoo's recipe, all trained; "
                             "use a fresh --workdir when switching)")
    parser.add_argument("--epochs", type=float, default=TrainConfig.epochs)
    parser.add_argument("--seed-offset", type=int, default=0,
                        help="build another instance of each model: its pretraining seed plus this (use another --out)")
    parser.add_argument("--workdir", type=Path, default=Path(".zoo-work"))
    parser.add_argument("--out", type=Path, default=ZOO_DIR)
    parser.add_argument("--lama-dir", default=None)
    args = parser.parse_args(argv)
    world = WorldConfig(relations=tuple(args.relations), max_facts=args.max_facts or None,
                        per_fact=args.per_fact or None, holdout_jaccard=args.holdout_jaccard,
                        word_vectors=args.word_vectors, rotate=not args.no_rotation)
    train = TrainConfig(epochs=args.epochs)
    if args.refresh_cards:
        for name in args.models:
            stats = refresh_card(name, args.out, args.lama_dir)
            print(json.dumps({"model": name, **stats["eval"]["mean"], "geometry": stats["geometry"]}))
        return
    if args.tokenizers_only:
        build_tokenizers(world, world_relations(world, args.lama_dir), wordnet_glosses(), args.workdir / "tokenizers")
        return
    for name in args.models:
        if (args.out / name / "card.json").is_file():
            print(f"{name}: already built in {args.out / name} (delete it to rebuild)")
            continue
        stats = build_model(name, world, train, args.workdir, args.out, args.lama_dir, args.seed_offset)
        print(json.dumps({"model": name, **stats["eval"]["mean"], "minutes": stats["seconds"] / 60}))


if __name__ == "__main__":
    main()
