"""What the MIST Live dock does to the map: the temporal controller following the newest post,
and the posts layer narrowed to the area of interest (the area the watch alerts for, too)."""

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


def area_of_interest(features, crs, transform_context, extent=None, *, polygons_required: bool = False):
    """The area of interest in EPSG:4326 (the store's CRS, in which posts are tested against it):
    the polygons of `features` (an iterable of features in `crs`, or None for no polygon layer)
    dissolved, the `extent` box (a QgsRectangle already in degrees, or None), or where both are
    given the part of the polygons inside the box, as a QgsGeometry; an empty one when the
    polygons lie outside the box. Features holding no polygon count as no layer, unless
    `polygons_required`: then the result is None, for the caller to say so. None when there is
    no area at all."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsGeometry

    area = None
    if features is not None:
        transform = QgsCoordinateTransform(crs, QgsCoordinateReferenceSystem("EPSG:4326"), transform_context)
        parts = []
        for feature in features:
            part = QgsGeometry(feature.geometry())
            if not part.isEmpty():
                part.transform(transform)
                parts.append(part)
        if not parts and polygons_required:
            return None
        area = QgsGeometry.unaryUnion(parts) if parts else None
    if extent is not None:
        box = QgsGeometry.fromRect(extent)
        area = box if area is None else area.intersection(box)
    return area


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
