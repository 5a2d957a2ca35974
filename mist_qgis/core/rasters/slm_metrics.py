"""The semantic localization metrics Rsu, Ras, Rda and Rmi (Yuan et al., TGRS 2022).

Implemented exactly as `shared/specs/selo.md` section 2.4 defines them, integer truncations,
filters and thresholds included, and with the regions rasterised by the rule of the reference's
OpenCV (`region_mask`) rather than the installed one, so MIST's numbers are comparable with the
published tables.
Where the original has an undefined case (a mask covering no pixel) this module refuses with a
clear error instead of returning NaN.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MistError
from .georaster import gdal_open

RSU_BETA = 0.707
RSU_EPS = 1e-7
RAS_EXPAND_FACTOR = 1.5
RAS_FILTER_TIMES = 5
RAS_FILTER_SIZE = 50
RAS_MAX_FILTER_SIZE = 1000
RAS_SCALA_BETA = 3
RAS_MIN_PROB = 0.5
RDA_ETA = 0.5
RMI_WSU, RMI_WAS, RMI_WDA = 0.4, 0.35, 0.25

Region = Sequence[Sequence[float]]


class SlmInputError(MistError, ValueError):
    """The probability map or the regions cannot be evaluated; the message says why."""


@dataclass(frozen=True)
class SeloSample:
    """One sample of the SeLo test set: a caption, its image and the annotated regions."""

    index: int
    caption: str
    image_name: str
    regions: list[list[list[float]]]


# -- inputs ----------------------------------------------------------------------------------


def as_probability(probmap: np.ndarray) -> np.ndarray:
    """P in [0, 1] as float64: uint8 maps are divided by 255.0 as the reference reads its JPEGs."""
    arr = np.asarray(probmap)
    if arr.ndim != 2 or arr.size == 0:
        raise SlmInputError(f"the probability map must be a non-empty 2-D array, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr / 255.0
    if arr.dtype.kind not in "fiu":
        raise SlmInputError(f"unsupported probability map type {arr.dtype}")
    prob = arr.astype(np.float64)
    if not np.isfinite(prob).all():
        raise SlmInputError("the probability map holds NaN or infinite values")
    if prob.min() < 0.0 or prob.max() > 1.0:
        raise SlmInputError(
            f"a float probability map must lie in [0, 1]; got [{prob.min():g}, {prob.max():g}] "
            "(pass uint8 for 0-255 maps)"
        )
    return prob


def _check_regions(regions: Iterable[Region]) -> list[np.ndarray]:
    checked = []
    for k, region in enumerate(regions):
        try:
            pts = np.asarray(region, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SlmInputError(f"region {k} is not a list of [x, y] pairs") from exc
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
            raise SlmInputError(f"region {k} must be a polygon of at least 3 [x, y] vertices")
        if not np.isfinite(pts).all():
            raise SlmInputError(f"region {k} has NaN or infinite coordinates")
        checked.append(pts)
    if not checked:
        raise SlmInputError("no annotated region: the metrics need at least one polygon")
    return checked


# -- the pieces of the metrics ------------------------------------------------------------------


XY_SHIFT = 16  # the reference's polygon filler steps edges in 16.16 fixed point


def region_mask(shape: tuple[int, int], regions: Sequence[np.ndarray]) -> np.ndarray:
    """M: every polygon filled with 1 as the reference's `cv2.fillPoly` call did (OpenCV up to 4.7).

    Rasterised here rather than by the installed OpenCV: OpenCV 4.8 to 4.10 moved filled polygon
    edges (opencv/opencv#23076, then #26187), which changes Rsu by up to 1.4e-2 on narrow maps with
    slanted edges. The rule, for one call with all polygons: vertices truncated to integers; every
    edge drawn as an 8-connected line (`_line_pixels`); the inside filled by scanlines with the
    even-odd rule across all polygons, each edge covering rows y0 <= y < y1 and stepping its x in
    16.16 fixed point from its upper vertex, each span from ceil(x_left) to floor(x_right).
    """
    h, w = shape
    mask = np.zeros(shape, dtype=np.float64)
    edges = []
    for region in regions:
        pts = np.asarray(region, dtype=np.float64).astype(np.int64)
        for (x0, y0), (x1, y1) in zip(np.roll(pts, 1, axis=0).tolist(), pts.tolist(), strict=True):
            xs, ys = _line_pixels(x0, y0, x1, y1, w, h)
            mask[ys, xs] = 1.0
            if y0 != y1:
                top_x, top_y, bottom_y = (x0, y0, y1) if y0 < y1 else (x1, y1, y0)
                num, den = (x1 - x0) << XY_SHIFT, y1 - y0
                step = abs(num) // abs(den) * (1 if (num < 0) == (den < 0) else -1)  # C division truncates
                edges.append((top_y, bottom_y, top_x << XY_SHIFT, step))
    if len(edges) < 2:
        return mask
    ys_all, xs_all = [], []
    for y0, y1, x, step in edges:
        rows = np.arange(max(y0, 0), min(y1, h), dtype=np.int64)
        ys_all.append(rows)
        xs_all.append(x + (rows - y0) * step)
    ys, xs = np.concatenate(ys_all), np.concatenate(xs_all)
    order = np.lexsort((xs, ys))
    ys, xs = ys[order], xs[order]
    # active edges pair up left to right within each row (their count per row is even)
    left, right, row = xs[0::2], xs[1::2], ys[0::2]
    start = np.maximum((left + (1 << XY_SHIFT) - 1) >> XY_SHIFT, 0)
    stop = np.minimum(right >> XY_SHIFT, w - 1)
    for y, a, b in zip(row.tolist(), start.tolist(), stop.tolist(), strict=True):
        if a <= b:
            mask[y, a:b + 1] = 1.0
    return mask


def _clip_line(w: int, h: int, x1: int, y1: int, x2: int, y2: int) -> tuple[int, int, int, int] | None:
    """The reference OpenCV's `clipLine` (integer endpoints, truncating double arithmetic), or None
    when the segment misses the image."""
    right, bottom = w - 1, h - 1

    def code(x: int, y: int, with_y: bool = True) -> int:
        return (x < 0) + (x > right) * 2 + ((y < 0) * 4 + (y > bottom) * 8 if with_y else 0)

    c1, c2 = code(x1, y1), code(x2, y2)
    if (c1 & c2) == 0 and (c1 | c2) != 0:
        if c1 & 12:
            a = 0 if c1 < 8 else bottom
            x1 += int((a - y1) * (x2 - x1) / (y2 - y1))
            y1 = a
            c1 = code(x1, y1, False)
        if c2 & 12:
            a = 0 if c2 < 8 else bottom
            x2 += int((a - y2) * (x2 - x1) / (y2 - y1))
            y2 = a
            c2 = code(x2, y2, False)
        if (c1 & c2) == 0 and (c1 | c2) != 0:
            if c1:
                a = 0 if c1 == 1 else right
                y1 += int((a - x1) * (y2 - y1) / (x2 - x1))
                x1 = a
                c1 = 0
            if c2:
                a = 0 if c2 == 1 else right
                y2 += int((a - x2) * (y2 - y1) / (x2 - x1))
                x2 = a
                c2 = 0
    return None if c1 | c2 else (x1, y1, x2, y2)


def _line_pixels(x1: int, y1: int, x2: int, y2: int, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and rows of OpenCV's 8-connected line from (x1, y1) to (x2, y2), clipped to the image
    and drawn left to right (Bresenham: the minor coordinate of step k is ceil((2 B k - A) / 2 A)
    for a major extent A and minor extent B)."""
    if not (0 <= x1 < w and 0 <= x2 < w and 0 <= y1 < h and 0 <= y2 < h):
        clipped = _clip_line(w, h, x1, y1, x2, y2)
        if clipped is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        x1, y1, x2, y2 = clipped
    if x2 < x1:
        x1, y1, x2, y2 = x2, y2, x1, y1
    dx, dy = x2 - x1, y2 - y1
    sy = -1 if dy < 0 else 1
    major, minor = (dx, abs(dy)) if abs(dy) <= dx else (abs(dy), dx)
    k = np.arange(major + 1, dtype=np.int64)
    m = -((major - 2 * minor * k) // (2 * major)) if major else k
    if abs(dy) <= dx:
        return x1 + k, y1 + sy * m
    return x1 + m, y1 + sy * k


def region_centre_radius(region: np.ndarray) -> tuple[int, int, int]:
    """Vertex mean truncated to int, radius = int(1.5 * mean vertex distance to that centre)."""
    pts = np.asarray(region, dtype=np.float64)
    cx = int(np.sum(pts[:, 0]) / len(pts))
    cy = int(np.sum(pts[:, 1]) / len(pts))
    dist = np.mean([np.linalg.norm(p - np.array([cx, cy])) for p in pts])
    return cx, cy, int(dist * RAS_EXPAND_FACTOR)


def candidate_centres(prob: np.ndarray) -> list[tuple[int, int]]:
    """Attention centres [x, y]: smoothed local maxima of the grey map with P >= 0.5, best first."""
    import cv2
    from scipy.ndimage import maximum_filter
    from skimage.measure import label, regionprops

    gray = np.asarray(prob * 255.0, dtype=np.uint8)
    for _ in range(RAS_FILTER_TIMES):
        gray = cv2.boxFilter(gray, ddepth=-1, ksize=(RAS_FILTER_SIZE, RAS_FILTER_SIZE),
                             borderType=cv2.BORDER_REFLECT_101)
    peak = maximum_filter(gray, size=RAS_MAX_FILTER_SIZE, mode="reflect")
    binary = np.where(peak == gray, gray, 0) > 0
    labels = label(binary, connectivity=2)
    centres = []
    for prop in regionprops(labels):
        row, col = (int(v) for v in prop.centroid)
        centres.append((col, row, float(prob[row][col])))
    centres.sort(key=lambda c: c[2], reverse=True)  # stable, like list.sort in the reference
    return [(x, y) for x, y, p in centres if p >= RAS_MIN_PROB]


def rsu(prob: np.ndarray, mask: np.ndarray) -> float:
    """Salient-area ratio: how much of the attention falls inside the annotated regions."""
    area = float(np.sum(mask))
    if area <= 0:
        raise SlmInputError("the annotated regions cover no pixel of the probability map")
    inside = float(np.sum(np.multiply(prob, mask)))
    total = float(np.sum(prob))
    left = inside / (total - inside + RSU_EPS)
    right = (prob.shape[0] * prob.shape[1] - area) / area
    return float(1.0 - np.exp(-RSU_BETA * left * right))


def ras_from_ratio(g: float) -> float:
    """Scale the mean granular offset g in [0, 1] to Ras = (e^(3g) - 1) / (e^3 - 1)."""
    return float((np.exp(RAS_SCALA_BETA * g) - 1) / (np.exp(RAS_SCALA_BETA) - 1))


def ras(centres_radii: Sequence[tuple[int, int, int]], candidates: Sequence[tuple[int, int]]) -> float:
    """Attention shift. With no candidate the reference keeps only region 1's offset: Ras = 1."""
    if not candidates:
        offsets = [centres_radii[0][2]]
    else:
        offsets = []
        for x, y, r in centres_radii:
            dists = [float(np.linalg.norm(np.array([x, y]) - np.array(q))) for q in candidates]
            inside = [d for d in dists if d <= r]
            offsets.append(float(np.mean(inside)) if inside else r)
    g = float(np.mean([off / v[2] for off, v in zip(offsets, centres_radii, strict=False)]))
    return ras_from_ratio(g)


def rda_single(n: int, mean_dispersion: float) -> float:
    """Dispersion score of one region with n candidates and mean distance md (already / r)."""
    if n <= 1:
        return float(n)
    return float(0.5 * (1 - mean_dispersion) + np.exp(-RDA_ETA * (n + 2)))


def rda(centres_radii: Sequence[tuple[int, int, int]], candidates: Sequence[tuple[int, int]]) -> float:
    """Attention dispersion: one compact centre inside each region scores best."""
    values = []
    for x, y, r in centres_radii:
        backup = [q for q in candidates if np.linalg.norm(np.array([x, y]) - np.array(q)) <= r]
        if len(backup) <= 1:
            values.append(rda_single(len(backup), 0.0))
            continue
        mean_point = np.average(np.asarray(backup, dtype=np.float64), axis=0)
        md = float(np.mean([np.linalg.norm(mean_point - np.array(q)) for q in backup])) / r
        values.append(rda_single(len(backup), md))
    return float(np.mean(values))


def rmi(rsu_value: float, ras_value: float, rda_value: float) -> float:
    """The overall score 0.4 Rsu + 0.35 (1 - Ras) + 0.25 Rda."""
    return RMI_WSU * rsu_value + RMI_WAS * (1 - ras_value) + RMI_WDA * rda_value


def evaluate(probmap: np.ndarray, regions: Sequence[Region]) -> dict[str, float]:
    """Rsu, Ras, Rda and Rmi of one probability map against its annotated polygons.

    `probmap`: 2-D uint8 (0-255, divided by 255.0) or float in [0, 1]; `regions`: polygons as
    lists of [x, y] pixel coordinates (x = column, y = row).
    """
    prob = as_probability(probmap)
    polys = _check_regions(regions)
    mask = region_mask(prob.shape, polys)
    rsu_value = rsu(prob, mask)
    centres_radii = [region_centre_radius(p) for p in polys]
    for k, (_, _, r) in enumerate(centres_radii):
        if r <= 0:
            raise SlmInputError(f"region {k} is degenerate: its radius truncates to 0 pixels")
    candidates = candidate_centres(prob)
    ras_value = ras(centres_radii, candidates)
    rda_value = rda(centres_radii, candidates)
    return {"Rsu": rsu_value, "Ras": ras_value, "Rda": rda_value, "Rmi": rmi(rsu_value, ras_value, rda_value)}


def mean_metrics(results: Sequence[dict[str, float]]) -> dict[str, float]:
    """Dataset score: the arithmetic mean of each metric over the samples."""
    if not results:
        raise SlmInputError("no evaluated sample to average")
    return {key: float(np.mean([r[key] for r in results])) for key in ("Rsu", "Ras", "Rda", "Rmi")}


# -- loaders -----------------------------------------------------------------------------------


def read_probmap(path: str | Path) -> np.ndarray:
    """Band 1 of any GDAL-readable grey probability map (GeoTIFF, JPEG, PNG) as uint8."""
    ds, message = gdal_open(path)
    if ds is None:
        raise SlmInputError(f"cannot open probability map {path}: {message or 'not a raster GDAL can read'}")
    band = ds.GetRasterBand(1)
    arr = band.ReadAsArray()
    if arr.dtype != np.uint8:
        raise SlmInputError(f"{path}: expected an 8-bit grey probability map, got {arr.dtype}")
    return arr


def load_selo_annotations(path: str | Path) -> list[SeloSample]:
    """The SeLo test set's `anno.json`: a list of {caption, jpg_name, points: [polygon, ...]}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SlmInputError(f"cannot read SeLo annotations {path}: {exc}") from exc
    if not isinstance(data, list):
        raise SlmInputError(f"{path}: expected a JSON list of samples")
    samples = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not {"caption", "jpg_name", "points"} <= set(item):
            raise SlmInputError(f"{path}: sample {i} lacks caption, jpg_name or points")
        name = str(item["jpg_name"])
        if Path(name).name != name or name in ("", ".", ".."):
            raise SlmInputError(f"{path}: sample {i} names an image outside the image folder: {name!r}")
        polys = _check_regions(item["points"]) if isinstance(item["points"], list) else None
        if polys is None:
            raise SlmInputError(f"{path}: sample {i} points must be a list of polygons")
        samples.append(SeloSample(i, str(item["caption"]), name, [p.tolist() for p in polys]))
    return samples


def map_to_pixel(rings: Sequence[Sequence[Sequence[float]]], geotransform: Sequence[float]) -> list[list[list[float]]]:
    """Polygons in map coordinates to [x = column, y = row] pixel coordinates of a raster."""
    from osgeo import gdal

    inv = gdal.InvGeoTransform(tuple(geotransform))
    if inv is None:
        raise SlmInputError("the raster's geotransform cannot be inverted")
    return [[list(gdal.ApplyGeoTransform(inv, float(x), float(y))) for x, y, *_ in ring] for ring in rings]


def regions_from_layer(
    vector_path: str | Path, layer: str | None = None, coordinates: str = "pixel",
    raster_path: str | Path | None = None,
) -> list[list[list[float]]]:
    """Polygons of a vector layer as pixel regions (each part's exterior ring is one region).

    `coordinates="pixel"`: x is the column and y the row (a layer drawn on an unreferenced image;
    rows growing downwards). `"map"`: coordinates in a CRS, turned into pixels through the
    raster's geotransform, reprojected first if the layer's CRS differs from the raster's.
    Holes are not part of the metric's definition; a polygon with holes is refused.
    """
    from osgeo import gdal, ogr, osr

    if coordinates not in ("pixel", "map"):
        raise SlmInputError(f"coordinates must be 'pixel' or 'map', not {coordinates!r}")
    ds, message = gdal_open(vector_path, vector=True)
    if ds is None:
        raise SlmInputError(f"cannot open polygon layer {vector_path}: {message or 'not a layer GDAL can read'}")
    lyr = ds.GetLayerByName(layer) if layer else ds.GetLayer(0)
    if lyr is None:
        raise SlmInputError(f"{vector_path} has no layer {layer!r}")
    inv = transform = None
    if coordinates == "map":
        if raster_path is None:
            raise SlmInputError("map coordinates need the raster whose geotransform maps them to pixels")
        rds, message = gdal_open(raster_path)
        if rds is None:
            raise SlmInputError(f"cannot open raster {raster_path}: {message or 'not a raster GDAL can read'}")
        inv = gdal.InvGeoTransform(rds.GetGeoTransform())
        if inv is None:
            raise SlmInputError(f"{raster_path}: its geotransform cannot be inverted")
        src, dst = lyr.GetSpatialRef(), rds.GetSpatialRef()
        if src is not None and dst is not None and not src.IsSame(dst):
            src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            dst = dst.Clone()
            dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            transform = osr.CoordinateTransformation(src, dst)
    regions: list[list[list[float]]] = []
    for feature in lyr:
        geom = feature.GetGeometryRef()
        if geom is None or geom.IsEmpty():
            continue
        geom = geom.Clone()
        if transform is not None:
            geom.Transform(transform)
        flat = ogr.GT_Flatten(geom.GetGeometryType())
        parts = [geom] if flat == ogr.wkbPolygon else (
            [geom.GetGeometryRef(i) for i in range(geom.GetGeometryCount())] if flat == ogr.wkbMultiPolygon else []
        )
        if not parts:
            raise SlmInputError(f"feature {feature.GetFID()} of {vector_path} is not a polygon")
        for part in parts:
            if part.GetGeometryCount() > 1:
                raise SlmInputError(f"feature {feature.GetFID()} has holes; SLM regions are simple polygons")
            ring = part.GetGeometryRef(0)
            pts = [ring.GetPoint_2D(i) for i in range(ring.GetPointCount())]
            if len(pts) > 1 and pts[0] == pts[-1]:
                pts = pts[:-1]  # OGR closes rings; the annotations do not
            if inv is not None:
                pts = [gdal.ApplyGeoTransform(inv, x, y) for x, y in pts]
            regions.append([[float(x), float(y)] for x, y in pts])
    if not regions:
        raise SlmInputError(f"{vector_path} holds no polygon")
    return regions

