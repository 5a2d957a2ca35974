"""The PostgreSQL + PostGIS side of the schema's DDL helpers (the GeoPackage side is `gpkg`).

`schema.py` writes each migration once; it calls these four functions through `ddl_for(conn)`.
On PostgreSQL there are no GeoPackage metadata tables: a feature table gets a GiST index and an
`rtree_<table>_<column>` view with the R-tree's columns, and the store's schema gets the few SQL
functions the shared statements call (`mist_utc_now`, `mist_gpkg_geom`, `ST_MinX`...,
`json_extract`).
"""

from __future__ import annotations

from .dialect import ddl_to_postgres

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION mist_utc_now() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
-- a GeoPackage geometry blob (header, optional envelope, WKB) as a PostGIS geometry
CREATE OR REPLACE FUNCTION mist_gpkg_geom(b bytea) RETURNS geometry LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ST_SetSRID(
    ST_GeomFromWKB(substring(b FROM 9 + (ARRAY[0, 32, 48, 48, 64])[((get_byte(b, 3) >> 1) & 7) + 1])),
    CASE WHEN get_byte(b, 3) & 1 = 1
      THEN get_byte(b, 4) | (get_byte(b, 5) << 8) | (get_byte(b, 6) << 16) | (get_byte(b, 7) << 24)
      ELSE get_byte(b, 7) | (get_byte(b, 6) << 8) | (get_byte(b, 5) << 16) | (get_byte(b, 4) << 24) END) $$;
CREATE OR REPLACE FUNCTION ST_MinX(g geometry) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT AS
  $$ SELECT ST_XMin(g::box3d) $$;
CREATE OR REPLACE FUNCTION ST_MaxX(g geometry) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT AS
  $$ SELECT ST_XMax(g::box3d) $$;
CREATE OR REPLACE FUNCTION ST_MinY(g geometry) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT AS
  $$ SELECT ST_YMin(g::box3d) $$;
CREATE OR REPLACE FUNCTION ST_MaxY(g geometry) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT AS
  $$ SELECT ST_YMax(g::box3d) $$;
-- SQLite's json_extract for the JSON text columns (attributes, exif): the value as text, or NULL
CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS
  $$ SELECT nullif(jsonb_path_query_first(doc::jsonb, path::jsonpath), 'null'::jsonb) #>> '{}' $$;
"""


def create_core_tables(conn) -> None:
    conn.execute_script(FUNCTIONS)


def execute_script(conn, script: str) -> None:
    conn.execute_script(ddl_to_postgres(script))


def register_attributes_table(conn, table: str, description: str = "") -> None:
    """Nothing to register: PostgreSQL has no gpkg_contents."""


def register_features_table(conn, table: str, geometry_type: str, column: str = "geom", srs_id: int = 4326,
                            description: str = "", fid_column: str = "fid") -> None:
    """A GiST index where the GeoPackage has its R-tree, and a view of the R-tree's shape so
    readers that join `rtree_<table>_<column>` work unchanged."""
    conn.execute_script(
        f'CREATE INDEX IF NOT EXISTS "idx_{table}_{column}_gist" ON "{table}" USING GIST ("{column}");\n'
        f'CREATE OR REPLACE VIEW "rtree_{table}_{column}" AS SELECT "{fid_column}" AS id, '
        f'ST_XMin("{column}"::box3d) AS minx, ST_XMax("{column}"::box3d) AS maxx, '
        f'ST_YMin("{column}"::box3d) AS miny, ST_YMax("{column}"::box3d) AS maxy '
        f'FROM "{table}" WHERE "{column}" IS NOT NULL AND NOT ST_IsEmpty("{column}");'
    )
