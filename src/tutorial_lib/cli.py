"""Command line: ``python -m tutorial_lib transfer ...`` (also installed as ``tutorial-lib``).

    python -m tutorial_lib transfer --source mini-bert-base --target mini-roberta-base \\
        --prompt bert.safetensors --method relative --out roberta.safetensors
    python -m tutorial_lib transfer --source A --source B --target C --prompt a.safetensors \\
        --prompt b.safetensors --method relative --out c.safetensors          # two sources (Eq. 7)
    python -m tutorial_lib transfer --source A --target C --prompt adapter_dir/ --method relative \\
        --out out_dir/ --peft                                                 # PEFT prompt-tuning adapters

A ``--prompt`` is a prompt file (safetensors, see :mod:`tutorial_lib.prompt_io`) or a PEFT prompt-tuning
adapter directory (one relation); give one per ``--source``, in the same order.

Everything that can be checked without a model is checked first (option ranges, the output path, the prompt
files, the device, the LAMA files), so a bad input fails in a second, not after the transfer; any error is
one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

from .parameters import MIN_ANCHORS, check_device


def _transfer_parser(sub) -> None:
    p = sub.add_parser("transfer", help="transfer soft prompts from source model(s) to a target model",
                       description="Zero-shot transfer of soft prompts (direct, discretize, projector, relative).")
    p.add_argument("--source", action="append", required=True, help="source model (zoo name, HF id or dir)")
    p.add_argument("--target", required=True, help="target model (zoo name, HF id or dir)")
    p.add_argument("--prompt", action="append", required=True,
                   help="prompt file or PEFT adapter dir of the matching --source")
    p.add_argument("--method", default="relative", choices=["direct", "discretize", "projector", "relative"])
    p.add_argument("--out", required=True, help="output prompt file (or adapter directory with --peft)")
    p.add_argument("--peft", action="store_true", help="write a PEFT prompt-tuning adapter directory")
    p.add_argument("--anchors", type=int, default=None,
                   help=f"number of anchor words, at least {MIN_ANCHORS} (default: all shared)")
    p.add_argument("--anchor-words", type=Path, default=None,
                   help="candidate words, one a line (default: LAMA's BERT/RoBERTa/ALBERT vocabulary)")
    p.add_argument("--keep-fact-words", action="store_true",
                   help="do not exclude LAMA subjects and objects from the anchors (a leak; for ablations)")
    p.add_argument("--lama-dir", default=None, help="LAMA T-REx directory (default: $LAMA_DIR or the cache)")
    p.add_argument("--steps", type=int, default=2000, help="relative: search steps")
    p.add_argument("--lr", type=float, default=5e-3, help="relative and projector: Adam learning rate")
    p.add_argument("--topk", type=int, default=8192,
                   help="relative: keep the k largest relative entries (0: all; default 8192 as the authors)")
    p.add_argument("--no-normalize", action="store_true", help="relative: skip Eq. 6")
    p.add_argument("--epochs", type=int, default=10, help="projector: training epochs")
    p.add_argument("--hidden", type=int, default=768, help="projector: hidden units")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tutorial_lib", description="The Prompt Transfer Book's library.")
    sub = parser.add_subparsers(dest="command", required=True)
    _transfer_parser(sub)
    return parser


def _method_options(args) -> dict:
    if args.method == "relative":
        return dict(steps=args.steps, lr=args.lr, topk=args.topk or None, normalize=not args.no_normalize,
                    seed=args.seed)
    if args.method == "projector":
        return dict(epochs=args.epochs, hidden=args.hidden, lr=args.lr, seed=args.seed)
    return {}


def check_ranges(args) -> None:
    """Option values that would run but give a result no better than the random start, or crash late."""
    least = {"steps": 1, "epochs": 1, "hidden": 1, "topk": 0, "seed": 0}
    for name, low in least.items():
        if getattr(args, name) < low:
            raise ValueError(f"--{name} must be at least {low}, got {getattr(args, name)}")
    if args.anchors is not None and args.anchors < MIN_ANCHORS:
        raise ValueError(f"--anchors must be at least {MIN_ANCHORS} (or left out: all shared words), "
                         f"got {args.anchors}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise ValueError(f"--lr must be a positive number, got {args.lr}")
    if len(args.prompt) != len(args.source):
        raise ValueError(f"give one --prompt per --source: {len(args.source)} sources, {len(args.prompt)} prompts")


def check_out(out: str, peft: bool) -> None:
    """The output can be written: not a directory for a prompt file, not a file (or a foreign folder) for an
    adapter, and its folder (or the nearest one that exists) takes new files."""
    from .prompt_io import is_peft_adapter

    path = Path(out)
    if not peft and path.is_dir():
        raise ValueError(f"--out {path} is a directory; give a file name (or add --peft to write an adapter there)")
    if peft and path.exists() and not path.is_dir():
        raise ValueError(f"--out {path} is an existing file; --peft writes an adapter directory")
    if peft and path.is_dir() and any(path.iterdir()) and not is_peft_adapter(path):
        raise ValueError(f"--out {path} is a folder that holds other files than a PEFT adapter")
    folder = path if peft else path.parent
    while not folder.exists():
        folder = folder.parent
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as err:
        raise ValueError(f"--out {path}: cannot write in {folder} ({os.strerror(err.errno or 0) or err})") from None


def needs_lama(args) -> bool:
    """Whether the method reads LAMA files (its default word list, or the fact words it excludes)."""
    if args.method == "direct":
        return False
    return args.anchor_words is None or (args.method != "discretize" and not args.keep_fact_words)


def run_transfer(args) -> Path:
    """Check the inputs, load models and prompts, transfer, write the result (only once everything succeeded)."""
    from . import data, prompt_io
    from .transfer import transfer
    from .zoo import load_model

    check_ranges(args)
    check_out(args.out, args.peft)
    sets = [prompt_io.read_any(path) for path in args.prompt]
    relations = sets[0].relations
    for path, s in zip(args.prompt[1:], sets[1:]):
        if s.relations != relations:
            raise ValueError(f"{path} holds relations {s.relations}, {args.prompt[0]} holds {relations}: "
                             "multi-source transfer needs the same relations in the same order")
    if args.peft and len(relations) != 1:
        raise ValueError(f"--peft writes one relation; the prompts hold {len(relations)} ({relations})")
    words = None
    if args.anchor_words is not None:
        words = [w.strip() for w in args.anchor_words.read_text(encoding="utf-8").splitlines() if w.strip()]
    if args.device is not None:
        check_device(args.device, "--device")
    if needs_lama(args):
        data.resolve_lama_dir(args.lama_dir)
    sources = [load_model(name, args.device) for name in args.source]
    target = load_model(args.target, args.device)
    for path, s, lm in zip(args.prompt, sets, sources):
        prompt_io.check_expected(path, s.model, s.width, lm, None)
    result = transfer(args.method, sources, [s.vectors for s in sets], target, n_anchors=args.anchors,
                      exclude=() if args.keep_fact_words else None, words=words, lama_dir=args.lama_dir,
                      **_method_options(args))
    if args.peft:
        config = target.model.config
        return prompt_io.save_peft_adapter(args.out, result.prompts, target.name, relations[0],
                                           getattr(config, "num_hidden_layers", None),
                                           getattr(config, "num_attention_heads", None))
    meta = {"method": args.method, "sources": args.source, "source_files": [str(p) for p in args.prompt],
            "options": _method_options(args), "n_anchors": len(result.anchors or [])}
    if result.history is not None:
        meta["chosen"] = result.history.get("chosen_step", result.history.get("chosen_epoch"))
    return prompt_io.save_prompts(args.out, result.prompts, target.name, relations, **meta)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        out = run_transfer(args)
    except Exception as err:  # one line for every failure, expected or not; Ctrl-C still interrupts
        known = isinstance(err, (ValueError, OSError, KeyError))
        text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
        text = " ".join((text if known else f"{type(err).__name__}: {text}").split())
        print(f"tutorial_lib {args.command}: error: {text}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({args.method}: {' + '.join(args.source)} -> {args.target})")
    return 0
