"""Geographic helpers shared by every stage: great-circle distance, the local UTM zone and a
box in degrees as Processing's extent text.

One home for them so that import, geolocation and density measure the Earth the same way.
"""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def haversine_m(lon1: float, lat1: float, lon2: float | np.ndarray, lat2: float | np.ndarray):
    """Great-circle distance in metres, for one point or arrays of them (spherical; within 0.5 %
    of the ellipsoid, enough to select candidates; evaluation uses pyproj's geodesic)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 / UTM zone containing the point (standard zones)."""
    zone = min(60, max(1, int(math.floor((lon + 180.0) / 6.0)) + 1))
    return (32600 if lat >= 0 else 32700) + zone


def extent_text(west: float, south: float, east: float, north: float) -> str:
    """A box in degrees as Processing reads an extent parameter ('xmin,xmax,ymin,ymax [EPSG:4326]'):
    one spelling for the CLI verbs and the docks that hand an area to an algorithm."""
    return f"{west},{east},{south},{north} [EPSG:4326]"
