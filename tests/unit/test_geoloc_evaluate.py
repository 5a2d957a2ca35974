"""Geolocation error statistics in geodesic metres, and the match viewer PNG."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod

sys.path.insert(0, str(Path(__file__).resolve().parent))
from geoloc_helpers import query_of, reference_collection  # noqa: E402

from mist_qgis.core.geoloc import evaluate, matchers, scoring, viewer  # noqa: E402

GEOD = Geod(ellps="WGS84")


def _moved(lon, lat, az, dist):
    x, y, _ = GEOD.fwd(lon, lat, az, dist)
    return float(x), float(y)


def test_error_stats_against_hand_computed_distances():
    truth = (113.68, 34.70)
    errors = [10.0, 30.0, 60.0, 150.0, 400.0, 1000.0]
    pairs = [(_moved(*truth, 37.0 * i, e), truth) for i, e in enumerate(errors)]
    pairs += [(None, truth), ((float("nan"), 34.7), truth)]
    s = evaluate.error_stats(pairs)
    assert s.n == 6 and s.missing == 2
    assert s.mean_m == pytest.approx(np.mean(errors), abs=0.01)
    assert s.median_m == pytest.approx(105.0, abs=0.01)
    assert s.rmse_m == pytest.approx(math.sqrt(np.mean(np.square(errors))), abs=0.01)
    assert s.within == {"25": pytest.approx(1 / 6), "50": pytest.approx(2 / 6), "100": pytest.approx(3 / 6),
                        "200": pytest.approx(4 / 6), "500": pytest.approx(5 / 6)}
    empty = evaluate.error_stats([(None, truth)])
    assert empty.n == 0 and empty.mean_m is None and empty.missing == 1


def test_geodesic_not_spherical():
    # 1 degree of latitude at the equator: 110574 m on WGS 84 (a sphere would say 111195)
    assert evaluate.geodesic_m(0, 0, 0, 1) == pytest.approx(110574.4, abs=1.0)


def test_evaluate_store_reports_before_and_after(store):
    from mist_qgis.core.posts import PostRecord

    truth = {"a": (113.68, 34.70), "b": (113.69, 34.71), "ghost": (0.0, 0.0)}
    with store.batch() as conn:
        store.add_posts(conn, [PostRecord("a", "t", lon=_moved(113.68, 34.70, 90, 300)[0],
                                          lat=_moved(113.68, 34.70, 90, 300)[1]),
                               PostRecord("b", "t", lon=113.69, lat=34.71), PostRecord("c", "t")])
        # post a was moved by image matching to 5 m from the truth; the original stays in orig_lon/lat
        x, y = _moved(113.68, 34.70, 0, 5)
        from mist_qgis.core.store import gpkg

        conn.execute("UPDATE posts SET geom = ?, geo_source = 'image_match' WHERE post_id = 'a'",
                     (gpkg.point_blob(x, y),))
    result = evaluate.evaluate_store(store, truth)
    assert result["posts_with_truth"] == 2 and result["truth_without_post"] == 1
    assert result["moved_after"]["mean_m"] == pytest.approx(5.0, abs=0.01)
    assert result["moved_before"]["mean_m"] == pytest.approx(300.0, abs=0.01)
    assert result["after"]["within"]["25"] == 1.0 and result["before"]["within"]["25"] == 0.5


def test_viewer_writes_a_png_with_inlier_lines(tmp_path, store):
    from PIL import Image

    refs = reference_collection(tmp_path / "street", store, per_scene=1)
    ref_view = refs["rocket_0"][2]
    query = query_of(ref_view, 2)
    match = matchers.create("sift").match(query, ref_view.image)
    geometry = scoring.verify(match)
    path = viewer.render_matches(query, ref_view.image, match, geometry.inlier_mask, tmp_path / "v" / "m.png",
                                 title="q -> rocket_0")
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] == 1200
        pixels = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(int)
    green = (np.abs(pixels - [0x1a, 0x98, 0x50]).sum(axis=1) < 60).sum()
    assert green > 500  # inlier lines drawn
