"""Raster tasks: progress, cancel, and styled (time-aware) layers added in finished()."""

from __future__ import annotations

import math

import numpy as np
from qgis.core import QgsProject, QgsSingleBandPseudoColorRenderer

from mist_qgis.core.posts.record import PostRecord
from mist_qgis.core.rasters.inundation import InundationParams
from mist_qgis.core.store import open_store
from mist_qgis.tasks.raster_tasks import (
    RasterTask,
    SeloRequest,
    density_job,
    inundation_job,
    selo_job,
)
from tests.helpers.raster_testkit import colour_text_encoder, mean_colour_encoder, scene, write_dem, write_rgb_raster


def _run(task):
    ok = task.run()
    task.finished(ok)
    return ok


def test_selo_task_adds_a_styled_overlay(tmp_path):
    project = QgsProject()
    raster = write_rgb_raster(tmp_path / "scene.tif", scene())
    req = SeloRequest(str(raster), str(tmp_path / "m.tif"), str(mean_colour_encoder(tmp_path / "i.onnx")),
                      text="blue", text_model=str(colour_text_encoder(tmp_path / "t.onnx")),
                      cache_dir=str(tmp_path / "c"))
    progress = []
    task = RasterTask("SeLo", selo_job(req), project)
    task.progressChanged.connect(progress.append)
    assert _run(task)
    (layer,) = task.layers
    assert isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer)
    assert math.isclose(layer.renderer().opacity(), 0.3)
    assert project.layerTreeRoot().findGroup("MIST").findLayer(layer.id()) is not None
    assert progress and max(progress) >= 80


def test_cancelled_task_adds_nothing(tmp_path):
    project = QgsProject()
    raster = write_rgb_raster(tmp_path / "scene.tif", scene())
    req = SeloRequest(str(raster), str(tmp_path / "m.tif"), str(mean_colour_encoder(tmp_path / "i.onnx")),
                      text="red", text_model=str(colour_text_encoder(tmp_path / "t.onnx")),
                      cache_dir=str(tmp_path / "c"))
    task = RasterTask("SeLo", selo_job(req), project)
    task.cancel()
    assert not _run(task)
    assert task.layers == [] and task.error is None and not (tmp_path / "m.tif").exists()


def test_failing_job_reports_its_error(tmp_path):
    req = SeloRequest(str(tmp_path / "missing.tif"), str(tmp_path / "m.tif"), str(tmp_path / "missing.onnx"),
                      text="red")
    task = RasterTask("SeLo", selo_job(req), QgsProject())
    assert not _run(task)
    assert "does not exist" in task.error


def test_density_and_inundation_tasks(tmp_path):
    from osgeo import osr

    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(32633)
    dst.ImportFromEPSG(4326)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_ll = osr.CoordinateTransformation(src, dst)
    from datetime import UTC, datetime

    store_path = tmp_path / "s.gpkg"
    with open_store(store_path) as store:
        recs = []
        for i, (row, col) in enumerate([(100, 20), (60, 30)]):
            lon, lat = to_ll.TransformPoint(500000 + col + 0.5, 4000000 - row - 0.5)[:2]
            recs.append(PostRecord(post_id=str(i), platform="t", lon=lon, lat=lat,
                                   timestamp=datetime(2024, 5, 1, 10 + i, 30, tzinfo=UTC)))
        with store.batch() as conn:
            store.add_posts(conn, recs)
            conn.execute("UPDATE posts SET verified = 'flood', water_depth_m = 5.0 - 0.1 * (fid * 10 - 8)")
    project = QgsProject()
    task = RasterTask("density", density_job(str(store_path), str(tmp_path / "d"), "verified", 50, 5, "hour"),
                      project)
    assert _run(task)
    assert len(task.layers) == 2 and all(lyr.temporalProperties().isActive() for lyr in task.layers)
    dem = write_dem(tmp_path / "dem.tif", np.tile(0.1 * np.arange(300, dtype=np.float32), (200, 1)))
    task = RasterTask("inundation", inundation_job(str(store_path), str(dem), str(tmp_path / "i"),
                                                   InundationParams(max_distance_m=10_000)), project)
    assert _run(task), task.error
    extent, depth = task.layers
    assert extent.featureCount() == 1 and depth.isValid()
    assert task.output.summary["points_used"] == 2
