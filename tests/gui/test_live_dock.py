"""The "MIST Live" dock on a real store, a real task manager and a file a thread appends to: the
posts layer grows without being re-added, an alert raises a notice with a zoom button, and stop
then start ends with exact totals."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsProcessingContext,
    QgsProject,
    QgsRectangle,
)
from qgis.gui import QgsMapCanvas, QgsMessageBar
from qgis.PyQt.QtWidgets import QPushButton

from mist_qgis.core.store import open_store
from mist_qgis.gui.live_dock import LiveDock
from mist_qgis.headless import init_processing
from mist_qgis.qgis_ops.layers import add_posts_layer
from mist_qgis.qgis_ops.live_map import area_filters, fixed_range_mode
from tests.helpers.stub_iface import StubIface
from tests.live_kit import mixed_lines, v1_line


class LiveIface(StubIface):
    def __init__(self) -> None:
        super().__init__()
        self.canvas = QgsMapCanvas()
        self.canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
        self.canvas.setExtent(QgsRectangle(0, 0, 1, 1))
        self.bar = QgsMessageBar()

    def mapCanvas(self):
        return self.canvas

    def messageBar(self):
        return self.bar


def _start_task(tasks: list):
    def start(task) -> None:
        tasks.append(task)
        QgsApplication.taskManager().addTask(task)
    return start


def test_live_dock_grows_the_layer_alerts_and_restarts_exactly(qtbot, store_path: Path, tmp_path: Path):
    init_processing()
    open_store(store_path).close()
    project = QgsProject()
    layer = add_posts_layer(store_path, project)
    stream = tmp_path / "stream.jsonl"
    stream.write_text("")
    iface = LiveIface()
    tasks: list = []
    dock = LiveDock(iface, _start_task(tasks), project=project)
    qtbot.addWidget(dock)
    dock.store_edit.setText(str(store_path))
    dock.sources_edit.setPlainText(str(stream))
    dock.keywords_edit.setText("bridge")

    def append(start: int, count: int) -> None:
        with open(stream, "a") as fh:
            for n in range(start, start + count, 10):
                fh.write(mixed_lines(n, 10))
                fh.flush()
                time.sleep(0.1)

    dock.start()
    writer = threading.Thread(target=append, args=(0, 60))
    writer.start()
    qtbot.waitUntil(lambda: layer.featureCount() > 0, timeout=60000)
    writer.join()
    with open(stream, "a") as fh:
        fh.write(v1_line(500, "bridge under water", lon=113.65, lat=34.75))
    qtbot.waitUntil(lambda: bool(dock.notices), timeout=60000)
    zoom = dock.notices[0].findChildren(QPushButton)[0]
    zoom.click()
    assert iface.canvas.extent().contains(113.65, 34.75)
    qtbot.waitUntil(lambda: layer.featureCount() == 61, timeout=60000)
    assert "open alerts" in dock.stats_label.text() and sum(dock.minute_bins()) == 61 - dock.samples[0][1]
    dock.stop()
    qtbot.waitUntil(lambda: not dock.running, timeout=60000)
    append(1000, 30)  # written while stopped
    dock.start()
    qtbot.waitUntil(lambda: layer.featureCount() == 91, timeout=60000)
    dock.stop()
    qtbot.waitUntil(lambda: not dock.running, timeout=60000)
    with open_store(store_path, create=False, read_only=True) as store:
        assert store.count("posts") == 91 and store.count("alerts") == 1
        assert store.count("runs", "kind = 'watch' AND status = 'cancelled'") == 2
    dock.cleanup()


@pytest.mark.gpkg_only("its last step checks the bounds filter, written in the GeoPackage's SQL; a team store "
                       "takes the exact PostGIS filter, the first choice")
def test_live_dock_follows_now_filters_by_area_and_shows_head_and_feed_state(qtbot, store_path: Path,
                                                                               tmp_path: Path):
    import socket

    import processing
    from qgis.core import QgsFeature, QgsGeometry, QgsTemporalNavigationObject, QgsVectorLayer

    from mist_qgis.core.images.urlguard import UrlPolicy
    from mist_qgis.core.live.watch import WatchOptions, watch
    from mist_qgis.core.store import live_sql
    from tests.live_kit import v2_line

    init_processing()
    with socket.socket() as probe:  # a feed on a port nothing listens on: it fails and backs off
        probe.bind(("127.0.0.1", 0))
        feed = f"http://127.0.0.1:{probe.getsockname()[1]}/feed.json"
    stream = tmp_path / "stream.jsonl"
    stream.write_text(v1_line(1, "bridge flooded", lon=113.65, lat=34.75)
                      + v1_line(2, "bridge flooded", lon=116.0, lat=39.9) + v2_line(3))  # v2: the newest, 12:00
    with open_store(store_path) as store:
        watch(store, WatchOptions([feed, str(stream)], interval_s=0.05, max_posts=3, fetch_media=False,
                                  policy=UrlPolicy.allowing(["127.0.0.1/32"])))
        with store.batch() as conn:
            live_sql.add_head_version(conn, "flood-head@1", "/h1.onnx", "flood-head", 40, 0.87, None, "active",
                                      "the head the watch started with", None)
            live_sql.add_head_version(conn, "flood-head@1.1", "/h2.onnx", "flood-head", 60, 0.52, None,
                                      "rejected", "rejected, flood-head@1 stays: cross-validated F1 0.52 is worse",
                                      None)
    project = QgsProject.instance()  # before QGIS 3.24 the layer choosers list this project's layers
    project.clear()
    layer = add_posts_layer(store_path, project)
    layer.temporalProperties().setIsActive(False)
    area = QgsVectorLayer("Polygon?crs=EPSG:4326", "Zhengzhou", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromWkt("POLYGON((113 34, 114 34, 114 35, 113 35, 113 34))"))
    area.dataProvider().addFeatures([feature])
    project.addMapLayer(area)
    iface = LiveIface()
    navigation = QgsTemporalNavigationObject()
    iface.canvas.setTemporalController(navigation)
    dock = LiveDock(iface, _start_task([]), project=project)
    qtbot.addWidget(dock)
    dock.store_edit.setText(str(store_path))
    dock.area_combo.setLayer(area)
    dock.area_posts_check.setChecked(True)
    dock.follow_check.setChecked(True)
    dock.window_spin.setValue(30)
    dock.refresh()

    window = iface.canvas.temporalRange()
    assert window.end().toString("yyyy-MM-ddTHH:mm:ss") == "2021-07-20T12:00:00"
    assert window.begin().secsTo(window.end()) == 30 * 60 and layer.temporalProperties().isActive()
    assert navigation.navigationMode() == fixed_range_mode()
    later = v2_line(4).replace("2021-07-20T12:00:00Z", "2021-07-20T13:30:00Z")
    with open(stream, "a") as fh:  # a newer post arrives: the window moves with it
        fh.write(later)
    with open_store(store_path) as store:
        watch(store, WatchOptions([str(stream)], interval_s=0.05, max_posts=1, fetch_media=False))
    dock.refresh()
    assert iface.canvas.temporalRange().end().toString("yyyy-MM-ddTHH:mm:ss") == "2021-07-20T13:30:00"
    assert len(list(layer.getFeatures())) == 3  # the Beijing post is outside the area
    notched = QgsVectorLayer("Polygon?crs=EPSG:4326", "notched", "memory")  # the area's bounds hold all 3
    corner = QgsFeature()
    corner.setGeometry(QgsGeometry.fromWkt("POLYGON((113.63 34.7, 113.7 34.7, 113.7 34.8, 113.6 34.8, 113.6 34.73, "
                                           "113.63 34.73, 113.63 34.7))"))
    notched.dataProvider().addFeatures([corner])
    project.addMapLayer(notched)
    dock.area_combo.setLayer(notched)
    dock.refresh()
    assert layer.subsetString().startswith("ST_Intersects") and len(list(layer.getFeatures())) == 1
    bounds_only = area_filters(corner.geometry().asWkt(), (113.6, 34.7, 113.7, 34.8))[1]  # GDAL without SpatiaLite
    assert layer.setSubsetString(bounds_only) and len(list(layer.getFeatures())) == 3
    layer.setSubsetString(dock.area_subset)
    dock.area_combo.setLayer(area)
    dock.refresh()
    assert len(list(layer.getFeatures())) == 3
    assert "flood-head@1 screens, F1 0.87" in dock.head_label.text()
    assert "flood-head@1.1 was not used: rejected, flood-head@1 stays" in dock.head_label.text()
    lines = dock.sources_label.text().splitlines()
    assert any(str(stream.resolve()) in line and "line 4" in line for line in lines)
    assert any(feed in line and "1 failures" in line and "next try" in line for line in lines)
    dock.area_posts_check.setChecked(False)
    dock.refresh()
    assert layer.subsetString() == ""

    # the same area filters the alerts of the watch the dock starts; its gazetteer places posts
    places = QgsVectorLayer("Point?crs=EPSG:4326&field=name:string", "places", "memory")
    place = QgsFeature(places.fields())
    place.setAttribute("name", "Zhengzhou Station")
    place.setGeometry(QgsGeometry.fromWkt("POINT(113.6587 34.7466)"))
    places.dataProvider().addFeatures([place])
    project.addMapLayer(places)
    dock.gazetteer_combo.setLayer(places)
    dock.name_field_combo.setField("name")
    unplaced = json.loads(v1_line(9, "bridge closed at Zhengzhou Station"))
    unplaced["coordinates"] = None
    with open(stream, "a") as fh:
        fh.write(json.dumps(unplaced) + "\n")
    dock.keywords_edit.setText("bridge")
    dock.sources_edit.setPlainText(str(stream))
    parameters = {**dock.parameters(), "STORE": str(tmp_path / "fresh.gpkg"), "MAX_POSTS": 5, "INTERVAL": 0.05,
                  "FETCH_MEDIA": False}
    assert parameters["LEARN_EVERY"] == 50 and parameters["NAME_FIELD"] == "name"
    open_store(tmp_path / "fresh.gpkg").close()
    context = QgsProcessingContext()
    context.setProject(project)
    result = processing.run("mist:watch", parameters, context=context)
    assert result["PLACED"] == 1 and result["ALERTS"] == 2  # post 1 and the one placed at the station
    dock.cleanup()
    project.clear()
