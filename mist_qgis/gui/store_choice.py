"""The *Store…* menu the docks share: a GeoPackage file, a PostgreSQL connection saved in QGIS
(`qgis:NAME`, its credentials in QGIS's authentication manager) or a team store typed as a
connection (`service=…`, `postgresql://…`, `qgis:…`). A connection with a password in it is
refused: the project, Processing's history and the run records keep the store's name.
"""

from __future__ import annotations

from collections.abc import Callable

from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QFileDialog, QInputDialog, QMenu, QWidget

from ..core.store import StoreError
from ..core.store.pg import refuse_password
from ..i18n import tr
from ..pg_connections import is_team_target, saved_connections


def store_problem(target: str) -> str | None:
    """Why a store cannot be recorded as the project's (a team store's connection holding a
    password), in one line; None when it can."""
    try:
        refuse_password(target)
    except StoreError as exc:
        return str(exc)
    return None


class StoreMenu(QMenu):
    """A menu for a dock's store button. `chosen` fires with the store as the project records
    it; `refused` with one line when a typed connection is not a team store or holds a password.
    `new_file`: the GeoPackage may be a new one (created by the step); `start()` gives the store
    to start from (the project's)."""

    chosen = pyqtSignal(str)
    refused = pyqtSignal(str)

    def __init__(self, parent: QWidget, start: Callable[[], str], new_file: bool = False) -> None:
        super().__init__(parent)
        self.start = start
        self.new_file = new_file
        self.aboutToShow.connect(self.fill)

    def fill(self) -> None:
        """Filled each time it opens: the saved connections are QGIS's, and change."""
        self.clear()
        self.addAction(tr("GeoPackage file…"), self.choose_file)
        names = saved_connections()
        if names:
            self.addSection(tr("Team stores (PostgreSQL connections of QGIS)"))
            for name in names:
                self.addAction(name, lambda n=name: self.chosen.emit(f"qgis:{n}"))
        self.addSeparator()
        self.addAction(tr("Team store by connection…"), self.choose_connection)

    def choose_file(self) -> None:
        start = self.start()
        start = "" if is_team_target(start) else start
        if self.new_file:
            path, _ = QFileDialog.getSaveFileName(
                self.parentWidget(), tr("MIST store"), start, tr("GeoPackage (*.gpkg)"),
                options=QFileDialog.Option.DontConfirmOverwrite)
            if path and not path.lower().endswith(".gpkg"):
                path += ".gpkg"
        else:
            path, _ = QFileDialog.getOpenFileName(self.parentWidget(), tr("Open a MIST store"), start,
                                                  tr("GeoPackage (*.gpkg)"))
        if path:
            self.chosen.emit(path)

    def choose_connection(self) -> None:
        text, ok = QInputDialog.getText(
            self.parentWidget(), tr("Open a team store"),
            tr("service=NAME (pg_service.conf), postgresql://user@host/db or qgis:CONNECTION; no password:"))
        text = text.strip()
        if not ok or not text:
            return
        if not is_team_target(text):
            self.refused.emit(tr("Not a team store: use service=…, postgresql://… or qgis:…"))
            return
        problem = store_problem(text)
        if problem:
            self.refused.emit(problem)
            return
        self.chosen.emit(text)
