"""The SQL seam between the store's two backends: GeoPackage (SQLite) and PostgreSQL + PostGIS.

The SQL modules write each statement once, in the dialect both databases agree on, with SQLite's
placeholders (`?`, `?N`, `:name`). Where the dialects differ, this module says how:

- placeholders become psycopg's (`%s`, `%(name)s`), literal `%` is doubled;
- upserts (`INSERT OR IGNORE`, `INSERT OR REPLACE`) become `ON CONFLICT` clauses, with the
  conflict target of each table kept here (`UPSERT_KEYS`);
- geometry parameters (GeoPackage blobs, built by `gpkg.point_blob` and friends) are wrapped in
  `mist_gpkg_geom(...)`, a PostGIS function the schema creates; geometries read back are turned
  into GeoPackage blobs by the connection (`pg.py`), so readers decode one format;
- SQLite's few idioms (`LIKE` that ignores case, `CROSS JOIN` as a join-order hint, unary `+` to keep an index out,
  `json_each`, `PRAGMA`s, the `strftime` clock) get their PostgreSQL form;
- table DDL: types (`AUTOINCREMENT` keys, `BLOB`, `REAL`, geometry columns) map per dialect, and
  R-trees are GiST indexes with an `rtree_<table>_<column>` view of the same shape for readers.

Everything else (joins, sub-queries, `coalesce`, `LIKE ... ESCAPE`, `ORDER BY ... IS NULL`) is
shared text. A statement is translated once and cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SQLITE_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

# Conflict targets of the tables the store upserts into (their primary or unique keys).
UPSERT_KEYS: dict[str, tuple[str, ...]] = {
    "mist_meta": ("key",),
    "embeddings": ("media_fid", "model"),
    "reference_features": ("ref_fid", "matcher"),
    "geolocations": ("post_fid", "matcher", "mode"),
    "references": ("ref_uid",),
    "leases": ("post_fid", "analyst"),
    "post_text_features": ("post_fid", "model"),
    "text_categories": ("name",),
    "live_cursors": ("source",),
    "reference_embeddings": ("ref_fid", "model"),
}
# Tables whose rows get a `fid` from the database (an INSERT into them reports `lastrowid`).
FID_TABLES = frozenset({
    "posts", "media", "runs", "issues", "predictions", "matches", "verifications", "references",
    "coarse_locations", "geolocations", "post_categories", "alerts", "head_versions", "placement_verdicts",
    "confidence_models",
})
GEOMETRY_COLUMNS = frozenset({"geom"})
# The tables without geometry a GIS user opens as layers: the import report, the analysts'
# verdicts and the posts still without a location. Only these are registered in a GeoPackage's
# gpkg_contents (tables with geometry always are); the store's own bookkeeping (media, runs,
# predictions, caches, leases, cursors, ...) stays unregistered, so tools that list a
# GeoPackage's contents (GDAL's ogrinfo and ogr2ogr, desktop GIS other than QGIS) show only these.
# GDAL lists every table when no attributes table is registered, so this is never empty.
LISTED_ATTRIBUTE_TABLES = frozenset({"issues", "verifications", "unlocated_posts"})


@dataclass(frozen=True)
class Translated:
    """A statement in psycopg's form; `numbered` lists the positions of `?N` placeholders in the
    order psycopg must receive them (None when the statement has none)."""

    sql: str
    numbered: tuple[int, ...] | None = None
    returns_fid: bool = False


_TOKEN = re.compile(r"""('(?:[^']|'')*')|("(?:[^"]|"")*")|(\?\d+)|(\?)|(?<![:\w]):([A-Za-z_]\w*)|(%)""")


def _placeholders(sql: str) -> tuple[str, tuple[int, ...] | None]:
    numbered: list[int] = []

    def repl(m: re.Match) -> str:
        literal, ident, num, qmark, name, percent = m.groups()
        if literal is not None:
            return literal.replace("%", "%%")
        if ident is not None:
            return ident
        if num is not None:
            numbered.append(int(num[1:]))
            return "%s"
        if qmark is not None:
            return "%s"
        if name is not None:
            return f"%({name})s"
        return "%%"

    out = _TOKEN.sub(repl, sql)
    return out, (tuple(numbered) if numbered else None)


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


_INSERT = re.compile(
    r'^\s*INSERT\s+(?:OR\s+(IGNORE|REPLACE)\s+)?INTO\s+("?)(\w+)\2\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)\s*$',
    re.IGNORECASE | re.DOTALL,
)
_INSERT_SELECT = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+", re.IGNORECASE)
_REPLACE_SELECT = re.compile(
    r'^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+("?)(\w+)\1\s*\(([^)]*)\)\s*(SELECT\b.*)$', re.IGNORECASE | re.DOTALL)
_INSERT_TABLE = re.compile(r'^\s*INSERT\s+INTO\s+"?(\w+)"?', re.IGNORECASE)
_SET_GEOM = re.compile(r"\b(geom)\s*=\s*(\?\d*|:\w+)")
_PRAGMAS = {
    "PRAGMA data_version": "SELECT last_value FROM mist_changes",
    "PRAGMA integrity_check": "SELECT 'ok'",
}
_PRAGMA_TABLE_INFO = re.compile(r"^\s*PRAGMA\s+table_info\((\w+)\)\s*$", re.IGNORECASE)


