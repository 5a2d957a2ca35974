"""Bulk writes into a team store: posts by COPY, and the indexes a large load builds at the end.

Posts go in one of two ways, both one COPY per batch:

- straight into `posts` (`copy_new_posts`), with their fids taken from the table's sequence
  beforehand so their media rows need no lookup. This is the way when none of the batch is in
  the store yet, as in a first import;
- through a temporary table and one `INSERT ... ON CONFLICT DO NOTHING` (`stage_posts`) when
  some are: a re-import, a resumed import, two leads loading the same file at once.

`PgStore.add_post_rows` tries the first in a savepoint; a post already there (a unique violation)
rolls that back and the batch takes the second way, and so does the next batch until one adds
nothing twice. COPY data is formatted by psycopg's C dumpers, which refuse text with a NUL
(PostgreSQL text cannot hold one, a GeoPackage can): such a batch is written again with each NUL
as U+FFFD, as the store's bound parameters do.

Loading a store that is still (nearly) empty, the non-unique indexes of posts and media (the
GiST index among them) are dropped and built once at the end (`defer_indexes`,
`restore_indexes`): keeping them up to date costs more per row than the rows themselves. Each
dropped index is recorded in `mist_meta` in the transaction that drops it, and the loading
session holds an advisory lock for the store, so a store whose load died (the client killed, the
server restarted) gets its indexes back when it is next opened, and one opened while a load is
running leaves them to that load.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from .post_rows import AUTHOR, LAT, LON, MEDIA, PLATFORM, POST_ID, TEXT, PostRow

BULK_INDEX_BELOW = 10_000  # a store with fewer posts gets its indexes built after a bulk load
BULK_LOCK_TIMEOUT = "2s"
BULK_LOCK = 0x42554C4B  # "BULK": the advisory-lock class of a store's running bulk load
DEFERRED_INDEX = "pg_deferred_index:"  # mist_meta key prefix: an index dropped for a bulk load
DEFERRED_TABLES = ("posts", "media")
POSTS_GIST = "idx_posts_geom_gist"

_POINT = struct.Struct("<BIidd").pack  # little-endian EWKB point with an SRID
_EWKB_POINT_SRID = 0x20000001

Author = Callable[[str | None], str | None]


def copy_cursor(raw):
    """A cursor whose COPY formats text with psycopg's C dumper (the connection's NUL-safe one is
    Python, called once per value) and whose rows are plain tuples."""
    from psycopg.rows import tuple_row
    from psycopg.types.string import StrDumperUnknown

    cur = raw.cursor(row_factory=tuple_row)
    cur.adapters.register_dumper(str, StrDumperUnknown)
    return cur


def without_nul(rows: Sequence[tuple]) -> list[tuple] | None:
    """The rows with each NUL in their text (nested tuples too) as U+FFFD; None when none had one."""
    changed = False

    def clean(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, str) and "\x00" in value:
            changed = True
            return value.replace("\x00", "\ufffd")
        if isinstance(value, tuple):
            return tuple(clean(v) for v in value)
        return value

    out = [tuple(clean(v) for v in row) for row in rows]
    return out if changed else None


def nul_safe(raw, rows: Sequence[PostRow], write: Callable[[Sequence[PostRow]], int]) -> int:
    """`write(rows)` in a savepoint; when psycopg refuses a NUL in their text, again with the NULs
    replaced. Other errors (a unique violation among them) roll the savepoint back and propagate."""
    import psycopg

    try:
        with raw.transaction():
            return write(rows)
    except psycopg.DataError:
        cleaned = without_nul(rows)
        if cleaned is None:
            raise
    with raw.transaction():
        return write(cleaned)


_COPY_POSTS = (
    'COPY posts (fid, geom, post_id, platform, author_hash, text, lang, url, media_url, "timestamp", geo_source, '
    "geo_accuracy_m, photo, direction, altitude, is_repost, source_file, source_line, attributes, orig_lon, "
    "orig_lat, import_run) FROM STDIN"
)
_COPY_MEDIA = "COPY media (post_fid, position, kind, url, source_path) FROM STDIN"


def copy_new_posts(raw, rows: Sequence[PostRow], run_id: int | None, author: Author) -> int:
    """COPY posts none of which is in the store (else a unique violation), and their media."""
    cur = copy_cursor(raw)
    # the sequence looked up once, not once per fid
    cur.execute("WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('posts', 'fid')::regclass AS seq) "
                "SELECT array_agg(nextval(s.seq)) FROM s, generate_series(1, %s)", (len(rows),))
    fids = sorted(cur.fetchone()[0])
    media = []
    point = _POINT
    with cur.copy(_COPY_POSTS) as copy:
        write = copy.write_row
        for fid, row in zip(fids, rows, strict=True):
            lon, lat = row[LON], row[LAT]
            geom = None if lon is None or lat is None else point(1, _EWKB_POINT_SRID, 4326, lon, lat).hex()
            write((fid, geom, row[POST_ID], row[PLATFORM], author(row[AUTHOR]), *row[TEXT:MEDIA], run_id))
            if row[MEDIA]:
                media.extend((fid, pos, *m) for pos, m in enumerate(row[MEDIA]))
    _copy_media(cur, media)
    return len(rows)


_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS mist_posts_in (
    ord integer, post_id text, platform text, author_hash text, text text, lang text, url text,
    media_url text, "timestamp" text, geo_source text, geo_accuracy_m float8, photo text,
    direction float8, altitude float8, is_repost boolean, source_file text, source_line bigint,
    attributes text, lon float8, lat float8) ON COMMIT DELETE ROWS
"""
_COPY_STAGING = (
    "COPY mist_posts_in (ord, post_id, platform, author_hash, text, lang, url, media_url, \"timestamp\", "
    "geo_source, geo_accuracy_m, photo, direction, altitude, is_repost, source_file, source_line, attributes, "
    "lon, lat) FROM STDIN"
)
_INSERT_FROM_STAGING = """
WITH fresh AS (
    SELECT DISTINCT ON (platform, post_id) * FROM mist_posts_in ORDER BY platform, post_id, ord
), added AS (
    INSERT INTO posts (geom, post_id, platform, author_hash, text, lang, url, media_url, "timestamp",
        geo_source, geo_accuracy_m, photo, direction, altitude, is_repost, source_file, source_line,
        attributes, orig_lon, orig_lat, import_run)
    SELECT CASE WHEN lon IS NULL OR lat IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END,
        post_id, platform, author_hash, text, lang, url, media_url, "timestamp"::timestamptz, geo_source,
        geo_accuracy_m, photo, direction, altitude, coalesce(is_repost, false), source_file, source_line,
        attributes, lon, lat, %(run)s
    FROM fresh ORDER BY ord
    ON CONFLICT (platform, post_id) DO NOTHING
    RETURNING fid, platform, post_id
)
SELECT a.fid, f.ord FROM added a JOIN fresh f USING (platform, post_id)
"""


