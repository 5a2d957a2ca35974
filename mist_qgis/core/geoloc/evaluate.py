"""Geolocation error against known true locations: geodesic metres (pyproj.Geod, WGS 84).

Reports what the paper reports (MAE = mean error, RMSE) plus the median and the share of posts
within 25/50/100/200/500 m (the paper quotes within 60 m and within 201 m for its coarse stage).
Posts without a prediction are counted, not silently left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

THRESHOLDS_M = (25, 50, 100, 200, 500)


@dataclass
class ErrorStats:
    n: int
    missing: int
    mean_m: float | None
    median_m: float | None
    rmse_m: float | None
    within: dict[str, float] = field(default_factory=dict)  # "100" -> share of evaluated posts

    def as_dict(self) -> dict:
        return asdict(self)


def geodesic_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    from pyproj import Geod

    _, _, dist = Geod(ellps="WGS84").inv(np.asarray(lon1, float), np.asarray(lat1, float),
                                         np.asarray(lon2, float), np.asarray(lat2, float))
    return np.abs(np.asarray(dist, dtype=np.float64))


def error_stats(pairs: Iterable[tuple[tuple[float, float] | None, tuple[float, float]]],
                thresholds: Iterable[float] = THRESHOLDS_M) -> ErrorStats:
    """Statistics over (predicted lon/lat or None, true lon/lat) pairs."""
    pred, true, missing = [], [], 0
    for p, t in pairs:
        if p is None or p[0] is None or p[1] is None or not all(map(math.isfinite, (*p, *t))):
            missing += 1
            continue
        pred.append(p)
        true.append(t)
    thresholds = list(thresholds)
    if not pred:
        return ErrorStats(0, missing, None, None, None, {str(int(t)): 0.0 for t in thresholds})
    p = np.array(pred)
    t = np.array(true)
    err = geodesic_m(p[:, 0], p[:, 1], t[:, 0], t[:, 1])
    return ErrorStats(
        len(err), missing, float(err.mean()), float(np.median(err)), float(np.sqrt((err ** 2).mean())),
        {str(int(th)): float((err <= th).mean()) for th in thresholds},
    )


def evaluate_store(store, truth: Mapping[str, tuple[float, float]]) -> dict[str, object]:
    """Errors of the posts' current locations ('after') and of the locations before image
    matching ('before': orig_lon/orig_lat, i.e. geotag or text-derived point), for the posts
    whose true location is known; also the same two restricted to the posts that were moved."""
    from ..store import geoloc_sql

    locations = geoloc_sql.post_locations(store)
    known = [pid for pid in truth if pid in locations]
    after, before, moved_after, moved_before = [], [], [], []
    for pid in known:
        lon, lat, olon, olat, source = locations[pid]
        t = truth[pid]
        now = (lon, lat) if lon is not None else None
        was = (olon, olat) if olon is not None else now
        after.append((now, t))
        before.append((was, t))
        if source == "image_match":
            moved_after.append((now, t))
            moved_before.append((was, t))
    return {
        "posts_with_truth": len(known),
        "truth_without_post": len(truth) - len(known),
        "after": error_stats(after).as_dict(),
        "before": error_stats(before).as_dict(),
        "moved_after": error_stats(moved_after).as_dict(),
        "moved_before": error_stats(moved_before).as_dict(),
    }


STEREO_TOLERANCE_PX = 3.0


def stereo_disparity_quality(match, disparity: np.ndarray, tolerance_px: float = STEREO_TOLERANCE_PX) -> dict:
    """Matches on a rectified stereo pair against the true disparity map (left image pixels; NaN or
    inf where unknown): how many matches, and the share of those with a known disparity whose
    horizontal offset is within `tolerance_px` of it. How the matchers are held to a known truth."""
    k0, k1 = match.keypoints0, match.keypoints1
    h, w = disparity.shape[:2]
    rows = np.clip(np.rint(k0[:, 1]).astype(int), 0, h - 1)
    cols = np.clip(np.rint(k0[:, 0]).astype(int), 0, w - 1)
    truth = disparity[rows, cols]
    known = np.isfinite(truth)
    error = np.abs((k0[:, 0] - k1[:, 0])[known] - truth[known])
    return {"matches": int(match.n), "with_truth": int(known.sum()),
            "within_3px": float(np.mean(error < tolerance_px)) if known.any() else 0.0}
