"""Inundation on synthetic DEMs with known answers, and the bad inputs a flood mapper meets."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from mist_qgis.core.rasters.georaster import RasterInputError
from mist_qgis.core.rasters.inundation import DEPTH_NODATA, DepthPoint, InundationParams, inundation
from tests.helpers.raster_testkit import write_dem

X0, Y0 = 500000.0, 4000000.0  # UTM 33N origin of the test DEMs, 1 m cells
# on its central meridian (easting 500 km) UTM shrinks the ground by exactly k0 = 0.9996: one grid
# metre there is 1 / 0.9996 m on the ground, and one grid cell 1 / 0.9996² m²
K0 = 0.9996


def _pt(pid, row, col, depth):
    """A point at the centre of cell (row, col) in the DEM's CRS."""
    return DepthPoint(pid, X0 + col + 0.5, Y0 - row - 0.5, depth)


def _plane(h=200, w=300):
    return np.tile((0.1 * np.arange(w, dtype=np.float32)), (h, 1))  # rises 0.1 m per metre eastwards


def _depth(result):
    ds = gdal.Open(result.depth_path)
    arr = ds.GetRasterBand(1).ReadAsArray()
    assert ds.GetRasterBand(1).GetNoDataValue() == DEPTH_NODATA
    return arr, ds


def _extent(result):
    ds = ogr.Open(result.extent_path)
    lyr = ds.GetLayerByName("extent")
    return [(f["component"], f["area_m2"], f["max_depth_m"]) for f in lyr]


@pytest.mark.parametrize("method", ["idw", "nearest"])
def test_tilted_plane_with_one_water_level_gives_the_exact_extent(tmp_path, method):
    dem = write_dem(tmp_path / "plane.tif", _plane())
    points = [_pt("a", 100, 20, 3.0), _pt("b", 50, 30, 2.0), _pt("c", 180, 45, 0.5)]  # surface 5.0 m everywhere
    res = inundation(dem, points, tmp_path / "out", "EPSG:32633",
                     InundationParams(method=method, max_distance_m=10_000))
    depth, ds = _depth(res)
    wet = depth != DEPTH_NODATA
    expected = np.zeros_like(wet)
    expected[:, :50] = True  # 0.1 c < 5.0 exactly for c < 50
    assert np.array_equal(wet, expected)
    np.testing.assert_allclose(depth[:, :50], 5.0 - _plane()[:, :50], atol=1e-6)
    assert ds.GetGeoTransform() == (X0, 1.0, 0.0, Y0, 0.0, -1.0)
    assert res.flooded_area_m2 == pytest.approx(50 * 200 / K0**2, rel=1e-6)
    assert _extent(res) == [(1, pytest.approx(10_000.0 / K0**2, rel=1e-6), pytest.approx(5.0))]
    assert res.inconsistencies == [] and res.points_used == 3 and res.components == 1


def test_separate_low_basin_behind_a_ridge_is_excluded(tmp_path):
    z = np.zeros((100, 300), np.float32)
    z[:, 100:110] = 10.0   # ridge
    z[:, 110:] = -2.0      # a lower basin east of it
    dem = write_dem(tmp_path / "ridge.tif", z)
    res = inundation(dem, [_pt("west", 50, 40, 1.0)], tmp_path / "out", "EPSG:32633",
                     InundationParams(max_distance_m=10_000))
    depth, _ = _depth(res)
    wet = depth != DEPTH_NODATA
    assert wet[:, :100].all() and not wet[:, 100:].any()
    assert res.flooded_area_m2 == pytest.approx(100 * 100 / K0**2, rel=1e-6)
    # evidence in the basin floods the basin instead (its own level), never the west
    res = inundation(dem, [_pt("east", 50, 200, 0.5)], tmp_path / "out2", "EPSG:32633",
                     InundationParams(max_distance_m=10_000))
    wet = _depth(res)[0] != DEPTH_NODATA
    assert wet[:, 110:].all() and not wet[:, :110].any()


def test_inconsistent_neighbouring_depths_are_reported(tmp_path):
    dem = write_dem(tmp_path / "flat.tif", np.zeros((100, 400), np.float32))
    points = [_pt("p1", 50, 10, 1.0), _pt("p2", 50, 60, 3.0),  # 50 m apart, surfaces 1 vs 3 m
              _pt("p3", 50, 300, 1.2), _pt("p4", 50, 390, 1.0)]  # far from p1/p2; p3-p4 agree within 0.5
    res = inundation(dem, points, tmp_path / "out", "EPSG:32633",
                     InundationParams(neighbour_distance_m=100, consistency_tolerance_m=0.5))
    assert [(i.point_a, i.point_b) for i in res.inconsistencies] == [("p1", "p2")]
    (inc,) = res.inconsistencies
    assert inc.distance_m == pytest.approx(50 / K0, rel=1e-6) and inc.difference_m == pytest.approx(2.0)
    ds = ogr.Open(res.extent_path)  # keep the dataset alive while its layer is read
    ev = {f["point_id"]: f["status"] for f in ds.GetLayerByName("evidence")}
    assert ev == {"p1": "inconsistent", "p2": "inconsistent", "p3": "used", "p4": "used"}


