"""Exports: verified flood points through OGR, and the training-set folder with its manifest."""

from __future__ import annotations

import csv
import hashlib
import json

import pytest
from osgeo import ogr

from mist_qgis.core.verify.export import ExportError, export_points, export_training_set, format_for
from mist_qgis.core.verify.records import Verdict
from mist_qgis.core.verify.verdicts import write_verdict, write_verdicts
from tests.helpers.verify_store import build_store


@pytest.fixture
def judged(store):
    data = build_store(store, n=6, unlocated=(5,))
    p, m = data.post_fids, data.media_fids
    write_verdicts(store, [
        Verdict(p[0], "flood", "ana", m[0], 0.5, "knee deep at the bus stop"),
        Verdict(p[1], "flood", "ana", m[1], 1.5),
        Verdict(p[2], "not_flood", "ana", m[2]),
        Verdict(p[3], "unsure", "ana", m[3]),
        Verdict(p[4], "flood", "ana", m[4], 0.1),
        Verdict(p[5], "flood", "ana", m[5]),  # not placed: cannot be a point
    ])
    write_verdict(store, Verdict(p[4], "not_flood", "ben", m[4]))  # a conflict; the latest verdict counts
    return data


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv"])
def test_points_round_trip_through_ogr(store, judged, tmp_path, fmt):
    from mist_qgis.core.store.text_sql import set_analyst_categories

    with store.batch() as conn:
        set_analyst_categories(conn, store.scalar("SELECT fid FROM posts WHERE post_id = 'p000'"),
                               ["urgent_help", "flood"], "ana")
    out = tmp_path / f"points.{fmt}"
    result = export_points(store, out)
    assert (result.format, result.points, result.unlocated_skipped) == (fmt, 2, 1)
    ds = ogr.Open(str(out))
    layer = ds.GetLayer(0)
    features = {f.GetField("post_id"): f for f in layer}
    assert set(features) == {"p000", "p001"}
    f0 = features["p000"]
    assert f0.GetFieldAsDouble("water_depth_m") == 0.5 and f0.GetField("depth_class") == "knee"
    assert f0.GetField("note") == "knee deep at the bus stop" and f0.GetField("verified_by") == "ana"
    if fmt == "csv":
        assert float(f0.GetField("X")) == pytest.approx(113.60) and float(f0.GetField("Y")) == pytest.approx(34.70)
    else:
        point = f0.GetGeometryRef()
        assert (point.GetX(), point.GetY()) == pytest.approx((113.60, 34.70))
    assert features["p001"].GetFieldAsDouble("water_depth_m") == 1.5
    assert f0.GetField("text_categories") == "urgent_help,flood" and f0.GetField("text_category_source") == "analyst"
    assert "text" not in [layer.GetLayerDefn().GetFieldDefn(i).GetName()
                          for i in range(layer.GetLayerDefn().GetFieldCount())]


def test_points_other_verdicts_text_and_guards(store, judged, tmp_path):
    out = tmp_path / "all.geojson"
    result = export_points(store, out, verdicts=("not_flood", "unsure"), include_text=True)
    doc = json.loads(out.read_text())
    assert result.points == 3 and {f["properties"]["verified"] for f in doc["features"]} == {"not_flood", "unsure"}
    assert all(f["properties"]["text"].startswith("post ") for f in doc["features"])
    if store.path is not None:  # a GeoPackage store is a file an export could overwrite
        with pytest.raises(ExportError, match="overwrite the store"):
            export_points(store, store.path)
    with pytest.raises(ExportError, match="verdicts"):
        export_points(store, out, verdicts=("wet",))
    with pytest.raises(ExportError, match="cannot tell the format"):
        format_for("points.shp")
    assert format_for("x.dat", "GeoJSON") == "geojson"


def test_training_set(store, judged, tmp_path):
    # damage one cached photo: its copy must be refused
    damaged = store.query("SELECT cache_path FROM media WHERE fid = ?", (judged.media_fids[1],))[0][0]
    store.media_file(damaged).write_bytes(b"not the photo any more")
    folder = tmp_path / "train"
    result = export_training_set(store, folder)
    assert result.copied == {"flood": 2, "not_flood": 1}
    reasons = dict(result.skipped)
    assert "damaged cache" in reasons[judged.media_fids[1]]
    assert "disagree" in reasons[judged.media_fids[4]]
    rows = list(csv.DictReader(open(folder / "manifest.csv", encoding="utf-8")))
    assert sorted(r["label"] for r in rows) == ["flood", "flood", "not_flood"]
    for row in rows:
        payload = (folder / row["file"]).read_bytes()
        assert hashlib.sha256(payload).hexdigest() == row["sha256"] and row["file"].startswith(row["label"] + "/")
    assert sum(1 for _ in open(folder / "skipped.csv")) == 1 + len(result.skipped)
    again = export_training_set(store, folder, include_unsure=True, exclude_conflicts=False)  # refresh in place
    assert again.copied == {"flood": 2, "not_flood": 2, "unsure": 1}


def test_training_set_refuses_foreign_folders(store, judged, tmp_path):
    busy = tmp_path / "photos"
    busy.mkdir()
    (busy / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(ExportError, match="not empty"):
        export_training_set(store, busy)
    with pytest.raises(ExportError, match="cache"):
        export_training_set(store, store.media_dir / "train")


HOSTILE = ["=HYPERLINK(\"http://evil.test\",\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\tleading tab", "\rleading return"]


@pytest.fixture
def hostile(store):
    data = build_store(store, n=len(HOSTILE), texts=HOSTILE)
    with store.batch() as conn:
        for i, fid in enumerate(data.post_fids):
            conn.execute("UPDATE posts SET post_id = ? WHERE fid = ?", (HOSTILE[i][:12], fid))
    write_verdicts(store, [Verdict(p, "flood", HOSTILE[(i + 1) % len(HOSTILE)], m, 0.5, HOSTILE[i])
                           for i, (p, m) in enumerate(zip(data.post_fids, data.media_fids, strict=True))])
    return data


def test_csv_exports_neutralise_formulas_and_geopackage_keeps_them_exact(store, hostile, tmp_path):
    export_points(store, tmp_path / "points.csv", include_text=True)
    with open(tmp_path / "points.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(HOSTILE)
    for column in ("post_id", "text", "note", "verified_by"):
        cells = [row[column] for row in rows]
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), cells
        assert sum(c.startswith("'") for c in cells) >= 4, cells  # tab-led names are stripped on entry
    assert sorted(row["text"] for row in rows) == sorted("'" + h for h in HOSTILE)
    export_points(store, tmp_path / "points.gpkg", include_text=True)
    ds = ogr.Open(str(tmp_path / "points.gpkg"))
    texts = [f.GetField("text") for f in ds.GetLayer(0)]
    assert sorted(texts) == sorted(HOSTILE), texts
    ds = None
    export_points(store, tmp_path / "points.geojson", include_text=True)
    doc = json.loads((tmp_path / "points.geojson").read_text(encoding="utf-8"))
    assert sorted(f["properties"]["note"] for f in doc["features"]) == sorted(h.strip() for h in HOSTILE)


def test_training_manifest_neutralises_formulas(store, hostile, tmp_path):
    export_training_set(store, tmp_path / "train")
    with open(tmp_path / "train" / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(HOSTILE)
    for row in rows:
        assert row["post_id"].startswith("'"), row
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())
    assert sum(row["analyst"].startswith("'") for row in rows) >= 4
