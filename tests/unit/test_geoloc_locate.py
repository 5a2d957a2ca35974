"""The geolocation driver on real photos warped by known homographies, with references at known
coordinates: the right reference wins, the post moves there, bad input gets per-item reasons."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from geoloc_helpers import ORIGIN, add_post_with_photos, offset, query_of, reference_collection  # noqa: E402

from mist_qgis.core.geoloc import locate  # noqa: E402
from mist_qgis.core.geoloc.locate import GeolocateOptions  # noqa: E402
from mist_qgis.core.store import gpkg  # noqa: E402
from tests.helpers import built_models  # noqa: E402


@pytest.fixture
def refs(tmp_path, store):
    return reference_collection(tmp_path / "street", store)


def _post_row(store, post_id):
    row = store.query("SELECT * FROM posts WHERE post_id = ?", (post_id,))[0]
    return row, gpkg.point_xy(row["geom"])


def test_sift_moves_the_post_to_the_right_reference_and_resumes(store, refs):
    target = refs["rocket_1"]
    start = offset(150, -120)
    add_post_with_photos(store, "q1", start, 400.0, [query_of(target[2], seed=11)])
    add_post_with_photos(store, "far", offset(5000, 5000), 100.0, [query_of(refs["coffee_0"][2], seed=12)])
    summary = locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=4))
    assert summary.status == "done"
    assert summary.counts["moved"] == 1 and summary.counts["unmatched"] == 1
    assert summary.counts["references_extracted"] == 12
    assert "not applied" in summary.mask_note
    row, (lon, lat) = _post_row(store, "q1")
    assert (lon, lat) == pytest.approx(target[:2])  # the reference's own coordinates
    assert row["geo_source"] == "image_match" and row["match_ref"] == "street/rocket_1"
    assert row["match_score"] > 0.8 and row["geo_accuracy_m"] == pytest.approx(30.0)
    assert (row["orig_lon"], row["orig_lat"]) == pytest.approx(start)
    line = store.query("SELECT * FROM geolocations WHERE post_fid = ?", (row["fid"],))[0]
    assert line["status"] == "moved" and line["shift_m"] == pytest.approx(
        float(np.hypot(150 - 40 * 7, -120 - 10 * (7 % 3))), rel=0.01)
    assert gpkg.envelope(line["geom"]).min_x == pytest.approx(min(start[0], lon))
    pairs = store.query("SELECT ref_id, confidence, inliers, score_sum, error_indicator, paper_rate FROM matches "
                        "ORDER BY confidence DESC")
    assert len(pairs) == 4  # top-k only
    assert pairs[0]["ref_id"] == "street/rocket_1" and pairs[0]["inliers"] > 30
    assert pairs[1]["confidence"] < 0.5  # the geometric check rejects the other scenes
    far = store.query("SELECT g.status, g.reason FROM geolocations g JOIN posts p ON p.fid = g.post_fid "
                      "WHERE p.post_id = 'far'")[0]
    assert far["status"] == "unmatched" and "no reference within 100 m" in far["reason"]
    again = locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=4))
    assert again.counts["posts"] == 0  # resumable: nothing left to do
    assert store.count("reference_features") == 12
    from mist_qgis.core.geoloc.viewer import render_geolocation

    png = render_geolocation(store, row["fid"], store.media_dir.parent / "view.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_paper_faithful_mode_matches_every_candidate_and_stores_rates(store, refs):
    add_post_with_photos(store, "q", offset(200, 0), 500.0, [query_of(refs["chelsea_0"][2], seed=5)])
    summary = locate.geolocate(store, GeolocateOptions(matcher="sift", paper_faithful=True))
    assert summary.counts["pairs"] == 12  # no retrieval: all references within the radius
    rates = store.query("SELECT ref_id, paper_rate, score_sum FROM matches ORDER BY paper_rate DESC")
    row, _ = _post_row(store, "q")
    assert row["match_ref"] == rates[0]["ref_id"] and row["match_score"] == pytest.approx(rates[0]["paper_rate"])
    assert rates[0]["ref_id"] == "street/chelsea_0"
    assert store.scalar("SELECT mode FROM geolocations") == "paper"


def test_bad_input_gets_reasons_and_never_stops_the_run(tmp_path, store, refs):
    good = query_of(refs["astronaut_0"][2], seed=3)
    add_post_with_photos(store, "tiny", ORIGIN, 500.0, [good[:40, :50]])
    add_post_with_photos(store, "pano", ORIGIN, 500.0, [np.tile(good, (1, 4, 1))])
    add_post_with_photos(store, "flat", ORIGIN, 500.0, [np.full((300, 400, 3), 128, np.uint8)])
    add_post_with_photos(store, "grey", ORIGIN, 500.0, [Image.fromarray(good).convert("L")])
    add_post_with_photos(store, "cmyk", ORIGIN, 500.0, [Image.fromarray(good).convert("CMYK")], fmt="JPEG")
    (tmp_path / "street" / "coffee_1.png").unlink()  # a reference whose file disappeared
    summary = locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=3))
    assert summary.counts["skipped"] == 3 and summary.counts["moved"] == 2
    assert summary.counts["references_unusable"] == 5  # one missing file, seen by each post
    reasons = {r["source"]: r["reason"] for r in store.issues_for_run(summary.run_id) if r["source"].startswith("post")}
    assert "at least 64 px" in reasons["post tiny"]
    assert "panorama" in reasons["post pano"]
    assert "no texture" in reasons["post flat"]
    notes = [r["reason"] for r in store.issues_for_run(summary.run_id)]
    assert any("greyscale" in n for n in notes) and any("CMYK converted" in n for n in notes)
    assert any("reference image missing" in n and "coffee_1" in n for n in notes)
    for post_id in ("grey", "cmyk"):
        assert _post_row(store, post_id)[0]["match_ref"] == "street/astronaut_0"


def test_missing_weights_fail_each_post_with_the_reason_and_are_retried(store, refs):
    add_post_with_photos(store, "q", ORIGIN, 500.0, [query_of(refs["rocket_0"][2], seed=1)])
    summary = locate.geolocate(store, GeolocateOptions(matcher="loftr"))
    assert summary.counts["failed"] == 1 and summary.status == "done"
    reason = store.scalar("SELECT reason FROM geolocations")
    assert "loftr" in reason and "loftr-outdoor.onnx" in reason and "outdoor_ds.ckpt" in reason
    assert locate.geolocate(store, GeolocateOptions(matcher="loftr")).counts["posts"] == 1  # retried


def test_cancel_stops_between_posts(store, refs):
    for i in range(3):
        add_post_with_photos(store, f"q{i}", ORIGIN, 500.0, [query_of(refs["rocket_0"][2], seed=i)])
    calls = []
    summary = locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=2), progress=calls.append,
                               is_cancelled=lambda: len(calls) >= 1)
    assert summary.status == "cancelled" and summary.counts["moved"] == 1
    assert store.runs("geolocate")[-1].status == "cancelled"
    rest = locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=2))
    assert rest.counts["posts"] == 2 and rest.counts["moved"] == 2
    assert rest.counts["references_extracted"] == 0  # cached by the first run


def test_disk_lightglue_retrieval_and_match_pick_the_right_reference(store, refs):
    target = refs["coffee_1"]
    add_post_with_photos(store, "q", offset(100, 50), 500.0, [query_of(target[2], seed=21)])
    models = str(built_models.ensure("disk.onnx", "lightglue-disk.onnx"))
    summary = locate.geolocate(store, GeolocateOptions(matcher="disk-lightglue", top_k=3, max_side=320,
                                                       max_keypoints=512, models_dir=models))
    assert summary.counts["moved"] == 1, summary
    row, lonlat = _post_row(store, "q")
    assert row["match_ref"] == "street/coffee_1" and lonlat == pytest.approx(target[:2])
    best, *others = store.query("SELECT ref_id, confidence FROM matches ORDER BY confidence DESC")
    assert best["confidence"] > 0.9 and all(o["confidence"] < 0.5 for o in others if "coffee" not in o["ref_id"])


def test_cancel_stops_within_a_post_after_one_pair(store, refs, monkeypatch):
    """A post with many candidates stops after the pair being matched, not after all of them; the
    post is not recorded, so the next run does it."""
    add_post_with_photos(store, "q0", ORIGIN, 500.0, [query_of(refs["rocket_0"][2], seed=1)])
    matched = []
    real = locate.Geolocator._score_photo

    def counting(self, *args, **kwargs):
        inner = self.matcher.match_features

        def match(*a, **k):
            matched.append(1)
            return inner(*a, **k)

        monkeypatch.setattr(self.matcher, "match_features", match)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(locate.Geolocator, "_score_photo", counting)
    summary = locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=6), is_cancelled=lambda: len(matched) >= 1)
    assert summary.status == "cancelled" and len(matched) == 1
    assert store.count("geolocations") == 0
    assert locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=6)).counts["posts"] == 1
