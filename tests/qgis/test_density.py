"""Post density through QGIS's own KDE: metres on the ground, shared grid across time slices,
temporal ranges and the transparent-to-hot style loaded from the sidecar QML."""

from __future__ import annotations

import math

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsRasterLayer, QgsSingleBandPseudoColorRenderer

from mist_qgis.core.geodesy import utm_epsg
from mist_qgis.core.rasters.density import DensityError, slice_points
from mist_qgis.core.store.flood_evidence import EvidencePoint
from mist_qgis.qgis_ops.density import kde_algorithm_id, post_density

LON, LAT = 13.40, 52.52  # UTM 33N


def _p(i, dx_m=0.0, dy_m=0.0, weight=1.0, ts=None):
    lon = LON + dx_m / (111_320 * math.cos(math.radians(LAT)))
    lat = LAT + dy_m / 110_540
    return EvidencePoint(i, str(i), lon, lat, weight, ts, None)


def test_algorithm_id_is_resolved_from_the_registry():
    assert kde_algorithm_id().endswith(":heatmapkerneldensityestimation")
    assert utm_epsg(LON, LAT) == 32633 and utm_epsg(-43.2, -22.9) == 32723


def test_radius_and_pixel_size_are_metres_on_the_ground(tmp_path):
    res = post_density([_p(1)], tmp_path, "all", radius_m=500, pixel_m=25)
    ds = gdal.Open(res.slices[0].path)
    gt = ds.GetGeoTransform()
    assert res.crs == "EPSG:32633" and "32633" in ds.GetProjection()
    assert gt[1] == pytest.approx(25) and abs(gt[5]) == pytest.approx(25)
    arr = ds.GetRasterBand(1).ReadAsArray()
    disc = np.count_nonzero(arr > 0)
    assert disc == pytest.approx(math.pi * (500 / 25) ** 2, rel=0.1)


def test_weights_and_a_cluster(tmp_path):
    pts = [_p(i, 30 * (i % 3), 30 * (i // 3)) for i in range(9)] + [_p(100, 3000, 0, weight=0.2)]
    res = post_density(pts, tmp_path, "predicted", radius_m=400, pixel_m=20)
    ds = gdal.Open(res.slices[0].path)
    arr = ds.GetRasterBand(1).ReadAsArray()
    gt = ds.GetGeoTransform()
    r, c = np.unravel_index(np.argmax(arr), arr.shape)
    # the densest pixel is at the cluster (within 60 m of its centre), not at the lone light post
    from osgeo import osr

    src = osr.SpatialReference()
    src.ImportFromEPSG(4326)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(32633)
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    cx, cy = osr.CoordinateTransformation(src, dst).TransformPoint(_p(0, 30, 30).lon, _p(0, 30, 30).lat)[:2]
    px, py = gt[0] + (c + 0.5) * gt[1], gt[3] + (r + 0.5) * gt[5]
    assert math.hypot(px - cx, py - cy) < 60


def test_each_post_counts_by_its_weight(tmp_path):
    """Two lone posts 3 km apart, weights 1.0 and 0.25: the same kernel under each, scaled by the
    weight, so the lighter post's peak is a quarter of the other's."""
    heavy, light = _p(1, 0, 0, weight=1.0), _p(2, 3000, 0, weight=0.25)
    res = post_density([heavy, light], tmp_path, "predicted", radius_m=400, pixel_m=20)
    ds = gdal.Open(res.slices[0].path)  # kept: a band outlives no dataset
    arr = ds.GetRasterBand(1).ReadAsArray().astype(float)
    half = arr.shape[1] // 2
    west, east = arr[:, :half].max(), arr[:, half:].max()
    assert west > 0 and east / west == pytest.approx(0.25, rel=0.02)


def test_predicted_density_weighs_posts_by_their_flood_score(store):
    from mist_qgis.core.posts import PostRecord
    from mist_qgis.core.store.flood_evidence import density_points

    with store.batch() as conn:
        store.add_posts(conn, [PostRecord(str(i), "t", LON + i / 100, LAT) for i in range(3)])
        conn.executemany("UPDATE posts SET cls_label = ?, cls_score = ? WHERE post_id = ?",
                         [("flood", 0.9, "0"), ("flood", 0.3, "1"), ("not_flood", 0.8, "2")])
    assert [(p.post_id, p.weight) for p in density_points(store, "predicted")] == [("0", 0.9), ("1", 0.3)]
    assert [p.weight for p in density_points(store, "all")] == [1.0, 1.0, 1.0]


def test_time_slices_share_a_grid_and_play_in_the_temporal_controller(tmp_path):
    times = ["2024-05-01T10:05:00.000Z", "2024-05-01T10:40:00.000Z", "2024-05-01T12:10:00.000Z"]
    pts = [_p(i, 200 * i, 0, ts=t) for i, t in enumerate(times)] + [_p(9, 0, 0, ts=None)]
    res = post_density(pts, tmp_path, "verified", radius_m=300, pixel_m=30, slice_by="hour")
    assert [s.points for s in res.slices] == [2, 0, 1]
    assert any("no usable timestamp" in w for w in res.warnings)
    grids = {(gdal.Open(s.path).GetGeoTransform(), gdal.Open(s.path).RasterXSize) for s in res.slices}
    assert len(grids) == 1
    for s in res.slices:
        layer = QgsRasterLayer(s.path, "slice")  # the constructor applies the sidecar's renderer...
        assert layer.isValid() and isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer)
        assert layer.loadDefaultStyle()[1]  # ...its temporal range needs an explicit load in 3.22
        props = layer.temporalProperties()
        assert props.isActive()
        rng = props.fixedTemporalRange()
        assert rng.begin().toUTC().toString("yyyy-MM-ddTHH:mm") == s.start[:16]
        assert rng.end().toUTC().toString("yyyy-MM-ddTHH:mm") == s.end[:16]
        renderer = layer.renderer()
        assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
        items = renderer.shader().rasterShaderFunction().colorRampItemList()
        assert items[0].color.alpha() == 0 and items[-1].color.alpha() == 255
        assert renderer.classificationMax() == pytest.approx(res.value_range[1])
    cumulative = post_density(pts, tmp_path / "cum", "verified", radius_m=300, pixel_m=30, slice_by="hour",
                              cumulative=True)
    assert [s.points for s in cumulative.slices] == [2, 2, 3]


def test_slices_by_day_and_bad_requests(tmp_path):
    pts = [_p(1, ts="2024-05-01T23:59:00Z"), _p(2, ts="2024-05-02T00:01:00+00:00")]
    slices, undated = slice_points(pts, "day", False)
    assert [len(s[2]) for s in slices] == [1, 1] and undated == 0
    with pytest.raises(DensityError, match="no located post"):
        post_density([], tmp_path)
    with pytest.raises(DensityError, match="no post has a timestamp"):
        post_density([_p(1)], tmp_path, slice_by="day")
    with pytest.raises(DensityError, match="positive"):
        post_density([_p(1)], tmp_path, radius_m=0)
    with pytest.raises(DensityError, match="larger pixel"):
        post_density([_p(1), _p(2, 200_000, 200_000)], tmp_path, pixel_m=1)
