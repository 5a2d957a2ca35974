"""Store writes specific to importing posts: exact per-batch counts and the photo fields."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from .post_rows import PostRow, is_located
from .store import SpatialIndexDeferral


def add_post_batch(
    store, conn: sqlite3.Connection, rows: Sequence[PostRow], run_id: int | None,
    keep_author_names: bool = False, deferred: SpatialIndexDeferral | None = None,
) -> tuple[int, int, int]:
    """Write one batch through `Store.add_post_rows`; returns (imported with a location,
    unlocated, duplicates). Located and unlocated posts go in separately so both are counted
    exactly. `deferred`: a `Store.deferred_spatial_index` the batch runs in."""
    located = [r for r in rows if is_located(r)]
    unlocated = [r for r in rows if not is_located(r)] if len(located) != len(rows) else []
    imported = duplicates = new_unlocated = 0
    if located:
        imported, duplicates = store.add_post_rows(conn, located, run_id, keep_author_names, deferred)
    if unlocated:
        new_unlocated, dup = store.add_post_rows(conn, unlocated, run_id, keep_author_names, deferred)
        duplicates += dup
    return imported, new_unlocated, duplicates


def set_photo_fields(
    conn: sqlite3.Connection, run_id: int, rows: Sequence[tuple[str | None, str | None, str | None, str, str]],
) -> None:
    """Set `photo`, `filename`, `directory` (the fields of QGIS's native:importphotos) on posts
    this run added: rows of (photo, filename, directory, platform, post_id)."""
    conn.executemany(
        "UPDATE posts SET photo = ?, filename = ?, directory = ? "
        "WHERE platform = ? AND post_id = ? AND import_run = ?",
        [(*row, run_id) for row in rows],
    )


BULK_WAL_PAGES = 16384


def tune_for_bulk(store) -> int:
    """Fewer WAL checkpoints (each one syncs the file) for the length of an import: up to 64 MiB
    of WAL between checkpoints instead of 4 MiB. Returns the setting `restore_tuning` puts back."""
    with store.batch() as conn:
        before = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        conn.execute(f"PRAGMA wal_autocheckpoint = {BULK_WAL_PAGES}")
    return before


def restore_tuning(store, before: int) -> None:
    with store.batch() as conn:
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(before)}")
