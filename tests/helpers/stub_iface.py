"""A stand-in for QGIS's `iface` that records what a plugin adds, on a real main window."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QMainWindow


class StubIface:
    """Records what a plugin adds to QGIS's interface, on a real main window."""

    def __init__(self) -> None:
        self.window = QMainWindow()
        self.menus: dict[str, list] = {}
        self.toolbar_icons: list = []
        self.docks: list = []
        self.message_bar = None

    def mainWindow(self):
        return self.window

    def messageBar(self):  # noqa: N802
        """A real message bar on the window (created on first use)."""
        if self.message_bar is None:
            from qgis.gui import QgsMessageBar

            self.message_bar = QgsMessageBar(self.window)
        return self.message_bar

    def addToolBar(self, name):
        return self.window.addToolBar(name)

    def addPluginToMenu(self, menu, action):
        self.menus.setdefault(menu, []).append(action)

    def removePluginMenu(self, menu, action):
        self.menus[menu].remove(action)
        if not self.menus[menu]:
            del self.menus[menu]

    def addToolBarIcon(self, action):
        self.toolbar_icons.append(action)

    def removeToolBarIcon(self, action):
        if action in self.toolbar_icons:
            self.toolbar_icons.remove(action)

    def addDockWidget(self, area, dock):
        self.window.addDockWidget(area, dock)
        self.docks.append(dock)

    def removeDockWidget(self, dock):
        self.window.removeDockWidget(dock)
        self.docks.remove(dock)
