"""Store writes specific to importing posts: exact per-batch counts and the photo fields."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ..posts.record import PostRecord


def add_post_batch(
    store, conn: sqlite3.Connection, records: Sequence[PostRecord], run_id: int | None,
    keep_author_names: bool = False,
) -> tuple[int, int, int]:
    """Write one batch through `Store.add_posts`; returns (imported with a location, unlocated,
    duplicates). Located and unlocated posts go in separately so both are counted exactly."""
    located = [r for r in records if r.lon is not None and r.lat is not None]
    unlocated = [r for r in records if r.lon is None or r.lat is None] if len(located) != len(records) else []
    imported = duplicates = new_unlocated = 0
    if located:
        imported, duplicates = store.add_posts(conn, located, run_id, keep_author_names)
    if unlocated:
        new_unlocated, dup = store.add_posts(conn, unlocated, run_id, keep_author_names)
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
