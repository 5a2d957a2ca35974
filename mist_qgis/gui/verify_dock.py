"""The "MIST Verify" dock: an analyst screens photos at keyboard speed with the map beside them.

The dock shows the queue (a lazily paged table), the photo or its match view, and the facts; the
parts a reader can name live beside it: the filter bar (`verify_filters`), what the queue takes
from and gives to the map (`map_follower`), verdicts and their undo (`verdict_controller`), the
key map (`verify_keys`), the facts pane (`verify_facts`), the posts without photos
(`verify_text_posts`, the "Posts without photos" queue, categorised by text) and the team side
(`verify_team`: leases, conflicts, the other analysts' verdicts as they land). A verdict applies
to every selected row, is saved to the store at once and, with "advance" on, moves to the next photo.
"""

from __future__ import annotations

import getpass
import html
import os
import sqlite3
from pathlib import Path

from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import QEvent, QItemSelectionModel, QObject, QRunnable, QSize, Qt, QThreadPool, QTimer, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .. import settings
from ..core.errors import MistError
from ..core.geoloc.calibration import record_placement
from ..core.stage import MediaStatus
from ..core.store import Store, StoreError, calibration_sql
from ..core.store import match_view_sql as store_match
from ..core.store import verify_sql as store_verify
from ..core.store.models_sql import post_texts
from ..core.store.pg import refuse_password
from ..core.text.analyst import TextPostRow, photo_free
from ..core.verify.queue import Queue
from ..core.verify.records import DEPTH_CLASSES, Ordering, QueueFilter, QueueRow, Verdict, VerdictError, parse_depth
from ..i18n import tr
from ..pg_connections import display_name, is_team_target, open_store_target, store_target
from .active_store import NOTIFIER, active_store
from .dock_layout import scrolled
from .map_follower import MapFollower
from .match_pane import MatchPane
from .photo_view import PhotoView
from .prefetch import ImageLoader
from .quality_panel import QualityPanel
from .store_choice import StoreMenu
from .text_categories_panel import TextCategoriesPanel
from .verdict_controller import CategoryBatch, VerdictBatch, VerdictController
from .verify_facts import facts_html
from .verify_filters import VerifyFilters
from .verify_keys import VERDICT_KEYS, KeyCommand, WindowUndo, command_for
from .verify_model import THUMB, VERDICT_LABELS, VerifyTableModel
from .verify_team import TeamDesk
from .verify_text_posts import TextPostsPane

PREFETCH_AHEAD = 3
PREFETCH_BEHIND = 1
POLL_MS = 2000
PHOTO_TAB, MATCH_TAB = 0, 1
ARRIVALS_SETTLE_MS = 150  # a burst of colleagues' verdicts refreshes the table once


class _CountSignals(QObject):
    counted = pyqtSignal(int, int)  # generation, count (-1: failed)


class _CountJob(QRunnable):
    """Counts the filtered photos on its own read-only connection, off the GUI thread."""

    def __init__(self, store: Store, filt: QueueFilter, generation: int, signals: _CountSignals) -> None:
        super().__init__()
        self.store, self.filt, self.generation, self.signals = store, filt, generation, signals

    def run(self) -> None:
        try:
            with self.store.reopen(read_only=True) as store:
                n = Queue(store, self.filt).count()
        except (StoreError, sqlite3.Error):
            n = -1
        self.signals.counted.emit(self.generation, n)


