"""The team store's own faults and rights, on a real PostgreSQL: roles, passwords that never land
anywhere, a database without PostGIS, and a server that goes away in the middle of an import."""

from __future__ import annotations

import itertools
import json
import logging
import subprocess

import pytest

from mist_qgis.core.posts import PostRecord
from mist_qgis.core.posts.importer import ImportOptions, import_posts
from mist_qgis.core.store import StoreError, open_store
from mist_qgis.core.store.pg import qgis_layer_uri, redact
from mist_qgis.core.verify.records import Verdict
from mist_qgis.core.verify.team import next_post, set_verifications_per_post
from mist_qgis.core.verify.verdicts import write_verdict
from tests.helpers.pgcluster import PG_BIN, PORT, start_cluster
from tests.helpers.processes import run_in_processes

_ids = itertools.count()


def _schema(cluster) -> tuple[str, str]:
    name = f"team{next(_ids)}"
    cluster.execute(f"CREATE SCHEMA {name}")
    return name, f"-csearch_path%3D{name},public"


def _login(cluster, role: str, group: str | None) -> tuple[str, str]:
    name = f"{role}{next(_ids)}"
    secret = f"S3cret-{name}-pw"
    cluster.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{secret}'" + (f" IN ROLE {group}" if group else ""))
    return name, secret


def _jsonl(path, n: int) -> None:
    path.write_text("".join(json.dumps({
        "id": 10_000 + i, "id_str": str(10_000 + i), "text": f"water {i}",
        "created_at": "Tue Jul 20 08:00:00 +0000 2021",
        "user": {"screen_name": f"u{i}"}, "coordinates": {"type": "Point", "coordinates": [113.6 + i / 1e4, 34.7]},
    }) + "\n" for i in range(n)), encoding="utf-8")


def test_analysts_write_verdicts_only_leads_import_and_change_settings(pg_cluster, tmp_path):
    _, options = _schema(pg_cluster)
    with open_store(pg_cluster.url(options=options)) as admin:  # creates the store and the roles
        with admin.batch() as conn:
            admin.add_posts(conn, [PostRecord(f"p{i}", "weibo", 113.6, 34.7) for i in range(3)])
    ana, ana_pw = _login(pg_cluster, "ana", "mist_analyst")
    lea, lea_pw = _login(pg_cluster, "lea", "mist_lead")
    _jsonl(tmp_path / "more.jsonl", 5)
    with open_store(pg_cluster.url(user=ana, password=ana_pw, options=options)) as store:
        post = next_post(store, ana)
        write_verdict(store, Verdict(post.post_fid, "flood", ana, note="knee deep"), seen=post.seen)
        for lead_only in (lambda: import_posts(store, [tmp_path / "more.jsonl"]),
                          lambda: set_verifications_per_post(store, 2),
                          lambda: store.start_run("classify")):
            with pytest.raises(StoreError, match="may not do this.*ask a lead") as caught:
                lead_only()
            assert "\n" not in str(caught.value)
        assert store.count("posts") == 3
    with open_store(pg_cluster.url(user=lea, password=lea_pw, options=options)) as store:
        assert import_posts(store, [tmp_path / "more.jsonl"]).imported == 5
        set_verifications_per_post(store, 2)
        with store.batch() as conn:
            conn.execute("DELETE FROM posts WHERE post_id = 'p2'")
        assert store.count("posts") == 7 and store.count("verifications") == 1


def test_both_roles_read_every_table_and_analysts_save_post_categories(pg_cluster):
    """Every table and sequence of a team store, those of later migrations included, is read by
    analysts and fully used by leads; an analyst categorises a post and takes it back."""
    from mist_qgis.core.text.analyst import set_post_categories, undo_post_categories
    from mist_qgis.core.text.categories import load_categories

    _, options = _schema(pg_cluster)
    with open_store(pg_cluster.url(options=options)) as admin:
        with admin.batch() as conn:
            admin.add_posts(conn, [PostRecord("p0", "weibo", 113.6, 34.7, text="water on the road")])
        fid = admin.query("SELECT fid FROM posts")[0][0]
        lacking = admin.query(
            "SELECT c.relname, r.role, r.privilege FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
            "JOIN (VALUES ('mist_analyst', 'SELECT'), ('mist_lead', 'SELECT'), ('mist_lead', 'INSERT'), "
            "('mist_lead', 'UPDATE'), ('mist_lead', 'DELETE')) AS r(role, privilege) ON true "
            "WHERE c.relkind IN ('r', 'v', 'p') AND NOT has_table_privilege(r.role, c.oid, r.privilege) "
            "UNION ALL SELECT c.relname, r.role, 'USAGE' FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
            "JOIN (VALUES ('mist_analyst'), ('mist_lead')) AS r(role) ON true "
            "WHERE c.relkind = 'S' AND NOT has_sequence_privilege(r.role, c.oid, 'USAGE') ORDER BY 1, 2, 3")
        assert [tuple(row) for row in lacking] == []
    ana, ana_pw = _login(pg_cluster, "ana", "mist_analyst")
    with open_store(pg_cluster.url(user=ana, password=ana_pw, options=options)) as store:
        name = load_categories(store)[0].name
        receipt = set_post_categories(store, fid, [name], ana)
        assert tuple(store.query("SELECT text_categories, text_category_source FROM posts")[0]) == (name, "analyst")
        undo_post_categories(store, receipt)
        assert store.query("SELECT text_categories FROM posts")[0][0] is None
        assert store.count("post_categories") == 0


