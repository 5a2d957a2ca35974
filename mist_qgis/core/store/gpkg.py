"""GeoPackage plumbing on plain sqlite3: geometry blobs, metadata tables and the SQL functions
that the R-tree triggers call.

The store writes through sqlite3 rather than OGR so it controls transactions, WAL and busy
handling itself, and so bulk imports are not limited by a per-feature API. The files it makes are
ordinary GeoPackage 1.3 files that GDAL and QGIS open and edit.
"""

from __future__ import annotations

import math
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .dialect import LISTED_ATTRIBUTE_TABLES

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3.0

WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

_WKB_POINT = 1
_WKB_LINESTRING = 2
_HEADER = struct.Struct("<2sBBi")
_POINT_BLOB = struct.Struct("<2sBBiBIdd")
_ENVELOPE = struct.Struct("<dddd")


@dataclass(frozen=True)
class Envelope:
    min_x: float
    max_x: float
    min_y: float
    max_y: float


def point_blob(x: float, y: float, srs_id: int = 4326) -> bytes:
    """A GeoPackage point blob (little endian, no envelope: the spec omits it for points)."""
    return _POINT_BLOB.pack(b"GP", 0, 0x01, srs_id, 1, _WKB_POINT, x, y)


def linestring_blob(coords: list[tuple[float, float]], srs_id: int = 4326) -> bytes:
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    header = _HEADER.pack(b"GP", 0, 0x01 | (1 << 1), srs_id)
    env = _ENVELOPE.pack(min(xs), max(xs), min(ys), max(ys))
    wkb = struct.pack("<BII", 1, _WKB_LINESTRING, len(coords))
    wkb += b"".join(struct.pack("<dd", x, y) for x, y in coords)
    return header + env + wkb


def _wkb_offset(blob: bytes) -> tuple[int, int]:
    """Return (offset of WKB, envelope code) after validating the GeoPackage header."""
    if len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    env_code = (flags >> 1) & 0x07
    env_len = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get(env_code)
    if env_len is None:
        raise ValueError(f"invalid envelope code {env_code}")
    return 8 + env_len, env_code


def is_empty(blob: bytes | None) -> bool:
    if blob is None:
        return True
    return bool(blob[3] & 0x10)


_LE_POINT_PREFIX = struct.pack("<BI", 1, _WKB_POINT)


def envelope(blob: bytes) -> Envelope:
    """Bounding box of a GeoPackage blob: from the header envelope, else from the WKB."""
    if len(blob) == _POINT_BLOB.size and blob[3] == 0x01 and blob[8:13] == _LE_POINT_PREFIX:
        x, y = struct.unpack_from("<dd", blob, 13)  # the store's own points: the hot path
        return Envelope(x, x, y, y)
    offset, env_code = _wkb_offset(blob)
    endian = "<" if blob[3] & 0x01 else ">"
    if env_code:
        min_x, max_x, min_y, max_y = struct.unpack_from(endian + "dddd", blob, 8)
        return Envelope(min_x, max_x, min_y, max_y)
    xs, ys = _wkb_coords(blob, offset)
    if not xs:
        return Envelope(math.nan, math.nan, math.nan, math.nan)
    return Envelope(min(xs), max(xs), min(ys), max(ys))


def point_xy(blob: bytes) -> tuple[float, float]:
    offset, _ = _wkb_offset(blob)
    xs, ys = _wkb_coords(blob, offset)
    if len(xs) != 1:
        raise ValueError("geometry is not a point")
    return xs[0], ys[0]


