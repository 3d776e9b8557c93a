"""The mini zoo's pretraining corpus: real LAMA facts in many phrasings plus real English text.

Fact sentences render every fact of the chosen relations with the ParaRel paraphrases and the AutoPrompt
template, never with the manual LAMA template nor with the paraphrases a word or two away from it (held out,
so that the manual template is a genuinely unseen way to ask and the manual-prompt baseline stays honest).
English text comes from WordNet glosses (Debian package ``wordnet-base``): a share of them is mixed into the
pretraining corpus, and all of them feed the word vectors the models start from (:mod:`.embeddings`). Each
fact sentence remembers where its object is, so pretraining can mask it.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from ..data import Relation

WORDNET_DIR = Path("/usr/share/wordnet")


@dataclass(frozen=True)
class Sentence:
    text: str
    object_span: tuple[int, int] | None = None  # characters of the object in a fact sentence


def render(pattern: str, subject: str, obj: str) -> Sentence:
    """Fill a ``[X] ... [Y] .`` pattern (the final period attached as in running text), keeping the
    character span of the object."""
    pattern = re.sub(r"\s+([.,])", r"\1", pattern).strip()
    head, tail = pattern.split("[Y]", 1)
    head = head.replace("[X]", subject)
    return Sentence(head + obj + tail.replace("[X]", subject), (len(head), len(head) + len(obj)))


def _same_pattern(a: str, b: str) -> bool:
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)


def pattern_words(pattern: str) -> frozenset[str]:
    """The lower-cased words of a pattern, the ``[X]`` and ``[Y]`` slots counted as words (two patterns that
    share both slots and one word are closer than two that share one word), punctuation left out."""
    return frozenset(w if w.startswith("[") else w.lower() for w in re.findall(r"\[[XY]\]|[A-Za-z0-9']+", pattern))


def jaccard(a: str, b: str) -> float:
    """Word overlap of two patterns: |A & B| / |A | B| of their :func:`pattern_words`."""
    wa, wb = pattern_words(a), pattern_words(b)
    return len(wa & wb) / max(1, len(wa | wb))


def pretraining_patterns(relation: Relation, holdout_jaccard: float | None = None) -> list[str]:
    """ParaRel paraphrases plus the AutoPrompt template, without the manual template and, when
    ``holdout_jaccard`` is set, without the paraphrases whose word overlap with it reaches that value
    (the least similar one stays when all would go)."""
    patterns = [p for p in relation.paraphrases if not _same_pattern(p, relation.template)]
    if holdout_jaccard is not None and patterns:
        far = [p for p in patterns if jaccard(p, relation.template) < holdout_jaccard]
        patterns = far or [min(patterns, key=lambda p: jaccard(p, relation.template))]
    if relation.autoprompt:
        patterns.append(relation.autoprompt)
    if not patterns:
        raise ValueError(f"{relation.id} has no pattern other than its manual template")
    return patterns


def fact_sentences(relations: dict[str, Relation], per_fact: int | None = None,
                   seed: int = 0, holdout_jaccard: float | None = None) -> list[Sentence]:
    """Each fact rendered with ``per_fact`` random pretraining patterns (all when None)."""
    rng = random.Random(seed)
    out = []
    for rel in relations.values():
        patterns = pretraining_patterns(rel, holdout_jaccard)
        for fact in rel.facts:
            chosen = patterns if per_fact is None else rng.sample(patterns, min(per_fact, len(patterns)))
            out.extend(render(p, fact.subject, fact.object) for p in chosen)
    return out


def wordnet_glosses(wordnet_dir: Path = WORDNET_DIR) -> list[str]:
    """Definitions and quoted usage examples from WordNet's ``data.*`` files, as sentences."""
    files = sorted(wordnet_dir.glob("data.*"))
    if not files:
        raise FileNotFoundError(
            f"no WordNet data files in {wordnet_dir}: install them with `apt-get install wordnet-base` "
            "(only needed to rebuild the zoo; the book uses the shipped checkpoints)")
    out = []
    for path in files:
        for line in path.read_text(encoding="utf-8", errors="ignore").splitlines():
            if line.startswith(" ") or "| " not in line:
                continue
            for part in line.split("| ", 1)[1].split(";"):
                part = part.strip().strip('"').strip()
                if len(part.split()) >= 3:
                    out.append(part[0].upper() + part[1:] + ("" if part.endswith((".", "!", "?")) else "."))
    return out


def build_corpus(relations: dict[str, Relation], text: list[str], text_fraction: float,
                 per_fact: int | None = None, seed: int = 0,
                 holdout_jaccard: float | None = None) -> list[Sentence]:
    """Fact sentences mixed with English sentences so that text makes ``text_fraction`` of the corpus."""
    facts = fact_sentences(relations, per_fact, seed, holdout_jaccard)
    rng = random.Random(seed)
    n_text = min(len(text), round(len(facts) * text_fraction / (1 - text_fraction)))
    corpus = facts + [Sentence(t) for t in rng.sample(text, n_text)]
    rng.shuffle(corpus)
    return corpus


def objects(relations: dict[str, Relation]) -> list[str]:
    return sorted({f.object for rel in relations.values() for f in rel.facts})

