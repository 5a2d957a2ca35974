"""`mist:importposts`: import post collections (tweets, Weibo, CrisisMMD, CSV, GeoJSON, photo
folders) into a store as one run. Thin over core.posts.importer; the Posts dock runs this algorithm
on QGIS's task runner, and the CLI verb `import` maps onto it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
)

from ..core import options
from ..core.stage import Status
from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm, store_parameter

COUNTS = ("RECORDS_READ", "IMPORTED", "DUPLICATES", "UNLOCATED", "SKIPPED", "REPOSTS")


def posts_layer_uri(store_path: str) -> str:
    from ..qgis_ops.layers import store_layer_string

    return store_layer_string(store_path, "posts")


def _style_posts(layer) -> None:
    """When the dialog loads the output, it gets the same style, map tip and time settings as the dock's."""
    from ..qgis_ops.layers import layer_store_path, save_default_style, style_posts_layer

    style_posts_layer(layer)
    path, _ = layer_store_path(layer)
    if path is not None:
        save_default_style(path)
        layer.reload()


def crs_text(crs) -> str | None:
    """A QGIS CRS as text pyproj reads (its authority id, else its PROJ string); None if unset."""
    if crs is None or not crs.isValid():
        return None
    return crs.authid() or crs.toProj() or None


class ImportPostsAlgorithm(MistAlgorithm):
    _name = "importposts"
    _display_name = QT_TR_NOOP("Import posts")
    _group = QT_TR_NOOP("Posts")
    _short_help = QT_TR_NOOP(
        "Imports post collections into a MIST store as points: Twitter/X v1.1 JSON (lines or arrays) and v2 "
        "responses, Weibo exports and MIST-SMMD tables, CrisisMMD TSV, any CSV/TSV with coordinate, WKT, time, "
        "text or image columns, GeoJSON FeatureCollections and sequences, and folders of geotagged photos. The "
        "format is detected from the content unless chosen. Every record is accounted for: imported, duplicate "
        "(already in the store), unlocated (kept for later geolocation) or skipped with file, line and reason in "
        "the run's issue report. Authors are pseudonymised unless names are kept. Importing again is harmless and "
        "completes a cancelled import. Column mapping: field=column pairs separated by ';' (fields: post_id, lon, "
        "lat, wkt, time, text, photo, media_url, author, url, lang, platform, direction, altitude, accuracy). "
        "Coordinates are longitude/latitude in WGS 84 unless a CRS is chosen for projected x/y columns (Web "
        "Mercator, a UTM zone, a national grid); they are transformed to WGS 84. Times without a time zone are "
        "read as UTC (Weibo exports: China time) unless their time zone is given, e.g. Asia/Shanghai; the "
        "report says once per file when a file has such times."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterMultipleLayers(
            "INPUTS", tr("Post collection files"), QgsProcessing.SourceType.TypeFile, optional=True))
        self.addParameter(QgsProcessingParameterFile(
            "FOLDER", tr("Folder of geotagged photos"), QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.addParameter(store_parameter(tr("Store (created if missing)")))
        self.add_choice("FORMAT", tr("Format"), options.POST_FORMATS)
        self.addParameter(QgsProcessingParameterFile(
            "MEDIA_ROOT", tr("Media root (folder that photo paths in the export are relative to)"),
            QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            "KEEP_AUTHORS", tr("Keep author names (otherwise pseudonymised per store)"), False))
        self.addParameter(QgsProcessingParameterString(
            "MAPPING", tr("Column mapping (field=column; ...)"), optional=True))
        self.addParameter(QgsProcessingParameterCrs(
            "CRS", tr("CRS of projected x/y columns (empty: longitude/latitude in WGS 84)"), optional=True))
        self.addParameter(QgsProcessingParameterString(
            "NAIVE_TZ", tr("Time zone of times without one (e.g. Asia/Shanghai; empty: UTC)"), optional=True))
        self.addOutput(QgsProcessingOutputString("SUMMARY", tr("Summary (JSON)")))
        self.addOutput(QgsProcessingOutputNumber("RUN_ID", tr("Run id")))
        for name in COUNTS:
            self.addOutput(QgsProcessingOutputNumber(name, name.replace("_", " ").capitalize()))
        self.addOutput(QgsProcessingOutputVectorLayer("POSTS", tr("Posts layer")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.posts.columns import parse_mapping_text
        from ..core.posts.importer import ImportOptions, import_posts
        from ..core.posts.issues import NotAPostCollection

        inputs = [p for p in (self.parameterAsFileList(parameters, "INPUTS", context) or []) if p]
        folder = self.parameterAsFile(parameters, "FOLDER", context)
        if folder:
            inputs.append(folder)
        if not inputs:
            raise QgsProcessingException(tr("Choose at least one file or a folder of photos to import."))
        missing = [p for p in inputs if not Path(p).exists()]
        if missing:
            raise QgsProcessingException(tr("Input does not exist: {path}").format(path=missing[0]))
        mapping_text = self.parameterAsString(parameters, "MAPPING", context) or ""
        try:
            options = ImportOptions(
                format=self.choice(parameters, "FORMAT", context),
                media_root=self.parameterAsFile(parameters, "MEDIA_ROOT", context) or None,
                keep_author_names=self.parameterAsBool(parameters, "KEEP_AUTHORS", context),
                mapping=parse_mapping_text(mapping_text),
                crs=crs_text(self.parameterAsCrs(parameters, "CRS", context)),
                naive_tz=self.parameterAsString(parameters, "NAIVE_TZ", context) or None,
            )
        except ValueError as exc:
            raise QgsProcessingException(str(exc)) from exc
        store_path = self.parameterAsFile(parameters, "STORE", context)
        with self.open_store_or_fail(store_path, create=True) as store:
            try:
                summary = import_posts(
                    store, inputs, options, progress=feedback.setProgress,
                    is_cancelled=feedback.isCanceled)
            except (NotAPostCollection, ValueError) as exc:
                raise QgsProcessingException(str(exc)) from exc
        data = summary.as_dict()
        feedback.pushInfo(summary.message)
        for issue in summary.issues[:20]:
            feedback.pushWarning(f"{issue['source']}:{issue['line'] or '-'}: {issue['reason']}")
        if summary.status == Status.CANCELLED:
            feedback.reportError(tr("Import cancelled; run it again to complete it."), False)
        uri = posts_layer_uri(store_path)
        if summary.imported or summary.unlocated or summary.duplicates:
            self.load_output(context, uri, tr("MIST posts"), "POSTS", _style_posts)
        counts = summary.counts()
        out = {"SUMMARY": json.dumps(data, ensure_ascii=False), "RUN_ID": summary.run_id,
               "POSTS": uri}
        out.update({name: counts[name.lower()] for name in COUNTS})
        return out
