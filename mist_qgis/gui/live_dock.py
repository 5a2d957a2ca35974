"""The "MIST Live" dock: start, pause and stop a watch, and see it keep up.

The watch runs as the `mist:watch` Processing algorithm on QGIS's task runner (progress and cancel
in the task manager); pause and stop both cancel it after the batch in hand, and the cursors in the
store let start go on exactly where it stopped. A timer reads the store: posts per minute, the
share screened as flood, open alerts, each stage's queue, a chart of the last hour, which head
version screens (and why the last candidate was rejected), and each source's state (last poll,
cursor, errors, backoff); the posts layer is reloaded when it grew, and each new alert raises a
message-bar notice with a zoom button. An area of interest (a polygon layer and/or the map extent)
filters the alerts, and optionally the posts shown; the temporal controller can follow the newest
post.
"""

from __future__ import annotations

import sqlite3
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsMapLayerProxyModel,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.gui import QgsFieldComboBox, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QRectF, Qt, QTimer
from qgis.PyQt.QtGui import QColor, QPainter
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core import options
from ..core.geodesy import extent_text
from ..i18n import tr
from ..pg_connections import is_team_target, open_store_target
from ..qgis_ops.layers import find_posts_layer
from ..qgis_ops.live_map import area_filters, area_of_interest, follow_newest
from .active_store import active_store
from .algorithm_task import AlgorithmTask

HOUR_S = 3600
TICK_MS = 1000


