"""QGIS opens, edits and styles the store's layers like any GeoPackage."""

from qgis.core import QgsFeatureRequest, QgsGeometry, QgsPointXY, QgsRectangle, QgsVectorLayer

from mist_qgis.core.posts import PostRecord


def test_posts_layer_is_valid_and_editable(store, store_path):
    with store.batch() as conn:
        store.add_posts(conn, [PostRecord(f"p{i}", "weibo", 113.6 + i * 0.01, 34.7) for i in range(5)])
    store.refresh_extents()
    layer = QgsVectorLayer(f"{store_path}|layername=posts", "posts", "ogr")
    assert layer.isValid()
    assert layer.featureCount() == 5
    assert layer.crs().authid() == "EPSG:4326"
    assert "post_id" in layer.fields().names() and "water_depth_m" in layer.fields().names()
    # QGIS edits through GDAL (its own R-tree functions); the store must read the result.
    feature = next(layer.getFeatures(QgsFeatureRequest().setFilterExpression("post_id = 'p0'")))
    assert layer.startEditing()
    assert layer.changeGeometry(feature.id(), QgsGeometry.fromPointXY(QgsPointXY(120.0, 30.0)))
    assert layer.commitChanges()
    moved = QgsVectorLayer(f"{store_path}|layername=posts", "posts", "ogr")
    hits = list(moved.getFeatures(QgsFeatureRequest().setFilterRect(QgsRectangle(119.9, 29.9, 120.1, 30.1))))
    assert [f["post_id"] for f in hits] == ["p0"]
    assert store.scalar("SELECT count(*) FROM rtree_posts_geom WHERE minx = 120.0") == 1
