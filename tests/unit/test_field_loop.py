"""The field loop in core: a package out of a real store (selection, photos, size budget,
manifest) and observations back (verdicts, references, flags, duplicates, hostile paths)."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mist_qgis.core.field import layout
from mist_qgis.core.field.package import FieldPackageError, Selection, build_package
from mist_qgis.core.field.returned import import_field
from mist_qgis.core.verify.records import Verdict
from mist_qgis.core.verify.verdicts import write_verdicts
from tests.helpers.field_kit import add_observation, phone_photo
from tests.helpers.verify_store import build_store


def _verified_store(store, n=8, photo_size=900):
    data = build_store(store, n=n, photo_size=photo_size)
    write_verdicts(store, [Verdict(p, "flood", "ana", m, 0.5)
                           for p, m in zip(data.post_fids, data.media_fids, strict=True)])
    return data


def _ogr_count(path: Path, layer: str) -> int:
    from osgeo import ogr

    ds = ogr.Open(str(path))
    return ds.GetLayerByName(layer).GetFeatureCount()


def test_package_selects_by_area_and_time_and_downsizes_photos(store, tmp_path):
    _verified_store(store)
    # posts are at lon 113.60 + 0.01 i, every 7 minutes from 08:00; keep i = 2..5 by area, 3..6 by time
    sel = Selection(extent=(113.615, 34.0, 113.655, 35.0), since=datetime(2021, 7, 20, 8, 20, tzinfo=UTC),
                    until=datetime(2021, 7, 20, 8, 45, tzinfo=UTC))
    result = build_package(store, tmp_path / "pkg", sel)
    folder = tmp_path / "pkg"
    assert result.points == 3 and result.not_selected == 5
    assert _ogr_count(folder / layout.GPKG, layout.VERIFIED_LAYER) == 3
    assert _ogr_count(folder / layout.GPKG, layout.FIELD_LAYER) == 0
    assert _ogr_count(folder / layout.GPKG, layout.ALERTS_LAYER) == 0
    photos = sorted((folder / layout.PHOTOS).glob("*.jpg"))
    assert len(photos) == result.photos == 3
    from mist_qgis.core.images.safe_decode import read_header

    for photo in photos:
        header = read_header(photo)
        assert max(header.width, header.height) <= layout.PHOTO_LONG_SIDE
        assert not header.exif.get_ifd(0x8825)  # no GPS of a stranger leaves the office
    manifest = json.loads((folder / layout.MANIFEST).read_text())
    assert manifest["points"] == 3 and manifest["format"] == layout.FORMAT
    import sqlite3

    with sqlite3.connect(folder / layout.GPKG) as conn:
        linked = [r[0] for r in conn.execute(f"SELECT photo FROM {layout.VERIFIED_LAYER}")]
    assert all(p and (folder / p).is_file() for p in linked)


def test_size_limit_leaves_photos_out_and_says_why(store, tmp_path):
    _verified_store(store)
    probe = build_package(store, tmp_path / "probe")
    photos = sum(p.stat().st_size for p in (tmp_path / "probe" / layout.PHOTOS).glob("*.jpg"))
    limit_mb = (probe.bytes - photos + 2.5 * photos / 8) / 1048576  # room for about two photos of eight
    result = build_package(store, tmp_path / "small", Selection(max_mb=limit_mb))
    assert 0 < result.photos < 8
    reasons = [x.reason for x in result.left_out]
    assert len(reasons) == 8 - result.photos and all(r.startswith("size limit") for r in reasons)
    assert result.bytes <= result.max_bytes + 200_000  # the manifest itself is written last
    with pytest.raises(FieldPackageError, match="layers alone"):
        build_package(store, tmp_path / "tiny", Selection(max_mb=0.01))


def test_zip_package_and_refusing_a_foreign_folder(store, tmp_path):
    _verified_store(store, n=3)
    out = build_package(store, tmp_path / "team.zip")
    assert Path(out.path).is_file()
    with zipfile.ZipFile(out.path) as zf:
        names = zf.namelist()
    assert layout.GPKG in names and layout.MANIFEST in names and "DCIM/" in names
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.docx").write_text("mine")
    with pytest.raises(FieldPackageError, match="not empty"):
        build_package(store, tmp_path / "busy")
    again = build_package(store, tmp_path / "again")
    assert build_package(store, tmp_path / "again").points == again.points  # an untouched package: rewritten
    add_observation(tmp_path / "again", 113.6, 34.7, None, "flood")
    with pytest.raises(FieldPackageError, match="import them first"):
        build_package(store, tmp_path / "again")


def _returned_package(store, tmp_path, name="pkg"):
    _verified_store(store, n=3)
    build_package(store, tmp_path / name)
    return tmp_path / name


def test_observations_come_back_as_verified_posts_and_references(store, tmp_path):
    pkg = _returned_package(store, tmp_path)
    phone_photo(pkg / "DCIM" / "a.jpg", 0, lat=34.75, lon=113.65, heading=95.5)
    phone_photo(pkg / "DCIM" / "b.jpg", 1, lat=34.751, lon=113.651, heading=180.0)
    ua = add_observation(pkg, 113.65, 34.75, "DCIM/a.jpg", "flood", "knee", None, "water at the school gate",
                         analyst="team-1")
    add_observation(pkg, 113.651, 34.751, "DCIM/b.jpg", "flood", None, 0.8, None)
    add_observation(pkg, 113.652, 34.752, None, "not_flood")
    add_observation(pkg, 113.653, 34.753, None, "flood", analyst="bell\x07")  # no verdict, kept and flagged
    add_observation(pkg, 113.654, 34.754, None, "flooded!")
    s = import_field(store, pkg, analyst="field-lead")
    assert (s.imported, s.verdicts, s.references, s.duplicates, s.flagged) == (5, 3, 2, 0, 2)
    rows = store.query("SELECT post_id, verified, verified_by, water_depth_m, direction, geo_source "
                       "FROM posts WHERE platform = 'field' ORDER BY fid")
    assert rows[0]["post_id"] == ua.strip("{}") and rows[0]["verified"] == "flood"
    assert rows[0]["verified_by"] == "team-1" and rows[0]["water_depth_m"] == 0.5 and rows[0]["direction"] == 95.5
    assert rows[1]["verified_by"] == "field-lead" and rows[1]["water_depth_m"] == 0.8
    assert rows[2]["verified"] == "not_flood"
    refs = store.query('SELECT collection, heading, captured_at, image_path FROM "references" ORDER BY fid')
    assert [r["heading"] for r in refs] == [95.5, 180.0]
    assert refs[0]["collection"] == "field" and refs[0]["captured_at"].startswith("2021-07-20T02:30")
    assert all(Path(r["image_path"]).is_file() for r in refs)
    media = store.query("SELECT m.status, m.sha256 FROM media m JOIN posts p ON p.fid = m.post_fid "
                        "WHERE p.platform = 'field'")
    assert [m["status"] for m in media] == ["ok", "ok"]
    again = import_field(store, pkg)
    assert (again.imported, again.duplicates) == (0, 5)


def test_doubtful_photos_are_flagged_and_never_references(store, tmp_path):
    folder = tmp_path / "phone"
    phone_photo(folder / "no_gps.jpg", 0)
    phone_photo(folder / "stale.jpg", 1, lat=34.75, lon=113.65, heading=10, gps_utc="2021:07:19 21:00:00")
    phone_photo(folder / "compass.jpg", 2, lat=34.75, lon=113.65, heading=400)
    phone_photo(folder / "naive_local.jpg", 3, lat=34.75, lon=113.65, heading=20, offset=None)
    phone_photo(folder / "good.jpg", 4, lat=34.75, lon=113.65, heading=30)
    s = import_field(store, folder)
    assert (s.imported, s.references, s.unlocated) == (5, 2, 1)
    reasons = [r["reason"] for r in store.issues_for_run(s.run_id)]
    assert any("without GPS" in r for r in reasons)
    assert any("GPS time is" in r and "stale" in r for r in reasons)
    assert any("impossible heading 400" in r for r in reasons)
    refs = {r[0] for r in store.query('SELECT source_file FROM "references"')}
    assert {Path(r).name for r in refs} == {"naive_local.jpg", "good.jpg"}


@pytest.mark.parametrize("bad", ["/etc/passwd", "../outside.jpg", "DCIM/link.jpg"])
def test_paths_leaving_the_package_are_refused_with_the_file_named(store, tmp_path, bad):
    pkg = _returned_package(store, tmp_path)
    outside = phone_photo(tmp_path / "outside.jpg", 0, lat=34.75, lon=113.65, heading=5)
    if bad == "DCIM/link.jpg":
        os.symlink(outside, pkg / "DCIM" / "link.jpg")
    add_observation(pkg, 113.65, 34.75, bad, "flood", "ankle")
    before = store.count("posts")
    with pytest.raises(FieldPackageError, match="field_observations:1: photo") as info:
        import_field(store, pkg)
    assert bad.split("/")[-1].split(".")[0] in str(info.value)
    assert store.count("posts") == before


def test_zip_members_leaving_the_folder_are_refused(store, tmp_path):
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("pkg/../../escape.txt", "x")
    with pytest.raises(FieldPackageError, match=r"escape\.txt"):
        import_field(store, bad)


def test_two_teams_with_overlapping_packages_merge_without_duplicates(store, tmp_path):
    pkg = _returned_package(store, tmp_path)
    team_b = tmp_path / "team_b"
    shutil.copytree(pkg, team_b)
    phone_photo(pkg / "DCIM" / "shared.jpg", 0, lat=34.75, lon=113.65, heading=90)
    shutil.copy(pkg / "DCIM" / "shared.jpg", team_b / "DCIM" / "shared.jpg")
    shared = add_observation(pkg, 113.65, 34.75, "DCIM/shared.jpg", "flood", "waist")
    add_observation(team_b, 113.65, 34.75, "DCIM/shared.jpg", "flood", "waist", obs_uuid=shared)
    phone_photo(team_b / "DCIM" / "own.jpg", 1, lat=34.76, lon=113.66, heading=45)
    add_observation(team_b, 113.66, 34.76, "DCIM/own.jpg", "flood", "knee")
    # team B also photographed the same scene again and kept a copy under a new observation id
    add_observation(team_b, 113.65, 34.75, "DCIM/shared.jpg", "flood", "waist")
    first = import_field(store, pkg)
    second = import_field(store, team_b)
    assert (first.imported, second.imported, second.duplicates) == (1, 1, 2)
    assert store.count("posts", "platform = 'field'") == 2
    assert store.count('references') == 2


def test_a_returned_zip_is_imported_like_its_folder(store, tmp_path):
    pkg = _returned_package(store, tmp_path)
    phone_photo(pkg / "DCIM" / "z.jpg", 0, lat=34.75, lon=113.65, heading=270.0)
    add_observation(pkg, 113.65, 34.75, "DCIM/z.jpg", "unsure", note="hard to tell from here")
    returned = tmp_path / "returned.zip"
    with zipfile.ZipFile(returned, "w") as zf:  # the team's own zip, with the package in a folder
        for path in sorted(pkg.rglob("*")):
            zf.write(path, "mist/" + path.relative_to(pkg).as_posix())
    s = import_field(store, returned)
    assert (s.imported, s.verdicts, s.references) == (1, 1, 1)
    row = store.query("SELECT verified, text FROM posts WHERE platform = 'field'")[0]
    assert (row["verified"], row["text"]) == ("unsure", "hard to tell from here")
    ref = store.query('SELECT image_path FROM "references"')[0]
    assert Path(ref["image_path"]).is_file() and store.media_dir.resolve() in Path(ref["image_path"]).parents


def test_alerts_of_the_store_go_out_with_their_fields(store, tmp_path):
    from mist_qgis.core.store import live_sql

    _verified_store(store, n=2)
    post = store.scalar("SELECT min(fid) FROM posts")
    with store.batch() as conn:  # an alert as the live monitor raises it
        live_sql.add_alert(conn, post, "photo:1", "score >= 0.8", 0.93, "flood", "Underpass flooded", None)
    lon, lat = store.query("SELECT ST_MinX(geom), ST_MinY(geom) FROM posts WHERE fid = ?", (post,))[0]
    result = build_package(store, tmp_path / "pkg")
    from osgeo import ogr

    ds = ogr.Open(str(tmp_path / "pkg" / layout.GPKG))  # kept: the layer lives in the dataset
    layer = ds.GetLayerByName(layout.ALERTS_LAYER)
    feature = layer.GetNextFeature()
    assert layer.GetFeatureCount() == 1 and feature.GetField("message") == "Underpass flooded"
    assert feature.GetField("label") == "flood" and feature.GetField("score") == pytest.approx(0.93)
    point = feature.GetGeometryRef()
    assert point.GetX() == pytest.approx(lon) and point.GetY() == pytest.approx(lat)
    manifest = json.loads((tmp_path / "pkg" / layout.MANIFEST).read_text())
    assert manifest["alerts"] == 1 and result.points == 2
