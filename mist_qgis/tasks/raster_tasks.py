"""Background tasks for the raster products: density, semantic localization maps, inundation.

`run()` gets plain data, calls core with a monitor bound to the task's progress and cancel flag,
and writes sidecar styles; `finished()` (main thread) adds the layers, styled, to the project.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qgis.core import Qgis, QgsMessageLog, QgsProject, QgsRasterLayer, QgsTask, QgsVectorLayer

from ..core.rasters.georaster import Cancelled, Monitor
from ..i18n import tr
from ..log import TAG

GROUP = "MIST"


@dataclass
class LayerSpec:
    """A layer a task produced: its source and the name it gets in the layer tree."""

    source: str
    name: str
    provider: str = "gdal"


@dataclass
class RasterJobOutput:
    layers: list[LayerSpec] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def add_styled_layer(spec: LayerSpec, project: QgsProject | None = None, group_name: str = GROUP):
    """Load a MIST output with its stored style (renderer, opacity, temporal range) into a group."""
    project = project or QgsProject.instance()
    if spec.provider == "ogr":
        layer = QgsVectorLayer(spec.source, spec.name, "ogr")
    else:
        layer = QgsRasterLayer(spec.source, spec.name, spec.provider)
    if not layer.isValid():
        raise ValueError(tr("QGIS cannot open {source}").format(source=spec.source))
    layer.loadDefaultStyle()  # the sidecar .qml or the GeoPackage's default style, temporal range included
    project.addMapLayer(layer, False)
    root = project.layerTreeRoot()
    group = root.findGroup(group_name) or root.insertGroup(0, group_name)
    group.insertLayer(0, layer)
    return layer


class RasterTask(QgsTask):
    """Runs one raster job (a callable taking a Monitor) and adds its layers when done."""

    def __init__(self, description: str, job: Callable[[Monitor], RasterJobOutput],
                 project: QgsProject | None = None, on_done: Callable[[RasterTask], None] | None = None) -> None:
        super().__init__(description, QgsTask.Flag.CanCancel)
        self.job = job
        self.project = project
        self.on_done = on_done
        self.output: RasterJobOutput | None = None
        self.error: str | None = None
        self.layers: list = []

    def run(self) -> bool:
        try:
            self.output = self.job(Monitor(progress=self.setProgress, cancelled=self.isCanceled))
        except Cancelled:
            return False
        except Exception as exc:  # reported to the user in finished(), on the main thread
            self.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
            return False
        return True

    def finished(self, result: bool) -> None:
        if result and self.output is not None:
            for spec in self.output.layers:
                try:
                    self.layers.append(add_styled_layer(spec, self.project))
                except ValueError as exc:
                    self.error = str(exc)
            for warning in self.output.warnings:
                QgsMessageLog.logMessage(warning, TAG, Qgis.MessageLevel.Warning)
        elif self.error:
            QgsMessageLog.logMessage(f"{self.description()}: {self.error}", TAG, Qgis.MessageLevel.Critical)
        if self.on_done is not None:
            self.on_done(self)


# -- the jobs -------------------------------------------------------------------------------------


def density_job(store_path: str, out_dir: str, kind: str = "all", radius_m: float = 500.0, pixel_m: float = 25.0,
                slice_by: str | None = None, cumulative: bool = False, flood_label: str = "flood"):
    def job(monitor: Monitor) -> RasterJobOutput:
        from ..core.rasters.density import post_density
        from ..core.store import open_store
        from ..core.store.flood_evidence import density_points

        with open_store(store_path, read_only=True) as store:
            points = density_points(store, kind, flood_label)
        result = post_density(points, out_dir, kind, radius_m, pixel_m, slice_by, cumulative, monitor=monitor)
        layers = [LayerSpec(s.path, Path(s.path).stem) for s in result.slices]
        return RasterJobOutput(layers, result.as_dict(), result.warnings)

    return job


@dataclass
class SeloRequest:
    """A SeLo run as plain data: the image, the model files and the query."""

    raster: str
    out: str
    image_model: str
    text: str | None = None
    text_model: str | None = None
    photos: Sequence[str] = ()
    boxes: Sequence[tuple[int, int, int, int]] = ()
    labels: Sequence[int] = ()
    version: str = "v1"
    sizes: Sequence[int] = (256, 512, 768)
    cache_dir: str | None = None
    overlay: bool = True


def selo_job(req: SeloRequest):
    def job(monitor: Monitor) -> RasterJobOutput:
        import numpy as np

        from ..core.rasters import selo
        from ..core.rasters.encoders import OnnxImageEncoder, OnnxTextEncoder, embed_photo_files
        from ..core.rasters.selo_queries import HeadQuery, TextQuery, VectorQuery
        from ..core.rasters.styles import SELO_OVERLAY_OPACITY, write_sidecar_style

        encoder = OnnxImageEncoder(req.image_model)
        if req.text is not None:
            if not req.text_model:
                raise ValueError(tr("A text query needs the text encoder of the same model."))
            query = TextQuery(OnnxTextEncoder(req.text_model), req.text)
        elif req.photos:
            query = VectorQuery.from_embeddings(embed_photo_files(encoder, req.photos),
                                                f"{len(req.photos)} exemplar photos")
        elif req.boxes:
            emb = selo.embed_layer_boxes(req.raster, encoder, np.array(req.boxes), req.cache_dir)
            query = (HeadQuery.train(emb, req.labels) if req.labels
                     else VectorQuery.from_embeddings(emb, f"{len(req.boxes)} exemplar boxes"))
        else:
            raise ValueError(tr("Give a text, exemplar photos or boxes to look for."))
        result = selo.selo_map(req.raster, req.out, encoder, query, req.version, req.sizes, req.cache_dir,
                               monitor=monitor)
        write_sidecar_style(req.out, "jet", 0, 255, SELO_OVERLAY_OPACITY if req.overlay else 1.0)
        name = f"SeLo {req.version}: {query.description or query.kind}"
        return RasterJobOutput([LayerSpec(req.out, name)], result.as_dict(), result.warnings)

    return job


def inundation_job(store_path: str, dem: str, out_dir: str, params=None):
    def job(monitor: Monitor) -> RasterJobOutput:
        from ..core.rasters.inundation import inundation_from_store
        from ..core.rasters.styles import style_extent_layer, write_sidecar_style
        from ..core.store import open_store

        with open_store(store_path) as store:
            result, _ = inundation_from_store(store, dem, out_dir, params, monitor)
        write_sidecar_style(result.depth_path, "depth", 0.0, max(result.max_depth_m, 0.1))
        style_extent_layer(result.extent_path)
        warnings = list(result.warnings)
        warnings += [tr("point {pid} skipped: {reason}").format(pid=p, reason=r) for p, r in result.skipped]
        warnings += [tr("posts {a} and {b}: water surfaces differ by {d:.2f} m").format(
            a=i.point_a, b=i.point_b, d=i.difference_m) for i in result.inconsistencies]
        layers = [LayerSpec(f"{result.extent_path}|layername=extent", tr("Flood extent"), "ogr"),
                  LayerSpec(result.depth_path, tr("Water depth"))]
        return RasterJobOutput(layers, result.as_dict(), warnings)

    return job
