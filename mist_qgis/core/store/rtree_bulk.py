"""Filling a GeoPackage R-tree in bulk: Sort-Tile-Recursive packing written straight into the
SQLite R-tree's own node tables, as GDAL does for its bulk loads.

Inserting through the R-tree module costs about 8 µs a point (it descends and splits node by
node); packing the whole tree costs about 1 µs a point and gives full, well-clustered nodes. The
node layout is SQLite's (rtree.c): a 2-byte tree depth (meaningful in the root only), a 2-byte
cell count, then cells of a big-endian int64 id and four big-endian float32 (minx, maxx, miny,
maxy), minima rounded down and maxima rounded up. `rtreecheck()` verifies the result in tests.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator

import numpy as np

from . import gpkg

CELL = np.dtype([("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")])
_HEADER = struct.Struct(">HH")
_LE_POINT = struct.pack("<BI", 1, 1)  # little-endian WKB point
# Rebuilding reads every entry back; below this share of new entries, inserting them one by
# one through the R-tree module is cheaper (8 µs per new entry against ~1.5 µs per entry).
REBUILD_RATIO = 4
# Packing holds the tree in memory, about 175 bytes an entry at the peak; larger trees take the
# slower way through the module, whose memory does not grow with the tree.
MAX_PACKED = 2_000_000
_CHUNK = 50_000


def index_missing(conn: sqlite3.Connection, table: str, column: str = "geom", since_fid: int = 1) -> int:
    """Give every feature of `table` from fid `since_fid` on that has a geometry but no R-tree
    entry its entry; returns how many were added. Idempotent, so safe to repeat after a crash."""
    rtree = f"rtree_{table}_{column}"
    missing = conn.execute(
        f'SELECT fid, "{column}" FROM "{table}" WHERE fid >= ? AND "{column}" IS NOT NULL '
        f'AND fid NOT IN (SELECT rowid FROM "{rtree}_rowid") ORDER BY fid', (since_fid,),
    )
    new = _read_cells(missing, _envelopes)
    added = len(new)
    if not added:
        return 0
    existing = conn.execute(f'SELECT count(*) FROM "{rtree}_rowid"').fetchone()[0]
    if existing <= REBUILD_RATIO * added and existing + added <= MAX_PACKED:
        old = _read_cells(conn.execute(f'SELECT id, minx, maxx, miny, maxy FROM "{rtree}"'),
                          lambda rows: np.array(rows, dtype=np.float64))
        try:
            pack_rtree(conn, rtree, np.concatenate([old, new]))
            return added
        except sqlite3.OperationalError as exc:
            # an SQLite built "defensive" refuses writes to the node tables before changing any
            if "may not be modified" not in str(exc):
                raise
    for start in range(0, added, _CHUNK):
        part = new[start:start + _CHUNK]
        conn.executemany(f'INSERT INTO "{rtree}" VALUES (?, ?, ?, ?, ?)', zip(
            part["id"].tolist(), part["minx"].tolist(), part["maxx"].tolist(), part["miny"].tolist(),
            part["maxy"].tolist(), strict=True))
    return added


def cells_from_boxes(boxes: np.ndarray) -> np.ndarray:
    """R-tree cells from (n, 5) rows of (id, minx, maxx, miny, maxy), rounded outward."""
    cells = np.empty(len(boxes), CELL)
    cells["id"] = boxes[:, 0]
    cells["minx"], cells["maxx"] = _round_down(boxes[:, 1]), _round_up(boxes[:, 2])
    cells["miny"], cells["maxy"] = _round_down(boxes[:, 3]), _round_up(boxes[:, 4])
    return cells


def _read_cells(cursor: sqlite3.Cursor, boxes_of) -> np.ndarray:
    """A query's rows as cells, converted a chunk at a time: a million rows as Python tuples
    would take ten times the memory of the cells."""
    parts = [np.empty(0, CELL)]
    while rows := cursor.fetchmany(_CHUNK):
        parts.append(cells_from_boxes(boxes_of(rows).reshape(-1, 5)))
    return np.concatenate(parts)


_POINT_ROW = np.dtype([("head", "V13"), ("x", "<f8"), ("y", "<f8")])


def _envelopes(features: list[tuple[int, bytes]]) -> np.ndarray:
    """(fid, minx, maxx, miny, maxy) rows of the non-empty geometries; the store's own points
    (29-byte little-endian blobs without envelope) are read all at once."""
    size = _POINT_ROW.itemsize
    if all(len(blob) == size for _, blob in features):
        points = np.frombuffer(b"".join(blob for _, blob in features), _POINT_ROW)
        head = np.frombuffer(points["head"].tobytes(), np.uint8).reshape(-1, 13)
        if (head[:, 3] == 0x01).all() and (head[:, 8:13] == np.frombuffer(_LE_POINT, np.uint8)).all():
            fids = np.fromiter((fid for fid, _ in features), np.float64, len(features))
            return np.column_stack([fids, points["x"], points["x"], points["y"], points["y"]])
    rows = []
    for fid, blob in features:
        if not gpkg.is_empty(blob):
            env = gpkg.envelope(blob)
            rows.append((fid, env.min_x, env.max_x, env.min_y, env.max_y))
    return np.array(rows, dtype=np.float64)


def pack_rtree(conn: sqlite3.Connection, rtree: str, cells: np.ndarray) -> None:
    """Replace the content of the R-tree `rtree` with these cells (`cells_from_boxes`), packed
    bottom-up."""
    node_size = conn.execute(f'SELECT length(data) FROM "{rtree}_node" WHERE nodeno = 1').fetchone()[0]
    capacity = (node_size - _HEADER.size) // CELL.itemsize
    for shadow in ("node", "rowid", "parent"):
        conn.execute(f'DELETE FROM "{rtree}_{shadow}"')
    # the node bytes are the cells' bytes: big-endian whatever numpy made of them (concatenate
    # returns native byte order)
    levels = _build_levels(cells.astype(CELL, copy=False), capacity)
    # number the nodes from the root (1) down, level by level
    first_number, number = [], 1
    for level in reversed(levels):
        first_number.append(number)
        number += len(level)
    first_number.reverse()
    depth = len(levels) - 1
    members: list[tuple[np.ndarray, int]] = []  # (leaf ids or child node numbers, node number)

    def node_rows() -> Iterator[tuple[int, bytes]]:  # streamed: the blobs are as large as the tree
        for height, level in enumerate(levels):
            base = first_number[height]
            for k, node_cells in enumerate(level):
                nodeno = base + k
                if height > 0:  # child ids are node positions in the level below until numbered here
                    node_cells = node_cells.copy()
                    node_cells["id"] += first_number[height - 1]
                members.append((node_cells["id"], nodeno))
                blob = _HEADER.pack(depth if nodeno == 1 else 0, len(node_cells)) + node_cells.tobytes()
                yield nodeno, blob + bytes(node_size - len(blob))

    conn.executemany(f'INSERT INTO "{rtree}_node" (nodeno, data) VALUES (?, ?)', node_rows())
    if not levels:  # an empty tree is an empty root
        conn.execute(f'INSERT INTO "{rtree}_node" (nodeno, data) VALUES (1, ?)', (bytes(node_size),))
    leaves = len(levels[0]) if levels else 0
    for shadow, columns, part in (("rowid", "rowid, nodeno", members[:leaves]),
                                  ("parent", "nodeno, parentnode", members[leaves:])):
        if not part:
            continue
        ids = np.concatenate([m for m, _ in part]).astype(np.int64)
        owners = np.repeat([n for _, n in part], [len(m) for m, _ in part])
        order = np.argsort(ids, kind="stable")  # ascending keys: appends to the table's b-tree
        conn.executemany(f'INSERT INTO "{rtree}_{shadow}" ({columns}) VALUES (?, ?)',
                         zip(ids[order].tolist(), owners[order].tolist(), strict=True))


def _build_levels(cells: np.ndarray, capacity: int) -> list[list[np.ndarray]]:
    """Levels from the leaves up; each a list of nodes, each node an array of cells. Above the
    leaves a cell's id is the position of its child node in the level below."""
    levels: list[list[np.ndarray]] = []
    while len(cells):
        cells = cells[_str_order(cells, capacity)]
        nodes = [cells[i:i + capacity] for i in range(0, len(cells), capacity)]
        levels.append(nodes)
        if len(nodes) == 1:
            break
        starts = np.arange(0, len(cells), capacity)
        parents = np.empty(len(nodes), CELL)
        parents["id"] = np.arange(len(nodes))
        for name, reduce in (("minx", np.minimum), ("miny", np.minimum), ("maxx", np.maximum), ("maxy", np.maximum)):
            parents[name] = reduce.reduceat(cells[name], starts)
        cells = parents
    return levels


