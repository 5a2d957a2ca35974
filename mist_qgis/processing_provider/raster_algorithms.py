"""Raster products: post density, semantic localization maps, their SLM metrics, inundation.

Thin over `core.rasters`; each writes styled rasters (sidecar .qml) and asks QGIS to load them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCoordinateTransform,
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
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ..core import options
from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm
from .words import push_lines

GROUP = QT_TR_NOOP("Rasters")


def _load_default_style(layer) -> None:
    """Applies the sidecar .qml fully (3.22's constructor skips its temporal range)."""
    layer.loadDefaultStyle()


class Cancelable:
    """Monitor callbacks bound to a Processing feedback."""

    @staticmethod
    def monitor(feedback: QgsProcessingFeedback):
        from ..core.stage import Monitor

        return Monitor(progress=feedback.setProgress, is_cancelled=feedback.isCanceled)


def _fail(exc: Exception) -> QgsProcessingException:
    return QgsProcessingException(str(exc))


class PostDensityAlgorithm(MistAlgorithm):
    _name = "postdensity"
    _display_name = QT_TR_NOOP("Post density")
    _group = GROUP
    _short_help = QT_TR_NOOP(
        "Kernel density of posts from a MIST store with QGIS's own heatmap algorithm: all located posts, "
        "posts predicted as flood (weighted by their score) or verified flood posts. Radius and pixel size "
        "are metres on the ground whatever the CRS (the posts are projected to their UTM zone). Optional "
        "time slices per hour or day give one raster per slice with a temporal range, so the temporal "
        "controller plays the flood's growth; all slices share one grid and colour range."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.add_choice("KIND", tr("Posts: all located, predicted flood (weighted by score) or verified flood"),
                        options.DENSITY_KINDS)
        self.addParameter(QgsProcessingParameterString("FLOOD_LABEL", tr("Flood label of the classifier"),
                                                       defaultValue="flood"))
        self.addParameter(QgsProcessingParameterNumber(
            "RADIUS", tr("Radius (m)"), QgsProcessingParameterNumber.Type.Double, 500.0, minValue=1.0))
        self.addParameter(QgsProcessingParameterNumber(
            "PIXEL_SIZE", tr("Pixel size (m)"), QgsProcessingParameterNumber.Type.Double, 25.0, minValue=0.1))
        self.add_choice("SLICES", tr("Time slices"), options.DENSITY_SLICES)
        self.addParameter(QgsProcessingParameterBoolean(
            "CUMULATIVE", tr("Cumulative slices (every post up to the slice's end)"), defaultValue=False))
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", tr("Output folder")))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Result (JSON)")))
        self.addOutput(QgsProcessingOutputNumber("POINTS", tr("Posts used")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.rasters.density import DensityError
        from ..core.store.flood_evidence import density_points
        from ..qgis_ops.density import post_density

        kind = self.choice(parameters, "KIND", context)
        with self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as store:
            points = density_points(store, kind, self.parameterAsString(parameters, "FLOOD_LABEL", context))
        folder = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        try:
            result = post_density(
                points, folder, kind, self.parameterAsDouble(parameters, "RADIUS", context),
                self.parameterAsDouble(parameters, "PIXEL_SIZE", context),
                self.choice(parameters, "SLICES", context),
                self.parameterAsBoolean(parameters, "CUMULATIVE", context), feedback,
                Cancelable.monitor(feedback))
        except (DensityError, ValueError) as exc:
            raise _fail(exc) from exc
        for w in result.warnings:
            feedback.pushWarning(w)
        for s in result.slices:
            self.load_output(context, s.path, Path(s.path).stem, "OUTPUT_FOLDER", _load_default_style)
        feedback.pushInfo(tr("{n} density rasters in {folder}").format(n=len(result.slices), folder=folder))
        return {"OUTPUT_FOLDER": folder, "RESULT": json.dumps(result.as_dict()), "POINTS": result.points}


class SeloAlgorithm(MistAlgorithm):
    _name = "selo"
    _display_name = QT_TR_NOOP("Semantic localization map (SeLo)")
    _group = GROUP
    _short_help = QT_TR_NOOP(
        "Scores multi-scale windows of a georeferenced image against a query and writes a 0-255 "
        "probability GeoTIFF with the image's CRS and geotransform (SeLo v1: windows 256/512/768 on "
        "aligned and half-shifted grids, median blur 251; v2: 512 tiles, the top 15 % refined with "
        "anchor boxes, Gaussian blur). Queries: a caption (CLIP-style ONNX image + text encoders), "
        "exemplar photos, the store's verified flood photos, boxes drawn on the image, or a patch head "
        "trained on labelled boxes. Window embeddings are cached per image, so a second query costs "
        "one similarity pass."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("RASTER", tr("Image")))
        self.addParameter(QgsProcessingParameterFile("IMAGE_MODEL", tr("Image encoder (ONNX)"), extension="onnx"))
        self.add_choice("QUERY_KIND", tr("Query: text, exemplar photos, verified flood photos of the store, "
                                         "exemplar boxes or a patch head trained on labelled boxes"),
                        options.SELO_QUERIES)
        self.addParameter(QgsProcessingParameterString("TEXT", tr("Text query"), optional=True))
        self.addParameter(QgsProcessingParameterFile(
            "TEXT_MODEL", tr("Text encoder (ONNX)"), extension="onnx", optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            "PHOTOS", tr("Exemplar photos"), QgsProcessing.SourceType.TypeFile, optional=True))
        self.add_store_parameter(optional=True)
        self.addParameter(QgsProcessingParameterFeatureSource(
            "BOXES", tr("Boxes"), [QgsProcessing.SourceType.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField(
            "LABEL_FIELD", tr("Box label field (1/0, flood/not_flood)"), parentLayerParameterName="BOXES",
            optional=True))
        self.add_choice("VERSION", tr("Version"), options.SELO_VERSIONS)
        self.addParameter(QgsProcessingParameterString("SIZES", tr("Window sizes (v1)"), defaultValue="256,512,768"))
        self.addParameter(QgsProcessingParameterString("BANDS", tr("Bands (e.g. 1,2,3)"), optional=True))
        self.addParameter(QgsProcessingParameterFile(
            "CACHE_DIR", tr("Embedding cache folder"), QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            "OVERLAY", tr("Style as a 30 % overlay on the image"), defaultValue=True))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", tr("Semantic localization map")))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Result (JSON)")))

    @staticmethod
    def _ints(text: str, what: str) -> list[int]:
        try:
            return [int(v) for v in text.replace(" ", "").split(",") if v]
        except ValueError as exc:
            raise QgsProcessingException(tr("{what} must be integers separated by commas").format(what=what)) from exc

    def _boxes(self, parameters, context, raster_layer, labelled: bool):
        from ..core.rasters.selo import map_extent_to_box, parse_label

        source = self.parameterAsSource(parameters, "BOXES", context)
        if source is None:
            raise QgsProcessingException(tr("Draw or choose a polygon layer of boxes for this query."))
        field = self.parameterAsString(parameters, "LABEL_FIELD", context)
        if labelled and not field:
            raise QgsProcessingException(tr("A patch head needs the label field of the boxes."))
        tr_map = QgsCoordinateTransform(source.sourceCrs(), raster_layer.crs(), context.transformContext())
        from ..core.rasters.georaster import gdal_open

        provider = raster_layer.dataProvider()
        ds, _ = gdal_open(raster_layer.source())
        if ds is None:
            raise QgsProcessingException(tr("GDAL cannot read {src}").format(src=raster_layer.source()))
        gt = ds.GetGeoTransform()
        boxes, labels = [], []
        for feat in source.getFeatures():
            rect = tr_map.transformBoundingBox(feat.geometry().boundingBox())
            box = map_extent_to_box(gt, provider.xSize(), provider.ySize(), rect.xMinimum(), rect.yMinimum(),
                                    rect.xMaximum(), rect.yMaximum())
            if box is None:
                raise QgsProcessingException(tr("Box {fid} lies outside the image.").format(fid=feat.id()))
            boxes.append(box)
            if labelled:
                labels.append(parse_label(feat[field]))
        if not boxes:
            raise QgsProcessingException(tr("The box layer is empty."))
        return boxes, labels

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        import numpy as np

        from ..core.rasters import selo
        from ..core.rasters.encoders import (
            EncoderError,
            OnnxImageEncoder,
            OnnxTextEncoder,
            embed_photo_files,
        )
        from ..core.rasters.georaster import RasterInputError
        from ..core.rasters.selo_queries import HeadQuery, TextQuery, VectorQuery
        from ..qgis_ops.styles import SELO_OVERLAY_OPACITY, write_sidecar_style

        raster_layer = self.parameterAsRasterLayer(parameters, "RASTER", context)
        if raster_layer is None:
            raise QgsProcessingException(tr("Choose an image."))
        raster = raster_layer.source()
        out = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        kind = self.choice(parameters, "QUERY_KIND", context)
        version = self.choice(parameters, "VERSION", context)
        sizes = self._ints(self.parameterAsString(parameters, "SIZES", context), tr("Window sizes"))
        bands = self._ints(self.parameterAsString(parameters, "BANDS", context) or "", tr("Bands")) or None
        cache_dir = self.parameterAsString(parameters, "CACHE_DIR", context) or None
        try:
            encoder = OnnxImageEncoder(self.parameterAsFile(parameters, "IMAGE_MODEL", context))
            if kind == "text":
                text = self.parameterAsString(parameters, "TEXT", context)
                model = self.parameterAsFile(parameters, "TEXT_MODEL", context)
                if not model:
                    raise QgsProcessingException(tr("A text query needs the text encoder of the same model."))
                query = TextQuery(OnnxTextEncoder(model), text)
            elif kind in ("photos", "store_photos"):
                if kind == "photos":
                    paths = self.parameterAsFileList(parameters, "PHOTOS", context)
                else:
                    from ..core.store.flood_evidence import verified_flood_photos

                    with self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as store:
                        paths = verified_flood_photos(store)
                if not paths:
                    raise QgsProcessingException(tr("No exemplar photo: pick photos or verify flood photos first."))
                emb = embed_photo_files(encoder, paths)
                query = VectorQuery.from_embeddings(emb, f"{len(paths)} exemplar photos")
            else:
                boxes, labels = self._boxes(parameters, context, raster_layer, kind == "head")
                emb = selo.embed_layer_boxes(raster, encoder, np.array(boxes), cache_dir, bands)
                if kind == "head":
                    query = HeadQuery.train(emb, labels)
                else:
                    query = VectorQuery.from_embeddings(emb, f"{len(boxes)} exemplar boxes")
            result = selo.selo_map(raster, out, encoder, query, version, sizes, cache_dir, bands,
                                   Cancelable.monitor(feedback))
        except (EncoderError, RasterInputError, ValueError) as exc:
            raise _fail(exc) from exc
        overlay = self.parameterAsBoolean(parameters, "OVERLAY", context)
        write_sidecar_style(out, "jet", 0, 255, SELO_OVERLAY_OPACITY if overlay else 1.0)
        for w in result.warnings:
            feedback.pushWarning(w)
        feedback.pushInfo(tr("{n} windows, {c} from the cache").format(n=result.windows, c=result.from_cache))
        if context.willLoadLayerOnCompletion(out):
            self.place_loaded_output(context.layerToLoadOnCompletionDetails(out), _load_default_style)
        return {"OUTPUT": out, "RESULT": json.dumps(result.as_dict())}


class EvaluateSeloAlgorithm(MistAlgorithm):
    _name = "evaluateselo"
    _display_name = QT_TR_NOOP("Evaluate semantic localization (SLM metrics)")
    _group = GROUP
    _short_help = QT_TR_NOOP(
        "Rsu, Ras, Rda and Rmi (Yuan et al. 2022) of a probability map against annotated polygons, from a "
        "polygon layer in map or pixel coordinates; or of a folder of probmap_<index> files against the "
        "SeLo test set's anno.json (the dataset means)."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("PROBMAP", tr("Probability map"), optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "REGIONS", tr("Annotated regions"), [QgsProcessing.SourceType.TypeVectorPolygon], optional=True))
        self.add_choice("COORDINATES", tr("Region coordinates: map (through the map's geotransform) or pixel "
                                          "(x = column, y = row)"), options.REGION_COORDINATES)
        self.addParameter(QgsProcessingParameterFile(
            "ANNOTATIONS", tr("SeLo anno.json"), extension="json", optional=True))
        self.addParameter(QgsProcessingParameterFile(
            "PROBMAP_FOLDER", tr("Folder of probmap_<index> files"), QgsProcessingParameterFile.Behavior.Folder,
            optional=True))
        for key in ("RSU", "RAS", "RDA", "RMI"):
            self.addOutput(QgsProcessingOutputNumber(key, key.capitalize()))
        self.addOutput(QgsProcessingOutputString("METRICS", tr("Metrics (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.rasters import slm_metrics as slm

        annotations = self.parameterAsFile(parameters, "ANNOTATIONS", context)
        try:
            if annotations:
                metrics = self._dataset(annotations, self.parameterAsFile(parameters, "PROBMAP_FOLDER", context),
                                        feedback)
            else:
                metrics = self._single(parameters, context)
        except slm.SlmInputError as exc:
            raise _fail(exc) from exc
        push_lines(feedback, metrics)
        return {"RSU": metrics["Rsu"], "RAS": metrics["Ras"], "RDA": metrics["Rda"], "RMI": metrics["Rmi"],
                "METRICS": json.dumps(metrics)}

    def _single(self, parameters, context) -> dict:
        from ..core.rasters import slm_metrics as slm

        layer = self.parameterAsRasterLayer(parameters, "PROBMAP", context)
        source = self.parameterAsSource(parameters, "REGIONS", context)
        if layer is None or source is None:
            raise QgsProcessingException(tr("Give a probability map and its annotated regions, or an anno.json."))
        pixel = self.choice(parameters, "COORDINATES", context) == "pixel"
        tr_map = QgsCoordinateTransform(source.sourceCrs(), layer.crs(), context.transformContext())
        rings = []
        for feat in source.getFeatures():
            geom = feat.geometry()
            if not pixel and source.sourceCrs().isValid() and layer.crs().isValid():
                geom.transform(tr_map)
            for poly in geom.asMultiPolygon() if geom.isMultipart() else [geom.asPolygon()]:
                if len(poly) > 1:
                    raise QgsProcessingException(tr("Region {fid} has holes; SLM regions are simple polygons.")
                                                 .format(fid=feat.id()))
                ring = [(p.x(), p.y()) for p in poly[0]]
                rings.append(ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring)
        probmap = slm.read_probmap(layer.source())  # a clear message if GDAL cannot read it
        if not pixel:
            from ..core.rasters.georaster import gdal_open

            rings = slm.map_to_pixel(rings, gdal_open(layer.source())[0].GetGeoTransform())
        return slm.evaluate(probmap, rings)

    @staticmethod
    def _dataset(annotations: str, folder: str, feedback: QgsProcessingFeedback) -> dict:
        from ..core.rasters import slm_metrics as slm

        if not folder:
            raise QgsProcessingException(tr("Give the folder of probmap_<index> files."))
        results = []
        samples = slm.load_selo_annotations(annotations)
        for n, sample in enumerate(samples):
            if feedback.isCanceled():
                break
            found = sorted(Path(folder).glob(f"probmap_{sample.index}.*"))
            found = [f for f in found if f.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif", ".tiff")]
            if not found:
                raise QgsProcessingException(
                    tr("No probmap_{i} file in {folder}").format(i=sample.index, folder=folder))
            results.append(slm.evaluate(slm.read_probmap(found[0]), sample.regions))
            feedback.setProgress(100 * (n + 1) / len(samples))
        metrics = slm.mean_metrics(results)
        metrics["samples"] = len(results)
        return metrics


class InundationAlgorithm(MistAlgorithm):
    _name = "inundation"
    _display_name = QT_TR_NOOP("Inundation depth and extent")
    _group = GROUP
    _short_help = QT_TR_NOOP(
        "From the store's verified flood posts with a water depth and a DEM: water surface = ground + depth "
        "at each post, interpolated (inverse distance or nearest) up to a maximum distance from evidence; "
        "depth = surface - ground where positive, kept only where hydraulically connected to a post (water "
        "flows between cells sharing an edge, or also a corner when chosen). Distances and areas are ground "
        "metres on the WGS 84 ellipsoid whatever the DEM's CRS. Writes a depth GeoTIFF and extent polygons "
        "with areas in m² (GeoPackage, with the evidence points and why any was skipped) and reports "
        "neighbouring posts whose water surfaces disagree."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterRasterLayer("DEM", tr("DEM")))
        self.add_choice("METHOD", tr("Interpolation: inverse distance weighting (idw) or nearest post"),
                        options.INUNDATION_METHODS)
        from ..core.rasters.inundation import InundationParams

        defaults = InundationParams()
        number = QgsProcessingParameterNumber.Type.Double
        self.addParameter(QgsProcessingParameterNumber(
            "MAX_DISTANCE", tr("Maximum distance from evidence (m)"), number, defaults.max_distance_m, minValue=1.0))
        self.addParameter(QgsProcessingParameterNumber(
            "TOLERANCE", tr("Consistency tolerance (m)"), number, defaults.consistency_tolerance_m, minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(
            "NEIGHBOUR_DISTANCE", tr("Neighbouring posts within (m)"), number, defaults.neighbour_distance_m,
            minValue=0.0))
        self.add_choice("CONNECTIVITY", tr("Water connects through edges (4 neighbours) or edges and corners (8)"),
                        options.CONNECTIVITY)
        self.addParameter(QgsProcessingParameterBoolean(
            "ALLOW_DEEP", tr("Keep depths above 15 m (with a warning)"), defaultValue=False))
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", tr("Output folder")))
        self.addOutput(QgsProcessingOutputString("DEPTH", tr("Depth raster")))
        self.addOutput(QgsProcessingOutputString("EXTENT", tr("Extent polygons")))
        self.addOutput(QgsProcessingOutputNumber("FLOODED_AREA_M2", tr("Flooded area (m²)")))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Result (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.rasters.georaster import RasterInputError
        from ..core.rasters.inundation import InundationParams, inundation_from_store
        from ..core.store.flood_evidence import post_labels
        from ..qgis_ops.styles import style_extent_layer, write_sidecar_style

        dem = self.parameterAsRasterLayer(parameters, "DEM", context)
        if dem is None:
            raise QgsProcessingException(tr("Choose a DEM."))
        params = InundationParams(
            method=self.choice(parameters, "METHOD", context),
            max_distance_m=self.parameterAsDouble(parameters, "MAX_DISTANCE", context),
            consistency_tolerance_m=self.parameterAsDouble(parameters, "TOLERANCE", context),
            neighbour_distance_m=self.parameterAsDouble(parameters, "NEIGHBOUR_DISTANCE", context),
            connectivity=int(self.choice(parameters, "CONNECTIVITY", context)),
            allow_deep=self.parameterAsBoolean(parameters, "ALLOW_DEEP", context),
        )
        folder = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        with self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as store:
            try:
                result, _ = inundation_from_store(store, dem.source(), folder, params, Cancelable.monitor(feedback))
            except (RasterInputError, ValueError) as exc:
                raise _fail(exc) from exc
            pairs = result.inconsistencies
            named = post_labels(store, [pid for pid, _ in result.skipped] + [i.point_a for i in pairs] +
                                [i.point_b for i in pairs])
        write_sidecar_style(result.depth_path, "depth", 0.0, max(result.max_depth_m, 0.1))
        style_extent_layer(result.extent_path)
        for pid, reason in result.skipped:
            feedback.pushWarning(tr("{post} skipped: {reason}").format(post=named.get(pid, pid), reason=reason))
        for i in result.inconsistencies:
            feedback.pushWarning(tr("{a} and {b}: water surfaces differ by {d:.2f} m").format(
                a=named.get(i.point_a, i.point_a), b=named.get(i.point_b, i.point_b), d=i.difference_m))
        for w in result.warnings:
            feedback.pushWarning(w)
        self.load_output(context, result.depth_path, tr("Water depth"), "OUTPUT_FOLDER", _load_default_style)
        self.load_output(context, f"{result.extent_path}|layername=extent", tr("Flood extent"), "OUTPUT_FOLDER",
                         _load_default_style)
        return {"OUTPUT_FOLDER": folder, "DEPTH": result.depth_path, "EXTENT": result.extent_path,
                "FLOODED_AREA_M2": result.flooded_area_m2, "RESULT": json.dumps(result.as_dict())}
