"""What the Verify dock takes from the map and gives back: the canvas extent, the temporal
controller's window and the posts layer's selection in; the selected photos' posts out (selected
on the layer, the map centred on them)."""

from __future__ import annotations

from datetime import UTC, datetime

from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject, QgsRectangle
from qgis.PyQt.QtCore import QObject, QTimer, pyqtSignal

from ..core.verify.records import BBox, QueueRow
from ..qgis_ops.layers import feature_ids_of, find_posts_layer, store_fids_of

EXTENT_SETTLE_MS = 400
WGS84 = "EPSG:4326"


class MapFollower(QObject):
    """Tracks the canvas and the store's posts layer; `extent_changed`, `time_changed` and
    `selection_changed` fire when what the queue may follow has changed."""

    extent_changed = pyqtSignal()
    time_changed = pyqtSignal()
    selection_changed = pyqtSignal()

    def __init__(self, iface=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.iface = iface
        self.store_path: str | None = None  # the store as the project names it
        self.extent: BBox | None = None
        self.time_window: tuple[datetime, datetime] | None = None
        self.selected_posts: frozenset[int] | None = None
        self._layer = None
        self._selecting = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(EXTENT_SETTLE_MS)
        self._timer.timeout.connect(self._extent_settled)
        canvas = self.canvas()
        if canvas is not None:
            canvas.extentsChanged.connect(self._timer.start)
            # QGIS feeds the temporal controller's range into the canvas: follow the canvas, which
            # works whichever controller (or none yet) is attached when the dock is made.
            canvas.temporalRangeChanged.connect(self._temporal_range_changed)
            self.extent = self.canvas_bbox()
            self.time_window = window_of(canvas.temporalRange())
        QgsProject.instance().layersAdded.connect(self._layers_added)

    def canvas(self):
        if self.iface is None:
            return None
        try:
            return self.iface.mapCanvas()
        except AttributeError:
            return None

    # -- the store's posts layer ---------------------------------------------------------------

    def set_store(self, store_path: str | None) -> None:
        self.store_path = store_path
        self.selected_posts = None
        self._connect_layer()

    def layer(self):
        """The store's posts layer in the project (None when it is not there)."""
        if self._layer is not None:
            try:
                if QgsProject.instance().mapLayer(self._layer.id()) is self._layer:
                    return self._layer
            except RuntimeError:  # deleted on the C++ side
                pass
            self._disconnect_layer()
        if self.store_path is not None:
            self._connect_layer()
        return self._layer

    def _layers_added(self, *_args) -> None:
        if self.store_path is not None and self._layer is None:
            self._connect_layer()

    def _connect_layer(self) -> None:
        self._disconnect_layer()
        layer = find_posts_layer(self.store_path) if self.store_path is not None else None
        if layer is not None:
            layer.selectionChanged.connect(self._layer_selection_changed)
            layer.willBeDeleted.connect(self._disconnect_layer)
            self._layer = layer
            self.selected_posts = self._selected_posts(layer)

    def _disconnect_layer(self) -> None:
        if self._layer is not None:
            try:
                self._layer.selectionChanged.disconnect(self._layer_selection_changed)
                self._layer.willBeDeleted.disconnect(self._disconnect_layer)
            except (RuntimeError, TypeError):
                pass
        self._layer = None

    def _layer_selection_changed(self, *_args) -> None:
        if self._selecting or self._layer is None:
            return
        self.selected_posts = self._selected_posts(self._layer)
        self.selection_changed.emit()

    @staticmethod
    def _selected_posts(layer) -> frozenset[int] | None:
        """The store fids of the layer's selected posts (a layer's feature ids are its own)."""
        ids = layer.selectedFeatureIds()
        return frozenset(store_fids_of(layer, ids)) if ids else None

    # -- out: select and centre ----------------------------------------------------------------

    def select_on_map(self, rows: list[QueueRow]) -> None:
        """Select the rows' posts on the layer and centre the map on the placed ones."""
        layer = self.layer()
        if layer is None:
            return
        self._selecting = True
        try:
            layer.selectByIds(feature_ids_of(layer, {r.post_fid for r in rows}))
        finally:
            self._selecting = False
        canvas = self.canvas()
        placed = [r for r in rows if r.lon is not None]
        if canvas is None or not placed:
            return
        xs, ys = [r.lon for r in placed], [r.lat for r in placed]
        centre = QgsPointXY((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
        transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem(WGS84),
                                           canvas.mapSettings().destinationCrs(), QgsProject.instance())
        try:
            canvas.setCenter(transform.transform(centre))
        except Exception:  # noqa: BLE001 - a point the map's CRS cannot show: keep the map where it is
            return
        canvas.refresh()

    # -- in: extent and time -------------------------------------------------------------------

    def _extent_settled(self) -> None:
        self.extent = self.canvas_bbox()
        self.extent_changed.emit()

    def canvas_bbox(self) -> BBox | None:
        canvas = self.canvas()
        if canvas is None:
            return None
        transform = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(),
                                           QgsCoordinateReferenceSystem(WGS84), QgsProject.instance())
        try:
            rect: QgsRectangle = transform.transformBoundingBox(canvas.extent())
            return BBox(max(rect.xMinimum(), -180.0), max(rect.yMinimum(), -90.0),
                        min(rect.xMaximum(), 180.0), min(rect.yMaximum(), 90.0))
        except Exception:  # noqa: BLE001 - an extent outside WGS 84's domain: no extent filter
            return None

    def _temporal_range_changed(self) -> None:
        canvas = self.canvas()
        self.time_window = window_of(canvas.temporalRange()) if canvas is not None else None
        self.time_changed.emit()

    def refresh_now(self) -> None:
        """Read extent and time from the canvas at once (when the analyst turns following on)."""
        canvas = self.canvas()
        if canvas is not None:
            self.extent = self.canvas_bbox()
            self.time_window = window_of(canvas.temporalRange())

    def cleanup(self) -> None:
        self._timer.stop()
        self._disconnect_layer()
        try:
            QgsProject.instance().layersAdded.disconnect(self._layers_added)
        except TypeError:
            pass
        canvas = self.canvas()
        if canvas is not None:
            try:
                canvas.extentsChanged.disconnect(self._timer.start)
                canvas.temporalRangeChanged.disconnect(self._temporal_range_changed)
            except (TypeError, AttributeError, RuntimeError):
                pass


def window_of(time_range) -> tuple[datetime, datetime] | None:
    """A QgsDateTimeRange as UTC datetimes; None when it is open or empty."""
    if time_range is None or time_range.isInfinite() or time_range.isEmpty():
        return None
    begin, end = time_range.begin(), time_range.end()
    if not begin.isValid() or not end.isValid():
        return None
    to_utc = lambda q: datetime.fromtimestamp(q.toMSecsSinceEpoch() / 1000, UTC)  # noqa: E731
    if time_range.includeEnd():  # the queue's upper bound is exclusive
        end = end.addMSecs(1)
    return to_utc(begin), to_utc(end)
