"""Data that used to arrive wrong without a word: encodings decided per line, one rule for ids,
CrisisMMD rows that are not consecutive, store names with URI characters, GeoJSON accuracy and a
`crs` member after the features."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mist_qgis.core.posts.importer import ImportOptions, import_posts
from mist_qgis.core.posts.issues import Note, Skip
from mist_qgis.core.posts.record import PostRecord
from mist_qgis.core.posts.stream import iter_records

CHINESE = "郑州暴雨，地铁五号线进水"
SPANISH = "Inundación en la calle Mayor: el agua llega a las rodillas"


def read(path: Path, **options):
    items = list(iter_records([path], ImportOptions(**options)))
    return ([i for i in items if isinstance(i, PostRecord)], [i for i in items if isinstance(i, Skip)],
            [i for i in items if isinstance(i, Note)])


def test_one_stray_byte_does_not_turn_the_file_into_cp1252_csv(tmp_path):
    path = tmp_path / "mixed.csv"
    rows = [f"{i},113.6,34.7,{CHINESE if i % 2 else SPANISH} {i}" for i in range(1, 40)]
    body = ("id,lon,lat,text\n" + "\n".join(rows[:5])).encode("utf-8") + b"\n6,113.6,34.7,stray \x81 byte\n" \
        + ("\n".join(rows[6:]) + "\n").encode("utf-8")
    path.write_bytes(body)
    posts, skips, notes = read(path)
    assert not skips and len(posts) == 39
    texts = {p.post_id: p.text for p in posts}
    assert texts["1"] == f"{CHINESE} 1" and texts["2"] == f"{SPANISH} 2" and texts["39"] == f"{CHINESE} 39"
    assert [n.line for n in notes if "UTF-8" in n.reason] == [7]


def test_one_stray_byte_in_json_lines_and_in_a_json_array(tmp_path):
    lines = [json.dumps({"id_str": str(1416000000000000000 + i), "user": {}, "created_at":
                         "Tue Jul 20 10:05:00 +0000 2021", "text": CHINESE if i % 2 else SPANISH},
                        ensure_ascii=False).encode("utf-8") for i in range(30)]
    lines[4] = lines[4].replace(b"rodillas", b"rodillas \xe9")  # one Latin-1 byte
    jsonl = tmp_path / "mixed.jsonl"
    jsonl.write_bytes(b"\n".join(lines) + b"\n")
    posts, skips, notes = read(jsonl)
    assert not skips and len(posts) == 30
    assert sum(p.text == CHINESE for p in posts) == 15 and sum(p.text == SPANISH for p in posts) == 14
    array = tmp_path / "mixed.json"
    array.write_bytes(b"[\n" + b",\n".join(lines) + b"\n]\n")
    posts, skips, notes = read(array)
    assert not skips and len(posts) == 30
    assert sum(p.text == CHINESE for p in posts) == 15 and sum(p.text == SPANISH for p in posts) == 14
    assert any(n.line == 6 for n in notes)  # the array's line 1 is "["


def test_a_cp1252_file_still_reads_as_cp1252(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes(("id,lon,lat,text\n" + "\n".join(f"{i},1.5,2.5,{SPANISH}" for i in range(1, 20)) + "\n")
                     .encode("cp1252"))
    posts, skips, _ = read(path)
    assert not skips and {p.text for p in posts} == {SPANISH}


def test_one_id_rule_for_every_reader(store, tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("id,lon,lat,text\n5,1.5,2.5,a\n5.0,1.5,2.5,b\n05,1.5,2.5,c\n 5 ,1.5,2.5,d\n6,1.5,2.5,e\n",
                    encoding="utf-8")
    summary = import_posts(store, [path], ImportOptions(parallel=False))
    assert (summary.imported, summary.duplicates) == (2, 3)
    assert sorted(r["post_id"] for r in store.query("SELECT post_id FROM posts")) == ["5", "6"]


def test_superscripts_and_arabic_indic_digits_are_not_ids(tmp_path):
    from mist_qgis.core.posts.ids import canonical_id, is_ascii_digits
    from mist_qgis.core.posts.timeparse import parse_time

    assert not is_ascii_digits("²") and not is_ascii_digits("١٢٣") and is_ascii_digits("123")
    assert canonical_id("١٢٣") == "١٢٣" and canonical_id(5.0) == "5" and canonical_id("007") == "7"
    assert [canonical_id(v) for v in ("0", "000", "1417000000000000000", " 12 ", "12.00")] == [
        "0", "0", "1417000000000000000", "12", "12"]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps({"id_str": i, "user": {}, "text": "x"}, ensure_ascii=False)
                              for i in ("²", "١٢٣٤٥", "1416000000000000001")) + "\n", encoding="utf-8")
    posts, skips, _ = read(path)
    assert [p.post_id for p in posts] == ["1416000000000000001"] and len(skips) == 2
    with pytest.raises(ValueError):
        parse_time("٢٠٢١")


def test_snowflake_times_only_in_their_valid_range():
    from mist_qgis.core.posts.timeparse import snowflake_time

    assert snowflake_time("1416000000000000000").year == 2021
    assert snowflake_time("99999999999999999999") is None  # 20 digits: year 2766 if decoded
    assert snowflake_time("9223372036854775807") is None  # the 64-bit limit lies in the future
    assert snowflake_time("12345") is None


def test_crisismmd_rows_of_one_tweet_apart(tmp_path):
    path = tmp_path / "crisis.tsv"
    head = "tweet_id\timage_id\ttext_info\timage_info\ttweet_text\timage_url\timage_path\n"
    rows = [
        "1416000000000000001\t1416000000000000001_0\tinformative\tinformative\tflood A\thttps://x.test/a0.jpg\ta0.jpg",
        "1416000000000000002\t1416000000000000002_0\tinformative\tnot_informative\tflood B\thttps://x.test/b0.jpg\tb0.jpg",
        "1416000000000000001\t1416000000000000001_1\tinformative\tnot_informative\tflood A\thttps://x.test/a1.jpg\ta1.jpg",
    ]
    path.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    posts, skips, _ = read(path, format="crisismmd")
    assert not skips and [p.post_id for p in posts] == ["1416000000000000001", "1416000000000000002"]
    a = posts[0]
    assert [m.url for m in a.media] == ["https://x.test/a0.jpg", "https://x.test/a1.jpg"]
    assert [i["image_info"] for i in a.attributes["images"]] == ["informative", "not_informative"]


@pytest.mark.parametrize("name", ["a#b.gpkg", "what?.gpkg", "pct%41.gpkg", "x%2Fy.gpkg"])
def test_store_names_with_uri_characters_open_the_right_file(tmp_path, name):
    from mist_qgis.core.store import open_store

    with open_store(tmp_path / name) as store:
        with store.batch() as conn:
            store.add_posts(conn, [PostRecord("1", "twitter", 1.0, 2.0, "x")])
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made[0] == name and all(m.startswith(name) for m in made), made
    with open_store(tmp_path / name) as again:
        assert again.count("posts") == 1


def test_negative_geojson_accuracy_is_refused(tmp_path):
    path = tmp_path / "acc.geojsonl"
    feats = [{"type": "Feature", "properties": {"id": str(i), "accuracy": acc},
              "geometry": {"type": "Point", "coordinates": [1.5, 2.5]}} for i, acc in ((1, 12), (2, -5))]
    path.write_text("\n".join(json.dumps(f) for f in feats) + "\n", encoding="utf-8")
    posts, skips, _ = read(path)
    assert [p.geo_accuracy_m for p in posts] == [12.0]
    assert "negative accuracy" in skips[0].reason


def test_a_crs_member_after_the_features_is_named(store, tmp_path):
    feats = [{"type": "Feature", "properties": {"id": str(i)},
              "geometry": {"type": "Point", "coordinates": [12_600_000.0 + i, 4_100_000.0]}} for i in range(800)]
    doc = '{"type": "FeatureCollection", "features": ' + json.dumps(feats, indent=1) + \
        ', "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}}'
    path = tmp_path / "mercator.geojson"
    path.write_text(doc, encoding="utf-8")
    assert path.stat().st_size > 64 * 1024  # beyond the sample the format is detected from
    from mist_qgis.core.posts.issues import NotAPostCollection

    with pytest.raises(NotAPostCollection, match="EPSG::3857, not WGS 84"):
        import_posts(store, [path], ImportOptions(parallel=False))
    assert store.count("posts") == 0 and store.count("issues", "reason LIKE '%latitude%'") == 0


def test_offline_photos_with_one_name_in_two_folders(store, tmp_path):
    """Two `IMG_0001.jpg` on the drive: each post gets the one its URL's path names; a post whose
    URL does not say which is refused as ambiguous with an issue, never given the first one."""
    from PIL import Image

    from mist_qgis.core.images.pipeline import FetchOptions, run_fetch_media
    from mist_qgis.core.posts.record import MediaRef

    drive = tmp_path / "drive"
    colours = {"street_a": (200, 30, 30), "street_b": (30, 30, 200)}
    for folder, colour in colours.items():
        (drive / folder).mkdir(parents=True)
        img = Image.new("RGB", (64, 48), colour)
        img.paste((255, 255, 255), (0, 0, 16 if folder == "street_a" else 40, 12))
        img.save(drive / folder / "IMG_0001.jpg", quality=95)
    posts = [PostRecord(str(i), "twitter", 1.0, 2.0, "x", media=[MediaRef(url=url)]) for i, url in (
        (1, "https://cdn.test/u/street_a/IMG_0001.jpg"), (2, "https://cdn.test/u/street_b/IMG_0001.jpg"),
        (3, "https://cdn.test/IMG_0001.jpg"))]
    with store.batch() as conn:
        store.add_posts(conn, posts)
    summary = run_fetch_media(store, FetchOptions(offline=True, media_dir=drive, locate_from_exif=False))
    rows = {r["post_id"]: r for r in store.query(
        "SELECT p.post_id, m.status, m.error, m.cache_path FROM media m JOIN posts p ON p.fid = m.post_fid")}
    assert rows["1"]["status"] == rows["2"]["status"] == "ok"
    for post_id, folder in (("1", "street_a"), ("2", "street_b")):
        cached = Image.open(store.media_file(rows[post_id]["cache_path"])).convert("RGB")
        assert cached.getpixel((50, 40))[0 if folder == "street_a" else 2] > 150
    assert rows["3"]["status"] != "ok"
    assert "2 files are named 'IMG_0001.jpg'" in (rows["3"]["error"] or "")
    assert any("IMG_0001.jpg" in r["reason"] for r in store.issues_for_run(summary.run_id))


def test_a_gbk_line_in_a_utf8_file_reads_as_chinese(tmp_path):
    path = tmp_path / "one_gbk_line.csv"
    rows = [f"{i},113.6,34.7,{SPANISH} {i}".encode() for i in range(1, 30)]
    rows[9] = f"10,113.6,34.7,{CHINESE}".encode("gbk")
    path.write_bytes(b"id,lon,lat,text\n" + b"\n".join(rows) + b"\n")
    posts, skips, notes = read(path)
    assert not skips and len(posts) == 29
    texts = {p.post_id: p.text for p in posts}
    assert texts["10"] == CHINESE and texts["9"] == f"{SPANISH} 9"
    assert any("GB18030" in n.reason for n in notes)
