"""Run under a real X server (Xvfb): a QGIS-like main window (menu, toolbars, map canvas, status
bar) with MIST's docks stacked in the right dock area; prints the window's height and the
screen's as JSON. Used by test_window_fits.py."""

from __future__ import annotations

import json
import sys


def main(scenario: str) -> None:
    from mist_qgis.headless import init_processing, start_qgis

    app = start_qgis(gui=True)
    init_processing()
    from qgis.gui import QgsDockWidget, QgsMapCanvas
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtWidgets import QMainWindow, QTreeWidget, QVBoxLayout, QWidget

    from mist_qgis.gui.posts_dock import PostsDock
    from mist_qgis.gui.verify_dock import VerifyDock

    window = QMainWindow()
    window.setCentralWidget(QgsMapCanvas())
    for name in ("Project", "Edit", "View", "Layer", "Settings", "Plugins", "Vector", "Raster", "Help"):
        window.menuBar().addMenu(name)
    # QGIS's default toolbars fill three rows of 24-pixel icons on a 1920-pixel screen
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QIcon

    from mist_qgis.paths import icon_path

    icon = QIcon(str(icon_path()))
    for row, names in enumerate((("Project", "Map navigation", "Attributes", "Selection"),
                                 ("Digitizing", "Advanced digitizing", "Label", "Plugins", "MIST"),
                                 ("Data source manager", "Manage layers", "Help"))):
        if row:
            window.addToolBarBreak()
        for name in names:
            bar = window.addToolBar(name)
            bar.setIconSize(QSize(24, 24))
            for i in range(6):
                bar.addAction(icon, f"{name} {i}")
    window.statusBar().showMessage("Coordinate 113.6,34.7   Scale 1:50000")
    screen = app.primaryScreen().availableGeometry()
    window.setGeometry(screen)
    window.show()
    app.processEvents()

    verify = VerifyDock(None, window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, verify)
    if scenario == "posts":
        other = PostsDock(lambda task: None, window)
    else:  # a dock like QGIS's Identify Results: a toolbar row and a tree
        other = QgsDockWidget("Identify Results", window)
        body = QWidget()
        layout = QVBoxLayout(body)
        tree = QTreeWidget()
        tree.setMinimumHeight(330)  # with its toolbar and form view, as QGIS shows it
        layout.addWidget(tree)
        other.setWidget(body)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, other)
    window.splitDockWidget(verify, other, Qt.Orientation.Vertical)
    verify.show()
    other.show()
    for _ in range(20):
        app.processEvents()
    frame = window.frameGeometry()
    print(json.dumps({"window_height": frame.height(), "window_bottom": frame.bottom(),
                      "screen_height": screen.height(), "screen_bottom": screen.bottom(),
                      "verify_height": verify.height(), "other_height": other.height()}))
    verify.cleanup()


if __name__ == "__main__":
    main(sys.argv[1])
