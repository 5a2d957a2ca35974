"""Export of the analysts' verified results (thin over core.verify.export)."""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
)

from ..core import options
from ..core.verify.export import ExportError, export_points, export_training_set
from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm


class ExportVerifiedAlgorithm(MistAlgorithm):
    _name = "exportverified"
    _display_name = QT_TR_NOOP("Export verified points")
    _group = QT_TR_NOOP("Verification")
    _short_help = QT_TR_NOOP(
        "Writes the posts analysts verified (flood by default) as points with water depth, verdict, "
        "analyst and time to a GeoPackage, GeoJSON or CSV file. Posts that are not placed yet are "
        "counted, not exported. Optionally also writes a training-set folder: the verified photos "
        "copied by label (checked against their sha256) with a manifest.csv, for retraining a "
        "screening model; photos analysts disagree on are left out unless asked for."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT", tr("Verified points"), tr("GeoPackage (*.gpkg);;GeoJSON (*.geojson);;CSV (*.csv)")))
        self.add_choice("FORMAT", tr("Format (auto: from the file extension)"), options.EXPORT_FORMATS)
        self.add_choice("VERDICTS", tr("Verdicts to export"), options.VERDICTS, multiple=True)
        self.addParameter(QgsProcessingParameterBoolean(
            "INCLUDE_TEXT", tr("Include the post text"), defaultValue=False))
        self.addParameter(QgsProcessingParameterFolderDestination(
            "TRAINING_SET", tr("Training-set folder"), optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterBoolean(
            "INCLUDE_UNSURE", tr("Training set: include unsure photos"), defaultValue=False))
        self.addParameter(QgsProcessingParameterBoolean(
            "KEEP_CONFLICTS", tr("Training set: keep photos analysts disagree on"), defaultValue=False))
        self.addOutput(QgsProcessingOutputNumber("POINTS", tr("Points written")))
        self.addOutput(QgsProcessingOutputNumber("UNLOCATED_SKIPPED", tr("Verified posts without a location")))
        self.addOutput(QgsProcessingOutputString("TRAINING", tr("Training set (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        path = self.parameterAsFile(parameters, "STORE", context)
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        fmt = self.choice(parameters, "FORMAT", context)
        verdicts = tuple(self.choices(parameters, "VERDICTS", context)) or (options.VERDICTS.default,)
        folder = self.parameterAsString(parameters, "TRAINING_SET", context)
        with self.open_store_or_fail(path) as store:
            try:
                points = export_points(store, out, None if fmt == "auto" else fmt, verdicts,
                                       include_text=self.parameterAsBoolean(parameters, "INCLUDE_TEXT", context))
                feedback.pushInfo(tr("{n} verified points written to {path}").format(n=points.points, path=out))
                if points.unlocated_skipped:
                    feedback.pushWarning(tr("{n} verified posts have no location yet and are not in the file")
                                         .format(n=points.unlocated_skipped))
                training: dict[str, Any] = {}
                if folder:
                    feedback.setProgress(50)
                    result = export_training_set(
                        store, folder,
                        include_unsure=self.parameterAsBoolean(parameters, "INCLUDE_UNSURE", context),
                        exclude_conflicts=not self.parameterAsBoolean(parameters, "KEEP_CONFLICTS", context))
                    training = {"folder": result.folder, "copied": result.copied, "skipped": len(result.skipped)}
                    for fid, reason in result.skipped:
                        feedback.pushInfo(tr("photo {fid} left out: {reason}").format(fid=fid, reason=reason))
            except ExportError as exc:
                raise QgsProcessingException(str(exc)) from exc
        feedback.setProgress(100)
        if points.format in ("gpkg", "geojson"):
            uri = f"{points.path}|layername=verified_points" if points.format == "gpkg" else points.path
            self.load_output(context, uri, tr("Verified points"), "OUTPUT")
        return {"OUTPUT": points.path, "FORMAT": points.format, "POINTS": points.points,
                "UNLOCATED_SKIPPED": points.unlocated_skipped, "TRAINING": json.dumps(training)}
