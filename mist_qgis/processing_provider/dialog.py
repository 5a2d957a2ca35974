"""The Processing dialog of every MIST algorithm: Processing's own, except that a cancelled run
ends with MIST's "Cancelled." line instead of "Execution failed after …".

QGIS's task runner reports every cancelled run as unsuccessful, and Processing's dialog (3.22
and 3.40 alike) then logs it as a failure in red. A cancel is what the analyst asked for: the log
says so once, in the words `base.cancelled_message` uses, and nothing is called failed.

The batch dialog needs nothing of this: Processing creates it itself (no algorithm hook), and
from QGIS 3.26 on it ends a cancelled row as "canceled" and stops; the algorithm's "Cancelled."
line is then the only word from MIST (tests/gui/test_algorithm_dialogs.py checks both dialogs).
"""

from __future__ import annotations

from collections.abc import Callable

from qgis.PyQt.QtCore import QCoreApplication

# The dialog's failure line, as 3.22 (`'Execution failed after'`, then the time) and 3.40
# (`"Execution failed after {}"`, translated) write it.
_FAILED = ("Execution failed after", "Execution failed after {}")


def failure_prefixes() -> tuple[str, ...]:
    """The starts of Processing's failure line, in English and in the interface language."""
    out = {_FAILED[0]}
    for text in _FAILED:
        out.add(QCoreApplication.translate("AlgorithmDialog", text).split("{}")[0].strip())
    return tuple(p for p in out if p)


def quiet_cancel(feedback, cancelled_message: Callable[[], str]):
    """Make `feedback` (a dialog's) say "Cancelled." instead of the failure line after a cancel:
    once, whether or not the algorithm had started and said it itself."""
    report = feedback.reportError
    prefixes = failure_prefixes()
    said = {"cancelled": False}

    def report_error(error: str, fatalError: bool = False) -> None:  # noqa: N803 (Qt's name)
        if feedback.isCanceled():
            if str(error).startswith(prefixes):
                if not said["cancelled"]:
                    said["cancelled"] = True
                    report(cancelled_message(), False)
                return
            if str(error) == cancelled_message():
                if said["cancelled"]:
                    return
                said["cancelled"] = True
        report(error, fatalError)

    feedback.reportError = report_error
    return feedback


def algorithm_dialog(algorithm, cancelled_message: Callable[[], str], parent=None):
    """Processing's dialog for `algorithm`, with the quiet cancel above."""
    from processing.gui.AlgorithmDialog import AlgorithmDialog

    class MistAlgorithmDialog(AlgorithmDialog):
        def createFeedback(self):  # noqa: N802
            return quiet_cancel(super().createFeedback(), cancelled_message)

    return MistAlgorithmDialog(algorithm, parent=parent)
