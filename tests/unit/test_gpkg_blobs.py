import struct

import pytest

from mist_qgis.core.store import gpkg


def test_point_blob_round_trip():
    blob = gpkg.point_blob(113.68, 34.69)
    assert blob[:2] == b"GP"
    assert gpkg.point_xy(blob) == (113.68, 34.69)
    env = gpkg.envelope(blob)
    assert (env.min_x, env.max_x, env.min_y, env.max_y) == (113.68, 113.68, 34.69, 34.69)
    assert not gpkg.is_empty(blob)


def test_linestring_envelope_from_header():
    blob = gpkg.linestring_blob([(0.0, 5.0), (2.0, -1.0), (1.0, 3.0)])
    env = gpkg.envelope(blob)
    assert (env.min_x, env.max_x, env.min_y, env.max_y) == (0.0, 2.0, -1.0, 5.0)


def test_big_endian_point_without_envelope():
    """QGIS or other tools may write big-endian WKB; the envelope must still be right."""
    header = struct.pack("<2sBBi", b"GP", 0, 0x00, 4326)
    wkb = struct.pack(">BIdd", 0, 1, -73.5, 40.25)
    assert gpkg.envelope(header + wkb).min_x == -73.5
    assert gpkg.point_xy(header + wkb) == (-73.5, 40.25)


def test_garbage_blob_is_rejected():
    with pytest.raises(ValueError):
        gpkg.envelope(b"not a geometry")


def test_execute_script_keeps_triggers_whole(tmp_path):
    import sqlite3

    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    conn.execute("BEGIN")
    gpkg.execute_script(conn, """
        CREATE TABLE a (x);
        CREATE TABLE b (y);
        CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (NEW.x); INSERT INTO b VALUES (1); END;
    """)
    conn.execute("INSERT INTO a VALUES (7)")
    conn.execute("ROLLBACK")  # still inside the caller's transaction: everything rolls back
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
