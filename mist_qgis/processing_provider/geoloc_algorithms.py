"""Photo geolocation: import reference imagery, geolocate photos (LSGL with a learned matcher,
offline), evaluate against true locations. Thin over `core.geoloc`."""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeatureRequest,
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..core import options
from ..i18n import QT_TR_NOOP, tr
from ..qgis_ops.layers import store_layer_string
from .base import MistAlgorithm
from .words import push_lines

GROUP = QT_TR_NOOP("Geolocation")


def _store_table_style(store_path: str, table: str):
    """A store table's style (the references' arrows turned by heading, the geolocation arrows),
    also saved in the store as the table's default style, so the table opened from the Browser
    arrives styled too."""
    def apply(layer) -> None:
        from ..qgis_ops.layers import save_default_style, style_store_layer

        style_store_layer(layer, table)
        save_default_style(store_path, table)

    return apply


def grouped_issues(issues: list, most: int = 20) -> list[str]:
    """Issue lines for the log, the same reason said once with how often it was noted (a reference
    that cannot be matched is noted for every post near it)."""
    by_reason: dict[str, list[str]] = {}
    for issue in issues:
        by_reason.setdefault(issue["reason"], []).append(issue["source"] or "")
    lines = []
    for reason, sources in list(by_reason.items())[:most]:
        if len(sources) == 1:
            lines.append(f"{sources[0]}: {reason}")
        else:
            lines.append(tr("{first}: {reason} (noted {n} times in this run)").format(
                first=sources[0], reason=reason, n=len(sources)))
    return lines


def gazetteer_from_source(source, name_field: str, context: QgsProcessingContext, feedback: QgsProcessingFeedback):
    """A QGIS layer (any geometry, a name field) as the core's plain gazetteer, in WGS 84."""
    from shapely import wkb

    from ..core.geoloc.gazetteer import Gazetteer, GazetteerEntry

    wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
    transform = QgsCoordinateTransform(source.sourceCrs(), wgs84, context.transformContext())
    entries = []
    for feature in source.getFeatures(QgsFeatureRequest()):
        if feedback.isCanceled():
            break
        geom = feature.geometry()
        name = feature[name_field]
        if geom is None or geom.isEmpty() or not name:
            continue
        geom.transform(transform)
        entries.append(GazetteerEntry(str(name), wkb.loads(bytes(geom.asWkb())), feature.id()))
    return Gazetteer(entries)


