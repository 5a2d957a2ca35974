"""Layers stay current after any algorithm: the store's layers repaint when a MIST algorithm ends
(no F5), new rasters go below the points, and re-running a step replaces that step's layers."""

from __future__ import annotations

import processing
import pytest
from qgis.core import QgsProject

from mist_qgis.core.store import open_store
from mist_qgis.core.verify.records import Verdict
from mist_qgis.core.verify.verdicts import write_verdict
from mist_qgis.qgis_ops.layers import STEP_PROPERTY, add_posts_layer
from tests.helpers.verify_store import build_store


@pytest.fixture
def project_with_posts(store_path):
    with open_store(store_path) as store:
        data = build_store(store, n=12)
    project = QgsProject.instance()
    posts = add_posts_layer(store_path, project)
    yield project, posts, data
    project.removeAllMapLayers()


def _tree_names(project) -> list[str]:
    return [node.layer().name() for node in project.layerTreeRoot().findLayers()]


def test_rasters_go_below_the_points_and_a_rerun_replaces_them(tmp_path, store_path, project_with_posts):
    project, posts, _ = project_with_posts
    params = {"STORE": str(store_path), "RADIUS": 800.0, "PIXEL_SIZE": 100.0}
    processing.runAndLoadResults("mist:postdensity", dict(params, OUTPUT_FOLDER=str(tmp_path / "d1")))
    names = _tree_names(project)
    assert names[0] == posts.name() and len(names) == 2, names
    first = [lyr for lyr in project.mapLayers().values() if lyr.customProperty(STEP_PROPERTY)]
    assert len(first) == 1 and first[0].source().startswith(str(tmp_path / "d1"))
    processing.runAndLoadResults("mist:postdensity", dict(params, OUTPUT_FOLDER=str(tmp_path / "d2")))
    stepped = [lyr for lyr in project.mapLayers().values() if lyr.customProperty(STEP_PROPERTY)]
    assert len(stepped) == 1 and stepped[0].source().startswith(str(tmp_path / "d2"))
    assert _tree_names(project)[0] == posts.name() and len(_tree_names(project)) == 2


def _verified(layer, fid: int):
    """The post's verdict by its store fid (a `postgres` layer numbers its features itself)."""
    from qgis.core import QgsFeatureRequest

    return next(layer.getFeatures(QgsFeatureRequest().setFilterExpression(f'"fid" = {fid}')))["verified"]


def test_store_layers_repaint_after_an_algorithm(store_path, project_with_posts):
    project, posts, data = project_with_posts
    assert not _verified(posts, data.post_fids[0])
    with open_store(store_path) as other:  # another session writes a verdict
        write_verdict(other, Verdict(data.post_fids[0], "flood", "ben", data.media_fids[0], 0.5))
    repaints = []
    posts.repaintRequested.connect(lambda *_: repaints.append(1))
    processing.run("mist:storeinfo", {"STORE": str(store_path)})
    assert repaints and _verified(posts, data.post_fids[0]) == "flood"


@pytest.mark.gpkg_only("opens the posts table as the Browser opens a GeoPackage: OGR on the file")
def test_the_posts_table_opened_anywhere_arrives_styled(store_path, project_with_posts):
    """As the Browser opens it: a plain OGR layer on the store's posts table."""
    from qgis.core import QgsVectorLayer

    plain = QgsVectorLayer(f"{store_path}|layername=posts", "from the Browser", "ogr")
    assert plain.renderer().type() == "RuleRenderer"
    assert "thumbs/" in plain.mapTipTemplate()  # (QGIS 3.22 applies a default style's time settings only on reload)


@pytest.mark.gpkg_only("opens the references table as the Browser opens a GeoPackage: OGR on the file")
def test_the_references_table_opened_from_the_browser_arrives_styled(store_path):
    """After the references are imported (and loaded), the table opened anywhere shows MIST's
    arrows turned by heading, not QGIS's plain default point."""
    from qgis.core import QgsVectorLayer

    from mist_qgis.paths import resources_dir

    with open_store(store_path):
        pass
    processing.runAndLoadResults("mist:importreferences", {
        "STORE": str(store_path), "INPUT": str(resources_dir() / "sample" / "references.csv")})
    try:
        plain = QgsVectorLayer(f"{store_path}|layername=references", "from the Browser", "ogr")
        assert plain.isValid() and plain.featureCount() > 0
        expressions = [props.property(key).expressionString()
                       for layer in plain.renderer().symbol().symbolLayers()
                       for props in [layer.dataDefinedProperties()] for key in props.propertyKeys()]
        assert 'coalesce("heading", 0)' in expressions
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_a_flood_extent_goes_below_the_points(project_with_posts):
    """A polygon output (the inundation's flood extent) would cover the posts drawn above it."""
    from qgis.core import QgsVectorLayer

    from mist_qgis.qgis_ops.layers import place_output_layer

    project, posts, _ = project_with_posts
    extent = QgsVectorLayer("Polygon?crs=EPSG:4326", "Flood extent", "memory")
    lines = QgsVectorLayer("LineString?crs=EPSG:4326", "Photo geolocation (old -> new)", "memory")
    for layer, step in ((extent, "inundation"), (lines, "geolocate")):
        project.addMapLayer(layer)
        place_output_layer(layer, step, "run-1", project)
    assert _tree_names(project) == [lines.name(), posts.name(), extent.name()]
