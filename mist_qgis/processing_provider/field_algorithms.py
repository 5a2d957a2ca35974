"""The field loop as Processing algorithms (thin over core.field): a package out to field teams'
phones, and what they bring back."""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..core.errors import MistError
from ..core.field import layout
from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm


class FieldPackageAlgorithm(MistAlgorithm):
    _name = "fieldpackage"
    _display_name = QT_TR_NOOP("Field package for QField / Mergin Maps")
    _group = QT_TR_NOOP("Field")
    _short_help = QT_TR_NOOP(
        "Writes a folder, or a .zip, that QField and Mergin Maps open as it is: a QGIS project with "
        "relative paths, a GeoPackage with the verified flood points, the flood extent and depth contours "
        "of the latest inundation run, the alerts and an empty layer for the team's observations (a phone "
        "form: verdict, depth class and metres, note, photo; position and time from the device), the "
        "depth raster, the posts' photos as small JPEGs and the styles. Choose an area and a time "
        "window; a size limit keeps the package light, and what was left out is listed with the reason "
        "(also in mist_field_manifest.json)."
    )

    def flags(self) -> QgsProcessingAlgorithm.Flags:
        # the package's QGIS project and layers are built on the main thread
        return super().flags() | QgsProcessingAlgorithm.Flag.FlagNoThreading

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT", tr("Package folder or .zip"), tr("Zip (*.zip);;Folder (*)")))
        self.addParameter(QgsProcessingParameterExtent("EXTENT", tr("Area of interest"), optional=True))
        self.addParameter(QgsProcessingParameterDateTime("SINCE", tr("Posts from"), optional=True))
        self.addParameter(QgsProcessingParameterDateTime("UNTIL", tr("Posts until"), optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            "MAX_MB", tr("Size limit (MB)"), QgsProcessingParameterNumber.Type.Double, layout.DEFAULT_MAX_MB,
            minValue=0.01))
        self.addOutput(QgsProcessingOutputString("PROJECT", tr("QGIS project")))
        self.addOutput(QgsProcessingOutputNumber("POINTS", tr("Verified points")))
        self.addOutput(QgsProcessingOutputNumber("PHOTOS", tr("Photos")))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Package contents (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from qgis.core import QgsCoordinateReferenceSystem

        from ..core.field.package import Selection, build_package
        from ..paths import resources_dir
        from ..qgis_ops.field_project import write_field_project

        path = self.parameterAsFile(parameters, "STORE", context)
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        extent = None
        if parameters.get("EXTENT"):
            rect = self.parameterAsExtent(parameters, "EXTENT", context, QgsCoordinateReferenceSystem("EPSG:4326"))
            if not rect.isNull() and not rect.isEmpty():
                extent = (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
        since = until = None
        for key in ("SINCE", "UNTIL"):
            value = self.parameterAsDateTime(parameters, key, context) if parameters.get(key) else None
            if value is not None and value.isValid():
                when = value.toUTC().toPyDateTime()  # the user's local time, or UTC from the CLI
                if key == "SINCE":
                    since = when
                else:
                    until = when
        selection = Selection(extent, _utc(since), _utc(until), self.parameterAsDouble(parameters, "MAX_MB", context))
        with self.open_store_or_fail(path) as store:
            try:
                result = build_package(store, out, selection, write_field_project, resources_dir() / "styles")
            except MistError as exc:
                raise QgsProcessingException(str(exc)) from exc
        feedback.pushInfo(tr("{points} verified points and {photos} photos in {path} ({mb:.1f} MB)").format(
            points=result.points, photos=result.photos, path=result.path, mb=result.bytes / 1048576))
        for item in result.left_out:
            feedback.pushWarning(tr("left out: {item}: {reason}").format(item=item.item, reason=item.reason))
        return {"OUTPUT": result.path, "PROJECT": result.project or "", "POINTS": result.points,
                "PHOTOS": result.photos, "RESULT": json.dumps(result.as_dict(), default=str)}


def _utc(when):
    from datetime import UTC

    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


class ImportFieldAlgorithm(MistAlgorithm):
    _name = "importfield"
    _display_name = QT_TR_NOOP("Import field observations")
    _group = QT_TR_NOOP("Field")
    _short_help = QT_TR_NOOP(
        "Imports a field package returned by a team (folder or .zip), or a folder of phone photos, as "
        "posts with the platform \"field\": position, time and heading from the photo's EXIF or the form; "
        "the team's verdict and water depth become a verdict under the observer's name. Photos with a GPS "
        "position, a consistent GPS clock and a heading also join the reference imagery for geolocation. "
        "Photos without GPS, with a stale GPS fix or an impossible heading are imported and flagged, never "
        "used as references. Nothing arrives twice (by photo sha256 and by observation id). A package whose "
        "paths point outside it is refused, with the file named."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterFile(
            "INPUT", tr("Returned package (.zip)"), QgsProcessingParameterFile.Behavior.File, extension="zip",
            optional=True))
        self.addParameter(QgsProcessingParameterFile(
            "FOLDER", tr("or a returned package folder, or a folder of phone photos"),
            QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.addParameter(QgsProcessingParameterString(
            "ANALYST", tr("Observer name when the form has none"), defaultValue=layout.DEFAULT_ANALYST, optional=True))
        self.addOutput(QgsProcessingOutputNumber("IMPORTED", tr("Observations imported")))
        self.addOutput(QgsProcessingOutputNumber("REFERENCES", tr("New references")))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Import summary (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.field.returned import import_field

        path = self.parameterAsFile(parameters, "STORE", context)
        source = (self.parameterAsFile(parameters, "INPUT", context)
                  or self.parameterAsFile(parameters, "FOLDER", context))
        if not source:
            raise QgsProcessingException(tr("Choose a returned package (.zip) or a folder."))
        analyst = self.parameterAsString(parameters, "ANALYST", context) or None
        with self.open_store_or_fail(path) as store:
            try:
                summary = import_field(store, source, analyst)
            except MistError as exc:
                raise QgsProcessingException(str(exc)) from exc
        for source_name, _line, reason in summary.issues:
            feedback.pushWarning(f"{source_name}: {reason}")
        counts = summary.counts()
        feedback.pushInfo(tr("{imported} observations imported, {duplicates} already there, {references} new "
                             "references, {flagged} flagged").format(**counts))
        return {"IMPORTED": summary.imported, "REFERENCES": summary.references,
                "RESULT": json.dumps({"run_id": summary.run_id, **counts})}
