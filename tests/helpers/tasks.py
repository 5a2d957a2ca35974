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
    """A `mist:` algorithm run as the docks run one (`mist_qgis.gui.algorithm_task.AlgorithmTask`:
    QGIS's Processing task runner on a task manager thread), in a project of its own, with the
    progress the feedback reported."""

    def __init__(self, algorithm_id: str, parameters: dict) -> None:
        from qgis.core import QgsProject

        from mist_qgis.gui.algorithm_task import AlgorithmTask

        self.project = QgsProject()
        self.run = AlgorithmTask(algorithm_id, parameters, self.project)
        self.feedback = self.run.feedback
        self.task = self.run.task
        self.progress: list[float] = []
        self.feedback.progressChanged.connect(self.progress.append)

    @property
    def ok(self) -> bool | None:
        return self.run.ok

    @property
    def results(self) -> dict:
        return self.run.results

    def start(self) -> AlgorithmRun:
        from qgis.core import QgsApplication

        self.run.start(QgsApplication.taskManager().addTask)
        return self

    def wait(self, seconds: float = 120) -> AlgorithmRun:
        end = time.monotonic() + seconds
        while not self.run.finished:
            QCoreApplication.processEvents()
            time.sleep(0.01)
            assert time.monotonic() < end, "algorithm task did not finish"
        return self
