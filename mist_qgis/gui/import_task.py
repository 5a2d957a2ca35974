"""Post import in the background: a QgsTask around `import_posts`.

`run()` takes plain data (paths, store path, ImportOptions), opens its own store connection in
the worker thread, reports progress and stops between records when cancelled (what was read so
far is committed; importing again completes it). `finished()` runs on the main thread and adds or
refreshes the styled posts layer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qgis.core import Qgis, QgsMessageLog, QgsTask

from ..core.stage import Status
from ..i18n import tr
from ..log import TAG


class ImportPostsTask(QgsTask):
    """Import post collections into one store, then show the posts layer."""

    def __init__(self, paths: list[str], store_path: str | Path, options=None, add_layer: bool = True,
                 project=None, on_done: Callable[[ImportPostsTask], None] | None = None) -> None:
        from ..core.posts.importer import ImportOptions

        super().__init__(tr("MIST: import posts"), QgsTask.Flag.CanCancel)
        self.paths = [str(p) for p in paths]
        self.store_path = str(store_path)
        self.options = options or ImportOptions()
        self.add_layer = add_layer
        self.project = project
        self.on_done = on_done
        self.summary = None
        self.error: str | None = None
        self.layer = None

    def run(self) -> bool:
        from ..core.posts.importer import import_posts
        from ..core.posts.issues import NotAPostCollection
        from ..core.store import StoreError, open_store

        try:
            with open_store(self.store_path) as store:
                self.summary = import_posts(
                    store, self.paths, self.options,
                    progress=self.setProgress, is_cancelled=self.isCanceled)
        except (NotAPostCollection, StoreError, ValueError, OSError) as exc:
            self.error = str(exc)
            return False
        except Exception as exc:  # reported in finished(), on the main thread
            self.error = f"{type(exc).__name__}: {exc}"
            return False
        return self.summary.status == Status.DONE

    def finished(self, result: bool) -> None:
        from ..qgis_ops.layers import add_posts_layer

        if self.error:
            QgsMessageLog.logMessage(tr("Import failed: {e}").format(e=self.error), TAG, Qgis.MessageLevel.Critical)
        elif self.summary is not None:
            QgsMessageLog.logMessage(self.summary.message, TAG,
                                     Qgis.MessageLevel.Success if result else Qgis.MessageLevel.Warning)
            if self.add_layer and (self.summary.imported or self.summary.unlocated or self.summary.duplicates):
                try:
                    self.layer = add_posts_layer(self.store_path, self.project)
                except ValueError as exc:
                    self.error = str(exc)
        if self.on_done:
            self.on_done(self)
