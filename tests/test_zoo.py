import itertools

import pytest
import torch

from tutorial_lib import anchors, data
from tutorial_lib.tokens import single_token_ids
from tutorial_lib.world import WorldConfig, world_relations
from tutorial_lib.zoo import ZOO, UnknownModel, load_model
from tutorial_lib.zoo.build import new_model
from tutorial_lib.zoo.corpus import build_corpus, fact_sentences, pretraining_patterns, render
from tutorial_lib.zoo.embeddings import distributional_start, ppmi_svd
from tutorial_lib.zoo.pretrain import TrainConfig, encode, pretrain
from tutorial_lib.zoo.vocab import train_byte_bpe, train_wordpiece

from conftest import zoo_available

BUILT = [n for n in ZOO if zoo_available(n)]


def test_render_keeps_the_object_span():
    s = render("[Y] is the language used by [X] .", "Dante", "Italian")
    assert s.text == "Italian is the language used by Dante."
    assert s.text[slice(*s.object_span)] == "Italian"


def test_corpus_never_uses_the_manual_template(lama_dir):
    rels = data.load_relations(["P19", "P1412"], max_facts=20)
    for rel in rels.values():
        manual = render(rel.template, "SUBJ", "OBJ").text
        assert all(render(p, "SUBJ", "OBJ").text != manual for p in pretraining_patterns(rel))
    sentences = fact_sentences(rels)
    manual_texts = {render(r.template, f.subject, f.object).text for r in rels.values() for f in r.facts}
    assert sentences and not manual_texts & {s.text for s in sentences}


@pytest.fixture(scope="module")
def tiny_world(lama_dir):
    rels = data.load_relations(["P36", "P37"], max_facts=30)
    corpus = build_corpus(rels, ["The cat sat on the mat.", "A dog is an animal that barks."] * 20, 0.2)
    words = sorted({f.object for r in rels.values() for f in r.facts})
    return rels, corpus, words


@pytest.mark.parametrize("train", [train_wordpiece, train_byte_bpe])
def test_trained_tokenizers_keep_objects_whole_and_round_trip(tiny_world, train):
    rels, corpus, words = tiny_world
    tok = train([s.text for s in corpus], 300, words)
    assert None not in single_token_ids(tok, words)
    text = "The capital of France is Paris."
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True).strip() == text
    encoded = encode(corpus, tok, max_len=256)
    assert sum(e.object_pos >= 0 for e in encoded) == sum(s.object_span is not None for s in corpus)


def test_tiny_pretraining_lowers_the_mlm_loss(tiny_world, tmp_path):
    rels, corpus, words = tiny_world
    tok = train_wordpiece([s.text for s in corpus], 300, words)
    from tutorial_lib.zoo import ZooSpec
    model = new_model(ZooSpec("bert", hidden=32, layers=1, heads=2, seed=0), tok)
    history = pretrain(model, tok, corpus, TrainConfig(epochs=6, batch_size=16, warmup_steps=5), tmp_path)
    first, last = history[0]["loss"], sum(h["loss"] for h in history[-5:]) / 5
    assert last < first - 1.0
    assert (tmp_path / "checkpoint.pt").is_file()


def test_pretraining_resumes_from_its_checkpoint(tiny_world, tmp_path):
    rels, corpus, words = tiny_world
    tok = train_wordpiece([s.text for s in corpus], 300, words)
    from tutorial_lib.zoo import ZooSpec
    spec = ZooSpec("bert", hidden=32, layers=1, heads=2, seed=0)
    pretrain(new_model(spec, tok), tok, corpus, TrainConfig(epochs=1, batch_size=16), tmp_path / "b")
    with pytest.raises(ValueError, match="another training config"):
        pretrain(new_model(spec, tok), tok, corpus, TrainConfig(epochs=2, batch_size=16), tmp_path / "b")


def test_ppmi_svd_puts_words_of_shared_contexts_together():
    texts = ["the cat sat on the soft mat", "the dog sat on the soft mat", "a car drove along the long road",
             "a truck drove along the long road"] * 20
    tok = train_wordpiece(texts, 120, ["cat", "dog", "car", "truck", "zebra"])
    vectors, seen = ppmi_svd(tok, texts, 8)
    assert vectors.shape == (len(tok), 8)
    ids = dict(zip(["cat", "dog", "truck", "zebra"], single_token_ids(tok, ["cat", "dog", "truck", "zebra"])))
    vec = {w: vectors[ids[w]] for w in ("cat", "dog", "truck")}
    cos = torch.nn.functional.cosine_similarity
    assert cos(vec["cat"], vec["dog"], dim=0) > cos(vec["cat"], vec["truck"], dim=0) + 0.5
    assert seen[ids["cat"]] and not seen[ids["zebra"]]


