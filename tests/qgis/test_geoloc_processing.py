"""Geolocation through Processing, its task runner and the CLI, on real photos and a real store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from geoloc_helpers import ORIGIN, add_post_with_photos, offset, query_of, reference_collection  # noqa: E402

from mist_qgis.core.store import gpkg, open_store  # noqa: E402
from tests.helpers.cli import run_cli as _cli


def _gazetteer_layer():
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=name:string", "places", "memory")
    feature = QgsFeature(layer.fields())
    feature["name"] = "二七广场"
    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(*offset(300, 20))))
    layer.dataProvider().addFeatures([feature])
    return layer


def _truth_layer(points: dict[str, tuple[float, float]]):
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=post_id:string", "truth", "memory")
    feats = []
    for pid, (lon, lat) in points.items():
        f = QgsFeature(layer.fields())
        f["post_id"] = pid
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(lon, lat)))
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    return layer


def test_import_geolocate_evaluate_through_processing(tmp_path, store_path):
    import processing

    with open_store(store_path) as store:
        refs = reference_collection(tmp_path / "street", store, import_csv=False)
        add_post_with_photos(store, "geotagged", offset(120, -80), 400.0, [query_of(refs["rocket_0"][2], 4)])
        add_post_with_photos(store, "text_only", None, None, [query_of(refs["chelsea_1"][2], 6)])
        with store.batch() as conn:
            conn.execute("UPDATE posts SET text = '二七广场 附近 积水很深' WHERE post_id = 'text_only'")
    imported = processing.run("mist:importreferences", {
        "STORE": str(store_path), "INPUT": str(tmp_path / "street" / "refs.csv"), "FORMAT": "csv",
        "COLLECTION": "street"})
    assert imported["IMPORTED"] == 12 and imported["SKIPPED"] == 0
    result = processing.run("mist:geolocatephotos", {
        "STORE": str(store_path), "MATCHER": "sift", "TOP_K": 3, "RADIUS": 0, "GAZETTEER": _gazetteer_layer(),
        "NAME_FIELD": "name"})
    summary = json.loads(result["RESULT"])
    assert result["MOVED"] == 2 and summary["text_placed"] == 1 and summary["mode"] == "mist"
    assert "not applied" in summary["mask_note"]
    truth = {"geotagged": refs["rocket_0"][:2], "text_only": refs["chelsea_1"][:2]}
    evaluation = json.loads(processing.run("mist:evaluategeolocation", {
        "STORE": str(store_path), "TRUTH": _truth_layer(truth), "ID_FIELD": "post_id"})["RESULT"])
    assert evaluation["posts_with_truth"] == 2
    assert evaluation["after"]["mean_m"] < 0.01 and evaluation["after"]["within"]["25"] == 1.0
    assert evaluation["before"]["mean_m"] > 50  # geotag 144 m off, text place ~340 m off
    with open_store(store_path) as store:
        row = store.query("SELECT geo_source, geom, orig_lon FROM posts WHERE post_id = 'text_only'")[0]
        assert row["geo_source"] == "image_match"
        assert gpkg.point_xy(row["geom"]) == pytest.approx(refs["chelsea_1"][:2])
        assert row["orig_lon"] == pytest.approx(offset(300, 20)[0])  # the text-derived point


def _layer(store, table, name):
    from mist_qgis.qgis_ops.layers import store_layer_source

    source, provider = store_layer_source(store, table)
    return source, name, provider


def test_reference_style_and_layers_open_in_qgis(tmp_path, store_path):
    from qgis.core import QgsSymbolLayer, QgsVectorLayer

    from mist_qgis.paths import style_path

    with open_store(store_path) as store:
        reference_collection(tmp_path / "street", store)
    layer = QgsVectorLayer(*_layer(store_path, "references", "refs"))
    assert layer.isValid() and layer.featureCount() == 12
    _, ok = layer.loadNamedStyle(str(style_path("references.qml")))
    assert ok
    arrow = layer.renderer().symbol().symbolLayer(1)
    angle = arrow.dataDefinedProperties().property(QgsSymbolLayer.PropertyAngle)
    assert angle.isActive() and "heading" in angle.expressionString()
    lines = QgsVectorLayer(*_layer(store_path, "geolocations", "lines"))
    assert lines.isValid()


def test_task_runner_runs_and_cancels(tmp_path, store_path):
    """The dock's way: mist:geolocatephotos on QGIS's Processing task runner, cancelled, then run."""
    from tests.helpers.tasks import AlgorithmRun

    with open_store(store_path) as store:
        refs = reference_collection(tmp_path / "street", store)
        for i in range(2):
            add_post_with_photos(store, f"q{i}", ORIGIN, 500.0, [query_of(refs["coffee_0"][2], i)])
    parameters = {"STORE": str(store_path), "MATCHER": "sift", "TOP_K": 2}
    cancelled = AlgorithmRun("mist:geolocatephotos", parameters)
    cancelled.feedback.cancel()
    cancelled.start().wait()
    with open_store(store_path) as store:
        assert store.runs("geolocate")[-1].status == "cancelled"
    run = AlgorithmRun("mist:geolocatephotos", parameters).start().wait()
    assert run.ok and json.loads(run.results["RESULT"])["moved"] == 2 and max(run.progress) == pytest.approx(100.0)


def test_cli_import_references_and_geolocate(tmp_path, store_path):
    with open_store(store_path) as store:
        refs = reference_collection(tmp_path / "street", store, import_csv=False)
        add_post_with_photos(store, "q", offset(60, 0), 300.0, [query_of(refs["astronaut_1"][2], 9)])
    out = _cli("import-references", "--store", str(store_path), "--input", str(tmp_path / "street" / "refs.csv"),
               "--collection", "street")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["imported"] == 12
    out = _cli("geolocate", "--store", str(store_path), "--matcher", "sift", "--top-k", "3", "--radius", "800")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["moved"] == 1 and result["result"]["pairs"] == 3
    bad = _cli("geolocate", "--store", str(store_path), "--top-k", "0")
    assert bad.returncode == 2 and "top-k" in bad.stderr and "Traceback" not in bad.stderr


def test_the_geolocation_lines_arrive_styled_also_from_the_browser(tmp_path, store_path):
    """Geolocating loads the old -> new lines as arrows and saves that style in the store, so the
    table opened anywhere (the Browser: a plain layer on it) shows the arrows too."""
    import processing
    from qgis.core import QgsProject, QgsVectorLayer, QgsWkbTypes

    from mist_qgis.qgis_ops.styles import GEOLOCATION_COLOUR

    with open_store(store_path) as store:
        refs = reference_collection(tmp_path / "street", store)
        add_post_with_photos(store, "q", offset(60, 0), 300.0, [query_of(refs["astronaut_1"][2], 9)])
    project = QgsProject.instance()
    try:
        result = processing.runAndLoadResults("mist:geolocatephotos", {
            "STORE": str(store_path), "MATCHER": "sift", "TOP_K": 3, "RADIUS": 800})
        assert result["MOVED"] == 1
        loaded = [layer for layer in project.mapLayers().values()
                  if layer.geometryType() == QgsWkbTypes.GeometryType.LineGeometry]
        plain = QgsVectorLayer(*_layer(store_path, "geolocations", "from the Browser"))
        assert len(loaded) == 1 and plain.isValid() and plain.featureCount() == 1
        for layer in (loaded[0], plain):
            arrow = layer.renderer().symbol().symbolLayer(0)
            assert arrow.layerType() == "ArrowLine", layer.name()
            assert arrow.subSymbol().color().name() == GEOLOCATION_COLOUR
    finally:
        project.removeAllMapLayers()


def test_refit_confidence_through_processing(tmp_path, store_path):
    import processing
    from qgis.core import QgsProcessingException

    from mist_qgis.core.geoloc.calibration import record_placement
    from mist_qgis.core.store import calibration_sql
    from tests.unit.test_geoloc_calibration import placed_posts, synthetic_verdicts

    evidence, correct = synthetic_verdicts(80, seed=7)
    with open_store(store_path) as store:
        fids = placed_posts(store, tmp_path, evidence)
        for fid, ok in zip(fids[:12], correct[:12], strict=True):
            record_placement(store, fid, "correct" if ok else "wrong", "ana")
    with pytest.raises(QgsProcessingException, match="18 more verdicts"):
        processing.run("mist:refitgeolocconfidence", {"STORE": str(store_path), "MATCHER": "disk-lightglue"})
    with open_store(store_path) as store:
        for fid, ok in zip(fids[12:], correct[12:], strict=True):
            record_placement(store, fid, "correct" if ok else "wrong", "ana")
    result = processing.run("mist:refitgeolocconfidence", {"STORE": str(store_path), "MATCHER": "disk-lightglue"})
    assert result["VERSION"] == 1 and result["ACCEPTED"] == 1
    assert result["ECE_AFTER"] < result["ECE_BEFORE"]
    with open_store(store_path) as store:
        assert calibration_sql.confidence_models(store, "disk-lightglue")[0]["ece_after"] == \
            pytest.approx(result["ECE_AFTER"])
