"""Importing a model pack in the background: copying and hashing a pack of large ONNX files takes
seconds to minutes, so it runs as a QgsTask with progress and cancel. A cancelled or refused
import leaves nothing behind (`import_pack` stages into a temporary folder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qgis.core import QgsTask

from ..i18n import tr


class ImportModelPackTask(QgsTask):
    """Import one pack (zip or folder) into the profile's model folder."""

    def __init__(self, source: str | Path, target: str | Path, overwrite: bool = False,
                 on_done: Callable[[ImportModelPackTask], None] | None = None) -> None:
        super().__init__(tr("MIST: import model pack {name}").format(name=Path(source).name),
                         QgsTask.Flag.CanCancel)
        self.source = str(source)
        self.target = str(target)
        self.overwrite = overwrite
        self.on_done = on_done
        self.entries: list = []
        self.error: str | None = None
        self.cancelled = False

    def run(self) -> bool:
        from ..core.errors import Cancelled
        from ..core.models.registry import ModelPackError, import_pack

        try:
            self.entries = import_pack(self.source, self.target, overwrite=self.overwrite,
                                       progress=self.setProgress,
                                       is_cancelled=self.isCanceled)
        except Cancelled:
            self.cancelled = True
            return False
        except (ModelPackError, OSError) as exc:
            self.error = str(exc)
            return False
        except Exception as exc:  # reported in finished(), on the main thread
            self.error = f"{type(exc).__name__}: {exc}"
            return False
        return True

    def finished(self, result: bool) -> None:
        if self.on_done:
            self.on_done(self)
