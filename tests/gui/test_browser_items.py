"""The Browser's MIST node: the active and recent stores, each with its user layers only, layers
that open styled; the plugin adds the node and its unload removes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from qgis.core import QgsApplication, QgsBrowserModel, QgsErrorItem, QgsLayerItem, QgsProject, QgsVectorLayer

from mist_qgis import settings
from mist_qgis.core.posts import PostRecord
from mist_qgis.core.store import open_store
from mist_qgis.pg_connections import store_target

BOOKKEEPING = {"media", "runs", "predictions", "embeddings", "matches", "leases", "mist_meta", "layer_styles",
               "live_cursors", "live_sources", "head_versions", "post_categories", "text_categories"}


@pytest.fixture(autouse=True)
def _no_recent_stores():
    settings.set_value("recent_stores", [])
    yield
    settings.set_value("recent_stores", [])
    settings.set_value("store_path", "")


@pytest.fixture
def browser():
    """QGIS's Browser model with MIST's provider registered, as the Browser panel holds it."""
    from mist_qgis.gui.browser_items import MistItemProvider

    registry = QgsApplication.dataItemProviderRegistry()
    provider = MistItemProvider()
    registry.addProvider(provider)
    model = QgsBrowserModel()
    model.initialize()
    yield model
    provider.close()
    registry.removeProvider(provider)


def _root(model: QgsBrowserModel):
    return next(model.index(row, 0) for row in range(model.rowCount()) if model.data(model.index(row, 0)) == "MIST")


def _children(model: QgsBrowserModel, index) -> list:
    """The items under an index, populated as when a user expands it, in the Browser's order (its
    view sorts by sort key). Items are read through the model: `QgsDataItem.children()` hands
    Python new wrappers that delete QGIS's items when they go."""
    model.fetchMore(index)
    items = [(model.index(row, 0, index), model.dataItem(model.index(row, 0, index)))
             for row in range(model.rowCount(index))]
    return sorted(items, key=lambda pair: pair[1].sortKey())


def test_the_active_store_lists_its_user_layers_styled(browser, store_path, tmp_path):
    from mist_qgis.gui.active_store import set_active_store
    from mist_qgis.qgis_ops.layers import add_posts_layer, posts_layer

    with open_store(store_path) as store, store.batch() as conn:
        store.add_posts(conn, [PostRecord(f"p{i}", "weibo", 113.6 + i * 0.01, 34.7) for i in range(3)])
        expected = None
    with open_store(store_path) as store:
        expected = store.layer_tables()
    add_posts_layer(store_path)  # what MIST does when it adds the posts: saves their style in the store
    QgsProject.instance().removeAllMapLayers()
    other = tmp_path / "other.gpkg"
    open_store(other).close()
    set_active_store(other)
    set_active_store(store_path)  # the active store, the other one recent

    stores = _children(browser, _root(browser))
    assert [s.toolTip() for _, s in stores] == [store_target(store_path), store_target(other)]
    assert stores[0][1].name().endswith("(active)") and not stores[1][1].name().endswith("(active)")
    layers = [item for _, item in _children(browser, stores[0][0])]
    assert all(isinstance(item, QgsLayerItem) for item in layers)
    names = [item.name() for item in layers]
    assert names == [t for t, _ in expected]
    assert names[0] == "posts" and {"issues", "verifications", "unlocated_posts", "geolocations"} <= set(names)
    assert not BOOKKEEPING & set(names)
    styled = posts_layer(store_path)  # MIST's own posts layer
    reference = styled.renderer().dump()
    for item in layers:
        [uri] = item.mimeUris()
        layer = QgsVectorLayer(uri.uri, uri.name, uri.providerKey)  # what a double-click or drag adds
        assert layer.isValid(), item.name()
        if item.name() == "posts":
            assert layer.featureCount() == 3
            assert layer.renderer().dump() == reference  # the store's default style, loaded by QGIS
            assert layer.renderer().type() != "singleSymbol"
        if item.name() == "verifications":
            assert not layer.isSpatial()


def test_a_store_that_cannot_be_opened_is_an_error_item(browser, tmp_path):
    from mist_qgis.gui.active_store import set_active_store

    gone = tmp_path / "gone.gpkg"
    open_store(gone).close()
    set_active_store(gone)
    gone.unlink()
    [(store, _)] = _children(browser, _root(browser))
    [(_, error)] = _children(browser, store)
    assert isinstance(error, QgsErrorItem) and "does not exist" in error.name()


def test_the_node_follows_the_active_store(browser, tmp_path):
    from mist_qgis.gui.active_store import set_active_store

    def listed() -> list[tuple[str, str]]:
        return [(Path(s.toolTip()).name, s.name()) for _, s in _children(browser, _root(browser))]

    paths = {name: tmp_path / f"{name}.gpkg" for name in "abc"}
    for path in paths.values():
        open_store(path).close()
    set_active_store(paths["a"])
    assert listed() == [("a.gpkg", "a.gpkg (active)")]
    set_active_store(paths["b"])  # the node lists the stores again
    set_active_store(paths["c"])
    assert listed() == [("c.gpkg", "c.gpkg (active)"), ("b.gpkg", "b.gpkg"), ("a.gpkg", "a.gpkg")]
    set_active_store(paths["a"])  # b's item is kept by QGIS's refresh and still moves to the end
    assert listed() == [("a.gpkg", "a.gpkg (active)"), ("c.gpkg", "c.gpkg"), ("b.gpkg", "b.gpkg")]


def test_plugin_adds_the_node_and_unload_removes_it():
    import mist_qgis
    from mist_qgis import headless
    from tests.helpers.stub_iface import StubIface

    registry = QgsApplication.processingRegistry()
    if registry.providerById("mist") is not None:
        registry.removeProvider(registry.providerById("mist"))
        headless._provider = None
    items = QgsApplication.dataItemProviderRegistry()
    model = QgsBrowserModel()
    model.initialize()

    def roots() -> list[str]:
        return [model.data(model.index(row, 0)) for row in range(model.rowCount())]

    plugin = mist_qgis.classFactory(StubIface())
    plugin.initGui()
    try:
        assert [p.name() for p in items.providers()].count("MIST") == 1
        assert roots().count("MIST") == 1
    finally:
        plugin.unload()
        headless.init_processing()
    assert "MIST" not in [p.name() for p in items.providers()]
    assert "MIST" not in roots()
