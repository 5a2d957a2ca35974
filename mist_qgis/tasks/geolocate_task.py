"""Photo geolocation in the background: a QgsTask around `core.geoloc.locate.geolocate` (and
optionally the text gazetteer step first), with progress and cancel.

`run()` takes plain data (store path, options, a core `Gazetteer` already converted from a
layer on the main thread), opens its own store connection in the worker thread, and never
touches widgets or the project; `finished()` reports and calls `on_done`, where the caller may
add the `geolocations` layer. A cancelled run keeps every post already done; starting it again
resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qgis.core import Qgis, QgsMessageLog, QgsTask

from ..i18n import tr
from ..log import TAG


class GeolocateTask(QgsTask):
    """Geolocate the pending posts of a store against its reference imagery."""

    def __init__(self, store_path: str | Path, options, gazetteer=None,
                 on_done: Callable[[GeolocateTask], None] | None = None) -> None:
        super().__init__(tr("MIST: geolocate photos ({matcher})").format(matcher=options.matcher),
                         QgsTask.Flag.CanCancel)
        self.store_path = str(store_path)
        self.options = options
        self.gazetteer = gazetteer
        self.on_done = on_done
        self.result = None
        self.text_placed = 0
        self.error: str | None = None

    def run(self) -> bool:
        from ..core.geoloc.candidates import geocode_posts
        from ..core.geoloc.locate import geolocate
        from ..core.store import open_store

        try:
            with open_store(self.store_path, create=False) as store:
                if self.gazetteer is not None:
                    self.setProgress(0.0)
                    self.text_placed = geocode_posts(store, self.gazetteer, is_cancelled=self.isCanceled).placed
                self.result = geolocate(store, self.options, progress=self.setProgress, is_cancelled=self.isCanceled)
        except Exception as exc:  # reported in finished(), on the main thread
            self.error = f"{type(exc).__name__}: {exc}"
            return False
        return self.result.status == "done"

    def finished(self, result: bool) -> None:
        if self.error:
            QgsMessageLog.logMessage(tr("Geolocation failed: {e}").format(e=self.error), TAG,
                                     Qgis.MessageLevel.Critical)
        elif self.result is not None:
            c = self.result.counts
            QgsMessageLog.logMessage(
                tr("Geolocation ({status}): {moved} posts moved, {unmatched} unmatched, {skipped} skipped, "
                   "{failed} failed; {note}").format(status=self.result.status, moved=c.get("moved", 0),
                                                     unmatched=c.get("unmatched", 0), skipped=c.get("skipped", 0),
                                                     failed=c.get("failed", 0), note=self.result.mask_note),
                TAG, Qgis.MessageLevel.Success if result else Qgis.MessageLevel.Warning)
        if self.on_done:
            self.on_done(self)
