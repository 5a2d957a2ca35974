"""The verify dock's Match view on a store geolocated for real (SIFT on scikit-image photos and
warped views of them): drawn off the GUI thread, cached, stale results dropped, disabled with a
reason for posts image matching never placed, clear reasons when it cannot be drawn."""

from __future__ import annotations

from pathlib import Path

import pytest
from qgis.PyQt.QtCore import Qt

from mist_qgis.core.geoloc import locate
from mist_qgis.core.geoloc.locate import GeolocateOptions
from mist_qgis.core.geoloc.match_view import cache_file
from mist_qgis.core.store import geoloc_sql as geoloc_sql
from mist_qgis.core.store import match_view_sql as store_match
from mist_qgis.core.store import open_store
from mist_qgis.gui.verify_dock import MATCH_TAB, PHOTO_TAB
from tests.unit.geoloc_helpers import add_post_with_photos, offset, query_of, reference_collection

WAIT_MS = 30_000


@pytest.fixture
def located(tmp_path, store_path):
    """Posts 'rocket' and 'chelsea' moved by a real SIFT run; 'far' has no reference near it;
    'loftr' carries a geolocation made with a matcher that cannot be created here."""
    with open_store(store_path) as store:
        refs = reference_collection(tmp_path / "street", store)
        fids = {
            "rocket": add_post_with_photos(store, "rocket", offset(150, -120), 400.0,
                                           [query_of(refs["rocket_1"][2], seed=11)]),
            "chelsea": add_post_with_photos(store, "chelsea", offset(100, 0), 400.0,
                                            [query_of(refs["chelsea_0"][2], seed=5)]),
            "far": add_post_with_photos(store, "far", offset(5000, 5000), 100.0,
                                        [query_of(refs["coffee_0"][2], seed=12)]),
        }
        summary = locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=3))
        assert summary.counts["moved"] == 2 and summary.counts["unmatched"] == 1
        fids["loftr"] = add_post_with_photos(store, "loftr", offset(0, 0), 50.0,
                                             [query_of(refs["astronaut_0"][2], seed=7)])
        post = next(p for p in geoloc_sql.posts_to_locate(store, "loftr", "mist") if p.fid == fids["loftr"])
        ref = next(r for r in geoloc_sql.references(store) if r.ref_uid == "street/astronaut_0")
        with store.batch() as conn:
            geoloc_sql.record_outcome(conn, post, "loftr", "mist", "moved", None, None, media_fid=post.media[0][0],
                                      ref=ref, confidence=0.9, inliers=80, accuracy_m=30.0)
    return fids, tmp_path / "street"


@pytest.fixture
def dock(located, store_path, open_verify_dock):
    return open_verify_dock(store_path)


def select_post(dock, post_fid):
    for i in range(dock.model.rowCount()):
        if dock.model.row_at(i).post_fid == post_fid:
            dock._set_current(i)
            return
    raise AssertionError(f"post {post_fid} not in the table")


def press(qtbot, dock, key):
    dock.table.setFocus()
    qtbot.keyClick(dock.table, key)


def wait_drawn(qtbot, dock, png: Path):
    qtbot.waitUntil(lambda: dock.match_pane.view.identity == str(png) and dock.match_pane.view.has_photo()
                    or bool(dock.match_pane.failure), timeout=WAIT_MS)
    assert not dock.match_pane.failure


def test_m_draws_the_match_off_the_gui_thread_and_caches_it(qtbot, dock, located):
    fids, _ = located
    select_post(dock, fids["rocket"])
    source = dock.match_source
    assert source is not None and source.ref_uid == "street/rocket_1" and source.matcher == "sift"
    assert source.match_fid is not None and source.run_params["matcher"] == "sift"
    png = cache_file(dock.store.media_dir, source)
    assert png == dock.store.media_dir / "matches" / f"{fids['rocket']}_{source.match_fid}.png"
    assert dock.photo_tabs.isTabEnabled(MATCH_TAB)
    press(qtbot, dock, Qt.Key.Key_M)
    assert dock.photo_tabs.currentIndex() == MATCH_TAB
    assert dock.match_pane.busy()  # returned at once: the matcher runs in the pool
    assert "Drawing the match" in dock.match_pane.view.placeholder_text
    wait_drawn(qtbot, dock, png)
    pixmap = dock.match_pane.view._item.pixmap()
    assert not pixmap.isNull() and pixmap.width() > pixmap.height()  # side by side
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    caption = dock.match_pane.caption.text()
    assert "street/rocket_1" in caption and "Drawn with sift, the matcher of the geolocation" in caption
    assert "inliers" in caption

    # M again: the photo; the verdict keys still work on the match view
    press(qtbot, dock, Qt.Key.Key_M)
    assert dock.photo_tabs.currentIndex() == PHOTO_TAB and dock.photo.has_photo()
    dock.photo_tabs.setCurrentIndex(MATCH_TAB)  # the mouse: a click on the tab
    assert dock.match_pane.view.has_photo() and not dock.match_pane.busy()
    qtbot.keyClick(dock.match_pane.view, Qt.Key.Key_U)
    assert dock.store.scalar("SELECT verdict FROM verifications WHERE post_fid = ?", (fids["rocket"],)) == "unsure"


def test_second_view_is_instant_from_the_cache(qtbot, dock, located):
    fids, _ = located
    select_post(dock, fids["chelsea"])
    png = cache_file(dock.store.media_dir, dock.match_source)
    press(qtbot, dock, Qt.Key.Key_M)
    wait_drawn(qtbot, dock, png)
    mtime = png.stat().st_mtime_ns
    press(qtbot, dock, Qt.Key.Key_M)
    select_post(dock, fids["rocket"])
    select_post(dock, fids["chelsea"])
    press(qtbot, dock, Qt.Key.Key_M)
    assert dock.match_pane.view.identity == str(png) and dock.match_pane.view.has_photo()  # no wait
    assert not dock.match_pane.busy() and png.stat().st_mtime_ns == mtime


