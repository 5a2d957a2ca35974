"""Shared plumbing for MIST's Processing algorithms."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from pathlib import Path

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
)
from qgis.PyQt.QtGui import QIcon

from ..core.errors import MistError
from ..core.options import Choices
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


def cancelled_message() -> str:
    return tr("Cancelled. Everything finished before the cancel is kept in the store; run the step again to "
              "continue where it stopped.")


TRACEBACK = "Traceback (most recent call last)"  # how Processing reports an exception nobody expected


def error_line(text: str) -> str:
    """One line for a failed run: the algorithm's own message, or the last line of the traceback
    Processing reports for an exception the algorithm did not expect."""
    text = text.strip()
    if TRACEBACK not in text:
        return text
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else text


_KEEP_ALIVE: list[QgsProcessingLayerPostProcessorInterface] = []  # Processing keeps no Python reference


class _PlaceOutput(QgsProcessingLayerPostProcessorInterface):
    """Styles a layer a step loads and puts it in place (see `qgis_ops.layers.place_output_layer`)."""

    def __init__(self, step: str, run: str, style: Callable | None) -> None:
        super().__init__()
        self.step, self.run, self.style = step, run, style

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802
        from ..qgis_ops.layers import place_output_layer

        if self.style is not None:
            self.style(layer)
        place_output_layer(layer, self.step, self.run, context.project())


class MistAlgorithm(QgsProcessingAlgorithm):
    """Subclasses set `_name`, `_display_name`, `_group`, `_short_help` and implement the rest.

    A `MistError` (a problem the user can fix) leaving a subclass's `processAlgorithm` becomes a
    `QgsProcessingException` with its one-line message; anything else stays a failure with its
    traceback, which the CLI reports as an internal error.
    """

    _store_path: str | None = None
    _run_token: str | None = None

    def __init_subclass__(cls, **kwargs) -> None:
        """Wrap a subclass's `processAlgorithm`: a `MistError` becomes a `QgsProcessingException`
        with its one line, and every algorithm says "cancelled" in words when the analyst cancels it
        (Processing itself only reports a failure), and what was saved stays saved."""
        super().__init_subclass__(**kwargs)
        inner = cls.__dict__.get("processAlgorithm")
        if inner is None:
            return

        @functools.wraps(inner)
        def process(self, parameters, context, feedback):
            try:
                result = inner(self, parameters, context, feedback)
            except Exception as exc:
                if feedback is not None and feedback.isCanceled():
                    feedback.reportError(cancelled_message(), False)
                if isinstance(exc, MistError):
                    raise QgsProcessingException(str(exc)) from exc
                raise
            if feedback is not None and feedback.isCanceled():
                feedback.reportError(cancelled_message(), False)
            return result

        cls.processAlgorithm = process

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

    def createCustomParametersWidget(self, parent=None):  # noqa: N802
        """Processing's dialog, ending a cancelled run with "Cancelled." rather than a failure."""
        from .dialog import algorithm_dialog

        return algorithm_dialog(self, cancelled_message, parent)

    def addParameter(self, definition, createOutput: bool = True) -> bool:  # noqa: N802
        """Every parameter as the dialogs should show it: an optional one is marked once (by
        Processing's "[optional]", not also "(optional)" in its name), decimal numbers with two
        decimals, not six."""
        if definition.flags() & QgsProcessingParameterDefinition.Flag.FlagOptional:
            definition.setDescription(definition.description().replace(" (optional)", "").replace("(optional)", ""))
        if isinstance(definition, QgsProcessingParameterNumber) and \
                definition.dataType() == QgsProcessingParameterNumber.Type.Double and \
                "widget_wrapper" not in definition.metadata():
            definition.setMetadata({**definition.metadata(), "widget_wrapper": {"decimals": 2}})
        return super().addParameter(definition, createOutput)

    def add_store_parameter(self, optional: bool = False) -> None:
        """The existing store a stage reads and writes (parameter "STORE"): a GeoPackage file or
        a team store's PostgreSQL connection (`service=NAME`, `postgresql://...`), so no
        extension filter; open it with `open_store_or_fail`."""
        self.addParameter(store_parameter(tr("Store"), optional))

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

    def lines(self, parameters: dict, name: str, context) -> list[str]:
        """The non-blank lines of a multi-line text parameter (image paths, watched sources)."""
        return [s.strip() for s in self.parameterAsString(parameters, name, context).splitlines() if s.strip()]

    def open_store_or_fail(self, path: str, create: bool = False):
        """Open a store, turning store errors into the exception Processing reports cleanly. The
        store's layers in the project repaint when the algorithm ends (`postProcessAlgorithm`)."""
        if not path:
            raise QgsProcessingException(tr("No store given: choose a MIST GeoPackage store."))
        try:
            refuse_password(path)
            store = open_store_target(path, create=create)
        except StoreError as exc:
            raise QgsProcessingException(str(exc)) from exc
        # a team store has no file: its layers are found by its connection
        self._store_path = str(store.path) if store.path is not None else path
        return store

    def load_output(self, context: QgsProcessingContext, uri: str, name: str, output: str,
                    style: Callable | None = None) -> None:
        """Load a layer when the algorithm ends: styled, in place of the layers an earlier run of
        this step loaded on the same store, rasters below the points."""
        details = QgsProcessingContext.LayerDetails(name, context.project(), output)
        self.place_loaded_output(details, style)
        context.addLayerToLoadOnCompletion(uri, details)

    def place_loaded_output(self, details: QgsProcessingContext.LayerDetails, style: Callable | None = None) -> None:
        """Give a layer Processing will load (a raster destination, say) MIST's placement."""
        if self._run_token is None:
            self._run_token = uuid.uuid4().hex
        step = f"{self.id()}|{Path(self._store_path).as_posix() if self._store_path else ''}"
        processor = _PlaceOutput(step, self._run_token, style)
        _KEEP_ALIVE.append(processor)
        details.setPostProcessor(processor)

    def postProcessAlgorithm(self, context: QgsProcessingContext, feedback) -> dict:  # noqa: N802
        """On the main thread after a run: every layer of the store repaints (no F5)."""
        if self._store_path and context.project() is not None:
            from ..qgis_ops.layers import refresh_store_layers

            refresh_store_layers(self._store_path, context.project())
        return {}