def _wkb_coords(blob: bytes, offset: int) -> tuple[list[float], list[float]]:
    """Coordinates of the WKB geometries the store writes or QGIS may write back (XY, Z, M, ZM)."""
    xs: list[float] = []
    ys: list[float] = []

    def read(pos: int) -> int:
        endian = "<" if blob[pos] == 1 else ">"
        (gtype,) = struct.unpack_from(endian + "I", blob, pos + 1)
        pos += 5
        base = gtype % 1000
        dims = 2 + (1 if gtype // 1000 in (1, 2) else 0) + (1 if gtype // 1000 == 3 else 0)
        stride = 8 * dims

        def coords(pos: int, n: int) -> int:
            for i in range(n):
                x, y = struct.unpack_from(endian + "dd", blob, pos + i * stride)
                if not (math.isnan(x) and math.isnan(y)):
                    xs.append(x)
                    ys.append(y)
            return pos + n * stride

        if base == 1:
            return coords(pos, 1)
        if base == 2:
            (n,) = struct.unpack_from(endian + "I", blob, pos)
            return coords(pos + 4, n)
        if base == 3:
            (rings,) = struct.unpack_from(endian + "I", blob, pos)
            pos += 4
            for _ in range(rings):
                (n,) = struct.unpack_from(endian + "I", blob, pos)
                pos = coords(pos + 4, n)
            return pos
        if base in (4, 5, 6, 7):
            (parts,) = struct.unpack_from(endian + "I", blob, pos)
            pos += 4
            for _ in range(parts):
                pos = read(pos)
            return pos
        raise ValueError(f"unsupported WKB geometry type {gtype}")

    read(offset)
    return xs, ys


def execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the caller's transaction (sqlite3's executescript would
    commit it first, which breaks the all-or-nothing migrations)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement.strip()[:80]}")


def register_functions(conn: sqlite3.Connection) -> None:
    """The ST_ functions GeoPackage R-tree triggers call; GDAL defines them in its own
    connections, plain sqlite3 needs them too."""

    last: list = [None, None]  # the triggers ask for four bounds of the same blob in a row

    def cached_envelope(blob: bytes) -> Envelope:
        if blob != last[0]:
            last[0], last[1] = blob, envelope(blob)
        return last[1]

    def guarded(fn):
        def inner(blob):
            if blob is None or is_empty(blob):
                return None
            return fn(cached_envelope(blob))

        return inner

    conn.create_function("ST_IsEmpty", 1, lambda b: 1 if is_empty(b) else 0, deterministic=True)
    conn.create_function("ST_MinX", 1, guarded(lambda e: e.min_x), deterministic=True)
    conn.create_function("ST_MaxX", 1, guarded(lambda e: e.max_x), deterministic=True)
    conn.create_function("ST_MinY", 1, guarded(lambda e: e.min_y), deterministic=True)
    conn.create_function("ST_MaxY", 1, guarded(lambda e: e.max_y), deterministic=True)


def create_core_tables(conn: sqlite3.Connection) -> None:
    """The mandatory GeoPackage metadata tables, with the WGS 84 and undefined SRS rows."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    execute_script(conn,
        """
        CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
        CREATE TABLE IF NOT EXISTS gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
            description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
            srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
            CONSTRAINT uk_gc_table_name UNIQUE (table_name),
            CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
        CREATE TABLE IF NOT EXISTS gpkg_extensions (
            table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
            definition TEXT NOT NULL, scope TEXT NOT NULL,
            CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
        """
    )
    rows = [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, WGS84_WKT,
         "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
    ]
    conn.executemany("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", rows)


def register_attributes_table(conn: sqlite3.Connection, table: str, description: str = "") -> None:
    """Register a table without geometry in gpkg_contents if a user opens it as a layer
    (`dialect.LISTED_ATTRIBUTE_TABLES`); the store's bookkeeping tables are left unregistered,
    which GDAL's GeoPackage driver then leaves out of its layer list."""
    if table not in LISTED_ATTRIBUTE_TABLES:
        return
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
        "VALUES (?, 'attributes', ?, ?)",
        (table, table, description),
    )


