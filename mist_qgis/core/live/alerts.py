"""Alert rules: a head score threshold, an optional area of interest and optional keywords.

A post that meets every part of a rule raises an alert; posts whose photos are near-duplicates of
one another (the media stage's dedup links) join the first one's alert instead of raising more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import MistError
from ..store import live_sql


class AlertRuleError(MistError):
    """An area of interest that is not a polygon, or a threshold outside 0-1."""


@dataclass
class AlertRule:
    threshold: float | None = None  # the head's score for `label`; None: no score condition
    label: str = "flood"
    area_wkt: str | None = None  # a polygon or multipolygon in EPSG:4326
    keywords: tuple[str, ...] = ()  # any of them, as whole words, case-insensitive
    _area: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise AlertRuleError(f"alert threshold {self.threshold} is not between 0 and 1")
        if self.area_wkt:
            from shapely import wkt
            from shapely.errors import ShapelyError

            try:
                area = wkt.loads(self.area_wkt)
            except (ShapelyError, ValueError) as exc:
                raise AlertRuleError(f"the alert area is not valid WKT: {exc}") from exc
            if area.geom_type not in ("Polygon", "MultiPolygon") or area.is_empty:
                raise AlertRuleError(f"the alert area is a {area.geom_type}, not a polygon")
            self._area = area
        self.keywords = tuple(k.strip() for k in self.keywords if k and k.strip())

    @property
    def active(self) -> bool:
        return self.threshold is not None or self._area is not None or bool(self.keywords)

    def describe(self) -> str:
        parts = []
        if self.threshold is not None:
            parts.append(f"{self.label} >= {self.threshold:g}")
        if self._area is not None:
            parts.append("in the area of interest")
        if self.keywords:
            parts.append("mentions " + " or ".join(self.keywords))
        return "; ".join(parts)

    def matches_place_and_text(self, text: str | None, lon: float | None, lat: float | None) -> bool:
        if self._area is not None:
            from shapely.geometry import Point

            if lon is None or lat is None or not self._area.covers(Point(lon, lat)):
                return False
        if self.keywords:
            pattern = r"\b(?:" + "|".join(re.escape(k) for k in self.keywords) + r")\b"
            if not text or not re.search(pattern, text, re.IGNORECASE):
                return False
        return True


def raise_alerts(store, rule: AlertRule, since_fid: int, run_id: int | None) -> list[int]:
    """Check posts after `since_fid` against `rule`; returns the fids of the posts that raised a
    new alert (a post joining an existing near-duplicate alert is recorded, not returned)."""
    if not rule.active:
        return []
    new: list[int] = []
    rows = live_sql.alert_candidates(store, since_fid, rule.label, rule.threshold)
    with store.batch() as conn:
        for fid, text, label, score, group, lon, lat in rows:
            if not rule.matches_place_and_text(text, lon, lat):
                continue
            if live_sql.add_alert(conn, fid, group or f"post:{fid}", rule.describe(), score, label, text, run_id):
                new.append(fid)
    return new
