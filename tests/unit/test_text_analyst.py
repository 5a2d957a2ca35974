"""Analysts categorising posts without photos: the text-only queue (filters, "no text" posts,
paging) and category changes that undo exactly, on GeoPackage and PostGIS stores."""

from __future__ import annotations

import pytest

from mist_qgis.core.posts.record import MediaRef, PostRecord
from mist_qgis.core.store import text_sql as sql
from mist_qgis.core.text.analyst import (
    count_text_only_posts,
    photo_free,
    set_post_categories,
    text_only_posts,
    text_post,
    undo_post_categories,
)
from mist_qgis.core.text.categories import CategoryError
from mist_qgis.core.text.screen import screen_texts
from mist_qgis.core.verify.records import BBox, QueueFilter

TEXTS = {
    "en": ("Trapped on the roof, water rising, please send help", 114.30, 30.60, False),
    "zh": ("街道被淹了，水到膝盖，桥也塌了", 114.31, 30.61, False),
    "emoji": ("🌊🌊 https://t.co/x", 114.32, 30.62, False),
    "photo": ("flooded street, see photo", 114.33, 30.63, True),
    "far": ("we need rescue here, flood", 120.0, 10.0, False),
}


@pytest.fixture
def posts(store):
    with store.batch() as conn:
        store.add_posts(conn, [
            PostRecord(pid, "weibo", lon, lat, text=text,
                       media=[MediaRef(url="https://example.org/a.jpg")] if photo else [])
            for pid, (text, lon, lat, photo) in TEXTS.items()])
    screen_texts(store)  # keyword rules: first labels for every post
    return {r[1]: r[0] for r in store.query("SELECT fid, post_id FROM posts")}


def _ids(rows):
    return [r.post_id for r in rows]


def test_the_queue_holds_posts_without_photos_with_their_text_and_categories(store, posts):
    rows = text_only_posts(store)
    assert _ids(rows) == ["en", "zh", "emoji", "far"] and count_text_only_posts(store) == 4
    en, zh, emoji = rows[0], rows[1], rows[2]
    assert en.text == TEXTS["en"][0] and (en.lon, en.lat) == pytest.approx((114.30, 30.60))
    assert "urgent_help" in en.categories and en.source == "keyword rule"
    assert {"flood", "infrastructure_damage"} <= set(zh.categories)  # Chinese, multi-label
    assert emoji.source == "no text" and emoji.categories == ()
    assert _ids(text_only_posts(store, QueueFilter(text="街道"))) == ["zh"]
    near = QueueFilter(bbox=BBox(114.0, 30.0, 115.0, 31.0))
    assert _ids(text_only_posts(store, near)) == ["en", "zh", "emoji"] and count_text_only_posts(store, near) == 3
    # photo-only conditions of the photo queue do not hide posts without photos
    assert len(text_only_posts(store, QueueFilter(verdicts=frozenset({"flood"}), score_min=0.9))) == 4
    assert _ids(text_only_posts(store, after_fid=posts["zh"], limit=1)) == ["emoji"]  # keyset paging
    assert not photo_free(store)
    with store.batch() as conn:
        conn.execute("DELETE FROM media")
    assert photo_free(store) and count_text_only_posts(store) == 5


def test_categories_set_by_an_analyst_undo_exactly(store, posts):
    fid = posts["zh"]
    before = text_post(store, fid)
    first = set_post_categories(store, fid, ["flood", "urgent_help", "flood"], "ana")
    assert first.categories == ("urgent_help", "flood")  # desk order, once each
    after = text_post(store, fid)
    assert after.categories == ("urgent_help", "flood") and after.source == "analyst" and after.confidence == 1.0
    assert sql.analyst_labels(store)[fid] == ("urgent_help", "flood")
    assert text_only_posts(store, uncategorised=True) and fid not in {
        r.post_fid for r in text_only_posts(store, uncategorised=True)}
    second = set_post_categories(store, fid, [], "bo")  # "none of these" is an answer too
    assert text_post(store, fid).categories == () and text_post(store, fid).source == "analyst"
    assert sql.analyst_labels(store)[fid] == ()  # a negative for every category when heads train
    undo_post_categories(store, second)
    assert text_post(store, fid) == after and sql.analyst_labels(store)[fid] == ("urgent_help", "flood")
    undo_post_categories(store, first)
    assert text_post(store, fid) == before and fid not in sql.analyst_labels(store)
    # a "no text" post can be categorised by hand (an analyst may know what the emoji meant)
    set_post_categories(store, posts["emoji"], ["flood"], "ana")
    assert text_post(store, posts["emoji"]).categories == ("flood",)


def test_bad_changes_are_refused_and_change_nothing(store, posts):
    fid = posts["en"]
    before = text_post(store, fid)
    with pytest.raises(CategoryError, match="not on the store's category list: lava"):
        set_post_categories(store, fid, ["flood", "lava"], "ana")
    with pytest.raises(CategoryError, match="analyst name"):
        set_post_categories(store, fid, ["flood"], "  ")
    assert text_post(store, fid) == before
