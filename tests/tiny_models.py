"""Tiny random masked LMs and tokenizers for the tests (built in milliseconds).

Imported by the tests as plain helpers.
"""
from __future__ import annotations

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerFast, RobertaConfig, RobertaForMaskedLM

from tutorial_lib.zoo import MaskedLM

torch.set_num_threads(1)

COMMON = ("the of and in to was is a for on as with by he at from his an were are which this be "
          "city river music school family world team house water king village").split()
FACTS = "Paris France Berlin Germany Rome Italy Dante Einstein Mozart Vienna".split()
SENTENCES = [" ".join(COMMON[i:] + COMMON[:i]) for i in range(len(COMMON))] * 3 + \
            [f"{FACTS[i]} was born in {FACTS[(i + 1) % len(FACTS)]} ." for i in range(len(FACTS))] * 2


def wordpiece_tokenizer(vocab_size: int = 200) -> PreTrainedTokenizerFast:
    """A cased WordPiece tokenizer (BERT-like) trained on SENTENCES."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(SENTENCES, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special,
                                                                    show_progress=False))
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")),
                                                   ("[CLS]", tok.token_to_id("[CLS]")))
    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def bpe_tokenizer(vocab_size: int = 400) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer (RoBERTa-like) trained on SENTENCES."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.train_from_iterator(SENTENCES, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special,
                                                           initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                           show_progress=False))
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", cls_token="<s>", sep_token="</s>", mask_token="<mask>")


def tiny_lm(family: str = "bert", width: int = 32, seed: int = 0, name: str | None = None) -> MaskedLM:
    """A random 1-layer masked LM of ``width`` with a freshly trained tokenizer."""
    tokenizer = wordpiece_tokenizer() if family == "bert" else bpe_tokenizer()
    kwargs = dict(vocab_size=len(tokenizer), hidden_size=width, num_hidden_layers=1, num_attention_heads=2,
                  intermediate_size=2 * width, max_position_embeddings=64)
    torch.manual_seed(seed)
    if family == "bert":
        model = BertForMaskedLM(BertConfig(**kwargs, pad_token_id=tokenizer.pad_token_id))
    else:
        model = RobertaForMaskedLM(RobertaConfig(**kwargs, pad_token_id=tokenizer.pad_token_id))
    return MaskedLM(name or f"tiny-{family}-{width}", model.eval(), tokenizer)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_orthogonal(d: int, seed: int = 0) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(d, d, generator=torch.Generator().manual_seed(seed)))
    return q * torch.sign(torch.diagonal(r))
