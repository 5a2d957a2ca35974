"""The "MIST Live" dock on a real store, a real task manager and a file a thread appends to: the
posts layer grows without being re-added, an alert raises a notice with a zoom button, and stop
then start ends with exact totals."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from qgis.core import QgsApplication, QgsCoordinateReferenceSystem, QgsProject, QgsRectangle
from qgis.gui import QgsMapCanvas, QgsMessageBar
from qgis.PyQt.QtWidgets import QPushButton

from mist_qgis.core.store import open_store
from mist_qgis.gui.live_dock import LiveDock
from mist_qgis.headless import init_processing
from mist_qgis.qgis_ops.layers import add_posts_layer
from tests.helpers.stub_iface import StubIface
from tests.live_kit import mixed_lines, v1_line


class LiveIface(StubIface):
    def __init__(self) -> None:
        super().__init__()
        self.canvas = QgsMapCanvas()
        self.canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
        self.canvas.setExtent(QgsRectangle(0, 0, 1, 1))
        self.bar = QgsMessageBar()

    def mapCanvas(self):
        return self.canvas

    def messageBar(self):
        return self.bar


def _start_task(tasks: list):
    def start(task) -> None:
        tasks.append(task)
        QgsApplication.taskManager().addTask(task)
    return start


def test_live_dock_grows_the_layer_alerts_and_restarts_exactly(qtbot, store_path: Path, tmp_path: Path):
    init_processing()
    open_store(store_path).close()
    project = QgsProject()
    layer = add_posts_layer(store_path, project)
    stream = tmp_path / "stream.jsonl"
    stream.write_text("")
    iface = LiveIface()
    tasks: list = []
    dock = LiveDock(iface, _start_task(tasks), project=project)
    qtbot.addWidget(dock)
    dock.store_edit.setText(str(store_path))
    dock.sources_edit.setPlainText(str(stream))
    dock.keywords_edit.setText("bridge")

    def append(start: int, count: int) -> None:
        with open(stream, "a") as fh:
            for n in range(start, start + count, 10):
                fh.write(mixed_lines(n, 10))
                fh.flush()
                time.sleep(0.1)

    dock.start()
    writer = threading.Thread(target=append, args=(0, 60))
    writer.start()
    qtbot.waitUntil(lambda: layer.featureCount() > 0, timeout=60000)
    writer.join()
    with open(stream, "a") as fh:
        fh.write(v1_line(500, "bridge under water", lon=113.65, lat=34.75))
    qtbot.waitUntil(lambda: bool(dock.notices), timeout=60000)
    zoom = dock.notices[0].findChildren(QPushButton)[0]
    zoom.click()
    assert iface.canvas.extent().contains(113.65, 34.75)
    qtbot.waitUntil(lambda: layer.featureCount() == 61, timeout=60000)
    assert "open alerts" in dock.stats_label.text() and sum(dock.minute_bins()) == 61 - dock.samples[0][1]
    dock.stop()
    qtbot.waitUntil(lambda: not dock.running, timeout=60000)
    append(1000, 30)  # written while stopped
    dock.start()
    qtbot.waitUntil(lambda: layer.featureCount() == 91, timeout=60000)
    dock.stop()
    qtbot.waitUntil(lambda: not dock.running, timeout=60000)
    with open_store(store_path, create=False, read_only=True) as store:
        assert store.count("posts") == 91 and store.count("alerts") == 1
        assert store.count("runs", "kind = 'watch' AND status = 'cancelled'") == 2
    dock.cleanup()
