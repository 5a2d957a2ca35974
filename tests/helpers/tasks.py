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
