"""Algorithms that create and describe a store, and move data between field and team stores."""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
)

from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm
from .words import push_lines


class CreateStoreAlgorithm(MistAlgorithm):
    _name = "createstore"
    _display_name = QT_TR_NOOP("Create or upgrade store")
    _short_help = QT_TR_NOOP(
        "Creates a MIST store (a GeoPackage that every MIST step reads and writes), "
        "or upgrades an existing one to the current schema. Existing data is kept."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "STORE", tr("Store"), tr("GeoPackage (*.gpkg)"), optional=False
            )
        )
        self.addOutput(QgsProcessingOutputNumber("SCHEMA_VERSION", tr("Schema version")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.store.pg import is_postgres_target
        from ..pg_connections import is_qgis_connection

        raw = str(parameters.get("STORE") or "")
        team = is_postgres_target(raw) or is_qgis_connection(raw)  # a team store: no file to name
        path = raw if team else self.parameterAsFileOutput(parameters, "STORE", context)
        with self.open_store_or_fail(path, create=True) as store:
            version = store.schema_version
            shown = store.target
        feedback.pushInfo(tr("Store {path} is at schema version {version}").format(path=shown, version=version))
        return {"STORE": path, "SCHEMA_VERSION": version}


class StoreInfoAlgorithm(MistAlgorithm):
    _name = "storeinfo"
    _display_name = QT_TR_NOOP("Store summary")
    _short_help = QT_TR_NOOP("Counts posts, photos, results and runs in a MIST store.")

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addOutput(QgsProcessingOutputString("SUMMARY", tr("Summary (JSON)")))
        self.addOutput(QgsProcessingOutputNumber("POSTS", tr("Posts")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        path = self.parameterAsFile(parameters, "STORE", context)
        with self.open_store_or_fail(path) as store:
            summary = store.summary()
        push_lines(feedback, summary)
        return {"SUMMARY": json.dumps(summary), "POSTS": summary["counts"]["posts"]}


class PushStoreAlgorithm(MistAlgorithm):
    _name = "pushstore"
    _display_name = QT_TR_NOOP("Push a field store into a team store")
    _short_help = QT_TR_NOOP(
        "Adds the posts, fetched photos and verdicts of a field GeoPackage (a laptop's, or an earlier "
        "event) to a team store. Posts merge by platform and post id, photos by content, verdicts keep "
        "their analyst and time; pushing again adds nothing twice."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterFile("FIELD", tr("Field store"), extension="gpkg"))
        self.add_store_parameter()
        _add_copy_outputs(self)

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.store.sync import push

        field_path = self.parameterAsFile(parameters, "FIELD", context)
        with self.open_store_or_fail(field_path) as field_store, \
                self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as team:
            summary = _run_copy(lambda: push(field_store, team, progress=feedback.setProgress,
                                             is_cancelled=feedback.isCanceled))
        feedback.pushInfo(json.dumps(summary.as_counts()))
        return _copy_result(summary)


class CheckoutStoreAlgorithm(MistAlgorithm):
    _name = "checkoutstore"
    _display_name = QT_TR_NOOP("Check out part of a team store")
    _short_help = QT_TR_NOOP(
        "Copies the posts of a team store inside an extent and a time window, with their photos and "
        "verdicts, into a new GeoPackage for a laptop that goes offline. Push it back to merge the "
        "verdicts made on it."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT", tr("Field store"), tr("GeoPackage (*.gpkg)")))
        self.addParameter(QgsProcessingParameterExtent("EXTENT", tr("Extent"), optional=True))
        self.addParameter(QgsProcessingParameterString("SINCE", tr("Posted since (ISO time, UTC)"), optional=True))
        self.addParameter(QgsProcessingParameterString("UNTIL", tr("Posted before (ISO time, UTC)"), optional=True))
        _add_copy_outputs(self)

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from qgis.core import QgsCoordinateReferenceSystem

        from ..core.store.sync import Selection, checkout

        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        extent = None
        if parameters.get("EXTENT"):
            rect = self.parameterAsExtent(parameters, "EXTENT", context, QgsCoordinateReferenceSystem("EPSG:4326"))
            extent = f"{rect.xMinimum()},{rect.yMinimum()},{rect.xMaximum()},{rect.yMaximum()}"
        with self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as team:
            summary = _run_copy(lambda: checkout(
                team, out, Selection.parse(extent, self.parameterAsString(parameters, "SINCE", context),
                                           self.parameterAsString(parameters, "UNTIL", context)),
                progress=feedback.setProgress, is_cancelled=feedback.isCanceled))
        feedback.pushInfo(json.dumps(summary.as_counts()))
        return {"OUTPUT": out, **_copy_result(summary)}


_COPY_OUTPUTS = (
    ("POSTS_ADDED", QT_TR_NOOP("Posts added")),
    ("PHOTOS_FILLED", QT_TR_NOOP("Photos added")),
    ("VERDICTS_ADDED", QT_TR_NOOP("Verdicts added")),
)


def _add_copy_outputs(alg: MistAlgorithm) -> None:
    for name, label in _COPY_OUTPUTS:
        alg.addOutput(QgsProcessingOutputNumber(name, tr(label)))
    alg.addOutput(QgsProcessingOutputString("RESULT", tr("Counts (JSON)")))


def _run_copy(copy):
    from qgis.core import QgsProcessingException

    from ..core.store import StoreError

    try:
        return copy()
    except StoreError as exc:
        raise QgsProcessingException(str(exc)) from exc


def _copy_result(summary) -> dict[str, Any]:
    return {"POSTS_ADDED": summary.posts_added, "PHOTOS_FILLED": summary.photos_filled,
            "VERDICTS_ADDED": summary.verdicts_added, "RESULT": json.dumps(summary.as_counts())}
