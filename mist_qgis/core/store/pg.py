"""The team store: the same `Store` on PostgreSQL + PostGIS, through psycopg 3.

`PgConnection` gives the SQL modules the small part of sqlite3's connection they use (`execute`,
`executemany`, rows by index and by name, `rowcount`, `lastrowid`), translating each statement
once (`dialect.to_postgres`). Geometries travel as GeoPackage blobs on both sides: written
through `mist_gpkg_geom()`, read back by a loader, so readers decode one format.

Faults: a lost server ends the transaction in flight (nothing of the batch is written) and the
store reconnects on the next batch or read, so a stage resumes once the server is back; every
failure a user can fix (unreachable server, wrong password, no PostGIS, a role without the
right) is a `StoreError` with one line saying what to do. Passwords stay inside libpq: the
store's `target` and everything logged or recorded carries the connection without them.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import pg_bulk
from .dialect import to_postgres
from .pg_bulk import BULK_INDEX_BELOW
from .pg_team import grant_table_rights
from .pipeline import Fetched
from .post_rows import PostRow, first_of_each
from .schema import LATEST_VERSION, MIGRATIONS
from .store import SpatialIndexDeferral, Store, StoreError, StoreVersionError

RECONNECT_SECONDS = 10.0  # how long a lost connection is retried before the stage stops
MIGRATION_LOCK = 0x4D495354  # "MIST": one migrating session at a time per database


def is_postgres_target(target: object) -> bool:
    """A PostgreSQL connection (URI, `service=NAME` or another key=value conninfo) rather than a
    GeoPackage path."""
    if not isinstance(target, str):
        return False
    text = target.strip()
    return text.startswith(("postgresql://", "postgres://")) or bool(
        re.match(r"^(service|dbname|host)\s*=", text))


PASSWORD_IN_TARGET = (
    "the store connection holds a password; Processing and the CLI record their parameters, so keep "
    "the password in ~/.pgpass, a pg_service.conf service, PGPASSWORD or a saved QGIS connection "
    "(qgis:NAME, with its authentication configuration)"
)


def has_password(conninfo: str) -> bool:
    try:
        from psycopg.conninfo import conninfo_to_dict

        return bool(conninfo_to_dict(conninfo).get("password"))
    except Exception:  # noqa: BLE001 - unreadable: let the connection attempt say why
        return "password" in conninfo.lower() or bool(re.search(r"://[^/@]*:[^@]*@", conninfo))


def refuse_password(target: str) -> None:
    """For Processing and the CLI, whose parameters end up in histories and logs."""
    if is_postgres_target(target) and has_password(target):
        raise StoreError(PASSWORD_IN_TARGET)


def redact(conninfo: str) -> str:
    """The connection without its password (for labels, logs, run records and layer sources)."""
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        parts = conninfo_to_dict(conninfo)
    except Exception:  # noqa: BLE001 - a malformed string: show nothing of it that could be secret
        return re.sub(r"(password\s*=\s*)\S+|(://[^:/@]*:)[^@]*@", r"\1\2***@", conninfo)
    parts.pop("password", None)
    return make_conninfo(**{k: v for k, v in parts.items() if v is not None})


# -- rows and geometries ----------------------------------------------------------------------


class Row(tuple):
    """A result row readable by position and by column name, as sqlite3.Row."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor):
    names = [c.name for c in cursor.description or ()]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)
    return lambda values: Row(values, index)


def ewkb_to_gpkg(ewkb: bytes) -> bytes:
    """A PostGIS geometry (EWKB) as a GeoPackage blob with the same WKB body."""
    endian = "<" if ewkb[0] == 1 else ">"
    (gtype,) = struct.unpack_from(endian + "I", ewkb, 1)
    pos, srid = 5, 0
    if gtype & 0x20000000:
        (srid,) = struct.unpack_from(endian + "i", ewkb, 5)
        pos = 9
    z, m = bool(gtype & 0x80000000), bool(gtype & 0x40000000)
    iso = (gtype & 0x0FFFFFFF) + (3000 if z and m else 1000 if z else 2000 if m else 0)
    body = ewkb[:1] + struct.pack(endian + "I", iso) + ewkb[pos:]
    empty = iso % 1000 == 1 and len(body) >= 21 and all(
        v != v for v in struct.unpack_from(endian + "dd", body, 5))
    return struct.pack("<2sBBi", b"GP", 0, 0x01 | (0x10 if empty else 0), srid) + body


