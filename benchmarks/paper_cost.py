"""What params/paper.yaml costs: measured seconds per step on this CPU, counted steps of the paper's setting.

    .venv/bin/python benchmarks/paper_cost.py [--threads 1] [--repeats 5]

Random-weight BERT models of bert-base-cased's and bert-large-cased's shapes (768 x 12 and 1,024 x 24; the
vocabulary of the Hub-layout fixture, 30,522 tokens, instead of 28,996) run the library's own steps on real
LAMA facts: one OptiPrompt step (batch 16: prompt_logits, cross-entropy, backward to the prompt), one scoring
batch (256 facts, no gradient) and one relative-search step of all 41 relations at once (17,230 anchors,
top-k 8,192). Printed: seconds per step (median of ``--repeats``), the number of each step in the paper profile's
tuning (6 models x 3 seeds x 10 epochs) and in one scoring of every test fact, and what that is in CPU hours.
No GPU number is printed: none was measured.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from tutorial_lib import data, prompts
from tutorial_lib.transfer.relative import relative_transfer
from tutorial_lib.zoo import MaskedLM

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import hub_fixture  # noqa: E402

SHAPES = {"bert-base-cased": (768, 12, 12), "bert-large-cased": (1024, 24, 16)}


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from transformers import BertConfig, BertForMaskedLM

    tokenizer = hub_fixture.tokenizer_from(hub_fixture.lama_vocab())
    relations = data.load_relations(data.relation_ids())
    train = [f for r in relations.values() for f in r.split("train")]
    test = [f for r in relations.values() for f in r.split("test")]
    batch, rel_index = train[:16], torch.zeros(16, dtype=torch.long)
    print(f"41 relations: {len(train)} training facts, {len(test)} test facts; {args.threads} thread(s)")
    steps_tuning = 6 * 3 * 10 * -(-len(train) // 16)
    batches_scoring = -(-len(test) // 256)
    for name, (hidden, layers, heads) in SHAPES.items():
        torch.manual_seed(0)
        model = BertForMaskedLM(BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                                           num_attention_heads=heads, intermediate_size=4 * hidden)).eval()
        lm = MaskedLM(name, model.requires_grad_(False), tokenizer)
        prompt = torch.randn(1, 5, hidden, requires_grad=True)
        gold = torch.tensor([tokenizer.convert_tokens_to_ids(f.object) for f in batch])

        def tune_step():
            F.cross_entropy(prompts.prompt_logits(lm, prompt, batch, rel_index), gold).backward()

        def score_batch():
            with torch.no_grad():
                prompts.prompt_logits(lm, prompt.detach(), test[:256], torch.zeros(256, dtype=torch.long))

        t_tune, t_score = timed(tune_step, args.repeats), timed(score_batch, args.repeats)
        print(f"{name}: tuning step {t_tune:.3f} s, scoring batch {t_score:.3f} s; "
              f"if all 6 models cost this: tuning {steps_tuning} steps = {steps_tuning * t_tune / 3600:.1f} CPU h, "
              f"one scoring of every test fact {batches_scoring} batches = {batches_scoring * t_score:.0f} CPU s")
    anchors = torch.randn(17230, 1024)
    search = lambda: relative_transfer(torch.randn(41, 5, 768), torch.randn(17230, 768), anchors, anchors,  # noqa: E731
                                       steps=10, progress=False)
    t_search = timed(search, max(1, args.repeats // 2)) / 10
    print(f"relative search (41 relations, 768 -> 1,024): {t_search * 1000:.1f} ms per step; 2,000 steps "
          f"x 3 seeds x 30 cross-model pairs = {t_search * 2000 * 3 * 30 / 3600:.1f} CPU h")


if __name__ == "__main__":
    main()
