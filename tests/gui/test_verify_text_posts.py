"""Posts without photos in the Verify dock: their own queue, their text shown large, categories
set with number keys (several per post), undone with Ctrl+Z, and the map following, offscreen."""

from __future__ import annotations

import pytest
from qgis.core import QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QApplication

from mist_qgis.core.posts.record import PostRecord
from mist_qgis.core.store import open_store
from mist_qgis.core.store import text_sql as sql
from mist_qgis.core.text.categories import DEFAULT_CATEGORIES
from mist_qgis.core.text.screen import screen_texts
from mist_qgis.gui.verify_dock import VerifyDock
from mist_qgis.gui.verify_filters import TEXT_POSTS, VERDICT_FILTERS
from tests.helpers.verify_store import build_store

NAMES = [c.name for c in DEFAULT_CATEGORIES]
KEYS = (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5, Qt.Key.Key_6, Qt.Key.Key_7,
        Qt.Key.Key_8, Qt.Key.Key_9)
TEXT_ONLY = [
    ("t-en", "Trapped on the roof by the flood with my grandmother, please send a boat"),
    ("t-zh", "街道被淹了，地铁停运，桥也塌了"),
    ("t-none", "🌊🌊 https://t.co/abc"),
]


@pytest.fixture
def text_store(store_path):
    with open_store(store_path) as store:
        build_store(store, n=3)  # three posts with photos: not in the text queue
        with store.batch() as conn:
            store.add_posts(conn, [PostRecord(pid, "weibo", 113.7 + i * 0.01, 34.8, text=text)
                                   for i, (pid, text) in enumerate(TEXT_ONLY)])
        screen_texts(store)
        fids = {r[1]: r[0] for r in store.query("SELECT fid, post_id FROM posts")}
    return store_path, fids


