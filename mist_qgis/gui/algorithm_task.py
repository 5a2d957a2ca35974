"""A `mist:` algorithm run from a dock: QGIS's Processing task runner (`QgsProcessingAlgRunnerTask`)
on a task manager thread, so the step is the same one the Processing dialog, a model and the CLI
run, with the task manager's progress bar and cancel.

QGIS keeps no Python reference to the context, the feedback or the task: this object holds all
three for as long as the dock holds it. `on_executed` runs on the main thread when the task ends:
after a success, once the algorithm's `postProcessAlgorithm` ran (the store's layers have
repainted); after a cancel, with the results the algorithm still returned (`ok` is then False).
"""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import (
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
)

from ..i18n import tr
from ..processing_provider.base import cancelled_message, error_line


class ErrorFeedback(QgsProcessingFeedback):
    """A feedback that keeps the errors the algorithm reports (the task runner reports the
    algorithm's exception there too), so a dock can say why a step failed in the algorithm's own
    words; the task itself only says that it failed."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        super().reportError(error, fatalError)
        self.errors.append(error)


class AlgorithmTask:
    """One run of a registered algorithm on QGIS's task runner; `start` hands the task to
    `start_task` (the plugin's, which keeps a reference until it ends)."""

    def __init__(self, algorithm_id: str, parameters: dict, project: QgsProject | None = None,
                 on_executed: Callable[[AlgorithmTask], None] | None = None) -> None:
        algorithm = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
        if algorithm is None:
            raise ValueError(tr("Processing algorithm {id} is not registered").format(id=algorithm_id))
        self.algorithm = algorithm
        self.parameters = dict(parameters)
        self.context = QgsProcessingContext()
        self.context.setProject(project or QgsProject.instance())
        self.feedback = ErrorFeedback()
        self.on_executed = on_executed
        self.ok: bool | None = None
        self.results: dict = {}
        self.task = QgsProcessingAlgRunnerTask(algorithm, self.parameters, self.context, self.feedback)
        self.task.executed.connect(self._executed)

    def start(self, start_task: Callable) -> AlgorithmTask:
        start_task(self.task)
        return self

    def cancel(self) -> None:
        """Ask the algorithm to stop; it stops between items and keeps what it saved."""
        self.feedback.cancel()

    @property
    def finished(self) -> bool:
        return self.ok is not None

    @property
    def cancelled(self) -> bool:
        return self.feedback.isCanceled()

    @property
    def error(self) -> str | None:
        """Why the run failed, in one line; None while it runs or when it succeeded. A run
        cancelled before it started (the task manager never runs it) says so."""
        if self.ok is not False:
            return None
        if self.feedback.errors:
            return error_line(self.feedback.errors[-1])
        if self.cancelled:
            return cancelled_message()
        return tr("The step failed; see the Processing log for details.")

    def _executed(self, ok: bool, results: dict) -> None:
        self.ok, self.results = bool(ok), dict(results or {})
        if self.on_executed is not None:
            self.on_executed(self)
