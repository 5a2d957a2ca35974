"""Coarse locations from post text: multilingual toponym matching, the paper's confidence ->
radius table, road samples every 100 ground metres, and unlocated posts becoming locatable."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from mist_qgis.core.geoloc import candidates, gazetteer
from mist_qgis.core.geoloc.gazetteer import Gazetteer, GazetteerEntry
from mist_qgis.core.posts import PostRecord

GEOD = Geod(ellps="WGS84")
# Zhongyuan Road, Zhengzhou: two OSM ways of one road, ~3.6 km together
ZHONGYUAN_W = LineString([(113.600, 34.7485), (113.620, 34.7487)])
ZHONGYUAN_E = LineString([(113.620, 34.7487), (113.640, 34.7490)])


def _gazetteer() -> Gazetteer:
    return Gazetteer([
        GazetteerEntry("中原路", ZHONGYUAN_W, 1),
        GazetteerEntry("中原路", ZHONGYUAN_E, 2),
        GazetteerEntry("郑州火车站", Point(113.6587, 34.7466), 3),
        GazetteerEntry("Main Street", LineString([(-95.3650, 29.7500), (-95.3580, 29.7640)]), 4),
        GazetteerEntry("Buffalo Bayou Park", Polygon([(-95.39, 29.760), (-95.37, 29.760), (-95.37, 29.765),
                                                      (-95.39, 29.765)]), 5),
        GazetteerEntry("人民路", Point(113.66, 34.75), 6),
        GazetteerEntry("人民路", Point(121.48, 31.23), 7),  # Shanghai: ~830 km away
        GazetteerEntry("路", Point(0, 0), 8),  # generic: rejected
        GazetteerEntry("", Point(0, 0), 9),
        GazetteerEntry("Nowhere", None, 10),
    ])


def test_normalisation_of_width_case_and_punctuation():
    assert gazetteer.normalise("ＭＡＩＮ　ＳＴ．，Houston!!") == "main st houston"
    assert gazetteer.units("【中原路】积水") == ["中", "原", "路", "积", "水"]
    assert gazetteer.key("Main St.") == gazetteer.key("MAIN STREET") == "main street"


def test_gazetteer_rejects_unusable_names():
    g = _gazetteer()
    assert g.rejected == 3 and len(g) == 7


def test_toponyms_found_in_chinese_and_english_text():
    g = _gazetteer()
    found = g.find("今天中原路积水严重，郑州火车站附近也是")
    assert [m.toponym for m in found] == ["中 原 路", "郑 州 火 车 站"]
    assert len(found[0].entries) == 2
    assert [m.toponym for m in g.find("Flooding on ＭＡＩＮ ＳＴ. near buffalo-bayou park")] == [
        "main street", "buffalo bayou park"]
    assert g.find("Mainstreet is fine") == []  # Latin words match whole, not inside other words


def test_confidence_radius_table_is_the_papers():
    table = {30: 5000, 40: 2000, 50: 1000, 60: 500, 70: 300, 75: 200, 80: 100, 90: 50, 100: 20}
    for conf, radius in table.items():
        assert candidates.radius_for_confidence(conf) == radius
    assert candidates.radius_for_confidence(65) == 5000  # any other value
    assert candidates.confidence_for_radius(150) == 75
    assert candidates.confidence_for_radius(9000) == 30


def test_most_specific_toponym_wins_and_road_gets_samples():
    g = _gazetteer()
    point = candidates.locate_text(1, "今天中原路积水严重，郑州火车站附近也是", g).location
    assert point.name == "郑州火车站" and point.kind == "point"
    assert (point.confidence, point.radius_m) == (80, 100.0)
    road = candidates.locate_text(2, "中原路积水", g).location
    # 3.66 km long: half is 1.83 km -> the 2000 m radius covers it -> confidence 40
    assert road.kind == "line" and road.confidence == 40 and road.radius_m == 2000.0
    assert 36 <= len(road.samples) <= 40


def test_road_samples_are_100_ground_metres_apart_within_the_radius():
    center = (113.620, 34.7487)
    samples = candidates.sample_road(ZHONGYUAN_W.union(ZHONGYUAN_E), center, 1000.0)
    lon = np.array([s[0] for s in samples])
    lat = np.array([s[1] for s in samples])
    _, _, from_center = GEOD.inv(np.full(len(lon), center[0]), np.full(len(lat), center[1]), lon, lat)
    assert np.all(np.abs(from_center) <= 1000.5)
    order = np.argsort(lon)
    _, _, steps = GEOD.inv(lon[order][:-1], lat[order][:-1], lon[order][1:], lat[order][1:])
    steps = np.abs(steps)
    regular = steps[steps > 1.0]
    # every full step is 100 ground metres (UTM scale error < 0.1 %), not 82 (EPSG:3395) or 111 (degrees)
    assert np.median(regular) == pytest.approx(100.0, abs=0.2)
    assert regular.max() <= 100.2
    assert 19 <= len(samples) <= 23  # 2 km of road inside a 1 km circle


def test_ambiguous_names_are_not_placed_unless_the_post_has_a_location():
    g = _gazetteer()
    result = candidates.locate_text(3, "人民路 flooded", g)
    assert result.location is None and "apart" in result.reason
    near = candidates.locate_text(3, "人民路 flooded", g, near=(121.47, 31.22)).location
    assert (near.lon, near.lat) == (121.48, 31.23)


def test_polygon_confidence_from_its_size():
    loc = candidates.locate_text(4, "Buffalo Bayou Park is under water", _gazetteer()).location
    # 1.93 km x 0.56 km: equal-area radius ~585 m -> 1000 m covers it -> confidence 50
    assert loc.kind == "polygon" and loc.confidence == 50 and loc.radius_m == 1000
    assert -95.39 < loc.lon < -95.37


def test_unlocated_posts_become_locatable(store):
    posts = [
        PostRecord("p1", "weibo", text="郑州火车站 水很深"),
        PostRecord("p2", "weibo", text="人民路 水很深"),
        PostRecord("p3", "weibo", text="nothing to see"),
        PostRecord("p4", "weibo", lon=113.0, lat=34.0, text="郑州火车站"),  # located: left alone
    ]
    with store.batch() as conn:
        store.add_posts(conn, posts)
    summary = candidates.geocode_posts(store, _gazetteer())
    assert (summary.placed, summary.unplaced) == (1, 2)
    row = store.query("SELECT geo_source, geo_accuracy_m FROM posts WHERE post_id = 'p1'")[0]
    assert (row["geo_source"], row["geo_accuracy_m"]) == ("geocoded", 100.0)
    assert store.count("posts", "geom IS NULL") == 2
    reasons = [r["reason"] for r in store.issues_for_run(summary.run_id)]
    assert any("apart" in r for r in reasons) and any("no gazetteer name" in r for r in reasons)
    coarse = store.query("SELECT toponym, confidence, radius_m, samples FROM coarse_locations")
    assert len(coarse) == 1 and json.loads(coarse[0]["samples"]) == []
