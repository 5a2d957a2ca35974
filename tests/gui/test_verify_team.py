"""Two analysts, two Verify docks, one store, each dock on its own connection: posts handed out
under leases, a colleague's verdict shown as a conflict instead of being overwritten, and the
other dock refreshed by the verdicts as they land (LISTEN/NOTIFY on a team store, the change
check on a GeoPackage) without losing its place."""

from __future__ import annotations

from qgis.PyQt.QtCore import Qt

from mist_qgis.core.store import open_store
from mist_qgis.core.verify.records import BBox, Verdict
from mist_qgis.core.verify.team import set_verifications_per_post
from mist_qgis.core.verify.verdicts import write_verdict
from tests.helpers.pgcluster import listening_backends
from tests.helpers.verify_store import build_store

WAIT_MS = 10_000


def press(qtbot, dock, key) -> None:
    dock.table.setFocus()
    qtbot.keyClick(dock.table, key)


def posts_shown(dock) -> set[int]:
    return {dock.model.row_at(i).post_fid for i in range(dock.model.rowCount())}


def verdicts(store) -> list[tuple]:
    return [tuple(r) for r in store.query("SELECT post_fid, analyst, verdict FROM verifications ORDER BY fid")]


def two_docks(store_path, open_verify_dock, quiet: bool = True):
    """ana's and ben's docks; `quiet`: without the change check's timed refresh (a test about
    something else must not have its messages replaced by it)."""
    ana = open_verify_dock(store_path)
    ben = open_verify_dock(store_path)
    ben.analyst_edit.setText("ben")
    assert ana.store is not ben.store  # two connections (two QGIS desktops)
    if quiet:
        ana._poll.stop()
        ben._poll.stop()
    return ana, ben


def test_leases_give_two_analysts_different_posts(qtbot, store_path, open_verify_dock):
    with open_store(store_path) as store:
        p = build_store(store, n=4).post_fids
    ana, ben = two_docks(store_path, open_verify_dock)
    ana.lease_mode.setChecked(True)
    ben.lease_mode.setChecked(True)
    assert posts_shown(ana) == {p[0]} and posts_shown(ben) == {p[1]}
    assert f"Post {p[0]} is yours" in ana.status.text()
    press(qtbot, ana, Qt.Key.Key_F)  # judged; the next post handed to ana is neither of the two
    assert posts_shown(ana) == {p[2]}
    press(qtbot, ben, Qt.Key.Key_N)
    assert posts_shown(ben) == {p[3]}
    press(qtbot, ana, Qt.Key.Key_F)
    assert "No post is left" in ana.status.text() and posts_shown(ana) == {p[2]}
    press(qtbot, ben, Qt.Key.Key_U)
    assert sorted(verdicts(ana.store)) == [(p[0], "ana", "flood"), (p[1], "ben", "not_flood"),
                                           (p[2], "ana", "flood"), (p[3], "ben", "unsure")]
    # giving a post back: ben leaves lease mode holding none; ana's last lease ended with her verdict
    ana.lease_mode.setChecked(False)
    assert ana.model.rowCount() == 4 and not ana.clear_item_filter.isVisible()


def test_a_released_post_goes_to_the_other_analyst(qtbot, store_path, open_verify_dock):
    with open_store(store_path) as store:
        p = build_store(store, n=2).post_fids
    ana, ben = two_docks(store_path, open_verify_dock)
    ana.map.extent = BBox(0.0, 0.0, 1.0, 1.0)  # a map far from the posts, followed
    ana.follow_extent.setChecked(True)
    ana.lease_mode.setChecked(True)
    assert posts_shown(ana) == {p[0]}  # the post handed out is shown wherever the map is
    ana.lease_mode.setChecked(False)  # ana stops: the post goes back
    assert ana.model.rowCount() == 0  # the map's extent applies again
    ben.lease_mode.setChecked(True)
    assert posts_shown(ben) == {p[0]}