def _str_order(cells: np.ndarray, capacity: int) -> np.ndarray:
    """Sort-Tile-Recursive: vertical slabs of about sqrt(nodes) nodes by x, then y within a slab."""
    cx = (cells["minx"].astype(np.float64) + cells["maxx"]) / 2
    cy = (cells["miny"].astype(np.float64) + cells["maxy"]) / 2
    nodes = -(-len(cells) // capacity)
    slab = int(np.ceil(np.sqrt(nodes))) * capacity
    rank = np.empty(len(cells), np.int64)
    rank[np.argsort(cx, kind="stable")] = np.arange(len(cells))
    return np.lexsort((cy, rank // slab))


# SQLite rounds a double that float32 cannot hold by scaling it 2**-23 towards or away from zero
# before the cast (rtree.c, rtreeValueDown/Up); the same here gives byte-identical cells.
_TOWARDS, _AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0


def _round_down(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, np.float64)
    single = values.astype(np.float32)
    nudged = (values * np.where(values < 0, _AWAY, _TOWARDS)).astype(np.float32)
    return np.where(single.astype(np.float64) > values, nudged, single)


def _round_up(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, np.float64)
    single = values.astype(np.float32)
    nudged = (values * np.where(values < 0, _TOWARDS, _AWAY)).astype(np.float32)
    return np.where(single.astype(np.float64) < values, nudged, single)
