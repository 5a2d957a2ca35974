"""`mist:watch` inside QGIS: an area of interest given as a polygon layer in another CRS."""

from __future__ import annotations

import json

import processing
import pytest
from qgis.core import QgsProcessingException

from mist_qgis.core.store import open_store
from tests.live_kit import v1_line

# 113-114 E, 34-35 N in Web Mercator
AREA = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
        "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
            [12579116, 4028802], [12690435, 4028802], [12690435, 4163881], [12579116, 4163881],
            [12579116, 4028802]]]}}]}


def test_watch_algorithm_alerts_inside_an_area_layer_only(tmp_path):
    store_path = tmp_path / "s.gpkg"
    open_store(store_path).close()
    area = tmp_path / "area.geojson"
    area.write_text(json.dumps(AREA))
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
