"""The store: creation, migrations, concurrency and crash safety, on real GeoPackage files."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mist_qgis.core.posts import MediaRef, PostRecord
from mist_qgis.core.store import StoreError, StoreVersionError, gpkg, open_store
from mist_qgis.core.store.schema import LATEST_VERSION


def _posts(prefix: str, n: int, located: bool = True) -> list[PostRecord]:
    return [
        PostRecord(
            post_id=f"{prefix}{i}", platform="twitter",
            lon=113.6 + i * 1e-4 if located else None, lat=34.7 if located else None,
            text=f"水 flood {i}", author=f"user{i % 7}",
            media=[MediaRef(url=f"https://example.org/{prefix}{i}.jpg")],
        )
        for i in range(n)
    ]


@pytest.mark.gpkg_only("reads the SQLite file's headers and GeoPackage tables")
def test_new_store_is_a_geopackage(store, store_path):
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == gpkg.APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    contents = {r[0]: r[1] for r in conn.execute("SELECT table_name, data_type FROM gpkg_contents")}
    assert contents["posts"] == "features"
    for table in ("issues", "verifications", "unlocated_posts"):
        assert contents[table] == "attributes"
    assert store.schema_version == LATEST_VERSION
    assert store.integrity_ok()


@pytest.mark.gpkg_only("GDAL opens the file")
def test_gdal_reads_the_store(store, store_path):
    from osgeo import ogr

    with store.batch() as conn:
        store.add_posts(conn, _posts("a", 3) + _posts("u", 2, located=False))
    store.refresh_extents()
    ds = ogr.Open(str(store_path))
    layer = ds.GetLayerByName("posts")
    assert layer.GetFeatureCount() == 5
    layer.SetSpatialFilterRect(113.59, 34.6, 113.6001, 34.8)  # uses the R-tree
    assert sorted(f["post_id"] for f in layer) == ["a0", "a1"]
    assert ds.GetLayerByName("unlocated_posts").GetFeatureCount() == 2


USER_LAYERS = {"posts", "references", "coarse_locations", "geolocations", "alerts",
               "issues", "verifications", "unlocated_posts"}


def _gdal_layers(path: Path) -> set[str]:
    from osgeo import ogr

    ds = ogr.Open(str(path))
    return {ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())}


class _EveryTable:
    """How MIST registered tables up to schema version 11: all of them."""

    def __contains__(self, table: object) -> bool:
        return True


def test_gdal_lists_only_the_user_layers_of_a_new_and_an_upgraded_store(tmp_path, monkeypatch):
    with open_store(tmp_path / "new.gpkg") as new:
        assert new.has_table("media") and new.has_table("runs")
    assert _gdal_layers(tmp_path / "new.gpkg") == USER_LAYERS
    conn = sqlite3.connect(tmp_path / "new.gpkg")
    with conn:  # a later migration's bookkeeping table stays out of the list
        conn.execute("CREATE TABLE later_cache (key TEXT PRIMARY KEY)")
        gpkg.register_attributes_table(conn, "later_cache", "a cache")
    conn.close()
    assert _gdal_layers(tmp_path / "new.gpkg") == USER_LAYERS

    old_path = tmp_path / "old.gpkg"
    with monkeypatch.context() as before:
        before.setattr(gpkg, "LISTED_ATTRIBUTE_TABLES", _EveryTable())
        with open_store(old_path, target_version=11) as old, old.batch() as conn:
            old.add_posts(conn, _posts("o", 2) + _posts("n", 1, located=False))
    assert {"media", "runs", "predictions", "live_cursors", "leases"} < _gdal_layers(old_path)
    with open_store(old_path) as upgraded:
        assert upgraded.schema_version == LATEST_VERSION
        assert upgraded.count("media") == 3 and upgraded.count("unlocated_posts") == 1
        assert upgraded.integrity_ok()
    assert _gdal_layers(old_path) == USER_LAYERS
    conn = sqlite3.connect(old_path)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("SELECT count(*) FROM gpkg_geometry_columns g LEFT JOIN gpkg_contents c "
                        "USING (table_name) WHERE c.table_name IS NULL").fetchone()[0] == 0


def test_layer_tables_are_the_tables_users_open(store):
    """What MIST's Browser node lists: posts first, the other tables with geometry, then the
    listed tables without; no bookkeeping, on both backends."""
    assert store.layer_tables() == [
        ("posts", "POINT"), ("alerts", "POINT"), ("coarse_locations", "POINT"), ("geolocations", "LINESTRING"),
        ("references", "POINT"), ("issues", None), ("unlocated_posts", None), ("verifications", None)]


def test_duplicates_are_counted_not_inserted(store):
    with store.batch() as conn:
        assert store.add_posts(conn, _posts("a", 4)) == (4, 0)
    with store.batch() as conn:
        assert store.add_posts(conn, _posts("a", 6)) == (2, 4)
    assert store.count("posts") == 6
    assert store.count("media") == 6


def test_authors_are_pseudonymised_per_store(tmp_path):
    with open_store(tmp_path / "a.gpkg") as a, open_store(tmp_path / "b.gpkg") as b:
        for s in (a, b):
            with s.batch() as conn:
                s.add_posts(conn, _posts("p", 1))
        ha = a.scalar("SELECT author_hash FROM posts")
        hb = b.scalar("SELECT author_hash FROM posts")
    assert ha and hb and ha != hb and "user" not in ha


def test_migration_from_version_1_keeps_data(unmade_store_path):
    store_path = unmade_store_path
    with open_store(store_path, target_version=1) as old:
        assert old.schema_version == 1
        with old.batch() as conn:
            old.add_posts(conn, _posts("old", 3) + _posts("nogeo", 1, located=False))
        assert old.has_table("posts") and not old.has_table("predictions")
    with open_store(store_path) as new:
        assert new.schema_version == LATEST_VERSION
        assert new.count("posts") == 4
        assert new.count("unlocated_posts") == 1
        with new.batch() as conn:
            media = conn.execute("SELECT fid FROM media LIMIT 1").fetchone()[0]
            conn.execute(
                "INSERT INTO predictions (media_fid, model, label, score) VALUES (?, 'm@1', 'flood', .9)",
                (media,),
            )
        assert new.count("predictions") == 1


def test_store_from_a_newer_mist_is_refused(store_path):
    with open_store(store_path) as s:
        with s.batch() as conn:
            conn.execute("UPDATE mist_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreVersionError, match="newer"):
        open_store(store_path)


def test_other_files_are_refused(tmp_path):
    text = tmp_path / "notes.gpkg"
    text.write_text("hello")
    with pytest.raises(StoreError, match="not an SQLite"):
        open_store(text)
    foreign = tmp_path / "foreign.gpkg"
    sqlite3.connect(foreign).execute("CREATE TABLE roads (id)")
    with pytest.raises(StoreError, match="not a MIST store"):
        open_store(foreign)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "missing.gpkg", create=False)


def test_read_only_store_refuses_writes(store_path):
    open_store(store_path).close()
    with open_store(store_path, read_only=True) as ro:
        assert ro.count("posts") == 0
        with pytest.raises(StoreError, match="read-only"):
            with ro.batch():
                pass


def test_runs_and_issue_report(store):
    run = store.start_run("import", {"files": ["a.json"]})
    with store.batch() as conn:
        store.record_issues(conn, run, "import", [("a.json", 3, "latitude 91 out of range")])
    summary = store.finish_run(run, "done", {"imported": 10, "skipped": 1})
    assert summary.counts == {"imported": 10, "skipped": 1}
    assert [tuple(r) for r in store.issues_for_run(run)] == [("import", "a.json", 3, "latitude 91 out of range")]
    assert store.runs("import")[0].status == "done"


def _writer(path: str, prefix: str, batches: int, queue) -> None:
    try:
        with open_store(path) as s:
            for b in range(batches):
                with s.batch() as conn:
                    s.add_posts(conn, _posts(f"{prefix}-{b}-", 20))
        queue.put(("ok", prefix))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(("error", f"{prefix}: {exc!r}"))


def test_two_processes_write_concurrently(store_path):
    open_store(store_path).close()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(store_path), p, 40, queue)) for p in ("A", "B")]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(status == "ok" for status, _ in results), results
    with open_store(store_path) as s:
        assert s.count("posts") == 2 * 40 * 20
        assert s.count("media") == 2 * 40 * 20
        assert s.integrity_ok()


def test_crash_mid_batch_leaves_no_half_batch(store_path):
    with open_store(store_path) as s:
        with s.batch() as conn:
            s.add_posts(conn, _posts("committed", 5))
    script = textwrap.dedent(f"""
        import os
        from mist_qgis.core.posts import PostRecord
        from mist_qgis.core.store import open_store
        s = open_store({str(store_path)!r})
        with s.batch() as conn:
            s.add_posts(conn, [PostRecord(f"half{{i}}", "twitter", 1.0, 2.0) for i in range(50)])
            os._exit(3)  # the process dies mid-batch: no commit, no rollback, no cleanup
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr
    with open_store(store_path) as s:
        assert s.count("posts") == 5
        assert s.count("posts", "post_id LIKE 'half%'") == 0
        assert s.integrity_ok()


