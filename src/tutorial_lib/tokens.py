"""Words as tokens: the one word-to-token-id function of the library.

A word "is a token" of a model when, following a space as in running text, the tokenizer turns it into exactly
one ordinary token. The leading space makes byte-level BPE (RoBERTa: ``ĠParis``) and SentencePiece (``▁Paris``)
use their word-initial form; WordPiece ignores it. A word that WordPiece cannot spell becomes the single token
``[UNK]``: that is no token of the word (every such word would share one id and one embedding row), so special
tokens never count. The scorer (:mod:`probing`), the scoring vocabulary (:func:`data.scoring_vocabulary`), the
anchor words (:mod:`anchors`) and the zoo's word vectors all ask this function.
"""
from __future__ import annotations

import weakref

# tokenizer -> (its size, {word: id or None}); dropped with the tokenizer, and rebuilt when tokens are added
_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cache(tokenizer) -> dict:
    try:
        size, known = _IDS.get(tokenizer, (None, None))
        if size != len(tokenizer):
            known = {}
            _IDS[tokenizer] = (len(tokenizer), known)
        return known
    except TypeError:  # not weak-referenceable or unhashable: no cache
        return {}


def single_token_ids(tokenizer, words) -> list[int | None]:
    """The token id of each word that is one ordinary token of ``tokenizer`` after a space, else None
    (several tokens, or a special token such as ``[UNK]``). Tokenised in one batched call and remembered per
    tokenizer (LAMA's 21k-word list takes about a second)."""
    words = list(words)
    known = _cache(tokenizer)
    new = [w for w in dict.fromkeys(words) if w not in known]
    if new:
        encoded = tokenizer([" " + w for w in new], add_special_tokens=False)["input_ids"]
        special = set(tokenizer.all_special_ids)
        known.update({w: ids[0] if len(ids) == 1 and ids[0] not in special else None for w, ids in zip(new, encoded)})
    return [known[w] for w in words]
