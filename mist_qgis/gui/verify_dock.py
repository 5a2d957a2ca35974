"""The "MIST Verify" dock: an analyst screens photos at keyboard speed with the map beside them.

Keys (with the table or the photo focused): F flood, N not flood, U unsure, 1-4 flood with a
water depth class (ankle 0.1 m, knee 0.5 m, waist 1.0 m, above 1.5 m), D the quick depth field
(metres or a class, Enter applies), Right/Down next, Left/Up previous, Ctrl+Z undo. A verdict
applies to every selected row, is saved to the store at once and, with "advance" on, moves to the
next photo. M shows the query/reference match of a post placed by image matching (and M again
the photo). The buttons do the same with the mouse.
"""

from __future__ import annotations

import getpass
import html
import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
)
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import QEvent, QItemSelectionModel, QObject, QRunnable, Qt, QThreadPool, QTimer, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .. import settings
from ..core.store import Store, StoreError, open_store
from ..core.store import match_view as store_match
from ..core.store import verify as store_verify
from ..core.verify.queue import Queue
from ..core.verify.records import (
    DEPTH_CLASSES,
    UNVERIFIED,
    BBox,
    Ordering,
    QueueFilter,
    QueueRow,
    Verdict,
    VerdictError,
    parse_depth,
)
from ..core.verify.verdicts import undo_verdict, write_verdicts
from ..i18n import QT_TR_NOOP, tr
from .layer_sync import LayerSync, VerdictBatch
from .match_pane import MatchPane
from .photo_view import PhotoView
from .prefetch import ImageLoader
from .quality_panel import QualityPanel
from .text_categories_panel import TextCategoriesPanel
from .verify_model import THUMB, VERDICT_LABELS, VerifyTableModel, verdict_text

PREFETCH_AHEAD = 3
PREFETCH_BEHIND = 1
POLL_MS = 2000
MAX_UNDO = 1000
EXIF_FACTS = ("Make", "Model", "LensModel", "DateTimeOriginal", "OffsetTimeOriginal", "FocalLength",
              "ExposureTime", "FNumber", "ISOSpeedRatings", "Orientation", "GPSLatitude", "GPSLongitude",
              "GPSAltitude", "GPSImgDirection", "Software")
ORDERINGS = [
    (Ordering.IMPORT, QT_TR_NOOP("Import order")), (Ordering.NEWEST, QT_TR_NOOP("Newest first")),
    (Ordering.OLDEST, QT_TR_NOOP("Oldest first")), (Ordering.SCORE_HIGH, QT_TR_NOOP("Score: high to low")),
    (Ordering.SCORE_LOW, QT_TR_NOOP("Score: low to high")), (Ordering.MOST_USEFUL, QT_TR_NOOP("Most useful next")),
]
VERDICT_FILTERS = [
    (None, QT_TR_NOOP("All photos")), (frozenset({UNVERIFIED}), QT_TR_NOOP("Not verified")),
    (frozenset({"flood"}), QT_TR_NOOP("Flood")), (frozenset({"not_flood"}), QT_TR_NOOP("Not flood")),
    (frozenset({"unsure"}), QT_TR_NOOP("Unsure")), ("mine", QT_TR_NOOP("Not judged by me")),
]
KEY_VERDICTS = {Qt.Key.Key_F: "flood", Qt.Key.Key_N: "not_flood", Qt.Key.Key_U: "unsure"}
KEY_DEPTHS = {Qt.Key.Key_1: 0, Qt.Key.Key_2: 1, Qt.Key.Key_3: 2, Qt.Key.Key_4: 3}
KEY_NEXT = (Qt.Key.Key_Right, Qt.Key.Key_Down)
KEY_PREVIOUS = (Qt.Key.Key_Left, Qt.Key.Key_Up)
KEY_MATCH = Qt.Key.Key_M
PHOTO_TAB, MATCH_TAB = 0, 1


class _CountSignals(QObject):
    counted = pyqtSignal(int, int)  # generation, count (-1: failed)


class _CountJob(QRunnable):
    """Counts the filtered photos on its own read-only connection, off the GUI thread."""

    def __init__(self, path: Path, filt: QueueFilter, generation: int, signals: _CountSignals) -> None:
        super().__init__()
        self.path, self.filt, self.generation, self.signals = path, filt, generation, signals

    def run(self) -> None:
        try:
            with open_store(self.path, read_only=True) as store:
                n = Queue(store, self.filt).count()
        except (StoreError, sqlite3.Error):
            n = -1
        self.signals.counted.emit(self.generation, n)


def _safe_link(url: str | None) -> str:
    if not url:
        return ""
    text = html.escape(url)
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}">{text}</a>'
    return text