def test_a_colleague_verdict_since_loading_is_a_conflict_not_overwritten(qtbot, store_path, open_verify_dock):
    with open_store(store_path) as store:
        data = build_store(store, n=4)
    p, m = data.post_fids, data.media_fids
    ana, ben = two_docks(store_path, open_verify_dock)
    assert ana.current_row().media_fid == m[0]
    # ben judges the photo ana has in view, from his own desktop, before ana's dock hears of it
    write_verdict(ben.store, Verdict(p[0], "not_flood", "ben", m[0]))
    press(qtbot, ana, Qt.Key.Key_F)
    assert ana.conflict_box.isVisible()
    text = ana.conflict_label.text()
    assert "ben judged photo" in text and "Not flood" in text and "yours: Flood" in text
    assert verdicts(ana.store) == [(p[0], "ben", "not_flood")]  # nothing of ana's written
    assert ana.current_row().media_fid == m[0]  # still on the photo
    ana.keep_mine()  # both verdicts kept, ana's now the current one
    assert not ana.conflict_box.isVisible()
    assert verdicts(ana.store) == [(p[0], "ben", "not_flood"), (p[0], "ana", "flood")]
    ana.previous()
    assert ana.disagreement.isVisible()
    assert "ana: Flood" in ana.disagreement.text() and "ben: Not flood" in ana.disagreement.text()
    # "keep theirs" writes nothing and moves on
    write_verdict(ben.store, Verdict(p[1], "unsure", "ben", m[1]))
    ana.next()  # showing photo 1 now reads ben's verdict: it is not a conflict any more
    write_verdict(ben.store, Verdict(p[1], "not_flood", "ben", m[1]))
    press(qtbot, ana, Qt.Key.Key_F)
    assert ana.conflict_box.isVisible()
    ana.keep_theirs()
    assert not ana.conflict_box.isVisible() and ana.current_row().media_fid == m[2]
    assert (p[1], "ana", "flood") not in verdicts(ana.store)


def test_double_verification_disagreement_is_shown_not_a_conflict(qtbot, store_path, open_verify_dock):
    with open_store(store_path) as store:
        data = build_store(store, n=2)
        set_verifications_per_post(store, 2)
    ana, ben = two_docks(store_path, open_verify_dock)
    ana.lease_mode.setChecked(True)
    ben.lease_mode.setChecked(True)
    assert posts_shown(ana) == posts_shown(ben) == {data.post_fids[0]}  # both judge it, for agreement
    ana.advance.setChecked(False)
    ben.advance.setChecked(False)
    press(qtbot, ana, Qt.Key.Key_F)
    press(qtbot, ben, Qt.Key.Key_N)
    assert not ben.conflict_box.isVisible()  # expected under double verification
    assert ben.disagreement.isVisible() and "ana: Flood" in ben.disagreement.text()


def test_a_colleague_verdict_refreshes_the_other_dock_in_place(qtbot, store_path, open_verify_dock):
    with open_store(store_path) as store:
        data = build_store(store, n=8)
    p, m = data.post_fids, data.media_fids
    ana, ben = two_docks(store_path, open_verify_dock, quiet=False)
    for _ in range(4):
        ben.next()
    assert ben.current_row().media_fid == m[4]
    team_store = ben.store.dialect == "postgresql"
    if team_store:
        ben._poll.stop()  # the notification alone must do it
        assert ben.team.listening
    ana._set_current(6)
    press(qtbot, ana, Qt.Key.Key_F)
    row = ben.model.row_of(m[6])
    qtbot.waitUntil(lambda: ben.model.row_at(row).verdict == "flood", timeout=WAIT_MS)
    assert ben.current_row().media_fid == m[4]  # ben's place is kept
    if team_store:
        assert f"ana judged post {p[6]}: Flood" in ben.status.text()
    else:
        assert "another session" in ben.status.text()


def test_a_password_in_the_connection_is_refused_and_never_recorded(qtbot, pg_store_url):
    from qgis.core import QgsProject

    from mist_qgis.gui.verify_dock import VerifyDock

    open_store(pg_store_url).close()
    dock = VerifyDock()
    qtbot.addWidget(dock)
    try:
        target = pg_store_url.replace("postgres@", "postgres:s3cret@")
        assert not dock.open_store(target)
        assert "password" in dock.status.text() and dock.store is None
        assert "s3cret" not in QgsProject.instance().readEntry("MIST", "store", "")[0]
        assert dock.open_store(pg_store_url)  # the same store without it
        assert dock.store_label.text() and "s3cret" not in dock.store_label.toolTip()
    finally:
        dock.cleanup()


