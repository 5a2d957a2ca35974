"""A posts-only collection (no photos at all) screened end to end: CLI import and screen-text,
text heads trained and run through Processing, the posts layer's category fields in QGIS."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import processing
import pytest
from qgis.core import (
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsFeatureRequest,
    QgsProcessingException,
    QgsRenderContext,
    QgsVectorLayer,
)

from mist_qgis.core.store import open_store
from mist_qgis.core.store import text_sql as sql
from mist_qgis.core.text.evaluate import read_labelled
from tests.conftest import DATA
from tests.helpers.cli import run_cli as _cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def text_only_store(tmp_path):
    posts = read_labelled(DATA / "text" / "posts.jsonl")[:200]
    table = tmp_path / "posts.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "latitude", "longitude", "text"])
        for i, p in enumerate(posts):
            w.writerow([f"t{i}", 30.5 + i * 1e-3, 114.3, p.text])
        w.writerow(["empty", 30.6, 114.3, "https://t.co/onlyalink"])
    store = tmp_path / "text.gpkg"
    out = _cli("import", str(table), "--store", str(store))
    assert out.returncode == 0, out.stderr
    return store, posts


def test_posts_only_collection_end_to_end(text_only_store, tmp_path):
    store_path, posts = text_only_store
    out = _cli("screen-text", "--store", str(store_path))
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)["counts"]
    assert counts["posts"] == 201 and counts["no_text"] == 1 and counts["text_only"] == 200
    assert counts["categories"]["flood"] > 50
    with open_store(store_path) as store:
        assert store.count("media") == 0
        fid_of = {r[0]: r[1] for r in store.query("SELECT post_id, fid FROM posts")}
        with store.batch() as conn:
            for i, p in enumerate(posts):
                sql.set_analyst_categories(conn, fid_of[f"t{i}"], list(p.categories), "ana")
    heads = tmp_path / "heads"
    res = processing.run("mist:traintexthead",
                         {"STORE": str(store_path), "FEATURES": "char-ngram", "OUTPUT": str(heads)})
    metrics = json.loads(res["METRICS"])
    assert set(metrics["per_category"]) >= {"flood", "urgent_help", "misinformation"}
    assert all("threshold" in m for m in metrics["per_category"].values())
    with open_store(store_path) as store, store.batch() as conn:  # new posts arrive after training
        conn.execute("DELETE FROM post_categories WHERE source = 'analyst'")
        conn.execute("UPDATE posts SET text_category_source = NULL")
    res = processing.run("mist:screentext", {"STORE": str(store_path), "FEATURES": "char-ngram", "HEADS": str(heads)})
    assert json.loads(res["COUNTS"])["screened"] == 200
    out = _cli("next-posts", "--store", str(store_path), "--heads", str(heads), "-n", "5")
    assert out.returncode == 0, out.stderr
    suggestions = json.loads(out.stdout)["suggestions"]
    assert len(suggestions) == 5 and {s["reason"] for s in suggestions} <= {"uncertain", "random"}

    layer = QgsVectorLayer(f"{store_path}|layername=posts", "posts", "ogr")
    assert layer.isValid()
    names = layer.fields().names()
    assert {"text_categories", "text_category_source", "text_confidence"} <= set(names)
    flood = list(layer.getFeatures(QgsFeatureRequest().setFilterExpression(
        "array_contains(string_to_array(\"text_categories\"), 'flood')")))
    assert len(flood) > 50 and all(f["text_category_source"].startswith("head") for f in flood)
    no_text = list(layer.getFeatures(QgsFeatureRequest().setFilterExpression("\"text_category_source\" = 'no text'")))
    assert [f["post_id"] for f in no_text] == ["empty"]


def test_posts_layer_styled_filtered_and_map_tip_by_category(text_only_store):
    from mist_qgis.qgis_ops.layers import category_filter, posts_layer, style_posts_by_category

    store_path, _ = text_only_store
    with open_store(store_path) as store:
        from mist_qgis.core.text.screen import screen_texts

        screen_texts(store)
        fid = store.scalar("SELECT fid FROM posts WHERE post_id = 't0'")
        with store.batch() as conn:  # an analyst's categories, one of them hostile-looking text
            sql.set_analyst_categories(conn, fid, ["urgent_help", "flood"], "ana")
            conn.execute("UPDATE posts SET text_categories = 'urgent_help,<b>x</b>' WHERE fid = ?", (fid,))
    layer = posts_layer(store_path)
    style_posts_by_category(layer)
    renderer = layer.renderer()
    assert renderer.type() == "categorizedSymbol"
    values = [c.value() for c in renderer.categories()]
    assert values[0] == "urgent_help" and "no text" in values and "flood" in values
    context = QgsRenderContext()
    context.setExpressionContext(QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer)))
    renderer.startRender(context, layer.fields())
    drawn = {}
    for f in layer.getFeatures():
        context.expressionContext().setFeature(f)
        symbol = renderer.symbolForFeature(f, context)
        drawn[f["post_id"]] = symbol.color().name() if symbol else None
    renderer.stopRender(context)
    assert drawn["t0"] == "#d7191c" and drawn["empty"] == "#ffffff"  # urgent help first; no text apart
    urgent = {f["post_id"] for f in layer.getFeatures(QgsFeatureRequest().setFilterExpression(
        category_filter("urgent_help")))}
    assert "t0" in urgent and "empty" not in urgent
    feature = next(layer.getFeatures(QgsFeatureRequest().setFilterExpression("\"post_id\" = 't0'")))
    ctx = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    ctx.setFeature(feature)
    html = QgsExpression.replaceExpressionText(layer.mapTipTemplate(), ctx)
    assert "urgent_help, &lt;b&gt;x&lt;/b&gt; (analyst, 1.00)" in html and "<b>x</b>" not in html


def test_mistakes_are_clear(text_only_store, tmp_path):
    store_path, _ = text_only_store
    out = _cli("screen-text", "--store", str(store_path), "--features", "multilingual")  # only English MiniLM
    assert out.returncode == 2 and "multilingual sentence encoder" in out.stderr and "Traceback" not in out.stderr
    out = _cli("screen-text", "--store", str(store_path), "--features", "multilingual", "--encoder", "no/such.onnx")
    assert out.returncode == 2 and "does not exist" in out.stderr
    out = _cli("screen-text", "--store", str(store_path), "--heads", str(tmp_path / "nowhere"))
    assert out.returncode == 2 and "train-text-head" in out.stderr
    with pytest.raises(QgsProcessingException, match="labelled"):
        processing.run("mist:traintexthead",
                       {"STORE": str(store_path), "FEATURES": "char-ngram", "OUTPUT": str(tmp_path / "h")})


def test_team_edits_categories_from_a_table(text_only_store, tmp_path):
    store_path, _ = text_only_store
    listed = json.loads(_cli("text-categories", "--store", str(store_path)).stdout)["categories"]
    assert [c["name"] for c in listed][:2] == ["urgent_help", "relief_rescue"]
    table = tmp_path / "cats.csv"
    table.write_text("name,title,keywords\nroad_closed,road closed,封路;road closed\nflood,flood,flood;水浸\n"
                     "not_flood,not flood,\n", encoding="utf-8")
    out = _cli("text-categories", "--store", str(store_path), "--set", str(table))
    assert out.returncode == 0, out.stderr
    assert [c["name"] for c in json.loads(out.stdout)["categories"]] == ["road_closed", "flood", "not_flood"]
    with open_store(store_path) as store, store.batch() as conn:
        conn.execute("UPDATE posts SET text = 'Road closed by the river 封路' WHERE post_id = 't0'")
    assert _cli("screen-text", "--store", str(store_path)).returncode == 0
    with open_store(store_path) as store:
        cats = store.scalar("SELECT text_categories FROM posts WHERE post_id = 't0'")
    assert cats.split(",") == ["road_closed", "not_flood"]
    table.write_text("name,title,keywords\nbad name!,x,\n", encoding="utf-8")
    out = _cli("text-categories", "--store", str(store_path), "--set", str(table))
    assert out.returncode == 2 and "line 2" in out.stderr and "Traceback" not in out.stderr


def test_a_carded_multilingual_encoder_in_cli_processing_and_the_model_choice(text_only_store, tmp_path):
    """A user's sentence-transformers export, carded by models/text_encoder_card.py, screens posts
    from the CLI (by folder) and Processing (by id from an added model folder), and the model
    choice lists it with its languages."""
    from mist_qgis import model_folders
    from mist_qgis.gui.model_param import model_choices
    from tests.helpers.text_encoder import tiny_export

    store_path, _ = text_only_store
    source, _ = tiny_export(tmp_path / "export")
    folder = tmp_path / "encoders"
    script = REPO / "models" / "text_encoder_card.py"
    out = subprocess.run([sys.executable, str(script), str(source), "--id", "tiny-multilingual", "--languages", "en,zh",
                          "--out", str(folder)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    out = _cli("screen-text", "--store", str(store_path), "--features", "multilingual", "--encoder", str(folder))
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)["counts"]
    assert counts["features"] == "tiny-multilingual@1" and counts["screened"] == 200 and counts["no_text"] == 1

    model_folders.add_user_folder(folder)
    try:
        choices = model_choices(model_folders.registry(), ("text-encoder",))
        assert any(tag == "tiny-multilingual@1" and "en, zh" in label for label, tag, _ in choices)
        assert not any(tag.startswith("efficientnet") for _, tag, _ in choices)
        res = processing.run("mist:screentext", {"STORE": str(store_path), "FEATURES": "multilingual"})
        assert json.loads(res["COUNTS"])["features"] == "tiny-multilingual@1"  # the multilingual one, unnamed
        res = processing.run("mist:screentext", {"STORE": str(store_path), "FEATURES": "multilingual",
                                                 "ENCODER": "tiny-multilingual"})
        assert json.loads(res["COUNTS"])["screened"] == 200
    finally:
        model_folders.remove_user_folder(folder)
    with open_store(store_path) as store:
        fids, _ = sql.load_features(store, "tiny-multilingual@1")
        assert len(fids) == 200
