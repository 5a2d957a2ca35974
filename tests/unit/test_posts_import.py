"""The import into a real store: exact totals, dedup on re-import, unlocated accounting,
pseudonymised authors, photo fields, cancellation and resume, streaming memory."""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from mist_qgis.core.posts.importer import ImportOptions, import_posts
from mist_qgis.core.posts.issues import NotAPostCollection
from mist_qgis.core.posts.stream import iter_records

DATA = Path(__file__).resolve().parents[1] / "data" / "posts"
ALL_FILES = [
    "twitter_v1.jsonl", "twitter_v1_array.json", "bom_v1.jsonl", "multilingual_emoji.jsonl",
    "twitter_v2_response.json", "twitter_v2_stream.jsonl", "mixed_v1_v2.jsonl", "weibo_export.csv",
    "weibo_gbk.csv", "weibo_dataset.csv", "smmd_coarse.tsv", "crisismmd.tsv", "generic.csv", "generic_wkt.tsv",
    "features.geojson", "features.geojsonl", "photos", "empty.jsonl", "bom_only.csv", "three_bytes.json",
    "binary.jsonl",
]


def write_tweets(path: Path, n: int, start: int = 0) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            tweet = {"id_str": str(10**18 + i), "created_at": "Tue Jul 20 10:05:00 +0000 2021", "text": f"t{i}",
                     "user": {"screen_name": f"u{i % 13}"},
                     "coordinates": {"type": "Point", "coordinates": [113.5 + i * 1e-5, 34.7]} if i % 3 else None}
            fh.write(json.dumps(tweet) + "\n")
    return path


def assert_exact(summary) -> None:
    s = summary
    assert s.imported + s.duplicates + s.unlocated + s.skipped == s.records_read


def assert_store_consistent(store) -> None:
    assert store.integrity_ok()
    located = store.count("posts", "geom IS NOT NULL")
    assert store.count("rtree_posts_geom") == located


def test_everything_at_once_is_accounted_for(store):
    summary = import_posts(store, [DATA / f for f in ALL_FILES])
    assert_exact(summary)
    assert summary.status == "done" and summary.skipped > 20
    assert {Path(f["path"]).name for f in summary.files_skipped} == {
        "empty.jsonl", "bom_only.csv", "three_bytes.json", "binary.jsonl"}
    assert store.count("posts") == summary.imported + summary.unlocated
    assert store.count("unlocated_posts") == summary.unlocated
    assert store.count("posts", "geom IS NOT NULL") == summary.imported
    run = store.runs("import")[-1]
    assert run.status == "done" and run.counts["records_read"] == summary.records_read
    issues = store.issues_for_run(summary.run_id)
    skipped = [i for i in issues if not i["reason"].startswith(("note:", "file skipped:"))]
    assert len(skipped) == summary.skipped
    assert all(i["source"] and i["line"] for i in skipped if not i["source"].endswith(".jpg"))
    assert sum(1 for i in issues if i["reason"].startswith("file skipped:")) == 4
    # reposts counts every repost read; one of them is in both Weibo fixtures, so it is stored once
    assert summary.reposts == store.count("posts", "is_repost") + 1
    assert_store_consistent(store)


def test_reimport_adds_nothing_and_counts_duplicates(store, tmp_path):
    files = [DATA / "twitter_v1.jsonl", DATA / "generic.csv", DATA / "photos"]
    first = import_posts(store, files)
    posts, media = store.count("posts"), store.count("media")
    again = import_posts(store, files)
    assert_exact(again)
    assert again.imported == again.unlocated == 0
    assert again.duplicates == first.imported + first.unlocated
    assert (store.count("posts"), store.count("media")) == (posts, media)
    # an overlapping harvest: half old, half new
    a = write_tweets(tmp_path / "a.jsonl", 40)
    b = write_tweets(tmp_path / "b.jsonl", 40, start=20)
    import_posts(store, [a])
    overlap = import_posts(store, [b])
    assert overlap.duplicates == 20 and overlap.imported + overlap.unlocated == 20


