"""The verification table's model: rows come from a `Queue` page by page as the view scrolls
(`canFetchMore`/`fetchMore`), so opening a store of a million photos costs one page."""

from __future__ import annotations

from qgis.PyQt.QtCore import QAbstractTableModel, QModelIndex, QSize, Qt
from qgis.PyQt.QtGui import QBrush, QColor

from ..core.images.cache import MediaCache
from ..core.stage import MediaStatus
from ..core.store import StoreError
from ..core.verify.queue import Queue, QueueReader
from ..core.verify.records import QueueRow, depth_class_for
from ..i18n import QT_TR_NOOP, tr
from .prefetch import ImageLoader

# Words that come from core (media statuses, depth classes) and are shown through tr(): listed here
# so that pylupdate5 collects them.
CORE_WORDS = (QT_TR_NOOP("pending"), QT_TR_NOOP("failed"), QT_TR_NOOP("skipped"),
              QT_TR_NOOP("ankle"), QT_TR_NOOP("knee"), QT_TR_NOOP("waist"), QT_TR_NOOP("above"))
COLUMNS = [QT_TR_NOOP("Photo"), QT_TR_NOOP("Time"), QT_TR_NOOP("Text"), QT_TR_NOOP("Score"),
           QT_TR_NOOP("Geo conf."), QT_TR_NOOP("Verdict")]
PHOTO, TIME, TEXT, SCORE, GEO, VERDICT = range(len(COLUMNS))
THUMB = QSize(64, 64)
EXCERPT = 80
VERDICT_LABELS = {"flood": QT_TR_NOOP("Flood"), "not_flood": QT_TR_NOOP("Not flood"), "unsure": QT_TR_NOOP("Unsure")}
VERDICT_COLOURS = {"flood": QColor(30, 110, 220), "not_flood": QColor(120, 120, 120), "unsure": QColor(210, 140, 0)}
MediaRole = Qt.ItemDataRole.UserRole + 1


def verdict_text(row: QueueRow, with_class: bool = True) -> str:
    if not row.verdict:
        return ""
    text = tr(VERDICT_LABELS[row.verdict])
    if row.water_depth_m is not None:
        text += f" {row.water_depth_m:g} m"
        if with_class:
            text += f" ({tr(depth_class_for(row.water_depth_m))})"
    return text


