"""One bad record never aborts a run: every per-record failure in every reader is a counted skip
(file, line, reason) and the rest of the input still arrives."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from mist_qgis.core.posts.importer import ImportOptions, import_posts
from tests.helpers.hostile import exif_with_infinite_gps_time, jpeg_with_exif, png_declaring

HUGE = "1" * 400


def tweet(i: int, **extra) -> dict:
    out = {"id_str": str(1416000000000000000 + i), "created_at": "Tue Jul 20 10:05:00 +0000 2021",
           "text": f"flood {i}", "user": {"screen_name": "u"},
           "coordinates": {"type": "Point", "coordinates": [113.5, 34.7]}}
    out.update(extra)
    return out


def run_import(store, *paths, **options):
    summary = import_posts(store, list(paths), ImportOptions(parallel=False, **options))
    assert summary.status == "done"
    assert summary.imported + summary.duplicates + summary.unlocated + summary.skipped == summary.records_read
    return summary


def skip_reasons(store, summary) -> list[str]:
    return [r["reason"] for r in store.issues_for_run(summary.run_id)
            if not r["reason"].startswith(("note:", "file skipped:"))]


def test_huge_integers_in_coordinates_and_times_are_skips(store, tmp_path):
    path = tmp_path / "huge.jsonl"
    lines = [json.dumps(tweet(0)), '{"id_str": "1416000000000000001", "user": {}, "text": "x", '
             '"coordinates": {"type": "Point", "coordinates": [' + HUGE + ', 34.7]}}',
             '{"id_str": "1416000000000000002", "user": {}, "text": "x", "created_at": ' + HUGE + '}',
             json.dumps(tweet(3))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = run_import(store, path)
    assert (summary.imported, summary.skipped) == (2, 2)
    issues = [r for r in store.issues_for_run(summary.run_id) if not r["reason"].startswith("note:")]
    assert [r["line"] for r in issues] == [2, 3]
    assert all("too large" in r["reason"] or "finite" in r["reason"] for r in issues), issues


def test_huge_integers_in_a_geojson_geometry_and_csv_cells(store, tmp_path):
    gj = tmp_path / "huge.geojsonl"
    good = {"type": "Feature", "properties": {"id": "a"}, "geometry": {"type": "Point", "coordinates": [1.5, 2.5]}}
    gj.write_text(json.dumps(good) + "\n" + '{"type": "Feature", "properties": {"id": "b"}, "geometry": '
                  '{"type": "Point", "coordinates": [1.5, ' + HUGE + ']}}\n', encoding="utf-8")
    csv_path = tmp_path / "huge.csv"
    csv_path.write_text(f"id,lon,lat,time,text\n1,1.5,2.5,2021-07-20T10:00:00Z,ok\n2,1.5,2.5,{HUGE},bad time\n"
                        f"3,{HUGE},2.5,,bad lon\n", encoding="utf-8")
    summary = run_import(store, gj, csv_path)
    assert (summary.imported, summary.skipped) == (2, 3)


def test_huge_integer_in_an_excel_cell(store, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "lon", "lat", "time", "text"])
    sheet.append([1, 113.5, 34.7, "2021-07-20T10:00:00Z", "ok"])
    sheet.append([2, 987654321, 34.7, None, "huge lon"])
    sheet.append([3, 113.5, 34.7, 987654321, "huge time"])
    sheet.append([4, 113.5, 34.7, None, "ok too"])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    path = tmp_path / "posts.xlsx"  # openpyxl will not write such a number; the XML can hold it
    import zipfile

    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<v>987654321</v>", b"<v>" + HUGE.encode() + b"</v>")
                assert HUGE.encode() in data
            dst.writestr(info, data)
    summary = run_import(store, path)
    assert (summary.imported, summary.skipped) == (2, 2)
    assert sorted(r["line"] for r in store.issues_for_run(summary.run_id)
                  if not r["reason"].startswith("note:")) == [3, 4]


def test_lone_surrogate_in_text_keeps_the_batch_and_reimport_completes(store, tmp_path):
    path = tmp_path / "cut_emoji.jsonl"
    rows = [json.dumps(tweet(i)) for i in range(5)]
    rows[2] = json.dumps(tweet(2, text="water \ud83d up to here"))  # json.dumps keeps the lone escape
    assert "\\ud83d" in rows[2]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    summary = run_import(store, path)
    assert summary.imported == 5 and summary.skipped == 0
    text = store.scalar("SELECT text FROM posts WHERE post_id = ?", ("1416000000000000002",))
    assert text == "water \ufffd up to here"
    assert any("surrogate" in r["reason"] for r in store.issues_for_run(summary.run_id))
    again = run_import(store, path)
    assert again.duplicates == 5 and again.imported == 0


def test_lone_surrogate_in_a_pretty_printed_array(store, tmp_path):
    path = tmp_path / "array.json"
    path.write_text(json.dumps([tweet(0), tweet(1, text="a \udc00 b", user={"screen_name": "\ud800"})], indent=2),
                    encoding="utf-8")
    summary = run_import(store, path)
    assert summary.imported == 2


def test_nul_byte_in_photo_paths(store, tmp_path):
    csv_path = tmp_path / "nul.csv"
    good = "".join(f"{i},1.5,2.5,p{i}.jpg,a post with a photo\n" for i in range(3, 23))
    csv_path.write_text("id,lon,lat,photo,text\n1,1.5,2.5,a.jpg,ok\n2,1.5,2.5,b\x00.jpg,nul\n" + good,
                        encoding="utf-8")
    gj = tmp_path / "nul.geojsonl"
    gj.write_text("\n".join(json.dumps({"type": "Feature", "properties": {"id": str(i), "photo": p},
                                        "geometry": {"type": "Point", "coordinates": [1.5, 2.5]}})
                            for i, p in ((10, "x.jpg"), (11, "y\x00.jpg"))) + "\n", encoding="utf-8")
    summary = run_import(store, csv_path, gj)
    assert summary.records_read == 24 and not summary.files_skipped
    assert store.count("posts") == 24  # the posts stay; their NUL paths are never used as paths
    notes = [r for r in store.issues_for_run(summary.run_id) if "NUL" in r["reason"]]
    assert [(Path(r["source"]).name, r["line"]) for r in notes] == [("nul.csv", 3), ("nul.geojsonl", 2)]
    assert store.scalar("SELECT photo FROM posts WHERE post_id = '2'") is None


def test_nul_in_post_text_keeps_the_post_and_its_batch(store, tmp_path):
    path = tmp_path / "nul.jsonl"
    path.write_text("".join(json.dumps(tweet(i, text=f"water\u0000{i}" if i == 2 else f"water {i}")) + "\n"
                            for i in range(6)), encoding="utf-8")
    summary = run_import(store, path)
    assert (summary.imported, summary.skipped) == (6, 0)
    # a GeoPackage keeps the NUL; PostgreSQL text cannot hold one, so it becomes U+FFFD there
    assert store.scalar("SELECT text FROM posts WHERE post_id = ?", (str(1416000000000000002),)) in (
        "water\x002", "water\ufffd2")
    assert store.scalar("SELECT text FROM posts WHERE post_id = ?", (str(1416000000000000003),)) == "water 3"


def test_exif_gps_time_as_infinite_double(store, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    jpeg_with_exif(folder / "inf_time.jpg", exif_with_infinite_gps_time())
    from PIL import Image

    Image.new("RGB", (8, 8)).save(folder / "plain.jpg")
    summary = run_import(store, folder, format="photos")
    assert summary.records_read == 2
    assert summary.imported + summary.unlocated == 2  # the bad GPS time is not needed to keep the photo
    assert store.scalar("SELECT timestamp FROM posts WHERE filename = 'inf_time.jpg'").startswith("2021-07-20")


def test_png_declaring_a_huge_canvas_in_a_photo_folder(store, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    png_declaring(folder / "bomb.png")
    from PIL import Image

    Image.new("RGB", (8, 8)).save(folder / "plain.jpg")
    summary = run_import(store, folder, format="photos")
    assert (summary.records_read, summary.skipped) == (2, 1)
    reason = skip_reasons(store, summary)[0]
    assert "pixels" in reason, reason


def _import_in_thread(fn, timeout: float = 20.0):
    box: dict = {}

    def work() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the import hangs"
    if "error" in box:
        raise box["error"]
    return box["result"]


def test_fifo_in_a_photo_folder_is_never_opened(store, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    os.mkfifo(folder / "pipe.jpg")
    from PIL import Image

    Image.new("RGB", (8, 8)).save(folder / "plain.jpg")
    summary = _import_in_thread(lambda: import_posts(store, [folder], ImportOptions(format="photos", parallel=False)))
    assert summary.records_read == 2 and summary.skipped == 1
    assert "regular file" in skip_reasons(store, summary)[0]


def test_fifo_swapped_in_after_the_walk_is_not_opened(tmp_path):
    from mist_qgis.core.posts.photos import photo_record

    os.mkfifo(tmp_path / "late.jpg")
    with pytest.raises(Exception, match="regular file"):
        _import_in_thread(lambda: photo_record(tmp_path / "late.jpg", tmp_path), timeout=10)


def test_a_reader_bug_is_a_counted_skip_not_an_abort(store, tmp_path, monkeypatch):
    """The mechanism is structural: any exception from parsing one record, even one no reader
    anticipates, becomes a skip with its reason and the import goes on."""
    from mist_qgis.core.posts import twitter_v1

    real = twitter_v1.parse_tweet

    def flaky(obj, source=None, line=None):
        if obj.get("text") == "boom":
            raise KeyError("unexpected")
        return real(obj, source, line)

    monkeypatch.setattr("mist_qgis.core.posts.tweets.parse_tweet", flaky)
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(tweet(i, text="boom" if i == 1 else "ok")) for i in range(3)) + "\n",
                    encoding="utf-8")
    summary = run_import(store, path)
    assert (summary.imported, summary.skipped) == (2, 1)
    assert "KeyError" in skip_reasons(store, summary)[0]


def test_a_row_the_store_refuses_is_isolated_and_skipped(store, tmp_path, monkeypatch):
    """The second net, at the write: if a record still reaches the store with a value SQLite
    cannot bind, that one row is skipped with the reason, the rest of its batch is written, and
    importing again goes past it."""
    monkeypatch.setattr("mist_qgis.core.posts.textio.scrub_surrogates", lambda value: value)
    path = tmp_path / "cut_emoji.jsonl"
    rows = [json.dumps(tweet(i, text="water \ud83d" if i == 2 else f"ok {i}")) for i in range(5)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    summary = run_import(store, path)
    assert (summary.imported, summary.skipped) == (4, 1)
    assert any(r["line"] == 3 and "refused" in r["reason"] for r in store.issues_for_run(summary.run_id))
    again = run_import(store, path)
    assert (again.duplicates, again.skipped) == (4, 1)


DATA = Path(__file__).resolve().parents[1] / "data" / "posts"


@pytest.mark.parametrize("fmt, name", [
    ("twitter_v1", "twitter_v1.jsonl"), ("twitter_v2", "twitter_v2_response.json"), ("weibo", "weibo_export.csv"),
    ("weibo", "smmd_coarse.tsv"), ("crisismmd", "crisismmd.tsv"), ("csv", "generic.csv"),
    ("geojson", "features.geojson"), ("photos", "photos"),
])
def test_every_post_reader_hands_out_guarded_records(fmt, name):
    """Each reader returns `Records` (raw items + a parse function), never a bare generator, so it
    cannot bypass the per-record guard; the stream refuses anything else."""
    from mist_qgis.core.posts.issues import Records
    from mist_qgis.core.posts.stream import ImportOptions, RecordStream, _checked

    handle, records = RecordStream([], ImportOptions())._open(DATA / name, fmt)
    handle.close()
    assert isinstance(records, Records)
    with pytest.raises(TypeError, match="Records"):
        _checked(iter([]))


# -- reference imagery: the same guard ------------------------------------------------------------

def _ref_jpeg(path: Path, lon: float = 113.6, lat: float = 34.7) -> Path:
    from PIL import Image

    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (34.0, 42.0, 0.0), 3: "E", 4: (113.0, 36.0, 0.0)})
    Image.new("RGB", (32, 24), (10, 90, 30)).save(path, exif=exif)
    return path


def test_reference_folder_with_a_bomb_and_a_fifo(store, tmp_path):
    from mist_qgis.core.geoloc import references

    folder = tmp_path / "refs"
    folder.mkdir()
    _ref_jpeg(folder / "good.jpg")
    png_declaring(folder / "bomb.png")
    os.mkfifo(folder / "pipe.jpg")
    (folder / "loop.jpg").symlink_to("loop.jpg")
    (folder / "out.jpg").symlink_to(_ref_jpeg(tmp_path / "outside.jpg"))
    summary = _import_in_thread(lambda: references.import_references(store, folder, "photos"))
    assert (summary.imported, summary.skipped) == (1, 4)
    reasons = {Path(r["source"]).name: r["reason"] for r in store.issues_for_run(summary.run_id)}
    assert "pixels" in reasons["bomb.png"] and "regular file" in reasons["pipe.jpg"], reasons
    assert "leaves the collection folder" in reasons["out.jpg"] and reasons["loop.jpg"], reasons


def test_reference_tables_with_huge_numbers_nul_paths_and_huge_cells(store, tmp_path):
    from mist_qgis.core.geoloc import references

    _ref_jpeg(tmp_path / "a.jpg")
    csv_path = tmp_path / "refs.csv"
    csv_path.write_text("id,lon,lat,heading,path\n"
                        "r1,113.6,34.7,10,a.jpg\n"
                        f"r2,{HUGE},34.7,10,a.jpg\n"
                        f"r3,113.6,34.7,{HUGE},a.jpg\n"
                        "r4,113.6,34.7,10,a\x00.jpg\n"
                        f'r5,113.6,34.7,10,"{"x" * 200_000}"\n'
                        "r6,113.6,34.7,10,a.jpg\n", encoding="utf-8")
    summary = references.import_references(store, csv_path)
    assert (summary.imported, summary.skipped) == (3, 3)  # r3 is kept without its heading
    gj = tmp_path / "refs.geojson"
    feats = [{"type": "Feature", "properties": {"id": i, "path": p},
              "geometry": {"type": "Point", "coordinates": c}}
             for i, p, c in (("g1", "a.jpg", [113.6, 34.7]), ("g2", "a\x00.jpg", [113.6, 34.7]),
                             ("g3", "a.jpg", [int(HUGE), 34.7]))]
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    summary = references.import_references(store, gj)
    assert (summary.imported, summary.skipped) == (1, 2)


# -- verdict tables ---------------------------------------------------------------------------------

def test_verdict_table_with_a_huge_cell_and_huge_numbers(store, tmp_path):
    from mist_qgis.core.posts.record import PostRecord
    from mist_qgis.core.verify.verdict_table import import_verdict_table

    with store.batch() as conn:
        store.add_posts(conn, [PostRecord(str(i), "twitter", 113.6, 34.7, "t") for i in (1, 2, 3, 4, 5)])
    table = tmp_path / "verdicts.csv"
    table.write_text("post_id,verdict,water_depth_m,analyst,note\n"
                     "1,flood,0.5,ana,ok\n"
                     f'2,flood,0.5,ana,"{"x" * 200_000}"\n'
                     f"3,flood,{HUGE},ana,huge depth\n"
                     "4.0,not_flood,,ana,id written by a spreadsheet\n"
                     "05,flood,,ana,zero-padded id\n", encoding="utf-8")
    with open(table, "ab") as fh:
        fh.write(b"1,flood,0.5,ana,ok con ni\xf1o\n")  # a Latin-1 line: decoded on its own, noted
    summary = import_verdict_table(store, table)
    assert (summary.rows_read, summary.written, summary.skipped) == (6, 4, 2)
    assert {i["line"] for i in summary.issues} == {3, 4, 7}
    assert store.scalar("SELECT note FROM verifications ORDER BY fid DESC LIMIT 1") == "ok con ni\u00f1o"


def test_an_escaped_emoji_pair_is_kept_without_a_note(tmp_path):
    from mist_qgis.core.posts.issues import Note
    from mist_qgis.core.posts.record import PostRecord
    from mist_qgis.core.posts.stream import iter_records

    path = tmp_path / "pretty.json"
    path.write_text(json.dumps([tweet(0, text="water \U0001F30A")], indent=2), encoding="utf-8")  # \ud83c\udf0a
    assert "\\ud83c\\udf0a" in path.read_text(encoding="utf-8")
    items = list(iter_records([path]))
    assert [i.text for i in items if isinstance(i, PostRecord)] == ["water \U0001F30A"]
    assert not [i for i in items if isinstance(i, Note) and "surrogate" in i.reason]


def test_symlink_loops_and_links_out_of_a_photo_folder_are_reported(store, tmp_path):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "plain.jpg")
    Image.new("RGB", (8, 8)).save(tmp_path / "outside.jpg")
    (folder / "loop.jpg").symlink_to("loop.jpg")
    (folder / "out.jpg").symlink_to(tmp_path / "outside.jpg")
    (folder / "in.jpg").symlink_to(folder / "plain.jpg")
    summary = run_import(store, folder, format="photos")
    assert (summary.records_read, summary.skipped, summary.duplicates) == (4, 2, 1)  # in.jpg is plain.jpg
    reasons = {Path(r["source"]).name: r["reason"] for r in store.issues_for_run(summary.run_id)}
    assert "cannot follow" in reasons["loop.jpg"] and "outside the folder" in reasons["out.jpg"]


def test_the_reader_process_applies_the_same_guard(store, tmp_path):
    path = tmp_path / "mixed.jsonl"
    lines = [json.dumps(tweet(i)) for i in range(6)]
    lines[1] = json.dumps(tweet(1, text="cut \ud83d"))
    lines[3] = '{"id_str": "1416000000000000003", "user": {}, "created_at": ' + HUGE + '}'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_posts(store, [path], ImportOptions(parallel=True))
    assert (summary.records_read, summary.imported, summary.skipped, summary.notes) == (6, 5, 1, 1)
