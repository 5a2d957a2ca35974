"""Kernel density of flood evidence with QGIS's own heatmap algorithm, radius and pixel size in
metres whatever the input CRS, optionally as a time series the temporal controller plays.

The posts are first projected to the UTM zone of their centre (a local metric CRS), so "500 m"
means 500 m on the ground. Every time slice carries two zero-weight points at the corners of
the whole collection's extent, so all slices share one grid and one colour range. Needs
qgis.core and an initialised Processing registry; imports are local.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..store.flood_evidence import DENSITY_KINDS, EvidencePoint
from .georaster import Cancelled, Monitor

KDE_NAME = "heatmapkerneldensityestimation"
SLICES = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


class DensityError(ValueError):
    """Density cannot be computed as asked; the message says why."""


@dataclass
class DensitySlice:
    path: str
    start: str | None
    end: str | None
    points: int


@dataclass
class DensityResult:
    kind: str
    algorithm: str
    crs: str
    radius_m: float
    pixel_m: float
    points: int
    slices: list[DensitySlice]
    value_range: tuple[float, float]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


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


def utm_epsg(lon: float, lat: float) -> int:
    zone = min(max(int(math.floor((lon + 180.0) / 6.0)) + 1, 1), 60)
    return (32600 if lat >= 0 else 32700) + zone


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def slice_points(points: Sequence[EvidencePoint], slice_by: str, cumulative: bool
                 ) -> tuple[list[tuple[datetime, datetime, list[EvidencePoint]]], int]:
    """(start, end, points) per hour/day from the first to the last post; and the undated count."""
    step = SLICES[slice_by]
    dated = [(parse_time(p.timestamp), p) for p in points]
    undated = sum(1 for t, _ in dated if t is None)
    dated = [(t, p) for t, p in dated if t is not None]
    if not dated:
        return [], undated
    first = min(t for t, _ in dated)
    first = first.replace(minute=0, second=0, microsecond=0)
    if slice_by == "day":
        first = first.replace(hour=0)
    last = max(t for t, _ in dated)
    out = []
    start = first
    while start <= last:
        end = start + step
        lo = first if cumulative else start
        out.append((start, end, [p for t, p in dated if lo <= t < end]))
        start = end
    return out, undated


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
    """Density raster(s) of `points` (lon/lat, weight) in `out_dir`, each with a sidecar style.

    With `slice_by` ("hour" or "day") one raster per slice with a fixed temporal range; with
    `cumulative` each slice holds every post up to its end (the flood's growth).
    """
    from .styles import common_range, write_sidecar_style

    if kind not in DENSITY_KINDS:
        raise DensityError(f"kind must be one of {DENSITY_KINDS}")
    if not (radius_m > 0 and pixel_m > 0):
        raise DensityError("radius and pixel size must be positive (metres)")
    if slice_by is not None and slice_by not in SLICES:
        raise DensityError(f"time slices are {tuple(SLICES)}, not {slice_by!r}")
    points = [p for p in points if math.isfinite(p.lon) and math.isfinite(p.lat) and -90 <= p.lat <= 90
              and -180 <= p.lon <= 180 and p.weight > 0]
    if not points:
        raise DensityError(f"no located post for a '{kind}' density (check the store's verdicts and predictions)")
    monitor = monitor or Monitor()
    warnings: list[str] = []
    lons, lats = [p.lon for p in points], [p.lat for p in points]
    epsg = utm_epsg((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)
    if max(lons) - min(lons) > 12:
        warnings.append("the posts span more than two UTM zones: distances far from the centre are distorted")
    corners = _extent_corners(points, epsg)
    width = (corners[1][0] - corners[0][0] + 2 * radius_m) / pixel_m
    height = (corners[1][1] - corners[0][1] + 2 * radius_m) / pixel_m
    if width * height > 400e6:
        raise DensityError(f"{width:.0f} x {height:.0f} pixels: choose a larger pixel size")
    alg_id = kde_algorithm_id()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = name or f"density_{kind}"
    jobs: list[tuple[Path, datetime | None, datetime | None, list[EvidencePoint]]] = []
    if slice_by is None:
        jobs.append((out_dir / f"{base}.tif", None, None, points))
    else:
        slices, undated = slice_points(points, slice_by, cumulative)
        if undated:
            warnings.append(f"{undated} posts have no usable timestamp and are in no time slice")
        if not slices:
            raise DensityError("no post has a timestamp: time slices are impossible")
        fmt = "%Y%m%dT%H" if slice_by == "hour" else "%Y%m%d"
        jobs += [(out_dir / f"{base}_{s.strftime(fmt)}.tif", s, e, pts) for s, e, pts in slices]
    done: list[DensitySlice] = []
    for i, (path, start, end, pts) in enumerate(jobs):
        monitor.report(i / len(jobs))
        if feedback is not None and feedback.isCanceled():
            raise Cancelled()
        _run_kde(alg_id, _metric_layer(pts, epsg, corners), radius_m, pixel_m, path, feedback)
        done.append(DensitySlice(str(path), start.isoformat() if start else None, end.isoformat() if end else None,
                                 len(pts)))
    lo, hi = common_range([d.path for d in done])
    for (path, start, end, _), _d in zip(jobs, done, strict=True):
        write_sidecar_style(path, "hot", 0.0, hi, time_range=(start, end) if start else None)
    monitor.report(1.0)
    return DensityResult(kind, alg_id, f"EPSG:{epsg}", radius_m, pixel_m, len(points), done, (lo, hi), warnings)