class VerifyDock(QgsDockWidget):
    """The verification dock. `open_store()` loads a store; everything else follows the user."""

    verdict_written = pyqtSignal(int)  # number of photos

    def __init__(self, iface=None, parent=None) -> None:
        super().__init__(tr("MIST Verify"), parent)
        self.setObjectName("MistVerifyDock")
        self.iface = iface
        self.store: Store | None = None
        self.sync: LayerSync | None = None
        self.loader = ImageLoader(self)
        self.model = VerifyTableModel(self.loader)
        self.undo_stack: list[VerdictBatch] = []
        self.map_post_filter: frozenset[int] | None = None
        self.item_post_filter: frozenset[int] | None = None
        self.time_window: tuple[datetime, datetime] | None = None
        self.extent: BBox | None = None
        self.threshold = 0.5
        self.photo_count = -1
        self._selecting = False
        self._data_version: int | None = None
        self._count_generation = 0
        self._count_signals = _CountSignals(self)
        self._count_signals.counted.connect(self._counted)
        self._count_pool = QThreadPool(self)
        self._count_pool.setMaxThreadCount(1)
        self._layer = None
        self._tried_last_store = False
        self._want_match = False  # the analyst asked for the match view (M); kept while moving on
        self.match_source = None  # MatchSource of the current row, None when it has no match view
        self._build_ui()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.check_external_changes)
        self._extent_timer = QTimer(self)
        self._extent_timer.setSingleShot(True)
        self._extent_timer.setInterval(400)
        self._extent_timer.timeout.connect(self._extent_settled)
        self._connect_canvas()
        QgsProject.instance().layersAdded.connect(self._layers_changed)
        self._set_editing_enabled(False)
        self._show_placeholder(tr("No store open"), tr("Open a MIST store to start verifying."))
        self._update_match(None)

    # -- UI --------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        root = QWidget()
        self.tabs = QTabWidget()
        outer = QVBoxLayout(root)
        outer.setContentsMargins(2, 2, 2, 2)
        outer.addWidget(self.tabs)
        verify = QWidget()
        self.tabs.addTab(verify, tr("Verify"))
        self.quality = QualityPanel()
        self.quality.threshold_changed.connect(self._threshold_changed)
        self.quality.show_item.connect(self.show_item)
        self.tabs.addTab(self.quality, tr("Quality"))
        layout = QVBoxLayout(verify)
        layout.setContentsMargins(2, 2, 2, 2)

        top = QHBoxLayout()
        self.store_label = QLabel(tr("No store"))
        self.store_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        open_button = QPushButton(tr("Store…"))
        open_button.clicked.connect(self._choose_store)
        self.analyst_edit = QLineEdit(settings.value("analyst") or _default_analyst())
        self.analyst_edit.setPlaceholderText(tr("your name"))
        self.analyst_edit.setToolTip(tr("Analyst name saved with every verdict"))
        self.analyst_edit.editingFinished.connect(lambda: settings.set_value("analyst", self.analyst_edit.text()))
        refresh_button = QPushButton(tr("Refresh"))
        refresh_button.clicked.connect(lambda: self.refresh(keep_place=True))
        top.addWidget(self.store_label, 1)
        top.addWidget(QLabel(tr("Analyst")))
        top.addWidget(self.analyst_edit)
        top.addWidget(open_button)
        top.addWidget(refresh_button)
        layout.addLayout(top)
        self.banner = QLabel()
        self.banner.setStyleSheet("background: #fff3cd; color: #664d03; padding: 3px;")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)

        filters = QGridLayout()
        self.verdict_filter = QComboBox()
        for _value, label in VERDICT_FILTERS:
            self.verdict_filter.addItem(tr(label))
        self.ordering_combo = QComboBox()
        for _value, label in ORDERINGS:
            self.ordering_combo.addItem(tr(label))
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(tr("search post text"))
        self.search_edit.setClearButtonEnabled(True)
        self.score_min = QDoubleSpinBox()
        self.score_max = QDoubleSpinBox()
        for spin, special in ((self.score_min, tr("min")), (self.score_max, tr("max"))):
            spin.setRange(-0.01, 1.0)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
            spin.setSpecialValueText(special)
            spin.setValue(-0.01)
        self.hide_duplicates = QCheckBox(tr("Hide duplicates"))
        self.hide_duplicates.setChecked(True)
        self.follow_extent = QCheckBox(tr("Map extent"))
        self.follow_selection = QCheckBox(tr("Map selection"))
        self.follow_time = QCheckBox(tr("Time controller"))
        self.sync_map = QCheckBox(tr("Select on map"))
        self.sync_map.setChecked(True)
        self.advance = QCheckBox(tr("Advance after verdict"))
        self.advance.setChecked(True)
        self.clear_item_filter = QPushButton(tr("Show all again"))
        self.clear_item_filter.hide()
        self.clear_item_filter.clicked.connect(self._clear_item_filter)
        filters.addWidget(self.verdict_filter, 0, 0)
        filters.addWidget(self.ordering_combo, 0, 1)
        filters.addWidget(self.search_edit, 0, 2, 1, 2)
        filters.addWidget(QLabel(tr("Score")), 0, 4)
        filters.addWidget(self.score_min, 0, 5)
        filters.addWidget(self.score_max, 0, 6)
        filters.addWidget(self.hide_duplicates, 1, 0)
        filters.addWidget(self.follow_extent, 1, 1)
        filters.addWidget(self.follow_selection, 1, 2)
        filters.addWidget(self.follow_time, 1, 3)
        filters.addWidget(self.sync_map, 1, 4, 1, 2)
        filters.addWidget(self.clear_item_filter, 1, 6)
        layout.addLayout(filters)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(250)
        self._filter_timer.timeout.connect(lambda: self.refresh(keep_place=True))
        for signal in (self.verdict_filter.currentIndexChanged, self.ordering_combo.currentIndexChanged,
                       self.search_edit.textChanged, self.score_min.valueChanged, self.score_max.valueChanged,
                       self.hide_duplicates.toggled):
            signal.connect(self._filter_timer.start)
        self.follow_extent.toggled.connect(self._follow_extent_toggled)
        self.follow_selection.toggled.connect(self._follow_selection_toggled)
        self.follow_time.toggled.connect(self._follow_time_toggled)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(THUMB)
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 4)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setResizeContentsPrecision(200)  # measure loaded rows, never the whole store
        for column in (1, 3, 4, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, THUMB.width() + 12)
        self.table.setWordWrap(False)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        split.addWidget(self.table)

        right = QSplitter(Qt.Orientation.Vertical)
        self.photo = PhotoView()
        self.photo.setMinimumSize(320, 240)
        self.match_pane = MatchPane()
        self.photo_tabs = QTabWidget()
        self.photo_tabs.setDocumentMode(True)
        self.photo_tabs.addTab(self.photo, tr("Photo"))
        self.photo_tabs.addTab(self.match_pane, tr("Match (M)"))
        self.photo_tabs.currentChanged.connect(self._photo_tab_changed)
        right.addWidget(self.photo_tabs)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        self.info = QTextBrowser()
        self.info.setOpenExternalLinks(True)
        self.info.setOpenLinks(True)
        lower_layout.addWidget(self.info, 1)
        self.categories_panel = TextCategoriesPanel(self.analyst_edit.text)
        lower_layout.addWidget(self.categories_panel)
        buttons = QHBoxLayout()
        self.verdict_buttons: dict[str, QPushButton] = {}
        for verdict, key in (("flood", "F"), ("not_flood", "N"), ("unsure", "U")):
            button = QPushButton(f"{tr(VERDICT_LABELS[verdict])} ({key})")
            button.clicked.connect(lambda _=False, v=verdict: self.apply_verdict(v))
            buttons.addWidget(button)
            self.verdict_buttons[verdict] = button
        lower_layout.addLayout(buttons)
        buttons = QHBoxLayout()  # depth classes on their own row: the pane stays narrow enough
        self.depth_buttons: list[QPushButton] = []
        for i, (name, metres) in enumerate(DEPTH_CLASSES.items(), start=1):
            button = QPushButton(f"{i} {tr(name)} {metres:g} m")
            button.setToolTip(tr("Flood, water about {m:g} m deep").format(m=metres))
            button.clicked.connect(lambda _=False, m=metres: self.apply_verdict("flood", m))
            buttons.addWidget(button)
            self.depth_buttons.append(button)
        lower_layout.addLayout(buttons)
        entry = QHBoxLayout()
        self.depth_edit = QLineEdit()
        self.depth_edit.setPlaceholderText(tr("depth (D): 0.3, 30cm, knee… Enter"))
        self.depth_edit.returnPressed.connect(self._depth_entered)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText(tr("note for the next verdict"))
        self.undo_button = QPushButton(tr("Undo (Ctrl+Z)"))
        self.undo_button.clicked.connect(self.undo)
        previous = QPushButton("◀")
        previous.clicked.connect(self.previous)
        following = QPushButton("▶")
        following.clicked.connect(self.next)
        entry.addWidget(self.depth_edit)
        entry.addWidget(self.note_edit, 1)
        lower_layout.addLayout(entry)
        moves = QHBoxLayout()
        moves.addWidget(self.advance)
        moves.addStretch(1)
        moves.addWidget(self.undo_button)
        moves.addWidget(previous)
        moves.addWidget(following)
        lower_layout.addLayout(moves)
        right.addWidget(lower)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([560, 440])  # the table needs room for its columns, not just its size hint
        layout.addWidget(split, 1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.setWidget(root)
        for widget in (self.table, self.table.viewport(), self.photo, self.photo.viewport(), verify,
                       self.match_pane.view, self.match_pane.view.viewport(), self.photo_tabs.tabBar()):
            widget.installEventFilter(self)
        self.depth_edit.installEventFilter(self)

    # -- store -----------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self.store is None and not self._tried_last_store:
            self._tried_last_store = True
            last = settings.value("store_path")
            if last and Path(last).is_file():
                self.open_store(last)

    def _choose_store(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Open a MIST store"), settings.value("store_path"),
                                              tr("GeoPackage (*.gpkg)"))
        if path:
            self.open_store(path)

    def open_store(self, path: str | os.PathLike[str], read_only: bool = False) -> bool:
        """Open a store (read-only when asked or when the file cannot be written)."""
        self._tried_last_store = True
        self.close_store()
        path = Path(path)
        writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
        try:
            if read_only or not writable:
                self.store = open_store(path, read_only=True)
            else:
                self.store = open_store(path, create=False)
        except StoreError as exc:
            self._message(str(exc), error=True)
            return False
        if not self.store.read_only:
            settings.set_value("store_path", str(self.store.path))
        self.sync = LayerSync(self.store.path, self._undo_from_layer, self._redo_from_layer)
        self.store_label.setText(html.escape(self.store.path.name))
        self.store_label.setToolTip(str(self.store.path))
        if self.store.read_only:
            self.banner.setText(tr("This store is open read-only: you can browse, but verdicts are disabled."))
            self.banner.show()
        else:
            self.banner.hide()
        self._set_editing_enabled(not self.store.read_only)
        self._connect_layer()
        self._data_version = store_verify.data_version(self.store)
        self.quality.set_store(self.store)
        self.refresh(keep_place=False)
        self._poll.start()
        return True

    def close_store(self) -> None:
        self._poll.stop()
        if self.sync is not None:
            self.sync.disconnect()
            self.sync = None
        self._disconnect_layer()
        self.model.set_queue(None)
        self._update_match(None)
        self.quality.set_store(None)
        self.undo_stack.clear()
        if self.store is not None:
            self.store.close()
            self.store = None
        self._set_editing_enabled(False)

    def _set_editing_enabled(self, enabled: bool) -> None:
        for button in [*self.verdict_buttons.values(), *self.depth_buttons, self.undo_button]:
            button.setEnabled(enabled)
        self.depth_edit.setEnabled(enabled)
        self.note_edit.setEnabled(enabled)

    @property
    def editable(self) -> bool:
        return self.store is not None and not self.store.read_only

    # -- queue -----------------------------------------------------------------------------

    def current_filter(self) -> QueueFilter:
        verdicts = VERDICT_FILTERS[self.verdict_filter.currentIndex()][0]
        analyst = self.analyst_edit.text().strip()
        post_fids = self.item_post_filter
        if post_fids is None and self.follow_selection.isChecked():
            post_fids = self.map_post_filter
        window = self.time_window if self.follow_time.isChecked() and self.time_window else (None, None)
        return QueueFilter(
            verdicts=None if verdicts == "mine" else verdicts,
            not_verified_by=analyst if verdicts == "mine" and analyst else None,
            score_min=self.score_min.value() if self.score_min.value() >= 0 else None,
            score_max=self.score_max.value() if self.score_max.value() >= 0 else None,
            time_from=window[0], time_to=window[1],
            bbox=self.extent if self.follow_extent.isChecked() else None,
            text=self.search_edit.text(), hide_duplicates=self.hide_duplicates.isChecked(),
            post_fids=post_fids,
        )

    def current_ordering(self) -> Ordering:
        return ORDERINGS[self.ordering_combo.currentIndex()][0]

    def refresh(self, keep_place: bool = True) -> None:
        """Rebuild the table from the store; keep the analyst on the same photo when it is still
        in the queue, else at the same row."""
        if self.store is None:
            return
        current = self.current_row() if keep_place else None
        old_row = self.table.currentIndex().row() if keep_place else -1
        scroll = self.table.verticalScrollBar().value()
        filt = self.current_filter()
        queue = Queue(self.store, filt, self.current_ordering(), threshold=self.threshold)
        try:
            row = self.model.set_queue(queue, current.media_fid if current else None,
                                       min_rows=max(old_row + 1, 0))
        except (StoreError, sqlite3.Error) as exc:
            self._message(tr("Cannot read the store: {error}").format(error=exc), error=True)
            return
        if row < 0 and old_row >= 0:
            row = min(old_row, self.model.rowCount() - 1)
        if row < 0 and self.model.rowCount():
            row = 0
        if row >= 0:
            self._set_current(row)
            if keep_place:
                self.table.verticalScrollBar().setValue(scroll)
                self.table.scrollTo(self.model.index(row, 0))
        else:
            self._show_placeholder(tr("No photos"), tr("No photo matches the filters."))
            self.info.clear()
            self._update_match(None)
        self._start_count(filt)

    def _start_count(self, filt: QueueFilter) -> None:
        self._count_generation += 1
        self.status.setText(tr("Counting…"))
        if self.store is not None:
            self._count_pool.start(_CountJob(self.store.path, filt, self._count_generation, self._count_signals))

    def _counted(self, generation: int, n: int) -> None:
        if generation != self._count_generation:
            return
        self.photo_count = n
        self.status.setText(tr("{n} photos in the queue").format(n=f"{n:,}") if n >= 0 else "")

    def check_external_changes(self) -> bool:
        """Refresh when another session (or QGIS saving the layer) changed the store."""
        if self.store is None:
            return False
        try:
            version = store_verify.data_version(self.store)
        except (StoreError, sqlite3.Error):
            return False
        if version == self._data_version:
            return False
        self._data_version = version
        self.loader.forget()
        self.refresh(keep_place=True)
        self.quality.reload_choices()
        self._message(tr("The store changed in another session; the table is up to date."))
        return True

    # -- navigation ------------------------------------------------------------------------

    def current_row(self) -> QueueRow | None:
        return self.model.row_at(self.table.currentIndex().row())

    def selected_rows(self) -> list[QueueRow]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        picked = [self.model.row_at(i) for i in rows]
        picked = [r for r in picked if r is not None]
        current = self.current_row()
        if current is not None and current.media_fid not in {r.media_fid for r in picked}:
            return [current]
        return picked or ([current] if current else [])

    def _set_current(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def next(self) -> None:
        row = self.table.currentIndex().row() + 1
        if row >= self.model.rowCount() and self.model.canFetchMore():
            self.model.fetchMore()
        if row < self.model.rowCount():
            self._set_current(row)
        else:
            self._message(tr("This is the last photo in the queue."))

    def previous(self) -> None:
        row = self.table.currentIndex().row() - 1
        if row >= 0:
            self._set_current(row)

    def show_item(self, post_fid: int, media_fid: int = 0) -> None:
        """Show one post (e.g. a conflict picked in the quality panel) until "Show all again"."""
        self.item_post_filter = frozenset({post_fid})
        self.clear_item_filter.show()
        self.tabs.setCurrentIndex(0)
        self.refresh(keep_place=False)
        if media_fid and self.model.row_of(media_fid) >= 0:
            self._set_current(self.model.row_of(media_fid))

    def _clear_item_filter(self) -> None:
        self.item_post_filter = None
        self.clear_item_filter.hide()
        self.refresh(keep_place=True)

    def _current_changed(self, current, _previous) -> None:
        row = self.model.row_at(current.row())
        if row is None:
            return
        self._show_row(row)
        self._prefetch_around(current.row())

    def _selection_changed(self, *_args) -> None:
        if not self.sync_map.isChecked():
            return
        rows = self.selected_rows()
        if rows:
            self._select_on_map(rows)

    # -- photo and facts -------------------------------------------------------------------

    def _photo_source(self, row: QueueRow) -> tuple[str | None, str, str]:
        """(path, title, reason): a path to decode, or why there is none."""
        if row.kind != "photo":
            return None, tr("A {kind} is not previewed here").format(kind=row.kind), tr("Open the source link.")
        if row.status == "pending":
            return None, tr("Photo not fetched yet"), tr("Run the photo fetch step for this store.")
        if row.status in ("failed", "skipped"):
            title = tr("Photo could not be fetched") if row.status == "failed" else tr("Photo skipped")
            return None, title, row.error or ""
        if not row.cache_path:
            return None, tr("Photo missing"), tr("The store has no cached file for this photo.")
        try:
            path = self.store.media_file(row.cache_path)
        except StoreError as exc:
            return None, tr("Photo refused"), str(exc)
        return str(path), "", ""

    def photo_key(self, row: QueueRow) -> str:
        return ImageLoader.key(f"photo:{row.sha256 or row.media_fid}", self.photo.bound())

    def _show_row(self, row: QueueRow) -> None:
        self.info.setHtml(self._facts_html(row))
        self.categories_panel.show_post(self.store, row.post_fid)
        self._show_photo(row)
        self._update_match(row)

    def _show_photo(self, row: QueueRow) -> None:
        path, title, reason = self._photo_source(row)
        key = self.photo_key(row)
        if path is None:
            self._show_placeholder(title, reason, key)
            return
        pixmap, error = self.loader.load_now(key, path, self.photo.bound())
        if pixmap is None:
            self._show_placeholder(tr("Photo cannot be shown"), error, key)
        else:
            self.photo.show_pixmap(pixmap, key)

    # -- match view ------------------------------------------------------------------------

    def _update_match(self, row: QueueRow | None) -> None:
        """Enable the Match tab for a post placed by image matching; say why it is off otherwise."""
        source, why = None, tr("No photo selected.")
        if row is not None and self.store is not None:
            try:
                source = store_match.match_source(self.store, row.post_fid)
                note = None if source is not None else store_match.geolocation_note(self.store, row.post_fid)
            except (StoreError, sqlite3.Error) as exc:
                source, note = None, ("failed", str(exc))
            if note is None:
                why = tr("No match view: this post has not been geolocated by image matching.")
            else:
                why = tr("No match view: image matching did not place this post ({status}: {reason}).").format(
                    status=note[0], reason=note[1] or tr("no reason recorded"))
        self.match_source = source
        tabs = self.photo_tabs
        if source is None:
            if tabs.currentIndex() == MATCH_TAB:
                self._switch_tab(PHOTO_TAB)  # before disabling: Qt would move away itself and drop the wish
            tabs.setTabEnabled(MATCH_TAB, False)
            tabs.setTabToolTip(MATCH_TAB, why)
            self.match_pane.clear(tr("No match view"), why)
            return
        tabs.setTabEnabled(MATCH_TAB, True)
        tabs.setTabToolTip(MATCH_TAB, tr("The photo beside reference {ref}, match lines drawn (M)").format(
            ref=source.ref_uid))
        if self._want_match:
            self._switch_tab(MATCH_TAB)
            self.match_pane.show_source(source, self.store.media_dir)

    def _switch_tab(self, index: int) -> None:
        """Change the pane without touching the analyst's wish (M), which a click or key sets."""
        blocked = self.photo_tabs.blockSignals(True)
        try:
            self.photo_tabs.setCurrentIndex(index)
        finally:
            self.photo_tabs.blockSignals(blocked)

    def _photo_tab_changed(self, index: int) -> None:
        self._want_match = index == MATCH_TAB
        if self._want_match and self.match_source is not None and self.store is not None:
            self.match_pane.show_source(self.match_source, self.store.media_dir)

    def toggle_match(self) -> bool:
        """M: the match view of the current post, or back to its photo. False when it has none."""
        if self.photo_tabs.currentIndex() == MATCH_TAB:
            self.photo_tabs.setCurrentIndex(PHOTO_TAB)
            return True
        if self.match_source is None:
            self._message(self.photo_tabs.tabToolTip(MATCH_TAB))
            return False
        self.photo_tabs.setCurrentIndex(MATCH_TAB)
        return True

    def _show_placeholder(self, title: str, reason: str, identity: str = "") -> None:
        self.photo.show_placeholder(title, reason, identity)

    def _prefetch_around(self, row: int) -> None:
        if self.store is None:
            return
        wanted: set[str] = set()
        bound = self.photo.bound()
        if row + PREFETCH_AHEAD >= self.model.rowCount() and self.model.canFetchMore():
            self.model.fetchMore()
        offsets = list(range(1, PREFETCH_AHEAD + 1)) + [-d for d in range(1, PREFETCH_BEHIND + 1)]
        for priority, offset in zip(range(len(offsets), 0, -1), offsets, strict=True):
            other = self.model.row_at(row + offset)
            if other is None:
                continue
            path, _, _ = self._photo_source(other)
            if path is None:
                continue
            key = self.photo_key(other)
            wanted.add(key)
            self.loader.request(key, path, bound, priority)
        self.loader.keep_only(wanted, prefix="mist:photo:")

    def _facts_html(self, row: QueueRow) -> str:
        e = html.escape
        when = (row.timestamp or tr("no time")).replace("T", " ")
        parts = [f"<b>{e(row.platform)}</b> · {e(row.post_id)} · {e(when)}"]
        if row.text:
            parts.append(f"<p>{e(row.text[:5000])}</p>")
        links = [link for link in (_safe_link(row.url), _safe_link(row.media_url)) if link]
        if links:
            parts.append(tr("Source: ") + " · ".join(links))
        facts = []
        if row.lon is not None:
            facts.append(tr("location {lat:.5f}, {lon:.5f} ({source})").format(lat=row.lat, lon=row.lon,
                                                                               source=e(row.geo_source)))
        else:
            facts.append(tr("not placed yet"))
        if row.score is not None:
            facts.append(tr("screening score {s:.2f}").format(s=row.score))
        if row.geo_confidence is not None:
            facts.append(tr("geolocation confidence {c:.2f} (reference {ref})").format(
                c=row.geo_confidence, ref=e(row.match_ref or "")))
        if row.duplicate_of:
            facts.append(tr("near-duplicate of photo {fid}").format(fid=row.duplicate_of))
        if row.width and row.height:
            facts.append(f"{row.width} × {row.height} px")
        parts.append("<br>".join(facts))
        if row.verdict:
            parts.append(tr("<b>Verdict:</b> {v} by {who} at {when}").format(
                v=e(verdict_text(row)), who=e(row.verified_by or ""),
                when=e((row.verified_at or "").replace("T", " "))))
            if row.note:
                parts.append(tr("Note: {note}").format(note=e(row.note)))
        exif = _exif_facts(row.exif)
        if exif:
            parts.append("<small>" + "<br>".join(f"{e(k)}: {e(v)}" for k, v in exif) + "</small>")
        return "<br>".join(parts)

    # -- verdicts --------------------------------------------------------------------------

    def apply_verdict(self, verdict: str, depth: float | None = None) -> bool:
        """Judge the selected photos; saved at once, mirrored to the posts layer."""
        if self.store is None:
            return False
        if self.store.read_only:
            self._message(tr("This store is open read-only: verdicts are disabled."), error=True)
            return False
        analyst = self.analyst_edit.text().strip()
        if not analyst:
            self._message(tr("Type your name in the Analyst field first."), error=True)
            self.analyst_edit.setFocus()
            return False
        rows = self.selected_rows()
        if not rows:
            return False
        note = self.note_edit.text()
        try:
            receipts = write_verdicts(self.store, [
                Verdict(r.post_fid, verdict, analyst, r.media_fid, depth, note) for r in rows])
        except VerdictError as exc:
            self._message(str(exc), error=True)
            return False
        except (StoreError, sqlite3.Error) as exc:
            self._message(tr("The verdict could not be saved: {error}").format(error=exc), error=True)
            return False
        settings.set_value("analyst", analyst)
        batch = VerdictBatch(receipts)
        self._push_undo(batch)
        if self.sync is not None:
            self.sync.apply(batch)
        self.model.refresh_rows([r.media_fid for r in rows])
        self.note_edit.clear()
        self._message(tr("Saved: {v} for {n} photo(s).").format(v=tr(VERDICT_LABELS[verdict]), n=len(rows)))
        self.verdict_written.emit(len(rows))
        self.quality._schedule()
        if self.advance.isChecked() and len(rows) == 1:
            self.next()
        elif self.current_row() is not None:
            self._show_row(self.current_row())
        return True

    def _depth_entered(self) -> None:
        try:
            depth = parse_depth(self.depth_edit.text())
        except VerdictError as exc:
            self._message(str(exc), error=True)
            return
        if self.apply_verdict("flood", depth):
            self.depth_edit.clear()
            self.table.setFocus()

    def _push_undo(self, batch: VerdictBatch) -> None:
        self.undo_stack.append(batch)
        del self.undo_stack[:-MAX_UNDO]

    def undo(self) -> bool:
        """Take back the latest verdict batch (through QGIS's undo stack when it is on top there)."""
        if not self.editable:
            return False
        if not self.undo_stack:
            self._message(tr("Nothing to undo."))
            return False
        batch = self.undo_stack[-1]
        if self.sync is not None and self.sync.undo_on_layer(batch):
            return True
        states = self._undo_store(batch)
        if states and self.sync is not None:
            self.sync.revert(batch, states)
        return bool(states)

    def _undo_store(self, batch: VerdictBatch) -> list:
        states = []
        try:
            for receipt in reversed(batch.receipts):
                result = undo_verdict(self.store, receipt)
                states.append((result.post_fid, result.state))
        except (VerdictError, StoreError, sqlite3.Error) as exc:
            self._message(tr("Cannot undo: {error}").format(error=exc), error=True)
        batch.undone = True
        if batch in self.undo_stack:
            self.undo_stack.remove(batch)
        fids = [r.verdict.media_fid for r in batch.receipts if r.verdict.media_fid is not None]
        self.model.refresh_rows(fids)
        if fids and self.model.row_of(fids[0]) >= 0:
            self._set_current(self.model.row_of(fids[0]))
        self._message(tr("Undone: {n} verdict(s).").format(n=len(batch.receipts)))
        self.quality._schedule()
        return states

    def _undo_from_layer(self, batch: VerdictBatch) -> None:
        if self.store is not None:
            self._undo_store(batch)

    def _redo_from_layer(self, batch: VerdictBatch) -> None:
        if self.store is None:
            return
        try:
            batch.receipts = write_verdicts(self.store, [r.verdict for r in batch.receipts])
        except (VerdictError, StoreError, sqlite3.Error) as exc:
            self._message(tr("Cannot redo: {error}").format(error=exc), error=True)
            return
        batch.undone = False
        self._push_undo(batch)
        self.model.refresh_rows([r.verdict.media_fid for r in batch.receipts if r.verdict.media_fid is not None])
        self._message(tr("Redone: {n} verdict(s).").format(n=len(batch.receipts)))

    # -- keyboard --------------------------------------------------------------------------

    def _is_ours(self, event) -> bool:
        key, mods = event.key(), event.modifiers()
        if key == Qt.Key.Key_Z and mods & Qt.KeyboardModifier.ControlModifier:
            return True
        if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False
        return key in KEY_VERDICTS or key in KEY_DEPTHS or key in KEY_NEXT or key in KEY_PREVIOUS \
            or key in (Qt.Key.Key_D, KEY_MATCH)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        kind = event.type()
        if watched is self.depth_edit:
            if kind == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
                self.depth_edit.clear()
                self.table.setFocus()
                return True
            return False
        if kind == QEvent.Type.ShortcutOverride and self._is_ours(event):
            event.accept()  # ours, not QGIS's main-window shortcuts (its Ctrl+Z, its F keys)
            return True
        if kind == QEvent.Type.KeyPress and self._is_ours(event):
            self.handle_key(event.key(), event.modifiers())
            return True
        return super().eventFilter(watched, event)

    def handle_key(self, key: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        if key == Qt.Key.Key_Z and modifiers & Qt.KeyboardModifier.ControlModifier:
            self.undo()
        elif key in KEY_VERDICTS:
            self.apply_verdict(KEY_VERDICTS[key])
        elif key in KEY_DEPTHS:
            self.apply_verdict("flood", list(DEPTH_CLASSES.values())[KEY_DEPTHS[key]])
        elif key in KEY_NEXT:
            self.next()
        elif key in KEY_PREVIOUS:
            self.previous()
        elif key == Qt.Key.Key_D and self.editable:
            self.depth_edit.setFocus()
        elif key == KEY_MATCH:
            self.toggle_match()

    # -- map -------------------------------------------------------------------------------

    def canvas(self):
        if self.iface is None:
            return None
        try:
            return self.iface.mapCanvas()
        except AttributeError:
            return None

    def _connect_canvas(self) -> None:
        canvas = self.canvas()
        if canvas is None:
            return
        canvas.extentsChanged.connect(self._extent_changed)
        # QGIS feeds the temporal controller's range into the canvas: follow the canvas, which
        # works whichever controller (or none yet) is attached when the dock is made.
        canvas.temporalRangeChanged.connect(self._temporal_range_changed)

    def _layers_changed(self, *_args) -> None:
        if self.store is not None and self._layer is None:
            self._connect_layer()

    def _connect_layer(self) -> None:
        self._disconnect_layer()
        layer = self.sync.layer() if self.sync is not None else None
        if layer is not None:
            layer.selectionChanged.connect(self._map_selection_changed)
            layer.willBeDeleted.connect(self._disconnect_layer)
            self._layer = layer

    def _disconnect_layer(self) -> None:
        if self._layer is not None:
            try:
                self._layer.selectionChanged.disconnect(self._map_selection_changed)
                self._layer.willBeDeleted.disconnect(self._disconnect_layer)
            except (RuntimeError, TypeError):
                pass
        self._layer = None

    def _select_on_map(self, rows: list[QueueRow]) -> None:
        layer = self.sync.layer() if self.sync is not None else None
        if layer is None:
            return
        if layer is not self._layer:
            self._connect_layer()
        self._selecting = True
        try:
            layer.selectByIds(sorted({r.post_fid for r in rows}))
        finally:
            self._selecting = False
        canvas = self.canvas()
        placed = [r for r in rows if r.lon is not None]
        if canvas is None or not placed:
            return
        xs, ys = [r.lon for r in placed], [r.lat for r in placed]
        centre = QgsPointXY((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
        transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                           canvas.mapSettings().destinationCrs(), QgsProject.instance())
        try:
            canvas.setCenter(transform.transform(centre))
        except Exception:  # noqa: BLE001 - a point the map's CRS cannot show: keep the map where it is
            return
        canvas.refresh()

    def _map_selection_changed(self, *_args) -> None:
        if self._selecting or self._layer is None:
            return
        ids = self._layer.selectedFeatureIds()
        self.map_post_filter = frozenset(int(i) for i in ids) if ids else None
        if self.follow_selection.isChecked():
            self.refresh(keep_place=True)

    def _follow_selection_toggled(self, on: bool) -> None:
        if on and self._layer is not None:
            ids = self._layer.selectedFeatureIds()
            self.map_post_filter = frozenset(int(i) for i in ids) if ids else None
        self.refresh(keep_place=True)

    def _extent_changed(self) -> None:
        if self.follow_extent.isChecked():
            self._extent_timer.start()

    def _extent_settled(self) -> None:
        self.extent = self._canvas_bbox()
        self.refresh(keep_place=True)

    def _follow_extent_toggled(self, on: bool) -> None:
        self.extent = self._canvas_bbox() if on else None
        self.refresh(keep_place=True)

    def _canvas_bbox(self) -> BBox | None:
        canvas = self.canvas()
        if canvas is None:
            return None
        transform = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(),
                                           QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
        try:
            rect: QgsRectangle = transform.transformBoundingBox(canvas.extent())
            return BBox(max(rect.xMinimum(), -180.0), max(rect.yMinimum(), -90.0),
                        min(rect.xMaximum(), 180.0), min(rect.yMaximum(), 90.0))
        except Exception:  # noqa: BLE001 - an extent outside WGS 84's domain: no extent filter
            return None

    def _temporal_range_changed(self) -> None:
        canvas = self.canvas()
        self.time_window = _window(canvas.temporalRange()) if canvas is not None else None
        if self.follow_time.isChecked():
            self.refresh(keep_place=True)

    def _follow_time_toggled(self, on: bool) -> None:
        canvas = self.canvas()
        if on and canvas is not None:
            self.time_window = _window(canvas.temporalRange())
        self.refresh(keep_place=True)

    def _threshold_changed(self, value: float) -> None:
        self.threshold = value
        if self.current_ordering() is Ordering.MOST_USEFUL:
            self._filter_timer.start()

    # -- misc ------------------------------------------------------------------------------

    def _message(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if error else "")

    def cleanup(self) -> None:
        """Stop timers and threads and close the store (the plugin calls it on unload)."""
        self._poll.stop()
        self._extent_timer.stop()
        self._filter_timer.stop()
        try:
            QgsProject.instance().layersAdded.disconnect(self._layers_changed)
        except TypeError:
            pass
        canvas = self.canvas()
        if canvas is not None:
            try:
                canvas.extentsChanged.disconnect(self._extent_changed)
                canvas.temporalRangeChanged.disconnect(self._temporal_range_changed)
            except (TypeError, AttributeError):
                pass
        self._count_pool.clear()
        self._count_pool.waitForDone(5000)
        self.loader.shutdown()
        self.match_pane.shutdown()
        self.close_store()


def _window(time_range) -> tuple[datetime, datetime] | None:
    """A QgsDateTimeRange as UTC datetimes; None when it is open or empty."""
    if time_range is None or time_range.isInfinite() or time_range.isEmpty():
        return None
    begin, end = time_range.begin(), time_range.end()
    if not begin.isValid() or not end.isValid():
        return None
    to_utc = lambda q: datetime.fromtimestamp(q.toMSecsSinceEpoch() / 1000, UTC)  # noqa: E731
    if time_range.includeEnd():  # the queue's upper bound is exclusive
        end = end.addMSecs(1)
    return to_utc(begin), to_utc(end)


def _exif_facts(exif_json: str | None) -> list[tuple[str, str]]:
    if not exif_json:
        return []
    try:
        data = json.loads(exif_json)
    except ValueError:
        return [("EXIF", tr("unreadable"))]
    if not isinstance(data, dict):
        return []
    return [(k, str(data[k])[:120]) for k in EXIF_FACTS if k in data]


def _default_analyst() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
