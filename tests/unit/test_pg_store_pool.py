"""The test suite's reuse of team stores: a reused store is as new (no rows, the migrations' own
rows, sequences from the start, a name never used), and a store whose catalog a test changed is
never handed out again."""

from __future__ import annotations

import pytest

from mist_qgis.core.store import open_store
from tests.helpers.pg_stores import StorePool
from tests.unit.test_store import _posts


@pytest.fixture
def pool(pg_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("MIST_MEDIA_ROOT", str(tmp_path / "team-media"))
    pool = StorePool(pg_cluster)
    yield pool
    pool.close()


def _new_store_rows(url):
    with open_store(url) as store:
        meta = dict(store.query("SELECT key, value FROM mist_meta"))
        with store.batch() as conn:
            store.add_posts(conn, _posts("p", 2))
        fids = [r[0] for r in store.query("SELECT fid FROM posts ORDER BY fid")]
        return meta, fids, store.count("posts")


def test_a_reused_store_is_as_new_under_a_new_name(pool):
    first = pool.take()
    meta, fids, count = _new_store_rows(pool.url(first))
    assert count == 2
    pool.give_back(first)
    second = pool.take()
    assert second != first and pool.reused == 1
    with open_store(pool.url(second)) as store:
        assert store.count("posts") == 0 and store.count("runs") == 0
        again = dict(store.query("SELECT key, value FROM mist_meta"))
        assert again.keys() == meta.keys() and again["schema_version"] == meta["schema_version"]
    assert _new_store_rows(pool.url(second))[1] == fids  # the sequences start again


@pytest.mark.parametrize("change", [
    "DROP INDEX {s}.idx_posts_time",
    "ALTER TABLE {s}.posts ADD COLUMN extra TEXT",
    "GRANT SELECT ON {s}.posts TO PUBLIC",
    "CREATE TABLE {s}.left_behind (x int)",
    "ALTER TABLE {s}.posts ALTER COLUMN text SET DEFAULT 'x'",
])
def test_a_store_whose_catalog_changed_is_dropped_not_reused(pool, pg_cluster, change):
    schema = pool.take()
    index = pg_cluster.psql(f"SELECT indexname FROM pg_indexes WHERE schemaname = '{schema}' "
                            "AND tablename = 'posts' AND indexname LIKE '%time%' LIMIT 1").strip()
    pg_cluster.execute(change.format(s=schema).replace("idx_posts_time", index or "missing"))
    pool.give_back(schema)
    assert pool.free == []
    assert pg_cluster.psql(f"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'").strip() == "0"
    fresh = pool.take()
    assert pool.reused == 0 and pool.made == 2  # the first store, then a new one
    with open_store(pool.url(fresh)) as store:
        assert not store.query("SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                               "AND table_name = 'posts' AND column_name = 'extra'")
