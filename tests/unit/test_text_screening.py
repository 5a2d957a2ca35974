"""Text screening of every post: normalisation, keyword rules, post-keyed features, multi-label
heads, "no text" posts, long and mixed-language texts, on real GeoPackage stores."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mist_qgis.core.models.heads import HeadTrainingError
from mist_qgis.core.posts.record import MediaRef, PostRecord
from mist_qgis.core.store import text_sql as sql
from mist_qgis.core.text.categories import (
    DEFAULT_CATEGORIES,
    Category,
    CategoryError,
    keyword_labels,
    load_categories,
    save_categories,
)
from mist_qgis.core.text.evaluate import read_labelled
from mist_qgis.core.text.normalize import MAX_MODEL_CHARS, normalize, split_hashtag
from mist_qgis.core.text.screen import next_posts_to_label, screen_texts, train_text_heads

from ..conftest import DATA

LABELLED = DATA / "text" / "posts.jsonl"


def _add(store, texts, with_photo=(), prefix="p"):
    records = [PostRecord(f"{prefix}{i}", "weibo", 114.3, 30.6, text=t,
                          media=[MediaRef(url=f"https://example.org/{i}.jpg")] if i in with_photo else [])
               for i, t in enumerate(texts)]
    with store.batch() as conn:
        store.add_posts(conn, records)
    return {r[1]: r[0] for r in store.query("SELECT fid, post_id FROM posts WHERE post_id LIKE ?", (prefix + "%",))}


def _post(store, fid):
    return store.query("SELECT text, text_categories, text_category_source, text_confidence FROM posts "
                       "WHERE fid = ?", (fid,))[0]


# -- normalisation ----------------------------------------------------------------------------------


def test_normalisation_of_social_posts():
    n = normalize("@bob #FloodRelief2024 need HELP https://t.co/xyz 🆘")
    assert n.text == "flood relief 2024 need help 🆘" and n.has_text
    assert split_hashtag("help_needed") == "help needed"
    zh = normalize("#河南暴雨# 請幫忙救援！ＳＯＳ１２")
    assert zh.text == "河南暴雨 请帮忙救援!sos12"  # topic tag, traditional -> simplified, full-width -> half
    assert zh.script_confidence == pytest.approx(6 / 9, abs=1e-3) or zh.han_share > 0.5


@pytest.mark.parametrize(
    "text", ["", "   ", None, "https://t.co/abc", "🌊🌊😭", "@someone https://x.com/a 🙏", "123 !!"],
)
def test_no_text_posts(text):
    assert not normalize(text).has_text
    assert keyword_labels(normalize(text), DEFAULT_CATEGORIES) == ()


def test_mixed_and_unknown_scripts_lower_confidence():
    assert normalize("the street is flooded").script_confidence == 1.0
    assert normalize("水浸街了 the street is flooded").script_confidence < 1.0
    assert normalize("улица затоплена flood").script_confidence < 0.5


def test_keyword_rules_both_languages_and_several_categories():
    got = keyword_labels(normalize("救命！我们被困在三楼 #郑州暴雨#"), DEFAULT_CATEGORIES)
    assert set(got) == {"urgent_help", "flood"}
    assert set(keyword_labels(normalize("網傳大壩潰壩是謠言"), DEFAULT_CATEGORIES)) >= {"misinformation"}
    got = keyword_labels(normalize("Bridge collapsed, rescue team evacuated 40 people #flood"), DEFAULT_CATEGORIES)
    assert {"infrastructure_damage", "relief_rescue", "flood"} <= set(got) and "not_relevant" not in got
    assert set(keyword_labels(normalize("best ramen ever"), DEFAULT_CATEGORIES)) == {"not_relevant", "not_flood"}


def test_team_edits_the_category_list(store):
    assert load_categories(store) == DEFAULT_CATEGORIES
    save_categories(store, [Category("road_closed", "road closed", ("Road Closed", "封路")), *DEFAULT_CATEGORIES])
    cats = load_categories(store)
    assert cats[0] == Category("road_closed", "road closed", ("road closed", "封路"))
    assert "road_closed" in keyword_labels(normalize("封路了，绕行"), cats)
    with pytest.raises(CategoryError):
        save_categories(store, [Category("a b!", "x")])
    with pytest.raises(CategoryError):
        save_categories(store, [Category("dup", "x"), Category("dup", "y")])


# -- screening a store -------------------------------------------------------------------------------


def test_every_post_screened_photo_or_not(store):
    long_text = "河水漫过堤坝，" + "水" * 100_000
    ids = _add(store, ["我们被困在屋顶，求救 #暴雨#", "Bridge collapsed on Route 9, road closed", "https://t.co/x",
                       "🌊🌊🌊", "", long_text, "水浸街 street flooded omg", "lovely sunset"], with_photo={1})
    result = screen_texts(store)
    assert result.counts["posts"] == 8 and result.counts["no_text"] == 3 and result.counts["screened"] == 5
    assert result.counts["text_only"] == 4 and result.counts["with_photo"] == 1
    assert result.counts["truncated"] == 1
    fids, matrix = sql.load_features(store, result.feature_model)
    assert sorted(fids.tolist()) == sorted(ids[k] for k in ("p0", "p1", "p5", "p6", "p7"))  # keyed by post
    assert matrix.shape[1] == 4096 and np.allclose(np.asarray(matrix.power(2).sum(axis=1)).ravel(), 1.0, atol=1e-4)
    p0 = _post(store, ids["p0"])
    assert set(p0["text_categories"].split(",")) == {"urgent_help", "flood"}
    assert p0["text_category_source"] == "keyword rule"
    for k in ("p2", "p3", "p4"):  # no text: shown as such, no category, no negative
        row = _post(store, ids[k])
        assert row["text_category_source"] == "no text" and row["text_categories"] is None
        assert not store.query("SELECT 1 FROM post_categories WHERE post_fid = ?", (ids[k],))
    assert len(_post(store, ids["p5"])["text"]) == len(long_text)  # kept whole
    issues = store.issues_for_run(result.run_id)
    assert len(issues) == 1 and "kept whole" in issues[0]["reason"]
    assert _post(store, ids["p6"])["text_confidence"] < _post(store, ids["p1"])["text_confidence"]
    assert result.per_category["flood"] == 2 and result.per_category["not_flood"] == 3


def test_analyst_categories_survive_rescreening(store):
    ids = _add(store, ["lovely sunset", "trapped on the roof, help"])
    with store.batch() as conn:
        sql.set_analyst_categories(conn, ids["p0"], ["misinformation", "flood"], "ana")
    screen_texts(store)
    row = _post(store, ids["p0"])
    assert row["text_categories"] == "misinformation,flood" and row["text_category_source"] == "analyst"
    assert sql.analyst_labels(store) == {ids["p0"]: ("misinformation", "flood")}
    sources = {(r["category"], r["source"]) for r in sql.post_categories(store, ids["p0"])}
    assert ("misinformation", "analyst") in sources and ("not_relevant", "keyword") in sources


def test_heads_train_on_analyst_categories_and_replace_keyword_rules(store, tmp_path):
    posts = read_labelled(LABELLED)[:240]
    ids = _add(store, [p.text for p in posts] + ["https://t.co/only-a-link", "🙏🙏"])
    screen_texts(store)
    with store.batch() as conn:
        for i, p in enumerate(posts):
            sql.set_analyst_categories(conn, ids[f"p{i}"], list(p.categories), "ana")
    # a "no text" post labelled by nobody never enters training
    result = train_text_heads(store, tmp_path / "heads")
    assert {p.name for p in result.paths} >= {"text-flood.onnx", "text-urgent_help.onnx"}
    assert result.labelled_posts == 240 and result.without_features == 0
    for m in result.metrics.values():
        assert 0.0 <= m["at_threshold"]["f1"] <= 1.0 and 0.0 <= m["threshold"] <= 1.0
    assert result.metrics["flood"]["at_threshold"]["f1"] > 0.8
    # new, unlabelled posts are screened by the heads, several categories each where they fit
    new = _add(store, ["我们被困在三楼，水还在涨，求救！",
                       "the old bridge collapsed, road closed, flooding everywhere"], prefix="new")
    screened = screen_texts(store, heads_dir=tmp_path / "heads")
    assert screened.status == "done"
    for fid in new.values():
        row = _post(store, fid)
        assert row["text_category_source"].startswith("head") and "flood" in row["text_categories"].split(",")
        assert 0.0 < row["text_confidence"] <= 1.0
    assert store.count("post_categories", "source = 'head'") > 0
    suggestions = next_posts_to_label(store, tmp_path / "heads", n=2, random_share=0.0)
    assert [s.post_fid for s in suggestions] and all(s.post_fid > max(ids.values()) for s in suggestions)
    assert all(s.reason == "uncertain" and s.category for s in suggestions)


def test_a_text_head_without_skill_is_marked_and_not_used_unless_allowed(store, tmp_path):
    """Text heads pass the photo heads' skill test; one that learnt nothing labels no post silently."""
    from mist_qgis.core.models.heads import NoSkillError

    posts = read_labelled(LABELLED)[:40]
    ids = _add(store, [p.text for p in posts])
    screen_texts(store)
    rng = np.random.default_rng(7)
    shuffled = rng.permutation(40) < 20  # "flood" given at random: nothing in the text predicts it
    with store.batch() as conn:
        for i in range(40):
            sql.set_analyst_categories(conn, ids[f"p{i}"], ["flood"] if shuffled[i] else ["not_relevant"], "ana")
    result = train_text_heads(store, tmp_path / "heads")
    assert "flood" in result.without_skill
    assert result.metrics["flood"]["skill"]["usable"] is False
    with pytest.raises(NoSkillError, match="flood"):
        screen_texts(store, heads_dir=tmp_path / "heads")
    allowed = screen_texts(store, heads_dir=tmp_path / "heads", allow_no_skill=True)
    assert allowed.status == "done" and any("flood" in w for w in allowed.warnings)
    new = _add(store, ["water in the street again"], prefix="new")
    screen_texts(store, heads_dir=tmp_path / "heads", allow_no_skill=True)
    # suggestions still come from it: labelling more is how it gains skill
    assert [s.post_fid for s in next_posts_to_label(store, tmp_path / "heads", n=2)] == list(new.values())