def _key(qtbot, dock, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(dock.text_posts.table, key, modifier)  # through the dock's key filter, as a user types
    QApplication.processEvents()


def _text_mode(dock):
    dock.verdict_filter.setCurrentIndex([v for v, _ in VERDICT_FILTERS].index(TEXT_POSTS))
    dock.filters.timer.stop()
    dock.refresh(keep_place=False)


def _state(store_path, fid):
    with open_store(store_path) as store:
        row = store.query("SELECT text_categories, text_category_source FROM posts WHERE fid = ?", (fid,))[0]
        return tuple(row), sql.analyst_labels(store).get(fid)


def test_text_posts_are_categorised_with_keys_and_undone(qtbot, text_store, open_verify_dock):
    store_path, fids = text_store
    dock = open_verify_dock(store_path)
    assert dock.stack.currentIndex() == 0 and dock.model.rowCount() == 3  # photos first
    _text_mode(dock)
    pane = dock.text_posts
    assert dock.stack.currentIndex() == 1 and not dock.table.isVisible() and pane.isVisible()
    assert [r.post_id for r in pane.model.rows] == ["t-en", "t-zh", "t-none"]
    assert "3" in pane.count_label.text()
    assert "Trapped on the roof" in pane.text_view.toPlainText()  # the text, shown large
    assert pane.text_view.font().pointSize() >= 12
    assert pane.categories.boxes["urgent_help"].text().startswith(f"{NAMES.index('urgent_help') + 1} ")
    before = _state(store_path, fids["t-en"])
    assert before == (("urgent_help,flood", "keyword rule"), None)

    # keyword labels are pre-checked: the analyst confirms urgent help and adds relief and rescue
    _key(qtbot, dock, KEYS[NAMES.index("relief_rescue")])
    assert _state(store_path, fids["t-en"]) == (("urgent_help,relief_rescue,flood", "analyst"),
                                                ("urgent_help", "relief_rescue", "flood"))
    assert "analyst" in pane.model.data(pane.model.index(0, 2))
    _key(qtbot, dock, KEYS[NAMES.index("urgent_help")])  # switch one off again
    assert _state(store_path, fids["t-en"])[1] == ("relief_rescue", "flood")
    _key(qtbot, dock, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _state(store_path, fids["t-en"])[1] == ("urgent_help", "relief_rescue", "flood")
    _key(qtbot, dock, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _state(store_path, fids["t-en"]) == before  # back to the keyword rule, no analyst label
    assert "Undone" in dock.status.text()

    # Chinese post: multi-label from keys, then the "no text" post gets "none of these"
    _key(qtbot, dock, Qt.Key.Key_Right)
    assert pane.current_post().post_id == "t-zh" and "地铁停运" in pane.text_view.toPlainText()
    shown = set(pane.categories.checked())
    assert {"infrastructure_damage", "flood"} <= shown and "caution_advice" not in shown
    _key(qtbot, dock, KEYS[NAMES.index("caution_advice")])
    assert set(_state(store_path, fids["t-zh"])[1]) == shown | {"caution_advice"}
    _key(qtbot, dock, Qt.Key.Key_Right)
    assert pane.current_post().post_id == "t-none" and pane.categories.checked() == []
    assert "No text" in pane.categories.current.text()
    _key(qtbot, dock, Qt.Key.Key_0)
    assert _state(store_path, fids["t-none"]) == (("", "analyst"), ())  # answered: none of these

    # "Only not categorised" hides what analysts did; photo verdict keys do nothing here
    pane.uncategorised.setChecked(True)
    assert [r.post_id for r in pane.model.rows] == ["t-en"]
    _key(qtbot, dock, Qt.Key.Key_F)
    with open_store(store_path) as store:
        assert store.count("verifications") == 0


def test_text_posts_follow_the_search_and_select_on_the_map(qtbot, text_store, store_path):
    _, fids = text_store
    from mist_qgis.qgis_ops.layers import store_fids_of, store_layer_source

    source, provider = store_layer_source(store_path, "posts")
    layer = QgsVectorLayer(source, "posts", provider)
    QgsProject.instance().addMapLayer(layer)
    dock = VerifyDock()
    qtbot.addWidget(dock)
    dock.analyst_edit.setText("ana")
    dock.show()
    try:
        assert dock.open_store(store_path)
        _text_mode(dock)
        assert store_fids_of(layer, layer.selectedFeatureIds()) == [fids["t-en"]]
        _key(qtbot, dock, Qt.Key.Key_Down)
        assert store_fids_of(layer, layer.selectedFeatureIds()) == [fids["t-zh"]]
        dock.filters.search_edit.setText("地铁")
        dock.filters.timer.stop()
        dock.refresh()
        assert [r.post_id for r in dock.text_posts.model.rows] == ["t-zh"]
        assert dock.text_posts.style_map() == 1, dock.status.text()  # the posts layer already in the project
        assert layer.renderer().type() == "categorizedSymbol" and "1" in dock.status.text()
        dock.analyst_edit.setText("")
        _key(qtbot, dock, Qt.Key.Key_1)
        assert "Analyst" in dock.text_posts.categories.message.text()
        assert _state(store_path, fids["t-zh"])[1] is None
    finally:
        dock.cleanup()
        QgsProject.instance().removeAllMapLayers()


def test_photo_posts_categories_panel_undoes_too(qtbot, text_store, open_verify_dock):
    store_path, _ = text_store
    dock = open_verify_dock(store_path)
    row = dock.current_row()
    before = _state(store_path, row.post_fid)
    dock.categories_panel.boxes["caution_advice"].setChecked(True)
    assert dock.categories_panel.save()
    assert "caution_advice" in _state(store_path, row.post_fid)[1]
    _key(qtbot, dock, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _state(store_path, row.post_fid) == before
    assert not dock.categories_panel.boxes["caution_advice"].isChecked()


def test_a_posts_only_collection_opens_on_its_posts(qtbot, store_path, open_verify_dock, tmp_path):
    """No photo at all (a posts-only collection): the dock opens on the posts without photos."""
    with open_store(store_path) as store:
        with store.batch() as conn:
            store.add_posts(conn, [PostRecord(pid, "weibo", 113.7, 34.8, text=text) for pid, text in TEXT_ONLY])
        screen_texts(store)
    dock = open_verify_dock(store_path)
    assert dock.text_mode and dock.stack.currentIndex() == 1
    assert [r.post_id for r in dock.text_posts.model.rows] == ["t-en", "t-zh", "t-none"]
    _key(qtbot, dock, KEYS[NAMES.index("misinformation")])
    with open_store(store_path) as store:
        assert "misinformation" in sql.analyst_labels(store)[dock.text_posts.current_post().post_fid]
    other = tmp_path / "photos.gpkg"  # the next store has photos: back to them
    with open_store(other, create=True) as store:
        build_store(store, n=2)
    assert dock.open_store(other) and not dock.text_mode and dock.model.rowCount() == 2
