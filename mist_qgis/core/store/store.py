"""`Store`: connection handling, migrations, runs and batched writes on a GeoPackage."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import MistError
from ..posts.record import PostRecord
from ..stage import MediaStatus, StageResult, Status
from . import gpkg, rtree_bulk
from .dialect import LISTED_ATTRIBUTE_TABLES
from .post_rows import AUTHOR, LAT, LON, MEDIA, PLATFORM, POST_ID, TEXT, PostRow, first_of_each, post_row
from .runs import close_interrupted_runs, interrupted_runs, this_process
from .schema import LATEST_VERSION, MIGRATIONS

BUSY_TIMEOUT_MS = 30_000
PENDING_INDEX = "rtree_pending:"


class StoreError(MistError):
    """A store cannot be opened or written; the message says why in user terms."""


class StoreVersionError(StoreError):
    """The store was written by a newer MIST than this one."""


# SQLite result codes that say something about the file or the disk, not about MIST's SQL
_ENVIRONMENT_CODES = ("SQLITE_READONLY", "SQLITE_FULL", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_BUSY",
                      "SQLITE_LOCKED", "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_PERM", "SQLITE_NOLFS")


def store_error(path: Path, exc: BaseException) -> StoreError | None:
    """The one line a user reads when the store's file, folder or disk refuses: a read-only
    file or folder, a full disk, a folder given as the store, a file that is not a database, a
    damaged one, a lock held too long. None for anything else (a bug keeps its traceback)."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, IsADirectoryError):
        return StoreError(f"{path} is a folder; a store is a .gpkg file (for example {path / 'store.gpkg'})")
    if isinstance(exc, PermissionError):
        return StoreError(f"store {path} cannot be opened: permission denied")
    if isinstance(exc, OSError):
        return StoreError(f"store {path} cannot be used: {exc.strerror or exc}")
    if not isinstance(exc, sqlite3.Error) or isinstance(exc, sqlite3.IntegrityError | sqlite3.InterfaceError):
        return None
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return StoreError(f"store {path} is read-only (the file, its folder or the disk): copy it to a folder "
                          "you can write to, or open it read-only")
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return StoreError(f"the disk holding store {path} is full: free some space and run the step again "
                          "(the batch in flight was not written; everything before it is kept)")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open database" in text:
        return StoreError(f"cannot open store {path}: the file or its folder cannot be opened for writing")
    if name.startswith("SQLITE_NOTADB") or "not a database" in text:
        return StoreError(f"{path} is not a GeoPackage (not an SQLite database)")
    if name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return StoreError(f"store {path} is damaged ({text}); restore it from a copy")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return StoreError(f"store {path} is locked by another program for longer than "
                          f"{BUSY_TIMEOUT_MS // 1000} s; close it there and run the step again")
    if name.startswith(_ENVIRONMENT_CODES):
        return StoreError(f"cannot read or write store {path}: {text}")
    return None