def test_training_without_labels_says_what_to_do(store, tmp_path):
    _add(store, ["flooded street"])
    screen_texts(store)
    with pytest.raises(HeadTrainingError, match="screen|labelled"):
        train_text_heads(store, tmp_path / "heads")


def test_labelled_set_is_bilingual_and_multilabel():
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 400
    assert {r["lang"] for r in rows} == {"en", "zh"}
    assert sum(1 for r in rows if len(r["categories"]) > 2) >= 50
    assert {c for r in rows for c in r["categories"]} == {c.name for c in DEFAULT_CATEGORIES}
    assert MAX_MODEL_CHARS == 2000


def test_photo_posts_get_image_text_and_combined_scores_from_post_text_features(store, tmp_path):
    """Posts with a photo: a photo score, text categories, and an image+text head that reads the
    text features computed once per post (not per photo)."""
    from mist_qgis.core.models import runtime
    from mist_qgis.core.models.classify import classify_store
    from mist_qgis.core.models.embeddings import feature_matrix
    from mist_qgis.core.models.heads import train_head_from_store
    from mist_qgis.core.store import models_sql as media_sql
    from tests.helpers.modelkit import PHOTO_NAMES, add_photo_posts, make_colour_model, photo

    runtime.clear_sessions()
    texts = ["our street is flooded, water to the knees", "街道被水淹了，水到膝盖", "flood water in the shop",
             "积水很深，车被淹", "river broke its banks, houses flooded", "暴雨内涝，地下车库进水",
             "great coffee this morning", "今天天气不错", "watching football tonight", "猫在睡觉",
             "new phone arrived", "周末去爬山"]
    fids = add_photo_posts(store, [(f"p{i}", photo(PHOTO_NAMES[i % 6])) for i in range(12)], texts=texts)
    classify_store(store, make_colour_model(tmp_path / "colour.onnx"))  # the photo score and embeddings
    result = screen_texts(store)
    assert result.counts["with_photo"] == 12
    f, x = feature_matrix(store, "image+text", "colour@1", result.feature_model)
    assert list(f) == fids and x.shape == (12, 3 + 4096)
    with store.batch() as conn:
        conn.executemany(
            "INSERT INTO verifications (post_fid, media_fid, verdict, analyst, verified_at) "
            "SELECT post_fid, fid, ?, 'ann', '2024-01-01T00:00:00Z' FROM media WHERE fid = ?",
            [("flood" if i < 6 else "not_flood", fid) for i, fid in enumerate(fids)],
        )
    head = train_head_from_store(store, tmp_path / "mm.onnx", image_model="colour@1",
                                 text_model=result.feature_model, features="image+text", version="1", folds=3)
    assert head.card.extra["text_model"] == result.feature_model
    screened = classify_store(store, head.path, allow_no_skill=True)  # 12 examples: the plumbing is tested
    assert screened.classified == 12
    assert {r["label"] for r in media_sql.predictions(store, head.card.tag)} <= {"flood", "not_flood"}
    row = store.query("SELECT cls_label, text_categories FROM posts WHERE fid = (SELECT post_fid FROM media "
                      "WHERE fid = ?)", (fids[0],))[0]
    assert row["cls_label"] in ("flood", "not_flood") and "flood" in row["text_categories"].split(",")


