"""Coordinates that are not longitude/latitude in WGS 84: a table's x/y columns in the CRS the user
names (the import's CRS option: Web Mercator, a UTM zone, a national grid), turned into WGS 84
with pyproj. Without that option, numbers that cannot be degrees are refused with a reason that
names the option, never placed somewhere wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import MistError
from .geo import as_float, checked_point
from .issues import SkipRecord

AREA_MARGIN_DEG = 5.0  # UTM and national grids are used a little beyond their official area
CRS_OPTION_HINT = "give the file's CRS with the import's CRS option (e.g. --crs EPSG:3857 or EPSG:32650)"


class CrsError(MistError, ValueError):
    """The CRS the user named is not one pyproj knows."""


@dataclass
class SourceCrs:
    """The CRS of a table's coordinates and the transform from it to WGS 84 (lon, lat order)."""

    name: str
    epsg: int | None
    projected: bool
    _transform: Any = field(repr=False, default=None)
    area: tuple[float, float, float, float] | None = None  # west, south, east, north in degrees

    def to_wgs84(self, x: Any, y: Any) -> tuple[float, float]:
        """(lon, lat) in WGS 84 for one x/y pair of this CRS; SkipRecord if it cannot be one."""
        fx, fy = as_float(x, "x"), as_float(y, "y")
        if self.projected and abs(fx) <= 180 and abs(fy) <= 90:
            raise SkipRecord(f"coordinates ({fx:g}, {fy:g}) look like degrees, not {self.name} metres; "
                             "leave the CRS option empty for longitude/latitude")
        lon, lat = self._transform.transform(fx, fy)
        try:
            lon, lat = checked_point(float(lon), float(lat))
        except SkipRecord:
            raise SkipRecord(f"coordinates ({fx:g}, {fy:g}) are outside {self.name}") from None
        if not self._in_area(lon, lat):
            raise SkipRecord(f"coordinates ({fx:g}, {fy:g}) are outside {self.name}: they land at "
                             f"({lon:.4f}, {lat:.4f}), far from where that CRS is used; is it the file's CRS?")
        return lon, lat

    def _in_area(self, lon: float, lat: float) -> bool:
        if self.area is None:
            return True
        w, s, e, n = self.area
        m = AREA_MARGIN_DEG
        if not s - m <= lat <= n + m:
            return False
        if w <= e:
            return w - m <= lon <= e + m
        return lon >= w - m or lon <= e + m  # an area across the antimeridian


def source_crs(text: str) -> SourceCrs:
    """The CRS a user typed (`EPSG:32650`, `3857`, a WKT or PROJ string); CrsError if unknown."""
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    text = text.strip()
    try:
        crs = CRS.from_user_input(int(text) if text.isdigit() else text)
    except CRSError as exc:
        raise CrsError(f"unknown CRS {text[:60]!r}: {str(exc).splitlines()[0][:120]}") from None
    epsg = crs.to_epsg()
    name = f"EPSG:{epsg}" if epsg else crs.name
    if not (crs.is_projected or crs.is_geographic):
        raise CrsError(f"CRS {name} is neither projected nor geographic; choose one for x/y coordinates")
    transform = Transformer.from_crs(crs, 4326, always_xy=True)
    use = crs.area_of_use
    area = (use.west, use.south, use.east, use.north) if use is not None else None
    return SourceCrs(name, epsg, bool(crs.is_projected), transform, area)


def degrees(x: Any, y: Any) -> tuple[float, float]:
    """(lon, lat) from a table's cells when no CRS was given: checked, and numbers far beyond any
    degree refused with a reason that names the CRS option."""
    try:
        return checked_point(x, y)
    except SkipRecord:
        fx, fy = as_float(x, "longitude"), as_float(y, "latitude")
        if abs(fx) > 360 or abs(fy) > 360:
            raise SkipRecord(f"coordinates ({fx:g}, {fy:g}) are not degrees of longitude and latitude; "
                             f"if they are projected, {CRS_OPTION_HINT}") from None
        raise
