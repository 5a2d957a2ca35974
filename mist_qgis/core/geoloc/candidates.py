"""Coarse location from text: a toponym becomes a point, a confidence on the paper's 30-100
scale, the paper's uncertainty radius, and for roads candidate points every 100 m.

Confidence rules (MIST's; the paper took Baidu's geocoder confidence, which does not exist
offline): a point feature 80; a polygon or a road gets the confidence whose radius in the
paper's table is the smallest one covering it (polygon: radius of the circle of equal area;
road: half its length); a short name (2 CJK characters or under 5 Latin letters) one step lower.
A name whose features form several clusters more than `AMBIGUITY_M` apart is ambiguous: the
cluster nearest to a location the post already has is taken, otherwise the post is not placed.

Road sampling works in the local UTM zone (metres on the ground), unlike the original, which
stepped 100 units in EPSG:3395 (Mercator metres, ~82 ground metres at 34.7 N) or in degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..geodesy import utm_epsg
from ..stage import IsCancelled, Status, run_stage
from .gazetteer import Gazetteer, GazetteerEntry, ToponymMatch, is_short
from .records import CoarseLocation

RADIUS_BY_CONFIDENCE = {30: 5000, 40: 2000, 50: 1000, 60: 500, 70: 300, 75: 200, 80: 100, 90: 50, 100: 20}
CONFIDENCE_STEPS = sorted(RADIUS_BY_CONFIDENCE)  # 30 ... 100
POINT_CONFIDENCE = 80
SAMPLE_INTERVAL_M = 100.0
AMBIGUITY_M = 5000.0
CLUSTER_M = 1000.0


def radius_for_confidence(confidence: int) -> float:
    """The paper's table, exact lookup; any other value -> 5000 m."""
    return float(RADIUS_BY_CONFIDENCE.get(int(confidence), 5000))


def confidence_for_radius(radius_m: float) -> int:
    """The highest confidence whose radius still covers `radius_m` (30 when none does)."""
    best = 30
    for c in CONFIDENCE_STEPS:
        if RADIUS_BY_CONFIDENCE[c] >= radius_m:
            best = max(best, c)
    return best


def step_down(confidence: int) -> int:
    i = CONFIDENCE_STEPS.index(confidence) if confidence in CONFIDENCE_STEPS else 0
    return CONFIDENCE_STEPS[max(0, i - 1)]


class LocalMetric:
    """Forward/back transforms between lon/lat and the local UTM zone (metres)."""

    def __init__(self, lon: float, lat: float) -> None:
        from pyproj import Transformer

        self.epsg = utm_epsg(lon, lat)
        self._fwd = Transformer.from_crs(4326, self.epsg, always_xy=True)
        self._inv = Transformer.from_crs(self.epsg, 4326, always_xy=True)

    def to_metric(self, geom):
        import shapely

        return shapely.transform(geom, lambda x, y: self._fwd.transform(x, y), interleaved=False)

    def to_lonlat(self, geom):
        import shapely

        return shapely.transform(geom, lambda x, y: self._inv.transform(x, y), interleaved=False)


def sample_road(road, center: tuple[float, float], radius_m: float, interval_m: float = SAMPLE_INTERVAL_M
                ) -> list[tuple[float, float]]:
    """Points every `interval_m` along the road (and each part's end), within `radius_m` of
    `center`; all in ground metres of the local UTM zone. Returns lon/lat pairs."""
    from shapely.geometry import MultiLineString, Point

    metric = LocalMetric(*center)
    line = metric.to_metric(road)
    circle = metric.to_metric(Point(center)).buffer(radius_m, 64)
    clipped = line.intersection(circle)
    parts = list(getattr(clipped, "geoms", [clipped]))
    out: list[tuple[float, float]] = []
    for part in parts:
        if part.is_empty or part.geom_type != "LineString":
            if isinstance(part, MultiLineString):
                parts.extend(part.geoms)
            continue
        n = int(part.length // interval_m)
        distances = [i * interval_m for i in range(n + 1)]
        if part.length - distances[-1] > 1e-6:
            distances.append(part.length)
        for d in distances:
            p = metric.to_lonlat(part.interpolate(d))
            out.append((p.x, p.y))
    return out


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2])


def _clusters(entries: list[GazetteerEntry]) -> list[list[GazetteerEntry]]:
    """Single-link clusters of same-named features (OSM splits one road into many ways)."""
    reps = [(e, (e.geometry.representative_point().x, e.geometry.representative_point().y)) for e in entries]
    clusters: list[list[tuple[GazetteerEntry, tuple[float, float]]]] = []
    for e, p in reps:
        joined = None
        for c in clusters:
            if any(_near(e, p, other, q) for other, q in c):
                if joined is None:
                    c.append((e, p))
                    joined = c
                else:
                    joined.extend(c)
                    c.clear()
        clusters = [c for c in clusters if c]
        if joined is None:
            clusters.append([(e, p)])
    return [[e for e, _ in c] for c in clusters]


def _near(a: GazetteerEntry, pa, b: GazetteerEntry, pb) -> bool:
    if _distance_m(pa, pb) <= CLUSTER_M:
        return True
    # long roads: compare the nearest points of the two geometries
    from shapely.ops import nearest_points

    na, nb = nearest_points(a.geometry, b.geometry)
    return _distance_m((na.x, na.y), (nb.x, nb.y)) <= CLUSTER_M


