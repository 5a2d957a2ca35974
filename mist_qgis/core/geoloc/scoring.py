"""How good is a match: the paper's score and error indicator, and MIST's verified confidence.

Paper (specs/lsgl.md 1.3.1 steps 8-10), reproduced faithfully:
- S = sum of match confidences; E = std(d) * std(theta), population standard deviations of the
  displacement length d and angle theta = atan(dy / dx) of (dx, dy) = query minus reference;
- per location (one panorama, several headings) the heading with the largest S (strictly greater
  than the running best, which starts at 0);
- across locations rate_p = (S_p / sum S) / (E_p / sum E); where that cannot be computed the
  rate is 0 (the original's `except` branch).
Departures, on purpose: dx = 0 gives theta = +-pi/2 (the limit of atan) or 0 when dy = 0 as
well, instead of an exception that zeroed S; a location whose headings all have S = 0 has no E
and is left out of sum E instead of inheriting the previous image's E.

MIST's own score adds what LSGL lacks, geometric verification: a fundamental matrix (or a
homography) fitted with MAGSAC++ (cv2.USAC_MAGSAC, RANSAC where unavailable); its inlier count
and inlier ratio become a confidence in [0, 1] through a logistic fitted on labelled pairs
(`CALIBRATION` below; scripts/calibrate_geoloc_confidence.py re-measures it). Analysts' verdicts on
placements refit it per store (`calibration.py`); an accepted refit replaces these constants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .matchers import MatchResult

# Logistic calibration per matcher:
#   confidence = 1 / (1 + exp(-(A + B * ln(1 + max(0, inliers - 7)) + C * inlier_ratio))).
# Seven matches always fit a fundamental matrix exactly, so only inliers beyond 7 count as evidence.
# Measured by scripts/calibrate_geoloc_confidence.py (seed 0, pairs saved in
# scripts/geoloc_calibration_pairs*.csv) on 480 x 360 views: 48 same-scene pairs (42 views of 14
# skimage photos under random homographies, crops up to 35 % apart and light changes, plus 6 crops
# of the Middlebury stereo pair with real parallax) and 84 different-scene pairs.
# - disk-lightglue (max side 640, 1024 keypoints): same-scene inliers 79-790 (median 472),
#   different-scene 0-19 (median 8); accuracy 1.000 at 0.5. The classes separate fully, so the 50 %
#   point (about 50 inliers at ratio 0.8) is where the regularised fit puts it inside that gap.
# - sift (max side 1024, 2048 keypoints, ratio 0.8): same-scene 0-901 (median 198), different-scene
#   0-35 (median 0); accuracy 0.962 at 0.5 (strong perspective defeats SIFT on some positives).
# aliked-lightglue and loftr use the disk-lightglue constants (not calibrated separately).
CALIBRATION: dict[str, tuple[float, float, float]] = {
    "disk-lightglue": (-8.23, 2.11, 0.32),
    "sift": (-3.39, 1.56, -0.03),
}
DEFAULT_CALIBRATION = "disk-lightglue"
MIN_FIT_MATCHES = 7
MIN_MATCHES_FUNDAMENTAL = 8
MIN_MATCHES_HOMOGRAPHY = 4
REFERENCE_SIDE = 640.0  # threshold is 1.5 px at this image size and scales with larger images


@dataclass(frozen=True)
class PaperScore:
    score_sum: float  # S
    error_indicator: float | None  # E; None when undefined (no matches)
    n_matches: int


@dataclass(frozen=True)
class Geometry:
    inliers: int
    inlier_ratio: float
    model: str  # 'fundamental', 'homography' or 'none' (too few matches / no model found)
    inlier_mask: np.ndarray


def displacement_angles(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """theta = atan(dy / dx) in (-pi/2, pi/2], with dx = 0 handled explicitly: +-pi/2 by the
    sign of dy (the limit of atan), 0 when dy is 0 too."""
    theta = np.zeros(dx.shape, dtype=np.float64)
    nonzero = dx != 0
    theta[nonzero] = np.arctan(dy[nonzero] / dx[nonzero])
    vertical = ~nonzero
    theta[vertical] = np.sign(dy[vertical]) * (math.pi / 2)
    return theta


def paper_score(match: MatchResult) -> PaperScore:
    """S and E of one query/reference image pair, after masking."""
    n = match.n
    if n == 0:
        return PaperScore(0.0, None, 0)
    conf = match.confidence.astype(np.float64)
    delta = match.keypoints0.astype(np.float64) - match.keypoints1.astype(np.float64)
    dx, dy = delta[:, 0], delta[:, 1]
    d = np.hypot(dx, dy)
    theta = displacement_angles(dx, dy)
    return PaperScore(float(conf.sum()), float(np.std(d) * np.std(theta)), n)


def best_heading(scores: list[PaperScore]) -> int | None:
    """Index of the heading with the largest S (strictly above the running best, which starts
    at 0, so the first of equal maxima wins and all-zero locations have none)."""
    best, best_s = None, 0.0
    for i, s in enumerate(scores):
        if s.score_sum > best_s:
            best, best_s = i, s.score_sum
    return best


def paper_rates(locations: list[PaperScore | None]) -> list[float]:
    """rate_p = (S_p / sum S) / (E_p / sum E) over the candidate locations (each the best
    heading's score, or None when no heading matched). 0 where undefined: no S, E undefined or
    0, or zero sums."""
    s_sum = sum(p.score_sum for p in locations if p is not None)
    e_sum = sum(p.error_indicator for p in locations if p is not None and p.error_indicator is not None)
    rates = []
    for p in locations:
        if p is None or p.error_indicator is None or p.error_indicator == 0 or s_sum == 0 or e_sum == 0:
            rates.append(0.0)
            continue
        rates.append((p.score_sum / s_sum) / (p.error_indicator / e_sum))
    return rates


def _estimator():
    import cv2

    return getattr(cv2, "USAC_MAGSAC", cv2.RANSAC)


def verify(match: MatchResult, method: str = "fundamental", threshold_px: float | None = None) -> Geometry:
    """Fit a two-view model robustly and count the matches that agree with it.

    A fundamental matrix fits any rigid scene seen from two places (the street-level case); a
    homography fits planar facades and is stricter. The threshold defaults to 1.5 px at a
    640-pixel image, scaled up with the larger image of the pair."""
    import cv2

    n = match.n
    empty = Geometry(0, 0.0, "none", np.zeros((n,), dtype=bool))
    minimum = MIN_MATCHES_FUNDAMENTAL if method == "fundamental" else MIN_MATCHES_HOMOGRAPHY
    if method not in ("fundamental", "homography"):
        raise ValueError(f"unknown geometric model {method!r}")
    if n < minimum:
        return empty
    if threshold_px is None:
        longest = max(*match.image0_size, *match.image1_size)
        threshold_px = 1.5 * max(1.0, longest / REFERENCE_SIDE)
    p0 = match.keypoints0.astype(np.float64).reshape(-1, 1, 2)
    p1 = match.keypoints1.astype(np.float64).reshape(-1, 1, 2)
    try:
        if method == "fundamental":
            model, mask = cv2.findFundamentalMat(p0, p1, _estimator(), threshold_px, 0.999, 10000)
        else:
            model, mask = cv2.findHomography(p0, p1, _estimator(), threshold_px, maxIters=10000, confidence=0.999)
    except cv2.error:
        return empty
    if model is None or mask is None or model.shape[0] != 3:  # 7-point may return stacked solutions
        return empty
    inlier_mask = mask.ravel().astype(bool)
    inliers = int(inlier_mask.sum())
    return Geometry(inliers, inliers / n, method, inlier_mask)


def evidence_features(inliers: int, inlier_ratio: float) -> tuple[float, float]:
    """The logistic's inputs: ln(1 + inliers beyond the 7 that always fit) and the inlier ratio."""
    return math.log1p(max(0, int(inliers) - MIN_FIT_MATCHES)), float(inlier_ratio)


def constants_for(matcher: str) -> tuple[float, float, float]:
    """The shipped logistic constants of a matcher: its own where it was calibrated, else those of
    `DEFAULT_CALIBRATION`."""
    return CALIBRATION.get(matcher, CALIBRATION[DEFAULT_CALIBRATION])


def mist_confidence(inliers: int, inlier_ratio: float, matcher: str = DEFAULT_CALIBRATION,
                    constants: tuple[float, float, float] | None = None) -> float:
    """Calibrated probability that the pair shows the same place: the logistic with `constants`
    (a refit from analysts' verdicts, `calibration.active_constants`) or the shipped ones above."""
    a, b, c = constants or constants_for(matcher)
    log_excess, ratio = evidence_features(inliers, inlier_ratio)
    z = a + b * log_excess + c * ratio
    return 1.0 / (1.0 + math.exp(-z))


@dataclass
class PairScore:
    """Everything the `matches` table stores for one query photo / reference pair."""

    ref_uid: str
    n_matches: int
    score_sum: float
    error_indicator: float | None
    inliers: int
    inlier_ratio: float
    confidence: float
    masked_out: int = 0
    paper_rate: float = 0.0


def score_pair(ref_uid: str, match: MatchResult, method: str = "fundamental", masked_out: int = 0,
               constants: tuple[float, float, float] | None = None) -> PairScore:
    """Both scores for one pair: the paper's (S, E) and MIST's verified confidence (with the
    store's refitted `constants` when it has accepted one)."""
    paper = paper_score(match)
    geometry = verify(match, method)
    return PairScore(ref_uid, match.n, paper.score_sum, paper.error_indicator, geometry.inliers,
                     geometry.inlier_ratio,
                     mist_confidence(geometry.inliers, geometry.inlier_ratio, match.matcher, constants),
                     masked_out)
