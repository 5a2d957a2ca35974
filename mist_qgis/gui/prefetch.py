"""Photo decoding off the GUI thread into a pixmap cache, so the next photo is ready before the
analyst asks for it.

Workers decode with `QImageReader` scaled reads (JPEG decodes straight at the reduced size, far
cheaper than decoding full size and scaling) into `QImage`s; the GUI thread turns them into
`QPixmap`s in `QPixmapCache` (pixmaps may only be made on the GUI thread). Decode failures are
remembered with their reason so the photo pane can say why a photo cannot be shown.
"""

from __future__ import annotations

from pathlib import Path

from qgis.PyQt.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, pyqtSignal
from qgis.PyQt.QtGui import QImage, QImageReader, QPixmap, QPixmapCache

from ..core.images.safe_decode import DEFAULT_LIMITS
from ..i18n import tr

CACHE_LIMIT_KB = 256 * 1024  # QPixmapCache is shared with QGIS: only ever raised, never lowered


def ensure_cache_limit(limit_kb: int = CACHE_LIMIT_KB) -> None:
    if QPixmapCache.cacheLimit() < limit_kb:
        QPixmapCache.setCacheLimit(limit_kb)


def decode_scaled(path: str, bound: QSize) -> tuple[QImage | None, str]:
    """Decode an image scaled to fit `bound` (never enlarged); (None, reason) when it cannot be."""
    if not Path(path).is_file():
        return None, tr("The cached photo file is missing.")
    reader = QImageReader(path)
    reader.setAutoTransform(True)  # EXIF orientation
    if not reader.canRead():
        return None, tr("Not a readable image: {reason}").format(reason=reader.errorString())
    size = reader.size()
    if not size.isValid() or size.isEmpty():
        return None, tr("The photo is damaged: its size cannot be read ({reason}).").format(
            reason=reader.errorString())
    if size.width() * size.height() > DEFAULT_LIMITS.max_pixels:  # the safe opener's cap, read from the header
        return None, tr("The image is too large to show ({w} × {h} pixels).").format(w=size.width(), h=size.height())
    if size.width() > bound.width() or size.height() > bound.height():
        reader.setScaledSize(size.scaled(bound, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return None, tr("The photo is damaged and cannot be decoded: {reason}").format(reason=reader.errorString())
    return image, ""


class _Signals(QObject):
    done = pyqtSignal(str, object, str)  # key, QImage or None, error


class _DecodeJob(QRunnable):
    def __init__(self, key: str, path: str, bound: QSize, signals: _Signals) -> None:
        super().__init__()
        self.key, self.path, self.bound, self.signals = key, path, QSize(bound), signals
        self.setAutoDelete(False)  # the loader keeps it until done, so tryTake stays safe

    def run(self) -> None:
        image, error = decode_scaled(self.path, self.bound)
        self.signals.done.emit(self.key, image, error)


class ImageLoader(QObject):
    """Decodes photos in a thread pool and serves them as cached pixmaps by key."""

    loaded = pyqtSignal(str)  # key: the pixmap (or the error) is now available

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        ensure_cache_limit()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._signals = _Signals(self)
        self._signals.done.connect(self._on_done)
        self._pending: dict[str, _DecodeJob] = {}
        self.errors: dict[str, str] = {}

    @staticmethod
    def key(identity: str, bound: QSize) -> str:
        return f"mist:{identity}@{bound.width()}x{bound.height()}"

    def pixmap(self, key: str) -> QPixmap | None:
        pixmap = QPixmapCache.find(key)
        return pixmap if pixmap is not None and not pixmap.isNull() else None

    def request(self, key: str, path: str, bound: QSize, priority: int = 0) -> None:
        """Decode in the background unless cached, failed before, or already on its way."""
        if key in self._pending or key in self.errors or self.pixmap(key) is not None:
            return
        job = _DecodeJob(key, path, bound, self._signals)
        self._pending[key] = job
        self._pool.start(job, priority)

    def keep_only(self, keys: set[str], prefix: str = "mist:") -> None:
        """Drop queued decodes under `prefix` that are no longer wanted (the analyst moved on)."""
        for key in list(self._pending):
            if key.startswith(prefix) and key not in keys and self._pool.tryTake(self._pending[key]):
                del self._pending[key]

    def load_now(self, key: str, path: str, bound: QSize) -> tuple[QPixmap | None, str]:
        """The pixmap, decoding on this (GUI) thread if no worker has it ready yet."""
        pixmap = self.pixmap(key)
        if pixmap is not None:
            return pixmap, ""
        if key in self.errors:
            return None, self.errors[key]
        job = self._pending.pop(key, None)
        if job is not None and not self._pool.tryTake(job):
            self._pending[key] = job  # running right now: waiting for it beats decoding twice
            self._wait_for(key)
            pixmap = self.pixmap(key)
            return (pixmap, "") if pixmap is not None else (None, self.errors.get(key, ""))
        image, error = decode_scaled(path, bound)
        return self._store(key, image, error), error

    def _wait_for(self, key: str) -> None:
        from qgis.PyQt.QtCore import QCoreApplication, QEventLoop

        while key in self._pending:
            self._pool.waitForDone(5)
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)

    def _store(self, key: str, image: QImage | None, error: str) -> QPixmap | None:
        if image is None:
            self.errors[key] = error
            return None
        pixmap = QPixmap.fromImage(image)
        QPixmapCache.insert(key, pixmap)
        return pixmap

    def _on_done(self, key: str, image: object, error: str) -> None:
        if self._pending.pop(key, None) is None:
            return
        self._store(key, image if isinstance(image, QImage) else None, error)
        self.loaded.emit(key)

    def forget(self) -> None:
        """Forget failures (the store changed: a photo may have been fetched again)."""
        self.errors.clear()

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone(2000)
        self._pending.clear()
