"""Inundation depth and extent from verified flood points with water depth and a DEM.

Each evidence point implies a water-surface elevation (ground + depth). The surface is
interpolated between points (inverse distance weighting or nearest point) up to a maximum distance
from evidence; depth = surface - ground where positive; and only wet cells hydraulically connected
to an evidence point are kept, so a low basin behind a ridge does not flood just because it is low.
Water connects through cell edges (4 neighbours) by default, or through edges and corners (8
neighbours) when asked; the extent polygons follow the same rule.

Distances (the maximum distance from evidence, IDW weights, the neighbour distance) and areas are
measured on the ground (the WGS 84 ellipsoid, see `ground`), never in the DEM's CRS units, so a DEM
in Web Mercator, UTM, a local CRS or longitude/latitude gives the same flood for the same terrain.

The surface is evaluated exactly at nodes every `step` cells (step 1, exact everywhere, for DEMs
up to about a million cells) and refined bilinearly in between: water surfaces are smooth, and
this keeps a 25-million-cell DEM within seconds. Depth and connectivity are always per cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..options import CONNECTIVITY, INUNDATION_METHODS
from ..stage import Monitor, run_stage
from .georaster import RasterInputError, create_geotiff, open_raster
from .ground import GroundGrid

MAX_PLAUSIBLE_DEPTH_M = 15.0
DEPTH_NODATA = -9999.0
METHODS = INUNDATION_METHODS.names
NODE_BUDGET = 1_000_000


@dataclass(frozen=True)
class DepthPoint:
    """One piece of evidence: a location (in `crs`, default WGS 84 lon/lat) and a water depth."""

    point_id: str
    x: float
    y: float
    depth_m: float


@dataclass
class InundationParams:
    method: str = INUNDATION_METHODS.default
    max_distance_m: float = 500.0
    idw_power: float = 2.0
    idw_neighbours: int = 8
    consistency_tolerance_m: float = 0.5
    neighbour_distance_m: float = 200.0
    connectivity: int = int(CONNECTIVITY.default)
    allow_deep: bool = False
    step: int | None = None


@dataclass
class Inconsistency:
    """Two neighbouring points whose implied water surfaces disagree by more than the tolerance."""

    point_a: str
    point_b: str
    distance_m: float
    surface_a_m: float
    surface_b_m: float
    difference_m: float


@dataclass
class InundationResult:
    depth_path: str
    extent_path: str
    points_used: int
    skipped: list[tuple[str, str]]
    inconsistencies: list[Inconsistency]
    flooded_area_m2: float
    max_depth_m: float
    components: int
    step: int
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Grid:
    """The DEM's grid and where its cells lie on the ground, for distances and areas in any CRS."""

    width: int
    height: int
    geotransform: tuple[float, ...]
    projection: str
    ground: GroundGrid

    def points(self, col_f: np.ndarray, row_f: np.ndarray) -> np.ndarray:
        """Earth-centred positions (m) of pixel positions: Euclidean distance = ground distance."""
        return self.ground.points(col_f, row_f)


def _grid(ds) -> _Grid:
    gt = tuple(ds.GetGeoTransform())
    ground = GroundGrid.from_geotransform(ds.RasterXSize, ds.RasterYSize, gt, ds.GetProjection())
    return _Grid(ds.RasterXSize, ds.RasterYSize, gt, ds.GetProjection(), ground)


# File names of MIST's own rasters (density surfaces, depth rasters): never elevation.
_MIST_OUTPUT_NAME = re.compile(r"^(density_.*|.*_depth|probmap_.*|.*selo.*)\.tiff?$", re.IGNORECASE)


