"""The one active store: chosen once per project (saved with the project file), shared by the
docks and every MIST dialog. A project without one falls back to the store used last."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProject
from qgis.PyQt.QtCore import QObject, pyqtSignal

from .. import settings

SCOPE, KEY = "MIST", "store"


class _Notifier(QObject):
    changed = pyqtSignal(str)


NOTIFIER = _Notifier()  # `NOTIFIER.changed` fires with the new active store's path


def active_store(project: QgsProject | None = None) -> str:
    """The project's store, else the last store used anywhere; '' when there is none."""
    project = project or QgsProject.instance()
    value, found = project.readEntry(SCOPE, KEY, "")
    if found and value:
        return value
    return settings.value("store_path") or ""


def set_active_store(path: str | Path, project: QgsProject | None = None) -> None:
    """Make a store the active one for the project (and the default for new projects)."""
    project = project or QgsProject.instance()
    path = str(Path(path).resolve())
    settings.set_value("store_path", path)
    value, found = project.readEntry(SCOPE, KEY, "")
    if found and value == path:
        return
    project.writeEntry(SCOPE, KEY, path)
    NOTIFIER.changed.emit(path)