def test_no_password_is_written_anywhere(pg_cluster, tmp_path, caplog):
    schema, options = _schema(pg_cluster)
    open_store(pg_cluster.url(options=options)).close()
    lea, secret = _login(pg_cluster, "lea", "mist_lead")
    url = pg_cluster.url(user=lea, password=secret, options=options)
    _jsonl(tmp_path / "posts.jsonl", 20)
    caplog.set_level(logging.DEBUG, logger="mist")
    with open_store(url) as store:
        summary = import_posts(store, [tmp_path / "posts.jsonl"])
        post = next_post(store, lea)
        write_verdict(store, Verdict(post.post_fid, "flood", lea, note="seen from the bridge"))
        shown = [store.target, json.dumps(store.summary()), json.dumps(summary.as_dict(), default=str),
                 qgis_layer_uri(url, "posts"), redact(url), caplog.text]
    dump = subprocess.run([str(PG_BIN / "pg_dump"), "-h", str(pg_cluster.socket_dir), "-p", str(PORT),
                           "-U", pg_cluster.user, "-n", schema, "mist"], capture_output=True, text=True, check=True)
    assert "seen from the bridge" in dump.stdout  # the dump holds the store's data ...
    for text in [*shown, dump.stdout]:
        assert secret not in text  # ... and never the password
    assert lea in store.target and "password" not in store.target


def test_wrong_password_no_postgis_and_no_rights_each_say_what_to_do(pg_cluster):
    _, options = _schema(pg_cluster)
    open_store(pg_cluster.url(options=options)).close()
    ana, _ = _login(pg_cluster, "ana", "mist_analyst")
    with pytest.raises(StoreError, match="refused the password.*pgpass") as caught:
        open_store(pg_cluster.url(user=ana, password="not-the-password", options=options))
    assert "not-the-password" not in str(caught.value)
    pg_cluster.psql("CREATE DATABASE nogis", database="postgres")
    with pytest.raises(StoreError, match="PostGIS extension is not installed.*CREATE EXTENSION postgis"):
        open_store(pg_cluster.url(database="nogis"))
    nobody, pw = _login(pg_cluster, "nobody", None)
    with pytest.raises(StoreError, match="may not do this"):
        open_store(pg_cluster.url(user=nobody, password=pw, options=options))
    with pytest.raises(StoreError, match="cannot reach the PostgreSQL server.*running"):
        open_store("postgresql://x@/mist?host=/nonexistent-socket-dir&port=5999")


@pytest.mark.parametrize("stop_mode", ["fast", "immediate"])
def test_server_restart_mid_import_loses_only_the_batch_in_flight_and_the_import_resumes(
        tmp_path, stop_mode, monkeypatch):
    monkeypatch.setattr("mist_qgis.core.store.pg.RECONNECT_SECONDS", 1.0)
    cluster = start_cluster()  # a cluster of its own: this test stops it
    try:
        _jsonl(tmp_path / "posts.jsonl", 3000)
        store = open_store(cluster.url())
        calls = []

        def stop_after_two_batches(_fraction: float) -> None:
            calls.append(1)
            if len(calls) == 2:
                cluster.stop(stop_mode)

        with pytest.raises(StoreError, match="cannot reach the PostgreSQL server.*resumes") as caught:
            import_posts(store, [tmp_path / "posts.jsonl"], ImportOptions(batch_size=500),
                         progress=stop_after_two_batches)
        assert "\n" not in str(caught.value)
        cluster.start()
        committed = store.count("posts")  # the same Store object reconnects by itself
        assert committed % 500 == 0 and 0 < committed < 3000  # whole batches only
        summary = import_posts(store, [tmp_path / "posts.jsonl"], ImportOptions(batch_size=500))
        assert (summary.imported, summary.duplicates) == (3000 - committed, committed)
        assert store.count("posts") == 3000 == store.scalar("SELECT count(DISTINCT post_id) FROM posts")
        store.close()
    finally:
        cluster.remove()


def _lead_import(target: str, path: str, queue) -> None:
    try:
        with open_store(target) as store:
            summary = import_posts(store, [path], ImportOptions(batch_size=300))
        queue.put(("ok", summary.imported, summary.duplicates))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(("error", repr(exc), 0))


def test_two_leads_importing_the_same_file_at_once_add_every_post_once(pg_store_url, tmp_path):
    _jsonl(tmp_path / "same.jsonl", 3000)
    open_store(pg_store_url).close()
    results = run_in_processes(_lead_import, [(pg_store_url, str(tmp_path / "same.jsonl"))] * 2)
    assert all(r[0] == "ok" for r in results), results
    assert sum(r[1] for r in results) == 3000 and sum(r[2] for r in results) == 3000
    with open_store(pg_store_url) as store:
        assert store.count("posts") == 3000 == store.scalar("SELECT count(DISTINCT post_id) FROM posts")