def dem_doubts(path: str | Path) -> list[str]:
    """Why a raster may not be an elevation model (empty when it looks like one): several bands,
    8-bit values, or a MIST product (by its metadata or its file name). Said as warnings: the
    analyst may know better, but a density surface taken for a DEM gives a confident wrong map."""
    from osgeo import gdal

    ds = open_raster(path)
    doubts = []
    name = Path(path).name
    product = (ds.GetMetadata() or {}).get("MIST_PRODUCT")
    if product or _MIST_OUTPUT_NAME.match(name):
        doubts.append(f"{name} looks like a MIST output ({product or 'by its name'}), not an elevation model")
    if ds.RasterCount > 1:
        doubts.append(f"{name} has {ds.RasterCount} bands; an elevation model has one (band 1 is used)")
    if ds.GetRasterBand(1).DataType == gdal.GDT_Byte:
        doubts.append(f"{name} holds 8-bit values (0-255), like an image or a classified map, not elevations")
    return doubts


def read_dem(path: str | Path) -> tuple[np.ndarray, _Grid]:
    """The DEM as float32 with NaN for nodata; refuses a DEM without CRS or with rotation."""
    ds = open_raster(path, require_crs=True, refuse_rotation=True)
    band = ds.GetRasterBand(1)
    dem = band.ReadAsArray().astype(np.float32)
    nodata = band.GetNoDataValue()
    if nodata is not None:
        dem[dem == np.float32(nodata)] = np.nan
    mask_flags = band.GetMaskFlags()
    if not mask_flags & 1:  # GMF_ALL_VALID not set: a mask band (alpha or per-dataset) exists
        dem[band.GetMaskBand().ReadAsArray() == 0] = np.nan
    if np.isnan(dem).all():
        raise RasterInputError(f"{path} holds only nodata cells")
    return dem, _grid(ds)


def _to_dem_crs(points: Sequence[DepthPoint], points_crs: str, grid: _Grid) -> list[tuple[float, float]]:
    from osgeo import osr

    src = osr.SpatialReference()
    try:
        known = src.SetFromUserInput(points_crs) == 0
    except RuntimeError:  # GDAL's Python exceptions are on (QGIS 3.40)
        known = False
    if not known:
        raise RasterInputError(f"unknown CRS for the points: {points_crs!r}")
    dst = osr.SpatialReference(wkt=grid.projection)
    if src.IsSame(dst):
        return [(p.x, p.y) for p in points]
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(src, dst)
    return [tuple(tr.TransformPoint(p.x, p.y)[:2]) for p in points]


def check_points(
    points: Sequence[DepthPoint], dem: np.ndarray, grid: _Grid, points_crs: str, params: InundationParams,
) -> tuple[np.ndarray, list[str], list[tuple[str, str]], list[str]]:
    """Evidence usable on this DEM: (N x 4 array of col_f, row_f, depth, ground), ids, skipped, warnings."""
    if not points:
        raise RasterInputError("no flood point with a water depth: verify some flood posts and record depths")
    gt = grid.geotransform
    used, ids, skipped, warnings = [], [], [], []
    for p, (x, y) in zip(points, _to_dem_crs(points, points_crs, grid), strict=True):
        d = p.depth_m
        if d is None or not math.isfinite(d):
            skipped.append((p.point_id, "no water depth"))
            continue
        if d < 0:
            skipped.append((p.point_id, f"negative water depth {d:g} m"))
            continue
        if d > MAX_PLAUSIBLE_DEPTH_M:
            if not params.allow_deep:
                skipped.append((p.point_id, f"implausible water depth {d:g} m (> {MAX_PLAUSIBLE_DEPTH_M:g} m)"))
                continue
            warnings.append(f"point {p.point_id}: water depth {d:g} m is above {MAX_PLAUSIBLE_DEPTH_M:g} m")
        if not (math.isfinite(x) and math.isfinite(y)):
            skipped.append((p.point_id, "cannot be placed in the DEM's CRS"))
            continue
        col_f = (x - gt[0]) / gt[1]
        row_f = (y - gt[3]) / gt[5]
        col, row = int(math.floor(col_f)), int(math.floor(row_f))
        if not (0 <= col < grid.width and 0 <= row < grid.height):
            skipped.append((p.point_id, "outside the DEM"))
            continue
        ground = float(dem[row, col])
        if math.isnan(ground):
            skipped.append((p.point_id, "on a DEM nodata cell"))
            continue
        used.append((col_f, row_f, d, ground))
        ids.append(p.point_id)
    if not used:
        reasons = "; ".join(sorted({r for _, r in skipped}))
        raise RasterInputError(f"none of the {len(points)} flood points can be used ({reasons})")
    return np.array(used, dtype=np.float64), ids, skipped, warnings


