"""`mist:watch`: watch files, drop folders and feeds; each arriving batch goes through import,
fetch, the current head and the alert rule. Thin over core.live.watch; runs until cancelled,
`UNTIL` or `MAX_POSTS`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..i18n import QT_TR_NOOP, tr
from ..qgis_ops.live_map import area_of_interest
from .base import MistAlgorithm
from .geoloc_algorithms import gazetteer_from_source

LIVE_HEADS_FOLDER = "live-heads"  # inside the profile's model folder: the registry lists its versions


def parse_until(text: str) -> float | None:
    """An ISO 8601 time (UTC unless it says otherwise) as epoch seconds; empty: None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise QgsProcessingException(tr("Stop time {text} is not an ISO 8601 time").format(text=text)) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class WatchAlgorithm(MistAlgorithm):
    _name = "watch"
    _display_name = QT_TR_NOOP("Watch live sources")
    _group = QT_TR_NOOP("Store")
    _short_help = QT_TR_NOOP(
        "Watches growing JSON-lines files (Twitter v1.1 and v2, with rotation and truncation), drop folders "
        "(post files and photos) and http(s) JSON or GeoJSON feeds (conditional requests, backoff; public hosts "
        "only unless private hosts are allowed). Each arriving batch is imported together with the source's "
        "position, its photos fetched (photos that failed for a passing reason are tried again later), screened "
        "by the head, placed from the place names in their text when they have no coordinates (with a "
        "gazetteer) and checked against the alert rule. A head on embeddings is retrained every N new verdicts "
        "and replaced only if its cross-validated F1 is not worse. Stopping and starting again goes on exactly "
        "where it stopped. Runs until cancelled, the stop time or the post limit."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        from ..core import options
        from ..core.live.watch import DEFAULT_INTERVAL_S

        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterString(
            "SOURCES", tr("Sources: files, folders or http(s) URLs, one per line"), multiLine=True))
        self.addParameter(QgsProcessingParameterFile(
            "HEAD", tr("Head or classifier that screens the photos (optional)"), extension="onnx", optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            "THRESHOLD", tr("Alert when the head's score is at least (0: no score condition)"),
            QgsProcessingParameterNumber.Type.Double, 0.0, minValue=0.0, maxValue=1.0))
        self.addParameter(QgsProcessingParameterString(
            "ALERT_LABEL", tr("Label the score is for"), "flood"))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "ALERT_AREA", tr("Area of interest (polygons, optional)"),
            [QgsProcessing.SourceType.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterExtent(
            "ALERT_EXTENT", tr("Area of interest as an extent (optional)"), optional=True))
        self.addParameter(QgsProcessingParameterString(
            "KEYWORDS", tr("Alert keywords, comma-separated (optional)"), optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            "LEARN_EVERY", tr("Retrain the head every N new verdicts (0: never)"),
            QgsProcessingParameterNumber.Type.Integer, options.LIVE_LEARN_EVERY, minValue=0))
        self.addParameter(QgsProcessingParameterFile(
            "HEADS_FOLDER", tr("Folder for the head's versions (optional; default: the profile's model folder)"),
            behavior=QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "GAZETTEER", tr("Gazetteer layer: place posts without coordinates from their text (optional)"),
            [QgsProcessing.SourceType.TypeVectorAnyGeometry], optional=True))
        self.addParameter(QgsProcessingParameterField(
            "NAME_FIELD", tr("Gazetteer name field"), defaultValue="name", parentLayerParameterName="GAZETTEER",
            optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            "PHOTO_RETRIES", tr("Retries of a photo whose fetch failed for a passing reason"),
            QgsProcessingParameterNumber.Type.Integer, options.LIVE_PHOTO_RETRIES, minValue=0))
        self.addParameter(QgsProcessingParameterString(
            "UNTIL", tr("Stop at (ISO 8601 time, optional)"), optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            "MAX_POSTS", tr("Stop after this many records (0: no limit)"),
            QgsProcessingParameterNumber.Type.Integer, 0, minValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            "INTERVAL", tr("Seconds between polls"), QgsProcessingParameterNumber.Type.Double,
            DEFAULT_INTERVAL_S, minValue=0.05))
        self.addParameter(QgsProcessingParameterBoolean(
            "FETCH_MEDIA", tr("Fetch the posts' photos"), True))
        self.addParameter(QgsProcessingParameterBoolean(
            "ALLOW_PRIVATE_HOSTS", tr("Allow private and loopback hosts (intranet feeds and photo servers)"), False))
        self.addOutput(QgsProcessingOutputString("SUMMARY", tr("Summary (JSON)")))
        for name, label in (("RECORDS_READ", tr("Records read")), ("IMPORTED", tr("Posts imported")),
                            ("ALERTS", tr("Alerts raised")), ("PLACED", tr("Posts placed from their text")),
                            ("HEADS_TRAINED", tr("Head versions trained")), ("RUN_ID", tr("Run id"))):
            self.addOutput(QgsProcessingOutputNumber(name, label))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.images.urlguard import UrlPolicy
        from ..core.live.alerts import AlertRule
        from ..core.live.watch import WatchOptions, watch
        from ..model_folders import profile_models_dir, registry
        from ..settings import value

        sources = self.lines(parameters, "SOURCES", context)
        if not sources:
            raise QgsProcessingException(tr("No source to watch: name a file, a folder or an http(s) URL."))
        threshold = self.parameterAsDouble(parameters, "THRESHOLD", context)
        keywords = self.parameterAsString(parameters, "KEYWORDS", context)
        rule = AlertRule(
            threshold=threshold or None, label=self.parameterAsString(parameters, "ALERT_LABEL", context) or "flood",
            area_wkt=self._area_wkt(parameters, context), keywords=tuple(keywords.split(",")) if keywords else ())
        gazetteer = None
        source = self.parameterAsSource(parameters, "GAZETTEER", context)
        if source is not None:
            name_field = self.parameterAsString(parameters, "NAME_FIELD", context) or "name"
            gazetteer = gazetteer_from_source(source, name_field, context, feedback)
        heads_dir = self.parameterAsFile(parameters, "HEADS_FOLDER", context)
        models = registry()
        max_posts = self.parameterAsInt(parameters, "MAX_POSTS", context)
        options = WatchOptions(
            sources=sources, head=self.parameterAsFile(parameters, "HEAD", context) or None, rule=rule,
            interval_s=self.parameterAsDouble(parameters, "INTERVAL", context),
            until=parse_until(self.parameterAsString(parameters, "UNTIL", context)),
            max_posts=max_posts or None,
            fetch_media=self.parameterAsBool(parameters, "FETCH_MEDIA", context) and not value("offline"),
            policy=UrlPolicy(allow_private_hosts=bool(
                self.parameterAsBool(parameters, "ALLOW_PRIVATE_HOSTS", context) or value("allow_private_hosts"))),
            learn_every=self.parameterAsInt(parameters, "LEARN_EVERY", context),
            heads_dir=Path(heads_dir) if heads_dir else profile_models_dir() / LIVE_HEADS_FOLDER,
            resolve_model=lambda ref: models.resolve(ref).path, gazetteer=gazetteer,
            photo_retries=self.parameterAsInt(parameters, "PHOTO_RETRIES", context),
        )
        said = [""]

        def on_batch(status) -> None:
            feedback.setProgressText(tr("{read} records read, {imported} imported, {alerts} alerts").format(
                read=status.records_read, imported=status.imported, alerts=status.alerts))
            if status.head_note and status.head_note != said[0]:  # which head screens, and why
                said[0] = status.head_note
                feedback.pushInfo(tr("Head: {note}").format(note=status.head_note))

        with self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as store:
            summary = watch(store, options, is_cancelled=feedback.isCanceled, on_batch=on_batch)
        feedback.pushInfo(summary.message)
        return {"SUMMARY": json.dumps({"status": summary.status, **summary.counts, "message": summary.message}),
                "RECORDS_READ": summary.counts["records_read"], "IMPORTED": summary.counts["imported"],
                "ALERTS": summary.counts["alerts"], "PLACED": summary.counts["placed"],
                "HEADS_TRAINED": summary.counts["heads_trained"], "RUN_ID": summary.run_id}

    def _area_wkt(self, parameters: dict, context: QgsProcessingContext) -> str | None:
        """The area of interest in EPSG:4326 (the store's CRS), as WKT: the area layer's polygons
        dissolved, the extent, or where both are given the part of the polygons inside the extent."""
        source = self.parameterAsSource(parameters, "ALERT_AREA", context)
        extent = None
        if parameters.get("ALERT_EXTENT"):
            wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
            extent = self.parameterAsExtent(parameters, "ALERT_EXTENT", context, wgs84)
            if QgsGeometry.fromRect(extent).isEmpty():
                extent = None  # an empty extent narrows nothing
        area = area_of_interest(source.getFeatures() if source is not None else None,
                                source.sourceCrs() if source is not None else None, context.transformContext(),
                                extent, polygons_required=True)
        if source is not None and area is None:
            raise QgsProcessingException(tr("The area of interest holds no polygon."))
        if extent is not None and area.isEmpty():
            raise QgsProcessingException(tr("The area of interest's polygons lie outside its extent."))
        return area.asWkt() if area is not None else None