class RateChart(QWidget):
    """Posts per minute over the last hour, as bars (drawn with QPainter)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.per_minute: list[int] = []
        self.setMinimumHeight(60)

    def set_values(self, values: list[int]) -> None:
        self.per_minute = values
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        rect = self.rect()
        painter.fillRect(rect, self.palette().base())
        values = self.per_minute[-60:]
        top = max(values) if values and max(values) > 0 else 1
        width = rect.width() / 60.0
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(31, 120, 180))
        for i, value in enumerate(values):
            height = (rect.height() - 2) * value / top
            x = rect.width() - (len(values) - i) * width
            painter.drawRect(QRectF(x, rect.height() - height, max(1.0, width - 1), height))
        painter.end()


class LiveDock(QDockWidget):
    """Start, pause and stop a watch on a store; `start_task` hands a task to the task manager
    and keeps a reference until it ends (the plugin's)."""

    def __init__(self, iface, start_task: Callable, parent=None, project: QgsProject | None = None) -> None:
        super().__init__(tr("MIST Live"), parent)
        self.setObjectName("MistLiveDock")
        self.iface = iface
        self.start_task = start_task
        self.project = project or QgsProject.instance()
        self.watch: AlgorithmTask | None = None
        self.samples: deque[tuple[float, int]] = deque()
        self.last_alert = 0
        self.last_posts: int | None = None
        self.notices: list = []
        self.state = "stopped"
        self.area_subset = ""
        self._area_key: tuple | None = None
        self._area: QgsGeometry | None = None
        self._reader = None  # a read-only Store kept open between ticks (a team store: one connection)
        self._reader_target = ""

        body = QWidget(self)
        layout = QVBoxLayout(body)
        form = QFormLayout()
        self.store_edit = QLineEdit(active_store(self.project), body)  # the project's store, a team store too
        self.sources_edit = QPlainTextEdit(body)
        self.sources_edit.setPlaceholderText(tr("One file, folder or http(s) URL per line"))
        self.sources_edit.setMaximumHeight(60)
        self.head_edit = QLineEdit(body)
        self.keywords_edit = QLineEdit(body)
        self.threshold_edit = QLineEdit("0.8", body)
        form.addRow(tr("Store"), self.store_edit)
        form.addRow(tr("Sources"), self.sources_edit)
        form.addRow(tr("Head (.onnx)"), self.head_edit)
        form.addRow(tr("Alert score"), self.threshold_edit)
        form.addRow(tr("Alert keywords"), self.keywords_edit)
        self.area_combo = _layer_choice(body, QgsMapLayerProxyModel.Filter.PolygonLayer, self.project)
        self.extent_check = QCheckBox(tr("Only within the map extent"), body)
        self.area_posts_check = QCheckBox(tr("Show only the posts in the area of interest"), body)
        form.addRow(tr("Area of interest"), self.area_combo)
        form.addRow("", self.extent_check)
        form.addRow("", self.area_posts_check)
        self.learn_spin = QSpinBox(body)
        self.learn_spin.setRange(0, 100000)
        self.learn_spin.setValue(options.LIVE_LEARN_EVERY)
        self.learn_spin.setSpecialValueText(tr("never"))
        form.addRow(tr("Retrain the head every N verdicts"), self.learn_spin)
        self.gazetteer_combo = _layer_choice(body, QgsMapLayerProxyModel.Filter.VectorLayer, self.project)
        self.name_field_combo = QgsFieldComboBox(body)
        self.gazetteer_combo.layerChanged.connect(self.name_field_combo.setLayer)
        form.addRow(tr("Gazetteer (place posts from their text)"), self.gazetteer_combo)
        form.addRow(tr("Gazetteer name field"), self.name_field_combo)
        self.follow_check = QCheckBox(tr("Time follows the newest post"), body)
        self.window_spin = QSpinBox(body)
        self.window_spin.setRange(1, 7 * 24 * 60)
        self.window_spin.setValue(60)
        self.window_spin.setSuffix(tr(" min"))
        follow = QHBoxLayout()
        follow.addWidget(self.follow_check)
        follow.addWidget(self.window_spin)
        form.addRow(tr("Temporal controller"), follow)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.start_button = QPushButton(tr("Start"), body)
        self.pause_button = QPushButton(tr("Pause"), body)
        self.stop_button = QPushButton(tr("Stop"), body)
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.status_label = QLabel(tr("Stopped"), body)
        self.stats_label = QLabel("", body)
        self.stats_label.setWordWrap(True)
        self.chart = RateChart(body)
        self.head_label = QLabel("", body)
        self.head_label.setWordWrap(True)
        self.sources_label = QLabel("", body)
        self.sources_label.setWordWrap(True)
        self.sources_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status_label)
        layout.addWidget(self.stats_label)
        layout.addWidget(self.chart)
        layout.addWidget(self.head_label)
        layout.addWidget(self.sources_label)
        layout.addStretch(1)
        self.setWidget(body)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.pause)
        self.stop_button.clicked.connect(self.stop)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.refresh)
        self._buttons()

    # -- control ---------------------------------------------------------------------------------

    def parameters(self) -> dict:
        try:
            threshold = float(self.threshold_edit.text() or 0)
        except ValueError:
            threshold = 0.0
        area = self.area_combo.currentLayer()
        gazetteer = self.gazetteer_combo.currentLayer()
        extent = self.area_extent()
        return {
            "STORE": self.store_edit.text().strip(), "SOURCES": self.sources_edit.toPlainText(),
            "HEAD": self.head_edit.text().strip(), "THRESHOLD": threshold if self.head_edit.text().strip() else 0.0,
            "KEYWORDS": self.keywords_edit.text().strip(), "INTERVAL": 1.0, "MAX_POSTS": 0,
            "ALERT_AREA": area.id() if area is not None else None,  # layers of the task's project, by id
            "LEARN_EVERY": self.learn_spin.value(),
            "GAZETTEER": gazetteer.id() if gazetteer is not None else None,
            "NAME_FIELD": self.name_field_combo.currentField() or "name",
            "ALERT_EXTENT": extent_text(extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum())
            if extent is not None else None,
        }

    def area_extent(self) -> QgsRectangle | None:
        """The map extent in degrees when the area of interest is limited to it."""
        if not self.extent_check.isChecked() or self.iface is None:
            return None
        canvas = self.iface.mapCanvas()
        transform = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(),
                                           QgsCoordinateReferenceSystem("EPSG:4326"), self.project)
        return transform.transformBoundingBox(canvas.extent())

    def area_geometry(self) -> QgsGeometry | None:
        """The area of interest in degrees: the polygon layer's polygons, narrowed to the map extent
        when asked; None when there is no area. Kept while the layer and the extent stay the same."""
        area = self.area_combo.currentLayer()
        extent = self.area_extent()
        key = (area.id() if area is not None else None, area.featureCount() if area is not None else 0,
               extent.toString() if extent is not None else None)
        if key != self._area_key:
            geometry = area_of_interest(area.getFeatures() if area is not None else None,
                                        area.crs() if area is not None else None, self.project, extent)
            self._area_key, self._area = key, geometry
        return self._area

    def _filter_posts(self, layer) -> None:
        """Show only the posts in the area of interest: inside its polygons where the GeoPackage's
        SQL can test that, else inside its bounds. Only the filter this dock set is replaced or
        cleared, never one the user typed."""
        geometry = self.area_geometry() if self.area_posts_check.isChecked() else None
        current = layer.subsetString()
        if geometry is None or geometry.isEmpty():
            if current and current == self.area_subset:
                layer.setSubsetString("")
                self.area_subset = ""
            return
        box = geometry.boundingBox()
        choices = area_filters(geometry.asWkt(), (box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()))
        if current in choices or (current and current != self.area_subset):
            return
        for wanted in choices:
            if layer.setSubsetString(wanted):
                self.area_subset = wanted
                return

    def start(self) -> None:
        if self.running:
            return
        self.watch = AlgorithmTask("mist:watch", self.parameters(), self.project, on_executed=self._finished)
        self.state = "running"
        self.watch.start(self.start_task)
        self.timer.start()
        self._buttons()
        self.refresh()

    def pause(self) -> None:
        """Stop after the batch in hand; Start goes on from the stored cursors."""
        self._cancel("paused")

    def stop(self) -> None:
        self._cancel("stopped")

    def _cancel(self, state: str) -> None:
        if self.running:
            self.watch.cancel()
        self.state = state
        self._buttons()

    @property
    def running(self) -> bool:
        return self.watch is not None

    def _finished(self, watch: AlgorithmTask) -> None:
        self.watch = None
        if self.state == "running":
            self.state = "stopped" if watch.ok else "failed"
        self.refresh()
        self.timer.stop()
        self._buttons()

    def _buttons(self) -> None:
        self.start_button.setEnabled(not self.running)
        self.pause_button.setEnabled(self.running)
        self.stop_button.setEnabled(self.running)
        names = {"running": tr("Watching"), "paused": tr("Paused"), "stopped": tr("Stopped"), "failed": tr("Failed")}
        self.status_label.setText(names.get(self.state, self.state))

    # -- what the store says ---------------------------------------------------------------------

    def _store(self, target: str):
        """The store the watch writes to, read-only; None while it does not exist yet."""
        from ..core.store import StoreError

        if target != self._reader_target:
            self._close_reader()
        if self._reader is None:
            if not target or not (is_team_target(target) or Path(target).is_file()):
                return None
            try:
                self._reader = open_store_target(target, read_only=True)
            except StoreError:
                return None  # not created yet, or the server is away: the next tick tries again
            self._reader_target = target
        return self._reader

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._reader, self._reader_target = None, ""

    def refresh(self) -> None:
        from ..core.store import StoreError, live_sql

        path = self.store_edit.text().strip()
        store = self._store(path)
        if store is None:
            return
        try:
            counts = live_sql.live_counts(store, "flood")
            alerts = live_sql.alerts_after(store, self.last_alert)
            head = live_sql.head_state(store)
            feeds = live_sql.source_states(store)
            newest = live_sql.newest_post_time(store) if self.follow_check.isChecked() else None
        except (StoreError, sqlite3.Error):
            self._close_reader()  # reopened at the next tick
            return
        now = time.time()
        self.samples.append((now, counts["posts"]))
        while self.samples and self.samples[0][0] < now - HOUR_S:
            self.samples.popleft()
        share = counts["flood"] / counts["screened"] if counts["screened"] else 0.0
        self.stats_label.setText(tr(
            "{rate} posts/min · {share:.0%} screened as flood · {alerts} open alerts\n"
            "queues: {fetch} photos to fetch · {screen} posts to screen").format(
            rate=self.posts_per_minute(), share=share, alerts=counts["open_alerts"],
            fetch=counts["to_fetch"], screen=counts["to_screen"]))
        self.chart.set_values(self.minute_bins())
        self.head_label.setText(head_text(*head))
        self.sources_label.setText("\n".join(source_text(*row) for row in feeds))
        layer = find_posts_layer(path, self.project)
        if layer is not None:
            self._filter_posts(layer)
        if self.last_posts is not None and counts["posts"] != self.last_posts:
            self._reload_layer(layer)
        self.last_posts = counts["posts"]
        if newest and self.iface is not None:
            follow_newest(self.iface.mapCanvas(), layer, newest, self.window_spin.value() * 60.0)
        for fid, text, lon, lat in alerts:
            self.last_alert = max(self.last_alert, fid)
            self._notify(text or "", lon, lat)

    def posts_per_minute(self) -> int:
        if len(self.samples) < 2:
            return 0
        now, latest = self.samples[-1]
        older = [count for t, count in self.samples if t >= now - 60]
        return latest - older[0] if older else 0

    def minute_bins(self) -> list[int]:
        """New posts in each minute of the last hour, oldest first."""
        if not self.samples:
            return []
        now = self.samples[-1][0]
        bins = [0] * 60
        previous = None
        for t, count in self.samples:
            if previous is not None:
                index = 59 - int((now - t) // 60)
                if 0 <= index < 60:
                    bins[index] += max(0, count - previous)
            previous = count
        return bins

    def _reload_layer(self, layer: QgsVectorLayer | None) -> None:
        """The posts layer (the store's, as the tick found it; None when the project has none)
        grows without being removed and added again."""
        if layer is not None:
            layer.dataProvider().reloadData()
            layer.updateExtents()
            layer.triggerRepaint()

    def _notify(self, text: str, lon: float | None, lat: float | None) -> None:
        bar = self.iface.messageBar() if self.iface is not None else None
        if bar is None:
            return
        item = bar.createMessage(tr("MIST alert"), text[:120])
        if lon is not None and lat is not None:
            button = QPushButton(tr("Zoom to"), item)
            button.clicked.connect(lambda: self.zoom_to(lon, lat))
            item.layout().addWidget(button)
        bar.pushWidget(item)
        self.notices.append(item)

    def zoom_to(self, lon: float, lat: float) -> None:
        canvas = self.iface.mapCanvas()
        crs = canvas.mapSettings().destinationCrs()
        transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), crs, self.project)
        point = transform.transform(QgsPointXY(lon, lat))
        half = 0.01 if crs.isGeographic() else 1000.0
        canvas.setExtent(QgsRectangle(point.x() - half, point.y() - half, point.x() + half, point.y() + half))
        canvas.refresh()

    def cleanup(self) -> None:
        self.timer.stop()
        self._close_reader()
        if self.running:
            self.watch.cancel()


