"""Reference collections in every supported layout become a `references` point layer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mist_qgis.core.geoloc import references, synthetic
from mist_qgis.core.store import geoloc_sql
from mist_qgis.paths import style_path


def _jpeg(path: Path, seed: int = 0, exif=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = synthetic.make_view(synthetic.photo("coffee"), np.random.default_rng(seed), (160, 120)).image
    Image.fromarray(img).save(path, exif=exif) if exif is not None else Image.fromarray(img).save(path)
    return path


def test_csv_collection_with_aliases_bad_rows_and_escaping_paths(tmp_path, store):
    for name in ("a.jpg", "sub/b.jpg"):
        _jpeg(tmp_path / "imgs" / name)
    _jpeg(tmp_path / "outside.jpg")
    csv_path = tmp_path / "imgs" / "refs.csv"
    csv_path.write_text(
        "ID,Longitude,Latitude,Bearing,File\n"
        "r1,113.68,34.70,370,a.jpg\n"
        "r2,113.69,34.71,north,sub/b.jpg\n"
        "r3,200,34.7,10,a.jpg\n"
        "r4,113.6,34.7,10,../outside.jpg\n"
        "r5,113.6,34.7,10,missing.jpg\n"
        "r6,113.6,34.7,10,/etc/passwd\n", encoding="utf-8")
    summary = references.import_references(store, csv_path)
    assert (summary.imported, summary.skipped, summary.collection) == (2, 4, "refs")
    rows = {r.ref_uid: r for r in geoloc_sql.references(store)}
    assert rows["refs/r1"].heading == pytest.approx(10.0)  # 370 -> 10
    assert rows["refs/r2"].heading is None
    assert (rows["refs/r1"].lon, rows["refs/r1"].lat) == (113.68, 34.70)
    assert Path(rows["refs/r2"].image_path) == (tmp_path / "imgs" / "sub" / "b.jpg").resolve()
    reasons = [r["reason"] for r in store.issues_for_run(summary.run_id)]
    assert any("out of range" in r for r in reasons)
    assert sum("leaves the collection folder" in r for r in reasons) == 2
    assert any("not found" in r for r in reasons)
    assert any("not a number" in r for r in reasons)  # flagged, still imported
    run = store.runs("import_references")[-1]
    assert run.counts == {"imported": 2, "duplicates": 0, "skipped": 4, "flagged": 1}
    again = references.import_references(store, csv_path)  # re-import is harmless
    assert (again.imported, again.duplicates) == (0, 2)


def test_mist_smmd_success_csv_layout(tmp_path, store):
    base = tmp_path / "Street_View_Data"
    (base / "csv_files").mkdir(parents=True)
    for h in (0, 90, 180, 270):
        _jpeg(base / "downloadPic" / "7_PANO1" / f"7_PANO1_{h}.png", seed=h)
    _jpeg(base / "downloadPic" / "8_PANO2" / "8_PANO2_0.png")
    (base / "csv_files" / "success.csv").write_text(
        "id,x,y,wgsx,wgsy,pid,url\n"
        "7,12655000.1,4101000.2,113.685,34.6985,PANO1,http://x\n"
        "9,1,2,113.686,34.6986,PANO1,http://x\n"  # duplicate panorama
        "8,1,2,113.687,34.6987,PANO2,http://x\n"
        "10,1,2,113.688,34.6988,PANO3,http://x\n", encoding="utf-8")  # no images
    assert references.detect_format(base) == "success"
    summary = references.import_references(store, base)
    assert (summary.imported, summary.skipped) == (5, 2)
    rows = [r for r in geoloc_sql.references(store)]
    pano = [r for r in rows if r.location_id == "PANO1"]
    assert len(pano) == 4 and all(r.heading is None for r in pano)
    offsets = store.query('SELECT view_offset FROM "references" WHERE location_id = ? ORDER BY view_offset',
                          ("PANO1",))
    assert [o[0] for o in offsets] == [0.0, 90.0, 180.0, 270.0]
    note = store.scalar('SELECT position_note FROM "references" LIMIT 1')
    assert "sampled road point" in note
    assert all(r.accuracy_m == 50.0 for r in rows)


def test_geojson_and_geojson_seq(tmp_path, store):
    _jpeg(tmp_path / "p1.jpg")
    _jpeg(tmp_path / "p2.jpg", seed=1)
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-95.36, 29.76]},
         "properties": {"id": 11, "compass_angle": 271.5, "image": "p1.jpg", "captured_at": "2017-08-27"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
         "properties": {"image": "p2.jpg"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-95.37, 29.77]},
         "properties": {"thumb_url": "https://example.org/x.jpg"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-95.38, 29.78]},
         "properties": {"key": "k2", "heading": 45, "path": "p2.jpg"}},
    ]
    fc = tmp_path / "refs.geojson"
    fc.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    seq = tmp_path / "refs.geojsons"
    seq.write_text("".join("\x1e" + json.dumps(f) + "\n" for f in features) + "{broken\n")
    a = references.import_references(store, fc, collection="fc")
    b = references.import_references(store, seq, collection="seq")
    assert (a.imported, a.skipped) == (2, 2)
    assert (b.imported, b.skipped) == (2, 3)
    rows = {r.ref_uid: r for r in geoloc_sql.references(store)}
    assert rows["fc/11"].heading == pytest.approx(271.5) and rows["seq/k2"].heading == 45.0


def _gps_exif(lon: float, lat: float, heading: float | None):
    exif = Image.Exif()
    gps = {1: "N" if lat >= 0 else "S", 2: (abs(int(lat)), int(abs(lat) * 60 % 60), (abs(lat) * 3600) % 60),
           3: "E" if lon >= 0 else "W", 4: (abs(int(lon)), int(abs(lon) * 60 % 60), (abs(lon) * 3600) % 60)}
    if heading is not None:
        gps[16] = "T"
        gps[17] = heading
    exif[0x8825] = gps
    return exif


def test_geotagged_photos_folder(tmp_path, store):
    folder = tmp_path / "survey"
    _jpeg(folder / "a.jpg", exif=_gps_exif(113.6851, 34.6985, 87.5))
    _jpeg(folder / "b" / "c.jpg", seed=2, exif=_gps_exif(-95.3621, -29.7604, None))
    _jpeg(folder / "nogps.jpg", seed=3)
    (folder / "junk.jpg").write_bytes(b"not a jpeg")
    summary = references.import_references(store, folder)
    assert (summary.imported, summary.skipped) == (2, 2)
    rows = {r.ref_uid: r for r in geoloc_sql.references(store)}
    a = rows["survey/a"]
    assert a.lon == pytest.approx(113.6851, abs=1e-6) and a.lat == pytest.approx(34.6985, abs=1e-6)
    assert a.heading == pytest.approx(87.5)
    c = rows["survey/b/c"]
    assert c.lon == pytest.approx(-95.3621, abs=1e-6) and c.lat == pytest.approx(-29.7604, abs=1e-6)
    assert c.heading is None


def test_unknown_format_and_missing_path(tmp_path, store):
    (tmp_path / "x.dat").write_text("?")
    with pytest.raises(ValueError, match="choose one of"):
        references.import_references(store, tmp_path / "x.dat")
    with pytest.raises(FileNotFoundError):
        references.read_references(tmp_path / "nope.csv")
    assert store.runs("import_references")[-1].status == "failed"


def test_reference_style_draws_heading_arrows():
    text = style_path("references.qml").read_text()
    assert 'value="filled_arrowhead"' in text
    assert "coalesce(&quot;heading&quot;, 0)" in text  # arrow rotated by the heading
    assert "&quot;heading&quot; IS NOT NULL" in text  # and hidden when the heading is unknown
