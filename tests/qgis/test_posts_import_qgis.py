"""Importing posts inside QGIS: the CLI end to end, the Processing algorithm, and the posts layer
(style by screening state, map tip, photo widget, temporal properties). The dock that runs the
algorithm is tested in tests/gui/test_posts_dock.py."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from qgis.core import (
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsProject,
    QgsRenderContext,
    QgsVectorLayerTemporalProperties,
)

from tests.helpers.cli import run_cli

DATA = Path(__file__).resolve().parents[1] / "data" / "posts"
REPO = Path(__file__).resolve().parents[2]


def _cli(*args):
    return run_cli(*args, cwd=REPO)


def test_cli_import_prints_one_json_summary_and_reimport_is_harmless(tmp_path):
    store = str(tmp_path / "cli.gpkg")
    out = _cli("import", str(DATA / "twitter_v1.jsonl"), str(DATA / "generic.csv"), str(DATA / "photos"),
               "--store", store, "--map", "author=Reporter")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    s = result["summary"]
    assert s["status"] == "done" and result["records_read"] == s["records_read"]
    assert s["imported"] + s["duplicates"] + s["unlocated"] + s["skipped"] == s["records_read"]
    assert {Path(f["path"]).name: f["format"] for f in s["files"]} == {
        "twitter_v1.jsonl": "twitter_v1", "generic.csv": "csv", "photos": "photos"}
    assert result["posts"].endswith("cli.gpkg|layername=posts")
    authors = {r[0] for r in sqlite3.connect(store).execute("SELECT author_hash FROM posts WHERE platform='csv'")}
    assert authors and not authors & {"ann", "cy", "dee"}  # pseudonymised
    again = json.loads(_cli("import", str(DATA / "twitter_v1.jsonl"), "--store", store).stdout)
    # the Latin-1 line is decoded on its own (with a note) and imported, not skipped
    assert again["imported"] == 0 and again["duplicates"] == 8 and again["skipped"] == 9


def test_cli_keep_authors_format_and_one_line_errors(tmp_path):
    store = str(tmp_path / "cli.gpkg")
    out = _cli("import", str(DATA / "mixed_v1_v2.jsonl"), "--store", store, "--format", "twitter_v2", "--keep-authors")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["skipped"] == 2
    names = {r[0] for r in sqlite3.connect(store).execute("SELECT author_hash FROM posts")}
    assert names == {"frank", "9"}
    for args, says in (
        ([str(DATA / "not_posts.json")], "not tweets"),
        ([str(DATA / "binary.jsonl")], "binary"),
        ([str(tmp_path / "missing.jsonl")], "does not exist"),
        ([str(DATA / "generic.csv"), "--map", "colour=Message"], "unknown field"),
    ):
        bad = _cli("import", *args, "--store", store)
        assert bad.returncode == 2, bad.stdout
        assert bad.stderr.startswith("mist: error:") and says in bad.stderr
        assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_processing_algorithm_returns_the_summary(tmp_path):
    import processing

    store = str(tmp_path / "alg.gpkg")
    result = processing.run("mist:importposts", {
        "INPUTS": [str(DATA / "crisismmd.tsv"), str(DATA / "features.geojson")], "STORE": store,
        "FORMAT": "auto", "MEDIA_ROOT": str(DATA), "KEEP_AUTHORS": False, "MAPPING": ""})
    summary = json.loads(result["SUMMARY"])
    assert result["IMPORTED"] == 3 and result["UNLOCATED"] == 3 and result["SKIPPED"] == 3
    assert summary["records_read"] == result["RECORDS_READ"] == 9
    assert result["POSTS"] == f"{Path(store).resolve()}|layername=posts"


def _store_with_states(tmp_path) -> str:
    from mist_qgis.core.posts.importer import import_posts
    from mist_qgis.core.store import open_store

    path = tmp_path / "styled.gpkg"
    with open_store(path) as store:
        import_posts(store, [DATA / "generic.csv", DATA / "photos"], )
        with store.batch() as conn:
            conn.execute("UPDATE posts SET verified = 'flood' WHERE post_id = 'a1'")
            conn.execute("UPDATE posts SET cls_label = 'flood', cls_score = 0.91 WHERE post_id = 'a2'")
            conn.execute("UPDATE posts SET cls_label = 'flood', cls_score = 0.8, verified = 'not_flood' "
                         "WHERE post_id = 'a8'")
            conn.execute("UPDATE posts SET text = '<script>alert(1)</script> & \"x\"', "
                         "media_url = 'https://pbs.example.org/m.jpg' WHERE post_id = 'a5'")
    return str(path)


def _feature(layer, post_id):
    return next(f for f in layer.getFeatures() if f["post_id"] == post_id)


def test_posts_layer_style_colours_by_screening_state(tmp_path):
    from mist_qgis.qgis_ops.layers import posts_layer

    layer = posts_layer(_store_with_states(tmp_path))
    renderer = layer.renderer()
    assert renderer.type() == "RuleRenderer"
    labels = [r.label() for r in renderer.rootRule().children()]
    assert labels == ["Verified flood", "Predicted flood", "Other posts"]
    context = QgsRenderContext()
    context.expressionContext().appendScopes(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    renderer.startRender(context, layer.fields())
    try:
        def rule_of(post_id):
            feature = _feature(layer, post_id)
            context.expressionContext().setFeature(feature)
            labels = [renderer.rootRule().findRuleByKey(k).label()
                      for k in renderer.legendKeysForFeature(feature, context)]
            return [label for label in labels if label]  # the root rule has no label

        assert rule_of("a1") == ["Verified flood"]
        assert rule_of("a2") == ["Predicted flood"]
        assert rule_of("a8") == ["Other posts"]  # the analyst said no: the prediction no longer counts
        assert rule_of("a5") == ["Other posts"]
        colours = {s.color().name() for s in renderer.symbols(context)}
        assert len(colours) == 3
    finally:
        renderer.stopRender(context)


def test_posts_layer_is_time_enabled_and_shows_photos(tmp_path):
    from mist_qgis.qgis_ops.layers import posts_layer

    layer = posts_layer(_store_with_states(tmp_path))
    temporal = layer.temporalProperties()
    assert temporal.isActive()
    assert temporal.mode() == QgsVectorLayerTemporalProperties.ModeFeatureDateTimeInstantFromField
    assert temporal.startField() == "timestamp"
    assert layer.fields().field("timestamp").type() == 16  # QVariant.DateTime
    setup = layer.editorWidgetSetup(layer.fields().indexFromName("photo"))
    assert setup.type() == "ExternalResource" and setup.config()["DocumentViewer"] == 1


def _maptip(layer, feature) -> str:
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    context.setFeature(feature)
    return QgsExpression.replaceExpressionText(layer.mapTipTemplate(), context)


def test_map_tip_shows_thumbnail_and_escaped_text(tmp_path):
    """Before the fetch step there is no cached copy, so no image (never the original path or a
    URL); after it, the tip shows the cached copy's thumbnail."""
    from mist_qgis.core.images.pipeline import FetchOptions, run_fetch_media
    from mist_qgis.core.store import open_store
    from mist_qgis.qgis_ops.layers import posts_layer

    path = _store_with_states(tmp_path)
    layer = posts_layer(path)
    photo = next(f for f in layer.getFeatures() if f["filename"] == "flooded_street.jpg" and f["geo_source"] == "exif")
    assert "<img" not in _maptip(layer, photo) and "location: exif" in _maptip(layer, photo)
    with open_store(path) as store:
        run_fetch_media(store, FetchOptions(offline=True, media_dir=DATA / "photos"))
    layer = posts_layer(path)
    photo = next(f for f in layer.getFeatures() if f["filename"] == "flooded_street.jpg" and f["geo_source"] == "exif")
    cached = photo["photo"]
    assert ".media/" in cached
    thumb = re.sub(r"/[0-9a-f]{2}/([0-9a-f]{64})\.[a-z0-9]+$", r"/thumbs/\1.jpg", cached)
    assert Path(thumb).is_file() and f'<img src="file://{thumb}"' in _maptip(layer, photo)
    hostile = _maptip(layer, _feature(layer, "a5"))
    assert "<script>" not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in hostile
    assert "pbs.example.org" not in hostile
    predicted = _maptip(layer, _feature(layer, "a2"))
    assert "predicted: flood (0.91)" in predicted and "2021-07-20 19:00 UTC" in predicted


