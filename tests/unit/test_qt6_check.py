"""The Qt 6 readiness check fails on what QGIS 4 would reject, and passes on the plugin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QT6_PYTHON = REPO / ".venv-qt6" / "bin" / "python"
CHECK = REPO / "scripts" / "qt6_check.py"

BAD = '''
from qgis.core import QgsTask
from qgis.PyQt.QtCore import Qt, QVariant
from qgis.PyQt.QtWidgets import QDialog, QDialogButtonBox

align = Qt.AlignLeft
role = QDialogButtonBox.ButtonRole.AcceptRole
kind = QVariant.Int
flags = QgsTask.CanCancel
QDialog().exec_()
'''


def run(python: Path | str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), str(CHECK), *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def qt6_python():
    if not QT6_PYTHON.is_file():
        pytest.skip("no .venv-qt6 (scripts/setup_qt6.sh makes it; make qt6-check and CI run it)")
    return QT6_PYTHON


def test_unscoped_qt_enums_and_removed_names_fail_in_pyqt6(qt6_python, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(BAD)
    done = run(qt6_python, "--qt", str(bad))
    assert done.returncode == 1
    assert "bad.py:6: Qt.AlignLeft: no 'AlignLeft' in PyQt6" in done.stdout
    assert "QVariant.Int" in done.stdout and "exec_()" in done.stdout
    assert "ButtonRole" not in done.stdout  # the scoped one resolves


def test_the_plugin_passes_the_pyqt6_check(qt6_python):
    done = run(qt6_python, "--qt", str(REPO / "mist_qgis"))
    assert done.returncode == 0, done.stdout


def test_unscoped_qgis_enums_fail_and_the_plugin_passes(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(BAD)
    done = run(sys.executable, "--qgis", str(bad))
    assert done.returncode == 1
    assert "bad.py:9: QgsTask.CanCancel: unscoped enum, use QgsTask.Flag.CanCancel" in done.stdout
    done = run(sys.executable, "--qgis", str(REPO / "mist_qgis"))
    assert done.returncode == 0, done.stdout
