"""LSGL's score/error indicator/rate against hand-computed values, and MIST's geometric check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mist_qgis.core.geoloc import scoring, synthetic
from mist_qgis.core.geoloc.matchers import MatchResult


def _match(k0, k1, conf, size=(640, 480)) -> MatchResult:
    return MatchResult(np.array(k0, np.float32), np.array(k1, np.float32), np.array(conf, np.float32), "test",
                       size, size)


def test_paper_score_matches_hand_computation():
    # displacements (query - reference): (3, 4), (6, 8), (-5, 0)
    m = _match([[13, 14], [16, 18], [5, 10]], [[10, 10], [10, 10], [10, 10]], [0.5, 0.25, 1.0])
    s = scoring.paper_score(m)
    d = [5.0, 10.0, 5.0]
    theta = [math.atan(4 / 3), math.atan(8 / 6), 0.0]  # atan(0 / -5) = -0.0

    def pstd(v):
        mu = sum(v) / len(v)
        return math.sqrt(sum((x - mu) ** 2 for x in v) / len(v))

    assert s.score_sum == pytest.approx(1.75)
    assert s.error_indicator == pytest.approx(pstd(d) * pstd(theta))
    assert s.n_matches == 3


def test_vertical_displacement_is_handled_without_exception():
    theta = scoring.displacement_angles(np.array([0.0, 0.0, 0.0, 2.0]), np.array([3.0, -1.0, 0.0, 2.0]))
    assert theta.tolist() == pytest.approx([math.pi / 2, -math.pi / 2, 0.0, math.pi / 4])
    # a pair with dx = 0 keeps its S (the original zeroed it through an exception)
    s = scoring.paper_score(_match([[10, 20], [30, 40]], [[10, 10], [20, 40]], [0.4, 0.6]))
    assert s.score_sum == pytest.approx(1.0)
    assert s.error_indicator == pytest.approx(np.std([10.0, 10.0]) * np.std([math.pi / 2, 0.0]))


def test_no_matches_gives_zero_score_and_undefined_error():
    s = scoring.paper_score(_match(np.zeros((0, 2)), np.zeros((0, 2)), []))
    assert (s.score_sum, s.error_indicator, s.n_matches) == (0.0, None, 0)


def test_best_heading_is_strictly_greatest_and_first_of_ties():
    P = scoring.PaperScore  # noqa: N806
    assert scoring.best_heading([P(1.0, 2.0, 3), P(3.0, 1.0, 5), P(3.0, 0.5, 5), P(2.0, 1.0, 4)]) == 1
    assert scoring.best_heading([P(0.0, None, 0), P(0.0, None, 0)]) is None
    assert scoring.best_heading([]) is None


def test_paper_rates_hand_computed_and_edge_cases():
    P = scoring.PaperScore  # noqa: N806
    locations = [P(2.0, 1.0, 4), P(6.0, 3.0, 9), None, P(2.0, 0.0, 1), P(0.0, None, 0)]
    rates = scoring.paper_rates(locations)
    s_sum, e_sum = 10.0, 4.0
    assert rates[0] == pytest.approx((2 / s_sum) / (1 / e_sum))
    assert rates[1] == pytest.approx((6 / s_sum) / (3 / e_sum))
    assert rates[2:] == [0.0, 0.0, 0.0]  # no heading matched, E = 0, E undefined
    assert scoring.paper_rates([P(0.0, None, 0)]) == [0.0]
    assert scoring.paper_rates([P(1.0, 0.0, 1)]) == [0.0]  # sum E = 0


def test_geometric_check_accepts_a_homography_and_rejects_random_pairs():
    rng = np.random.default_rng(3)
    h = np.array([[0.9, 0.05, 20.0], [-0.03, 1.1, -10.0], [1e-4, 5e-5, 1.0]])
    k0 = rng.uniform(0, 640, (200, 2))
    k0[:, 1] *= 0.75
    k1 = synthetic.map_points(h, k0)
    good = _match(k0, k1, np.full(200, 0.9))
    g = scoring.verify(good)
    assert g.inliers >= 195 and g.inlier_ratio > 0.97
    assert scoring.verify(good, "homography").inliers >= 195
    # half the matches replaced by random points: inliers ~ the correct half
    k1_noisy = k1.copy()
    k1_noisy[100:] = rng.uniform(0, 480, (100, 2))
    g = scoring.verify(_match(k0, k1_noisy, np.full(200, 0.9)))
    assert 95 <= g.inliers <= 130
    assert g.inlier_mask[:100].mean() > 0.95
    random_pairs = scoring.verify(_match(k0[:40], rng.uniform(0, 480, (40, 2)), np.full(40, 0.5)))
    assert random_pairs.inlier_ratio < 0.6
    assert scoring.mist_confidence(random_pairs.inliers, random_pairs.inlier_ratio) < 0.2
    assert scoring.verify(_match(k0[:5], k1[:5], np.ones(5))).model == "none"  # too few for F


def test_confidence_is_a_probability_increasing_with_evidence():
    for matcher in ("disk-lightglue", "sift", "aliked-lightglue"):
        values = [scoring.mist_confidence(i, r, matcher) for i, r in ((0, 0.0), (10, 0.3), (40, 0.6), (500, 0.95))]
        assert all(0.0 <= v <= 1.0 for v in values)
        assert values == sorted(values)
        assert values[0] < 0.05 and values[-1] > 0.95
    # seven matches fit a fundamental matrix exactly: no evidence, whatever the ratio
    assert scoring.mist_confidence(7, 1.0) == scoring.mist_confidence(0, 1.0)
    # the committed disk-lightglue constants, evaluated by hand
    z = -8.23 + 2.11 * math.log(1 + 43) + 0.32 * 0.8
    assert scoring.mist_confidence(50, 0.8) == pytest.approx(1 / (1 + math.exp(-z)))


def test_score_pair_carries_both_scores():
    k0 = np.random.default_rng(0).uniform(0, 400, (150, 2))
    s = scoring.score_pair("c/1", _match(k0, k0 + [5, 2], np.full(150, 0.8)), masked_out=7)
    assert s.ref_uid == "c/1" and s.n_matches == 150 and s.masked_out == 7
    assert s.score_sum == pytest.approx(120.0)
    assert s.error_indicator == pytest.approx(0.0, abs=1e-4)  # pure translation: no spread
    assert s.inliers == 150 and s.confidence > 0.9