def test_maximum_distance_from_evidence_is_exact_at_step_one(tmp_path):
    dem = write_dem(tmp_path / "flat.tif", np.zeros((101, 101), np.float32))
    res = inundation(dem, [_pt("c", 50, 50, 1.0)], tmp_path / "out", "EPSG:32633",
                     InundationParams(max_distance_m=30))
    wet = _depth(res)[0] != DEPTH_NODATA
    rr, cc = np.mgrid[:101, :101]
    assert np.array_equal(wet, np.hypot(rr - 50, cc - 50) / K0 <= 30)  # ground metres, not grid metres
    assert res.step == 1


def test_coarse_surface_nodes_keep_a_single_level_exact(tmp_path):
    dem = write_dem(tmp_path / "plane.tif", _plane())
    res = inundation(dem, [_pt("a", 100, 20, 3.0)], tmp_path / "out", "EPSG:32633",
                     InundationParams(max_distance_m=10_000, step=7))
    wet = _depth(res)[0] != DEPTH_NODATA
    assert res.step == 7 and wet[:, :50].all() and not wet[:, 50:].any()


def test_nearest_method_takes_the_nearest_point_level(tmp_path):
    dem = write_dem(tmp_path / "flat.tif", np.zeros((50, 200), np.float32))
    res = inundation(dem, [_pt("w", 25, 20, 1.0), _pt("e", 25, 180, 2.0)], tmp_path / "out", "EPSG:32633",
                     InundationParams(method="nearest", max_distance_m=10_000))
    depth = _depth(res)[0]
    # column 100's centre is equidistant from both points
    assert np.allclose(depth[:, :100], 1.0) and np.allclose(depth[:, 101:], 2.0)


def test_points_in_another_crs_are_reprojected(tmp_path):
    dem = write_dem(tmp_path / "plane.tif", _plane())
    native = _pt("a", 100, 20, 3.0)
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(32633)
    dst.ImportFromEPSG(4326)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon, lat = osr.CoordinateTransformation(src, dst).TransformPoint(native.x, native.y)[:2]
    res = inundation(dem, [DepthPoint("a", lon, lat, 3.0)], tmp_path / "out", "EPSG:4326",
                     InundationParams(max_distance_m=10_000))
    wet = _depth(res)[0] != DEPTH_NODATA
    assert wet[:, :50].all() and not wet[:, 50:].any()


def test_geographic_dem_areas_are_square_metres(tmp_path):
    cell = 1e-4  # degrees, about 11 m x 8.5 m at 40 N
    dem = write_dem(tmp_path / "geo.tif", _plane(100, 100), epsg=4326, geotransform=(15.0, cell, 0, 40.0, 0, -cell))
    res = inundation(dem, [DepthPoint("a", 15.0 + 20.5 * cell, 40.0 - 50.5 * cell, 3.0)], tmp_path / "out",
                     "EPSG:4326", InundationParams(max_distance_m=100_000))
    wet = _depth(res)[0] != DEPTH_NODATA
    assert wet[:, :50].all() and not wet[:, 50:].any()
    import math

    expected = 50 * 100 * (cell * 111_320 * math.cos(math.radians(39.995))) * (cell * 110_540)
    assert res.flooded_area_m2 == pytest.approx(expected, rel=0.01)


def test_bad_inputs(tmp_path):
    z = _plane()
    with pytest.raises(RasterInputError, match="no coordinate reference system"):
        inundation(write_dem(tmp_path / "nocrs.tif", z, epsg=None), [_pt("a", 1, 1, 1.0)], tmp_path, "EPSG:32633")
    rotated = write_dem(tmp_path / "rot.tif", z, geotransform=(X0, 1.0, 0.2, Y0, 0.2, -1.0))
    with pytest.raises(RasterInputError, match="rotated"):
        inundation(rotated, [_pt("a", 1, 1, 1.0)], tmp_path, "EPSG:32633")
    dem = write_dem(tmp_path / "plane.tif", z)
    with pytest.raises(RasterInputError, match="no flood point"):
        inundation(dem, [], tmp_path, "EPSG:32633")
    with pytest.raises(RasterInputError, match="none of the 3 flood points"):
        inundation(dem, [_pt("neg", 10, 10, -1.0), _pt("deep", 10, 10, 40.0), _pt("out", 10, 900, 1.0)],
                   tmp_path, "EPSG:32633")
    with pytest.raises(RasterInputError, match="unknown CRS"):
        inundation(dem, [_pt("a", 1, 1, 1.0)], tmp_path, "EPSG:999999")
    res = inundation(dem, [_pt("ok", 100, 20, 3.0), _pt("neg", 10, 10, -1.0), _pt("deep", 10, 10, 20.0),
                           _pt("out", 10, 900, 1.0), DepthPoint("nan", X0, Y0, float("nan"))],
                     tmp_path / "o", "EPSG:32633", InundationParams(max_distance_m=10_000))
    reasons = dict(res.skipped)
    assert set(reasons) == {"neg", "deep", "out", "nan"}
    assert "negative" in reasons["neg"] and "implausible" in reasons["deep"] and "outside" in reasons["out"]
    res = inundation(dem, [_pt("deep", 100, 20, 16.0)], tmp_path / "o2", "EPSG:32633",
                     InundationParams(max_distance_m=10_000, allow_deep=True))
    assert res.points_used == 1 and any("16 m" in w for w in res.warnings)


