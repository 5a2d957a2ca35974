"""The Verify dock's posts without photos: most posts of a flood have no photo, so the analyst
categorises them by their text, at keyboard speed, in the same dock.

The queue lists the posts with no photo that pass the dock's post filters (text search, map
extent, time, selection), page by page in import order; "Only not categorised" hides the posts
an analyst has done. The current post's text is shown large, with its source link, and the
team's categories as numbered boxes: 1-9 switch a category on or off and save at once, 0 says
none holds. Every change goes through the dock's verdict controller, so Ctrl+Z takes it back
and the posts layer repaints with the post's new categories.
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Callable

from qgis.PyQt.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, Qt, pyqtSignal
from qgis.PyQt.QtGui import QFont
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..core.store import Store, StoreError
from ..core.text.analyst import TextPostRow, count_text_only_posts, text_only_posts, text_post
from ..core.verify.records import QueueFilter
from ..i18n import QT_TR_NOOP, tr
from .text_categories_panel import TextCategoriesPanel
from .verdict_controller import CategoryBatch, VerdictController

COLUMNS = [QT_TR_NOOP("Post"), QT_TR_NOOP("Time"), QT_TR_NOOP("Categories"), QT_TR_NOOP("Text")]
POST, TIME, CATEGORIES, TEXT = range(len(COLUMNS))
PAGE = 100
EXCERPT = 80
TEXT_POINT_SIZE = 14


class TextPostsModel(QAbstractTableModel):
    """Posts without photos, fetched a page at a time as the view scrolls."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.store: Store | None = None
        self.filt: QueueFilter | None = None
        self.uncategorised = False
        self.rows: list[TextPostRow] = []
        self._index: dict[int, int] = {}
        self._done = True

    def load(self, store: Store | None, filt: QueueFilter | None, uncategorised: bool,
             keep_post_fid: int | None = None, min_rows: int = 0) -> int:
        """Show a new queue; load pages until `keep_post_fid` (or `min_rows` rows) is in; its row or -1."""
        self.beginResetModel()
        self.store, self.filt, self.uncategorised = store, filt, uncategorised
        self.rows, self._index, self._done = [], {}, store is None
        try:
            self._append(self._next_page())
            while not self._done and (len(self.rows) < min_rows or (
                    keep_post_fid is not None and keep_post_fid not in self._index)) and len(self.rows) < 50 * PAGE:
                self._append(self._next_page())
        finally:
            self.endResetModel()
        return self._index.get(keep_post_fid, -1) if keep_post_fid is not None else -1

    def _next_page(self) -> list[TextPostRow]:
        if self._done or self.store is None:
            return []
        after = self.rows[-1].post_fid if self.rows else 0
        page = text_only_posts(self.store, self.filt, after, PAGE, self.uncategorised)
        self._done = len(page) < PAGE
        return page

    def _append(self, page: list[TextPostRow]) -> None:
        for row in page:
            self._index[row.post_fid] = len(self.rows)
            self.rows.append(row)

    def canFetchMore(self, parent: QModelIndex = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and not self._done

    def fetchMore(self, parent: QModelIndex = QModelIndex()) -> None:  # noqa: N802, B008
        try:
            page = self._next_page()
        except (StoreError, sqlite3.Error):
            self._done = True
            return
        if page:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(page) - 1)
            self._append(page)
            self.endInsertRows()

    def refresh_post(self, post_fid: int) -> None:
        """Re-read one post after its categories changed (it stays in the list until the next refresh)."""
        i = self._index.get(post_fid)
        if i is None or self.store is None:
            return
        fresh = text_post(self.store, post_fid)
        if fresh is not None:
            self.rows[i] = fresh
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def row_at(self, i: int) -> TextPostRow | None:
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def row_of(self, post_fid: int) -> int:
        return self._index.get(post_fid, -1)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(COLUMNS[section])
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index.row())
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            col = index.column()
            if col == POST:
                return row.post_id
            if col == TIME:
                return (row.timestamp or "")[:16].replace("T", " ")
            if col == CATEGORIES:
                return category_words(row)
            if col == TEXT:
                text = " ".join(row.text.split())
                return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == TEXT:
            return row.text[:2000]
        return None


