"""QGIS opens, edits and styles the store's layers like any GeoPackage (a team store: through
QGIS's postgres provider)."""

from datetime import UTC, datetime

from qgis.core import QgsFeatureRequest, QgsGeometry, QgsPointXY, QgsRectangle, QgsVectorLayer
from qgis.PyQt.QtCore import QVariant

from mist_qgis.core.posts import PostRecord
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
