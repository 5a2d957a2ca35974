"""The plugin against a stub QGIS interface: load and unload twice leave nothing behind."""

from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QEvent
from qgis.PyQt.QtWidgets import QMainWindow, QToolBar

import mist_qgis


class StubIface:
    """Records what a plugin adds to QGIS's interface, on a real main window."""

    def __init__(self) -> None:
        self.window = QMainWindow()
        self.menus: dict[str, list] = {}
        self.toolbar_icons: list = []
        self.docks: list = []

    def mainWindow(self):
        return self.window

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


def _flush_deletes() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_load_and_unload_twice_cleanly():
    from mist_qgis import headless

    iface = StubIface()
    registry = QgsApplication.processingRegistry()
    if registry.providerById("mist") is not None:  # the session's own; the plugin must add its own
        registry.removeProvider(registry.providerById("mist"))
        headless._provider = None
    try:
        for _ in range(2):
            plugin = mist_qgis.classFactory(iface)
            plugin.initGui()
            assert registry.providerById("mist") is not None
            assert len(iface.menus["&MIST"]) == len(plugin.actions) >= 3
            assert iface.window.findChildren(QToolBar, "MistToolbar")
            plugin.unload()
            _flush_deletes()
            assert registry.providerById("mist") is None
            assert iface.menus == {} and iface.docks == []
            assert not iface.window.findChildren(QToolBar, "MistToolbar")
            assert plugin.actions == [] and plugin.tasks == set()
    finally:
        headless.init_processing()


def test_chinese_translation_is_used(tmp_path, monkeypatch):
    import subprocess

    import mist_qgis.i18n as i18n
    from mist_qgis.paths import i18n_dir

    qm = tmp_path / "mist_qgis_zh.qm"
    subprocess.run(["lrelease", "-silent", str(i18n_dir() / "mist_qgis_zh.ts"), "-qm", str(qm)], check=True)
    monkeypatch.setattr(i18n, "i18n_dir", lambda: tmp_path)
    translator = i18n.install_translator("zh_CN")
    assert translator is not None
    try:
        assert i18n.tr("Check dependencies") == "检查依赖项"
    finally:
        QCoreApplication.removeTranslator(translator)
    assert i18n.tr("Check dependencies") == "Check dependencies"
