"""Tokenizers of the mini zoo, trained offline with Hugging Face ``tokenizers``.

Two families, as in the papers' grid: a cased WordPiece tokenizer (BERT-like, ``[CLS] ... [SEP]``) and a
byte-level BPE tokenizer (RoBERTa-like, ``<s> ... </s>``, words carry a leading ``Ġ``). Every fact object
is then made a single whole-word token (WordPiece: the word is added to the vocabulary; BPE: a chain of
extra merges ending in the word), so every object the book scores is one token in every zoo model.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertTokenizerFast, RobertaTokenizerFast

BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def train_wordpiece(texts: list[str], vocab_size: int, words: list[str]) -> BertTokenizerFast:
    """A cased WordPiece tokenizer whose vocabulary contains every word of ``words`` whole."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size,
                                                             special_tokens=BERT_SPECIALS,
                                                             show_progress=False))
    vocab = tok.get_vocab()
    for word in words:
        vocab.setdefault(word, len(vocab))
    tok.model = models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[(s, vocab[s]) for s in ("[CLS]", "[SEP]")])
    return BertTokenizerFast(tokenizer_object=tok, do_lower_case=False, model_max_length=64)


def _bpe_with_words(tok: Tokenizer, words: list[str]) -> Tokenizer:
    """Append merge chains so that ``" " + word`` is one token for every word."""
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file, merges_file = tok.model.save(tmp)
        vocab = json.loads(Path(vocab_file).read_text())
        merges = [tuple(line.split(" ")) for line in Path(merges_file).read_text().splitlines()
                  if line and not line.startswith("#version")]
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    for word in words:
        pretokens = byte_level.pre_tokenize_str(" " + word)
        if len(pretokens) != 1 or pretokens[0][0] in vocab:
            continue  # already one token, or split by punctuation (then no BPE can keep it whole)
        symbol = pretokens[0][0]
        model = models.BPE(vocab, merges)
        pieces = [t.value for t in model.tokenize(symbol)]
        current = pieces[0]
        for piece in pieces[1:]:
            merges.append((current, piece))
            current += piece
            vocab.setdefault(current, len(vocab))
    tok.model = models.BPE(vocab, merges)
    return tok


def train_byte_bpe(texts: list[str], vocab_size: int, words: list[str]) -> RobertaTokenizerFast:
    """A byte-level BPE tokenizer in which ``" " + word`` is one token for every word of ``words``."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)  # sentence-initial words too
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=ROBERTA_SPECIALS,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                       show_progress=False))
    tok = _bpe_with_words(tok, words)
    vocab = tok.get_vocab()
    tok.post_processor = processors.RobertaProcessing(("</s>", vocab["</s>"]), ("<s>", vocab["<s>"]))
    return RobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                add_prefix_space=True, model_max_length=64)

