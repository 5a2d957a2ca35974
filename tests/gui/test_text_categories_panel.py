"""The verification dock shows each post's text categories and lets the analyst set several."""

from __future__ import annotations

from mist_qgis.core.store import open_store
from mist_qgis.core.store import text_sql as store_text
from mist_qgis.core.text.screen import screen_texts
from tests.helpers.verify_store import build_store


def test_dock_shows_and_sets_categories(store_path, open_verify_dock):
    with open_store(store_path) as store:
        build_store(store, n=6)
        with store.batch() as conn:
            conn.execute("UPDATE posts SET text = '救命！我们被困在三楼 #暴雨#'")
        screen_texts(store)
    dock = open_verify_dock(store_path)
    row = dock.current_row()
    assert row is not None
    panel = dock.categories_panel
    assert panel.isEnabled() and "keyword rule" in panel.current.text()
    assert set(panel.checked()) == {"urgent_help", "flood"}
    panel.boxes["infrastructure_damage"].setChecked(True)
    panel.boxes["urgent_help"].setChecked(False)
    dock.analyst_edit.setText("ana")
    assert panel.save()
    with open_store(store_path) as store:
        assert store_text.analyst_labels(store)[row.post_fid] == ("infrastructure_damage", "flood")
        got = store.query("SELECT text_categories, text_category_source FROM posts WHERE fid = ?", (row.post_fid,))
    assert tuple(got[0]) == ("infrastructure_damage,flood", "analyst")
    assert "analyst" in panel.current.text()


def test_no_text_post_and_missing_analyst(store_path, open_verify_dock):
    with open_store(store_path) as store:
        build_store(store, n=3)
        with store.batch() as conn:
            conn.execute("UPDATE posts SET text = 'https://t.co/abc 🌊'")
        screen_texts(store)
    dock = open_verify_dock(store_path)
    panel = dock.categories_panel
    assert "No text" in panel.current.text() and panel.checked() == []
    dock.analyst_edit.setText("")
    panel.boxes["flood"].setChecked(True)
    assert not panel.save() and "Analyst" in panel.message.text()
