"""Every reader on real fixture files (tests/data/posts), including the hostile ones."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mist_qgis.core.posts.detect import detect_format
from mist_qgis.core.posts.issues import FileSkip, NotAPostCollection, Note, Skip
from mist_qgis.core.posts.record import PostRecord
from mist_qgis.core.posts.stream import ImportOptions, iter_records

DATA = Path(__file__).resolve().parents[1] / "data" / "posts"


def read(name: str, **options) -> tuple[list[PostRecord], list[Skip], list]:
    items = list(iter_records([DATA / name], ImportOptions(**options)))
    posts = [i for i in items if isinstance(i, PostRecord)]
    skips = [i for i in items if isinstance(i, Skip)]
    return posts, skips, items


def by_id(posts: list[PostRecord]) -> dict[str, PostRecord]:
    return {p.post_id: p for p in posts}


@pytest.mark.parametrize(("name", "fmt"), [
    ("twitter_v1.jsonl", "twitter_v1"), ("twitter_v1_array.json", "twitter_v1"), ("bom_v1.jsonl", "twitter_v1"),
    ("multilingual_emoji.jsonl", "twitter_v1"), ("twitter_v2_response.json", "twitter_v2"),
    ("twitter_v2_stream.jsonl", "twitter_v2"), ("weibo_export.csv", "weibo"), ("weibo_gbk.csv", "weibo"),
    ("weibo_dataset.csv", "weibo"), ("smmd_coarse.tsv", "weibo"), ("crisismmd.tsv", "crisismmd"),
    ("generic.csv", "csv"), ("generic_wkt.tsv", "csv"), ("features.geojson", "geojson"),
    ("features.geojsonl", "geojson"), ("photos", "photos"), ("photos/flooded_street.jpg", "photos"),
])
def test_format_is_detected_from_content(name, fmt):
    assert detect_format(DATA / name) == fmt


@pytest.mark.parametrize(("name", "says"), [
    ("empty.jsonl", "empty (0 bytes)"), ("bom_only.csv", "holds no records"),
    ("three_bytes.json", "empty JSON array"), ("binary.jsonl", "binary"),
    ("not_posts.csv", "no location, text or photo"), ("not_posts.json", "not tweets"),
])
def test_files_that_are_not_post_collections_say_why(name, says):
    with pytest.raises(NotAPostCollection, match=re.escape(says)):
        detect_format(DATA / name)
    items = list(iter_records([DATA / name]))
    assert len(items) == 1 and isinstance(items[0], FileSkip) and says in items[0].reason


def test_twitter_v1_locations_media_reposts_and_every_bad_line():
    posts, skips, _ = read("twitter_v1.jsonl")
    p = by_id(posts)
    first = p["1417400000000000001"]
    assert (first.lon, first.lat, first.geo_source) == (113.65, 34.75, "gps")
    assert [m.url for m in first.media] == ["https://pbs.twimg.com/media/A1.jpg", "https://pbs.twimg.com/media/A2.jpg"]
    assert first.timestamp == datetime(2021, 7, 20, 10, 5, tzinfo=UTC)
    assert first.url == "https://twitter.com/i/web/status/1417400000000000001"  # no screen name in the URL
    legacy = p["1417400000000000002"]  # legacy `geo` is [lat, lon]
    assert (legacy.lon, legacy.lat, legacy.geo_source) == (113.6, 34.7, "gps")
    place = p["1417400000000000003"]
    assert place.geo_source == "place" and place.lon == pytest.approx(113.7) and place.lat == pytest.approx(34.75)
    assert 20_000 < place.geo_accuracy_m < 30_000  # centre-to-corner of a 0.4 x 0.3 degree box
    assert place.text.startswith("Subway line 5 flooded")  # extended_tweet.full_text wins
    assert p["1417400000000000004"].media[0].kind == "video_thumbnail" and not p["1417400000000000004"].located
    rt = p["1417400000000000005"]
    assert rt.is_repost and not rt.located and rt.text == "RT @bob: water everywhere, stay safe"
    assert rt.attributes["repost_of"] == "1417400000000000099"
    assert not p["1417400000000000013"].located  # (0, 0) is "no location", not the Gulf of Guinea
    reasons = {s.line: s.reason for s in skips}
    assert "malformed JSON" in reasons[6]
    assert "look swapped" in reasons[7] and "out of range" in reasons[8] and "not a finite number" in reasons[9]
    assert "unknown time format" in reasons[10] and "look swapped" in reasons[12]
    assert "not a tweet" in reasons[14] and "inside it when swapped" in reasons[15]
    assert "binary" in reasons[16]
    assert sorted(reasons) == [6, 7, 8, 9, 10, 12, 14, 15, 16]
    assert "1417400000000000018" in p  # the reader goes on after junk
    # a Latin-1 line in a UTF-8 file: decoded on its own, with a note, never dropped
    assert p["1417400000000000017"].text == "caf\u00e9 flooded"
    assert {x.source_line for x in posts} == {1, 2, 3, 4, 5, 13, 17, 18}


def test_twitter_v1_json_array_keeps_line_numbers():
    posts, skips, _ = read("twitter_v1_array.json")
    assert [p.post_id[-2:] for p in posts] == ["30", "31", "32"] and not skips
    assert [p.source_line for p in posts] == [2, 28, 54]


def test_bom_and_crlf_are_harmless():
    posts, skips, _ = read("bom_v1.jsonl")
    assert [p.post_id for p in posts] == ["1417400000000000040", "1417400000000000041"] and not skips


def test_emoji_heavy_multilingual_text_survives_byte_for_byte():
    posts, skips, _ = read("multilingual_emoji.jsonl")
    assert not skips and len(posts) == 5
    assert posts[0].text == "🌊🌊🌊 水漫金山 郑州地铁五号线 🚇😱🙏🏽"
    assert "👩‍👩‍👧‍👦" in posts[3].text and "🏳️‍🌈" in posts[4].text and "e\u0301" in posts[4].text
    assert posts[0].author == "用户0🌊"


def test_twitter_v2_response_resolves_includes():
    posts, skips, _ = read("twitter_v2_response.json")
    p = by_id(posts)
    gps = p["1417500000000000001"]
    assert (gps.lon, gps.lat, gps.geo_source, gps.author) == (113.66, 34.76, "gps", "carol")
    assert [(m.url, m.kind) for m in gps.media] == [
        ("https://pbs.twimg.com/media/B1.jpg", "photo"),
        ("https://pbs.twimg.com/ext_tw_video_thumb/B2.jpg", "video_thumbnail")]
    assert gps.attributes["place"] == "Zhengzhou, China"
    place = p["1417500000000000002"]
    assert place.geo_source == "place" and place.lon == pytest.approx(113.65) and place.geo_accuracy_m > 20_000
    assert p["1417500000000000003"].is_repost
    assert sorted(s.reason for s in skips) == [
        "latitude 113.66 out of range; latitude and longitude look swapped (34.76, 113.66)", "tweet has no valid id"]


def test_twitter_v2_stream_lines():
    posts, skips, _ = read("twitter_v2_stream.jsonl")
    assert len(posts) == 3 and not skips and {p.author for p in posts} == {"erin"}


def test_a_file_mixing_v1_and_v2_imports_both_unless_a_format_is_forced():
    posts, skips, _ = read("mixed_v1_v2.jsonl")
    assert len(posts) == 4 and not skips
    assert {p.platform for p in posts} == {"twitter"}
    forced, skipped, _ = read("mixed_v1_v2.jsonl", format="twitter_v1")
    assert len(forced) == 2 and [s.line for s in skipped] == [2, 4]
    assert all("not a Twitter v1.1 tweet" in s.reason for s in skipped)


def test_weibo_export_china_time_pictures_reposts_and_bad_rows():
    posts, skips, items = read("weibo_export.csv")
    p = by_id(posts)
    first = p["4662551234567890"]
    assert first.platform == "weibo" and first.timestamp == datetime(2021, 7, 20, 10, 5, tzinfo=UTC)  # 18:05 UTC+8
    assert len(first.media) == 2 and first.media[0].url.startswith("https://wx1.sinaimg.cn/")
    assert first.url == "https://m.weibo.cn/detail/4662551234567890" and first.attributes["region"] == "河南"
    assert p["4662551234567891"].is_repost and p["4662551234567891"].attributes["repost_of"] == "4662551234567890"
    assert {s.line: s.reason for s in skips} == {
        4: "unknown time format: '5分钟前'", 5: "row has 14 fields, the header has 13"}
    assert any(isinstance(i, Note) and "columns used" in i.reason for i in items)


def test_weibo_in_gbk_is_decoded_and_noted():
    posts, skips, items = read("weibo_gbk.csv")
    assert not skips and posts[0].text.startswith("郑州暴雨，地铁五号线被困")
    assert any(isinstance(i, Note) and "GB18030" in i.reason for i in items)


def test_mist_smmd_weibo_dataset_with_excel_serial_dates():
    posts, skips, _ = read("weibo_dataset.csv")
    assert posts[0].timestamp == datetime(2021, 7, 20, 10, 0, tzinfo=UTC)  # 44397.75 = 18:00 China time
    assert posts[1].timestamp == datetime(2021, 7, 20, 4, 30, tzinfo=UTC)  # rounded, not 04:29:59.999
    assert posts[0].attributes["region"] == "河南" and not posts[0].located
    assert [s.line for s in skips] == [4]


def test_mist_smmd_coarse_table_trailing_tab_and_confidence_buffer():
    posts, skips, _ = read("smmd_coarse.tsv")
    assert [p.post_id for p in posts] == [
        "4662551234567800@河南省郑州市金水区农业路", "4662551234567800@河南省郑州市金水区花园路",
        "4662551234567801@河南省郑州市中原区建设路"]
    assert all(p.geo_source == "geocoded" and p.attributes["mid"].isdigit() for p in posts)
    assert [p.geo_accuracy_m for p in posts] == [5000.0, 200.0, 300.0]
    assert (posts[0].lon, posts[0].lat) == (113.6712, 34.7801)
    assert posts[2].timestamp == datetime(2021, 7, 19, 16, 0, tzinfo=UTC)  # Excel serial 44397 = 2021-07-20, China
    assert len(skips) == 1 and "look swapped" in skips[0].reason


def test_crisismmd_groups_images_of_a_tweet_and_keeps_labels():
    posts, skips, _ = read("crisismmd.tsv")
    first = posts[0]
    assert first.post_id == "917791044158185473" and len(first.media) == 2 and not first.located
    assert first.media[0].path == "data_image/california_wildfires/10_10_2017/917791044158185473_0.jpg"
    assert [i["image_damage"] for i in first.attributes["images"] if "image_damage" in i] == ["severe_damage"]
    assert first.attributes["text_info"] == "informative"
    assert first.timestamp.date().isoformat() == "2017-10-10"  # from the snowflake id
    assert [s.line for s in skips] == [5]


def test_generic_csv_guesses_columns_and_reports_bad_rows():
    posts, skips, _ = read("generic.csv")
    assert [p.post_id for p in posts] == ["a1", "a2", "a5", "a8"]
    assert posts[0].attributes == {"Reporter": "ann", "Depth_cm": "40"}
    assert posts[0].media[0].path == "photos/flooded_street.jpg"
    assert posts[1].timestamp == datetime(2021, 7, 20, 19, 0, tzinfo=UTC)  # 20/07: day first is unambiguous
    assert not posts[2].located
    assert posts[3].timestamp == datetime(2021, 7, 20, 12, 0, tzinfo=UTC)  # epoch seconds
    reasons = {s.line: s.reason for s in skips}
    assert "only one of" in reasons[4] and "look swapped" in reasons[5]
    assert "ambiguous date" in reasons[7] and "not a number" in reasons[8]


def test_generic_csv_mapping_override():
    posts, _, _ = read("generic.csv", mapping={"author": "Reporter", "text": "Depth_cm"})
    assert posts[0].author == "ann" and posts[0].text == "40"
    with pytest.raises(ValueError, match="not in the header"):
        list(iter_records([DATA / "generic.csv"], ImportOptions(format="csv", mapping={"lat": "nope"})))


def test_wkt_points_polygons_and_foreign_srids():
    posts, skips, _ = read("generic_wkt.tsv")
    assert [(p.geo_source, p.located) for p in posts] == [("gps", True), ("place", True), ("none", False)]
    assert posts[1].geo_accuracy_m == pytest.approx(7197, rel=0.01)
    assert posts[0].post_id.startswith("sha1:") and posts[0].media[0].url == "https://example.org/p1.jpg"
    assert [s.reason.split(" ")[0:3] for s in skips] == [["geometry", "is", "in"], ["geometry", "is", "not"]]


def test_geojson_feature_collection_streams_features():
    posts, skips, _ = read("features.geojson")
    p = by_id(posts)
    assert set(p) == {"r1", "r2", "r3", "r5"}
    assert p["r1"].geo_source == "gps" and p["r2"].geo_source == "place" and not p["r3"].located
    assert p["r5"].platform == "fieldapp" and p["r5"].geo_accuracy_m == 12.5
    assert p["r1"].attributes == {"severity": 3}
    assert [s.reason for s in skips] == ["latitude 95 out of range", "record is not a GeoJSON Feature"]


def test_geojson_sequence_with_record_separators_and_truncated_tail():
    posts, skips, _ = read("features.geojsonl")
    assert [p.post_id for p in posts] == ["s0", "s1", "s2"]
    assert len(skips) == 1 and skips[0].line == 4


def test_photo_folder_fields_like_native_importphotos():
    posts, skips, _ = read("photos")
    by_name = {p.media[0].path: p for p in posts}
    assert set(by_name) == {"flooded_street.jpg", "no_gps.jpg", "sub/underpass.jpg"}
    street = by_name["flooded_street.jpg"]
    assert street.geo_source == "exif"
    assert (street.lon, street.lat) == (pytest.approx(113.6253), pytest.approx(34.7466))
    assert street.direction == 123.5 and street.altitude == pytest.approx(95.2)
    assert street.timestamp == datetime(2021, 7, 20, 10, 5, tzinfo=UTC)  # 18:05 at +08:00
    assert by_name["sub/underpass.jpg"].lon < 0 and by_name["sub/underpass.jpg"].lat < 0  # S and W refs
    assert not by_name["no_gps.jpg"].located and by_name["no_gps.jpg"].geo_source == "none"
    assert len(street.post_id) == 64  # content hash: the same photo elsewhere is the same post
    assert [Path(s.source).name for s in skips] == ["broken.jpg"]  # notes.txt is not a photo, not a record


def test_nan_never_reaches_a_record():
    for name in ("twitter_v1.jsonl", "generic.csv", "features.geojson"):
        posts, _, _ = read(name)
        assert all(math.isfinite(p.lon) and math.isfinite(p.lat) for p in posts if p.located)


def _workbook(path: Path, rows: list[list]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_weibo_workbook_with_excel_cell_types(tmp_path):
    """Excel turns ids into numbers and times into date cells; the posts come out as from CSV."""
    path = _workbook(tmp_path / "weibo.xlsx", [
        ["id", "screen_name", "text", "pics", "created_at", "lat", "lon", "ip_location"],
        ["4662551234567890", "水哥", "郑州暴雨 🙏", "https://wx1.sinaimg.cn/large/a1.jpg",
         datetime(2021, 7, 20, 18, 5), 34.75, 113.62, "河南"],
        [4662551234567891, "小雨", "积水", None, "2021-07-20 18:30:00", None, None, "河南"],
        [None, None, None, None, None, None, None, None],
        ["4662551234567892", "路人", "隧道", None, "5分钟前", 34.7, 113.6, "北京"],
        ["4662551234567893", "x", "out of range", None, datetime(2021, 7, 20, 19, 0), 134.7, 113.6, "河南"],
    ])
    assert detect_format(path) == "weibo"
    items = list(iter_records([path]))
    posts = by_id([i for i in items if isinstance(i, PostRecord)])
    skips = {s.line: s.reason for s in items if isinstance(s, Skip)}
    first = posts["4662551234567890"]
    assert first.timestamp == datetime(2021, 7, 20, 10, 5, tzinfo=UTC)  # a date cell in China time
    assert (first.lon, first.lat) == (113.62, 34.75) and first.text == "郑州暴雨 🙏"
    assert first.media[0].url == "https://wx1.sinaimg.cn/large/a1.jpg"
    assert not posts["4662551234567891"].located  # a numeric id cell keeps every digit
    assert skips[5] == "unknown time format: '5分钟前'" and "out of range" in skips[6]
    assert len(posts) == 2 and len(skips) == 2  # the blank row 4 is no record


def test_generic_workbook_and_broken_workbooks(tmp_path):
    path = _workbook(tmp_path / "points.xlsx", [
        ["name", "latitude", "longitude", "time", "comment"],
        ["a", 34.7, 113.6, datetime(2021, 7, 20, 10, 0), "water to the knees"],
        ["b", "34.71", "113.61", "2021-07-20T11:00:00Z", "road closed"],
    ])
    posts = [i for i in iter_records([path]) if isinstance(i, PostRecord)]
    assert [(p.lon, p.lat, p.text) for p in posts] == [
        (113.6, 34.7, "water to the knees"), (113.61, 34.71, "road closed")]
    empty = _workbook(tmp_path / "empty.xlsx", [])
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    for bad in (empty, broken):
        items = list(iter_records([bad]))
        assert len(items) == 1 and isinstance(items[0], FileSkip), items


def test_a_workbook_damaged_mid_sheet_keeps_the_rows_before(tmp_path):
    import zipfile

    whole = _workbook(tmp_path / "whole.xlsx", [["lat", "lon", "text"]] + [[34.7, 113.6, f"row {i}"] for i in range(6)])
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b'<row r="5"')] + b'<row r="5"><c r="A5"'  # cut inside row 5
            dst.writestr(item, data)
    items = list(iter_records([damaged]))
    posts = [i.text for i in items if isinstance(i, PostRecord)]
    skips = [i for i in items if isinstance(i, Skip)]
    assert posts == ["row 0", "row 1", "row 2"]
    assert len(skips) == 1 and skips[0].line == 5 and "damaged" in skips[0].reason
