"""The packed R-tree: SQLite's own checker accepts it, it answers window queries exactly as an
R-tree filled one insert at a time, it keeps working under later inserts and deletes, and an
import that died before packing is completed when the store is next opened."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from mist_qgis.core.posts import PostRecord
from mist_qgis.core.store import open_store
from mist_qgis.core.store.post_rows import post_row
from mist_qgis.core.store.rtree_bulk import cells_from_boxes, index_missing, pack_rtree
from mist_qgis.core.store.store import SpatialIndexDeferral

pytestmark = pytest.mark.gpkg_only("packs the GeoPackage R-tree")


def _rtree(conn: sqlite3.Connection, name: str) -> None:
    conn.execute(f"CREATE VIRTUAL TABLE {name} USING rtree(id, minx, maxx, miny, maxy)")


def _boxes(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-179.9, 179, n)
    y = rng.uniform(-89.9, 89, n)
    w = np.where(rng.random(n) < 0.7, 0.0, rng.uniform(0, 0.9, n))  # mostly points, some boxes
    h = np.where(w == 0, 0.0, rng.uniform(0, 0.9, n))
    ids = rng.permutation(np.arange(1, 3 * n + 1))[:n]
    return np.column_stack([ids, x, x + w, y, y + h])


def _window(conn: sqlite3.Connection, name: str, q: tuple[float, float, float, float]) -> list[int]:
    return sorted(r[0] for r in conn.execute(
        f"SELECT id FROM {name} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?", q))


@pytest.mark.parametrize("n", [0, 1, 51, 52, 5000, 30_000])
def test_packed_tree_is_valid_and_answers_like_an_inserted_one(n):
    conn = sqlite3.connect(":memory:")
    _rtree(conn, "packed")
    _rtree(conn, "inserted")
    boxes = _boxes(n)
    pack_rtree(conn, "packed", cells_from_boxes(boxes))
    conn.executemany("INSERT INTO inserted VALUES (?, ?, ?, ?, ?)", boxes.tolist())
    assert conn.execute("SELECT rtreecheck('packed')").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM packed").fetchone()[0] == n
    rng = np.random.default_rng(11)
    for _ in range(40):
        x0, y0 = rng.uniform(-180, 170), rng.uniform(-90, 80)
        q = (x0, x0 + rng.uniform(0.01, 30), y0, y0 + rng.uniform(0.01, 30))
        assert _window(conn, "packed", q) == _window(conn, "inserted", q)
    # stored coordinates round outward exactly as the R-tree module rounds them
    assert sorted(conn.execute("SELECT * FROM packed")) == sorted(conn.execute("SELECT * FROM inserted"))


def test_packed_tree_takes_later_inserts_and_deletes():
    conn = sqlite3.connect(":memory:")
    _rtree(conn, "t")
    boxes = _boxes(20_000)
    pack_rtree(conn, "t", cells_from_boxes(boxes))
    extra = _boxes(3000, seed=9)
    extra[:, 0] += 10**7
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", extra.tolist())
    conn.executemany("DELETE FROM t WHERE id = ?", [(int(i),) for i in boxes[::3, 0]])
    assert conn.execute("SELECT rtreecheck('t')").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 20_000 - len(boxes[::3]) + 3000


def _located(prefix: str, n: int) -> list[PostRecord]:
    return [PostRecord(post_id=f"{prefix}{i}", platform="twitter", lon=113.5 + (i % 97) * 1e-3,
                       lat=34.6 + (i // 97) * 1e-3, text="x") for i in range(n)]


def _assert_index_complete(store) -> None:
    assert store.scalar("SELECT rtreecheck('rtree_posts_geom')") == "ok"
    assert store.count("rtree_posts_geom") == store.count("posts", "geom IS NOT NULL")
    assert store.count("mist_meta", "key LIKE 'rtree_pending:%'") == 0


@pytest.mark.parametrize("before, added", [(0, 3000), (200, 3000), (5000, 300)])
def test_deferred_index_fills_by_packing_or_by_inserting(store, before, added):
    """A few posts into a large tree go in one by one; many go in by repacking the whole tree."""
    with store.batch() as conn:
        store.add_posts(conn, _located("old", before))
    with store.deferred_spatial_index() as deferred, store.batch() as conn:
        rows = [post_row(r) for r in _located("new", added)]
        assert store.add_post_rows(conn, rows, deferred=deferred) == (added, 0)
        assert store.count("rtree_posts_geom") == before  # nothing indexed until the end
    _assert_index_complete(store)
    boxes = store.query("SELECT p.orig_lon, p.orig_lat, r.minx, r.maxx, r.miny, r.maxy "
                        "FROM posts p JOIN rtree_posts_geom r ON r.id = p.fid")
    assert len(boxes) == before + added
    assert all(minx <= lon <= maxx and miny <= lat <= maxy for lon, lat, minx, maxx, miny, maxy in boxes)


def test_an_import_that_died_before_indexing_is_completed_on_open(store_path):
    with open_store(store_path) as store:
        with store.batch() as conn:
            store.add_posts(conn, _located("a", 100))
        died = SpatialIndexDeferral("rtree_pending:died", since=101)  # as a killed import leaves it
        with store.batch() as conn:
            store.add_post_rows(conn, [post_row(r) for r in _located("b", 2000)], deferred=died)
        assert store.count("rtree_posts_geom") == 100
    with open_store(store_path) as store:
        _assert_index_complete(store)
        assert store.count("rtree_posts_geom") == 2100


def test_index_missing_is_idempotent(store):
    with store.batch() as conn:
        store.add_posts(conn, _located("a", 500))
        assert index_missing(conn, "posts") == 0
        conn.execute("DELETE FROM rtree_posts_geom WHERE id <= 10")
        assert index_missing(conn, "posts") == 10
        assert index_missing(conn, "posts") == 0
    _assert_index_complete(store)


def test_a_defensive_sqlite_falls_back_to_inserting_through_the_module(store, monkeypatch):
    from mist_qgis.core.store import rtree_bulk

    def refused(conn, rtree, cells):
        raise sqlite3.OperationalError(f"table {rtree}_node may not be modified")

    monkeypatch.setattr(rtree_bulk, "pack_rtree", refused)
    with store.deferred_spatial_index() as deferred, store.batch() as conn:
        store.add_post_rows(conn, [post_row(r) for r in _located("d", 700)], deferred=deferred)
    _assert_index_complete(store)
    assert store.count("rtree_posts_geom") == 700


def test_a_tree_too_large_to_pack_in_memory_is_filled_through_the_module(store, monkeypatch):
    from mist_qgis.core.store import rtree_bulk

    monkeypatch.setattr(rtree_bulk, "MAX_PACKED", 1000)
    monkeypatch.setattr(rtree_bulk, "_CHUNK", 300)  # several chunks
    with store.deferred_spatial_index() as deferred, store.batch() as conn:
        store.add_post_rows(conn, [post_row(r) for r in _located("big", 1500)], deferred=deferred)
    _assert_index_complete(store)
    assert store.count("rtree_posts_geom") == 1500
