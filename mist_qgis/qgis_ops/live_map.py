"""What the MIST Live dock does to the map: the temporal controller following the newest post,
and the posts layer narrowed to the area of interest."""

from __future__ import annotations

from .layers import set_time_field


def follow_newest(canvas, layer, newest: str, window_s: float):
    """Set the temporal controller to the `window_s` seconds ending at `newest` (an ISO 8601 post
    time), with the posts layer time-enabled; returns the range, or None for a time QGIS cannot read.

    The controller of QGIS's own canvas is its temporal navigation (set to a fixed range here, so
    the whole window shows at once); a canvas without one gets the range directly."""
    from qgis.core import QgsDateTimeRange, QgsTemporalNavigationObject
    from qgis.PyQt.QtCore import QDateTime, Qt

    end = QDateTime.fromString(newest.strip().replace(" ", "T"), Qt.DateFormat.ISODateWithMs)
    if not end.isValid():
        end = QDateTime.fromString(newest.strip().replace(" ", "T"), Qt.DateFormat.ISODate)
    if not end.isValid():
        return None
    if layer is not None and not layer.temporalProperties().isActive():
        set_time_field(layer)
    window = QgsDateTimeRange(end.addMSecs(-int(window_s * 1000)), end)
    controller = canvas.temporalController()
    if isinstance(controller, QgsTemporalNavigationObject):
        controller.setNavigationMode(fixed_range_mode())
        if controller.temporalExtents() != window:
            controller.setTemporalExtents(window)
    else:
        canvas.setTemporalRange(window)
    return window


def fixed_range_mode():
    """The temporal navigation's "fixed range" mode (`Qgis.TemporalNavigationMode` from QGIS 3.36,
    an enum of the navigation object before)."""
    from qgis.core import Qgis, QgsTemporalNavigationObject

    modes = getattr(Qgis, "TemporalNavigationMode", None) or QgsTemporalNavigationObject.NavigationMode
    return modes.FixedRange


def area_filters(wkt: str, bounds: tuple[float, float, float, float]) -> list[str]:
    """Layer filters keeping the posts in an area (WKT and its (west, south, east, north), in
    degrees), best first: inside the polygons (where the GeoPackage's SQL has the spatial
    functions, as GDAL built with SpatiaLite gives them), then inside the bounds (posts are
    points, so a post's bounding box is the post)."""
    west, south, east, north = (float(v) for v in bounds)
    exact = "ST_Intersects(\"geom\", ST_GeomFromText('{}', 4326))".format(wkt.replace("'", ""))
    box = (f'ST_MinX("geom") >= {west!r} AND ST_MinX("geom") <= {east!r} AND '
           f'ST_MinY("geom") >= {south!r} AND ST_MinY("geom") <= {north!r}')
    return [exact, box]