def stage_posts(raw, rows: Sequence[PostRow], run_id: int | None, author: Author) -> int:
    """Posts through a temporary table and one INSERT ... ON CONFLICT DO NOTHING: a post already in
    the store (or sent at the same moment by another lead) adds nothing. Returns how many were added."""
    cur = copy_cursor(raw)
    cur.execute(_STAGING)
    with cur.copy(_COPY_STAGING) as copy:
        write = copy.write_row
        for ordinal, row in enumerate(rows):
            write((ordinal, row[POST_ID], row[PLATFORM], author(row[AUTHOR]), *row[TEXT:LON], row[LON], row[LAT]))
    cur.execute(_INSERT_FROM_STAGING, {"run": run_id})
    new = {int(ordinal): int(fid) for fid, ordinal in cur.fetchall()}
    _copy_media(cur, [(new[i], pos, *m) for i, row in enumerate(rows) if i in new
                      for pos, m in enumerate(row[MEDIA])])
    return len(new)


def _copy_media(cur, media: list[tuple]) -> None:
    if media:
        with cur.copy(_COPY_MEDIA) as copy:
            write = copy.write_row
            for m in media:
                write(m)


# -- indexes built once at the end of a bulk load ----------------------------------------------------


def take_bulk_lock(raw) -> bool:
    """This session's claim on the store's bulk load (held until `release_bulk_lock` or the
    session ends); False when another session holds it."""
    return bool(raw.execute("SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", (BULK_LOCK,)).fetchone()[0])


def release_bulk_lock(raw) -> None:
    raw.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", (BULK_LOCK,))


def defer_indexes(raw) -> list[str]:
    """Drop the non-unique indexes of posts and media, each recorded in mist_meta in the same
    transaction; the names dropped. Nothing is dropped when this login does not own the tables
    or a reader holds them for longer than BULK_LOCK_TIMEOUT (the load then keeps them)."""
    import psycopg

    try:
        with raw.transaction():
            raw.execute(f"SET LOCAL lock_timeout = '{BULK_LOCK_TIMEOUT}'")
            found = raw.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s) "
                "AND NOT i.indisunique ORDER BY c.relname", (list(DEFERRED_TABLES),)).fetchall()
            for name, definition in found:
                raw.execute("INSERT INTO mist_meta (key, value) VALUES (%s, %s) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            (DEFERRED_INDEX + name, definition))
                raw.execute(f'DROP INDEX "{name}"')
        return [name for name, _ in found]
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.LockNotAvailable):
        return []


def restore_indexes(raw) -> list[str]:
    """Build every index recorded as deferred and clear its record (one transaction each); the
    names built. Also builds the GiST index of posts if it is missing without a record (a load
    by an earlier MIST that died)."""
    built = []
    for key, definition in raw.execute(
            "SELECT key, value FROM mist_meta WHERE starts_with(key, %s) ORDER BY key", (DEFERRED_INDEX,)).fetchall():
        with raw.transaction():
            raw.execute(definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
            raw.execute("DELETE FROM mist_meta WHERE key = %s", (key,))
        built.append(key[len(DEFERRED_INDEX):])
    if raw.execute("SELECT to_regclass('posts') IS NOT NULL AND to_regclass(%s) IS NULL", (POSTS_GIST,)).fetchone()[0]:
        raw.execute(f"CREATE INDEX IF NOT EXISTS {POSTS_GIST} ON posts USING GIST (geom)")
        built.append(POSTS_GIST)
    return built


def restore_indexes_of_dead_load(raw) -> list[str]:
    """On opening a store: the indexes of a bulk load that died, unless a load is running now.
    Nothing when this login may not build them (not the tables' owner: the owner's next opening
    does)."""
    import psycopg

    if raw.execute("SELECT to_regclass('mist_meta') IS NULL").fetchone()[0]:
        return []
    if not raw.execute(
            "SELECT EXISTS (SELECT 1 FROM mist_meta WHERE starts_with(key, %s)) "
            "OR (to_regclass('posts') IS NOT NULL AND to_regclass(%s) IS NULL)",
            (DEFERRED_INDEX, POSTS_GIST)).fetchone()[0]:
        return []  # nothing to build (every opening but the one after a load that died)
    if not take_bulk_lock(raw):
        return []
    try:
        return restore_indexes(raw)
    except psycopg.errors.InsufficientPrivilege:
        return []
    finally:
        release_bulk_lock(raw)