def find_inconsistencies(xy_m: np.ndarray, surface: np.ndarray, ids: Sequence[str],
                         params: InundationParams) -> list[Inconsistency]:
    """Pairs of points closer than `neighbour_distance_m` on the ground whose water surfaces differ
    too much (`xy_m`: earth-centred positions, N x 3)."""
    from scipy.spatial import cKDTree

    if len(xy_m) < 2:
        return []
    out = []
    for a, b in sorted(cKDTree(xy_m).query_pairs(params.neighbour_distance_m)):
        diff = abs(surface[a] - surface[b])
        if diff > params.consistency_tolerance_m:
            out.append(Inconsistency(ids[a], ids[b], float(np.linalg.norm(xy_m[a] - xy_m[b])),
                                     float(surface[a]), float(surface[b]), float(diff)))
    return out


def _node_values(xy_m: np.ndarray, values: np.ndarray, nodes_m: np.ndarray, params: InundationParams) -> np.ndarray:
    """The interpolated surface at node positions (NaN beyond the maximum distance). Positions are
    earth-centred (N x 3), so distances and IDW weights are ground distances."""
    from scipy.spatial import cKDTree

    tree = cKDTree(xy_m)
    k = 1 if params.method == "nearest" else min(params.idw_neighbours, len(xy_m))
    reach = np.nextafter(params.max_distance_m, np.inf)  # cKDTree's bound is strict; the parameter is inclusive
    dist, idx = tree.query(nodes_m, k=k, distance_upper_bound=reach, workers=-1)
    if k == 1:
        dist, idx = dist[:, None], idx[:, None]
    valid = np.isfinite(dist)
    padded = np.append(values, np.nan)
    vals = padded[idx]
    if params.method == "nearest":
        return np.where(valid[:, 0], vals[:, 0], np.nan)
    with np.errstate(divide="ignore"):
        w = np.where(valid, 1.0 / np.power(np.maximum(dist, 1e-12), params.idw_power), 0.0)
    exact = valid & (dist < 1e-9)
    num = np.sum(w * np.where(valid, vals, 0.0), axis=1)
    den = np.sum(w, axis=1)
    out = np.full(len(nodes_m), np.nan)
    np.divide(num, den, out=out, where=den > 0)
    hit = exact.any(axis=1)
    out[hit] = vals[hit, np.argmax(exact[hit], axis=1)]
    return out


def _lerp_axis(nodes: np.ndarray, n_out: int, step: int, axis: int) -> np.ndarray:
    """Linear refinement of node values (nodes at 0, step, 2 step, ...) along one axis, NaN-aware."""
    pos = np.arange(n_out)
    i0 = pos // step
    t = ((pos % step) / step).astype(np.float32)
    a = np.take(nodes, i0, axis=axis)
    b = np.take(nodes, np.minimum(i0 + 1, nodes.shape[axis] - 1), axis=axis)
    shape = [1, 1]
    shape[axis] = n_out
    t = t.reshape(shape)
    wa, wb = (1 - t) * np.isfinite(a), t * np.isfinite(b)
    den = wa + wb
    num = wa * np.nan_to_num(a) + wb * np.nan_to_num(b)
    out = np.full(num.shape, np.nan, np.float32)
    np.divide(num, den, out=out, where=den > 0)
    return out


