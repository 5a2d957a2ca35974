"""The same physical flood rendered as DEMs in different CRSs gives the same ground flood.

Terrain is defined on the ground (geodesic distances on WGS 84 from a centre point) and sampled
into grids in longitude/latitude, UTM, Web Mercator and a local oblique stereographic CRS in US
feet on another ellipsoid, near the equator and at 60 N. The expected answers come from pyproj
(Karney's geodesics and ellipsoidal polygon areas), independent of MIST's own ground geometry.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from osgeo import gdal, ogr
from pyproj import CRS, Geod, Transformer

from mist_qgis.core.rasters.inundation import DEPTH_NODATA, DepthPoint, InundationParams, inundation

GEOD = Geod(ellps="WGS84")
CELL_GROUND_M = 10.0
HALF_EXTENT_M = 800.0
LON0 = 16.0  # one degree east of UTM 33N's central meridian, where UTM's scale is not k0


def _crs(name: str, lat0: float) -> CRS:
    if name == "utm":
        return CRS.from_epsg(32633)
    if name == "local-ft":
        return CRS.from_proj4(f"+proj=sterea +lat_0={lat0 + 0.05} +lon_0={LON0 - 0.08} +k=0.9999079 "
                              "+x_0=155000 +y_0=463000 +ellps=bessel +units=us-ft +no_defs")
    return CRS.from_epsg({"lonlat": 4326, "mercator": 3857}[name])


def _cell_size(name: str, lat0: float) -> tuple[float, float]:
    """CRS units per cell (x, y) for cells about CELL_GROUND_M on the ground."""
    if name == "lonlat":
        return (CELL_GROUND_M / (111_320 * math.cos(math.radians(lat0))), CELL_GROUND_M / 110_574)
    if name == "mercator":  # Web Mercator stretches by 1 / cos(latitude)
        s = CELL_GROUND_M / math.cos(math.radians(lat0))
        return s, s
    if name == "local-ft":
        return (CELL_GROUND_M / 0.3048006096,) * 2
    return CELL_GROUND_M, CELL_GROUND_M


class _Rendered:
    """A DEM grid around (LON0, lat0) in one CRS and the ground position of every cell corner."""

    def __init__(self, name: str, lat0: float):
        self.crs = _crs(name, lat0)
        to_crs = Transformer.from_crs(4326, self.crs, always_xy=True)
        self.to_ll = Transformer.from_crs(self.crs, 4326, always_xy=True)
        cx, cy = to_crs.transform(LON0, lat0)
        sx, sy = _cell_size(name, lat0)
        n = int(2 * HALF_EXTENT_M / CELL_GROUND_M)
        self.shape = (n, n)
        # the centre falls at an arbitrary place inside its cell
        self.gt = (cx - (n / 2 + 0.37) * sx, sx, 0.0, cy + (n / 2 + 0.21) * sy, 0.0, -sy)
        self.lat0 = lat0

    def lonlat(self, col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gt = self.gt
        return self.to_ll.transform(gt[0] + col * gt[1], gt[3] + row * gt[5])

    def centre_distance(self) -> np.ndarray:
        """Geodesic distance (m) from the flood's centre to every cell centre."""
        rr, cc = np.mgrid[:self.shape[0], :self.shape[1]] + 0.5
        lon, lat = self.lonlat(cc.ravel(), rr.ravel())
        d = GEOD.inv(np.full(lon.size, LON0), np.full(lon.size, self.lat0), lon, lat)[2]
        return d.reshape(self.shape)

    def footprint_area(self, cells: np.ndarray) -> float:
        """Exact ellipsoidal area (m²) of the given cells' footprints, one polygon per cell."""
        total = 0.0
        for row, col in np.argwhere(cells):
            corners = np.array([(col, row), (col + 1, row), (col + 1, row + 1), (col, row + 1)], float)
            lon, lat = self.lonlat(corners[:, 0], corners[:, 1])
            total += abs(GEOD.polygon_area_perimeter(lon, lat)[0])
        return total

    def write(self, path, z: np.ndarray) -> str:
        ds = gdal.GetDriverByName("GTiff").Create(str(path), z.shape[1], z.shape[0], 1, gdal.GDT_Float32)
        ds.SetGeoTransform(self.gt)
        ds.SetProjection(self.crs.to_wkt())
        ds.GetRasterBand(1).WriteArray(z.astype(np.float32))
        ds = None
        return str(path)


def _wet(result) -> np.ndarray:
    ds = gdal.Open(result.depth_path)
    return ds.GetRasterBand(1).ReadAsArray() != DEPTH_NODATA


CASES = [(name, lat) for lat in (0.0, 60.0) for name in ("lonlat", "utm", "mercator", "local-ft")]


