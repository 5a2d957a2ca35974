"""SLM metrics: every closed-form check of specs/selo.md 2.4, end to end where a map can be built."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mist_qgis.core.rasters import slm_metrics as slm
from mist_qgis.core.rasters.slm_metrics import SlmInputError, evaluate

SQUARE = [[200, 200], [400, 200], [400, 400], [200, 400]]  # centre (300, 300), r = int(1.5 * 141.42) = 212


def _blob(shape, centre_xy, half, value=255, base=None):
    img = np.zeros(shape, np.uint8) if base is None else base
    x, y = centre_xy
    img[y - half:y + half + 1, x - half:x + half + 1] = value
    return img


def test_uniform_map_gives_the_closed_form_rsu_for_any_mask():
    for value in (0.2, 0.5, 0.9):
        prob = np.full((300, 400), value)
        for region in (SQUARE, [[0, 0], [50, 0], [50, 290], [0, 290]]):
            got = evaluate(prob, [region])["Rsu"]
            assert got == pytest.approx(0.506879, abs=1e-6)
    assert 1 - math.exp(-0.707) == pytest.approx(0.506879, abs=1e-6)


def test_perfect_map_scores_rsu_near_one_and_wrong_map_near_zero():
    inside = np.zeros((600, 600), np.uint8)
    inside[200:401, 200:401] = 255  # cv2.fillPoly includes the polygon's edge pixels
    assert evaluate(inside, [SQUARE])["Rsu"] == pytest.approx(1.0)
    outside = 255 - inside
    assert evaluate(outside, [SQUARE])["Rsu"] == 0.0


def test_no_candidate_gives_ras_one_and_rda_zero():
    prob = np.full((600, 600), 0.3)  # every smoothed maximum is below P = 0.5
    m = evaluate(prob, [SQUARE, [[10, 10], [60, 10], [60, 60], [10, 60]]])
    assert m["Ras"] == 1.0
    assert m["Rda"] == 0.0
    assert m["Rmi"] == pytest.approx(0.4 * m["Rsu"] + 0.35 * 0 + 0.25 * 0)


@pytest.mark.parametrize("g, expected", [(0.5, 0.182426), (0.25, 0.058526), (1.0, 1.0), (0.0, 0.0)])
def test_ras_scaling_checks(g, expected):
    assert slm.ras_from_ratio(g) == pytest.approx(expected, abs=1e-6)


def test_ras_offsets_inside_and_outside_the_radius():
    centres = [(0, 0, 10), (100, 0, 20)]
    # region 1: candidates at 3 and 5 -> mean 4 -> 0.4; region 2: none within 20 -> r -> 1.0
    cands = [(3, 0), (0, 5), (50, 50)]
    assert slm.ras(centres, cands) == pytest.approx(slm.ras_from_ratio((0.4 + 1.0) / 2))
    # no candidate at all: only region 1's offset counts (the reference's zip), so Ras = 1
    assert slm.ras(centres, []) == 1.0


@pytest.mark.parametrize("n, md, expected", [(2, 0.1, 0.585335), (3, 0.0, 0.582085), (0, 0.0, 0.0), (1, 0.7, 1.0)])
def test_rda_checks(n, md, expected):
    assert slm.rda_single(n, md) == pytest.approx(expected, abs=1e-6)
    assert slm.rda_single(2, 0.0) == pytest.approx(0.5 + math.exp(-2))


@pytest.mark.parametrize("rsu, rda, ras, expected", [
    (0.6920, 0.6667, 0.3323, 0.67717),
    (0.9281, 0.4689, 0.0633, 0.81631),
    (0.7199, 0.6658, 0.2925, 0.702035),
])
def test_rmi_readme_triples(rsu, rda, ras, expected):
    assert slm.rmi(rsu, ras, rda) == pytest.approx(expected, abs=1e-5)


def test_region_centre_and_radius_truncate_and_count_repeated_vertices():
    # vertex mean of x with the repeat: (0 + 3 + 3 + 0 + 0) / 5 = 1.2 -> 1; y: (0+0+3+3+0)/5 = 1.2 -> 1
    region = np.array([[0, 0], [3, 0], [3, 3], [0, 3], [0, 0]], float)
    cx, cy, r = slm.region_centre_radius(region)
    assert (cx, cy) == (1, 1)
    dists = [math.hypot(x - 1, y - 1) for x, y in region]
    assert r == int(1.5 * sum(dists) / 5)


def test_mask_truncates_vertices_like_int32_cast():
    mask = slm.region_mask((10, 10), [np.array([[1.9, 1.9], [5.99, 1.9], [5.99, 5.99], [1.9, 5.99]])])
    assert mask.sum() == 25 and mask[1, 1] == 1 and mask[6, 6] == 0


def test_candidate_centres_sorted_by_probability_and_filtered():
    img = np.zeros((400, 2400), np.uint8)
    _blob(img.shape, (200, 200), 120, 200, img)   # P = 0.78, kept, second
    _blob(img.shape, (1200, 200), 120, 255, img)  # P = 1, first
    _blob(img.shape, (2200, 200), 120, 100, img)  # P = 0.39 < 0.5, dropped
    centres = slm.candidate_centres(img / 255.0)
    assert len(centres) == 2
    (x1, y1), (x2, y2) = centres
    assert abs(x1 - 1200) <= 3 and abs(y1 - 200) <= 3
    assert abs(x2 - 200) <= 3 and abs(y2 - 200) <= 3


def test_ras_end_to_end_with_a_shifted_blob():
    img = _blob((600, 600), (360, 300), 150)  # attention 60 px right of the region centre
    m = evaluate(img, [SQUARE])
    (cand,) = slm.candidate_centres(img / 255.0)
    assert abs(cand[0] - 360) <= 3 and abs(cand[1] - 300) <= 3
    r = 212
    assert m["Ras"] == pytest.approx(slm.ras_from_ratio(math.dist(cand, (300, 300)) / r), abs=1e-12)
    assert slm.ras_from_ratio(57 / r) <= m["Ras"] <= slm.ras_from_ratio(63 / r)
    assert m["Rda"] == 1.0  # exactly one candidate inside the region


def test_rda_end_to_end_with_two_equal_blobs_in_one_region():
    big = [[100, 100], [900, 100], [900, 500], [100, 500]]  # centre (500, 300), r = int(1.5*447.2) = 670
    img = np.zeros((600, 1000), np.uint8)
    _blob(img.shape, (300, 300), 60, 255, img)
    _blob(img.shape, (700, 300), 60, 255, img)
    m = evaluate(img, [big])
    cands = slm.candidate_centres(img / 255.0)
    assert len(cands) == 2
    spread = math.dist(cands[0], cands[1]) / 2
    assert abs(spread - 200) <= 3
    assert m["Rda"] == pytest.approx(0.5 * (1 - spread / 670) + math.exp(-2), abs=1e-12)


def test_uint8_and_float_inputs_agree():
    rng = np.random.default_rng(0)
    img = (rng.random((300, 300)) * 255).astype(np.uint8)
    img[100:200, 100:200] = 240
    region = [[100, 100], [200, 100], [200, 200], [100, 200]]
    assert evaluate(img, [region]) == evaluate(img / 255.0, [region])


@pytest.mark.parametrize("probmap, regions, match", [
    (np.zeros((3, 4, 3)), [SQUARE], "2-D"),
    (np.full((50, 50), 1.5), [SQUARE], r"\[0, 1\]"),
    (np.full((50, 50), np.nan), [SQUARE], "NaN"),
    (np.zeros((50, 50)), [], "at least one polygon"),
    (np.zeros((50, 50)), [[[0, 0], [1, 1]]], "at least 3"),
    (np.zeros((50, 50)), [[[0, 0], ["a", 1], [2, 2]]], "not a list"),
    (np.zeros((50, 50)), [[[100, 100], [120, 100], [120, 120]]], "cover no pixel"),
    (np.zeros((50, 50)), [[[10, 10], [10.4, 10], [10.4, 10.4]]], "degenerate"),
])
def test_hostile_inputs_are_refused(probmap, regions, match):
    with pytest.raises(SlmInputError, match=match):
        evaluate(probmap, regions)


def test_selo_json_loader(tmp_path):
    data = [
        {"caption": "a pond beside the road\n", "jpg_name": "0.jpg",
         "points": [[[1.5, 2.5], [10, 2], [10, 10], [10, 10]], [[20, 20], [30, 20], [30, 30]]]},
        {"caption": "houses", "jpg_name": "1.jpg", "points": [[[0, 0], [5, 0], [5, 5]]]},
    ]
    path = tmp_path / "anno.json"
    path.write_text(json.dumps(data))
    samples = slm.load_selo_annotations(path)
    assert [s.image_name for s in samples] == ["0.jpg", "1.jpg"]
    assert samples[0].regions[0][0] == [1.5, 2.5] and len(samples[0].regions) == 2
    for bad, match in (
        ([{"caption": "x", "jpg_name": "../../etc/passwd", "points": [[[0, 0], [1, 0], [1, 1]]]}], "outside"),
        ([{"caption": "x", "points": []}], "lacks"),
        ({"caption": "x"}, "JSON list"),
        ([{"caption": "x", "jpg_name": "a.jpg", "points": [[[0, 0]]]}], "at least 3"),
    ):
        path.write_text(json.dumps(bad))
        with pytest.raises(SlmInputError, match=match):
            slm.load_selo_annotations(path)
    path.write_text("{not json")
    with pytest.raises(SlmInputError, match="cannot read"):
        slm.load_selo_annotations(path)


def _write_raster(path, epsg=32633, origin=(500000.0, 4000000.0), pixel=2.0, size=(100, 80)):
    from osgeo import gdal, osr

    ds = gdal.GetDriverByName("GTiff").Create(str(path), size[0], size[1], 1, gdal.GDT_Byte)
    ds.SetGeoTransform((origin[0], pixel, 0, origin[1], 0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).WriteArray(np.zeros((size[1], size[0]), np.uint8))
    ds = None


def _write_polygons(path, rings, epsg=None, holes=False):
    from osgeo import ogr, osr

    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = None
    if epsg:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lyr = ds.CreateLayer("regions", srs, ogr.wkbPolygon)
    for ring_pts in rings:
        poly = ogr.Geometry(ogr.wkbPolygon)
        for pts in [ring_pts] + ([[(p[0] + 1, p[1] + 1) for p in ring_pts[:3]]] if holes else []):
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in list(pts) + [pts[0]]:
                ring.AddPoint_2D(x, y)
            poly.AddGeometry(ring)
        feat = ogr.Feature(lyr.GetLayerDefn())
        feat.SetGeometry(poly)
        lyr.CreateFeature(feat)
    ds = None


def test_regions_from_layer_pixel_and_map_coordinates(tmp_path):
    from osgeo import ogr, osr

    raster = tmp_path / "img.tif"
    _write_raster(raster)
    pix = tmp_path / "pix.gpkg"
    _write_polygons(pix, [[(10, 20), (40, 20), (40, 50), (10, 50)]])
    assert slm.regions_from_layer(pix) == [[[10, 20], [40, 20], [40, 50], [10, 50]]]

    # the same square in map coordinates: x = 500000 + 2 col, y = 4000000 - 2 row
    mp = tmp_path / "map.gpkg"
    ring = [(500000 + 2 * c, 4000000 - 2 * r) for c, r in [(10, 20), (40, 20), (40, 50), (10, 50)]]
    _write_polygons(mp, [ring], epsg=32633)
    got = slm.regions_from_layer(mp, coordinates="map", raster_path=raster)
    np.testing.assert_allclose(got, [[[10, 20], [40, 20], [40, 50], [10, 50]]], atol=1e-6)

    # and in WGS 84: reprojected to the raster's CRS first
    src = osr.SpatialReference()
    src.ImportFromEPSG(32633)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(4326)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(src, dst)
    ll = []
    for x, y in ring:
        pt = ogr.CreateGeometryFromWkt(f"POINT ({x} {y})")
        pt.Transform(tr)
        ll.append((pt.GetX(), pt.GetY()))
    wgs = tmp_path / "wgs.gpkg"
    _write_polygons(wgs, [ll], epsg=4326)
    got = slm.regions_from_layer(wgs, coordinates="map", raster_path=raster)
    np.testing.assert_allclose(got, [[[10, 20], [40, 20], [40, 50], [10, 50]]], atol=1e-3)

    holed = tmp_path / "holes.gpkg"
    _write_polygons(holed, [[(0, 0), (30, 0), (30, 30), (0, 30)]], holes=True)
    with pytest.raises(SlmInputError, match="holes"):
        slm.regions_from_layer(holed)
    with pytest.raises(SlmInputError, match="geotransform"):
        slm.regions_from_layer(mp, coordinates="map")


def test_read_probmap_and_evaluate_a_file(tmp_path):
    from osgeo import gdal

    img = _blob((600, 600), (300, 300), 120)
    path = tmp_path / "probmap.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 600, 600, 1, gdal.GDT_Byte)
    ds.GetRasterBand(1).WriteArray(img)
    ds = None
    arr = slm.read_probmap(path)
    assert evaluate(arr, [SQUARE]) == evaluate(img, [SQUARE])
    with pytest.raises(SlmInputError, match="cannot open"):
        slm.read_probmap(tmp_path / "missing.tif")
