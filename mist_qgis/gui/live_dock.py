"""The "MIST Live" dock: start, pause and stop a watch, and see it keep up.

The watch runs as the `mist:watch` Processing algorithm on QGIS's task runner (progress and cancel
in the task manager); pause and stop both cancel it after the batch in hand, and the cursors in the
store let start go on exactly where it stopped. A timer reads the store: posts per minute, the
share screened as flood, open alerts, each stage's queue, a chart of the last hour; the posts
layer is reloaded when it grew, and each new alert raises a message-bar notice with a zoom button.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QRectF, Qt, QTimer
from qgis.PyQt.QtGui import QColor, QPainter
from qgis.PyQt.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..i18n import tr
from ..qgis_ops.layers import find_posts_layer
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

        body = QWidget(self)
        layout = QVBoxLayout(body)
        form = QFormLayout()
        self.store_edit = QLineEdit(body)
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
        layout.addWidget(self.status_label)
        layout.addWidget(self.stats_label)
        layout.addWidget(self.chart)
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
        return {
            "STORE": self.store_edit.text().strip(), "SOURCES": self.sources_edit.toPlainText(),
            "HEAD": self.head_edit.text().strip(), "THRESHOLD": threshold if self.head_edit.text().strip() else 0.0,
            "KEYWORDS": self.keywords_edit.text().strip(), "INTERVAL": 1.0, "MAX_POSTS": 0,
        }

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

    def refresh(self) -> None:
        from ..core.store import live_sql, open_store

        path = self.store_edit.text().strip()
        if not path or not Path(path).is_file():
            return
        with open_store(path, create=False, read_only=True) as store:
            counts = live_sql.live_counts(store, "flood")
            alerts = live_sql.alerts_after(store, self.last_alert)
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
        if self.last_posts is not None and counts["posts"] != self.last_posts:
            self._reload_layer(Path(path))
        self.last_posts = counts["posts"]
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

    def _reload_layer(self, store_path: Path) -> None:
        """The posts layer grows without being removed and added again."""
        layer = find_posts_layer(store_path, self.project)
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
        if self.running:
            self.watch.cancel()