def _layer_choice(parent: QWidget, filters, project: QgsProject) -> QgsMapLayerComboBox:
    """An optional choice of the project's layers, empty at first. Before QGIS 3.24 a combo cannot
    be given a project and lists the current one's, which is the dock's inside QGIS."""
    combo = QgsMapLayerComboBox(parent)
    combo.setFilters(filters)
    combo.setAllowEmptyLayer(True)
    if hasattr(combo, "setProject"):
        combo.setProject(project)
    combo.setLayer(None)
    return combo


def head_text(active, rejected) -> str:
    """Which head version screens and why; why the latest candidate after it was rejected."""
    if active is None:
        return ""
    f1 = tr(", F1 {f1:.2f}").format(f1=active[4]) if active[4] is not None else ""
    text = tr("Head {model} screens{f1}: {reason}").format(model=active[1], f1=f1, reason=active[6] or "")
    if rejected is not None:
        text += "\n" + tr("{model} was not used: {reason}").format(model=rejected[1], reason=rejected[6] or "")
    return text


def source_text(source: str, kind: str, state: str, failures: int, last_error: str | None,
                next_poll: str | None, polled_at: str, cursor: str | None) -> str:
    """One line per watched source: its state, last poll, position and, when failing, the backoff."""
    import json

    where = ""
    if cursor:
        try:
            value = json.loads(cursor)
        except ValueError:
            value = {}
        if "line" in value:
            where = tr("line {line}").format(line=value["line"])
        elif "done" in value:
            where = tr("{n} files read").format(n=len(value["done"]))
        elif value.get("etag") or value.get("last_modified"):
            where = tr("version {tag}").format(tag=value.get("etag") or value.get("last_modified"))
    text = tr("{source} ({kind}): {state}; last poll {polled}").format(
        source=source, kind=kind, state=state, polled=polled_at[11:19] + " UTC" if polled_at else "-")
    if where:
        text += " · " + where
    if failures:
        text += " · " + tr("{n} failures, last: {error}; next try {at}").format(
            n=failures, error=last_error or "", at=(next_poll or "")[11:19] + " UTC")
    return text
