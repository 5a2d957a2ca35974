"""Coordinate checks shared by every reader: a coordinate from a post is hostile until checked.

Out-of-range and non-finite values are rejected, a likely lat/lon swap is flagged (and the
record rejected rather than placed at a mirrored spot), and places given as a bounding box become
their centre with an accuracy radius taken from the box size.
"""

from __future__ import annotations

import math
from typing import Any

from ..geodesy import haversine_m
from .issues import SkipRecord


def as_float(value: Any, name: str) -> float:
    """A finite float from a JSON number or a text cell; anything else is a bad coordinate."""
    if isinstance(value, bool):
        raise SkipRecord(f"{name} is not a number: {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise SkipRecord(f"{name} is not a number: {value[:40]!r}") from None
    else:
        raise SkipRecord(f"{name} is not a number: {type(value).__name__}")
    if not math.isfinite(number):
        raise SkipRecord(f"{name} is not a finite number: {value!r}")
    return number


def checked_point(lon: Any, lat: Any) -> tuple[float, float]:
    """(lon, lat) as floats in range, or SkipRecord saying what is wrong (swap, range, NaN)."""
    if type(lon) is float and type(lat) is float and -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:
        return lon, lat  # the common case; NaN fails the comparisons and takes the checks below
    x = as_float(lon, "longitude")
    y = as_float(lat, "latitude")
    if abs(y) > 90:
        if abs(x) <= 90 and abs(y) <= 180:
            raise SkipRecord(f"latitude {y:g} out of range; latitude and longitude look swapped ({x:g}, {y:g})")
        raise SkipRecord(f"latitude {y:g} out of range")
    if abs(x) > 180:
        raise SkipRecord(f"longitude {x:g} out of range")
    return x, y


def is_null_island(lon: float, lat: float) -> bool:
    """(0, 0) is what many exports write for "no location"; treat it as missing, not as a place."""
    return lon == 0.0 and lat == 0.0


def bbox_centre(west: Any, south: Any, east: Any, north: Any) -> tuple[float, float, float]:
    """Centre (lon, lat) of a lon/lat box and the distance from centre to corner in metres.

    The corner distance is the honest accuracy of a place centroid: the post could be anywhere in
    the box. Boxes that cross the antimeridian (west > east) are handled.
    """
    w, s = checked_point(west, south)
    e, n = checked_point(east, north)
    if s > n:
        raise SkipRecord(f"place box has south {s:g} above north {n:g}")
    if w > e:  # crosses the antimeridian
        e += 360.0
    lon = (w + e) / 2
    if lon > 180:
        lon -= 360.0
    lat = (s + n) / 2
    return lon, lat, float(haversine_m(lon, lat, w, s)) if (w, s) != (e, n) else 0.0


def points_bbox(coords: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    return min(xs), min(ys), max(xs), max(ys)


def inside(lon: float, lat: float, box: tuple[float, float, float, float], margin: float = 0.01) -> bool:
    w, s, e, n = box
    return w - margin <= lon <= e + margin and s - margin <= lat <= n + margin
