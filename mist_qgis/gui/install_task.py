"""Installing MIST's run-time packages in the background: resolving, downloading or unpacking
wheels and verifying them takes a minute or more, so it runs as a QgsTask with progress and
cancel. A cancelled or failed install leaves the profile as it was (`install_runtime` stages
into a temporary folder and renames only a verified one into place)."""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from ..core.errors import Cancelled
from ..core.runtime_install import InstallError, InstallResult, OnnxChoice, Source, install_runtime
from ..i18n import tr


class InstallRuntimeTask(QgsTask):
    """Install the run-time set for one MIST version into one QGIS profile."""

    step = pyqtSignal(str)  # what pip is doing now, for the dialog (queued to the main thread)

    def __init__(self, profile_dir: str, version: str, source: Source, choice: OnnxChoice,
                 on_done: Callable[[InstallRuntimeTask], None] | None = None) -> None:
        super().__init__(tr("MIST: install dependencies"), QgsTask.Flag.CanCancel)
        self.profile_dir = profile_dir
        self.version = version
        self.source = source
        self.choice = choice
        self.on_done = on_done
        self.result: InstallResult | None = None
        self.error: InstallError | None = None
        self.failure: str | None = None
        self.cancelled = False

    def _progress(self, fraction: float, message: str) -> None:
        self.setProgress(100.0 * fraction)
        self.step.emit(message)

    def run(self) -> bool:
        try:
            self.result = install_runtime(self.profile_dir, self.version, self.source, self.choice,
                                          progress=self._progress, cancelled=self.isCanceled)
        except Cancelled:
            self.cancelled = True
            return False
        except InstallError as exc:
            self.error = exc
            return False
        except Exception as exc:  # reported in finished(), on the main thread
            self.failure = f"{type(exc).__name__}: {exc}"
            return False
        return True

    def finished(self, result: bool) -> None:
        if self.on_done:
            self.on_done(self)
