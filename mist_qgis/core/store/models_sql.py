"""SQL for the model stages: which photos still need a prediction or an embedding, writing them
per batch, reading cached embeddings and the analysts' verified labels.

Reads take a `Store`; writes take the `conn` of the caller's `store.batch()`, so a batch of
predictions lands together with its bookkeeping or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..stage import MediaStatus
from . import verify_sql

if TYPE_CHECKING:
    import numpy as np

    from .store import Store


@dataclass(frozen=True)
class MediaItem:
    """A fetched photo: its media row, its post and its cache path (relative to media_dir)."""

    media_fid: int
    post_fid: int
    cache_path: str


@dataclass(frozen=True)
class VerifiedMedia:
    """The latest verdict an analyst gave on one photo (post-level verdicts apply to every photo)."""

    media_fid: int
    post_fid: int
    verdict: str
    water_depth_m: float | None
    note: str | None
    analyst: str
    verified_at: str


# fetched photos; the one placeholder takes OK_PHOTOS_PARAMS, ahead of any parameter after it
_OK_PHOTOS = "m.status = ? AND m.kind = 'photo' AND m.cache_path IS NOT NULL"
_OK_PHOTOS_PARAMS = (MediaStatus.OK,)


def _pending_sql(table: str) -> str:
    return (
        f"FROM media m WHERE {_OK_PHOTOS} AND NOT EXISTS "
        f"(SELECT 1 FROM {table} t WHERE t.media_fid = m.fid AND t.model = ?)"
    )


def count_photos_without(store: Store, table: str, model_tag: str) -> int:
    """How many fetched photos have no row in `table` ("predictions" or "embeddings") for a model."""
    _check_table(table)
    return int(store.scalar(f"SELECT count(*) {_pending_sql(table)}", (*_OK_PHOTOS_PARAMS, model_tag)))


def photos_without(
    store: Store, table: str, model_tag: str, after_fid: int = 0, limit: int = 1000
) -> list[MediaItem]:
    """The next fetched photos (by fid, after `after_fid`) still missing a result for a model.

    Paging by fid lets a run move past photos it skipped (corrupt files) without looping, and a
    later run resumes exactly where a cancelled one stopped.
    """
    _check_table(table)
    rows = store.query(
        f"SELECT m.fid, m.post_fid, m.cache_path {_pending_sql(table)} AND m.fid > ? ORDER BY m.fid LIMIT ?",
        (*_OK_PHOTOS_PARAMS, model_tag, after_fid, limit),
    )
    return [MediaItem(r[0], r[1], r[2]) for r in rows]


def ok_photos(store: Store, media_fids: Sequence[int] | None = None) -> list[MediaItem]:
    """Fetched photos, all or the given ones."""
    rows = store.query(f"SELECT m.fid, m.post_fid, m.cache_path FROM media m WHERE {_OK_PHOTOS} ORDER BY m.fid",
                       _OK_PHOTOS_PARAMS)
    items = [MediaItem(r[0], r[1], r[2]) for r in rows]
    if media_fids is not None:
        wanted = set(media_fids)
        items = [i for i in items if i.media_fid in wanted]
    return items


def _check_table(table: str) -> None:
    if table not in ("predictions", "embeddings"):
        raise ValueError(f"unknown result table {table!r}")


def write_predictions(conn: sqlite3.Connection, rows: Iterable[tuple[int, str, str, float, int | None]]) -> int:
    """Insert (media_fid, model_tag, label, score, run_id) rows; returns how many."""
    cur = conn.executemany(
        "INSERT INTO predictions (media_fid, model, label, score, run_fid) VALUES (?, ?, ?, ?, ?)", list(rows)
    )
    return cur.rowcount


def set_post_labels(conn: sqlite3.Connection, rows: Iterable[tuple[int, str, float, str]]) -> None:
    """Copy a photo's top label onto its post's `cls_*` fields (the layer's attributes).

    For posts with several photos, the best-scoring photo of the same model wins; a new model
    replaces another model's label.
    """
    conn.executemany(
        "UPDATE posts SET cls_label = ?2, cls_score = ?3, cls_model = ?4 WHERE fid = ?1 "
        "AND (cls_model IS NULL OR cls_model <> ?4 OR cls_score IS NULL OR cls_score <= ?3)",
        list(rows),
    )


def predictions(store: Store, model_tag: str) -> list[sqlite3.Row]:
    return store.query(
        "SELECT media_fid, label, score, run_fid FROM predictions WHERE model = ? ORDER BY media_fid, score DESC",
        (model_tag,),
    )


def write_embeddings(conn: sqlite3.Connection, model_tag: str, items: Iterable[tuple[int, np.ndarray]]) -> int:
    """Store float32 vectors for (media_fid, vector) pairs; an existing vector is replaced."""
    return _write_vectors(conn, "embeddings (media_fid", model_tag, items)


def _write_vectors(conn: sqlite3.Connection, table_key: str, model_tag: str,
                   items: Iterable[tuple[int, np.ndarray]]) -> int:
    import numpy as np

    rows = []
    for fid, vector in items:
        v = np.ascontiguousarray(vector, dtype="<f4").ravel()
        rows.append((fid, model_tag, int(v.size), v.tobytes()))
    conn.executemany(f"INSERT OR REPLACE INTO {table_key}, model, dim, vector) VALUES (?, ?, ?, ?)", rows)
    return len(rows)


def write_reference_embeddings(conn: sqlite3.Connection, model_tag: str,
                               items: Iterable[tuple[int, np.ndarray]]) -> int:
    """Store float32 vectors for (reference fid, vector) pairs; an existing vector is replaced."""
    return _write_vectors(conn, "reference_embeddings (ref_fid", model_tag, items)


def references_without_embedding(store: Store, model_tag: str) -> list[tuple[int, str, str]]:
    """(fid, image path, uid) of located references with no `model_tag` embedding yet."""
    rows = store.query(
        'SELECT r.fid, r.image_path, r.ref_uid FROM "references" r WHERE r.geom IS NOT NULL AND NOT EXISTS '
        "(SELECT 1 FROM reference_embeddings e WHERE e.ref_fid = r.fid AND e.model = ?) ORDER BY r.fid",
        (model_tag,))
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def load_reference_embeddings(store: Store, model_tag: str, ref_fids: Sequence[int] | None = None
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Cached reference vectors of a model: (reference fids, matrix N x dim), in fid order."""
    return _key_matrix(*vector_rows(
        store, "reference_embeddings", "ref_fid", "vector", model_tag, ref_fids, "reference embeddings"))


def _key_matrix(rows: list, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys, matrix N x dim) of vector rows (key, dim, float32 blob)."""
    import numpy as np

    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    keys = np.array([r[0] for r in rows], dtype=np.int64)
    matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(len(rows), dim)
    return keys, matrix.astype(np.float32)


IN_CHUNK = 500  # keys per IN list: the backends limit the parameters of one statement


def rows_among(store: Store, sql: str, params: Sequence, column: str, keys: Iterable[int] | None,
               order_by: str = "") -> list:
    """The rows of `sql` (which ends in a WHERE clause), kept to `column IN keys` in the query
    itself when keys are given; with `order_by` (the key column) the rows come in key order."""
    suffix = f" ORDER BY {order_by}" if order_by else ""
    if keys is None:
        return store.query(sql + suffix, tuple(params))
    wanted = sorted({int(k) for k in keys})
    rows: list = []
    for i in range(0, len(wanted), IN_CHUNK):
        part = wanted[i:i + IN_CHUNK]
        rows += store.query(f"{sql} AND {column} IN ({','.join('?' * len(part))}){suffix}", (*params, *part))
    return rows


def vector_rows(
    store: Store, table: str, key: str, columns: str, model_tag: str, keys: Sequence[int] | None, what: str,
) -> tuple[list[sqlite3.Row], int]:
    """Rows (key, dim, *columns) of one model's vectors in `table`, in key order, only those of
    `keys` when given, and their one size."""
    rows = rows_among(store, f"SELECT {key}, dim, {columns} FROM {table} WHERE model = ?", (model_tag,), key, keys,
                      order_by=key)
    dims = {r[1] for r in rows}
    if len(dims) > 1:
        raise ValueError(f"{what} of {model_tag} have mixed sizes {sorted(dims)}")
    return rows, (dims.pop() if dims else 0)


def load_embeddings(
    store: Store, model_tag: str, media_fids: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cached vectors of a model: (media fids, matrix N x dim), in fid order."""
    return _key_matrix(*vector_rows(store, "embeddings", "media_fid", "vector", model_tag, media_fids, "embeddings"))


def embedding_models(store: Store) -> dict[str, int]:
    """Models with cached embeddings and how many photos each covers."""
    return {r[0]: r[1] for r in store.query("SELECT model, count(*) FROM embeddings GROUP BY model")}


def verified_media(store: Store) -> list[VerifiedMedia]:
    """The current verdict of each fetched photo (the rule in `store/verify_sql.py`: the latest
    recorded verdict covering the photo, given to it or to its whole post)."""
    rows = store.query(
        f"""
        SELECT m.fid AS media_fid, v.post_fid, v.verdict, v.water_depth_m, v.note, v.analyst, v.verified_at
        FROM media m JOIN verifications v ON v.fid = {verify_sql.LATEST_VERIFICATION}
        WHERE {_OK_PHOTOS} AND m.post_fid IN (SELECT post_fid FROM verifications)
        ORDER BY m.fid
        """,
        _OK_PHOTOS_PARAMS,
    )
    return [
        VerifiedMedia(r["media_fid"], r["post_fid"], r["verdict"], r["water_depth_m"], r["note"], r["analyst"],
                      r["verified_at"])
        for r in rows
    ]


def post_texts_without_embedding(store: Store, model_tag: str) -> list[tuple[int, str]]:
    """(media fid, post text) of fetched photos whose post text has no embedding for a model yet."""
    rows = store.query(
        f"SELECT m.fid, coalesce(p.text, '') FROM media m JOIN posts p ON p.fid = m.post_fid "
        f"WHERE {_OK_PHOTOS} AND NOT EXISTS "
        "(SELECT 1 FROM embeddings e WHERE e.media_fid = m.fid AND e.model = ?) ORDER BY m.fid",
        (*_OK_PHOTOS_PARAMS, model_tag),
    )
    return [(r[0], r[1]) for r in rows]


def post_texts(store: Store, post_fids: Sequence[int]) -> dict[int, str]:
    """Text of the given posts ('' when a post has none), for models that read a photo together
    with its post's text."""
    ids = sorted(set(int(f) for f in post_fids))
    out: dict[int, str] = {}
    for start in range(0, len(ids), 500):  # well below SQLite's bound-parameter limit
        part = ids[start:start + 500]
        rows = store.query(
            f"SELECT fid, coalesce(text, '') FROM posts WHERE fid IN ({','.join('?' * len(part))})", part
        )
        out.update((r[0], r[1]) for r in rows)
    return out
