"""The model manager: which models MIST can use (task, labels, size, origin), which execution
providers exist and which one a model's session really gets, and importing model packs (a zip or
a folder with a sha256 manifest) for offline teams."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qgis.core import QgsApplication, QgsTask
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QGuiApplication
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..core.models.registry import ModelEntry, ModelRegistry
from ..i18n import QT_TR_NOOP, tr

COLUMNS = (QT_TR_NOOP("Model"), QT_TR_NOOP("Task"), QT_TR_NOOP("Labels"), QT_TR_NOOP("Size"), QT_TR_NOOP("Origin"),
           QT_TR_NOOP("Provider"), QT_TR_NOOP("Licence"), QT_TR_NOOP("File"))


def _labels_text(entry: ModelEntry) -> str:
    labels = entry.card.labels
    if entry.card.is_text_encoder:  # what a text encoder offers is the languages it reads
        return tr("text encoder: {languages}").format(languages=", ".join(entry.card.languages) or "?")
    if not labels:
        return tr("— (embeddings)")
    shown = ", ".join(labels[:4])
    return f"{len(labels)}: {shown}{', …' if len(labels) > 4 else ''}"


def _size_text(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"


class ModelManagerDialog(QDialog):
    """Lists the registry; imports packs into `pack_target`; checks a model's real provider."""

    def __init__(self, registry_factory: Callable[[], ModelRegistry], pack_target: Path,
                 add_folder: Callable[[str], None] | None = None, parent=None,
                 run_task: Callable[[QgsTask], None] | None = None) -> None:
        super().__init__(parent)
        self.run_task = run_task or QgsApplication.taskManager().addTask
        self.pack_task: QgsTask | None = None
        self.setWindowTitle(tr("MIST models"))
        self.resize(900, 420)
        self.registry_factory = registry_factory
        self.pack_target = Path(pack_target)
        self.add_folder_callback = add_folder
        self.entries: list[ModelEntry] = []
        self.providers_label = QLabel()
        self.providers_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        buttons = QHBoxLayout()
        self.import_zip_button = QPushButton(tr("Import model pack (zip)…"))
        self.import_folder_button = QPushButton(tr("Import model pack (folder)…"))
        self.add_folder_button = QPushButton(tr("Add model folder…"))
        self.check_button = QPushButton(tr("Check provider"))
        self.refresh_button = QPushButton(tr("Refresh"))
        for b in (self.import_zip_button, self.import_folder_button, self.add_folder_button, self.check_button,
                  self.refresh_button):
            buttons.addWidget(b)
        self.import_zip_button.clicked.connect(self._choose_zip)
        self.import_folder_button.clicked.connect(self._choose_folder)
        self.add_folder_button.clicked.connect(self._choose_model_folder)
        self.check_button.clicked.connect(self.check_selected_provider)
        self.refresh_button.clicked.connect(self.refresh)
        self.add_folder_button.setEnabled(add_folder is not None)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.providers_label)
        layout.addWidget(self.table)
        layout.addWidget(self.problems_label)
        layout.addLayout(buttons)
        layout.addWidget(close)
        self.refresh()

    # -- listing -----------------------------------------------------------------------------

    def refresh(self) -> None:
        from ..core.models.runtime import available_providers, preferred_providers

        registry = self.registry_factory()
        self.entries = registry.refresh()
        try:
            available = ", ".join(p.replace("ExecutionProvider", "") for p in available_providers())
            preferred = preferred_providers()[0].replace("ExecutionProvider", "")
            self.providers_label.setText(
                tr("Execution providers in this ONNX Runtime: {a}. New sessions start on: {p} "
                   "(the CPU is always the fallback).").format(a=available, p=preferred))
        except ImportError:
            self.providers_label.setText(tr("ONNX Runtime is not installed: models cannot run."))
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            values = (entry.card.tag, entry.card.task, _labels_text(entry), _size_text(entry.size_bytes),
                      entry.origin, tr("not loaded"), entry.card.licence, str(entry.path))
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(entry.card.description or value)
                self.table.setItem(row, col, item)
        if registry.problems:
            lines = [f"{p.path.name}: {p.reason}" for p in registry.problems[:10]]
            self.problems_label.setText(tr("Not usable:") + "\n" + "\n".join(lines))
        else:
            self.problems_label.setText("")

    # -- provider ----------------------------------------------------------------------------

    def check_selected_provider(self) -> str | None:
        """Load the selected model's session and show the provider it really got."""
        from ..core.models.runtime import load_model

        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = rows[0].row()
        entry = self.entries[row]
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            loaded = load_model(entry.path)
        except Exception as exc:  # show the user why, keep the dialog usable
            self.table.item(row, COLUMNS.index("Provider")).setText(tr("failed"))
            QMessageBox.warning(self, tr("MIST models"), str(exc))
            return None
        finally:
            QGuiApplication.restoreOverrideCursor()
        text = loaded.provider.replace("ExecutionProvider", "")
        item = self.table.item(row, COLUMNS.index("Provider"))
        item.setText(text)
        item.setToolTip(loaded.notice)
        return text

    # -- packs and folders ---------------------------------------------------------------------

    def import_pack_from(self, source: str | Path, overwrite: bool = False) -> list[ModelEntry]:
        """Import a pack (no dialogs); raises ModelPackError with the reason on refusal."""
        from ..core.models.registry import import_pack

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            entries = import_pack(source, self.pack_target, overwrite=overwrite)
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.refresh()
        return entries

    def _import_interactive(self, source: str, overwrite: bool = False) -> None:
        """Import a chosen pack as a background task; the dialog stays usable meanwhile."""
        from .model_pack_task import ImportModelPackTask

        if not source:
            return
        self.pack_task = ImportModelPackTask(source, self.pack_target, overwrite, on_done=self._pack_done)
        for button in (self.import_zip_button, self.import_folder_button):
            button.setEnabled(False)
        self.problems_label.setText(tr("Importing {name}…").format(name=Path(source).name))
        self.run_task(self.pack_task)

    def _pack_done(self, task) -> None:
        self.pack_task = None
        for button in (self.import_zip_button, self.import_folder_button):
            button.setEnabled(True)
        self.refresh()
        if task.cancelled:
            return
        if task.error:
            if "already exists" in task.error and not task.overwrite:
                answer = QMessageBox.question(self, tr("MIST models"), task.error + "\n" + tr("Replace it?"))
                if answer == QMessageBox.StandardButton.Yes:
                    self._import_interactive(task.source, overwrite=True)
                return
            QMessageBox.warning(self, tr("Model pack refused"), task.error)
            return
        QMessageBox.information(self, tr("MIST models"), tr("Imported: {models}").format(
            models=", ".join(e.card.tag for e in task.entries)))

    def _choose_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Model pack"), "", tr("Model pack (*.zip)"))
        self._import_interactive(path)

    def _choose_folder(self) -> None:
        self._import_interactive(QFileDialog.getExistingDirectory(self, tr("Model pack folder")))

    def _choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Folder with ONNX models"))
        if folder and self.add_folder_callback:
            self.add_folder_callback(folder)
            self.refresh()