@pytest.mark.parametrize(("name", "lat0"), CASES)
def test_a_bowl_floods_the_same_ground_area_in_every_crs(tmp_path, name, lat0):
    grid = _Rendered(name, lat0)
    d = grid.centre_distance()
    z = np.maximum(d - 20.0, 0.0) / 100.0  # flat within 20 m of the centre, then 1 m up per 100 m
    dem = grid.write(tmp_path / "bowl.tif", z)
    res = inundation(dem, [DepthPoint("c", LON0, lat0, 5.0)], tmp_path / "out", "EPSG:4326",
                     InundationParams(method="nearest", max_distance_m=5_000))
    wet = _wet(res)
    sure = np.abs(d - 520.0) > 0.01
    assert np.array_equal(wet[sure], (d < 520.0)[sure])  # water 5 m deep at the centre: ground below 5 m
    exact = grid.footprint_area(wet)
    assert res.flooded_area_m2 == pytest.approx(exact, rel=2e-4)
    # the flood is a geodesic disc of 520 m: pi r² on the ground, whatever the CRS
    assert res.flooded_area_m2 == pytest.approx(math.pi * 520.0**2, rel=0.01)
    ds = ogr.Open(res.extent_path)
    (area,) = (f["area_m2"] for f in ds.GetLayerByName("extent"))
    assert area == pytest.approx(res.flooded_area_m2)


@pytest.mark.parametrize(("name", "lat0"), CASES)
def test_maximum_distance_is_a_ground_distance_in_every_crs(tmp_path, name, lat0):
    grid = _Rendered(name, lat0)
    d = grid.centre_distance()
    dem = grid.write(tmp_path / "flat.tif", np.zeros(grid.shape))
    res = inundation(dem, [DepthPoint("c", LON0, lat0, 1.0)], tmp_path / "out", "EPSG:4326",
                     InundationParams(method="nearest", max_distance_m=300.0))
    wet = _wet(res)
    sure = np.abs(d - 300.0) > 0.01  # cells within a centimetre of the limit may go either way
    assert np.array_equal(wet[sure], (d <= 300.0)[sure])
    assert res.flooded_area_m2 == pytest.approx(math.pi * 300.0**2, rel=0.01)


def test_inconsistent_pairs_are_found_by_ground_distance(tmp_path):
    """Two posts 150 m apart on the ground at 60 N are 300 Web Mercator metres apart."""
    grid = _Rendered("mercator", 60.0)
    dem = grid.write(tmp_path / "flat.tif", np.zeros(grid.shape))
    lon1, lat1, _ = GEOD.fwd(LON0, 60.0, 90.0, 150.0)
    res = inundation(dem, [DepthPoint("a", LON0, 60.0, 1.0), DepthPoint("b", lon1, lat1, 2.0)], tmp_path / "o",
                     "EPSG:4326", InundationParams(neighbour_distance_m=200.0, max_distance_m=300.0))
    (inc,) = res.inconsistencies
    assert inc.distance_m == pytest.approx(150.0, abs=0.01)


def test_ground_lattice_between_exact_corners_stays_within_millimetres():
    """A 3,000-cell-wide Web Mercator grid at 60 N (every 12th corner placed exactly): positions
    in between and the area of a large block agree with PROJ and Karney's polygon area."""
    from mist_qgis.core.rasters.ground import GroundGrid

    crs = CRS.from_epsg(3857)
    to_crs = Transformer.from_crs(4326, crs, always_xy=True)
    x0, y0 = to_crs.transform(LON0, 60.0)
    gt = (x0, 20.0, 0.0, y0, 0.0, -20.0)  # 10 m on the ground
    g = GroundGrid.from_geotransform(3000, 2000, gt, crs.to_wkt())
    assert len(g.cols) < 3001 and len(g.rows) < 2001
    rng = np.random.default_rng(0)
    col, row = rng.uniform(0, 3000, 200), rng.uniform(0, 2000, 200)
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(gt[0] + col * gt[1], gt[3] + row * gt[5])
    ours = g.points(col, row)
    from mist_qgis.core.rasters.ground import earth_centred

    assert np.abs(np.linalg.norm(ours - earth_centred(lon, lat), axis=1)).max() < 0.005
    labels = np.zeros((2000, 3000), np.int32)
    labels[100:1900, 50:2950] = 1
    area = g.area_by_label(labels, 1)[1]
    # a rectangle in Mercator is bounded by meridians and parallels: Karney's area of its corners is
    # exact once the parallels are followed (densified), as geodesics would cut across them
    cc = np.r_[np.linspace(50, 2950, 400), np.full(400, 2950.0), np.linspace(2950, 50, 400), np.full(400, 50.0)]
    rr = np.r_[np.full(400, 100.0), np.linspace(100, 1900, 400), np.full(400, 1900.0), np.linspace(1900, 100, 400)]
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(gt[0] + cc * gt[1], gt[3] + rr * gt[5])
    exact = abs(GEOD.polygon_area_perimeter(lon, lat)[0])
    assert area == pytest.approx(exact, rel=1e-5)
