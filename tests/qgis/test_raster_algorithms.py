"""The raster algorithms through Processing and the CLI, on real files built here."""

from __future__ import annotations

import json

import numpy as np
import processing
import pytest
from osgeo import gdal, ogr, osr
from qgis.core import QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback, QgsProject

from mist_qgis.core.posts.record import PostRecord
from mist_qgis.core.store import open_store
from tests.helpers.cli import run_cli
from tests.helpers.raster_testkit import (
    colour_text_encoder,
    mean_colour_encoder,
    scene,
    write_dem,
    write_rgb_raster,
)

X0, Y0 = 500000.0, 4000000.0


def _store_with_depths(path):
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(32633)
    dst.ImportFromEPSG(4326)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_ll = osr.CoordinateTransformation(src, dst)
    with open_store(path) as store:
        recs = []
        for pid, (row, col) in {"a": (100, 20), "b": (60, 30)}.items():
            lon, lat = to_ll.TransformPoint(X0 + col + 0.5, Y0 - row - 0.5)[:2]
            recs.append(PostRecord(post_id=pid, platform="t", lon=lon, lat=lat,
                                   timestamp=None))
        with store.batch() as conn:
            store.add_posts(conn, recs)
            conn.execute("UPDATE posts SET verified = 'flood', water_depth_m = 3.0 WHERE post_id = 'a'")
            conn.execute("UPDATE posts SET verified = 'flood', water_depth_m = 2.0 WHERE post_id = 'b'")
    return path


def _plane_dem(path, epsg=32633):
    return write_dem(path, np.tile(0.1 * np.arange(300, dtype=np.float32), (200, 1)), epsg=epsg)


def test_inundation_algorithm_writes_styled_outputs_and_loads_them(tmp_path):
    store = _store_with_depths(tmp_path / "s.gpkg")
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    res = processing.run("mist:inundation", {
        "STORE": str(store), "DEM": str(_plane_dem(tmp_path / "dem.tif")), "MAX_DISTANCE": 10_000,
        "OUTPUT_FOLDER": str(tmp_path / "out")}, context=context, feedback=QgsProcessingFeedback())
    assert res["FLOODED_AREA_M2"] == pytest.approx(50 * 200 / 0.9996**2)  # ground m²: UTM shrinks by k0
    assert (tmp_path / "out" / "inundation_depth.qml").exists()
    depth = gdal.Open(res["DEPTH"]).ReadAsArray()
    assert (depth[:, :50] > 0).all() and (depth[:, 50:] == -9999).all()
    assert len(context.layersToLoadOnCompletion()) == 2
    result = json.loads(res["RESULT"])
    assert result["points_used"] == 2 and result["inconsistencies"] == []


def test_inundation_algorithm_refuses_a_dem_without_crs(tmp_path):
    store = _store_with_depths(tmp_path / "s.gpkg")
    with pytest.raises(QgsProcessingException, match="has no coordinate reference system; assign one"):
        processing.run("mist:inundation", {"STORE": str(store), "DEM": str(_plane_dem(tmp_path / "d.tif", None)),
                                           "OUTPUT_FOLDER": str(tmp_path / "out")})