def water_surface(evidence: np.ndarray, grid: _Grid, params: InundationParams,
                  monitor: Monitor | None = None) -> tuple[np.ndarray, int]:
    """Full-size float32 water-surface elevation (NaN = no evidence within reach) and the step used."""
    monitor = monitor or Monitor()
    step = params.step or max(1, math.ceil(math.sqrt(grid.width * grid.height / NODE_BUDGET)))
    xy_m = grid.points(evidence[:, 0], evidence[:, 1])
    wse = evidence[:, 3] + evidence[:, 2]
    rows = np.arange(0, grid.height - 1 + step, step)
    cols = np.arange(0, grid.width - 1 + step, step)
    cc, rr = np.meshgrid(cols + 0.5, rows + 0.5)
    node_xyz = grid.points(cc.ravel(), rr.ravel())
    del cc, rr
    nodes = _node_values(xy_m, wse, node_xyz, params).reshape(len(rows), len(cols))
    monitor.report(0.5)
    if step == 1:
        return nodes[:grid.height, :grid.width].astype(np.float32), step
    # distance limit per cell, refined the same way, so cells beyond reach stay dry
    from scipy.spatial import cKDTree

    dist = cKDTree(xy_m).query(node_xyz, k=1, workers=-1)[0]
    dist = dist.reshape(nodes.shape).astype(np.float32)
    surface = np.empty((grid.height, grid.width), np.float32)
    across = _lerp_axis(nodes.astype(np.float32), grid.width, step, axis=1)
    across_d = _lerp_axis(dist, grid.width, step, axis=1)
    strip = 512
    for r0 in range(0, grid.height, strip):
        r1 = min(r0 + strip, grid.height)
        lo = r0 // step
        hi = min((r1 - 1) // step + 1, len(rows) - 1)
        block = _lerp_axis(across[lo:hi + 1], r1 - lo * step, step, axis=0)[r0 - lo * step:]
        dblock = _lerp_axis(across_d[lo:hi + 1], r1 - lo * step, step, axis=0)[r0 - lo * step:]
        block[dblock > params.max_distance_m] = np.nan
        surface[r0:r1] = block
        monitor.report(0.5 + 0.5 * r1 / grid.height)
    return surface, step


def connected_flood(surface: np.ndarray, dem: np.ndarray, evidence: np.ndarray,
                    connectivity: int = 4) -> tuple[np.ndarray, np.ndarray, int]:
    """(depth float32 with NaN where dry, kept labels int32, number of kept components)."""
    from scipy import ndimage

    with np.errstate(invalid="ignore"):
        wet = surface > dem  # NaN on either side compares False: nodata never floods
    structure = ndimage.generate_binary_structure(2, 2 if connectivity == 8 else 1)
    labels, n = ndimage.label(wet, structure=structure)
    keep = np.zeros(n + 1, bool)
    h, w = dem.shape
    for col_f, row_f, _, _ in evidence:
        r, c = int(math.floor(row_f)), int(math.floor(col_f))
        window = labels[max(r - 1, 0):min(r + 2, h), max(c - 1, 0):min(c + 2, w)]
        keep[window[window > 0]] = True  # a point at the waterline seeds the water beside it
    keep[0] = False
    kept_ids = np.flatnonzero(keep)
    lut = np.zeros(n + 1, np.int32)
    lut[kept_ids] = np.arange(1, len(kept_ids) + 1, dtype=np.int32)
    kept = lut[labels]
    depth = np.where(kept > 0, surface - dem, np.nan).astype(np.float32)
    return depth, kept, len(kept_ids)


def write_extent(kept: np.ndarray, depth: np.ndarray, grid: _Grid, path: Path, connectivity: int,
                 evidence_rows: list[dict]) -> tuple[float, int]:
    """Polygons of the kept wet components (GeoPackage layer `extent`) and the evidence points
    (layer `evidence`, with why each was used or not). Returns (area m^2, polygons).

    Areas are ground areas on the WGS 84 ellipsoid, summed over each component's cells, whatever
    the DEM's CRS: a polygon's area in its CRS units would be off by the projection's scale."""
    from osgeo import gdal, ogr, osr
    from scipy import ndimage

    # per-component depth statistics over each component's bounding box (no sort of the whole grid)
    max_depth, mean_depth = [], []
    for k, box in enumerate(ndimage.find_objects(kept), start=1):
        values = depth[box][kept[box] == k]
        max_depth.append(float(values.max()))
        mean_depth.append(float(values.mean()))
    mem = gdal.GetDriverByName("MEM").Create("", grid.width, grid.height, 1, gdal.GDT_Int32)
    mem.SetGeoTransform(grid.geotransform)
    mem.SetProjection(grid.projection)
    band = mem.GetRasterBand(1)
    band.WriteArray(kept)
    mask = gdal.GetDriverByName("MEM").Create("", grid.width, grid.height, 1, gdal.GDT_Byte)
    mask.GetRasterBand(1).WriteArray((kept > 0).astype(np.uint8))
    if path.exists():
        path.unlink()
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference(wkt=grid.projection)
    lyr = ds.CreateLayer("extent", srs, ogr.wkbPolygon)
    for name, kind in (("component", ogr.OFTInteger), ("area_m2", ogr.OFTReal),
                       ("max_depth_m", ogr.OFTReal), ("mean_depth_m", ogr.OFTReal)):
        lyr.CreateField(ogr.FieldDefn(name, kind))
    options = ["8CONNECTED=8"] if connectivity == 8 else []
    lyr.StartTransaction()
    gdal.Polygonize(band, mask.GetRasterBand(1), lyr, 0, options)
    lyr.CommitTransaction()
    areas = grid.ground.area_by_label(kept, len(max_depth))
    count = 0
    lyr.StartTransaction()
    for feat in lyr:
        comp = feat.GetField("component")
        feat.SetField("area_m2", float(areas[comp]))
        feat.SetField("max_depth_m", float(max_depth[comp - 1]))
        feat.SetField("mean_depth_m", float(mean_depth[comp - 1]))
        lyr.SetFeature(feat)
        count += 1
    lyr.CommitTransaction()
    ev = ds.CreateLayer("evidence", srs, ogr.wkbPoint)
    for name, kind in (("point_id", ogr.OFTString), ("status", ogr.OFTString), ("depth_m", ogr.OFTReal),
                       ("ground_m", ogr.OFTReal), ("surface_m", ogr.OFTReal)):
        ev.CreateField(ogr.FieldDefn(name, kind))
    ev.StartTransaction()
    for row in evidence_rows:
        feat = ogr.Feature(ev.GetLayerDefn())
        for key in ("point_id", "status", "depth_m", "ground_m", "surface_m"):
            if row.get(key) is not None:
                feat.SetField(key, row[key])
        if row.get("x") is not None:
            feat.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({row['x']!r} {row['y']!r})"))
        ev.CreateFeature(feat)
    ev.CommitTransaction()
    ds = None
    return float(areas[1:].sum()), count


def inundation(
    dem_path: str | Path, points: Sequence[DepthPoint], out_dir: str | Path, points_crs: str = "EPSG:4326",
    params: InundationParams | None = None, monitor: Monitor | None = None, name: str = "inundation",
) -> InundationResult:
    """Depth GeoTIFF `<name>_depth.tif` and extent GeoPackage `<name>_extent.gpkg` in `out_dir`."""
    params = params or InundationParams()
    if params.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {params.method!r}")
    if params.max_distance_m <= 0 or params.connectivity not in (4, 8) or params.idw_neighbours < 1:
        raise ValueError("max distance must be positive, connectivity 4 or 8, neighbours at least 1")
    monitor = monitor or Monitor()
    dem, grid = read_dem(dem_path)
    evidence, ids, skipped, warnings = check_points(points, dem, grid, points_crs, params)
    warnings[:0] = dem_doubts(dem_path)
    monitor.report(0.05)
    xy_m = grid.points(evidence[:, 0], evidence[:, 1])
    wse = evidence[:, 2] + evidence[:, 3]
    inconsistencies = find_inconsistencies(xy_m, wse, ids, params)
    surface, step = water_surface(evidence, grid, params, monitor.sub(0.05, 0.6))
    depth, kept, n_components = connected_flood(surface, dem, evidence, params.connectivity)
    del surface
    monitor.report(0.7)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    depth_path = out_dir / f"{name}_depth.tif"
    extent_path = out_dir / f"{name}_extent.gpkg"
    ds = create_geotiff(depth_path, grid.width, grid.height, 1, 6, grid.geotransform, grid.projection,  # Float32
                        nodata=DEPTH_NODATA, options=("TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3",
                                                      "BIGTIFF=IF_SAFER", "NUM_THREADS=ALL_CPUS"))
    band = ds.GetRasterBand(1)
    band.SetDescription("water depth (m)")
    band.WriteArray(np.where(np.isnan(depth), np.float32(DEPTH_NODATA), depth))
    ds.SetMetadata({"MIST_PRODUCT": "inundation_depth", "MIST_METHOD": params.method,
                    "MIST_MAX_DISTANCE_M": str(params.max_distance_m), "MIST_POINTS": str(len(ids))})
    ds = None
    monitor.report(0.8)
    gt = grid.geotransform
    rows = [{"point_id": pid, "status": "used", "depth_m": float(e[2]), "ground_m": float(e[3]),
             "surface_m": float(e[2] + e[3]), "x": gt[0] + e[0] * gt[1], "y": gt[3] + e[1] * gt[5]}
            for pid, e in zip(ids, evidence, strict=True)]
    flagged = {i.point_a for i in inconsistencies} | {i.point_b for i in inconsistencies}
    for row in rows:
        if row["point_id"] in flagged:
            row["status"] = "inconsistent"
    rows += [{"point_id": pid, "status": f"skipped: {reason}"} for pid, reason in skipped]
    area, _ = write_extent(kept, depth, grid, extent_path, params.connectivity, rows)
    if n_components == 0:
        warnings.append("no cell is below the interpolated water surface next to the evidence: the extent is empty")
    max_depth = float(np.nanmax(depth)) if n_components else 0.0
    monitor.report(1.0)
    return InundationResult(str(depth_path), str(extent_path), len(ids), skipped, inconsistencies, area,
                            max_depth, n_components, step, warnings)


def inundation_from_store(store, dem_path: str | Path, out_dir: str | Path, params: InundationParams | None = None,
                          monitor: Monitor | None = None) -> tuple[InundationResult, int]:
    """Run inundation on a store's verified flood points with depth, recorded as a run.

    Skipped points and inconsistent pairs go to the run's issue report. Returns (result, run id).
    """
    from ..store.flood_evidence import count_verified_without_depth, depth_points

    params = params or InundationParams()
    with run_stage(store, "inundation", {"dem": str(dem_path), "out": str(out_dir), **asdict(params)}) as run:
        evidence = depth_points(store)
        points = [DepthPoint(p.post_id, p.lon, p.lat, float(p.water_depth_m)) for p in evidence]
        result = inundation(dem_path, points, out_dir, "EPSG:4326", params, monitor)
        no_depth = count_verified_without_depth(store)
        if no_depth:
            result.warnings.append(f"{no_depth} verified flood posts have no water depth and were not used")
        issues = [(pid, None, reason) for pid, reason in result.skipped]
        issues += [(f"{i.point_a}|{i.point_b}", None,
                    f"water surfaces {i.surface_a_m:.2f} m and {i.surface_b_m:.2f} m differ by "
                    f"{i.difference_m:.2f} m at {i.distance_m:.0f} m apart") for i in result.inconsistencies]
        if issues:
            with store.batch() as conn:
                store.record_issues(conn, run.run_id, "inundation", issues)
        run.counts = {"points_used": result.points_used, "skipped": len(result.skipped),
                      "inconsistent_pairs": len(result.inconsistencies), "no_depth": no_depth,
                      "components": result.components}
    return result, run.run_id
