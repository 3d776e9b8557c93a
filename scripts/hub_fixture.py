#!/usr/bin/env python
"""A Hub-layout masked LM that is not a zoo model, built offline: the stand-in for a reader's checkpoint
(``models: [..., /path/to/checkpoint]``) in the second-model and paper-structure smokes.

    python scripts/hub_fixture.py _build/fixtures/hub-bert --hidden 64 --layers 2 --seed 0

BERT architecture with random weights (no facts stored: the smokes check that every chapter runs, not its
numbers) and a WordPiece vocabulary of 30,522 tokens, like ``bert-base-cased``'s 28,996, counted on LAMA text
only (every fact rendered with every ParaRel pattern, plus LAMA's 21,018-word common
vocabulary), so the same arguments give the same directory on every machine. Written with ``save_pretrained``
(config.json, model.safetensors, tokenizer files), as a Hub download would be. A directory built with the same
arguments is kept as it is.
"""
from __future__ import annotations

import argparse
import json
import shutil
from functools import lru_cache
from pathlib import Path

VOCAB_SIZE = 30522  # bert-base-uncased's size
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def lama_text() -> list[str]:
    """Every LAMA fact in its manual template and its ParaRel paraphrases, then the common vocabulary."""
    from tutorial_lib import data

    lines = []
    for relation in data.load_relations(data.relation_ids()).values():
        patterns = dict.fromkeys((relation.template, *relation.paraphrases))
        for fact in relation.facts:
            lines += [p.replace("[X]", fact.subject).replace("[Y]", fact.object) for p in patterns]
    return lines + data.common_vocab("cased")


def wordpiece_vocab(texts: list[str], size: int = VOCAB_SIZE) -> dict[str, int]:
    """Special tokens, every character alone and as a ``##`` continuation, then the most frequent words
    (ties by spelling) up to ``size``. Counted, not trained: the ``tokenizers`` WordPiece trainer orders
    equal counts differently from run to run, and the fixture must be the same everywhere."""
    from collections import Counter

    from tokenizers import normalizers, pre_tokenizers

    norm, split = normalizers.BertNormalizer(lowercase=False), pre_tokenizers.BertPreTokenizer()
    counts = Counter(w for t in texts for w, _ in split.pre_tokenize_str(norm.normalize_str(t)))
    chars = sorted({c for w in counts for c in w})
    tokens = list(dict.fromkeys(SPECIAL + chars + [f"##{c}" for c in chars]))
    words = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if w not in set(tokens)]
    return {t: i for i, t in enumerate((tokens + words)[:size])}


@lru_cache
def lama_vocab(size: int = VOCAB_SIZE) -> dict[str, int]:
    """:func:`wordpiece_vocab` of :func:`lama_text`, computed once per process (several fixtures share it)."""
    return wordpiece_vocab(lama_text(), size)


def tokenizer_from(vocab: dict[str, int]):
    """A cased BERT tokenizer (BERT's normaliser, pre-tokenizer and [CLS] ... [SEP] template) over ``vocab``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[(t, vocab[t]) for t in ("[CLS]", "[SEP]")])
    return BertTokenizerFast(tokenizer_object=tok, do_lower_case=False)


def build(out: str | Path, hidden: int = 64, layers: int = 2, seed: int = 0, vocab_size: int = VOCAB_SIZE) -> Path:
    """Write the directory (skipped when ``out`` already holds a build with these arguments)."""
    import torch
    from transformers import BertConfig, BertForMaskedLM

    out = Path(out)
    spec = {"hidden": hidden, "layers": layers, "seed": seed, "vocab_size": vocab_size}
    stamp = out / "fixture.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == spec:
        return out
    shutil.rmtree(out, ignore_errors=True)
    tokenizer = tokenizer_from(lama_vocab(vocab_size))
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=max(1, hidden // 32), intermediate_size=4 * hidden,
                        max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = BertForMaskedLM(config)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    stamp.write_text(json.dumps(spec) + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="directory to write")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(build(args.out, args.hidden, args.layers, args.seed))


if __name__ == "__main__":
    main()