def test_distributional_start_freezes_all_rows_but_fact_words(tiny_world, tmp_path):
    rels, corpus, words = tiny_world
    tok = train_wordpiece([s.text for s in corpus], 300, words)
    from tutorial_lib.zoo import ZooSpec
    model = new_model(ZooSpec("bert", hidden=32, layers=1, heads=2, seed=0), tok)
    movable = sorted(words)[:3]
    counts = distributional_start(model, tok, [s.text for s in corpus], movable)
    assert counts["movable_tokens"] == 3 and counts["distributional_tokens"] > 50
    start = model.get_input_embeddings().weight.detach().clone()
    pretrain(model, tok, corpus, TrainConfig(epochs=2, batch_size=16, warmup_steps=2), tmp_path)
    after = model.get_input_embeddings().weight.detach()
    moved = 1 - torch.nn.functional.cosine_similarity(start, after, dim=-1)
    ids = single_token_ids(tok, movable)
    frozen = start.norm(dim=-1) > 0  # the padding row is zero
    frozen[ids] = False
    assert moved[ids].min() > 1e-3  # fact words learn
    assert moved[frozen].abs().max() < 1e-5  # everything else keeps its direction (weight decay only rescales)


def test_revision_follows_the_weights_on_disk(tmp_path):
    from tiny_models import tiny_lm
    lm = tiny_lm("bert", width=32, seed=0)
    lm.model.save_pretrained(tmp_path)
    lm.tokenizer.save_pretrained(tmp_path)
    first = load_model(str(tmp_path), device="cpu").revision
    assert len(first) == 16 and load_model(str(tmp_path), device="cpu").revision == first
    with torch.no_grad():
        lm.model.get_input_embeddings().weight[5] += 1
    lm.model.save_pretrained(tmp_path)
    assert load_model(str(tmp_path), device="cpu").revision != first


def test_unknown_model_lists_the_zoo():
    with pytest.raises(UnknownModel, match="mini-bert-base"):
        load_model("no-such-model-anywhere")


@pytest.mark.skipif(not BUILT, reason="zoo not built")
@pytest.mark.parametrize("name", BUILT)
def test_zoo_models_load_with_hf_classes_and_round_trip(name):
    from transformers import AutoModelForMaskedLM, AutoTokenizer
    from tutorial_lib.zoo import ZOO_DIR
    model = AutoModelForMaskedLM.from_pretrained(ZOO_DIR / name)
    tok = AutoTokenizer.from_pretrained(ZOO_DIR / name)
    assert type(model).__name__ == ("BertForMaskedLM" if ZOO[name].family == "bert" else "RobertaForMaskedLM")
    text = "Dante Alighieri was born in Florence."
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True).strip() == text
    lm = load_model(name, device="cpu")
    assert lm.width == ZOO[name].hidden and next(lm.model.parameters()).dtype == torch.float32
    assert lm.card["eval"]["mean"]["paraphrase"] > lm.card["eval"]["mean"]["majority"]


@pytest.mark.skipif(not BUILT, reason="zoo not built")
def test_every_object_is_one_token_in_every_zoo_model(lama_dir):
    rels = world_relations(WorldConfig())
    objects = sorted({f.object for r in rels.values() for f in r.facts})
    for name in BUILT:
        tok = load_model(name, device="cpu").tokenizer
        missing = [o for o, i in zip(objects, single_token_ids(tok, objects)) if i is None]
        assert not missing, f"{name}: {missing[:5]}"


@pytest.mark.skipif(len(BUILT) < 2, reason="zoo not built")
def test_any_two_zoo_models_share_3500_anchor_words(lama_dir):
    """Relative transfer needs shared anchors: LAMA's BERT/RoBERTa/ALBERT words, one token in both models, no
    fact word (3,711 to 3,860 per pair in the shipped zoo; the cpu profile asks for 4,000 and uses them all)."""
    toks = {n: load_model(n, device="cpu").tokenizer for n in BUILT}
    for a, b in itertools.combinations(BUILT, 2):
        assert len(anchors.anchor_words(toks[a], toks[b], None, anchors.lama_fact_words(lama_dir),
                                        lama_dir=lama_dir)) >= 3500, (a, b)


def test_model_card_prints_facts_and_shared_geometry():
    from tutorial_lib.zoo.build import model_card
    row = {"majority": 0.2, "paraphrase": 0.7, "manual": 0.6, "other_template": 0.1}
    stats = {"parameters": 1000, "vocab_size": 50, "tokenizer": "cased WordPiece", "relations": ["P19"],
             "fact_sentences": 10, "facts": 2, "text_sentences": 3, "steps": 4, "seconds": 60.0, "threads": 2,
             "eval": {"mean": row, "per_relation": {"P19": row}},
             "geometry": {"mini-roberta-base": {"p_at_1": 0.005, "chance": 0.0011, "linear_r2": 0.103}}}
    card = model_card("mini-bert-base", ZOO["mini-bert-base"], WorldConfig(), TrainConfig(), stats)
    assert "| 0.200 | 0.700 | 0.600 | 0.100 |" in card
    assert "| mini-roberta-base | 0.0050 | 0.0011 | 0.103 |" in card
    assert "geometry" not in model_card("mini-bert-base", ZOO["mini-bert-base"], WorldConfig(), TrainConfig(),
                                        {**stats, "geometry": {}})