def _rewrite_insert(sql: str) -> str:
    m = _INSERT.match(sql)
    if not m:
        kind = _INSERT_SELECT.match(sql)
        if kind and kind.group(1).upper() == "IGNORE":
            return _INSERT_SELECT.sub("INSERT INTO ", sql) + " ON CONFLICT DO NOTHING"
        replace = _REPLACE_SELECT.match(sql)
        if replace:
            quote, table, cols, query = replace.groups()
            return f"INSERT INTO {quote}{table}{quote} ({cols}) {query} {_on_conflict_replace(table, cols)}"
        if kind:
            raise ValueError(f"INSERT OR REPLACE needs a column list: {sql[:80]}")
        return sql
    mode, quote, table, cols, values = m.groups()
    columns = [c.strip().strip('"') for c in cols.split(",")]
    items = _split_top(values)
    if len(items) == len(columns):
        items = [f"mist_gpkg_geom({v.strip()})" if c in GEOMETRY_COLUMNS and v.strip().startswith(("?", ":"))
                 else v for c, v in zip(columns, items, strict=True)]
    name = f'{quote}{table}{quote}'
    out = f"INSERT INTO {name} ({cols}) VALUES ({', '.join(i.strip() for i in items)})"
    if mode and mode.upper() == "IGNORE":
        out += " ON CONFLICT DO NOTHING"
    elif mode:
        out += " " + _on_conflict_replace(table, cols)
    return out


def _on_conflict_replace(table: str, cols: str) -> str:
    """`INSERT OR REPLACE`'s clause: the row's columns replace those of the row with its key."""
    keys = UPSERT_KEYS.get(table)
    if keys is None:
        raise ValueError(f"no upsert key is known for table {table}")
    updates = [c for c in (c.strip().strip('"') for c in cols.split(",")) if c not in keys]
    action = ("DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in updates)) if updates \
        else "DO NOTHING"
    return f"ON CONFLICT ({', '.join(keys)}) {action}"


_JSON_EACH = re.compile(r"json_each\((%s|%\(\w+\)s)\)")
_UNARY_PLUS = re.compile(r"(?<=[\s(])\+(?=[a-z]\w*\.)")


@lru_cache(maxsize=2048)
def to_postgres(sql: str) -> Translated:
    """The PostgreSQL form of one statement written for SQLite (see the module docstring)."""
    stripped = sql.strip()
    if stripped in _PRAGMAS:
        return Translated(_PRAGMAS[stripped])
    info = _PRAGMA_TABLE_INFO.match(stripped)
    if info:
        return Translated(
            "SELECT ordinal_position - 1 AS cid, column_name AS name FROM information_schema.columns "
            f"WHERE table_schema = current_schema() AND table_name = '{info.group(1)}' ORDER BY ordinal_position")
    if stripped.upper().startswith("PRAGMA"):
        return Translated("SELECT 0")
    text = sql.replace(SQLITE_NOW, "mist_utc_now()")
    text = _rewrite_insert(text)
    text = _SET_GEOM.sub(r"\1 = mist_gpkg_geom(\2)", text) if text.lstrip().upper().startswith("UPDATE") else text
    text = re.sub(r"\bCROSS JOIN\b", "JOIN", text)
    text = re.sub(r"\bLIKE\b", "ILIKE", text)  # SQLite's LIKE ignores ASCII case
    text = _UNARY_PLUS.sub("", text)
    text, numbered = _placeholders(text)
    text = _JSON_EACH.sub(r"json_array_elements_text(CAST(\1 AS json))", text)
    table = _INSERT_TABLE.match(text)
    returns_fid = bool(table and table.group(1) in FID_TABLES and "RETURNING" not in text.upper())
    return Translated(text, numbered, returns_fid)


# -- DDL ---------------------------------------------------------------------------------------

_DDL_TYPES = [
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bgeom POINT\b"), "geom geometry(Point, 4326)"),
    (re.compile(r"\bgeom LINESTRING\b"), "geom geometry(LineString, 4326)"),
    # post time is a real timestamp (QGIS's temporal controller reads it); the connection reads it
    # back in the store's ISO form. Other times stay ISO text, as in the GeoPackage.
    (re.compile(r"\btimestamp DATETIME\b"), "timestamp timestamptz"),
    (re.compile(r"\bDATETIME\b"), "TEXT"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bBOOLEAN NOT NULL DEFAULT 0\b"), "BOOLEAN NOT NULL DEFAULT false"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
]


def ddl_to_postgres(script: str) -> str:
    """A CREATE/ALTER script written for SQLite in PostgreSQL's types (see `_DDL_TYPES`)."""
    text = script.replace(SQLITE_NOW, "mist_utc_now()")
    for pattern, replacement in _DDL_TYPES:
        text = pattern.sub(replacement, text)
    return text
