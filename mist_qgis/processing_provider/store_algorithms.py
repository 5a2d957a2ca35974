"""Algorithms that create and describe a store."""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFileDestination,
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
        path = self.parameterAsFileOutput(parameters, "STORE", context)
        with self.open_store_or_fail(path, create=True) as store:
            version = store.schema_version
        feedback.pushInfo(tr("Store {path} is at schema version {version}").format(path=path, version=version))
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