class VerifyTableModel(QAbstractTableModel):
    def __init__(self, loader: ImageLoader | None = None, page_size: int = 100, parent=None) -> None:
        super().__init__(parent)
        self.page_size = page_size
        self.loader = loader
        self.queue: Queue | None = None
        self._reader: QueueReader | None = None
        self._rows: list[QueueRow] = []
        self._index: dict[int, int] = {}       # media fid -> row
        self._thumb_rows: dict[str, int] = {}  # thumbnail key -> row waiting for it
        if loader is not None:
            loader.loaded.connect(self._thumb_loaded)

    # -- loading ---------------------------------------------------------------------------

    def set_queue(self, queue: Queue | None, keep_media_fid: int | None = None, min_rows: int = 0) -> int:
        """Show a new queue; load pages until `keep_media_fid` (or `min_rows` rows) is in.
        Returns the row of `keep_media_fid`, or -1."""
        self.beginResetModel()
        self.queue = queue
        self._reader = queue.reader(self.page_size) if queue is not None else None
        self._rows, self._index, self._thumb_rows = [], {}, {}
        if self._reader is not None:
            self._append(self._reader.fetch(self.page_size))
            while self._reader is not None and not self._reader.exhausted and (
                    len(self._rows) < min_rows or (keep_media_fid is not None and keep_media_fid not in self._index)):
                if len(self._rows) >= max(min_rows, 0) + 50 * self.page_size:
                    break  # the photo left the queue; do not load the whole store looking for it
                self._append(self._reader.fetch(self.page_size))
        self.endResetModel()
        return self._index.get(keep_media_fid, -1) if keep_media_fid is not None else -1

    def _append(self, rows: list[QueueRow]) -> None:
        for row in rows:
            self._index[row.media_fid] = len(self._rows)
            self._rows.append(row)

    def canFetchMore(self, parent: QModelIndex = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and self._reader is not None and not self._reader.exhausted

    def fetchMore(self, parent: QModelIndex = QModelIndex()) -> None:  # noqa: N802, B008
        if parent.isValid() or self._reader is None:
            return
        try:
            rows = self._reader.fetch(self.page_size)
        except StoreError:
            rows = []
        if not rows:
            self._reader.exhausted = True
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(rows) - 1)
        self._append(rows)
        self.endInsertRows()

    def refresh_rows(self, media_fids: list[int]) -> None:
        """Re-read some rows (after a verdict) and repaint them."""
        if self.queue is None:
            return
        fresh = self.queue.rows([f for f in media_fids if f in self._index])
        for fid, row in fresh.items():
            i = self._index[fid]
            self._rows[i] = row
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    # -- access ----------------------------------------------------------------------------

    def row_at(self, i: int) -> QueueRow | None:
        return self._rows[i] if 0 <= i < len(self._rows) else None

    def row_of(self, media_fid: int) -> int:
        return self._index.get(media_fid, -1)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(COLUMNS[section])
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index.row())
        if row is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == TIME:  # month-day hour:minute; the full time is in the tooltip and the facts
                return (row.timestamp or "").replace("T", " ")[5:16]
            if col == TEXT:
                flat = " ".join(row.text.split())
                return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"
            if col == SCORE:
                return "" if row.score is None else f"{row.score:.2f}"
            if col == GEO:
                return "" if row.geo_confidence is None else f"{row.geo_confidence:.2f}"
            if col == VERDICT:
                return verdict_text(row, with_class=False)
            if col == PHOTO and row.status != MediaStatus.OK:
                return f"{tr(row.status)}: {row.error}" if row.error else tr(row.status)
            return None
        if role == Qt.ItemDataRole.DecorationRole and col == PHOTO:
            return self._thumbnail(index.row(), row)
        if role == Qt.ItemDataRole.ToolTipRole and col == PHOTO and row.error:
            return f"{tr(row.status)}: {row.error}"
        if role == Qt.ItemDataRole.ToolTipRole and col == TEXT:
            return row.text[:1000]
        if role == Qt.ItemDataRole.ToolTipRole and col == TIME:
            return row.timestamp
        if role == Qt.ItemDataRole.ToolTipRole and col == VERDICT:
            return verdict_text(row)
        if role == Qt.ItemDataRole.ForegroundRole and col == VERDICT and row.verdict:
            return QBrush(VERDICT_COLOURS[row.verdict])
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (SCORE, GEO):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == MediaRole:
            return row.media_fid
        return None

    # -- thumbnails ------------------------------------------------------------------------

    def _thumb_path(self, row: QueueRow) -> str | None:
        if self.queue is None or not row.sha256:
            return None
        try:
            path = MediaCache(self.queue.store.media_dir).thumbnail_path(row.sha256)
        except ValueError:  # not a sha256: no file to look for
            return None
        return str(path) if path.is_file() else None

    def _thumbnail(self, i: int, row: QueueRow):
        if self.loader is None or not row.sha256:
            return None
        key = ImageLoader.key(f"thumb:{row.sha256}", THUMB)
        pixmap = self.loader.pixmap(key)
        if pixmap is not None:
            return pixmap
        path = self._thumb_path(row)
        if path is not None and key not in self.loader.errors:
            self._thumb_rows[key] = i
            self.loader.request(key, path, THUMB, priority=-1)
        return None

    def _thumb_loaded(self, key: str) -> None:
        i = self._thumb_rows.pop(key, None)
        if i is not None and i < len(self._rows):
            self.dataChanged.emit(self.index(i, PHOTO), self.index(i, PHOTO), [Qt.ItemDataRole.DecorationRole])