def _nul_safe_str_dumper():
    """A text dumper that stores a NUL as U+FFFD: PostgreSQL text cannot hold NUL, which a GeoPackage
    keeps, so one hostile field would otherwise fail its whole batch (COPY and bound parameters
    alike)."""
    from psycopg.types.string import StrDumperUnknown

    # psycopg's own default for str: the server infers the type (text compared with a timestamp).
    class NulSafeStrDumper(StrDumperUnknown):
        def dump(self, obj: str):
            return super().dump(obj.replace("\x00", "\ufffd") if "\x00" in obj else obj)

    return NulSafeStrDumper


def _configure(raw) -> None:
    """Per connection: rows by name, geometries as GeoPackage blobs."""
    from psycopg.adapt import Loader
    from psycopg.types import TypeInfo

    raw.row_factory = _row_factory
    raw.adapters.register_dumper(str, _nul_safe_str_dumper())
    info = TypeInfo.fetch(raw, "geometry")
    if info is None:
        raise StoreError("the PostGIS extension is not installed in this database: "
                         "ask its owner to run CREATE EXTENSION postgis")

    class GeometryLoader(Loader):
        def load(self, data) -> bytes:
            return ewkb_to_gpkg(bytes.fromhex(bytes(data).decode("ascii")))

    raw.adapters.register_loader(info.oid, GeometryLoader)

    class IsoTimeLoader(Loader):
        def load(self, data) -> str:
            return iso_from_pg(bytes(data).decode("ascii"))

    raw.execute("SET TIME ZONE 'UTC'")
    raw.adapters.register_loader("timestamptz", IsoTimeLoader)


def iso_from_pg(text: str) -> str:
    """'2021-07-20 08:00:00.12+00' (UTC session) as the store's '2021-07-20T08:00:00.120Z'."""
    rest = text[19:]
    frac = ""
    if rest.startswith("."):
        end = 1
        while end < len(rest) and rest[end].isdigit():
            end += 1
        frac = rest[1:end]
    return f"{text[:10]}T{text[11:19]}.{(frac + '000')[:3]}Z"


# -- the connection seam ------------------------------------------------------------------------


def _bind(params: Any, numbered: tuple[int, ...] | None):
    if numbered is None:
        if params is None:
            return ()
        return params if isinstance(params, dict) else tuple(params)
    if isinstance(params, dict):
        raise ValueError("?N placeholders take a sequence of parameters")
    values = tuple(params)
    return tuple(values[i - 1] for i in numbered)


def _fetched(cur, returns_fid: bool) -> Fetched:
    rows = cur.fetchall() if cur.description is not None else []
    lastrowid = rows[0][0] if returns_fid and rows else None
    return Fetched([] if returns_fid else rows, cur.rowcount, lastrowid)


class _Pending:
    """A statement queued in a pipeline; the first look at its result sends the queue and waits."""

    def __init__(self, cur, returns_fid: bool, pipeline) -> None:
        self._cur, self._returns_fid, self._pipeline = cur, returns_fid, pipeline
        self._done: Fetched | None = None

    def _result(self) -> Fetched:
        if self._done is None:
            if self._cur.pgresult is None:
                self._pipeline.sync()
            self._done = _fetched(self._cur, self._returns_fid)
        return self._done

    def fetchone(self):
        return self._result().fetchone()

    def fetchall(self) -> list:
        return self._result().fetchall()

    @property
    def rowcount(self) -> int:
        return self._result().rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._result().lastrowid