class VerifyDock(QgsDockWidget):
    """The verification dock. `open_store()` loads a store; everything else follows the user."""

    verdict_written = pyqtSignal(int)  # number of photos

    def __init__(self, iface=None, parent=None) -> None:
        super().__init__(tr("MIST Verify"), parent)
        self.setObjectName("MistVerifyDock")
        self.iface = iface
        self.store: Store | None = None
        self.store_target = ""  # the store as the project names it (a file, or a team store's connection)
        self.loader = ImageLoader(self)
        self.model = VerifyTableModel(self.loader)
        self.verdicts = VerdictController(self)
        self.verdicts.written.connect(self._verdicts_written)
        self.verdicts.undone.connect(self._verdicts_undone)
        self.verdicts.categories_written.connect(self._categories_changed)
        self.verdicts.categories_undone.connect(self._categories_changed)
        self.verdicts.failed.connect(lambda text: self._message(text, error=True))
        self.verdicts.conflicted.connect(self._show_conflict)
        self.team = TeamDesk(self)
        self.team.verdict_arrived.connect(self._verdict_arrived)
        self.team.watch_lost.connect(lambda text: self._message(
            tr("Live updates stopped ({error}); the store is still checked every few seconds.").format(error=text),
            error=True))
        self._arrivals: list = []
        self._arrival_timer = QTimer(self)
        self._arrival_timer.setSingleShot(True)
        self._arrival_timer.setInterval(ARRIVALS_SETTLE_MS)
        self._arrival_timer.timeout.connect(self._apply_arrivals)
        self._pending_conflict = None  # (VerdictConflict, verdicts) shown in the conflict bar
        self.map = MapFollower(iface, self)
        self.item_post_filter: frozenset[int] | None = None
        self.photo_free_post: int | None = None  # a leased post the queue has no photo of (text only)
        self.threshold = 0.5
        self.photo_count = -1
        self._data_version: int | None = None
        self._count_generation = 0
        self._count_signals = _CountSignals(self)
        self._count_signals.counted.connect(self._counted)
        self._count_pool = QThreadPool(self)
        self._count_pool.setMaxThreadCount(1)
        self._tried_last_store = False
        self._want_match = False  # the analyst asked for the match view (M); kept while moving on
        self._auto_text_mode = False  # the dock chose the text queue for a posts-only store
        self.match_source = None  # MatchSource of the current row, None when it has no match view
        self._build_ui()
        self.map.extent_changed.connect(lambda: self._map_changed(self.filters.follow_extent))
        self.map.time_changed.connect(lambda: self._map_changed(self.filters.follow_time))
        self.map.selection_changed.connect(lambda: self._map_changed(self.filters.follow_selection))
        NOTIFIER.changed.connect(self._active_store_changed)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.check_external_changes)
        self._set_editing_enabled(False)
        self._show_placeholder(tr("No store open"), tr("Open a MIST store to start verifying."))
        self._update_match(None)
        self.window_undo = WindowUndo(self, iface) if iface is not None else None

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
        self.store_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        open_button = QPushButton(tr("Store…"))
        self.store_menu = StoreMenu(open_button, active_store)
        self.store_menu.chosen.connect(self.open_store)
        self.store_menu.refused.connect(lambda text: self._message(text, error=True))
        open_button.setMenu(self.store_menu)
        self.analyst_edit = QLineEdit(settings.value("analyst") or _default_analyst())
        self.analyst_edit.setPlaceholderText(tr("your name"))
        self.analyst_edit.setToolTip(tr("Analyst name saved with every verdict"))
        self.analyst_edit.editingFinished.connect(lambda: settings.set_value("analyst", self.analyst_edit.text()))
        self.refresh_button = QPushButton(tr("Refresh"))
        self.refresh_button.setToolTip(tr("Re-read the store: photos, verdicts, models and analysts"))
        self.refresh_button.clicked.connect(self.reload)
        top.addWidget(self.store_label, 1)
        top.addWidget(QLabel(tr("Analyst")))
        top.addWidget(self.analyst_edit)
        top.addWidget(open_button)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.banner = QLabel()
        self.banner.setStyleSheet("background: #fff3cd; color: #664d03; padding: 3px;")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.conflict_box = QWidget()
        self.conflict_box.setStyleSheet("background: #f8d7da; color: #58151c;")
        conflict_row = QHBoxLayout(self.conflict_box)
        conflict_row.setContentsMargins(3, 3, 3, 3)
        self.conflict_label = QLabel()
        self.conflict_label.setWordWrap(True)
        self.keep_mine_button = QPushButton(tr("Save mine anyway"))
        self.keep_mine_button.clicked.connect(self.keep_mine)
        self.keep_theirs_button = QPushButton(tr("Keep theirs"))
        self.keep_theirs_button.clicked.connect(self.keep_theirs)
        conflict_row.addWidget(self.conflict_label, 1)
        conflict_row.addWidget(self.keep_mine_button)
        conflict_row.addWidget(self.keep_theirs_button)
        self.conflict_box.hide()
        layout.addWidget(self.conflict_box)

        self.filters = VerifyFilters()
        self.filters.changed.connect(lambda: self.refresh(keep_place=True))
        self.follow_extent = self.filters.follow_extent
        self.follow_selection = self.filters.follow_selection
        self.follow_time = self.filters.follow_time
        self.sync_map = self.filters.sync_map
        self.verdict_filter = self.filters.verdict_filter
        for box in (self.follow_extent, self.follow_selection, self.follow_time):
            box.toggled.connect(self._follow_toggled)
        self.clear_item_filter = QPushButton(tr("Show all again"))
        self.clear_item_filter.hide()
        self.clear_item_filter.clicked.connect(self._clear_item_filter)
        self.filters.layout().addWidget(self.clear_item_filter, 1, 6)  # the grid's free cell
        layout.addWidget(self.filters)

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
        self.table.setMinimumHeight(THUMB.height() * 2)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        split.addWidget(self.table)

        right = QSplitter(Qt.Orientation.Vertical)
        self.photo = PhotoView()
        self.photo.setMinimumSize(200, 150)
        self.match_pane = MatchPane()
        self.photo_tabs = QTabWidget()
        self.photo_tabs.setDocumentMode(True)
        self.photo_tabs.addTab(self.photo, tr("Photo"))
        self.photo_tabs.addTab(self.match_pane, tr("Match (M)"))
        self.match_pane.placement_judged.connect(self.judge_placement)
        self.photo_tabs.currentChanged.connect(self._photo_tab_changed)
        right.addWidget(self.photo_tabs)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        self.info = QTextBrowser()
        self.info.setOpenExternalLinks(True)
        self.info.setOpenLinks(True)
        self.info.setMinimumHeight(40)
        lower_layout.addWidget(self.info, 1)
        self.disagreement = QLabel()
        self.disagreement.setWordWrap(True)
        self.disagreement.setStyleSheet("color: #b00020;")
        self.disagreement.hide()
        lower_layout.addWidget(self.disagreement)
        self.categories_panel = TextCategoriesPanel(self.analyst_edit.text, self._write_categories)
        lower_layout.addWidget(self.categories_panel)
        buttons = QHBoxLayout()
        self.verdict_buttons: dict[str, QPushButton] = {}
        for verdict, key in VERDICT_KEYS.items():
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
        self.advance = QCheckBox(tr("Advance after verdict"))
        self.advance.setChecked(True)
        self.lease_mode = QCheckBox(tr("One post at a time"))
        self.lease_mode.setToolTip(tr("Take posts one by one, each held for you alone, so that analysts "
                                      "working on the same store never judge the same post twice"))
        self.lease_mode.toggled.connect(self._lease_mode_toggled)
        moves = QHBoxLayout()
        moves.addWidget(self.advance)
        moves.addWidget(self.lease_mode)
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
        self.text_posts = TextPostsPane(self.verdicts, self.analyst_edit.text)
        self.text_posts.message.connect(self._message)
        self.text_posts.current_changed.connect(self._text_post_changed)
        self.stack = QStackedWidget()  # photos, or the posts without photos
        self.stack.addWidget(split)
        self.stack.addWidget(self.text_posts)
        layout.addWidget(self.stack, 1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.status)
        self.setWidget(scrolled(root))
        for widget in (self.table, self.table.viewport(), self.photo, self.photo.viewport(), verify,
                       self.match_pane.view, self.match_pane.view.viewport(), self.photo_tabs.tabBar(),
                       *self.text_posts.key_widgets()):
            widget.installEventFilter(self)
        self.depth_edit.installEventFilter(self)

    def sizeHint(self) -> QSize:  # noqa: N802
        """Room for the table and the photo side by side, and never taller than a laptop's
        screen shared with another dock (the dock's minimum stays small: see the README)."""
        return QSize(900, 560)

    # -- store -----------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self.store is None and not self._tried_last_store:
            self._tried_last_store = True
            last = active_store()
            if last and (is_team_target(last) or Path(last).is_file()):
                self.open_store(last)

    def _active_store_changed(self, path: str) -> None:
        """Follow the project's active store (chosen in another dock or dialog)."""
        if self.store is not None and self.store_target == store_target(path):
            return
        if self.isVisible():
            self.open_store(path)
        else:
            self.close_store()
            self._tried_last_store = False  # opened when the dock is next shown

    def open_store(self, path: str | os.PathLike[str], read_only: bool = False) -> bool:
        """Open a store: a GeoPackage (read-only when asked or when the file cannot be written)
        or a team store (`postgresql://…`, `service=…`, `qgis:CONNECTION`)."""
        from .active_store import set_active_store

        self._tried_last_store = True
        self.close_store()
        target = store_target(path)
        if not is_team_target(target):
            file = Path(target)
            read_only = read_only or not (os.access(file, os.W_OK) and os.access(file.parent, os.W_OK))
        try:
            refuse_password(target)  # the project records the store: never a password
            self.store = open_store_target(target, create=False, read_only=read_only)
        except StoreError as exc:
            self._message(str(exc), error=True)
            return False
        self.store_target = target
        if not self.store.read_only:
            set_active_store(target)
        self.verdicts.set_store(self.store, target)
        self.team.set_store(self.store)
        self.map.set_store(target)
        self.store_label.setText(html.escape(display_name(target)))
        self.store_label.setToolTip(self.store.target)
        self.text_posts.set_store(self.store)
        if self.store.read_only:
            self.banner.setText(tr("This store is open read-only: you can browse, but verdicts are disabled."))
            self.banner.show()
        else:
            self.banner.hide()
        self._set_editing_enabled(not self.store.read_only)
        self._data_version = store_verify.data_version(self.store)
        self.quality.set_store(self.store)
        if photo_free(self.store) != self._auto_text_mode:  # a posts-only collection: nothing to see as photos
            self._auto_text_mode = not self._auto_text_mode
            if self._auto_text_mode != self.text_mode:
                self.filters.show_text_posts(self._auto_text_mode)
        self.refresh(keep_place=False)
        self._poll.start()
        return True

    def close_store(self) -> None:
        self._poll.stop()
        self._arrival_timer.stop()
        self._arrivals.clear()
        self._hide_conflict()
        if self.lease_mode.isChecked():
            self.lease_mode.setChecked(False)  # gives the post back
        self.team.set_store(None)
        self.verdicts.set_store(None)
        self.text_posts.set_store(None)
        self.map.set_store(None)
        self.model.set_queue(None)
        self._update_match(None)
        self.quality.set_store(None)
        if self.store is not None:
            self.store.close()
            self.store = None
        self.store_target = ""
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
        post_fids = self.item_post_filter
        if post_fids is None and self.follow_selection.isChecked():
            post_fids = self.map.selected_posts
        leased = self.lease_mode.isChecked()  # the post handed out is shown wherever the map is
        return self.filters.queue_filter(
            self.analyst_edit.text().strip(), post_fids,
            self.map.time_window if self.follow_time.isChecked() and not leased else None,
            self.map.extent if self.follow_extent.isChecked() and not leased else None,
        )

    @property
    def text_mode(self) -> bool:
        """The queue shows posts without photos, categorised by their text. Taking posts one at a
        time (leases) hands out photo and text-only posts alike, judged by verdict keys."""
        lease = getattr(self, "lease_mode", None)
        return self.filters.text_posts() and not (lease is not None and lease.isChecked())

    def current_ordering(self) -> Ordering:
        return self.filters.ordering()

    def refresh(self, keep_place: bool = True) -> None:
        """Rebuild the table from the store; keep the analyst on the same photo when it is still
        in the queue, else at the same row."""
        if self.store is None:
            return
        self.stack.setCurrentIndex(1 if self.text_mode else 0)
        if self.text_mode:
            self._count_generation += 1  # a photo count still running is no longer wanted
            self.status.clear()
            self.text_posts.refresh(self.current_filter(), keep_place)
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

    def reload(self) -> None:
        """Refresh everything from the store: the queue, the Quality tab's models and analysts."""
        if self.store is None:
            return
        self.loader.forget()
        self.refresh(keep_place=True)
        self.quality.reload_choices()

    def _start_count(self, filt: QueueFilter) -> None:
        self._count_generation += 1
        self.status.setText(tr("Counting…"))
        if self.store is not None:
            self._count_pool.start(_CountJob(self.store, filt, self._count_generation, self._count_signals))

    def _counted(self, generation: int, n: int) -> None:
        if generation != self._count_generation:
            return
        self.photo_count = n
        if self.status.text() != tr("Counting…"):
            return  # a message came in while counting (a lease, a colleague's verdict): keep it
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
        self.reload()
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
        elif self.lease_mode.isChecked():
            self.take_next_post()
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
        if self.lease_mode.isChecked():
            self.lease_mode.setChecked(False)  # gives the post back and shows all again
            return
        self.item_post_filter = None
        self.clear_item_filter.hide()
        self.refresh(keep_place=True)

    def _current_changed(self, current, _previous) -> None:
        row = self.model.row_at(current.row())
        if row is None:
            return
        self._show_row(row)
        self._prefetch_around(current.row())

    def _text_post_changed(self, row: TextPostRow) -> None:
        if self.sync_map.isChecked():
            self.map.select_on_map([row])

    def _write_categories(self, post_fid: int, categories: list[str], analyst: str) -> bool:
        """The categories panel saves through the controller, so Ctrl+Z takes a change back."""
        if self.verdicts.set_categories(post_fid, categories, analyst) is None:
            return False
        settings.set_value("analyst", analyst)
        return True

    def _selection_changed(self, *_args) -> None:
        if not self.sync_map.isChecked():
            return
        rows = self.selected_rows()
        if rows:
            self.map.select_on_map(rows)

    # -- photo and facts -------------------------------------------------------------------

    def _photo_source(self, row: QueueRow) -> tuple[str | None, str, str]:
        """(path, title, reason): a path to decode, or why there is none."""
        if row.kind != "photo":
            return None, tr("A {kind} is not previewed here").format(kind=row.kind), tr("Open the source link.")
        if row.status == MediaStatus.PENDING:
            return None, tr("Photo not fetched yet"), tr("Run the photo fetch step for this store.")
        if row.status in (MediaStatus.FAILED, MediaStatus.SKIPPED):
            title = tr("Photo could not be fetched") if row.status == MediaStatus.FAILED else tr("Photo skipped")
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
        self.team.remember(row.post_fid)  # a colleague's later verdict on it becomes a conflict
        self._show_disagreement(row)
        self.info.setHtml(facts_html(row))
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
        try:
            judged = calibration_sql.latest_placement_verdict(self.store, source.post_fid, source.ref_uid,
                                                              source.matcher)
        except (StoreError, sqlite3.Error):
            judged = None
        self.match_pane.set_placement_verdict(judged)
        if self._want_match:
            self._switch_tab(MATCH_TAB)
            self.match_pane.show_source(source, self.store.media_dir)

    def judge_placement(self, verdict: str) -> bool:
        """The analyst's verdict on where image matching placed the current post ("correct" or
        "wrong"), kept with the match evidence for the confidence refit (Quality tab)."""
        source = self.match_source
        if self.store is None or source is None:
            return False
        analyst = self._analyst_who_may_judge()
        if not analyst:
            return False
        try:
            record_placement(self.store, source.post_fid, verdict, analyst)
        except (MistError, StoreError, sqlite3.Error) as exc:
            self._message(str(exc), error=True)
            return False
        self.match_pane.set_placement_verdict(verdict)
        self._message(tr("Saved: the placement of post {post} is {verdict}.").format(
            post=source.post_fid, verdict=tr("right") if verdict == "correct" else tr("wrong")))
        self.quality.reload_choices()
        return True

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

    # -- verdicts --------------------------------------------------------------------------

    def _analyst_who_may_judge(self) -> str:
        """The analyst's name, or '' (with the reason shown) when no verdict can be written."""
        if self.store.read_only:
            self._message(tr("This store is open read-only: verdicts are disabled."), error=True)
            return ""
        analyst = self.analyst_edit.text().strip()
        if not analyst:
            self._message(tr("Type your name in the Analyst field first."), error=True)
            self.analyst_edit.setFocus()
        return analyst

    def apply_verdict(self, verdict: str, depth: float | None = None) -> bool:
        """Judge the selected photos; saved at once, the map repainted from the store."""
        if self.store is None:
            return False
        analyst = self._analyst_who_may_judge()
        if not analyst:
            return False
        note = self.note_edit.text()
        rows = self.selected_rows()
        if not rows and self.photo_free_post is not None:  # the verdict covers the leased post itself
            return self._write([Verdict(self.photo_free_post, verdict, analyst, None, depth, note)])
        if not rows:
            return False
        return self._write([Verdict(r.post_fid, verdict, analyst, r.media_fid, depth, note) for r in rows])

    def _write(self, verdicts: list[Verdict]) -> bool:
        """Save verdicts unless a colleague judged the same photos since they were shown."""
        self._hide_conflict()
        batch = self.verdicts.apply(verdicts, seen=self.team.seen_for(verdicts))
        if batch is None:
            return False
        self.team.judged(verdicts)
        settings.set_value("analyst", verdicts[0].analyst)
        self.note_edit.clear()
        self._message(tr("Saved: {v} for {n} photo(s).").format(v=tr(VERDICT_LABELS[verdicts[0].verdict]),
                                                                n=len(verdicts)))
        if self.advance.isChecked() and len(verdicts) == 1:
            self.next()
        elif self.current_row() is not None:
            self._show_row(self.current_row())
        return True

    def _verdicts_written(self, batch: VerdictBatch) -> None:
        self._data_version = store_verify.data_version(self.store)
        self.model.refresh_rows(batch.media_fids)
        self.verdict_written.emit(len(batch.receipts))
        self.quality.reload_choices()

    def _depth_entered(self) -> None:
        try:
            depth = parse_depth(self.depth_edit.text())
        except VerdictError as exc:
            self._message(str(exc), error=True)
            return
        if self.apply_verdict("flood", depth):
            self.depth_edit.clear()
            self.table.setFocus()

    def undo(self) -> bool:
        """Take back the latest verdict batch or category change (whichever came last)."""
        if not self.editable:
            return False
        if self.verdicts.undo() is None:
            self._message(tr("Nothing to undo."))
            return False
        return True

    def shows_layer(self, layer) -> bool:
        """Whether `layer` reads the open store (the posts layer, or another of its tables)."""
        from ..qgis_ops.layers import store_layers

        if self.store is None or not self.store_target:
            return False
        return layer in store_layers(self.store_target)

    def _categories_changed(self, batch: CategoryBatch) -> None:
        """Our own change is not "another session's"; the photo's panel shows the post's categories."""
        if self.store is None:
            return
        self._data_version = store_verify.data_version(self.store)
        row = self.current_row()
        if not self.text_mode and row is not None and row.post_fid == batch.post_fid:
            self.categories_panel.show_post(self.store, row.post_fid)

    def _verdicts_undone(self, batch: VerdictBatch) -> None:
        if self.store is not None:
            self._data_version = store_verify.data_version(self.store)
        fids = batch.media_fids
        self.model.refresh_rows(fids)
        if fids and self.model.row_of(fids[0]) >= 0:
            self._set_current(self.model.row_of(fids[0]))
        self._message(tr("Undone: {n} verdict(s).").format(n=len(batch.receipts)))
        self.quality.reload_choices()

    # -- team: leases, conflicts, colleagues' verdicts -------------------------------------

    def _lease_mode_toggled(self, on: bool) -> None:
        if on:
            if not self.take_next_post():
                blocked = self.lease_mode.blockSignals(True)
                self.lease_mode.setChecked(False)
                self.lease_mode.blockSignals(blocked)
            return
        self.team.release()
        self.photo_free_post = None
        if self.item_post_filter is not None:
            self.item_post_filter = None
            self.clear_item_filter.hide()
            self.refresh(keep_place=True)

    def take_next_post(self) -> bool:
        """Show the next post handed to this analyst alone (a lease); False when none is left."""
        if self.store is None:
            return False
        analyst = self._analyst_who_may_judge()
        if not analyst:
            return False
        try:
            lease = self.team.take_next(analyst)
        except (MistError, sqlite3.Error) as exc:
            self._message(str(exc), error=True)
            return False
        if lease is None:
            self._message(tr("No post is left to hand out: every post has its verdicts."))
            return False
        self.show_item(lease.post_fid)
        self.photo_free_post = lease.post_fid if self.model.rowCount() == 0 else None
        if self.photo_free_post is not None:
            self._show_photo_free_post(lease.post_fid)
        self._message(tr("Post {post} is yours until {time} UTC.").format(post=lease.post_fid,
                                                                         time=lease.expires_at[11:16]))
        return True

    def _show_photo_free_post(self, post_fid: int) -> None:
        """A leased post with no photo in the queue (text only): its text, judged as a whole."""
        try:
            text = post_texts(self.store, [post_fid]).get(post_fid, "")
        except (StoreError, sqlite3.Error):
            text = ""
        self._show_placeholder(tr("No photo to judge"), tr("Judge this post by its text: the verdict covers the post."))
        self.info.setHtml(f"<p><b>{html.escape(tr('post {n}').format(n=post_fid))}</b></p>"
                          f"<p>{html.escape(text)}</p>")
        self.categories_panel.show_post(self.store, post_fid)
        self.disagreement.hide()
        self._update_match(None)

    def _show_conflict(self, conflict, verdicts: list[Verdict]) -> None:
        """A colleague judged these photos since they were shown: both verdicts, and a choice."""
        mine = {(v.post_fid, v.media_fid): v.verdict for v in verdicts}
        lines = []
        for c in conflict.conflicts:
            what = (tr("photo {n}").format(n=c.media_fid) if c.media_fid is not None
                    else tr("post {n}").format(n=c.post_fid))
            yours = mine.get((c.post_fid, c.media_fid), verdicts[0].verdict)
            lines.append(tr("{analyst} judged {what} as {theirs} since you loaded it; yours: {mine}.").format(
                analyst=html.escape(c.analyst), what=what, theirs=tr(VERDICT_LABELS.get(c.verdict, c.verdict)),
                mine=tr(VERDICT_LABELS[yours])))
        self._pending_conflict = (conflict, verdicts)
        self.conflict_label.setText("<br>".join(lines))
        self.conflict_box.show()
        self.model.refresh_rows([v.media_fid for v in verdicts if v.media_fid is not None])
        self._message(tr("Not saved: another analyst was quicker."), error=True)

    def _hide_conflict(self) -> None:
        self._pending_conflict = None
        self.conflict_box.hide()

    def keep_mine(self) -> bool:
        """Save the analyst's verdicts of the conflict next to the colleague's."""
        if self._pending_conflict is None:
            return False
        conflict, verdicts = self._pending_conflict
        self.team.acknowledge(conflict)
        return self._write(verdicts)

    def keep_theirs(self) -> None:
        """Leave the colleague's verdicts as they are and go on."""
        if self._pending_conflict is None:
            return
        conflict, verdicts = self._pending_conflict
        self.team.acknowledge(conflict)
        self.team.judged(verdicts)  # the post is judged: a lease on it is done
        self._hide_conflict()
        if self.advance.isChecked():
            self.next()

    def _show_disagreement(self, row: QueueRow) -> None:
        found = self.team.disagreements(row.post_fid, row.media_fid)
        if not found:
            self.disagreement.hide()
            return
        said = " · ".join(f"{html.escape(a)}: {tr(VERDICT_LABELS.get(v, v))}"
                          for a, v in sorted(found[0].verdicts.items()))
        self.disagreement.setText(tr("Analysts disagree on this photo: {said}").format(said=said))
        self.disagreement.show()

    def _verdict_arrived(self, event) -> None:
        """Another analyst's verdict landed (team store notifications): refresh once per burst."""
        if event.analyst == self.analyst_edit.text().strip():
            return  # this dock's own, already shown
        self._arrivals.append(event)
        self._arrival_timer.start()

    def _apply_arrivals(self) -> None:
        events, self._arrivals = self._arrivals, []
        if self.store is None or not events:
            return
        self.refresh(keep_place=True)
        try:
            self._data_version = store_verify.data_version(self.store)
        except (StoreError, sqlite3.Error):
            pass
        self.quality.reload_choices()
        last = events[-1]
        if len(events) > 1:
            text = tr("{n} verdicts from other analysts; the table is up to date.").format(n=len(events))
        elif last.op == "delete":
            text = tr("{analyst} took back a verdict on post {post}.").format(analyst=last.analyst, post=last.post_fid)
        else:
            text = tr("{analyst} judged post {post}: {verdict}.").format(
                analyst=last.analyst, post=last.post_fid, verdict=tr(VERDICT_LABELS.get(last.verdict, last.verdict)))
        self._message(text)

    # -- keyboard --------------------------------------------------------------------------

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        kind = event.type()
        if watched is self.depth_edit:
            if kind == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
                self.depth_edit.clear()
                self.table.setFocus()
                return True
            return False
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            command = command_for(event.key(), event.modifiers(), self.text_mode)
            if command is not None:
                if kind == QEvent.Type.KeyPress:
                    self.run_command(command)
                event.accept()  # ours, not QGIS's main-window shortcuts (its Ctrl+Z, its F keys)
                return True
        return super().eventFilter(watched, event)

    def handle_key(self, key: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        command = command_for(key, modifiers, self.text_mode)
        if command is not None:
            self.run_command(command)

    def run_command(self, command: KeyCommand) -> None:
        if command.action == "undo":
            self.undo()
        elif self.text_mode:
            self._run_text_command(command)
        elif command.action == "verdict":
            self.apply_verdict(command.verdict, command.depth_m)
        elif command.action == "next":
            self.next()
        elif command.action == "previous":
            self.previous()
        elif command.action == "depth_field" and self.editable:
            self.depth_edit.setFocus()
        elif command.action == "match":
            self.toggle_match()

    def _run_text_command(self, command: KeyCommand) -> None:
        """Keys of the posts-without-photos queue (see `verify_keys`)."""
        if command.action == "next":
            self.text_posts.next()
        elif command.action == "previous":
            self.text_posts.previous()
        elif not self.editable:
            self._message(tr("This store is open read-only: categories cannot be set."), error=True)
        elif command.action == "category":
            self.text_posts.toggle_category(command.category)
        elif command.action == "no_category":
            self.text_posts.no_category()

    # -- map -------------------------------------------------------------------------------

    def canvas(self):
        return self.map.canvas()

    def _map_changed(self, follow: QCheckBox) -> None:
        if follow.isChecked():
            self.refresh(keep_place=True)

    def _follow_toggled(self, _on: bool) -> None:
        self.map.refresh_now()
        self.refresh(keep_place=True)

    def _threshold_changed(self, value: float) -> None:
        self.threshold = value
        if self.current_ordering() is Ordering.MOST_USEFUL:
            self.filters.timer.start()

    # -- misc ------------------------------------------------------------------------------

    def _message(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if error else "")

    def cleanup(self) -> None:
        """Stop timers and threads and close the store (the plugin calls it on unload)."""
        self._poll.stop()
        if self.window_undo is not None:
            self.window_undo.remove()
        self._arrival_timer.stop()
        try:
            NOTIFIER.changed.disconnect(self._active_store_changed)
        except TypeError:
            pass
        self.filters.stop()
        self.map.cleanup()
        self._count_pool.clear()
        self._count_pool.waitForDone(5000)
        self.loader.shutdown()
        self.match_pane.shutdown()
        self.close_store()


def _default_analyst() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
