"""Photo screening in the background: a QgsTask around `classify_store` with progress and cancel.

`run()` takes plain data (store path, model path), opens its own store connection in the worker
thread and gets its own cached ONNX session there; it never touches widgets or the project.
A cancelled run keeps every finished batch; starting it again resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qgis.core import Qgis, QgsMessageLog, QgsTask

from ..i18n import tr
from ..log import TAG


class ClassifyTask(QgsTask):
    """Classify every fetched photo of a store with one model (image classifier or head)."""

    def __init__(self, store_path: str | Path, model_path: str | Path, batch_size: int = 32,
                 resolve_model: Callable[[str], Path] | None = None,
                 on_done: Callable[[ClassifyTask], None] | None = None) -> None:
        super().__init__(tr("MIST: classify photos with {model}").format(model=Path(model_path).name),
                         QgsTask.Flag.CanCancel)
        self.store_path = str(store_path)
        self.model_path = str(model_path)
        self.batch_size = batch_size
        self.resolve_model = resolve_model
        self.on_done = on_done
        self.result = None
        self.error: str | None = None

    def _progress(self, done: int, total: int) -> None:
        self.setProgress(100.0 * done / total if total else 100.0)

    def run(self) -> bool:
        from ..core.models.classify import classify_store
        from ..core.store import open_store

        try:
            with open_store(self.store_path, create=False) as store:
                self.result = classify_store(
                    store, self.model_path, batch_size=self.batch_size, cancel=self.isCanceled,
                    progress=self._progress, resolve_model=self.resolve_model,
                )
        except Exception as exc:  # reported in finished(), on the main thread
            self.error = str(exc) if isinstance(exc, ValueError | LookupError | OSError) \
                else f"{type(exc).__name__}: {exc}"
            return False
        return self.result.status == "done"

    def finished(self, result: bool) -> None:
        if self.error:
            QgsMessageLog.logMessage(tr("Classification failed: {e}").format(e=self.error), TAG,
                                     Qgis.MessageLevel.Critical)
        elif self.result is not None:
            r = self.result
            QgsMessageLog.logMessage(
                tr("{model}: {n} photos classified, {s} skipped ({status}); {notice}").format(
                    model=r.model, n=r.classified, s=r.skipped, status=r.status, notice=r.notice),
                TAG, Qgis.MessageLevel.Success if result else Qgis.MessageLevel.Warning)
        if self.on_done:
            self.on_done(self)