def test_a_bulk_load_builds_the_spatial_index_at_the_end_even_after_a_crash(pg_store_url, tmp_path):
    def has_index(store) -> bool:
        return store.scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_posts_geom_gist' "
                            "AND schemaname = current_schema()") == 1

    _jsonl(tmp_path / "posts.jsonl", 1200)
    with open_store(pg_store_url) as store:
        seen = []
        import_posts(store, [tmp_path / "posts.jsonl"], ImportOptions(batch_size=500),
                     progress=lambda _f: seen.append(has_index(store)))
        assert seen[0] is False and has_index(store)  # dropped while loading an empty store, then built
        inside = sum(1 for i in range(1200) if 113.6 + i / 1e4 <= 113.61)
        assert store.count("posts", "geom && ST_MakeEnvelope(113.6, 34.6, 113.61, 34.8, 4326)") == inside
        store._conn.raw.execute("DROP INDEX idx_posts_geom_gist")  # as if a load had died half-way
    with open_store(pg_store_url) as store:
        assert has_index(store)


def _import_then_hang(target: str, path: str, queue) -> None:
    """Import until two batches are in, say so, then hang inside the load until killed."""
    import time

    def hang_after_two(_fraction: float, calls=[]) -> None:  # noqa: B006 - a counter across calls
        calls.append(1)
        if len(calls) == 3:  # the first call comes before any batch
            queue.put(("loading", None, None))
            time.sleep(600)

    store = open_store(target)
    import_posts(store, [path], ImportOptions(batch_size=400, parallel=False), progress=hang_after_two)


def test_an_import_killed_mid_load_gets_its_deferred_indexes_back_on_the_next_opening(pg_store_url, tmp_path):
    import multiprocessing

    def indexes(store) -> set[str]:
        return {r[0] for r in store.query(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('posts', 'media')")}

    _jsonl(tmp_path / "posts.jsonl", 1500)
    with open_store(pg_store_url) as store:
        before = indexes(store)
    assert {"idx_posts_geom_gist", "idx_posts_timestamp", "idx_posts_unverified", "idx_media_status"} <= before
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_import_then_hang, args=(pg_store_url, str(tmp_path / "posts.jsonl"), queue))
    child.start()
    try:
        assert queue.get(timeout=120)[0] == "loading"
        with open_store(pg_store_url) as store:  # opened while the load runs: its indexes stay deferred
            during = indexes(store)
            recorded = {r[0] for r in store.query("SELECT key FROM mist_meta WHERE key LIKE 'pg_deferred_index:%'")}
            assert store.count("posts") == 800
    finally:
        child.kill()
        child.join(timeout=60)
    unique = {"posts_pkey", "uq_posts_platform_id", "media_pkey", "uq_media_post_position"}
    assert during == unique and recorded == {f"pg_deferred_index:{n}" for n in before - unique}
    with open_store(pg_store_url) as store:  # the loading session is gone: the next opening builds them
        assert indexes(store) == before
        assert store.count("mist_meta", "key LIKE 'pg_deferred_index:%'") == 0
        inside = sum(1 for i in range(800) if 113.6 + i / 1e4 <= 113.61)
        assert store.count("posts", "geom && ST_MakeEnvelope(113.6, 34.6, 113.61, 34.8, 4326)") == inside
        summary = import_posts(store, [tmp_path / "posts.jsonl"], ImportOptions(batch_size=400))
        assert (summary.imported, summary.duplicates) == (700, 800)  # the import resumes, counts exact
        assert store.count("posts") == 1500 == store.scalar("SELECT count(DISTINCT post_id) FROM posts")


def test_a_pipelined_batch_lands_whole_or_not_at_all(pg_store_url):
    from mist_qgis.core.store.pipeline import submit

    with open_store(pg_store_url) as store:
        with pytest.raises(StoreError, match="duplicate key"):
            with store.batch(pipeline=True) as conn:
                submit(conn, "INSERT INTO mist_meta (key, value) VALUES ('a', '1')")
                submit(conn, "INSERT INTO mist_meta (key, value) VALUES ('a', '2')")  # fails when the COMMIT is sent
        with pytest.raises(RuntimeError, match="changed my mind"):
            with store.batch(pipeline=True) as conn:
                submit(conn, "INSERT INTO mist_meta (key, value) VALUES ('b', '1')")
                assert submit(conn, "SELECT value FROM mist_meta WHERE key = 'b'").fetchone()[0] == "1"
                raise RuntimeError("changed my mind")
        assert store.get_meta("a") is None and store.get_meta("b") is None
        with store.batch(pipeline=True) as conn:  # the connection is still good
            written = submit(conn, "INSERT INTO mist_meta (key, value) VALUES ('c', 'it''s here')")
            read = submit(conn, "SELECT value FROM mist_meta WHERE key = 'c'")
        assert written.rowcount == 1 and read.fetchone()[0] == "it's here"
    with open_store(pg_store_url) as other:
        assert other.get_meta("c") == "it's here"