def category_words(row: TextPostRow) -> str:
    """What the categories column says: the categories and who gave them."""
    if row.source == "no text":
        return tr("no text")
    if row.source is None:
        return tr("not screened")
    names = ", ".join(row.categories) or tr("none")
    return f"{names} ({tr(row.source)})"


class TextPostsPane(QWidget):
    """The posts-without-photos mode of the Verify dock."""

    current_changed = pyqtSignal(object)  # TextPostRow
    message = pyqtSignal(str, bool)       # text, is an error

    def __init__(self, controller: VerdictController, analyst: Callable[[], str], parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.store: Store | None = None
        self.filt: QueueFilter | None = None
        self.model = TextPostsModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.uncategorised = QCheckBox(tr("Only not categorised"))
        self.uncategorised.setToolTip(tr("Hide the posts an analyst has already categorised"))
        self.uncategorised.toggled.connect(lambda _on: self.refresh(self.filt, keep_place=True))
        self.count_label = QLabel()
        self.style_button = QPushButton(tr("Colour the map by category"))
        self.style_button.setToolTip(tr("Style the posts layer by text category, legend in your language"))
        self.style_button.clicked.connect(self.style_map)
        top.addWidget(self.uncategorised)
        top.addStretch(1)
        top.addWidget(self.count_label)
        top.addWidget(self.style_button)
        layout.addLayout(top)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setResizeContentsPrecision(200)
        for column in (POST, TIME, CATEGORIES):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TEXT, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        split.addWidget(self.table)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.text_view = QTextBrowser()
        self.text_view.setOpenExternalLinks(True)
        font = QFont(self.text_view.font())
        font.setPointSize(TEXT_POINT_SIZE)
        self.text_view.setFont(font)
        self.text_view.setMinimumHeight(80)
        right_layout.addWidget(self.text_view, 1)
        self.categories = TextCategoriesPanel(analyst, self._write, numbered=True)
        right_layout.addWidget(self.categories)
        moves = QHBoxLayout()
        hint = QLabel(tr("Keys: 1-9 switch a category, 0 none of these, arrows move, Ctrl+Z undo"))
        hint.setWordWrap(True)
        previous = QPushButton("◀")
        previous.clicked.connect(self.previous)
        following = QPushButton("▶")
        following.clicked.connect(self.next)
        moves.addWidget(hint, 1)
        moves.addWidget(previous)
        moves.addWidget(following)
        right_layout.addLayout(moves)
        split.addWidget(right)
        split.setSizes([420, 480])
        layout.addWidget(split, 1)
        controller.categories_written.connect(self._changed)
        controller.categories_undone.connect(self._undone)

    def key_widgets(self) -> list[QWidget]:
        """Where the dock listens for its keys in this mode."""
        return [self, self.table, self.table.viewport(), self.text_view, self.text_view.viewport()]

    # -- queue -------------------------------------------------------------------------------

    def set_store(self, store: Store | None) -> None:
        self.store = store
        if store is None:
            self.model.load(None, None, False)
            self._show(None)

    def refresh(self, filt: QueueFilter | None, keep_place: bool = True) -> None:
        """Rebuild the list from the store with the dock's filter; stay on the same post if it is still in."""
        self.filt = filt
        if self.store is None:
            return
        current = self.current_post() if keep_place else None
        old_row = self.table.currentIndex().row() if keep_place else -1
        try:
            row = self.model.load(self.store, filt, self.uncategorised.isChecked(),
                                  current.post_fid if current else None, max(old_row + 1, 0))
            count = count_text_only_posts(self.store, filt, self.uncategorised.isChecked())
        except (StoreError, sqlite3.Error) as exc:
            self.message.emit(tr("Cannot read the store: {error}").format(error=exc), True)
            return
        self.count_label.setText(tr("{n} posts without photos").format(n=f"{count:,}"))
        if row < 0 and old_row >= 0:
            row = min(old_row, self.model.rowCount() - 1)
        if row < 0 and self.model.rowCount():
            row = 0
        if row >= 0:
            self.set_current(row)
        else:
            self._show(None)

    def current_post(self) -> TextPostRow | None:
        return self.model.row_at(self.table.currentIndex().row())

    def set_current(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        self._show(self.model.row_at(row))  # also when the row was current already (after a reload)

    def next(self) -> bool:
        row = self.table.currentIndex().row() + 1
        if row >= self.model.rowCount() and self.model.canFetchMore():
            self.model.fetchMore()
        if row < self.model.rowCount():
            self.set_current(row)
            return True
        self.message.emit(tr("This is the last post in the queue."), False)
        return False

    def previous(self) -> bool:
        row = self.table.currentIndex().row() - 1
        if row >= 0:
            self.set_current(row)
            return True
        return False

    def _current_changed(self, current, _previous) -> None:
        row = self.model.row_at(current.row())
        if row is not None:
            self._show(row)
            self.current_changed.emit(row)

    def _show(self, row: TextPostRow | None) -> None:
        if row is None:
            self.text_view.setHtml(f"<p><i>{html.escape(tr('No post without photos matches the filters.'))}</i></p>")
            self.categories.show_post(None, None)
            return
        when = html.escape((row.timestamp or "")[:19].replace("T", " "))
        link = (f' · <a href="{html.escape(row.url, quote=True)}">{html.escape(tr("source"))}</a>'
                if row.url and row.url.startswith(("http://", "https://")) else "")
        text = html.escape(row.text).replace("\n", "<br>") or f"<i>{html.escape(tr('(empty)'))}</i>"
        self.text_view.setHtml(
            f"<p>{text}</p><p style='color:#666; font-size:small'>{html.escape(row.platform)} · "
            f"{html.escape(row.post_id)} · {when}{link}</p>")
        self.categories.show_post(self.store, row.post_fid)

    def style_map(self) -> int:
        """The same styling as the menu's "Style posts by category", for this store; layers styled."""
        from ..qgis_ops.layers import style_store_posts_by_category

        if self.store is None:
            return 0
        try:
            layers = style_store_posts_by_category(self.controller.store_target or self.store.target)
        except (StoreError, sqlite3.Error, OSError) as exc:
            self.message.emit(str(exc), True)
            return 0
        self.message.emit(tr("Posts coloured by text category: {n} layer(s).").format(n=len(layers)), False)
        return len(layers)

    # -- categories --------------------------------------------------------------------------

    def _write(self, post_fid: int, categories: list[str], analyst: str) -> bool:
        return self.controller.set_categories(post_fid, categories, analyst) is not None

    def toggle_category(self, index: int) -> bool:
        """A category key: switch the index-th category of the team's list for the current post."""
        if self.current_post() is None:
            return False
        if index >= len(self.categories.boxes):
            self.message.emit(tr("The category list has no category {n}.").format(n=index + 1), True)
            return False
        return self.categories.toggle(index)

    def no_category(self) -> bool:
        """0: none of the categories holds for the current post."""
        return self.current_post() is not None and self.categories.clear_and_save()

    def _changed(self, batch: CategoryBatch) -> None:
        self.model.refresh_post(batch.post_fid)
        cats = ", ".join(batch.receipt.categories) or tr("none")
        self.message.emit(tr("Saved: {categories} for post {post}.").format(
            categories=cats, post=self._post_id(batch.post_fid)), False)

    def _undone(self, batch: CategoryBatch) -> None:
        self.model.refresh_post(batch.post_fid)
        row = self.model.row_of(batch.post_fid)
        if row >= 0 and self.isVisible():
            self.set_current(row)
        elif self.current_post() is not None and self.current_post().post_fid == batch.post_fid:
            self._show(self.current_post())
        self.message.emit(tr("Undone: the categories of post {post}.").format(post=self._post_id(batch.post_fid)),
                          False)

    def _post_id(self, post_fid: int) -> str:
        row = self.model.row_at(self.model.row_of(post_fid))
        return row.post_id if row is not None else str(post_fid)