def test_a_result_for_a_post_the_analyst_left_is_not_shown(qtbot, dock, located):
    fids, _ = located
    select_post(dock, fids["rocket"])
    first = cache_file(dock.store.media_dir, dock.match_source)
    shown: list[str] = []
    dock.match_pane.rendered.connect(shown.append)
    press(qtbot, dock, Qt.Key.Key_M)
    assert dock.match_pane.busy()
    select_post(dock, fids["chelsea"])  # the match view stays on while moving: draws this post now
    second = cache_file(dock.store.media_dir, dock.match_source)
    assert dock.photo_tabs.currentIndex() == MATCH_TAB
    qtbot.waitUntil(lambda: not dock.match_pane.busy(), timeout=2 * WAIT_MS)
    assert dock.match_pane.view.identity == str(second) and dock.match_pane.view.has_photo()
    assert str(first) not in shown and shown == [str(second)]  # the left post's view never reached the screen


def test_posts_without_a_geolocation_have_the_view_disabled_with_a_reason(qtbot, dock, located):
    fids, _ = located
    select_post(dock, fids["rocket"])
    press(qtbot, dock, Qt.Key.Key_M)
    select_post(dock, fids["far"])  # geolocation ran but found nothing
    assert not dock.photo_tabs.isTabEnabled(MATCH_TAB)
    assert dock.photo_tabs.currentIndex() == PHOTO_TAB and dock.photo.has_photo()
    tip = dock.photo_tabs.tabToolTip(MATCH_TAB)
    assert "did not place this post" in tip and "unmatched" in tip and "no reference within 100 m" in tip
    press(qtbot, dock, Qt.Key.Key_M)
    assert dock.photo_tabs.currentIndex() == PHOTO_TAB and dock.status.text() == tip
    with dock.store.batch() as conn:  # a post never geolocated at all
        conn.execute("DELETE FROM geolocations WHERE post_fid = ?", (fids["far"],))
    select_post(dock, fids["rocket"])
    assert dock.photo_tabs.currentIndex() == MATCH_TAB  # the analyst's M is remembered
    select_post(dock, fids["far"])
    assert "has not been geolocated" in dock.photo_tabs.tabToolTip(MATCH_TAB)
    qtbot.waitUntil(lambda: not dock.match_pane.busy(), timeout=WAIT_MS)


def test_missing_reference_file_gives_the_reason(qtbot, dock, located):
    fids, street = located
    (street / "chelsea_0.png").unlink()
    select_post(dock, fids["chelsea"])
    png = cache_file(dock.store.media_dir, dock.match_source)
    press(qtbot, dock, Qt.Key.Key_M)
    qtbot.waitUntil(lambda: bool(dock.match_pane.failure), timeout=WAIT_MS)
    assert "The reference image is missing" in dock.match_pane.failure
    assert "chelsea_0.png" in dock.match_pane.view.placeholder_text
    assert not dock.match_pane.view.has_photo() and not png.exists()


def test_a_matcher_that_cannot_be_created_falls_back_to_sift_and_says_so(qtbot, dock, located):
    fids, _ = located
    select_post(dock, fids["loftr"])
    assert dock.match_source.matcher == "loftr" and dock.match_source.match_fid is None
    png = cache_file(dock.store.media_dir, dock.match_source)
    assert png.name.startswith(f"{fids['loftr']}_street_astronaut_0-")  # the reference, made file-safe
    press(qtbot, dock, Qt.Key.Key_M)
    wait_drawn(qtbot, dock, png)
    caption = dock.match_pane.caption.text()
    assert "Drawn with sift: the geolocation's matcher loftr cannot be created here" in caption
    assert "weights" in caption
    press(qtbot, dock, Qt.Key.Key_M)  # from the cache, the caption still says it fell back
    press(qtbot, dock, Qt.Key.Key_M)
    assert "cannot be created here" in dock.match_pane.caption.text()


def test_match_source_prefers_the_geolocation_that_placed_the_post(store, tmp_path):
    refs = reference_collection(tmp_path / "street", store)
    fid = add_post_with_photos(store, "q", offset(150, -120), 400.0, [query_of(refs["rocket_1"][2], seed=11)])
    assert store_match.match_source(store, fid) is None and store_match.geolocation_note(store, fid) is None
    locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=2))
    post = geoloc_sql.posts_to_locate(store, "loftr", "mist", post_fids=[fid])[0]
    other = next(r for r in geoloc_sql.references(store) if r.ref_uid == "street/coffee_0")
    with store.batch() as conn:  # a later run placed it elsewhere with another mode, then undone by hand
        geoloc_sql.record_outcome(conn, post, "sift", "paper", "moved", None, None, media_fid=post.media[0][0],
                                  ref=other, confidence=0.6, accuracy_m=30.0)
        conn.execute("UPDATE posts SET match_ref = 'street/rocket_1' WHERE fid = ?", (fid,))
    assert store_match.match_source(store, fid).ref_uid == "street/rocket_1"
    with store.batch() as conn:
        conn.execute("UPDATE posts SET match_ref = 'street/coffee_0' WHERE fid = ?", (fid,))
    source = store_match.match_source(store, fid)
    assert source.ref_uid == "street/coffee_0" and source.mode == "paper"