def test_unlocated_posts_are_kept_not_dropped(store):
    summary = import_posts(store, [DATA / "crisismmd.tsv", DATA / "weibo_dataset.csv"])
    assert summary.imported == 0 and summary.unlocated == 4
    rows = store.query("SELECT post_id, text FROM unlocated_posts ORDER BY post_id")
    assert [r["post_id"] for r in rows] == ["4662551234567800", "4662551234567801", "917791044158185473",
                                            "917793137925459968"]


def test_authors_are_pseudonymised_unless_kept(store, tmp_path):
    import_posts(store, [DATA / "multilingual_emoji.jsonl"])
    hashes = [r[0] for r in store.query("SELECT author_hash FROM posts")]
    assert all(h and len(h) == 16 and "用户" not in h for h in hashes)
    from mist_qgis.core.store import open_store

    with open_store(tmp_path / "named.gpkg") as named:
        import_posts(named, [DATA / "multilingual_emoji.jsonl"], ImportOptions(keep_author_names=True))
        assert {r[0] for r in named.query("SELECT author_hash FROM posts")} == {f"用户{i}🌊" for i in range(5)}


def test_photo_fields_are_set_and_paths_cannot_escape(store):
    import_posts(store, [DATA / "photos", DATA / "crisismmd.tsv"],
                 ImportOptions(media_root=str(DATA)))
    row = store.query("SELECT photo, filename, directory, direction, altitude, geo_source FROM posts "
                      "WHERE filename = 'underpass.jpg'")[0]
    assert row["photo"] == str((DATA / "photos" / "sub" / "underpass.jpg").resolve())
    assert row["directory"] == str((DATA / "photos" / "sub").resolve()) and row["geo_source"] == "exif"
    assert Path(row["photo"]).is_file()
    escaped = store.query("SELECT photo FROM posts WHERE post_id = '917793137925459968'")[0]
    assert escaped["photo"] is None  # ../../etc/passwd is not linked
    media = store.query("SELECT source_path FROM media m JOIN posts p ON p.fid = m.post_fid "
                        "WHERE p.post_id = '917793137925459968'")
    assert media[0]["source_path"] == "../../etc/passwd"  # kept as given; the fetch stage refuses it
    notes = [i["reason"] for i in store.issues_for_run(store.runs("import")[-1].run_id)]
    assert any("leaves the media folder" in n for n in notes)


def test_not_a_post_collection_is_one_clear_error_and_a_failed_run(store):
    with pytest.raises(NotAPostCollection, match="not tweets"):
        import_posts(store, [DATA / "not_posts.json"])
    assert store.runs("import")[-1].status == "failed" and store.count("posts") == 0


def test_cancel_leaves_a_consistent_store_and_a_rerun_completes(store, tmp_path):
    path = write_tweets(tmp_path / "many.jsonl", 3000)
    polls = []

    def cancel_at_first_poll() -> bool:
        polls.append(1)
        return True

    first = import_posts(store, [path], ImportOptions(batch_size=200), is_cancelled=cancel_at_first_poll)
    assert first.status == "cancelled" and polls == [1]
    assert_exact(first)
    assert 0 < first.records_read < 3000
    assert store.count("posts") == first.records_read
    assert_store_consistent(store)
    assert store.runs("import")[-1].status == "cancelled"
    second = import_posts(store, [path], ImportOptions(batch_size=200))
    assert second.status == "done" and second.duplicates == first.records_read
    assert store.count("posts") == 3000 and store.count("posts", "geom IS NOT NULL") == 2000
    assert_store_consistent(store)


def test_a_failing_write_rolls_back_its_batch_and_fails_the_run(store, tmp_path, monkeypatch):
    path = write_tweets(tmp_path / "some.jsonl", 50)
    calls = []
    original = store.add_post_rows

    def flaky(conn, records, *args, **kwargs):
        calls.append(len(records))
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return original(conn, records, *args, **kwargs)

    monkeypatch.setattr(store, "add_post_rows", flaky)
    with pytest.raises(sqlite3.OperationalError):
        import_posts(store, [path], ImportOptions(batch_size=10))
    run = store.runs("import")[-1]
    assert run.status == "failed" and "disk I/O error" in run.message
    assert_store_consistent(store)
    monkeypatch.undo()
    again = import_posts(store, [path], ImportOptions(batch_size=10))
    assert store.count("posts") == 50 and again.imported + again.unlocated + again.duplicates == 50


