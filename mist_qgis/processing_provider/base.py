"""Shared plumbing for MIST's Processing algorithms."""

from __future__ import annotations

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingParameterFile
from qgis.PyQt.QtGui import QIcon

from ..core.store import StoreError
from ..core.store.pg import refuse_password
from ..i18n import QT_TR_NOOP, tr
from ..paths import icon_path
from ..pg_connections import open_store_target


def store_parameter(description: str, optional: bool = False) -> QgsProcessingParameterFile:
    """Parameter "STORE": a GeoPackage file or a team store's PostgreSQL connection. No file
    filter (with one, Processing refuses `service=NAME` and `postgresql://...` values)."""
    param = QgsProcessingParameterFile("STORE", description, optional=optional)
    param.setFileFilter("")
    return param


class MistAlgorithm(QgsProcessingAlgorithm):
    """Subclasses set `_name`, `_display_name`, `_group`, `_short_help` and implement the rest."""

    _name = ""
    _display_name = ""
    _group = QT_TR_NOOP("Store")
    _short_help = ""

    def name(self) -> str:
        return self._name

    def displayName(self) -> str:  # noqa: N802
        return tr(self._display_name)

    def group(self) -> str:
        return tr(self._group)

    def groupId(self) -> str:  # noqa: N802
        return self._group.lower().replace(" ", "")

    def shortHelpString(self) -> str:  # noqa: N802
        return tr(self._short_help)

    def icon(self) -> QIcon:
        return QIcon(str(icon_path()))

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802
        return type(self)()

    def add_store_parameter(self, optional: bool = False) -> None:
        """The existing store a stage reads and writes (parameter "STORE"): a GeoPackage file or
        a team store's PostgreSQL connection (`service=NAME`, `postgresql://...`), so no
        extension filter; open it with `open_store_or_fail`."""
        self.addParameter(store_parameter(tr("Store"), optional))

    @staticmethod
    def open_store_or_fail(path: str, create: bool = False):
        """Open a store, turning store errors into the exception Processing reports cleanly."""
        if not path:
            raise QgsProcessingException(tr("No store given: choose a MIST GeoPackage store."))
        try:
            refuse_password(path)
            return open_store_target(path, create=create)
        except StoreError as exc:
            raise QgsProcessingException(str(exc)) from exc
