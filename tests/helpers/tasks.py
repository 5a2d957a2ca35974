"""Running QgsTasks the way QGIS does: through the task manager, on its worker threads."""

from __future__ import annotations

import time

from qgis.core import QgsTask
from qgis.PyQt.QtCore import QCoreApplication


def wait_for_task(task: QgsTask, seconds: float = 60) -> None:
    """Process events until the task has finished or been terminated (and its `finished` ran)."""
    end = time.monotonic() + seconds
    while True:
        try:
            if task.status() in (QgsTask.TaskStatus.Complete, QgsTask.TaskStatus.Terminated):
                break
        except RuntimeError:  # the manager deletes a finished task once events run
            break
        QCoreApplication.processEvents()
        time.sleep(0.01)
        assert time.monotonic() < end, "task did not finish"
    QCoreApplication.processEvents()


class AlgorithmRun:
    """A `mist:` algorithm run as the docks run one: QGIS's Processing task runner, on a task
    manager thread, with a feedback that reports progress and takes a cancel."""

    def __init__(self, algorithm_id: str, parameters: dict) -> None:
        from qgis.core import (
            QgsApplication,
            QgsProcessingAlgRunnerTask,
            QgsProcessingContext,
            QgsProcessingFeedback,
            QgsProject,
        )

        self.algorithm = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
        assert self.algorithm is not None, f"{algorithm_id} is not registered"
        self.context = QgsProcessingContext()
        self.context.setProject(QgsProject())
        self.feedback = QgsProcessingFeedback()
        self.progress: list[float] = []
        self.feedback.progressChanged.connect(self.progress.append)
        self.ok: bool | None = None
        self.results: dict = {}
        self.task = QgsProcessingAlgRunnerTask(self.algorithm, parameters, self.context, self.feedback)
        self.task.executed.connect(self._executed)

    def _executed(self, ok: bool, results: dict) -> None:
        self.ok, self.results = ok, dict(results)

    def start(self) -> AlgorithmRun:
        from qgis.core import QgsApplication

        QgsApplication.taskManager().addTask(self.task)
        return self

    def wait(self, seconds: float = 120) -> AlgorithmRun:
        end = time.monotonic() + seconds
        while self.ok is None:
            QCoreApplication.processEvents()
            time.sleep(0.01)
            assert time.monotonic() < end, "algorithm task did not finish"
        return self