def test_reading_streams_in_constant_memory(tmp_path):
    small = write_tweets(tmp_path / "small.jsonl", 500)
    large = write_tweets(tmp_path / "large.jsonl", 10_000)

    def peak(path: Path) -> int:
        tracemalloc.start()
        count = sum(1 for _ in iter_records([path]))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count > 0
        return top

    assert peak(large) < 2 * peak(small) + 256 * 1024
    assert peak(large) < large.stat().st_size / 4


def test_an_overlong_line_is_skipped_without_reading_it_into_memory(tmp_path, monkeypatch):
    from mist_qgis.core.posts import textio

    monkeypatch.setattr(textio, "MAX_LINE_BYTES", 4096)
    path = write_tweets(tmp_path / "long.jsonl", 3)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"id_str": "1", "text": "' + "x" * 20_000 + '"}\n')
    write_tweets(tmp_path / "tail.jsonl", 2, start=10)
    with open(path, "ab") as fh:
        fh.write((tmp_path / "tail.jsonl").read_bytes())
    items = list(iter_records([path]))
    skips = [i for i in items if type(i).__name__ == "Skip"]
    assert [(s.line, s.reason) for s in skips] == [(4, "line longer than 0 MiB, not read")]
    assert sum(1 for i in items if type(i).__name__ == "PostRecord") == 5
    csv_path = tmp_path / "long.csv"
    csv_path.write_text("id,text\n1,short\n2," + "y" * 10_000 + "\n3,fine\n", encoding="utf-8")
    rows = list(iter_records([csv_path]))
    assert [getattr(r, "post_id", None) for r in rows if type(r).__name__ == "PostRecord"] == ["1", "3"]
    assert [r.line for r in rows if type(r).__name__ == "Skip"] == [3]


def test_an_import_killed_mid_way_leaves_a_store_that_opens_complete(tmp_path):
    """The R-tree waits for the end of an import; a killed import's posts get theirs on open."""
    import subprocess
    import sys
    import time

    from mist_qgis.core.store import open_store

    path = write_tweets(tmp_path / "big.jsonl", 40_000)
    store_path = tmp_path / "killed.gpkg"
    open_store(store_path).close()
    repo = str(Path(__file__).resolve().parents[2])
    code = (f"import sys; sys.path.insert(0, {repo!r})\n"
            "from mist_qgis.core.store import open_store\n"
            "from mist_qgis.core.posts.importer import ImportOptions, import_posts\n"
            f"import_posts(open_store({str(store_path)!r}), [{str(path)!r}], ImportOptions(batch_size=500))\n")
    child = subprocess.Popen([sys.executable, "-c", code])
    watch = sqlite3.connect(store_path, timeout=30)
    deadline = time.monotonic() + 60
    while watch.execute("SELECT count(*) FROM posts").fetchone()[0] < 3000:
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    child.kill()
    child.wait()
    located = watch.execute("SELECT count(*) FROM posts WHERE geom IS NOT NULL").fetchone()[0]
    assert watch.execute("SELECT count(*) FROM rtree_posts_geom").fetchone()[0] < located
    assert watch.execute("SELECT count(*) FROM mist_meta WHERE key LIKE 'rtree_pending:%'").fetchone()[0] == 1
    watch.close()
    with open_store(store_path) as store:
        assert_store_consistent(store)
        assert store.count("mist_meta", "key LIKE 'rtree_pending:%'") == 0
        assert store.scalar("SELECT rtreecheck('rtree_posts_geom')") == "ok"
        killed = store.runs("import")[-1]
        assert killed.status == "failed" and killed.message.startswith("interrupted")
        assert killed.counts["posts_committed"] == store.count("posts") >= 3000
        again = import_posts(store, [path])
        assert again.status == "done" and store.count("posts") == 40_000
        assert_store_consistent(store)
