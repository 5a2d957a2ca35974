"""Photo acquisition in the background: a QgsTask around `run_fetch_media`.

`run()` takes plain data (store path and fetch options), opens its own store connection in the
worker thread, reports progress with the count, bytes and rate in the task description (what
the task manager shows), and stops when the user cancels; the next task resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qgis.core import Qgis, QgsMessageLog, QgsTask

from ..i18n import tr
from ..log import TAG


class FetchMediaTask(QgsTask):
    """Fetch, cache and vet every pending photo and video of one store."""

    def __init__(self, store_path: str | Path, options=None,
                 on_done: Callable[[FetchMediaTask], None] | None = None) -> None:
        self.title = tr("MIST: fetch photos")
        super().__init__(self.title, QgsTask.Flag.CanCancel)
        self.store_path = str(store_path)
        self.options = options
        self.on_done = on_done
        self.summary = None
        self.error: str | None = None
        self.last_progress = None

    def _progress(self, progress) -> None:
        from ..processing_provider.media_algorithms import progress_text

        self.last_progress = progress
        self.setProgress(progress.percent)
        self.setDescription(f"{self.title} — {progress_text(progress)}")

    def run(self) -> bool:
        from ..core.images.pipeline import run_fetch_media
        from ..core.store import open_store

        try:
            with open_store(self.store_path, create=False) as store:
                self.summary = run_fetch_media(store, self.options, progress=self._progress, cancel=self.isCanceled)
        except Exception as exc:  # reported in finished(), on the main thread
            self.error = str(exc) if isinstance(exc, ValueError | LookupError | OSError) \
                else f"{type(exc).__name__}: {exc}"
            return False
        return self.summary.status == "done"

    def finished(self, result: bool) -> None:
        if self.error:
            QgsMessageLog.logMessage(tr("Fetching photos failed: {e}").format(e=self.error), TAG,
                                     Qgis.MessageLevel.Critical)
        elif self.summary is not None:
            s = self.summary
            QgsMessageLog.logMessage(
                tr("Photos: {ok} fetched, {failed} failed, {skipped} skipped, {pending} pending; "
                   "{dups} near-duplicates, {frames} video frames, {located} posts placed from EXIF ({status}). "
                   "{message}").format(
                    ok=s.counts["ok"], failed=s.counts["failed"], skipped=s.counts["skipped"],
                    pending=s.media_status["pending"], dups=s.duplicates, frames=s.frames,
                    located=s.located_from_exif, status=s.status, message=s.message),
                TAG, Qgis.MessageLevel.Success if result else Qgis.MessageLevel.Warning)
        if self.on_done:
            self.on_done(self)