class ImportReferencesAlgorithm(MistAlgorithm):
    _name = "importreferences"
    _display_name = QT_TR_NOOP("Import reference imagery")
    _group = GROUP
    _short_help = QT_TR_NOOP(
        "Adds ground-level reference photos with known position and heading to the store's 'references' "
        "layer (drawn as heading arrows): a CSV with id, lon, lat, heading, path; a MIST-SMMD street-view "
        "folder (csv_files/success.csv and downloadPic/); a GeoJSON or GeoJSON-seq of points with an image "
        "path property; or a folder of geotagged photos (EXIF GPS and direction). Paths must stay inside "
        "the collection folder; bad rows are listed in the run's issue report."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterFile("INPUT", tr("Collection file (CSV, success.csv, GeoJSON)"),
                                                     optional=True))
        self.addParameter(QgsProcessingParameterFile(
            "FOLDER", tr("or collection folder (street-view download, geotagged photos)"),
            behavior=QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.add_choice("FORMAT", tr("Format"), options.REFERENCE_FORMATS)
        self.addParameter(QgsProcessingParameterString("COLLECTION", tr("Collection name"), optional=True))
        self.addOutput(QgsProcessingOutputNumber("IMPORTED", tr("References imported")))
        self.addOutput(QgsProcessingOutputNumber("SKIPPED", tr("Rows skipped")))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Result (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.geoloc.references import import_references

        path = self.parameterAsFile(parameters, "INPUT", context) or self.parameterAsFile(parameters, "FOLDER", context)
        if not path:
            raise QgsProcessingException(tr("Give a collection file or a collection folder."))
        store_path = self.parameterAsFile(parameters, "STORE", context)
        fmt = self.choice(parameters, "FORMAT", context)
        collection = self.parameterAsString(parameters, "COLLECTION", context) or None
        with self.open_store_or_fail(store_path) as store:
            try:
                summary = import_references(store, path, fmt, collection)
            except (OSError, ValueError) as exc:
                raise QgsProcessingException(str(exc)) from exc
            for issue in store.issues_for_run(summary.run_id)[:20]:
                feedback.pushWarning(f"{issue['source']}:{issue['line'] or ''} {issue['reason']}")
        feedback.pushInfo(tr("{n} references imported into collection {c}, {s} rows skipped").format(
            n=summary.imported, c=summary.collection, s=summary.skipped))
        self.load_output(context, store_layer_string(store_path, "references"), tr("References"), "STORE",
                         _store_table_style(store_path, "references"))
        result = {"run_id": summary.run_id, "imported": summary.imported, "duplicates": summary.duplicates,
                  "skipped": summary.skipped, "collection": summary.collection}
        return {"STORE": store_path, "IMPORTED": summary.imported, "SKIPPED": summary.skipped,
                "RESULT": json.dumps(result)}


class GeolocatePhotosAlgorithm(MistAlgorithm):
    _name = "geolocatephotos"
    _display_name = QT_TR_NOOP("Geolocate photos against reference imagery")
    _group = GROUP
    _short_help = QT_TR_NOOP(
        "Moves each post to where its photo was taken: references within the post's uncertainty radius are "
        "ranked by global-embedding similarity, the top k are matched (DISK + LightGlue by default, offline), "
        "the matches are verified geometrically (MAGSAC++), and the post moves to the best reference's "
        "coordinates when the calibrated confidence is high enough. 'Paper-faithful' reproduces LSGL: every "
        "candidate is matched and the best location is chosen by the paper's score / error-indicator rate. "
        "An optional gazetteer layer (OSM roads, places) first places unlocated posts from toponyms in their "
        "text. Resumable; bad photos and references are listed with reasons in the run's issue report."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.add_choice("MATCHER", tr("Matcher"), options.MATCHERS)
        self.addParameter(QgsProcessingParameterBoolean("PAPER_FAITHFUL", tr("Paper-faithful LSGL selection"),
                                                        defaultValue=False))
        self.addParameter(QgsProcessingParameterNumber("TOP_K", tr("References matched per photo (top k)"),
                                                       QgsProcessingParameterNumber.Type.Integer, 10, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            "RADIUS", tr("Search radius (m); 0 = each post's own uncertainty (default 500 m)"),
            QgsProcessingParameterNumber.Type.Double, 0.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(
            "MIN_CONFIDENCE", tr("Minimum confidence to move a post"), QgsProcessingParameterNumber.Type.Double,
            0.5, minValue=0.0, maxValue=1.0))
        self.addParameter(QgsProcessingParameterFile(
            "MASK_MODEL", tr("Segmentation model folder (MaskFormer ADE20k)"),
            behavior=QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            "MASK_OPTIONAL", tr("Also mask truck, van, boat, bicycle, minibike"), defaultValue=False))
        self.addParameter(QgsProcessingParameterFile("LOFTR_WEIGHTS", tr("LoFTR outdoor weights (for loftr)"),
                                                     optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "GAZETTEER", tr("Gazetteer layer for posts without location"),
            [QgsProcessing.SourceType.TypeVectorAnyGeometry], optional=True))
        self.addParameter(QgsProcessingParameterField("NAME_FIELD", tr("Gazetteer name field"), defaultValue="name",
                                                      parentLayerParameterName="GAZETTEER", optional=True))
        self.addParameter(QgsProcessingParameterBoolean("REDO", tr("Redo posts already geolocated"),
                                                        defaultValue=False))
        self.addParameter(QgsProcessingParameterString(
            "RETRIEVAL_MODEL", tr("Candidates from retrieval: image embedding model tag (optional)"), optional=True))
        self.addParameter(QgsProcessingParameterNumber("RETRIEVAL_K", tr("Retrieval neighbours"),
                                                       QgsProcessingParameterNumber.Type.Integer, 10, minValue=1))
        self.addOutput(QgsProcessingOutputNumber("MOVED", tr("Posts moved")))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Result (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.geoloc.candidates import geocode_posts
        from ..core.geoloc.locate import GeolocateOptions, geolocate
        from ..model_folders import registry

        store_path = self.parameterAsFile(parameters, "STORE", context)
        radius = self.parameterAsDouble(parameters, "RADIUS", context)
        options = GeolocateOptions(
            matcher=self.choice(parameters, "MATCHER", context),
            paper_faithful=self.parameterAsBoolean(parameters, "PAPER_FAITHFUL", context),
            top_k=self.parameterAsInt(parameters, "TOP_K", context),
            radius_m=radius if radius > 0 else None,
            min_confidence=self.parameterAsDouble(parameters, "MIN_CONFIDENCE", context),
            mask_model=self.parameterAsFile(parameters, "MASK_MODEL", context) or None,
            mask_optional_classes=self.parameterAsBoolean(parameters, "MASK_OPTIONAL", context),
            loftr_weights=self.parameterAsFile(parameters, "LOFTR_WEIGHTS", context) or None,
            model_folders=tuple(str(folder) for _, folder in registry().folders),
            redo=self.parameterAsBoolean(parameters, "REDO", context),
            retrieval_model=self.parameterAsString(parameters, "RETRIEVAL_MODEL", context) or None,
            retrieval_k=self.parameterAsInt(parameters, "RETRIEVAL_K", context),
        )
        result: dict[str, Any] = {}
        with self.open_store_or_fail(store_path) as store:
            source = self.parameterAsSource(parameters, "GAZETTEER", context)
            if source is not None:
                field = self.parameterAsString(parameters, "NAME_FIELD", context)
                if not field:
                    raise QgsProcessingException(tr("Choose the gazetteer's name field."))
                gazetteer = gazetteer_from_source(source, field, context, feedback)
                coarse = geocode_posts(store, gazetteer, is_cancelled=feedback.isCanceled)
                feedback.pushInfo(tr("Text: {p} posts placed, {u} without a usable place name").format(
                    p=coarse.placed, u=coarse.unplaced))
                result["text_placed"] = coarse.placed
                result["text_unplaced"] = coarse.unplaced
            summary = geolocate(store, options, progress=feedback.setProgress, is_cancelled=feedback.isCanceled)
            for line in grouped_issues(store.issues_for_run(summary.run_id)):
                feedback.pushWarning(line)
        if summary.mask_note:
            feedback.pushWarning(summary.mask_note)
        if summary.message and summary.message != summary.mask_note:
            feedback.pushWarning(summary.message)
        result.update({"run_id": summary.run_id, "status": summary.status, "matcher": options.matcher,
                       "mode": options.mode, **summary.counts, "mask_note": summary.mask_note,
                       "provider": summary.provider})
        push_lines(feedback, result)
        self.load_output(context, store_layer_string(store_path, "geolocations"),
                         tr("Photo geolocation (old -> new)"), "STORE", _store_table_style(store_path, "geolocations"))
        return {"STORE": store_path, "MOVED": summary.counts.get("moved", 0), "RESULT": json.dumps(result)}


class EvaluateGeolocationAlgorithm(MistAlgorithm):
    _name = "evaluategeolocation"
    _display_name = QT_TR_NOOP("Evaluate geolocation against true locations")
    _group = GROUP
    _short_help = QT_TR_NOOP(
        "Geodesic error in metres of the posts' locations against a layer of true locations (joined by post "
        "id): mean (the paper's MAE), median, RMSE and the share within 25/50/100/200/500 m, both for the "
        "current locations ('after') and for the locations before image matching ('before')."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterFeatureSource(
            "TRUTH", tr("True locations (points)"), [QgsProcessing.SourceType.TypeVectorPoint]))
        self.addParameter(QgsProcessingParameterField("ID_FIELD", tr("Post id field"), defaultValue="post_id",
                                                      parentLayerParameterName="TRUTH"))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Result (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.geoloc.evaluate import evaluate_store

        source = self.parameterAsSource(parameters, "TRUTH", context)
        if source is None:
            raise QgsProcessingException(tr("The true-location layer cannot be read."))
        field = self.parameterAsString(parameters, "ID_FIELD", context) or "post_id"
        if source.fields().indexOf(field) < 0:
            raise QgsProcessingException(tr("The true-location layer has no field {f}.").format(f=field))
        transform = QgsCoordinateTransform(source.sourceCrs(), QgsCoordinateReferenceSystem("EPSG:4326"),
                                           context.transformContext())
        truth: dict[str, tuple[float, float]] = {}
        for feature in source.getFeatures():
            geom = feature.geometry()
            if geom is None or geom.isEmpty() or feature[field] in (None, ""):
                continue
            geom.transform(transform)
            point = geom.asPoint() if not geom.isMultipart() else geom.asMultiPoint()[0]
            truth[str(feature[field])] = (point.x(), point.y())
        with self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as store:
            result = evaluate_store(store, truth)
        push_lines(feedback, result)
        return {"RESULT": json.dumps(result)}
