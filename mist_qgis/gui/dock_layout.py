"""Docks that fit on a laptop screen beside another dock: the content scrolls instead of
pushing the QGIS window taller than the screen, and each dock asks for a sensible size."""

from __future__ import annotations

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QFrame, QScrollArea, QWidget

# Small enough that two docks stacked in one dock area, QGIS's toolbars, menu and status bar fit
# a 1080-pixel screen (and a 768-pixel one with a single dock).
DOCK_MIN_WIDTH = 320
DOCK_MIN_HEIGHT = 240


def scrolled(content: QWidget) -> QScrollArea:
    """`content` in a frameless scroll area: the dock can shrink below the content's minimum
    size (the content scrolls), so the main window never grows to make room for it."""
    area = QScrollArea()
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setWidget(content)
    area.setMinimumSize(DOCK_MIN_WIDTH, DOCK_MIN_HEIGHT)
    return area