def test_exception_in_batch_rolls_back(store):
    with pytest.raises(RuntimeError):
        with store.batch() as conn:
            store.add_posts(conn, _posts("x", 3))
            raise RuntimeError("boom")
    assert store.count("posts") == 0


@pytest.mark.gpkg_only("the GeoPackage R-tree and its triggers")
def test_bulk_insert_keeps_the_rtree_and_its_trigger(store):
    def trigger_exists() -> bool:
        return bool(store.scalar(
            "SELECT count(*) FROM sqlite_master WHERE type='trigger' AND name='rtree_posts_geom_insert'"))

    with store.batch() as conn:
        store.add_posts(conn, _posts("a", 10) + _posts("u", 3, located=False))
    assert store.count("rtree_posts_geom") == 10 and trigger_exists()
    with pytest.raises(RuntimeError):
        with store.batch() as conn:
            store.add_posts(conn, _posts("b", 5))
            raise RuntimeError("cancelled mid-batch")
    assert store.count("rtree_posts_geom") == 10 and trigger_exists()
    with store.batch() as conn:  # a write that is not a bulk import still indexes through the trigger
        conn.execute("INSERT INTO posts (geom, post_id, platform) VALUES (?, 'x', 'manual')",
                     (gpkg.point_blob(5.0, 6.0),))
    assert store.scalar("SELECT minx FROM rtree_posts_geom WHERE maxy = 6.0") == 5.0