def test_nodata_cells_never_flood_and_block_the_water(tmp_path):
    z = np.zeros((60, 200), np.float32)
    z[:, 100:103] = -9999.0  # a nodata wall (e.g. a hole in the survey)
    z[5, 5] = -9999.0
    dem = write_dem(tmp_path / "nd.tif", z, nodata=-9999.0)
    with pytest.raises(RasterInputError, match="nodata"):
        inundation(dem, [_pt("hole", 5, 5, 1.0)], tmp_path / "o", "EPSG:32633")
    res = inundation(dem, [_pt("w", 30, 30, 1.0)], tmp_path / "o", "EPSG:32633",
                     InundationParams(max_distance_m=10_000))
    wet = _depth(res)[0] != DEPTH_NODATA
    assert wet[:, :100].sum() == 60 * 100 - 1 and not wet[:, 100:].any()


def test_inundation_from_a_store_records_the_run_and_its_issues(tmp_path, store):
    from mist_qgis.core.posts.record import PostRecord
    from mist_qgis.core.rasters.inundation import inundation_from_store
    from mist_qgis.core.store.flood_evidence import density_points, depth_points

    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(32633)
    dst.ImportFromEPSG(4326)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_ll = osr.CoordinateTransformation(src, dst)
    spots = {"a": (100, 20, 3.0), "b": (100, 25, 5.5), "c": (50, 30, None), "d": (20, 200, 30.0)}
    records = []
    for pid, (row, col, _) in spots.items():
        lon, lat = to_ll.TransformPoint(X0 + col + 0.5, Y0 - row - 0.5)[:2]
        records.append(PostRecord(post_id=pid, platform="test", lon=lon, lat=lat))
    records.append(PostRecord(post_id="e", platform="test", lon=None, lat=None))
    with store.batch() as conn:
        store.add_posts(conn, records)
        for pid, (_, _, depth) in spots.items():
            conn.execute("UPDATE posts SET verified = 'flood', water_depth_m = ?, cls_label = 'flood', "
                         "cls_score = 0.8 WHERE post_id = ?", (depth, pid))
    assert [p.post_id for p in depth_points(store)] == ["a", "b", "d"]
    assert len(density_points(store, "all")) == 4 and density_points(store, "predicted")[0].weight == 0.8
    dem = write_dem(tmp_path / "plane.tif", _plane())
    result, run_id = inundation_from_store(store, dem, tmp_path / "out",
                                           InundationParams(max_distance_m=10_000, neighbour_distance_m=50))
    assert result.points_used == 2 and dict(result.skipped).keys() == {"d"}
    assert any("no water depth" in w for w in result.warnings)
    (run,) = store.runs("inundation")
    assert run.status == "done" and run.counts["points_used"] == 2 and run.counts["no_depth"] == 1
    reasons = [r["reason"] for r in store.issues_for_run(run_id)]
    assert any("implausible" in r for r in reasons) and any("differ by 3.00 m" in r for r in reasons)


def test_a_raster_that_does_not_look_like_elevation_is_warned_about(tmp_path):
    """A density surface or a photo chosen as the DEM still runs, but the result says why the
    raster is doubtful: a MIST output's name or metadata, several bands, 8-bit values."""
    from mist_qgis.core.rasters.inundation import dem_doubts
    from tests.helpers.raster_testkit import write_rgb_raster

    dem = write_dem(tmp_path / "plane.tif", _plane())
    assert dem_doubts(dem) == []
    photo = write_rgb_raster(tmp_path / "density_all.tif", (np.indices((200, 300)).sum(0) % 250).astype(np.uint8)
                             [..., None].repeat(3, axis=2), geotransform=(X0, 1.0, 0.0, Y0, 0.0, -1.0))
    doubts = dem_doubts(photo)
    assert len(doubts) == 3 and "MIST output" in doubts[0] and "3 bands" in doubts[1] and "8-bit" in doubts[2]
    res = inundation(photo, [_pt("a", 100, 20, 3.0)], tmp_path / "out", "EPSG:32633",
                     InundationParams(max_distance_m=10_000))
    assert res.warnings[:3] == doubts
    depth = write_dem(tmp_path / "flood_depth.tif", _plane())
    assert dem_doubts(depth) == ["flood_depth.tif looks like a MIST output (by its name), not an elevation model"]
