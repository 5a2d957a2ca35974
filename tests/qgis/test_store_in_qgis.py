"""QGIS opens, edits and styles the store's layers like any GeoPackage (a team store: through
QGIS's postgres provider)."""

from datetime import UTC, datetime

import pytest
from qgis.core import QgsFeatureRequest, QgsGeometry, QgsPointXY, QgsRectangle, QgsVectorLayer
from qgis.PyQt.QtCore import QVariant

from mist_qgis.core.posts import PostRecord
from mist_qgis.core.store import open_store
from mist_qgis.core.store.schema import LATEST_VERSION
from mist_qgis.qgis_ops.layers import posts_layer, store_layer_source


def _source(store, table):
    source, provider = store_layer_source(store, table)
    return source, table, provider


def test_posts_layer_is_valid_and_editable(store, store_path):
    with store.batch() as conn:
        store.add_posts(conn, [PostRecord(f"p{i}", "weibo", 113.6 + i * 0.01, 34.7) for i in range(5)])
    store.refresh_extents()
    layer = QgsVectorLayer(*_source(store_path, "posts"))
    assert layer.isValid()
    assert layer.featureCount() == 5
    assert layer.crs().authid() == "EPSG:4326"
    assert "post_id" in layer.fields().names() and "water_depth_m" in layer.fields().names()
    # QGIS edits through GDAL (its own R-tree functions); the store must read the result.
    feature = next(layer.getFeatures(QgsFeatureRequest().setFilterExpression("post_id = 'p0'")))
    assert layer.startEditing()
    assert layer.changeGeometry(feature.id(), QgsGeometry.fromPointXY(QgsPointXY(120.0, 30.0)))
    assert layer.commitChanges(), layer.commitErrors()
    moved = QgsVectorLayer(*_source(store_path, "posts"))
    hits = list(moved.getFeatures(QgsFeatureRequest().setFilterRect(QgsRectangle(119.9, 29.9, 120.1, 30.1))))
    assert [f["post_id"] for f in hits] == ["p0"]
    assert store.scalar("SELECT count(*) FROM rtree_posts_geom WHERE minx = 120.0") == 1


def test_styled_posts_layer_has_style_map_tip_and_time(store, store_path):
    when = datetime(2021, 7, 20, 8, 30, tzinfo=UTC)
    with store.batch() as conn:
        store.add_posts(conn, [PostRecord("p0", "weibo", 113.6, 34.7, text="<b>x</b>", timestamp=when)])
    layer = posts_layer(store_path)
    assert layer.isValid() and layer.featureCount() == 1
    assert "verified" in layer.renderer().dump() or layer.renderer().type() != "singleSymbol"
    assert "[% " in layer.mapTipTemplate() or "{" in layer.mapTipTemplate()
    temporal = layer.temporalProperties()
    assert temporal.isActive() and temporal.startField() == "timestamp"
    assert layer.fields().field("timestamp").type() == QVariant.DateTime
    feature = next(layer.getFeatures())
    assert feature["timestamp"].toUTC().toString("yyyy-MM-ddTHH:mm:ss") == "2021-07-20T08:30:00"


def _browser_layers(connection: str, schema: str) -> set[str]:
    """The layers QGIS's Browser shows under a schema of a saved PostgreSQL connection."""
    from qgis.core import QgsApplication

    provider = next(p for p in QgsApplication.dataItemProviderRegistry().providers() if p.name() == "PostGIS")
    root = provider.createDataItem("", None)
    item = next(c for c in root.createChildren() if c.name() == connection)
    schema_item = next(c for c in item.createChildren() if c.name() == schema)
    return {c.name() for c in schema_item.createChildren()}


@pytest.mark.parametrize("upgraded", [False, True], ids=["new", "upgraded from 11"])
def test_qgis_browser_lists_the_team_store_layers_only(pg_cluster, pg_store_url, upgraded):
    from qgis.core import QgsSettings

    from tests.helpers.pgcluster import PORT

    if upgraded:
        with open_store(pg_store_url, target_version=11) as old, old.batch() as conn:
            old.add_posts(conn, [PostRecord("p0", "weibo", 113.6, 34.7)])
    with open_store(pg_store_url) as store:
        assert store.schema_version == LATEST_VERSION and store.has_table("media")
    schema = pg_store_url.split("search_path%3D")[1].split(",")[0]
    settings = QgsSettings()
    key = "PostgreSQL/connections/mist-browser"
    for name, value in {"host": str(pg_cluster.socket_dir), "port": str(PORT), "database": pg_cluster.database,
                        "username": pg_cluster.user, "saveUsername": "true"}.items():
        settings.setValue(f"{key}/{name}", value)
    try:
        # QGIS's default for a connection: tables with geometry only
        assert _browser_layers("mist-browser", schema) == {
            "posts", "references", "coarse_locations", "geolocations", "alerts"}
    finally:
        settings.remove(key)