def test_selo_then_evaluate_through_processing(tmp_path):
    raster = write_rgb_raster(tmp_path / "scene.tif", scene())
    image = mean_colour_encoder(tmp_path / "image.onnx")
    text = colour_text_encoder(tmp_path / "text.onnx")
    out = tmp_path / "red.tif"
    res = processing.run("mist:selo", {
        "RASTER": str(raster), "IMAGE_MODEL": str(image), "QUERY_KIND": "text", "TEXT": "red", "TEXT_MODEL": str(text),
        "CACHE_DIR": str(tmp_path / "cache"), "OUTPUT": str(out)})
    assert json.loads(res["RESULT"])["windows"] > 0 and (tmp_path / "red.qml").exists()
    assert gdal.Open(str(out)).GetGeoTransform() == gdal.Open(str(raster)).GetGeoTransform()
    with pytest.raises(QgsProcessingException, match="A text query needs the text encoder"):
        processing.run("mist:selo", {"RASTER": str(raster), "IMAGE_MODEL": str(image), "QUERY_KIND": "text",
                                     "TEXT": "red", "OUTPUT": str(tmp_path / "x.tif")})

    # the red block's polygon in map coordinates (the scene's geotransform: 0.5 m pixels)
    regions = tmp_path / "regions.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(regions))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    lyr = ds.CreateLayer("regions", srs, ogr.wkbPolygon)
    x0, x1, y0, y1 = X0 + 512 * 0.5, X0 + 767 * 0.5, Y0 - 256 * 0.5, Y0 - 511 * 0.5
    f = ogr.Feature(lyr.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"))
    lyr.CreateFeature(f)
    ds = None
    metrics = processing.run("mist:evaluateselo", {"PROBMAP": str(out), "REGIONS": str(regions)})
    from mist_qgis.core.rasters.slm_metrics import evaluate

    want = evaluate(gdal.Open(str(out)).ReadAsArray(), [[[512, 256], [767, 256], [767, 511], [512, 511]]])
    assert metrics["RSU"] == pytest.approx(want["Rsu"]) and metrics["RMI"] == pytest.approx(want["Rmi"])

    # dataset mode: anno.json + probmap_<index> files
    folder = tmp_path / "maps"
    folder.mkdir()
    gdal.Translate(str(folder / "probmap_0.png"), str(out), format="PNG")
    anno = tmp_path / "anno.json"
    anno.write_text(json.dumps([{"caption": "red\n", "jpg_name": "0.jpg",
                                 "points": [[[512, 256], [767, 256], [767, 511], [512, 511]]]}]))
    ds_metrics = processing.run("mist:evaluateselo", {"ANNOTATIONS": str(anno), "PROBMAP_FOLDER": str(folder)})
    assert ds_metrics["RMI"] == pytest.approx(want["Rmi"])


def test_postdensity_algorithm(tmp_path):
    store = _store_with_depths(tmp_path / "s.gpkg")
    res = processing.run("mist:postdensity", {"STORE": str(store), "KIND": "verified", "RADIUS": 50, "PIXEL_SIZE": 5,
                                              "OUTPUT_FOLDER": str(tmp_path / "d")})
    result = json.loads(res["RESULT"])
    assert res["POINTS"] == 2 and result["crs"] == "EPSG:32633"
    assert gdal.Open(result["slices"][0]["path"]).ReadAsArray().max() > 0


def test_cli_inundation_end_to_end(tmp_path):
    store = _store_with_depths(tmp_path / "s.gpkg")
    dem = _plane_dem(tmp_path / "dem.tif")
    out = run_cli("inundation", "--store", store, "--dem", dem, "--out", tmp_path / "o", "--max-distance", "10000")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["flooded_area_m2"] == pytest.approx(10_000 / 0.9996**2) and result["result"]["points_used"] == 2
    bad = run_cli("inundation", "--store", store, "--dem", tmp_path / "missing.tif", "--out", tmp_path / "o")
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr


def test_inundation_names_skipped_posts_so_they_can_be_found(tmp_path):
    """A skipped post is named by its feature id, time and text, not by a 19-digit platform id."""
    class Recording(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.warnings = []

        def pushWarning(self, warning):  # noqa: N802
            self.warnings.append(warning)

    store = _store_with_depths(tmp_path / "s.gpkg")
    with open_store(store) as s, s.batch() as conn:
        conn.execute("UPDATE posts SET post_id = '1814600000000007919', text = 'Our street is a river now', "
                     "timestamp = '2024-07-20T10:17:00Z', water_depth_m = 40.0 WHERE post_id = 'b'")
        fid = conn.execute("SELECT fid FROM posts WHERE post_id = '1814600000000007919'").fetchone()[0]
    feedback = Recording()
    processing.run("mist:inundation", {"STORE": str(store), "DEM": str(_plane_dem(tmp_path / "dem.tif")),
                                       "MAX_DISTANCE": 10_000, "OUTPUT_FOLDER": str(tmp_path / "out")},
                   feedback=feedback)
    skipped = [w for w in feedback.warnings if "skipped" in w]
    assert skipped == [f"post fid {fid} 2024-07-20 10:17 “Our street is a river now” skipped: "
                       "implausible water depth 40 m (> 15 m)"]