def test_map_tip_leaves_out_photos_qt_cannot_show(tmp_path):
    """An iPhone's HEIC (or an AVIF) would be a broken image in the tip; the text still shows."""
    from mist_qgis.core.posts.importer import import_posts
    from mist_qgis.core.store import open_store
    from mist_qgis.qgis_ops.layers import posts_layer
    from tests.media_fixtures import phone_photo, photo

    folder = tmp_path / "DCIM"
    folder.mkdir()
    (folder / "IMG_0001.HEIC").write_bytes(phone_photo(photo("astronaut", 64), "HEIF", lat=34.75, lon=113.62))
    store_path = tmp_path / "phone.gpkg"
    with open_store(store_path) as store:
        import_posts(store, [folder])
    layer = posts_layer(str(store_path))
    feature = next(iter(layer.getFeatures()))
    assert feature["photo"].endswith("IMG_0001.HEIC")
    html = _maptip(layer, feature)
    assert "<img" not in html and "location: exif" in html


def test_algorithm_output_loads_styled_in_a_project(tmp_path):
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    from mist_qgis.processing_provider.import_algorithm import ImportPostsAlgorithm

    project = QgsProject()
    context = QgsProcessingContext()
    context.setProject(project)
    alg = ImportPostsAlgorithm()
    alg.initAlgorithm()
    params = {"INPUTS": [str(DATA / "features.geojsonl")], "STORE": str(tmp_path / "p.gpkg"), "FORMAT": "auto"}
    results, ok = alg.run(params, context, QgsProcessingFeedback())
    assert ok and results["IMPORTED"] == 3
    details = context.layersToLoadOnCompletion()
    assert list(details) == [results["POSTS"]]
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(results["POSTS"], "posts", "ogr")
    details[results["POSTS"]].postProcessor().postProcessLayer(layer, context, QgsProcessingFeedback())
    assert layer.renderer().type() == "RuleRenderer" and layer.temporalProperties().isActive()