def register_features_table(
    conn: sqlite3.Connection,
    table: str,
    geometry_type: str,
    column: str = "geom",
    srs_id: int = 4326,
    description: str = "",
    fid_column: str = "fid",
) -> None:
    """Register a feature table and give it the standard R-tree spatial index and triggers."""
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (?, 'features', ?, ?, ?)",
        (table, table, description, srs_id),
    )
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
        (table, column, geometry_type, srs_id),
    )
    rtree = f"rtree_{table}_{column}"
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (table, column),
    )
    t, c, i = table, column, fid_column
    execute_script(conn,
        f"""
        CREATE VIRTUAL TABLE IF NOT EXISTS "{rtree}" USING rtree(id, minx, maxx, miny, maxy);
        {_insert_trigger_sql(t, c, i)};
        CREATE TRIGGER IF NOT EXISTS "{rtree}_update1" AFTER UPDATE OF "{c}" ON "{t}"
          WHEN OLD."{i}" = NEW."{i}" AND (NEW."{c}" NOTNULL AND NOT ST_IsEmpty(NEW."{c}"))
          BEGIN INSERT OR REPLACE INTO "{rtree}" VALUES (NEW."{i}",
            ST_MinX(NEW."{c}"), ST_MaxX(NEW."{c}"), ST_MinY(NEW."{c}"), ST_MaxY(NEW."{c}")); END;
        CREATE TRIGGER IF NOT EXISTS "{rtree}_update2" AFTER UPDATE OF "{c}" ON "{t}"
          WHEN OLD."{i}" = NEW."{i}" AND (NEW."{c}" ISNULL OR ST_IsEmpty(NEW."{c}"))
          BEGIN DELETE FROM "{rtree}" WHERE id = OLD."{i}"; END;
        CREATE TRIGGER IF NOT EXISTS "{rtree}_update3" AFTER UPDATE ON "{t}"
          WHEN OLD."{i}" != NEW."{i}" AND (NEW."{c}" NOTNULL AND NOT ST_IsEmpty(NEW."{c}"))
          BEGIN DELETE FROM "{rtree}" WHERE id = OLD."{i}";
            INSERT OR REPLACE INTO "{rtree}" VALUES (NEW."{i}",
            ST_MinX(NEW."{c}"), ST_MaxX(NEW."{c}"), ST_MinY(NEW."{c}"), ST_MaxY(NEW."{c}")); END;
        CREATE TRIGGER IF NOT EXISTS "{rtree}_update4" AFTER UPDATE ON "{t}"
          WHEN OLD."{i}" != NEW."{i}" AND (NEW."{c}" ISNULL OR ST_IsEmpty(NEW."{c}"))
          BEGIN DELETE FROM "{rtree}" WHERE id IN (OLD."{i}", NEW."{i}"); END;
        CREATE TRIGGER IF NOT EXISTS "{rtree}_delete" AFTER DELETE ON "{t}"
          WHEN old."{c}" NOT NULL
          BEGIN DELETE FROM "{rtree}" WHERE id = OLD."{i}"; END;
        """
    )


def _insert_trigger_sql(table: str, column: str, fid_column: str) -> str:
    rtree = f"rtree_{table}_{column}"
    t, c, i = table, column, fid_column
    return (
        f'CREATE TRIGGER IF NOT EXISTS "{rtree}_insert" AFTER INSERT ON "{t}" '
        f'WHEN (new."{c}" NOT NULL AND NOT ST_IsEmpty(NEW."{c}")) '
        f'BEGIN INSERT OR REPLACE INTO "{rtree}" VALUES (NEW."{i}", '
        f'ST_MinX(NEW."{c}"), ST_MaxX(NEW."{c}"), ST_MinY(NEW."{c}"), ST_MaxY(NEW."{c}")); END'
    )


@contextmanager
def rtree_insert_trigger_suspended(
    conn: sqlite3.Connection, table: str, column: str = "geom", fid_column: str = "fid"
) -> Iterator[str]:
    """Bulk inserts: inside the caller's transaction, drop the per-row R-tree insert trigger,
    let the caller fill the R-tree (yielded name) in one statement, and recreate the trigger.

    The per-row trigger calls four Python SQL functions per row and dominated import time. DDL is
    transactional in SQLite, so other sessions never see the store without its trigger.
    """
    conn.execute(f'DROP TRIGGER IF EXISTS "rtree_{table}_{column}_insert"')
    yield f"rtree_{table}_{column}"
    conn.execute(_insert_trigger_sql(table, column, fid_column))


def update_extent(conn: sqlite3.Connection, table: str, column: str = "geom") -> None:
    """Refresh gpkg_contents' extent from the R-tree (cheap: the index holds every box). A team
    store on PostgreSQL has no gpkg_contents: PostGIS computes extents from the data."""
    if getattr(conn, "dialect", "sqlite") != "sqlite":
        return
    row = conn.execute(
        f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "rtree_{table}_{column}"'
    ).fetchone()
    conn.execute(
        "UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?, "
        "last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name=?",
        (*row, table),
    )
