"""What a table does not say about itself: projected coordinates read in the CRS the user names,
times without a zone read in the zone the user names (and said so once per file), and a table's
own id and text columns found under the names exports use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mist_qgis.core.posts.importer import import_posts
from mist_qgis.core.posts.issues import Note, Skip
from mist_qgis.core.posts.record import PostRecord
from mist_qgis.core.posts.stream import ImportOptions, iter_records

DATA = Path(__file__).resolve().parents[1] / "data" / "posts"
# where the rows of the two projected files really are (lon, lat in WGS 84)
ZHENGZHOU = {"zz1": (113.6654, 34.7579), "zz2": (113.6401, 34.7466)}
WUHAN = {"wh1": (114.3055, 30.5928), "wh2": (114.2716, 30.5787)}


def items(path: Path, **options) -> tuple[list[PostRecord], list[Skip], list[Note]]:
    out = list(iter_records([path], ImportOptions(**options)))
    return ([i for i in out if isinstance(i, PostRecord)], [i for i in out if isinstance(i, Skip)],
            [i for i in out if isinstance(i, Note)])


def test_projected_coordinates_without_a_crs_are_refused_with_the_option_named():
    posts, skips, _ = items(DATA / "projected_3857.csv")
    assert [p.post_id for p in posts] == ["zz3"]  # the one row in degrees
    assert [s.line for s in skips] == [2, 3]
    assert all("not degrees" in s.reason and "--crs" in s.reason for s in skips)


@pytest.mark.parametrize(("name", "crs", "truth"), [
    ("projected_3857.csv", "EPSG:3857", ZHENGZHOU), ("projected_utm50n.csv", "32650", WUHAN),
])
def test_projected_coordinates_are_read_in_the_crs_given(name, crs, truth):
    posts, skips, _ = items(DATA / name, crs=crs)
    got = {p.post_id: (p.lon, p.lat) for p in posts}
    assert set(got) == set(truth)
    for post_id, (lon, lat) in truth.items():
        assert got[post_id] == pytest.approx((lon, lat), abs=1e-6)  # well under a metre
    reasons = [s.reason for s in skips]
    if crs == "EPSG:3857":  # a row in degrees in a Web Mercator file is not moved near (0, 0)
        assert len(reasons) == 1 and "look like degrees" in reasons[0]
    else:
        assert len(reasons) == 1 and "outside EPSG:32650" in reasons[0]  # a far too large easting


def test_wkt_in_the_crs_given_and_an_srid_that_matches_it(tmp_path):
    table = tmp_path / "wkt.csv"
    table.write_text("id\ttext\twkt\n"
                     "a\tplain\tPOINT(240166.374 3388402.710)\n"
                     "b\tsame srid\tSRID=32650;POINT(240166.374 3388402.710)\n"
                     "c\tother srid\tSRID=3857;POINT(12650358 4129498)\n", encoding="utf-8")
    posts, skips, _ = items(table, crs="EPSG:32650")
    assert {p.post_id: (round(p.lon, 4), round(p.lat, 4)) for p in posts} == {
        "a": (114.29, 30.6), "b": (114.29, 30.6)}
    assert [s.line for s in skips] == [4] and "SRID 3857" in skips[0].reason
    _, skips, _ = items(table)
    assert "--crs EPSG:32650" in skips[1].reason


def test_an_unknown_crs_or_time_zone_is_one_error_before_reading():
    with pytest.raises(ValueError, match="unknown CRS 'EPSG:999999'"):
        ImportOptions(crs="EPSG:999999")
    for zone in ("Mars/Olympus", "../../etc/passwd"):
        with pytest.raises(ValueError, match="unknown time zone"):
            ImportOptions(naive_tz=zone)


def test_naive_times_are_said_once_per_file_and_read_in_the_zone_given():
    posts, _, notes = items(DATA / "projected_utm50n.csv", crs="EPSG:32650")
    naive = [n for n in notes if "without a time zone" in n.reason]
    assert [(n.line, "read as UTC" in n.reason, "--naive-tz" in n.reason) for n in naive] == [(2, True, True)]
    assert posts[0].timestamp == datetime(2020, 7, 6, 8, 15, tzinfo=UTC)
    posts, _, notes = items(DATA / "projected_utm50n.csv", crs="EPSG:32650", naive_tz="Asia/Shanghai")
    assert [n.line for n in notes if "read as Asia/Shanghai" in n.reason] == [2]
    assert posts[0].timestamp == datetime(2020, 7, 6, 0, 15, tzinfo=UTC)  # 08:15 in China is 00:15 UTC
    # a zone with summer time: the offset is the one of that date
    posts, _, _ = items(DATA / "projected_utm50n.csv", crs="EPSG:32650", naive_tz="Europe/Berlin")
    assert posts[0].timestamp == datetime(2020, 7, 6, 6, 15, tzinfo=UTC)


def test_times_with_a_zone_need_no_note(tmp_path):
    table = tmp_path / "aware.csv"
    table.write_text("id,text,lat,lon,time\n1,a,30.5,114.3,2021-07-20T10:00:00+08:00\n"
                     "2,b,30.5,114.3,1626746400\n", encoding="utf-8")
    posts, _, notes = items(table, naive_tz="Asia/Shanghai")
    assert len(posts) == 2 and not [n for n in notes if "time zone" in n.reason]
    assert posts[0].timestamp == datetime(2021, 7, 20, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("parallel", [False, True], ids=["here", "reader-process"])
def test_the_naive_time_note_is_counted_in_the_import_report(store, tmp_path, parallel):
    copy = tmp_path / "copy.csv"
    copy.write_bytes((DATA / "projected_utm50n.csv").read_bytes())
    summary = import_posts(store, [DATA / "projected_utm50n.csv", copy],
                           ImportOptions(crs="EPSG:32650", naive_tz="Asia/Shanghai", parallel=parallel))
    reasons = [i["reason"] for i in summary.issues if i["kind"] == "note"]
    assert sum("without a time zone" in r for r in reasons) == 2  # once per file, not per row
    assert (summary.imported, summary.duplicates, summary.skipped) == (2, 2, 2)
    assert summary.notes == len(reasons)
    stored = [r["reason"] for r in store.issues_for_run(summary.run_id)]
    assert sum("without a time zone" in r for r in stored) == 2


def test_a_crs_that_is_not_the_files_own_places_nothing():
    posts, skips, _ = items(DATA / "projected_3857.csv", crs="EPSG:32650")
    assert not posts and len(skips) == 3
    assert sum("far from where that CRS is used" in s.reason for s in skips) == 2


@pytest.mark.parametrize(("header", "post_id", "text"), [
    ("id,content,lat,lon", "id", "content"),
    ("post_id,message,lat,lon", "post_id", "message"),
    ("tweet_id,tweet,lat,lon", "tweet_id", "tweet"),
    ("Tweet ID,Full Text,Latitude,Longitude", "Tweet ID", "Full Text"),
    ("status_id,status_text,lat,lon", "status_id", "status_text"),
    ("mid,微博正文,lat,lon", "mid", "微博正文"),
    ("_id,body,lat,lon", "_id", "body"),
    ("PostID,Post Text,lat,lon", "PostID", "Post Text"),
    ("message_id,msg,lat,lon", "message_id", "msg"),
])
def test_a_tables_own_id_and_text_columns_are_recognised(tmp_path, header, post_id, text):
    table = tmp_path / "own.csv"
    table.write_text(f"{header}\nX-17,water up to the knees,30.5,114.3\n", encoding="utf-8")
    posts, skips, notes = items(table)
    assert not skips and len(posts) == 1
    assert posts[0].post_id == "X-17" and posts[0].text == "water up to the knees"
    assert f"post_id={post_id}" in notes[0].reason and f"text={text}" in notes[0].reason


def test_camera_times_without_an_offset_are_read_in_the_zone_given():
    """EXIF DateTimeOriginal without OffsetTimeOriginal or GPS time is the camera's local time."""
    posts, _, notes = items(DATA / "photos", naive_tz="Asia/Shanghai")
    naive = [n for n in notes if "without a time zone" in n.reason]
    assert len(naive) == 1 and "read as Asia/Shanghai (the first: no_gps.jpg)" in naive[0].reason
    times = {Path(p.media[0].path).name: p.timestamp for p in posts}
    assert times["no_gps.jpg"] == datetime(2021, 7, 20, 23, 0, tzinfo=UTC)  # 07:00 in China
    assert times["flooded_street.jpg"] == datetime(2021, 7, 20, 10, 5, tzinfo=UTC)  # has its own offset
