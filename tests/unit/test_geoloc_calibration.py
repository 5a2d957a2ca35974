"""The geolocation confidence refit from analysts' placement verdicts: reliability and ECE, the
refit lowering ECE on a miscalibrated set, refusing too few verdicts, and the stored, versioned
refit that later geolocation runs use."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from mist_qgis.core.geoloc import calibration, references
from mist_qgis.core.geoloc.calibration import (
    PlacementVerdictError,
    TooFewVerdicts,
    record_placement,
    refit,
    refit_confidence,
    reliability,
)
from mist_qgis.core.geoloc.locate import GeolocateOptions, Geolocator
from mist_qgis.core.geoloc.scoring import CALIBRATION, PairScore, constants_for, mist_confidence
from mist_qgis.core.store import calibration_sql, geoloc_sql
from tests.unit.geoloc_helpers import add_post_with_photos, offset

# Real analysts' world: the right place already at ~15 inliers (the shipped model, fitted on
# pairs that separate completely, puts its 50 % point near 50 inliers).
TRUE = (-3.0, 1.4, 0.5)


def synthetic_verdicts(n: int, seed: int, truth=TRUE) -> tuple[list[tuple[int, float]], list[bool]]:
    rng = np.random.default_rng(seed)
    inliers = np.round(np.exp(rng.uniform(0.0, math.log(400.0), n))).astype(int)
    ratio = rng.uniform(0.1, 0.95, n)
    p = np.array([mist_confidence(i, r, constants=truth) for i, r in zip(inliers, ratio, strict=True)])
    correct = rng.random(n) < p
    return list(zip(inliers.tolist(), ratio.tolist(), strict=True)), correct.tolist()


def test_reliability_bins_and_ece_by_hand():
    conf = np.array([0.05, 0.15, 0.15, 0.95, 0.95, 1.0])
    hit = np.array([0, 0, 1, 1, 1, 0])
    rel = reliability(conf, hit)
    assert rel.counts == [1, 2, 0, 0, 0, 0, 0, 0, 0, 3]
    assert rel.accuracy[1] == pytest.approx(0.5) and rel.confidence[1] == pytest.approx(0.15)
    assert rel.accuracy[2] is None
    # |0 - .05| * 1/6 + |.5 - .15| * 2/6 + |2/3 - .9667| * 3/6
    expected = 0.05 / 6 + 0.35 * 2 / 6 + abs(2 / 3 - (0.95 + 0.95 + 1.0) / 3) * 3 / 6
    assert rel.ece == pytest.approx(expected)


def test_refit_lowers_ece_on_a_miscalibrated_set():
    evidence, correct = synthetic_verdicts(400, seed=1)
    result = refit(evidence, correct, "disk-lightglue")
    assert result.previous == CALIBRATION["disk-lightglue"]
    assert result.ece_before > 0.1
    assert result.ece_after < 0.06 < result.ece_before
    assert result.accepted and result.folds == 5
    a, b, _c = result.constants
    assert a == pytest.approx(TRUE[0], abs=1.0) and b == pytest.approx(TRUE[1], abs=0.5)
    # on fresh verdicts from the same world the refit is better calibrated too
    fresh, fresh_correct = synthetic_verdicts(2000, seed=2)
    conf = [mist_confidence(i, r, constants=result.constants) for i, r in fresh]
    shipped = [mist_confidence(i, r, "disk-lightglue") for i, r in fresh]
    assert reliability(np.array(conf), np.array(fresh_correct)).ece < \
        reliability(np.array(shipped), np.array(fresh_correct)).ece / 2


def test_a_refit_no_better_than_the_model_in_use_is_not_accepted():
    evidence, correct = synthetic_verdicts(300, seed=3, truth=TRUE)
    result = refit(evidence, correct, "disk-lightglue", previous=TRUE)  # the model in use is the truth
    assert result.ece_after >= result.ece_before * 0.8  # nothing much to gain
    if not result.accepted:
        assert "stays" in result.note


def test_too_few_verdicts_are_refused_with_how_many_more():
    evidence, correct = synthetic_verdicts(20, seed=4)
    with pytest.raises(TooFewVerdicts, match=r"20 placement verdicts .* at least 30 .*: 10 more verdicts"):
        refit(evidence, correct)
    evidence = [(100, 0.8)] * 40
    with pytest.raises(TooFewVerdicts, match=r"3 more 'wrong place'") as err:
        refit(evidence, [True] * 38 + [False] * 2)
    assert "in use stays" in str(err.value)


# -- on a store ------------------------------------------------------------------------------


def placed_posts(store, tmp_path, evidence: list[tuple[int, float]]) -> list[int]:
    """Posts placed by image matching (their `matches` and `geolocations` rows as a run writes
    them) with the given winning-pair evidence."""
    folder = tmp_path / "street"
    folder.mkdir(exist_ok=True)
    Image.fromarray(np.full((16, 16, 3), 120, np.uint8)).save(folder / "r.png")
    lon, lat = offset(0, 0)
    (folder / "refs.csv").write_text(f"id,lon,lat,heading,path\nr,{lon},{lat},0,r.png\n")
    references.import_references(store, folder / "refs.csv", collection="street")
    ref = geoloc_sql.references(store)[0]
    tiny = np.full((8, 8, 3), 200, np.uint8)
    fids = []
    for k, (inliers, ratio) in enumerate(evidence):
        fid = add_post_with_photos(store, f"p{k}", offset(10, 10), 100.0, [tiny])
        post = geoloc_sql.posts_to_locate(store, "disk-lightglue", "mist", post_fids=[fid])[0]
        media = post.media[0][0]
        conf = mist_confidence(inliers, ratio)
        with store.batch() as conn:
            geoloc_sql.record_pair_scores(conn, media, "disk-lightglue", [PairScore(
                ref.ref_uid, inliers + 5, 1.0, 0.1, inliers, ratio, conf)], None)
            geoloc_sql.record_outcome(conn, post, "disk-lightglue", "mist", "moved", None, None, media_fid=media,
                                      ref=ref, confidence=conf, inliers=inliers, accuracy_m=30.0)
        fids.append(fid)
    return fids


def test_refit_from_the_stores_verdicts_is_versioned_and_used(store, tmp_path):
    evidence, correct = synthetic_verdicts(60, seed=5)
    fids = placed_posts(store, tmp_path, evidence)
    for fid, ok in zip(fids[:25], correct[:25], strict=True):
        record_placement(store, fid, "correct" if ok else "wrong", "ana")
    with pytest.raises(TooFewVerdicts, match="5 more verdicts"):
        refit_confidence(store, "disk-lightglue")
    failed = store.query("SELECT status, message FROM runs WHERE kind = 'refit_confidence'")
    assert failed[0]["status"] == "failed" and "5 more verdicts" in failed[0]["message"]
    assert calibration_sql.confidence_models(store) == []
    # an analyst first says wrong, then a colleague corrects it: only the latest verdict counts
    record_placement(store, fids[0], "wrong" if correct[0] else "correct", "bo")
    record_placement(store, fids[0], "correct" if correct[0] else "wrong", "ana")
    for fid, ok in zip(fids[25:], correct[25:], strict=True):
        record_placement(store, fid, "correct" if ok else "wrong", "ana")
    rows = calibration_sql.current_placement_verdicts(store, "disk-lightglue")
    assert sorted((i, round(r, 6), c) for i, r, c in rows) == \
        sorted((i, round(r, 6), c) for (i, r), c in zip(evidence, correct, strict=True))

    first = refit_confidence(store, "disk-lightglue")
    expected = refit([(i, r) for i, r, _ in rows], [c for _, _, c in rows], "disk-lightglue")
    assert first.version == 1 and first.constants == pytest.approx(expected.constants)
    assert first.ece_before == pytest.approx(expected.ece_before)
    assert first.ece_after == pytest.approx(expected.ece_after)
    stored = calibration_sql.confidence_models(store, "disk-lightglue")
    assert len(stored) == 1 and stored[0]["version"] == 1 and stored[0]["verdicts"] == 60
    assert stored[0]["reliability"]["after"]["counts"] == first.after.counts
    assert stored[0]["accepted"] and first.accepted
    assert calibration.active_constants(store, "disk-lightglue") == pytest.approx(first.constants)
    assert Geolocator(store, GeolocateOptions(matcher="sift")).constants is None  # another matcher: its own
    second = refit_confidence(store, "disk-lightglue")
    assert second.version == 2 and second.previous == pytest.approx(first.constants)


def test_placement_verdicts_refuse_posts_matching_never_placed(store, tmp_path):
    fids = placed_posts(store, tmp_path, [(50, 0.7)])
    other = add_post_with_photos(store, "unplaced", offset(0, 0), 50.0, [np.zeros((8, 8, 3), np.uint8)])
    with pytest.raises(PlacementVerdictError, match="not placed by image matching"):
        record_placement(store, other, "correct", "ana")
    with pytest.raises(PlacementVerdictError, match="unknown placement verdict"):
        record_placement(store, fids[0], "maybe", "ana")
    with pytest.raises(PlacementVerdictError, match="analyst"):
        record_placement(store, fids[0], "wrong", "  ")
    fid = record_placement(store, fids[0], "wrong", "ana")
    row = store.query("SELECT inliers, inlier_ratio, ref_uid, matcher FROM placement_verdicts WHERE fid = ?", (fid,))[0]
    assert (row["inliers"], row["ref_uid"], row["matcher"]) == (50, "street/r", "disk-lightglue")
    assert calibration_sql.latest_placement_verdict(store, fids[0], "street/r", "disk-lightglue") == "wrong"


def test_a_geolocation_run_scores_with_the_accepted_refit(store, tmp_path):
    from mist_qgis.core.geoloc import locate
    from tests.unit.geoloc_helpers import query_of, reference_collection

    refs = reference_collection(tmp_path / "street", store)
    add_post_with_photos(store, "q", offset(150, -120), 400.0, [query_of(refs["rocket_1"][2], seed=11)])
    with store.batch() as conn:  # a refit that is not used, then one that is: confidence 1/(1+e^-3) for any pair
        calibration_sql.insert_confidence_model(conn, "sift", 1, (-9.0, 0.0, 0.0), 40, 20, 0.2, 0.3, {}, False, "",
                                                None)
        calibration_sql.insert_confidence_model(conn, "sift", 2, (3.0, 0.0, 0.0), 40, 20, 0.3, 0.1, {}, True, "",
                                                None)
    summary = locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=2))
    assert summary.counts["pairs"] == 2
    confidences = [r["confidence"] for r in store.query("SELECT confidence FROM matches")]
    assert confidences == pytest.approx([1 / (1 + math.exp(-3.0))] * 2)


def test_the_constants_in_use_are_the_newest_accepted_refit_of_the_matcher_else_the_shipped_ones(store):
    assert constants_for("sift") == CALIBRATION["sift"]
    assert constants_for("loftr") == constants_for("aliked-lightglue") == CALIBRATION["disk-lightglue"]
    assert calibration.active_constants(store, "sift") is None
    with store.batch() as conn:
        for version, (matcher, a, accepted) in enumerate([("sift", 1.0, True), ("sift", 2.0, True),
                                                          ("disk-lightglue", 3.0, True), ("sift", 4.0, False),
                                                          ("disk-lightglue", 5.0, False)], start=1):
            calibration_sql.insert_confidence_model(conn, matcher, version, (a, 0.5, 0.25), 40, 20, 0.3, 0.1,
                                                    {"bins": version}, accepted, "", None)
    assert calibration.active_constants(store, "sift") == (2.0, 0.5, 0.25)
    assert calibration.active_constants(store, "disk-lightglue") == (3.0, 0.5, 0.25)
    assert calibration.active_constants(store, "loftr") is None
    for matcher in ("sift", "disk-lightglue"):
        newest = calibration_sql.confidence_models(store, matcher, accepted_only=True)[0]
        assert calibration.active_constants(store, matcher) == (newest["a"], newest["b"], newest["c"])