def test_a_user_supplied_encoder_folder_is_used_and_a_missing_one_explained(store, tmp_path):
    from mist_qgis.core.models.registry import ModelNotFoundError
    from mist_qgis.core.models.text import TEXT_DIM
    from mist_qgis.core.text.features import TextFeatureError, feature_tag
    from tests.helpers import built_models

    # any exported sentence-encoder folder the user points to (here the one MiniLM's export writes)
    folder = built_models.ensure("all-MiniLM-L6-v2.onnx")
    ids = _add(store, ["街道被水淹了", "street flooded", "🌊"])
    result = screen_texts(store, "multilingual", encoder=folder)
    assert result.feature_model == feature_tag("multilingual", folder) == "all-MiniLM-L6-v2@1"
    fids, matrix = sql.load_features(store, result.feature_model)
    assert sorted(fids.tolist()) == sorted([ids["p0"], ids["p1"]]) and matrix.shape[1] == TEXT_DIM
    with pytest.raises(ModelNotFoundError, match="absent"):
        screen_texts(store, "multilingual", encoder=tmp_path / "absent")
    with pytest.raises(TextFeatureError, match="unknown text feature set"):
        screen_texts(store, "bag-of-words")


def test_comparing_feature_sets_gives_each_set_its_own_encoder(monkeypatch, tmp_path):
    """`compare` with a multilingual encoder named: the multilingual column embeds with it, the
    MiniLM column with the registry's MiniLM, never with the encoder meant for the other set."""
    from mist_qgis.core.models import text as text_models
    from mist_qgis.core.text import evaluate

    minilm, named = tmp_path / "all-minilm.onnx", tmp_path / "multilingual.onnx"
    used: dict[int, Path] = {}

    def resolve(encoder, registry=None):
        return SimpleNamespace(path=Path(encoder) if encoder else minilm)

    def embed(texts, path):
        used[len(used)] = Path(path)
        return np.random.default_rng(len(used)).normal(size=(len(texts), 8)).astype(np.float32)

    monkeypatch.setattr(text_models, "resolve_text_encoder", resolve)
    monkeypatch.setattr(text_models, "embed_texts", embed)
    monkeypatch.setattr(evaluate, "train_category_heads", lambda *args, **kwargs: ({}, None))  # not the subject
    table = evaluate.compare(read_labelled(LABELLED)[:60], ("minilm", "multilingual"), encoder=str(named))
    assert set(table) >= {"minilm", "multilingual"}
    assert list(used.values()) == [minilm, named]


def test_a_run_s_encoder_and_its_tag_come_from_one_look_up(monkeypatch):
    """A run resolves its encoder once: the same file and tag `encoder_path` and `feature_tag`
    give, from one scan of the model folders."""
    from mist_qgis.core.models.registry import ModelRegistry
    from mist_qgis.core.text import screen
    from mist_qgis.core.text.features import CHAR_NGRAM_TAG, encoder_path, feature_tag
    from tests.helpers import built_models

    built_models.ensure("all-MiniLM-L6-v2.onnx")
    expected = (encoder_path("minilm"), feature_tag("minilm"))
    assert expected[0].name == "all-MiniLM-L6-v2.onnx" and expected[1] == "all-MiniLM-L6-v2@1"
    refresh = ModelRegistry.refresh
    scans = []
    monkeypatch.setattr(ModelRegistry, "refresh", lambda self: scans.append(1) or refresh(self))
    assert screen._encoder("minilm", None) == expected and len(scans) == 1
    assert screen._encoder("char-ngram", None) == (None, CHAR_NGRAM_TAG) and len(scans) == 1