@dataclass
class TextLocation:
    location: CoarseLocation | None
    reason: str = ""


def locate_match(post_fid: int, match: ToponymMatch, near: tuple[float, float] | None = None,
                 interval_m: float = SAMPLE_INTERVAL_M) -> TextLocation:
    """A coarse location for one toponym match (see the module docstring for the rules)."""
    from shapely.geometry import Point
    from shapely.ops import nearest_points, unary_union

    clusters = _clusters(match.entries)
    if len(clusters) > 1:
        reps = [unary_union([e.geometry for e in c]).representative_point() for c in clusters]
        far = max(_distance_m((a.x, a.y), (b.x, b.y)) for a in reps for b in reps)
        if far > AMBIGUITY_M and near is None:
            return TextLocation(None, f"toponym '{match.toponym}' names {len(clusters)} places up to "
                                      f"{far / 1000:.0f} km apart; not placed")
        if near is not None:
            clusters.sort(key=lambda c: unary_union([e.geometry for e in c]).distance(Point(near)))
    cluster = clusters[0]
    geom = unary_union([e.geometry for e in cluster])
    kind = cluster[0].kind
    name = cluster[0].name
    rep = geom.representative_point()
    metric = LocalMetric(rep.x, rep.y)
    samples: list[tuple[float, float]] = []
    if kind == "point":
        point = geom if geom.geom_type == "Point" else geom.centroid
        confidence = POINT_CONFIDENCE
    elif kind == "polygon":
        area = metric.to_metric(geom).area
        confidence = confidence_for_radius(math.sqrt(area / math.pi))
        point = geom.centroid if geom.contains(geom.centroid) else rep
    else:
        length = metric.to_metric(geom).length
        confidence = confidence_for_radius(length / 2.0)
        if near is not None:
            point = nearest_points(geom, Point(near))[0]
        else:
            from shapely.ops import linemerge

            merged = linemerge(geom) if geom.geom_type == "MultiLineString" else geom
            longest = max(getattr(merged, "geoms", [merged]), key=lambda g: g.length)
            point = longest.interpolate(0.5, normalized=True)
    if is_short(match.toponym):
        confidence = step_down(confidence)
    radius = radius_for_confidence(confidence)
    if kind == "line":
        samples = sample_road(geom, (point.x, point.y), radius, interval_m)
    return TextLocation(CoarseLocation(post_fid, match.toponym, name, kind, float(point.x), float(point.y),
                                       int(confidence), radius, samples))


def locate_text(post_fid: int, text: str, gazetteer: Gazetteer, near: tuple[float, float] | None = None,
                interval_m: float = SAMPLE_INTERVAL_M) -> TextLocation:
    """The most specific toponym of a post: highest confidence, then longest name."""
    matches = gazetteer.find(text)
    if not matches:
        return TextLocation(None, "no gazetteer name in the text")
    results = [locate_match(post_fid, m, near, interval_m) for m in matches]
    placed = [r for r in results if r.location is not None]
    if not placed:
        return TextLocation(None, "; ".join(r.reason for r in results))
    placed.sort(key=lambda r: (-r.location.confidence, -len(r.location.toponym)))
    return placed[0]


@dataclass
class GeocodeSummary:
    run_id: int
    placed: int
    unplaced: int


def geocode_posts(store, gazetteer: Gazetteer, only_unlocated: bool = True, interval_m: float = SAMPLE_INTERVAL_M,
                  is_cancelled: IsCancelled | None = None, after_fid: int = 0) -> GeocodeSummary:
    """Coarse-locate posts from their text; unlocated posts get the point (geo_source 'geocoded',
    accuracy = radius) and become locatable by image matching. Posts with no usable toponym are
    listed in the run's issue report. `after_fid`: only posts after it (a live watch's new batch)."""
    from ..store import geoloc_sql

    parameters = {"only_unlocated": only_unlocated, "interval_m": interval_m, "gazetteer_names": len(gazetteer)}
    if after_fid:
        parameters["after_fid"] = after_fid
    batch: list[tuple[CoarseLocation, bool]] = []
    issues: list[tuple[str | None, int | None, str]] = []
    with run_stage(store, "geocode_text", parameters, is_cancelled=is_cancelled) as run:
        counts = run.counts = {"placed": 0, "unplaced": 0}
        for fid, text, lon, lat in geoloc_sql.posts_with_text(store, only_unlocated, after_fid):
            if run.cancelled():
                run.status = Status.CANCELLED
                break
            near = (lon, lat) if lon is not None else None
            result = locate_text(fid, text, gazetteer, near, interval_m)
            if result.location is None:
                counts["unplaced"] += 1
                issues.append((f"post {fid}", None, result.reason))
            else:
                counts["placed"] += 1
                batch.append((result.location, lon is None))
            if len(batch) + len(issues) >= 500:
                _flush(store, geoloc_sql, batch, issues, run.run_id)
        _flush(store, geoloc_sql, batch, issues, run.run_id)
        store.refresh_extents()
    return GeocodeSummary(run.run_id, counts["placed"], counts["unplaced"])


def _flush(store, geoloc_sql, batch, issues, run_id) -> None:
    with store.batch() as conn:
        for loc, move in batch:
            geoloc_sql.record_coarse(conn, loc, run_id, move)
        if issues:
            store.record_issues(conn, run_id, "geocode_text", issues)
    batch.clear()
    issues.clear()