@contextmanager
def store_errors(path: Path) -> Iterator[None]:
    """Raise `store_error`'s StoreError for what the file or disk refuses inside the block."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        error = store_error(path, exc)
        if error is None or error is exc:
            raise
        raise error from exc


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class SpatialIndexDeferral:
    """Posts from fid `since` on may lack R-tree entries until this deferral ends."""

    key: str
    since: int

    def mark(self, conn: sqlite3.Connection) -> None:
        conn.execute("INSERT OR REPLACE INTO mist_meta (key, value) VALUES (?, ?)", (self.key, str(self.since)))


def sqlite_uri(path: Path, mode: str) -> str:
    """An SQLite URI for a file path: `#`, `?` and `%` in a name are escaped, or SQLite would read
    them as the URI's fragment, query or an escape, and open (or create) another file."""
    return f"{Path(path).absolute().as_uri()}?mode={mode}"  # as_uri escapes them (and drive letters)


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    uri = sqlite_uri(path, "ro" if read_only else "rwc")
    conn = sqlite3.connect(
        uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: bulk imports touch several indexes per row
    gpkg.register_functions(conn)
    return conn


class Store:
    """A MIST store on one GeoPackage file.

    Use `open_store(path)`; it creates or migrates the file. One `Store` object may be used from
    several threads: writes are serialised by a lock and SQLite's own locking; separate processes
    (two QGIS sessions) share the file through WAL mode and the busy timeout.
    """

    dialect = "sqlite"

    def __init__(self, path: Path, conn: sqlite3.Connection, read_only: bool) -> None:
        self.path = path
        self.target = str(path)  # how the store is named to users (a team store: without password)
        self.read_only = read_only
        self._conn = conn
        self._lock = threading.RLock()
        self._author_hashes: dict[str, str] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reopen(self, read_only: bool = True) -> Store:
        """The same store on a connection of its own (a background count, a second reader),
        without the caller having to know how it was named or authenticated."""
        return open_gpkg_store(self.path, create=False, read_only=read_only)

    @property
    def media_dir(self) -> Path:
        """The content-addressed photo cache of this store: `<store>.media/` beside the file."""
        return self.path.with_name(self.path.name + ".media")

    def media_file(self, cache_path: str) -> Path:
        """Absolute path of a cached photo from its `media.cache_path` (relative to media_dir)."""
        resolved = (self.media_dir / cache_path).resolve()
        if self.media_dir.resolve() not in resolved.parents:
            raise StoreError(f"cache path {cache_path!r} escapes the media folder")
        return resolved

    @property
    def schema_version(self) -> int:
        return _schema_version(self._conn)

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def batch(self, pipeline: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything inside lands together or not at all.

        BEGIN IMMEDIATE takes the write lock up front, so two sessions queue on the busy
        timeout instead of failing on a lock upgrade. `pipeline` matters on a team store only
        (`pipeline.submit`): a GeoPackage answers each statement at once.
        """
        if self.read_only:
            raise StoreError(f"{self.target} is open read-only")
        with self._lock, store_errors(self.path), write_transaction(self._conn) as conn:
            yield conn

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        with self._lock, store_errors(self.path):
            return self._conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.query(sql, params)
        return row[0][0] if row else None

    def has_table(self, name: str) -> bool:
        """Whether the store holds a table or view of this name."""
        return bool(self.scalar("SELECT count(*) FROM sqlite_master WHERE name = ?", (name,)))

    def count(self, table: str, where: str = "1 = 1", params: Any = ()) -> int:
        return int(self.scalar(f'SELECT count(*) FROM "{table}" WHERE {where}', params))

    def layer_tables(self) -> list[tuple[str, str | None]]:
        """(table, geometry type or None) of the tables a GIS user opens as layers, posts first:
        the tables with geometry, then `dialect.LISTED_ATTRIBUTE_TABLES`; MIST's bookkeeping is
        left out. QGIS's Browser lists every table of a GeoPackage, so MIST's own Browser node
        lists these instead."""
        return _layer_order(self._geometry_tables(), self)

    def _geometry_tables(self) -> list[tuple[str, str]]:
        return [(r[0], str(r[1]).upper()) for r in self.query(
            "SELECT table_name, geometry_type_name FROM gpkg_geometry_columns")]

    # -- key/value metadata ----------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM mist_meta WHERE key = ?", (key,))
        return default if value is None else value

    def set_meta(self, key: str, value: str) -> None:
        with self.batch() as conn:
            conn.execute("INSERT OR REPLACE INTO mist_meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def author_salt(self) -> str:
        """Per-store salt for pseudonymising authors: hashes cannot be joined across stores."""
        return self.get_meta("author_salt") or ""

    # -- posts -------------------------------------------------------------------------------

    def author_hash(self, author: str | None) -> str | None:
        return hash_author(self.author_salt, author)

    def add_posts(
        self, conn: sqlite3.Connection, records: list[PostRecord], run_id: int | None = None,
        keep_author_names: bool = False,
    ) -> tuple[int, int]:
        """Insert posts and their media inside the caller's batch.

        Returns (inserted, duplicates): a post whose (platform, post_id) is already in the
        store is a duplicate and adds nothing, so re-importing a file is harmless.
        """
        return self.add_post_rows(conn, [post_row(r) for r in records], run_id, keep_author_names)

    def add_post_rows(
        self, conn: sqlite3.Connection, rows: list[PostRow], run_id: int | None = None,
        keep_author_names: bool = False, deferred: SpatialIndexDeferral | None = None,
    ) -> tuple[int, int]:
        """`add_posts` for posts already turned into rows (`post_rows.post_row`); with
        `deferred`, their R-tree entries wait for the end of `deferred_spatial_index`."""
        new_rows = self._new_posts(conn, rows)
        # The batch holds the write lock, so the new posts take the next fids in order; knowing
        # them up front lets media rows and the R-tree go in without a lookup per row.
        next_fid = _next_post_fid(conn)
        salt = self.author_salt
        stored_author = self._stored_author
        point_blob = gpkg.point_blob
        post_rows = []
        media_rows = []
        rtree_rows = []
        for fid, row in enumerate(new_rows, next_fid):
            author = stored_author(row[AUTHOR], keep_author_names, salt)
            lon, lat = row[LON], row[LAT]
            located = lon is not None and lat is not None
            post_rows.append((fid, point_blob(lon, lat) if located else None, row[POST_ID], row[PLATFORM], author,
                              *row[TEXT:MEDIA], run_id))
            if located and deferred is None:
                rtree_rows.append((fid, lon, lon, lat, lat))
            media = row[MEDIA]
            if media:
                media_rows.extend((fid, i, *m) for i, m in enumerate(media))
        with gpkg.rtree_insert_trigger_suspended(conn, "posts") as rtree:
            conn.executemany(_INSERT_POST, post_rows)
            if deferred is None:
                conn.executemany(f'INSERT INTO "{rtree}" VALUES (?, ?, ?, ?, ?)', rtree_rows)
            else:
                deferred.mark(conn)
        conn.executemany(
            "INSERT INTO media (post_fid, position, kind, url, source_path) VALUES (?, ?, ?, ?, ?)",
            media_rows,
        )
        return len(new_rows), len(rows) - len(new_rows)

    def _stored_author(self, name: str | None, keep: bool, salt: str) -> str | None:
        """The author as a post row stores it: the name when asked to keep names, else its salted
        hash (cached: a collection repeats its authors)."""
        if not name or keep:
            return name
        author = self._author_hashes.get(name)
        if author is None:
            if len(self._author_hashes) > 200_000:
                self._author_hashes.clear()
            author = self._author_hashes[name] = hash_author(salt, name)
        return author

    @contextmanager
    def deferred_spatial_index(self) -> Iterator[SpatialIndexDeferral]:
        """Bulk writes inside (`add_post_rows(..., deferred=...)`) leave the posts' R-tree entries
        out; they are packed in at the end in one go (`rtree_bulk`), even when the writes fail.
        Each such batch marks the store in its own transaction, so a store left by a crash in
        between is completed when next opened."""
        with self._lock:
            since = _next_post_fid(self._conn)
        deferral = SpatialIndexDeferral(f"{PENDING_INDEX}{secrets.token_hex(8)}", since)
        try:
            yield deferral
        finally:
            with self.batch() as conn:
                rtree_bulk.index_missing(conn, "posts", "geom", since)
                conn.execute("DELETE FROM mist_meta WHERE key = ?", (deferral.key,))

    @staticmethod
    def _new_posts(conn: sqlite3.Connection, rows: list[PostRow]) -> list[PostRow]:
        """The rows whose (platform, post_id) is neither in the store nor earlier in the batch."""
        by_platform: dict[str, list[str]] = {}
        for row in rows:
            by_platform.setdefault(row[PLATFORM], []).append(row[POST_ID])
        existing: set[tuple[str, str]] = set()
        for platform, ids in by_platform.items():
            for i in range(0, len(ids), 900):
                chunk = ids[i:i + 900]
                marks = ",".join("?" * len(chunk))
                existing.update(
                    (platform, found[0]) for found in conn.execute(
                        f"SELECT post_id FROM posts WHERE platform = ? AND post_id IN ({marks})",
                        (platform, *chunk),
                    )
                )
        return first_of_each(rows, existing)

    # -- runs and the issue report ---------------------------------------------------------

    def start_run(self, kind: str, parameters: Mapping[str, Any] | None = None) -> int:
        with self.batch() as conn:
            cur = conn.execute(
                "INSERT INTO runs (kind, parameters, started_at, host, pid) VALUES (?, ?, ?, ?, ?)",
                (kind, json.dumps(dict(parameters or {}), default=str, sort_keys=True), utc_now(),
                 *this_process()),
            )
            return int(cur.lastrowid)

    def finish_run(
        self, run_id: int, status: str, counts: Mapping[str, int] | None = None, message: str = ""
    ) -> StageResult:
        with self.batch() as conn:
            row = conn.execute("SELECT kind FROM runs WHERE fid = ?", (run_id,)).fetchone()
            if row is None:
                raise StoreError(f"run {run_id} does not exist in {self.target}")
            conn.execute(
                "UPDATE runs SET finished_at = ?, status = ?, counts = ?, message = ? WHERE fid = ?",
                (utc_now(), status, json.dumps(dict(counts or {}), sort_keys=True), message, run_id),
            )
        return StageResult(run_id, row["kind"], Status(status), dict(counts or {}), message)

    def runs(self, kind: str | None = None) -> list[StageResult]:
        sql = "SELECT fid, kind, status, counts, message FROM runs"
        rows = self.query(sql + (" WHERE kind = ?" if kind else "") + " ORDER BY fid", (kind,) if kind else ())
        return [
            StageResult(r["fid"], r["kind"], Status(r["status"]), json.loads(r["counts"]), r["message"] or "")
            for r in rows
        ]

    def record_issues(
        self, conn: sqlite3.Connection, run_id: int | None, stage: str,
        issues: list[tuple[str | None, int | None, str]],
    ) -> None:
        """Record skipped or flagged items (source, line, reason) inside the caller's batch."""
        conn.executemany(
            "INSERT INTO issues (run_fid, stage, source, line, reason) VALUES (?, ?, ?, ?, ?)",
            [(run_id, stage, src, line, reason) for src, line, reason in issues],
        )

    def issues_for_run(self, run_id: int) -> list[sqlite3.Row]:
        return self.query(
            "SELECT stage, source, line, reason FROM issues WHERE run_fid = ? ORDER BY fid", (run_id,)
        )

    # -- housekeeping ----------------------------------------------------------------------

    def refresh_extents(self) -> None:
        with self.batch() as conn:
            for (table, column) in conn.execute(
                "SELECT table_name, column_name FROM gpkg_geometry_columns"
            ).fetchall():
                gpkg.update_extent(conn, table, column)

    def integrity_ok(self) -> bool:
        return self.scalar("PRAGMA integrity_check") == "ok"

    def summary(self) -> dict[str, Any]:
        """Counts a user wants at a glance (also what `python -m mist_qgis info` prints)."""
        tables = ("posts", "media", "predictions", "matches", "verifications", "runs", "issues")
        counts = {t: self.count(t) for t in tables}
        counts["unlocated_posts"] = self.count("posts", "geom IS NULL")
        media = {r["status"]: r["n"] for r in self.query(
            "SELECT status, count(*) AS n FROM media GROUP BY status")}
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "counts": counts,
            "media_status": media,
        }


def _layer_order(geometry: list[tuple[str, str]], store: Store) -> list[tuple[str, str | None]]:
    """Posts first, then the other tables with geometry, then the listed tables without, by name."""
    tables: list[tuple[str, str | None]] = sorted(geometry, key=lambda t: (t[0] != "posts", t[0]))
    return tables + [(t, None) for t in sorted(LISTED_ATTRIBUTE_TABLES) if store.has_table(t)]


def hash_author(salt: str, author: str | None) -> str | None:
    """Pseudonymise an author: stable within one store, not joinable across stores."""
    if not author:
        return None
    return hashlib.sha256((salt + author).encode("utf-8")).hexdigest()[:16]


_INSERT_POST = (
    "INSERT INTO posts (fid, geom, post_id, platform, author_hash, text, lang, url, media_url, "
    "timestamp, geo_source, geo_accuracy_m, photo, direction, altitude, is_repost, source_file, "
    "source_line, attributes, orig_lon, orig_lat, import_run) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT on an autocommit connection, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite rolls back by itself after some errors (a full disk)
            conn.execute("ROLLBACK")
        raise


def _next_post_fid(conn: sqlite3.Connection) -> int:
    return conn.execute(
        "SELECT max(coalesce((SELECT max(fid) FROM posts), 0), "
        "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'posts'), 0))"
    ).fetchone()[0] + 1


def _complete_spatial_indexes(conn: sqlite3.Connection) -> None:
    """Finish the R-tree of an import that stopped inside `deferred_spatial_index` (a crash)."""
    pending = conn.execute(
        "SELECT key, value FROM mist_meta WHERE key LIKE ?", (PENDING_INDEX + "%",)).fetchall()
    if not pending:
        return
    with write_transaction(conn):
        rtree_bulk.index_missing(conn, "posts", "geom", min(int(value) for _, value in pending))
        conn.executemany("DELETE FROM mist_meta WHERE key = ?", [(key,) for key, _ in pending])


def _repoint_photos(conn: sqlite3.Connection) -> None:
    """A store moved or copied with its photo cache: the posts' `photo` paths follow it."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'posts'").fetchone() is None:
        return  # a store held at an early schema on purpose (migration tests)
    from .photos_sql import media_dir_of, set_post_photos

    # one fetched photo's post (the status index finds it at once), not a scan of the posts
    row = conn.execute(
        "SELECT p.photo FROM media m JOIN posts p ON p.fid = m.post_fid "
        "WHERE m.status = ? AND m.cache_path IS NOT NULL AND p.photo LIKE '%.media/%' LIMIT 1", (MediaStatus.OK,)
    ).fetchone()
    if row is not None and not str(row[0]).startswith(media_dir_of(conn).as_posix() + "/"):
        with write_transaction(conn):
            set_post_photos(conn)


def _schema_version(conn: sqlite3.Connection) -> int:
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'mist_meta'"
    ).fetchone()
    if not has_meta:
        return 0
    row = conn.execute("SELECT value FROM mist_meta WHERE key = 'schema_version'").fetchone()
    if not row:
        return 0
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise StoreError(f"the store's schema version is {str(row[0])[:40]!r}, not a number: the file is damaged "
                         "or was not written by MIST") from None


def _is_foreign_database(conn: sqlite3.Connection) -> bool:
    """True for an SQLite file that holds tables but is not a MIST store."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return bool(names) and "mist_meta" not in names


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Move the store forward to `target`, one transaction per migration."""
    current = _schema_version(conn)
    if current > LATEST_VERSION:
        raise StoreVersionError(
            f"the store has schema version {current}, newer than this MIST ({LATEST_VERSION}); "
            "update the plugin"
        )
    for migration in MIGRATIONS:
        if current < migration.version <= target:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if _schema_version(conn) >= migration.version:  # another session got there first
                    conn.execute("ROLLBACK")
                    current = _schema_version(conn)
                    continue
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS mist_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                migration.apply(conn)
                conn.execute(
                    "INSERT OR REPLACE INTO mist_meta (key, value) VALUES ('schema_version', ?)",
                    (str(migration.version),),
                )
                conn.execute(
                    "INSERT OR IGNORE INTO mist_meta (key, value) VALUES ('author_salt', ?)",
                    (secrets.token_hex(16),),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            current = migration.version
    return current


def _check_before_writing(path: Path, conn: sqlite3.Connection) -> None:
    """Everything that refuses a file, checked with reads only, before WAL mode or a migration
    writes anything: not a MIST store, or one from a newer MIST."""
    if _is_foreign_database(conn):
        raise StoreError(
            f"{path} is a GeoPackage or SQLite file that is not a MIST store; "
            "choose a new file name for the store"
        )
    version = _schema_version(conn)
    if version > LATEST_VERSION:
        raise StoreVersionError(
            f"the store has schema version {version}, newer than this MIST ({LATEST_VERSION}); "
            "update the plugin"
        )


def open_gpkg_store(
    path: str | os.PathLike[str], create: bool = True, read_only: bool = False,
    target_version: int = LATEST_VERSION,
) -> Store:
    """Open (and create or migrate) a GeoPackage store; `open_store` (the package's) also opens a
    team store. `target_version` exists for migration tests."""
    path = Path(path).expanduser().resolve()
    if read_only:
        if not path.exists():
            raise StoreError(f"store {path} does not exist")
        with store_errors(path):
            if path.is_dir():
                raise IsADirectoryError(path)
            conn = _connect(path, read_only=True)
            try:
                _check_before_writing(path, conn)
                version = _schema_version(conn)
            except BaseException:
                conn.close()
                raise
        if version != LATEST_VERSION:
            conn.close()
            raise StoreError(
                f"{path} has schema version {version}; open it writable once to upgrade it"
            )
        return Store(path, conn, read_only=True)
    if not path.exists() and not create:
        raise StoreError(f"store {path} does not exist")
    try:
        with store_errors(path):
            if path.is_dir():
                raise IsADirectoryError(path)
            if path.exists() and path.stat().st_size:
                with open(path, "rb") as fh:
                    if not fh.read(16).startswith(b"SQLite format 3"):
                        raise StoreError(f"{path} is not a GeoPackage (not an SQLite file)")
            elif not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            conn = _connect(path)
            try:
                _check_before_writing(path, conn)  # reads only: a store MIST must refuse stays untouched
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                before = _schema_version(conn)
                if migrate(conn, target_version) != before:
                    # GDAL reads the GeoPackage header straight from the file, so move the new
                    # application_id out of the WAL now rather than at the next automatic checkpoint.
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                _complete_spatial_indexes(conn)
                dead = interrupted_runs(conn)
                if dead:
                    with write_transaction(conn):
                        close_interrupted_runs(conn, dead)
                _repoint_photos(conn)
            except BaseException:
                conn.close()
                raise
    except sqlite3.DatabaseError as exc:  # what store_error has no sentence for
        raise StoreError(f"cannot open store {path}: {exc}") from exc
    return Store(path, conn, read_only=False)
