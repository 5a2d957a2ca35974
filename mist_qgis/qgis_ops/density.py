"""Kernel density of flood evidence with QGIS's own heatmap algorithm, radius and pixel size in
metres whatever the input CRS, optionally as a time series the temporal controller plays.

`core.rasters.density.plan_density` decides the rasters; here the posts are projected to the
plan's UTM zone and each raster is QGIS's heatmap of them. Every time slice carries two
zero-weight points at the corners of the whole collection's extent, so all slices share one grid
and one colour range. Needs an initialised Processing registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.errors import Cancelled
from ..core.rasters.density import DensityError, DensityResult, DensitySlice, plan_density
from ..core.stage import Monitor
from ..core.store.flood_evidence import EvidencePoint

KDE_NAME = "heatmapkerneldensityestimation"
MAX_PIXELS = 400e6


def kde_algorithm_id() -> str:
    """The heatmap algorithm's id in this QGIS (`qgis:` in 3.22, `native:` in later releases)."""
    from qgis.core import QgsApplication

    ids = [a.id() for a in QgsApplication.processingRegistry().algorithms() if a.id().split(":")[-1] == KDE_NAME]
    for provider in ("native", "qgis"):
        if f"{provider}:{KDE_NAME}" in ids:
            return f"{provider}:{KDE_NAME}"
    if ids:
        return ids[0]
    raise DensityError("QGIS's heatmap (kernel density estimation) algorithm is not available: enable Processing")


def _metric_layer(points: Sequence[EvidencePoint], epsg: int, corners: tuple[tuple[float, float], ...]):
    """A memory point layer in EPSG:`epsg` with a `weight` field; corner anchors carry weight 0."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsFeature,
        QgsGeometry,
        QgsPointXY,
        QgsProject,
        QgsVectorLayer,
    )

    # The field in the URI: no QVariant/QMetaType type constant, the same on Qt 5 and Qt 6.
    layer = QgsVectorLayer(f"Point?crs=EPSG:{epsg}&field=weight:double", "posts_metric", "memory")
    tr = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), QgsCoordinateReferenceSystem(f"EPSG:{epsg}"),
                                QgsProject.instance())
    feats = []
    for p in points:
        f = QgsFeature(layer.fields())
        f.setGeometry(QgsGeometry.fromPointXY(tr.transform(QgsPointXY(p.lon, p.lat))))
        f.setAttributes([float(p.weight)])
        feats.append(f)
    for x, y in corners:
        f = QgsFeature(layer.fields())
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        f.setAttributes([0.0])
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    return layer


def _extent_corners(points: Sequence[EvidencePoint], epsg: int) -> tuple[tuple[float, float], ...]:
    from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject

    tr = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), QgsCoordinateReferenceSystem(f"EPSG:{epsg}"),
                                QgsProject.instance())
    xy = [tr.transform(QgsPointXY(p.lon, p.lat)) for p in points]
    xs, ys = [q.x() for q in xy], [q.y() for q in xy]
    return (min(xs), min(ys)), (max(xs), max(ys))


def _run_kde(alg_id: str, layer, radius_m: float, pixel_m: float, out_path: Path, feedback) -> None:
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback, QgsProject

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    params = {"INPUT": layer, "RADIUS": float(radius_m), "PIXEL_SIZE": float(pixel_m), "WEIGHT_FIELD": "weight",
              "KERNEL": 0, "DECAY": 0.0, "OUTPUT_VALUE": 0, "OUTPUT": str(out_path)}
    results, ok = alg.run(params, context, feedback or QgsProcessingFeedback())
    if not ok or not Path(out_path).exists():
        raise DensityError(f"QGIS's heatmap algorithm failed for {out_path.name}")


def post_density(
    points: Sequence[EvidencePoint], out_dir: str | Path, kind: str = "all", radius_m: float = 500.0,
    pixel_m: float = 25.0, slice_by: str | None = None, cumulative: bool = False, feedback=None,
    monitor: Monitor | None = None, name: str | None = None,
) -> DensityResult:
    """Density raster(s) of `points` (lon/lat, weight) in `out_dir`, each with a sidecar style
    (see `plan_density` for slices)."""
    from .styles import common_range, write_sidecar_style

    plan = plan_density(points, out_dir, kind, radius_m, pixel_m, slice_by, cumulative, name)
    monitor = monitor or Monitor()
    corners = _extent_corners(plan.points, plan.epsg)
    width = (corners[1][0] - corners[0][0] + 2 * radius_m) / pixel_m
    height = (corners[1][1] - corners[0][1] + 2 * radius_m) / pixel_m
    if width * height > MAX_PIXELS:
        raise DensityError(f"{width:.0f} x {height:.0f} pixels: choose a larger pixel size")
    alg_id = kde_algorithm_id()
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    done: list[DensitySlice] = []
    for i, job in enumerate(plan.jobs):
        monitor.report(i / len(plan.jobs))
        if feedback is not None and feedback.isCanceled():
            raise Cancelled()
        _run_kde(alg_id, _metric_layer(job.points, plan.epsg, corners), radius_m, pixel_m, job.path, feedback)
        done.append(DensitySlice(str(job.path), job.start.isoformat() if job.start else None,
                                 job.end.isoformat() if job.end else None, len(job.points)))
    lo, hi = common_range([d.path for d in done])
    for job in plan.jobs:
        write_sidecar_style(job.path, "hot", 0.0, hi, time_range=(job.start, job.end) if job.start else None)
    monitor.report(1.0)
    return DensityResult(kind, alg_id, f"EPSG:{plan.epsg}", radius_m, pixel_m, len(plan.points), done, (lo, hi),
                         plan.warnings)
