"""`mist:watch` inside QGIS: an area of interest given as a polygon layer in another CRS."""

from __future__ import annotations

import json

import processing
import pytest
from qgis.core import QgsProcessingException, QgsProcessingFeedback

from mist_qgis.core.store import open_store
from tests.live_kit import v1_line

# 113-114 E, 34-35 N in Web Mercator
AREA = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
        "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
            [12579116, 4028802], [12690435, 4028802], [12690435, 4163881], [12579116, 4163881],
            [12579116, 4028802]]]}}]}


def _store_and_area(tmp_path):
    store_path = tmp_path / "s.gpkg"
    open_store(store_path).close()
    area = tmp_path / "area.geojson"
    area.write_text(json.dumps(AREA))
    return store_path, area


def test_watch_algorithm_alerts_inside_an_area_layer_only(tmp_path):
    store_path, area = _store_and_area(tmp_path)
    stream = tmp_path / "stream.jsonl"
    stream.write_text(v1_line(1, "flooded") + v1_line(2, "flooded", lon=10.0, lat=10.0) + "{garbage\n")
    result = processing.run("mist:watch", {
        "STORE": str(store_path), "SOURCES": str(stream), "ALERT_AREA": str(area), "KEYWORDS": "flooded",
        "MAX_POSTS": 3, "INTERVAL": 0.05, "FETCH_MEDIA": False})
    assert result["RECORDS_READ"] == 3 and result["IMPORTED"] == 2 and result["ALERTS"] == 1
    with open_store(store_path, create=False, read_only=True) as store:
        assert store.scalar("SELECT text FROM alerts") == "flooded 1"


def test_watch_algorithm_without_sources_is_a_clean_error(tmp_path):
    store_path = tmp_path / "s.gpkg"
    open_store(store_path).close()
    with pytest.raises(QgsProcessingException, match="No source to watch"):
        processing.run("mist:watch", {"STORE": str(store_path), "SOURCES": " \n"})


def test_watch_algorithm_extent_narrows_the_area_and_a_gazetteer_places_posts(tmp_path):
    store_path, area = _store_and_area(tmp_path)
    places = tmp_path / "places.geojson"
    places.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "Zhengzhou Station"},
        "geometry": {"type": "Point", "coordinates": [113.6587, 34.7466]}}]}))
    unplaced = json.loads(v1_line(3, "flooded at Zhengzhou Station"))
    unplaced["coordinates"] = None
    stream = tmp_path / "stream.jsonl"
    stream.write_text(v1_line(1, "flooded", lon=113.2, lat=34.2) + v1_line(2, "flooded", lon=113.7, lat=34.7)
                      + json.dumps(unplaced) + "\n")
    result = processing.run("mist:watch", {
        "STORE": str(store_path), "SOURCES": str(stream), "ALERT_AREA": str(area), "KEYWORDS": "flooded",
        "ALERT_EXTENT": "113.5,114.5,34.5,35.5 [EPSG:4326]", "GAZETTEER": str(places), "NAME_FIELD": "name",
        "MAX_POSTS": 3, "INTERVAL": 0.05, "FETCH_MEDIA": False})
    assert result["PLACED"] == 1 and result["ALERTS"] == 2  # post 1 is in the layer's area, not the extent
    with open_store(store_path, create=False, read_only=True) as store:
        assert sorted(r[0] for r in store.query("SELECT text FROM alerts")) == [
            "flooded 2", "flooded at Zhengzhou Station 3"]


class _Log(QgsProcessingFeedback):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def pushInfo(self, info: str) -> None:  # noqa: N802
        self.lines.append(info)
        super().pushInfo(info)


def test_watch_algorithm_learns_and_logs_which_head_screens(tmp_path):
    from tests.helpers.modelkit import learning_store, verdicts_by_blueness
    from tests.live_kit import mixed_lines

    store_path = tmp_path / "s.gpkg"
    with open_store(store_path) as store:
        _, fids, first = learning_store(store, tmp_path)
        verdicts_by_blueness(store, fids[40:], day=2)
    stream = tmp_path / "stream.jsonl"
    stream.write_text(mixed_lines(0, 2))
    log = _Log()
    result = processing.run("mist:watch", {
        "STORE": str(store_path), "SOURCES": str(stream), "HEAD": str(first.path), "LEARN_EVERY": 10,
        "HEADS_FOLDER": str(tmp_path / "heads"), "MAX_POSTS": 2, "INTERVAL": 0.05, "FETCH_MEDIA": False},
        feedback=log)
    assert result["HEADS_TRAINED"] == 1 and (tmp_path / "heads" / "flood-head-1.1.onnx").is_file()
    heads = [line for line in log.lines if line.startswith("Head: ")]
    assert heads[0] == "Head: flood-head@1 is active: the head the watch started with"
    assert heads[-1].startswith("Head: flood-head@1.1 active: cross-validated F1"), heads
