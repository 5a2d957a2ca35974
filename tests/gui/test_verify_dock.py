"""The verification dock driven by key presses, offscreen: the store, the posts layer and its
undo stack, the map both ways, bad media, read-only stores and other sessions."""

from __future__ import annotations

import pytest
from qgis.core import QgsCoordinateReferenceSystem, QgsDateTimeRange, QgsProject, QgsRectangle, QgsVectorLayer
from qgis.gui import QgsMapCanvas
from qgis.PyQt.QtCore import QDateTime, QItemSelectionModel, Qt
from qgis.PyQt.QtGui import QPixmapCache
from qgis.PyQt.QtWidgets import QApplication

from mist_qgis import settings
from mist_qgis.core.store import open_store
from mist_qgis.core.verify.records import Verdict
from mist_qgis.core.verify.verdicts import write_verdict
from mist_qgis.gui.verify_dock import VerifyDock
from mist_qgis.qgis_ops.layers import store_layer_source
from tests.helpers.stub_iface import StubIface
from tests.helpers.verify_store import build_store


class CanvasIface(StubIface):
    def __init__(self) -> None:
        super().__init__()
        self.canvas = QgsMapCanvas()
        self.canvas.resize(400, 300)
        self.canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
        self.canvas.setExtent(QgsRectangle(113.0, 34.0, 114.0, 35.0))

    def mapCanvas(self):
        return self.canvas


@pytest.fixture
def built(store_path):
    with open_store(store_path) as store:
        data = build_store(store, n=12)
    return data


@pytest.fixture
def dock(built, store_path, open_verify_dock):
    return open_verify_dock(store_path)


@pytest.fixture
def posts_layer(store_path):
    source, provider = store_layer_source(store_path, "posts")  # OGR on a file, `postgres` on a team store
    layer = QgsVectorLayer(source, "posts", provider)
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    yield layer
    if layer.isEditable():
        layer.rollBack()
    QgsProject.instance().removeAllMapLayers()


def by_fid(layer, fid: int):
    """The layer's feature of one store row (a `postgres` layer numbers its features itself)."""
    return next(f for f in layer.getFeatures() if f["fid"] == fid)


def selected_fids(layer) -> list[int]:
    return sorted(f["fid"] for f in layer.selectedFeatures())


def select_fids(layer, fids) -> None:
    """Select posts on the map as an analyst would (re-read first: the dock's store wrote to the file)."""
    layer.dataProvider().reloadData()
    layer.selectByIds([f.id() for f in layer.getFeatures() if f["fid"] in set(fids)])


def press(qtbot, dock, key, modifier=Qt.KeyboardModifier.NoModifier):
    dock.table.setFocus()
    qtbot.keyClick(dock.table, key, modifier)


def verdicts(dock):
    return [tuple(r) for r in dock.store.query(
        "SELECT media_fid, verdict, water_depth_m, analyst FROM verifications ORDER BY fid")]


def mirror(dock, post_fid):
    return tuple(dock.store.query("SELECT verified, verified_by, water_depth_m FROM posts WHERE fid = ?",
                                  (post_fid,))[0])


