"""Shared plumbing for MIST's Processing algorithms."""

from __future__ import annotations

import functools

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
)
from qgis.PyQt.QtGui import QIcon

from ..core.errors import MistError
from ..core.options import Choices
from ..core.store import StoreError, open_store
from ..i18n import QT_TR_NOOP, tr
from ..paths import icon_path


class MistAlgorithm(QgsProcessingAlgorithm):
    """Subclasses set `_name`, `_display_name`, `_group`, `_short_help` and implement the rest.

    A `MistError` (a problem the user can fix) leaving a subclass's `processAlgorithm` becomes a
    `QgsProcessingException` with its one-line message; anything else stays a failure with its
    traceback, which the CLI reports as an internal error.
    """

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        process = cls.__dict__.get("processAlgorithm")
        if process is None:
            return

        @functools.wraps(process)
        def process_reporting_user_errors(self, parameters, context, feedback):
            try:
                return process(self, parameters, context, feedback)
            except MistError as exc:
                raise QgsProcessingException(str(exc)) from exc

        cls.processAlgorithm = process_reporting_user_errors

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
        """The existing store a stage reads and writes (parameter "STORE"); open it with
        `open_store_or_fail`."""
        self.addParameter(QgsProcessingParameterFile("STORE", tr("Store"), extension="gpkg", optional=optional))

    def add_choice(self, name: str, description: str, choices: Choices, multiple: bool = False) -> None:
        """An enum parameter over one of core's option lists, chosen by name (static strings), so a
        model, a script and the CLI pass "idw", never a position that could drift."""
        default = [choices.default] if multiple else choices.default
        self.addParameter(QgsProcessingParameterEnum(name, description, options=list(choices.names),
                                                     allowMultiple=multiple, defaultValue=default,
                                                     usesStaticStrings=True))

    def choice(self, parameters: dict, name: str, context) -> str:
        """The name chosen for an `add_choice` parameter."""
        return self.parameterAsEnumString(parameters, name, context)

    def choices(self, parameters: dict, name: str, context) -> list[str]:
        """The names chosen for a multiple `add_choice` parameter."""
        return list(self.parameterAsEnumStrings(parameters, name, context))

    @staticmethod
    def open_store_or_fail(path: str, create: bool = False):
        """Open a store, turning store errors into the exception Processing reports cleanly."""
        if not path:
            raise QgsProcessingException(tr("No store given: choose a MIST GeoPackage store."))
        try:
            return open_store(path, create=create)
        except StoreError as exc:
            raise QgsProcessingException(str(exc)) from exc
