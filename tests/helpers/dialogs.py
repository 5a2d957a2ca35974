"""Answering Qt's modal dialogs in widget tests, as the analyst would."""

from __future__ import annotations


def answer_input_dialog(text: str) -> None:
    """Type `text` into the next input dialog (`QInputDialog.getText`) and press OK."""
    from qgis.PyQt.QtCore import QTimer
    from qgis.PyQt.QtWidgets import QApplication, QInputDialog

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, answer)
            return
        dialog.setTextValue(text)
        dialog.accept()

    QTimer.singleShot(0, answer)
