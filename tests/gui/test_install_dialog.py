"""*MIST › Install dependencies…* offscreen: it says which ONNX Runtime build it picks and why,
runs the installer as a task, and reports a failure in plain words with nothing installed."""

from __future__ import annotations

from qgis.core import QgsApplication

from mist_qgis.core import runtime_install as ri
from mist_qgis.gui.install_dialog import InstallDependenciesDialog
from tests.helpers.tasks import wait_for_task
from tests.unit.test_runtime_install import make_wheel


def open_dialog(qtbot, profile):
    started = []

    def start(task):
        started.append(task)
        QgsApplication.taskManager().addTask(task)

    dialog = InstallDependenciesDialog(str(profile), "9.9.9", start)
    qtbot.addWidget(dialog)
    return dialog, started


def test_says_which_build_and_why(qtbot, tmp_path):
    dialog, _ = open_dialog(qtbot, tmp_path)
    dialog.probe = ri.GpuProbe(False, "no NVIDIA driver is installed (libcuda cannot be loaded)")
    dialog._show_choice()
    assert "CPU build (onnxruntime)" in dialog.choice_label.text()
    assert "no NVIDIA driver" in dialog.choice_label.text()
    dialog.probe = ri.GpuProbe(True, "NVIDIA GPU with a working driver: RTX 4000", ("RTX 4000",))
    dialog._show_choice()
    assert "GPU build" in dialog.choice_label.text() and "RTX 4000" in dialog.choice_label.text()
    dialog.cpu_only.setChecked(True)
    assert "CPU build" in dialog.choice_label.text() and "asked for" in dialog.choice_label.text()


def test_a_wheelhouse_without_a_package_is_reported_in_plain_words(qtbot, tmp_path):
    house = tmp_path / "wheelhouse"
    make_wheel(house, "mistprobe_b", "2.0")  # none of MIST's packages
    dialog, started = open_dialog(qtbot, tmp_path / "profile")
    dialog.offline.setChecked(True)
    dialog.path.setText(str(house))
    dialog.cpu_only.setChecked(True)
    dialog.start()
    assert not dialog.install_button.isEnabled() and dialog.cancel_button.isEnabled()
    wait_for_task(started[0], 600)
    qtbot.waitUntil(lambda: dialog.install_button.isEnabled(), timeout=10_000)
    text = dialog.status.toPlainText()
    assert "The installation failed. Nothing was changed." in text
    assert "Package:" in text and "Why:" in text and "What to do:" in text
    assert not dialog.installed
    assert ri.activate(tmp_path / "profile", "9.9.9", []) is None


def test_no_source_chosen_asks_for_one(qtbot, tmp_path):
    dialog, started = open_dialog(qtbot, tmp_path)
    dialog.offline.setChecked(True)
    dialog.start()
    assert started == [] and "wheelhouse" in dialog.status.toPlainText()