class PgConnection:
    """The part of sqlite3.Connection the store's SQL modules use, on a psycopg connection."""

    dialect = "postgresql"

    def __init__(self, raw, media_dir: Path | None = None) -> None:
        self.raw = raw
        self._media_dir = media_dir
        self.pipeline = None  # psycopg's Pipeline while a pipelined batch is open

    @property
    def media_dir(self) -> Path:
        """Photos cached for this team store on this computer (content-addressed, so any
        analyst's cache fills from the same URLs): `media_dir` in the store's settings when a
        lead sets a shared folder, else a local folder per server, database and schema. On the
        connection, so the SQL modules that write the posts' `photo` paths find it too."""
        if self._media_dir is None:
            row = self.execute("SELECT value FROM mist_meta WHERE key = 'media_dir'").fetchone()
            if row and row[0]:
                self._media_dir = Path(row[0])
            else:
                info = self.raw.info
                schema = self.raw.execute("SELECT current_schema()").fetchone()[0]
                ident = f"{info.host}_{info.port}_{info.dbname}_{schema}"
                safe = re.sub(r"[^A-Za-z0-9_.-]", "_", ident).strip("_")
                digest = hashlib.sha256(ident.encode()).hexdigest()[:8]
                self._media_dir = default_media_root() / f"{safe[-60:]}-{digest}.media"
        return self._media_dir

    def _send(self, sql: str, params: Any) -> tuple[Any, bool]:
        t = to_postgres(sql)
        cur = self.raw.cursor()
        cur.execute(t.sql + (" RETURNING fid" if t.returns_fid else ""), _bind(params, t.numbered))
        return cur, t.returns_fid

    def execute(self, sql: str, params: Any = ()) -> Fetched:
        cur, returns_fid = self._send(sql, params)
        if self.pipeline is not None:
            self.pipeline.sync()  # this statement's answer is needed now
        return _fetched(cur, returns_fid)

    def submit(self, sql: str, params: Any = ()) -> Fetched | _Pending:
        """`pipeline.submit`: in a pipelined batch the statement is only queued."""
        if self.pipeline is None:
            return self.execute(sql, params)
        cur, returns_fid = self._send(sql, params)
        return _Pending(cur, returns_fid, self.pipeline)

    def executemany(self, sql: str, seq: Any) -> Fetched:
        t = to_postgres(sql)
        params = [_bind(p, t.numbered) for p in seq]
        cur = self.raw.cursor()
        if params:
            cur.executemany(t.sql, params)
            if self.pipeline is not None:
                self.pipeline.sync()
        return Fetched([], cur.rowcount if params else 0, None)

    def execute_script(self, script: str) -> None:
        """Several statements without parameters (DDL)."""
        self.raw.execute(script)

    def close(self) -> None:
        self.raw.close()


# -- errors a user can fix ------------------------------------------------------------------------


def user_message(exc: BaseException, where: str) -> str:
    """One line that says what went wrong and what to do."""
    import psycopg
    from psycopg import errors

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, errors.InsufficientPrivilege):
        return (f"your PostgreSQL role may not do this on {where} ({text}); "
                "analysts write verdicts and post categories only: ask a lead (a member of mist_lead) "
                "to import, train, delete or change settings")
    if isinstance(exc, psycopg.OperationalError):
        low = text.lower()
        if "password authentication failed" in low or "no password supplied" in low:
            return (f"PostgreSQL refused the password for {where}: check the password in your "
                    "pg_service.conf/.pgpass or the QGIS authentication configuration")
        if "does not exist" in low and "database" in low:
            return f"{text}: create the database first (README, Working as a team)"
        return (f"cannot reach the PostgreSQL server of {where} ({text}); check that it is running "
                "and reachable, then run the stage again: it resumes where it stopped")
    return f"{where}: {text}"


# -- the store ------------------------------------------------------------------------------------


def default_media_root() -> Path:
    return Path(os.environ.get("MIST_MEDIA_ROOT") or Path.home() / ".local" / "share" / "mist" / "team-media")


