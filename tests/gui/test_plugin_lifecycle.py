"""The plugin against a stub QGIS interface: load and unload twice leave nothing behind."""

from __future__ import annotations

import sqlite3

import pytest
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QEvent
from qgis.PyQt.QtWidgets import QDockWidget, QToolBar

import mist_qgis
from tests.helpers.stub_iface import StubIface

MENU = ["Create or upgrade store…", "Store summary…", "Check dependencies", "Install dependencies…",
        "Models…", "Fetch photos…",
        "Classify photos…", "Screen post text…", "Train screening head…", "Geolocate photos…", "Post density…",
        "Semantic localization map…", "Inundation from verified depths…", "Export verified points…",
        "Style posts by category", "Verify photos", "Import posts", "Live"]
STEPS = {
    "Create or upgrade store…": "mist:createstore", "Store summary…": "mist:storeinfo",
    "Fetch photos…": "mist:fetchmedia", "Classify photos…": "mist:classifymedia",
    "Screen post text…": "mist:screentext",
    "Train screening head…": "mist:trainhead", "Geolocate photos…": "mist:geolocatephotos",
    "Post density…": "mist:postdensity", "Semantic localization map…": "mist:selo",
    "Inundation from verified depths…": "mist:inundation", "Export verified points…": "mist:exportverified",
}


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
            assert iface.menus["&MIST"] == plugin.actions
            assert [a.text() for a in plugin.actions] == MENU
            steps = {a.text(): a.data() for a in plugin.actions if a.data()}
            assert steps == STEPS and all(registry.algorithmById(i) is not None for i in steps.values())
            assert iface.window.findChildren(QToolBar, "MistToolbar")
            icons = [a.icon().pixmap(32, 32).toImage() for a in
                     iface.window.findChildren(QToolBar, "MistToolbar")[0].actions()]
            assert len(icons) == 5 and all(icons[i] != icons[j] for i in range(5) for j in range(i + 1, 5))
            assert [d.objectName() for d in iface.docks] == ["MistVerifyDock", "MistPostsDock", "MistLiveDock"]
            assert plugin.verify_dock.windowTitle() == "MIST Verify" and not plugin.verify_dock.isVisible()
            assert plugin.posts_dock.windowTitle() == "MIST Posts" and not plugin.posts_dock.isVisible()
            plugin.unload()
            _flush_deletes()
            assert registry.providerById("mist") is None
            assert iface.menus == {} and iface.docks == []
            assert not iface.window.findChildren(QToolBar, "MistToolbar")
            assert not iface.window.findChildren(QDockWidget, "MistVerifyDock")
            assert not iface.window.findChildren(QDockWidget, "MistPostsDock")
            assert not iface.window.findChildren(QDockWidget, "MistLiveDock")
            assert plugin.actions == [] and plugin.tasks == set() and plugin.verify_dock is None
            assert plugin.posts_dock is None
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


def test_verify_dock_action_opens_the_last_store_and_unload_closes_it(store_path):
    from mist_qgis import settings
    from mist_qgis.core.store import open_store
    from mist_qgis.pg_connections import store_target
    from tests.helpers.verify_store import build_store

    with open_store(store_path) as store:
        build_store(store, n=3)
    settings.set_value("store_path", store_target(store_path))
    from mist_qgis import headless

    registry = QgsApplication.processingRegistry()
    if registry.providerById("mist") is not None:  # the session's own; the plugin must add its own
        registry.removeProvider(registry.providerById("mist"))
        headless._provider = None
    iface = StubIface()
    iface.window.show()
    plugin = mist_qgis.classFactory(iface)
    plugin.initGui()
    try:
        dock = plugin.verify_dock
        action = next(a for a in plugin.actions if a.isCheckable())
        action.trigger()
        assert dock.isVisible() and action.isChecked()
        assert dock.store is not None and dock.store_target == store_target(store_path)
        assert dock.model.rowCount() == 3
        store = dock.store
    finally:
        plugin.unload()
        _flush_deletes()
        headless.init_processing()
    assert plugin.verify_dock is None
    if store.dialect == "sqlite":
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            store.query("SELECT 1")
    else:
        assert store._conn.raw.closed  # a team store's connection, closed by unload



def test_style_by_category_action_colours_the_posts_with_a_chinese_legend(store_path, tmp_path, monkeypatch):
    """The menu action styles the active store's posts by text category, the store's own list in
    desk order, with the legend in the user's language (Chinese here)."""
    import subprocess

    from qgis.core import QgsCategorizedSymbolRenderer, QgsProject

    import mist_qgis.i18n as i18n
    from mist_qgis import settings
    from mist_qgis.core.posts.record import PostRecord
    from mist_qgis.core.store import open_store
    from mist_qgis.core.text.categories import Category, save_categories
    from mist_qgis.core.text.screen import screen_texts
    from mist_qgis.paths import i18n_dir

    with open_store(store_path) as store:
        with store.batch() as conn:
            store.add_posts(conn, [PostRecord("a", "weibo", 114.3, 30.6, text="救命！被困了"),
                                   PostRecord("b", "weibo", 114.4, 30.6, text="🌊")])
        save_categories(store, [Category("urgent_help", "urgent help needed", ("救命",)),
                                Category("power", "power cut", ("停电",))])
        screen_texts(store)
    settings.set_value("store_path", str(store_path))
    qm = tmp_path / "mist_qgis_zh.qm"
    subprocess.run(["lrelease", "-silent", str(i18n_dir() / "mist_qgis_zh.ts"), "-qm", str(qm)], check=True)
    monkeypatch.setattr(i18n, "i18n_dir", lambda: tmp_path)
    translator = i18n.install_translator("zh_CN")
    from mist_qgis import headless

    registry = QgsApplication.processingRegistry()
    if registry.providerById("mist") is not None:  # the session's own; the plugin must add its own
        registry.removeProvider(registry.providerById("mist"))
        headless._provider = None
    iface = StubIface()
    plugin = mist_qgis.classFactory(iface)
    plugin.initGui()
    try:
        next(a for a in plugin.actions if a.text() == i18n.tr("Style posts by category")).trigger()
        [layer] = QgsProject.instance().mapLayers().values()
        renderer = layer.renderer()
        assert isinstance(renderer, QgsCategorizedSymbolRenderer)
        legend = {c.value(): c.label() for c in renderer.categories()}
        assert legend == {"urgent_help": "急需救助", "power": "power cut", "no text": i18n.tr("no text")}
        assert legend["no text"] != "no text"  # translated too
        assert "1" in iface.messageBar().items()[0].text()
    finally:
        plugin.unload()
        QCoreApplication.removeTranslator(translator)
        QgsProject.instance().removeAllMapLayers()
        _flush_deletes()
        headless.init_processing()