def test_a_leased_post_without_photos_is_judged_by_its_text(qtbot, store_path, open_verify_dock):
    from mist_qgis.core.posts import PostRecord

    with open_store(store_path) as store, store.batch() as conn:
        store.add_posts(conn, [PostRecord("t1", "weibo", 113.6, 34.7, text="metro line 5 flooded <b>now</b>")])
        fid = store.query("SELECT fid FROM posts")[0][0]
    ana = open_verify_dock(store_path)
    ana._poll.stop()
    ana.lease_mode.setChecked(True)
    assert ana.model.rowCount() == 0 and ana.photo_free_post == fid
    assert "metro line 5 flooded <b>now</b>" in ana.info.toPlainText()  # shown as text, not markup
    press(qtbot, ana, Qt.Key.Key_F)
    assert verdicts(ana.store) == [(fid, "ana", "flood")]
    assert ana.store.query("SELECT media_fid FROM verifications")[0][0] is None  # on the post itself
    assert "No post is left" in ana.status.text()


def test_a_pushed_store_shows_its_thumbnails_in_the_verify_dock(qtbot, store_path, tmp_path, open_verify_dock):
    """A field GeoPackage pushed into the store: the dock's table shows the field laptop's
    thumbnails from the store's own media folder."""
    from mist_qgis.core.store.sync import push
    from mist_qgis.gui.verify_model import PHOTO

    with open_store(tmp_path / "field.gpkg") as field, open_store(store_path) as team:
        build_store(field, n=3)
        assert push(field, team).thumbnails_copied == 3
    dock = open_verify_dock(store_path)
    assert dock.model.rowCount() == 3
    for i in range(3):
        index = dock.model.index(i, PHOTO)
        qtbot.waitUntil(lambda index=index: dock.model.data(index, Qt.ItemDataRole.DecorationRole) is not None,
                        timeout=WAIT_MS)


def test_the_store_menu_opens_a_team_store_typed_as_a_connection(qtbot, pg_store_url):
    """The Verify dock's store menu (the one the Posts dock shares): a typed connection opens the
    team store; a path is no team store and the dock says so."""
    from mist_qgis.gui.verify_dock import VerifyDock
    from tests.helpers.dialogs import answer_input_dialog

    open_store(pg_store_url).close()
    dock = VerifyDock()
    qtbot.addWidget(dock)
    try:
        answer_input_dialog("/tmp/store.gpkg")
        dock.store_menu.choose_connection()
        assert "Not a team store" in dock.status.text() and dock.store is None
        answer_input_dialog(pg_store_url)
        dock.store_menu.choose_connection()
        assert dock.store is not None and dock.store_target == pg_store_url
    finally:
        dock.cleanup()


def test_closing_a_team_store_ends_its_listener_and_connection(qtbot, pg_store_url, open_verify_dock):
    """The dock's listening thread is woken when the store closes: it has ended, its LISTEN
    connection closed, when `close_store` returns; a verdict written just before still lands."""
    with open_store(pg_store_url) as store:
        p = build_store(store, n=2).post_fids
        before = listening_backends(store)
        dock = open_verify_dock(pg_store_url)
        mine = listening_backends(store) - before
    assert len(mine) == 1
    dock._poll.stop()
    listener = dock.team._listener
    assert listener is not None and listener.isRunning()
    arrived = []
    dock.team.verdict_arrived.connect(arrived.append)
    with open_store(pg_store_url) as other:
        write_verdict(other, Verdict(p[1], "flood", "ben"))
    qtbot.waitUntil(lambda: len(arrived) == 1, timeout=WAIT_MS)
    dock.close_store()
    assert listener.isFinished() and not dock.team.listening
    assert [(e.post_fid, e.analyst) for e in arrived] == [(p[1], "ben")]
    with open_store(pg_store_url) as probe:
        qtbot.waitUntil(lambda: not mine & listening_backends(probe), timeout=WAIT_MS)