class PgStore(Store):
    """A MIST store in one PostgreSQL schema (the first one of the connection's search_path).

    One `PgStore` object may be used from several threads (a lock serialises its one
    connection); each analyst's QGIS has its own connection, and PostgreSQL does the rest.
    """

    dialect = "postgresql"

    def __init__(self, conninfo: str, raw, read_only: bool, media_dir: Path | None = None) -> None:
        self._conninfo = conninfo
        self.target = redact(conninfo)
        self.path = None  # type: ignore[assignment]
        self.read_only = read_only
        self._conn = PgConnection(raw, media_dir)
        self._lock = threading.RLock()
        self._author_hashes: dict[str, str] = {}
        self._broken = False
        self._copy_straight = True  # see add_post_rows
        self._schema = raw.execute("SELECT current_schema()").fetchone()[0]

    # -- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a connection the server already dropped
                pass

    @property
    def schema(self) -> str:
        return self._schema

    def reopen(self, read_only: bool = True) -> PgStore:
        """The same team store on a connection of its own (credentials stay in memory)."""
        return open_pg_store(self._conninfo, create=False, read_only=read_only, media_dir=self._conn._media_dir)

    @property
    def media_dir(self) -> Path:
        """Photos cached for this team store on this computer (see `PgConnection.media_dir`)."""
        return self._conn.media_dir

    def _reconnect(self) -> None:
        import psycopg

        deadline = time.monotonic() + RECONNECT_SECONDS
        while True:
            try:
                raw = psycopg.connect(self._conninfo, autocommit=True)
                break
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise StoreError(user_message(exc, self.target)) from exc
                time.sleep(0.5)
        _configure(raw)
        raw.execute(f'SET search_path TO "{self._schema}", public')
        self._conn = PgConnection(raw, self._conn._media_dir)
        self._broken = False

    @contextmanager
    def _guard(self) -> Iterator[None]:
        import psycopg

        if self._broken or self._conn.raw.closed:
            self._reconnect()
        try:
            yield
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.OperationalError) or self._conn.raw.closed:
                self._broken = True
            raise StoreError(user_message(exc, self.target)) from exc

    # -- transactions ------------------------------------------------------------------------------

    @contextmanager
    def batch(self, pipeline: bool = False) -> Iterator[PgConnection]:
        """One transaction: everything inside lands together or not at all (a lost server
        rolls it back; the next batch reconnects). `pipeline`: statements go in pipeline mode
        (`pipeline.submit`), for the few hot paths written for it (no COPY inside)."""
        if self.read_only:
            raise StoreError(f"{self.target} is open read-only")
        from psycopg.pq import TransactionStatus

        with self._lock, self._guard():
            # inside another batch (a savepoint) statements go one by one
            if not pipeline or self._conn.raw.info.transaction_status != TransactionStatus.IDLE:
                with self._conn.raw.transaction():
                    yield self._conn
                return
            with self._pipelined() as conn:
                yield conn

    @contextmanager
    def _pipelined(self) -> Iterator[PgConnection]:
        """BEGIN and COMMIT as queued statements (psycopg's own transaction block would wait for
        each), ROLLBACK when anything fails."""
        import psycopg
        from psycopg.pq import TransactionStatus

        conn = self._conn
        raw = conn.raw
        committed = False
        try:
            with raw.pipeline() as pipe:
                conn.pipeline = pipe
                raw.execute("BEGIN")
                yield conn
                raw.execute("COMMIT")
                pipe.sync()
                committed = True
        finally:
            conn.pipeline = None
            if not committed and not raw.closed and raw.info.transaction_status in (
                    TransactionStatus.INTRANS, TransactionStatus.INERROR):
                try:
                    raw.execute("ROLLBACK")
                except psycopg.Error:
                    pass  # the connection is gone: the server has rolled back

    def query(self, sql: str, params: Any = ()) -> list:
        with self._lock, self._guard():
            return self._conn.execute(sql, params).fetchall()

    def has_table(self, name: str) -> bool:
        return self.scalar("SELECT to_regclass(?) IS NOT NULL", (f'"{name}"',)) is True

    def _geometry_tables(self) -> list[tuple[str, str]]:
        return [(r[0], str(r[1]).upper()) for r in self.query(
            "SELECT f_table_name, type FROM geometry_columns WHERE f_table_schema = current_schema()")]

    @property
    def schema_version(self) -> int:
        with self._lock, self._guard():
            return _schema_version(self._conn)

    # -- posts -------------------------------------------------------------------------------------

    def add_post_rows(
        self, conn: PgConnection, rows: list[PostRow], run_id: int | None = None,
        keep_author_names: bool = False, deferred: SpatialIndexDeferral | None = None,
    ) -> tuple[int, int]:
        """Posts by COPY (`pg_bulk`): straight into the table while none of a batch is in the
        store yet, else through a temporary table and `ON CONFLICT DO NOTHING`, so a post already
        in the store (or sent twice at once by two leads) adds nothing. Indexes are the business
        of `deferred_spatial_index`, so `deferred` has nothing to do here."""
        import psycopg

        if not rows:
            return 0, 0
        fresh = first_of_each(rows)
        salt, stored_author = self.author_salt, self._stored_author

        def author(name: str | None) -> str | None:
            return stored_author(name, keep_author_names, salt)

        raw = conn.raw
        if self._copy_straight:
            try:
                added = pg_bulk.nul_safe(raw, fresh, lambda rs: pg_bulk.copy_new_posts(raw, rs, run_id, author))
                return added, len(rows) - added
            except psycopg.errors.UniqueViolation:
                self._copy_straight = False  # some are in the store already: a re-import or a resume
        added = pg_bulk.nul_safe(raw, fresh, lambda rs: pg_bulk.stage_posts(raw, rs, run_id, author))
        self._copy_straight = added == len(fresh)
        return added, len(rows) - added

    @contextmanager
    def deferred_spatial_index(self) -> Iterator[SpatialIndexDeferral]:
        """Bulk writes inside. Loading a store that is still (nearly) empty, nobody works on it
        yet: its posts' and media's non-unique indexes (the GiST index among them), which cost more
        per inserted row than the rows, are dropped and built once at the end (as the GeoPackage
        packs its R-tree); a load that dies gets them back on the store's next opening
        (`pg_bulk`). Into a store in use the indexes stay. Either way the planner gets fresh
        statistics at the end (else "next post" walks every row of a store loaded in bulk).

        Commits keep waiting for the server's disk: with `synchronous_commit = off` a server
        crash loses batches the import has already counted (measured: an immediate stop lost the
        last two), and the import's counts must stay exact."""
        deferred: list[str] = []
        locked = False
        with self._lock, self._guard():
            raw = self._conn.raw
            small = raw.execute("SELECT count(*) FROM (SELECT 1 FROM posts LIMIT %s) s",
                                (BULK_INDEX_BELOW,)).fetchone()[0] < BULK_INDEX_BELOW
            if small and pg_bulk.take_bulk_lock(raw):
                locked = True
                deferred = pg_bulk.defer_indexes(raw)
        failed = True
        try:
            yield _NO_DEFERRAL
            failed = False
        finally:
            try:
                with self._lock, self._guard():
                    raw = self._conn.raw
                    if deferred:
                        pg_bulk.restore_indexes(raw)
                    if locked:
                        pg_bulk.release_bulk_lock(raw)
                self.analyze()
            except StoreError:
                if not failed:
                    raise
                # the load failed first (a lost server, most likely): that is the error to show;
                # the deferred indexes are recorded and come back on the store's next opening

    def analyze(self) -> None:
        """Refresh the planner's statistics of the tables bulk writes grow."""
        import psycopg

        with self._lock, self._guard():
            try:
                self._conn.raw.execute("ANALYZE posts, media")
            except psycopg.errors.InsufficientPrivilege:
                pass  # not the tables' owner: autovacuum will do it

    # -- housekeeping ------------------------------------------------------------------------------

    def refresh_extents(self) -> None:
        """Nothing to keep: PostGIS computes extents from the data."""

    def integrity_ok(self) -> bool:
        return True

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out["path"] = self.target
        return out


