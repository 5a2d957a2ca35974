"""*MIST › Install dependencies…*: installs the run-time packages into this QGIS profile, from the
package index or from an offline wheelhouse (a folder or zip of wheels), with progress and
cancel, and says which ONNX Runtime build it picks and why. The work is core/runtime_install.py,
run by gui/install_task.py."""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import QgsTask
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)

from ..core.gpu import probe_nvidia_gpu
from ..core.runtime_install import OnnxChoice, Source, choose_onnxruntime, installed_record, runtime_dir
from ..i18n import tr
from .install_task import InstallRuntimeTask


class InstallDependenciesDialog(QDialog):
    """Choose the source, start the install task, follow it, report the outcome in plain words."""

    def __init__(self, profile_dir: str, version: str, start_task: Callable[[QgsTask], None], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("MIST: install dependencies"))
        self.profile_dir = profile_dir
        self.version = version
        self.start_task = start_task
        self.task: InstallRuntimeTask | None = None
        self.installed = False
        self.probe = probe_nvidia_gpu()

        layout = QVBoxLayout(self)
        folder = runtime_dir(profile_dir, version)
        record = installed_record(profile_dir, version)
        where = tr("MIST {version} installs its Python packages into {folder}. QGIS's own packages "
                   "(numpy, GDAL, Qt) are kept as they are.").format(version=version, folder=folder)
        if record:
            where += "\n" + tr("Installed already ({build}); installing again replaces it.").format(
                build=record.get("onnxruntime", "?"))
        intro = QLabel(where)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.online = QRadioButton(tr("From the Python package index (needs the internet)"))
        self.offline = QRadioButton(tr("From a wheelhouse folder or zip (offline)"))
        self.online.setChecked(True)
        layout.addWidget(self.online)
        layout.addWidget(self.offline)
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setPlaceholderText(tr("Folder or .zip of wheels"))
        browse_folder = QPushButton(tr("Folder…"))
        browse_zip = QPushButton(tr("Zip…"))
        browse_folder.clicked.connect(self._browse_folder)
        browse_zip.clicked.connect(self._browse_zip)
        for widget in (self.path, browse_folder, browse_zip):
            row.addWidget(widget)
        layout.addLayout(row)

        self.cpu_only = QCheckBox(tr("Install the CPU build even if a GPU is present"))
        self.cpu_only.toggled.connect(self._show_choice)
        layout.addWidget(self.cpu_only)
        self.choice_label = QLabel()
        self.choice_label.setWordWrap(True)
        layout.addWidget(self.choice_label)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        layout.addWidget(self.progress)
        # What pip is doing, then the outcome (a failure takes four lines): a read-only text box
        # that keeps its size and can be copied into a message to support.
        self.status = QPlainTextEdit()
        self.status.setReadOnly(True)
        self.status.setMinimumHeight(6 * self.status.fontMetrics().lineSpacing())
        layout.addWidget(self.status)

        self.buttons = QDialogButtonBox()
        self.install_button = self.buttons.addButton(tr("Install"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(tr("Cancel install"), QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.cancel_button.setEnabled(False)
        self.install_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        self._show_choice()
        self.resize(max(560, self.sizeHint().width()), self.sizeHint().height())

    # -- choices ------------------------------------------------------------------------------------

    def choice(self) -> OnnxChoice:
        return choose_onnxruntime(self.probe, force_cpu=self.cpu_only.isChecked())

    def _show_choice(self) -> None:
        choice = self.choice()
        build = tr("GPU build (onnxruntime-gpu with CUDA)") if choice.gpu else tr("CPU build (onnxruntime)")
        self.choice_label.setText(tr("ONNX Runtime: {build}. Why: {reason}.").format(build=build, reason=choice.reason))

    def source(self) -> Source | None:
        if self.online.isChecked():
            return Source.index()
        text = self.path.text().strip()
        return Source.wheelhouse(text) if text else None

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Wheelhouse folder"))
        if folder:
            self.path.setText(folder)
            self.offline.setChecked(True)

    def _browse_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Wheelhouse zip"), "", tr("Zip files (*.zip)"))
        if path:
            self.path.setText(path)
            self.offline.setChecked(True)

    # -- running ------------------------------------------------------------------------------------

    def start(self) -> None:
        source = self.source()
        if source is None:
            self.status.setPlainText(tr("Choose the wheelhouse folder or zip first."))
            return
        self.task = InstallRuntimeTask(self.profile_dir, self.version, source, self.choice(), on_done=self._done)
        self.task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        self.task.step.connect(self.status.setPlainText)
        self.install_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setPlainText(tr("Starting…"))
        self.start_task(self.task)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setPlainText(tr("Cancelling…"))

    def _done(self, task: InstallRuntimeTask) -> None:
        self.install_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.task = None
        if task.result is not None:
            self.installed = True
            self.progress.setValue(100)
            self.status.setPlainText(tr("Installed {n} packages ({build}; QGIS's own {kept} kept). "
                                        "Execution providers: {providers}. MIST can use them now.").format(
                n=len(task.result.installed), build=task.result.choice.distribution,
                kept=len(task.result.reused), providers=", ".join(task.result.providers) or "?"))
        elif task.cancelled:
            self.progress.setValue(0)
            self.status.setPlainText(tr("Cancelled. Nothing was changed."))
        elif task.error is not None:
            self.progress.setValue(0)
            error = task.error
            lines = [tr("The installation failed. Nothing was changed.")]
            if error.package:
                lines.append(tr("Package: {name}").format(name=error.package))
            lines += [tr("Why: {reason}").format(reason=error.reason),
                      tr("What to do: {action}").format(action=error.action)]
            self.status.setPlainText("\n".join(lines))
        else:
            self.progress.setValue(0)
            self.status.setPlainText(tr("The installation failed. Nothing was changed.") + f"\n{task.failure}")