def test_keys_judge_advance_and_undo(qtbot, dock, built):
    m, p = built.media_fids, built.post_fids
    assert dock.model.rowCount() == 12 and dock.current_row().media_fid == m[0]
    assert dock.photo.has_photo() and dock.photo.identity == dock.photo_key(dock.current_row())
    press(qtbot, dock, Qt.Key.Key_F)
    press(qtbot, dock, Qt.Key.Key_2)
    press(qtbot, dock, Qt.Key.Key_N)
    press(qtbot, dock, Qt.Key.Key_U)
    assert verdicts(dock) == [(m[0], "flood", None, "ana"), (m[1], "flood", 0.5, "ana"),
                              (m[2], "not_flood", None, "ana"), (m[3], "unsure", None, "ana")]
    assert mirror(dock, p[1]) == ("flood", "ana", 0.5)
    assert dock.current_row().media_fid == m[4]
    assert dock.model.row_at(1).verdict == "flood" and dock.model.index(1, 5).data() == "Flood 0.5 m"
    press(qtbot, dock, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, dock, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [v[0] for v in verdicts(dock)] == [m[0], m[1]]
    assert mirror(dock, p[2]) == (None, None, None)
    assert dock.current_row().media_fid == m[2]  # back on the photo whose verdict was taken back
    for key, expected in ((Qt.Key.Key_Right, 3), (Qt.Key.Key_Down, 4), (Qt.Key.Key_Left, 3), (Qt.Key.Key_Up, 2)):
        press(qtbot, dock, key)
        assert dock.current_row().media_fid == m[expected]
        assert dock.photo.identity == dock.photo_key(dock.current_row())


def test_depth_field_mouse_and_selection(qtbot, dock, built):
    m = built.media_fids
    press(qtbot, dock, Qt.Key.Key_D)
    assert dock.depth_edit.hasFocus()
    qtbot.keyClicks(dock.depth_edit, "30cm")
    qtbot.keyClick(dock.depth_edit, Qt.Key.Key_Return)
    assert verdicts(dock)[-1] == (m[0], "flood", 0.3, "ana")
    qtbot.keyClicks(dock.note_edit, "roof level")
    qtbot.mouseClick(dock.depth_buttons[3], Qt.MouseButton.LeftButton)  # "above" with the mouse
    row = dock.store.query("SELECT water_depth_m, note FROM verifications ORDER BY fid DESC LIMIT 1")[0]
    assert tuple(row) == (1.5, "roof level") and dock.note_edit.text() == ""
    dock.depth_edit.setText("very deep")
    dock._depth_entered()
    assert "cannot read a water depth" in dock.status.text() and len(verdicts(dock)) == 2
    # several selected rows take one verdict together, undone together
    dock._set_current(5)
    dock.table.selectionModel().select(
        dock.model.index(6, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    assert {r.media_fid for r in dock.selected_rows()} == {m[5], m[6]}
    qtbot.mouseClick(dock.verdict_buttons["not_flood"], Qt.MouseButton.LeftButton)
    assert [v[0] for v in verdicts(dock)[-2:]] == [m[5], m[6]]
    dock.undo()
    assert len(verdicts(dock)) == 2


def test_analyst_name_is_required(qtbot, dock):
    dock.analyst_edit.setText("  ")
    press(qtbot, dock, Qt.Key.Key_F)
    assert verdicts(dock) == [] and "Analyst" in dock.status.text()


def test_layer_follows_the_store_and_undo_goes_one_way(qtbot, dock, built, posts_layer):
    """The posts layer shows each verdict and each undo at once, read from the store; it is never
    put in edit mode, so QGIS has nothing to ask about when it closes."""
    m, p = built.media_fids, built.post_fids
    repaints = []
    posts_layer.repaintRequested.connect(lambda *_: repaints.append(1))
    press(qtbot, dock, Qt.Key.Key_3)  # flood, waist deep
    assert not posts_layer.isEditable() and not posts_layer.isModified()
    feature = by_fid(posts_layer, p[0])
    assert feature["verified"] == "flood" and feature["water_depth_m"] == 1.0 and feature["verified_by"] == "ana"
    when = feature["verified_at"]  # a DATETIME field of the GeoPackage, ISO text on a team store
    assert (when.isValid() if isinstance(when, QDateTime) else when.startswith("20")) and repaints
    press(qtbot, dock, Qt.Key.Key_N)
    assert by_fid(posts_layer, p[1])["verified"] == "not_flood"
    # the dock's Ctrl+Z takes the latest verdict out of the store, and the layer follows
    press(qtbot, dock, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert verdicts(dock) == [(m[0], "flood", 1.0, "ana")] and mirror(dock, p[1]) == (None, None, None)
    assert not by_fid(posts_layer, p[1])["verified"]  # NULL again
    assert dock.current_row().media_fid == m[1]  # back on the photo that was undone
    press(qtbot, dock, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert verdicts(dock) == [] and not by_fid(posts_layer, p[0])["verified"]
    press(qtbot, dock, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "Nothing to undo" in dock.status.text()
    assert not posts_layer.isEditable() and posts_layer.undoStack().count() == 0


def canvas_dock(qtbot, store_path) -> tuple[VerifyDock, CanvasIface]:
    """A dock of analyst "ana" beside a map canvas, on the store (clean up with dock.cleanup())."""
    iface = CanvasIface()
    dock = VerifyDock(iface)
    qtbot.addWidget(dock)
    dock.analyst_edit.setText("ana")
    dock.show()
    assert dock.open_store(store_path)
    return dock, iface


def test_map_sync_both_ways(qtbot, built, store_path, posts_layer):
    dock, iface = canvas_dock(qtbot, store_path)
    try:
        m, p = built.media_fids, built.post_fids
        press(qtbot, dock, Qt.Key.Key_Right)
        assert selected_fids(posts_layer) == [p[1]]
        centre = iface.canvas.center()
        assert (centre.x(), centre.y()) == pytest.approx((113.61, 34.705), abs=1e-6)
        dock.follow_selection.setChecked(True)
        select_fids(posts_layer, [p[4], p[7]])
        assert [dock.model.row_at(i).media_fid for i in range(dock.model.rowCount())] == [m[4], m[7]]
        posts_layer.removeSelection()
        assert dock.model.rowCount() == 12
        dock.follow_selection.setChecked(False)
        # the temporal controller's window (through the canvas) filters the table
        dock.follow_time.setChecked(True)
        begin = QDateTime(2021, 7, 20, 8, 10, 0, 0, Qt.TimeSpec.UTC)
        iface.canvas.setTemporalRange(QgsDateTimeRange(begin, begin.addSecs(11 * 60)))  # 8:10-8:21 inclusive
        assert [dock.model.row_at(i).media_fid for i in range(dock.model.rowCount())] == [m[2], m[3]]
        iface.canvas.setTemporalRange(QgsDateTimeRange(QDateTime(), QDateTime()))  # navigation off: infinite
        assert dock.model.rowCount() == 12
        dock.follow_time.setChecked(False)
        # the map extent filters it too
        iface.canvas.setExtent(QgsRectangle(113.635, 34.71, 113.665, 34.7325))  # the canvas aspect, 4:3
        dock.follow_extent.setChecked(True)
        assert [dock.model.row_at(i).media_fid for i in range(dock.model.rowCount())] == [m[4], m[5], m[6]]
    finally:
        dock.cleanup()


def test_map_sync_keys_by_the_store_fid_not_the_feature_id(qtbot, built, store_path):
    """QGIS's `postgres` provider numbers a table's features itself, in the order it reads them:
    once the first post has been rewritten (PostgreSQL writes a new row version at the table's
    end), feature id 1 is some other post. Selection both ways must follow the store's `fid`."""
    m, p = built.media_fids, built.post_fids
    with open_store(store_path) as store, store.batch() as conn:
        conn.execute("UPDATE posts SET note = 'seen' WHERE fid = ?", (p[0],))
    source, provider = store_layer_source(store_path, "posts")
    layer = QgsVectorLayer(source, "posts", provider)
    QgsProject.instance().addMapLayer(layer)
    ids = {f.id(): f["fid"] for f in layer.getFeatures()}
    assert sorted(ids.values()) == p
    if provider == "postgres":
        assert ids[p[1]] != p[1]  # the numbering this test is about
    dock, _ = canvas_dock(qtbot, store_path)
    try:
        press(qtbot, dock, Qt.Key.Key_Right)  # the queue's second photo: post p[1]
        assert dock.current_row().post_fid == p[1]
        assert [ids[i] for i in layer.selectedFeatureIds()] == [p[1]]
        dock.follow_selection.setChecked(True)
        select_fids(layer, [p[5], p[9]])
        assert [dock.model.row_at(i).media_fid for i in range(dock.model.rowCount())] == [m[5], m[9]]
    finally:
        dock.cleanup()
        QgsProject.instance().removeAllMapLayers()


def test_bad_media_show_a_placeholder_with_the_reason(qtbot, store_path, built):
    with open_store(store_path) as store:
        m = built.media_fids
        paths = {r[0]: store.media_file(r[1]) for r in store.query("SELECT fid, cache_path FROM media")}
        paths[m[1]].unlink()
        paths[m[2]].write_bytes(paths[m[2]].read_bytes()[:200])  # truncated JPEG
        paths[m[3]].write_bytes(b"<html>not a photo</html>")
        with store.batch() as conn:
            conn.execute("UPDATE media SET status = 'failed', error = 'HTTP 404' WHERE fid = ?", (m[4],))
            conn.execute("UPDATE media SET status = 'pending', cache_path = NULL WHERE fid = ?", (m[5],))
            conn.execute("UPDATE media SET cache_path = '../../etc/passwd' WHERE fid = ?", (m[6],))
    settings.set_value("store_path", "")  # no auto-open of an earlier test's store on show
    QPixmapCache.clear()  # pixmaps are keyed by content (sha256): earlier tests decoded these photos
    dock = VerifyDock()
    qtbot.addWidget(dock)
    dock.show()
    try:
        assert dock.open_store(store_path)
        texts = []
        for _ in range(6):
            dock.next()
            texts.append(dock.photo.placeholder_text)
        assert "missing" in texts[0]
        assert "damaged" in texts[1] or "readable" in texts[1]
        assert "readable" in texts[2] or "damaged" in texts[2]
        assert "could not be fetched" in texts[3] and "HTTP 404" in texts[3]
        cell = dock.model.index(dock.model.row_of(m[4]), 0)
        assert dock.model.data(cell) == "failed: HTTP 404"  # the table says why, too
        assert dock.model.data(cell, Qt.ItemDataRole.ToolTipRole) == "failed: HTTP 404"
        assert "not fetched yet" in texts[4]
        assert "escapes the media folder" in texts[5]
        assert not dock.photo.has_photo()
        dock.next()
        assert dock.photo.has_photo() and dock.photo.placeholder_text == ""
    finally:
        dock.cleanup()


def test_read_only_store_disables_editing(qtbot, store_path, built):
    dock = VerifyDock()
    qtbot.addWidget(dock)
    dock.analyst_edit.setText("ana")
    dock.show()
    try:
        assert dock.open_store(store_path, read_only=True)
        assert dock.banner.isVisible() and "read-only" in dock.banner.text()
        assert not dock.verdict_buttons["flood"].isEnabled() and not dock.depth_edit.isEnabled()
        press(qtbot, dock, Qt.Key.Key_F)
        assert "read-only" in dock.status.text()
        assert dock.store.count("verifications") == 0
        press(qtbot, dock, Qt.Key.Key_Right)  # browsing still works
        assert dock.current_row().media_fid == built.media_fids[1]
    finally:
        dock.cleanup()


def test_other_session_refresh_keeps_the_place(qtbot, dock, built, store_path):
    m, p = built.media_fids, built.post_fids
    dock.verdict_filter.setCurrentIndex(1)  # not verified
    dock.refresh()
    for _ in range(3):
        dock.next()
    assert dock.current_row().media_fid == m[3]
    assert not dock.check_external_changes()
    with open_store(store_path) as other:  # another analyst, another connection
        write_verdict(other, Verdict(p[1], "flood", "ben", m[1]))
        write_verdict(other, Verdict(p[6], "not_flood", "ben", m[6]))
    assert dock.check_external_changes()
    assert dock.current_row().media_fid == m[3]
    shown = [dock.model.row_at(i).media_fid for i in range(dock.model.rowCount())]
    assert m[1] not in shown and m[6] not in shown and len(shown) == 10
    assert "another session" in dock.status.text()


def test_lazy_model_pages(qtbot, built, store_path):
    from mist_qgis.core.verify.queue import Queue
    from mist_qgis.gui.verify_model import VerifyTableModel

    with open_store(store_path, read_only=True) as store:
        model = VerifyTableModel(page_size=5)
        model.set_queue(Queue(store))
        assert model.rowCount() == 5 and model.canFetchMore()
        model.fetchMore()
        model.fetchMore()
        assert model.rowCount() == 12
        model.fetchMore()
        assert not model.canFetchMore() and model.rowCount() == 12
        assert model.set_queue(Queue(store), keep_media_fid=built.media_fids[11]) == 11


def test_thumbnails_load_off_the_gui_thread(qtbot, dock):
    from mist_qgis.gui.verify_model import PHOTO

    index = dock.model.index(7, PHOTO)
    qtbot.waitUntil(lambda: dock.model.data(index, Qt.ItemDataRole.DecorationRole) is not None, timeout=5000)
    pixmap = dock.model.data(index, Qt.ItemDataRole.DecorationRole)
    assert max(pixmap.width(), pixmap.height()) == 64


def test_quality_panel_shows_curve_kappa_and_conflicts(qtbot, dock, built, store_path):
    m, p = built.media_fids, built.post_fids
    with open_store(store_path) as other:
        for i in range(8):
            write_verdict(other, Verdict(p[i], "flood" if built.scores[m[i]] >= 0.5 else "not_flood", "ana", m[i]))
            write_verdict(other, Verdict(p[i], "flood" if i % 3 else "not_flood", "ben", m[i]))
    dock.check_external_changes()
    dock.tabs.setCurrentIndex(1)
    panel = dock.quality
    panel.reload_choices()
    panel.refresh()
    assert panel.model_combo.currentText() == "screen-v1"
    assert panel.pr_label.pixmap() is not None and not panel.pr_label.pixmap().isNull()
    assert panel.counts_label.pixmap() is not None
    assert "kappa" in panel.kappa_label.text()
    assert panel.conflicts.rowCount() > 0
    panel.slider.setValue(80)
    assert dock.threshold == pytest.approx(0.8)
    with qtbot.waitSignal(panel.show_item):
        panel._conflict_clicked(0, 0)
    QApplication.processEvents()
    assert dock.tabs.currentIndex() == 0 and dock.model.rowCount() == 1


class WindowIface(CanvasIface):
    """QGIS's interface as the Verify dock meets it in QGIS's window: an Edit menu, an active
    layer that says when it changes."""

    active = None

    def __init__(self) -> None:
        from qgis.PyQt.QtCore import QObject, pyqtSignal

        class Layers(QObject):
            changed = pyqtSignal(object)

        super().__init__()
        self.layers = Layers()
        self.currentLayerChanged = self.layers.changed
        self.edit_menu = self.window.menuBar().addMenu("Edit")

    def activeLayer(self):  # noqa: N802
        return self.active

    def editMenu(self):  # noqa: N802
        return self.edit_menu

    def set_active(self, layer) -> None:
        self.active = layer
        self.currentLayerChanged.emit(layer)


def qgis_window(qtbot, store_path):
    """QGIS's window around a Verify dock on the store: the map canvas (with QGIS's pan tool, which
    keeps the keys it does not use), a Layers panel and QGIS's Edit › Undo and Redo, Undo enabled
    only while a layer is edited. Returns (iface, dock, QGIS's Undo, its triggers, Redo, the Layers
    tree)."""
    from qgis.gui import QgsMapToolPan
    from qgis.PyQt.QtGui import QKeySequence
    from qgis.PyQt.QtWidgets import QAction, QDockWidget, QTreeView

    iface = WindowIface()
    iface.pan = QgsMapToolPan(iface.canvas)
    iface.canvas.setMapTool(iface.pan)
    window = iface.mainWindow()
    qtbot.addWidget(window)  # closed and deleted (with the dock) at the end
    window.setCentralWidget(iface.canvas)
    qgis_undo = QAction("Undo", window)
    qgis_undo.setObjectName("mActionUndo")  # as QGIS names it
    qgis_undo.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
    qgis_undo.setEnabled(False)
    taken_by_qgis = []
    qgis_undo.triggered.connect(lambda: taken_by_qgis.append(1))
    redo = QAction("Redo", window)
    iface.edit_menu.addAction(qgis_undo)
    iface.edit_menu.addAction(redo)
    layers_panel = QDockWidget("Layers", window)
    tree = QTreeView(layers_panel)
    layers_panel.setWidget(tree)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, layers_panel)
    dock = VerifyDock(iface, window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.analyst_edit.setText("ana")
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()  # keys go to the focus widget of the active window, as in QGIS
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    assert dock.open_store(store_path)
    return iface, dock, qgis_undo, taken_by_qgis, redo, tree


def test_qgis_edit_menu_undoes_the_latest_verdict_and_leaves_ctrl_z_to_qgis_when_it_has_undo(
        qtbot, built, store_path, posts_layer):
    """QGIS's Edit menu has "Undo verdict" under QGIS's own Undo, enabled while the dock can undo;
    it holds Ctrl+Z while the posts layer is active and QGIS's Undo has nothing, and gives the key
    back the moment QGIS's Undo is enabled (a layer being edited). The posts layer is never edited."""
    from qgis.PyQt.QtGui import QKeySequence

    iface, dock, qgis_undo, taken_by_qgis, redo, tree = qgis_window(qtbot, store_path)
    try:
        [action] = [a for a in iface.edit_menu.actions() if a.objectName() == "MistUndoVerdict"]
        assert iface.edit_menu.actions() == [qgis_undo, action, redo]
        assert action.text() == "Undo verdict" and not action.isEnabled()
        m = built.media_fids
        for key in (Qt.Key.Key_F, Qt.Key.Key_N, Qt.Key.Key_U):
            press(qtbot, dock, key)
        assert action.isEnabled() and action.shortcut().isEmpty()  # no layer of the store active

        action.trigger()  # Edit › Undo verdict
        assert [v[0] for v in verdicts(dock)] == [m[0], m[1]]

        iface.set_active(posts_layer)
        assert action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)  # shown in the menu
        tree.setFocus()
        qtbot.waitUntil(tree.hasFocus)
        qtbot.keyClick(tree, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert [v[0] for v in verdicts(dock)] == [m[0]] and not taken_by_qgis

        qgis_undo.setEnabled(True)  # a layer being edited: QGIS's Undo gets Ctrl+Z back at once
        assert action.shortcut().isEmpty() and action.isEnabled()
        qtbot.keyClick(tree, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert taken_by_qgis == [1] and len(verdicts(dock)) == 1
        qgis_undo.setEnabled(False)

        action.trigger()
        assert verdicts(dock) == [] and not action.isEnabled() and not posts_layer.isEditable()
    finally:
        dock.cleanup()
    assert iface.edit_menu.actions() == [qgis_undo, redo]


def test_qgis_ctrl_z_on_the_map_or_the_posts_layer_undoes_the_latest_verdict(qtbot, built, store_path, posts_layer):
    """Ctrl+Z outside the dock: on the map canvas, or with a layer of the store active, it takes
    back the latest verdict, unless QGIS's own Edit › Undo (a layer being edited) has it first."""
    iface, dock, qgis_undo, taken_by_qgis, _redo, tree = qgis_window(qtbot, store_path)
    m = built.media_fids
    for key in (Qt.Key.Key_F, Qt.Key.Key_N, Qt.Key.Key_U, Qt.Key.Key_F):
        press(qtbot, dock, key)
    assert len(verdicts(dock)) == 4

    iface.canvas.setFocus()
    qtbot.waitUntil(iface.canvas.hasFocus)
    qtbot.keyClick(iface.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [v[0] for v in verdicts(dock)] == [m[0], m[1], m[2]]

    tree.setFocus()  # the Layers panel, with another layer active: not ours
    qtbot.waitUntil(tree.hasFocus)
    iface.set_active(QgsVectorLayer("Point?crs=EPSG:4326", "other", "memory"))
    qtbot.keyClick(tree, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(verdicts(dock)) == 3
    iface.set_active(posts_layer)  # the posts layer active: Ctrl+Z is QGIS's way to undo a verdict
    qtbot.keyClick(tree, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [v[0] for v in verdicts(dock)] == [m[0], m[1]]
    assert not posts_layer.isEditable() and not taken_by_qgis

    qgis_undo.setEnabled(True)  # a layer being edited: QGIS's own undo keeps Ctrl+Z
    iface.canvas.setFocus()
    qtbot.waitUntil(iface.canvas.hasFocus)
    qtbot.keyClick(iface.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert taken_by_qgis == [1] and len(verdicts(dock)) == 2
    dock.cleanup()