def test_processing_and_cli_read_projected_coordinates_in_the_crs_given(tmp_path):
    import processing
    from qgis.core import QgsCoordinateReferenceSystem, QgsVectorLayer

    store = str(tmp_path / "crs.gpkg")
    result = processing.run("mist:importposts", {
        "INPUTS": [str(DATA / "projected_3857.csv")], "STORE": store, "FORMAT": "auto",
        "CRS": QgsCoordinateReferenceSystem("EPSG:3857"), "NAIVE_TZ": "Asia/Shanghai"})
    assert (result["IMPORTED"], result["SKIPPED"]) == (2, 1)
    summary = json.loads(result["SUMMARY"])
    assert any("read as Asia/Shanghai" in i["reason"] for i in summary["issues"])
    point = _feature(QgsVectorLayer(result["POSTS"], "posts", "ogr"), "zz1").geometry().asPoint()
    assert (point.x(), point.y()) == pytest.approx((113.6654, 34.7579), abs=1e-6)
    cli_store = str(tmp_path / "cli.gpkg")
    out = _cli("import", str(DATA / "projected_utm50n.csv"), "--store", cli_store, "--crs", "32650",
               "--naive-tz", "Asia/Shanghai")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["imported"] == 2
    for flag, value, says in (("--crs", "EPSG:999999", "unknown CRS"),
                              ("--naive-tz", "Asia/Atlantis", "unknown time zone")):
        bad = _cli("import", str(DATA / "projected_utm50n.csv"), "--store", cli_store, flag, value)
        assert bad.returncode == 2 and says in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    plain = json.loads(_cli("import", str(DATA / "projected_3857.csv"), "--store", str(tmp_path / "p.gpkg")).stdout)
    assert plain["skipped"] == 2 and "--crs" in plain["summary"]["issues"][1]["reason"]
