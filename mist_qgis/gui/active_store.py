"""The one active store: chosen once per project (saved with the project file), shared by the
docks and every MIST dialog. A project without one falls back to the store used last."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProject
from qgis.PyQt.QtCore import QObject, pyqtSignal

from .. import settings
from ..pg_connections import store_target

SCOPE, KEY = "MIST", "store"
RECENT_LIMIT = 8  # stores remembered beside the active one (the Browser's MIST node lists them)


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
    path = store_target(path)  # a team store's connection stays as it is
    settings.set_value("store_path", path)
    recent = [path] + [s for s in settings.value("recent_stores") if s != path]
    settings.set_value("recent_stores", recent[:RECENT_LIMIT])
    value, found = project.readEntry(SCOPE, KEY, "")
    if found and value == path:
        return
    project.writeEntry(SCOPE, KEY, path)
    NOTIFIER.changed.emit(path)


def recent_stores(active: str | None = None) -> list[str]:
    """The stores used recently, the project's active one first (`active`, else looked up)."""
    first = active_store() if active is None else active
    return list(dict.fromkeys(s for s in [first, *settings.value("recent_stores")] if s))