def test_only_runs_of_ended_processes_on_this_host_are_closed_as_interrupted(store_path):
    """A run left running by a process that is gone is failed on the next open; a live one, or
    one of another machine sharing the file, is left alone."""
    import socket

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True)
    dead_pid = int(ended.stdout)
    with open_store(store_path) as store:
        live = store.start_run("import")
        with store.batch() as conn:
            conn.executemany(
                "INSERT INTO runs (kind, started_at, host, pid) VALUES ('import', '2026-01-01T00:00:00Z', ?, ?)",
                [(socket.gethostname(), dead_pid), ("another-machine", dead_pid)])
    with open_store(store_path) as store:
        status = {r.run_id: (r.status, r.message) for r in store.runs()}
    assert status[live] == ("running", "")
    assert status[live + 1][0] == "failed" and status[live + 1][1].startswith("interrupted")
    assert status[live + 2] == ("running", "")


def test_photo_paths_follow_a_moved_store(tmp_path):
    """The posts' photo field points at the cache beside the store, wherever the store goes."""
    import shutil

    from tests.helpers.verify_store import build_store

    first = tmp_path / "a" / "s.gpkg"
    with open_store(first) as store:
        build_store(store, n=2)
    moved = tmp_path / "b" / "s.gpkg"
    moved.parent.mkdir()
    shutil.copyfile(first, moved)
    shutil.copytree(first.with_name("s.gpkg.media"), moved.with_name("s.gpkg.media"))
    with open_store(moved) as store:
        photos = [r[0] for r in store.query("SELECT photo FROM posts")]
        assert all(p.startswith(store.media_dir.resolve().as_posix() + "/") and Path(p).is_file() for p in photos)