class _NoDeferral(SpatialIndexDeferral):
    def mark(self, conn) -> None:  # noqa: D102 - nothing to mark: PostgreSQL keeps the index
        pass


_NO_DEFERRAL = _NoDeferral("", 0)

# -- schema version and migrations ------------------------------------------------------------------


def _schema_version(conn: PgConnection) -> int:
    if conn.raw.execute("SELECT to_regclass('mist_meta')").fetchone()[0] is None:
        return 0
    row = conn.raw.execute("SELECT value FROM mist_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _is_foreign_schema(conn: PgConnection) -> bool:
    """True when the store's schema holds tables but no mist_meta (another application's data)."""
    if conn.raw.execute("SELECT to_regclass('mist_meta')").fetchone()[0] is not None:
        return False
    n = conn.raw.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_name NOT IN ('spatial_ref_sys', 'geography_columns', 'geometry_columns')").fetchone()[0]
    return n > 0


def migrate(conn: PgConnection, target: int = LATEST_VERSION) -> int:
    """Move the store forward to `target`, one transaction per migration; a store written by a
    newer MIST is refused before anything is written."""
    import secrets

    current = _schema_version(conn)
    if current > LATEST_VERSION:
        raise StoreVersionError(
            f"the store has schema version {current}, newer than this MIST ({LATEST_VERSION}); update the plugin")
    for migration in MIGRATIONS:
        if not current < migration.version <= target:
            continue
        with conn.raw.transaction():
            conn.raw.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            if _schema_version(conn) >= migration.version:  # another session got there first
                current = _schema_version(conn)
                continue
            conn.raw.execute("CREATE TABLE IF NOT EXISTS mist_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            migration.apply(conn)
            grant_table_rights(conn)
            conn.execute("INSERT OR REPLACE INTO mist_meta (key, value) VALUES ('schema_version', ?)",
                         (str(migration.version),))
            conn.execute("INSERT OR IGNORE INTO mist_meta (key, value) VALUES ('author_salt', ?)",
                         (secrets.token_hex(16),))
        current = migration.version
    return current


def connect(conninfo: str):
    """A configured psycopg connection, or StoreError with what to do."""
    import psycopg

    where = redact(conninfo)
    try:
        raw = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise StoreError(user_message(exc, where)) from exc
    try:
        _configure(raw)
    except BaseException:
        raw.close()
        raise
    return raw


def open_pg_store(
    conninfo: str, create: bool = True, read_only: bool = False, target_version: int = LATEST_VERSION,
    media_dir: Path | None = None,
) -> PgStore:
    """Open (and create or migrate) a team store in the first schema of the connection's search path."""
    import psycopg

    from .runs import close_interrupted_runs, interrupted_runs

    where = redact(conninfo)
    raw = connect(conninfo)
    try:
        conn = PgConnection(raw, media_dir)
        if _is_foreign_schema(conn):
            raise StoreError(f"schema {raw.execute('SELECT current_schema()').fetchone()[0]} of {where} holds "
                             "tables that are not a MIST store; use another schema (options=-csearch_path=...)")
        version = _schema_version(conn)
        if read_only or not create:
            if version == 0:
                raise StoreError(f"{where} holds no MIST store")
        if read_only:
            if version != LATEST_VERSION:
                raise StoreError(f"{where} has schema version {version}; open it writable once to upgrade it")
        else:
            migrate(conn, target_version)
            pg_bulk.restore_indexes_of_dead_load(raw)
            dead = interrupted_runs(conn)
            if dead:
                try:
                    with raw.transaction():
                        close_interrupted_runs(conn, dead)
                except psycopg.errors.InsufficientPrivilege:
                    pass  # an analyst: the lead's next session closes them
        return PgStore(conninfo, raw, read_only, media_dir)
    except psycopg.Error as exc:
        raw.close()
        raise StoreError(user_message(exc, where)) from exc
    except BaseException:
        raw.close()
        raise


# -- layers in QGIS ---------------------------------------------------------------------------------

_QGIS_KEYS = ("service", "dbname", "host", "port", "user", "sslmode")


def qgis_layer_uri(conninfo: str, table: str, authcfg: str | None = None) -> str:
    """The source of a QGIS `postgres` layer on one table of the store: the connection without
    any password (QGIS takes it from pg_service.conf/.pgpass or the `authcfg` of its
    authentication manager), the table in the store's schema, `fid` as key, `geom` if it has one."""
    from psycopg.conninfo import conninfo_to_dict

    raw = connect(conninfo)
    try:
        schema = raw.execute("SELECT current_schema()").fetchone()[0]
        geom = raw.execute(
            "SELECT type, srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s "
            "AND f_geometry_column = 'geom'", (schema, table)).fetchone()
        has_fid = raw.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "AND column_name = 'fid'", (schema, table)).fetchone()[0]
    finally:
        raw.close()
    parts = conninfo_to_dict(conninfo)
    items = [f"{k}='{_quote(str(parts[k]))}'" for k in _QGIS_KEYS if parts.get(k)]
    if authcfg:
        items.append(f"authcfg={authcfg}")
    if has_fid:
        items.append("key='fid'")
    if geom:
        gtype = {"POINT": "Point", "LINESTRING": "LineString"}.get(str(geom[0]).upper(), str(geom[0]))
        items += [f"srid={geom[1]}", f"type={gtype}", "checkPrimaryKeyUnicity='0'"]
    items.append(f'table="{schema}"."{table}"' + (" (geom)" if geom else ""))
    return " ".join(items)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


# -- other analysts' verdicts as they land ----------------------------------------------------------


class VerdictListener:
    """LISTEN on a connection of its own, started before the constructor returns (so nothing
    written afterwards is missed). Iterating yields each verdict notification of this store's
    schema as a dict, until `deadline` (time.monotonic()) or `close()`.

    `close()` may be called from any thread: it wakes an iteration waiting for the server at
    once (a byte on a socket pair the wait watches beside the connection), so a closing dock
    never waits for a poll tick. Notifications that reached the connection before the wake are
    still yielded; the connection is closed when the iteration ends, or by `close()` itself
    when no iteration has begun.
    """

    def __init__(self, store: PgStore, deadline: float | None = None) -> None:
        import socket

        from .pg_team import CHANNEL

        self._store = store
        self._deadline = deadline
        self._closing = threading.Event()
        self._state = threading.Lock()  # orders the first `next` against `close`
        self._started = False
        self._raw = connect(store._conninfo)
        self._wake_r, self._wake_w = socket.socketpair()
        try:
            self._raw.execute(f"LISTEN {CHANNEL}")
        except BaseException:
            self._release()
            raise
        self._events = self._run()

    def __iter__(self) -> Iterator[dict]:
        return self

    def __next__(self) -> dict:
        with self._state:
            if self._closing.is_set() and not self._started:
                raise StopIteration
            self._started = True
        return next(self._events)

    def close(self) -> None:
        """End the iteration at once, from any thread; release the connection now if no
        iteration has begun (its own end releases it otherwise)."""
        with self._state:
            self._closing.set()
            started = self._started
        if not started:
            self._release()
            return
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass  # already released: the iteration has ended

    def _release(self) -> None:
        """Closing each part again is harmless (a second `close()` before any iteration)."""
        self._raw.close()
        self._wake_r.close()
        self._wake_w.close()

    def _run(self) -> Iterator[dict]:
        import json
        import select

        try:
            while not self._closing.is_set():
                wait = None if self._deadline is None else self._deadline - time.monotonic()
                if wait is not None and wait <= 0:
                    return
                ready, _, _ = select.select([self._raw.fileno(), self._wake_r], [], [], wait)
                if self._raw.fileno() in ready:
                    for note in self._raw.notifies(timeout=0):
                        data = json.loads(note.payload)
                        if data.get("schema") != self._store.schema:
                            continue
                        yield {"op": data["op"], "verification_fid": int(data["fid"]),
                               "post_fid": int(data["post_fid"]), "media_fid": data["media_fid"],
                               "analyst": data["analyst"], "verdict": data["verdict"],
                               "verified_at": data["verified_at"]}
        finally:
            self._release()
