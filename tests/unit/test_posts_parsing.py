"""The small parsers every reader relies on: times, coordinates, column guesses, encodings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mist_qgis.core.posts.columns import guess_mapping, media_refs, parse_overrides, parse_wkt
from mist_qgis.core.posts.geo import bbox_centre, checked_point
from mist_qgis.core.posts.issues import SkipRecord
from mist_qgis.core.posts.textio import sniff
from mist_qgis.core.posts.timeparse import CHINA, parse_time, snowflake_time

T = datetime(2021, 7, 20, 10, 5, tzinfo=UTC)


@pytest.mark.parametrize("value", [
    "Tue Jul 20 10:05:00 +0000 2021", "Tue Jul 20 18:05:00 +0800 2021", "2021-07-20T10:05:00Z",
    "2021-07-20T10:05:00.000Z", "2021-07-20 18:05:00+08:00", "Tue, 20 Jul 2021 10:05:00 +0000",
    "2021:07:20 10:05:00", "2021年07月20日 10:05", "20/07/2021 10:05", "07/20/2021 10:05",
    1626775500, 1626775500000, "1626775500",
])
def test_times_in_the_forms_exports_use(value):
    assert parse_time(value) == T


def test_naive_times_take_the_format_zone_and_excel_serials_work():
    assert parse_time("2021-07-20 18:05", CHINA) == T
    assert parse_time(44397.75, CHINA) == T - timedelta(minutes=5)
    assert parse_time("", UTC) is None and parse_time(None) is None


@pytest.mark.parametrize(("value", "reason"), [
    ("05/07/2021", "ambiguous"), ("5分钟前", "unknown time format"), ("2021-02-30", "invalid date"),
    ("Tue Jul 20 10:05:00 +0000 1850", "implausible"), (True, "unknown time format"), (123, "unknown"),
])
def test_times_that_are_not_guessed(value, reason):
    with pytest.raises(SkipRecord, match=reason):
        parse_time(value)


def test_snowflake_ids_carry_their_time():
    assert snowflake_time("917791044158185473").date().isoformat() == "2017-10-10"
    assert snowflake_time("12345") is None and snowflake_time("abc") is None


@pytest.mark.parametrize(("lon", "lat", "reason"), [
    (34.7, 113.6, "look swapped"), (200, 10, "longitude 200 out of range"), (10, -95, "out of range"),
    (float("nan"), 1, "not a finite"), ("inf", 1, "not a finite"), ("1,5", 2, "not a number"),
    (True, 1, "not a number"), (None, 1, "not a number"),
])
def test_bad_coordinates_are_rejected_with_a_reason(lon, lat, reason):
    with pytest.raises(SkipRecord, match=reason):
        checked_point(lon, lat)


def test_place_boxes_become_centre_and_accuracy_even_across_the_antimeridian():
    lon, lat, acc = bbox_centre(179.0, -17.0, -179.0, -16.0)  # Fiji
    assert lon == pytest.approx(180.0) or lon == pytest.approx(-180.0)
    assert lat == -16.5 and 100_000 < acc < 130_000
    assert bbox_centre(10, 20, 10, 20) == (10, 20, 0.0)


def test_wkt_and_media_cells():
    assert parse_wkt("POINT Z (1 2 3)") == (1.0, 2.0, None, "gps")
    assert parse_wkt("SRID=4326;POINT(1 2)")[:2] == (1.0, 2.0)
    assert parse_wkt("MULTIPOINT EMPTY") is None
    refs = media_refs("https://a/1.jpg; img/2.jpg file:///etc/passwd javascript:alert(1)", as_path=False)
    assert [(r.url, r.path) for r in refs] == [("https://a/1.jpg", None), (None, "img/2.jpg")]


def test_column_guesses_and_overrides():
    m = guess_mapping(["\ufeffID", "Latitude", "Longitude", "Created At", "Tweet Text", "image_url", "x"])
    assert m.fields["post_id"] == "ID" and m.fields["lat"] == "Latitude" and m.fields["lon"] == "Longitude"
    assert m.fields["time"] == "Created At" and m.fields["text"] == "Tweet Text"
    assert m.fields["media_url"] == "image_url"
    m = guess_mapping(["X_WGS84", "Y_WGS84", "content"], {"text": "content", "lon": "x_wgs84"})
    assert m.fields["lon"] == "X_WGS84" and m.fields["lat"] == "Y_WGS84"
    with pytest.raises(ValueError, match="unknown field"):
        guess_mapping(["a"], {"colour": "a"})
    assert parse_overrides(["lat=Y", " lon = X "]) == {"lat": "Y", "lon": "X"}
    with pytest.raises(ValueError, match="field=column"):
        parse_overrides(["lat"])


def test_encodings_are_sniffed(tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("id,text\n1,郑州暴雨积水严重\n".encode("gbk"))
    assert sniff(gbk).encoding == "gb18030"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,text\n1,café inondé\n".encode("cp1252"))
    assert sniff(latin).encoding == "cp1252"
    utf16 = tmp_path / "excel.txt"
    utf16.write_bytes("id\ttext\n1\t水\n".encode("utf-16"))
    info = sniff(utf16)
    assert info.encoding == "utf-16" and info.binary is None and info.text.startswith("id\ttext")
    mostly_utf8 = tmp_path / "mixed.jsonl"
    mostly_utf8.write_bytes(("{\"a\": \"水\"}\n" * 20).encode() + "{\"a\": \"é\"}\n".encode("latin-1"))
    assert sniff(mostly_utf8).encoding == "utf-8"


def test_utf16_tables_from_excel_import(tmp_path):
    from mist_qgis.core.posts.record import PostRecord
    from mist_qgis.core.posts.stream import iter_records

    path = tmp_path / "excel_unicode.txt"
    path.write_bytes("id\tlat\tlon\ttext\n1\t34.7\t113.6\t水\n".encode("utf-16"))
    posts = [p for p in iter_records([path]) if isinstance(p, PostRecord)]
    assert [(p.post_id, p.lat, p.text) for p in posts] == [("1", 34.7, "水")]


def test_aware_times_keep_their_offset():
    assert parse_time("2021-07-20T18:05:00+08:00").utcoffset() == timezone(timedelta(hours=8)).utcoffset(None)


@pytest.mark.parametrize("ts", [
    datetime(2021, 7, 20, 10, 5, tzinfo=UTC), datetime(2021, 7, 20, 18, 5, 1, 123456, tzinfo=CHINA),
    datetime(2021, 7, 20, 10, 5), datetime(1999, 12, 31, 19, 0, 0, 999999, tzinfo=timezone(timedelta(hours=-5))),
])
def test_timestamps_are_stored_as_utc_milliseconds(ts):
    from mist_qgis.core.posts.record import PostRecord

    expected = (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    assert PostRecord("1", "t", timestamp=ts).timestamp_iso() == expected[:-3] + "Z"
