"""SQL of text screening: post-keyed text features, post categories by source, the per-post
summary fields the posts layer shows (`text_categories`, `text_category_source`,
`text_confidence`), and the analysts' category labels.

Features are keyed by post, so a post without a photo is screened like any other. Dense vectors
(sentence embeddings) are stored as float32; hashed character n-grams as sparse (int32 indices
followed by float32 values), which keeps a short post to a few hundred bytes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import options
from ..stage import MediaStatus

if TYPE_CHECKING:
    import numpy as np
    from scipy import sparse

    from .store import Store

SOURCES = options.CATEGORY_SOURCES.names
# What the posts layer's `text_category_source` says, per source (and for posts without text).
SOURCE_LABELS = {"keyword": "keyword rule", "head": "head", "analyst": "analyst", None: "no text"}
NO_TEXT = "no text"


@dataclass(frozen=True)
class PostText:
    post_fid: int
    text: str
    has_media: bool


def iter_post_texts(store: Store, after_fid: int = 0, limit: int = 5000) -> Iterator[list[PostText]]:
    """Every post in fid order, in pages (a million posts never sit in memory at once)."""
    last = after_fid
    while True:
        rows = store.query(
            "SELECT p.fid, coalesce(p.text, ''), EXISTS (SELECT 1 FROM media m WHERE m.post_fid = p.fid) "
            "FROM posts p WHERE p.fid > ? ORDER BY p.fid LIMIT ?", (last, limit),
        )
        if not rows:
            return
        yield [PostText(r[0], r[1], bool(r[2])) for r in rows]
        last = rows[-1][0]


def write_features(conn: sqlite3.Connection, model: str, dim: int, rows: Iterable[tuple[int, str, bytes]]) -> None:
    """(post fid, format, blob) rows; an existing vector of the same model is replaced."""
    conn.executemany(
        "INSERT OR REPLACE INTO post_text_features (post_fid, model, dim, format, vector) VALUES (?, ?, ?, ?, ?)",
        [(fid, model, dim, fmt, blob) for fid, fmt, blob in rows],
    )


def feature_post_fids(store: Store, model: str, first: int, last: int) -> set[int]:
    """Posts in a fid range that already have features of a model."""
    return {r[0] for r in store.query(
        "SELECT post_fid FROM post_text_features WHERE model = ? AND post_fid BETWEEN ? AND ?", (model, first, last))}


def dense_blob(vector: np.ndarray) -> bytes:
    import numpy as np

    return np.ascontiguousarray(vector, dtype="<f4").ravel().tobytes()


def sparse_blob(indices: np.ndarray, values: np.ndarray) -> bytes:
    import numpy as np

    return np.ascontiguousarray(indices, dtype="<i4").tobytes() + np.ascontiguousarray(values, dtype="<f4").tobytes()


def load_features(
    store: Store, model: str, post_fids: Sequence[int] | None = None,
) -> tuple[np.ndarray, sparse.csr_matrix]:
    """(post fids, CSR matrix N x dim) of one feature model, in fid order."""
    import numpy as np
    from scipy import sparse as sp

    from .models_sql import vector_rows

    rows, dim = vector_rows(store, "post_text_features", "post_fid", "format, vector", model, post_fids,
                            "text features")
    if not rows:
        return np.zeros(0, dtype=np.int64), sp.csr_matrix((0, 0), dtype=np.float32)
    indptr, indices, values = [0], [], []
    for _, _, fmt, blob in rows:
        if fmt == "dense":
            v = np.frombuffer(blob, dtype="<f4")
            nz = np.flatnonzero(v)
            indices.append(nz.astype(np.int32))
            values.append(v[nz])
        else:
            n = len(blob) // 8
            indices.append(np.frombuffer(blob[: 4 * n], dtype="<i4"))
            values.append(np.frombuffer(blob[4 * n:], dtype="<f4"))
        indptr.append(indptr[-1] + len(indices[-1]))
    matrix = sp.csr_matrix(
        (np.concatenate(values).astype(np.float32), np.concatenate(indices), np.array(indptr)), shape=(len(rows), dim)
    )
    return np.array([r[0] for r in rows], dtype=np.int64), matrix


def replace_categories(
    conn: sqlite3.Connection, source: str, run_id: int | None, model: str | None,
    rows: Iterable[tuple[int, Sequence[tuple[str, float]]]],
) -> None:
    """Replace one source's categories of each post: (post fid, [(category, score)])."""
    if source not in SOURCES:
        raise ValueError(f"unknown category source {source!r}")
    rows = list(rows)
    conn.executemany("DELETE FROM post_categories WHERE post_fid = ? AND source = ?", [(f, source) for f, _ in rows])
    conn.executemany(
        "INSERT INTO post_categories (post_fid, category, source, score, model, run_fid) VALUES (?, ?, ?, ?, ?, ?)",
        [(fid, cat, source, score, model, run_id) for fid, cats in rows for cat, score in cats],
    )


def set_analyst_categories(conn: sqlite3.Connection, post_fid: int, categories: Sequence[str], analyst: str) -> None:
    """An analyst's categories for a post (replacing theirs and anyone's before); shown above heads."""
    conn.execute("DELETE FROM post_categories WHERE post_fid = ? AND source = 'analyst'", (post_fid,))
    conn.executemany(
        "INSERT INTO post_categories (post_fid, category, source, score, analyst) VALUES (?, ?, 'analyst', 1.0, ?)",
        [(post_fid, c, analyst) for c in categories],
    )
    conn.execute(
        "UPDATE posts SET text_categories = ?, text_category_source = 'analyst', text_confidence = 1.0 WHERE fid = ?",
        (",".join(categories), post_fid),
    )


def set_summaries(conn: sqlite3.Connection, rows: Iterable[tuple[int, str | None, str, float | None]]) -> None:
    """(post fid, categories joined by commas, source label, confidence) on the posts layer's fields.

    A post an analyst labelled keeps the analyst's categories."""
    conn.executemany(
        "UPDATE posts SET text_categories = ?, text_category_source = ?, text_confidence = ? "
        "WHERE fid = ? AND coalesce(text_category_source, '') != 'analyst'",
        [(cats, src, conf, fid) for fid, cats, src, conf in rows],
    )


def analyst_labels(store: Store) -> dict[int, tuple[str, ...]]:
    """post fid -> the categories analysts gave it (the training labels of text heads). An analyst's
    "none of these" is an empty tuple: a negative for every category (a post with no text has no
    features, so it never becomes one)."""
    out: dict[int, list[str]] = {fid: [] for (fid,) in store.query(
        "SELECT fid FROM posts WHERE text_category_source = 'analyst' ORDER BY fid")}
    for fid, cat in store.query(
        "SELECT post_fid, category FROM post_categories WHERE source = 'analyst' ORDER BY post_fid, fid"
    ):
        out.setdefault(fid, []).append(cat)
    return {k: tuple(v) for k, v in out.items()}


def analyst_labelled_posts(store: Store) -> set[int]:
    return set(analyst_labels(store))


def post_categories(store: Store, post_fid: int) -> list[sqlite3.Row]:
    """Every category row of one post (the verify dock lists them by source)."""
    return store.query(
        "SELECT category, source, score, model, analyst FROM post_categories WHERE post_fid = ? "
        "ORDER BY CASE source WHEN 'analyst' THEN 0 WHEN 'head' THEN 1 ELSE 2 END, score DESC", (post_fid,),
    )


def media_text_features(
    store: Store, model: str, media_fids: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(media fids, dense rows): each fetched photo gets its post's text features, so a head that
    reads a photo beside its post's text uses the features computed once per post."""
    import numpy as np

    rows = store.query(
        "SELECT m.fid, m.post_fid FROM media m WHERE m.status = ? AND m.kind = 'photo' "
        "AND m.cache_path IS NOT NULL ORDER BY m.fid", (MediaStatus.OK,)
    )
    if media_fids is not None:
        wanted = set(int(f) for f in media_fids)
        rows = [r for r in rows if r[0] in wanted]
    post_fids, matrix = load_features(store, model, [r[1] for r in rows])
    if not len(post_fids):
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    where = {int(f): i for i, f in enumerate(post_fids)}
    pairs = [(r[0], where[r[1]]) for r in rows if r[1] in where]
    return (np.array([m for m, _ in pairs], dtype=np.int64),
            matrix[[i for _, i in pairs]].toarray().astype(np.float32))


# -- analysts categorising posts without photos (the Verify dock's text mode) -----------------------

_TEXT_ONLY = "NOT EXISTS (SELECT 1 FROM media m0 WHERE m0.post_fid = p.fid)"
_NOT_BY_ANALYST = "coalesce(p.text_category_source, '') != 'analyst'"


def text_only_terms(terms: list[str], uncategorised: bool) -> list[str]:
    """The queue filter's terms on posts, narrowed to posts without photos (and, when asked, to
    those no analyst has categorised yet)."""
    return [*terms, _TEXT_ONLY, *([_NOT_BY_ANALYST] if uncategorised else [])]


def text_only_page(store: Store, terms: list[str], params: dict, after_fid: int, limit: int) -> list[sqlite3.Row]:
    """A keyset page (fid order) of posts without photos that pass `terms` (see `text_only_terms`)."""
    where = " AND ".join(f"({t})" for t in [*terms, "p.fid > :after_fid"])
    return store.query(
        "SELECT p.fid, p.post_id, p.platform, p.timestamp, p.text, p.url, p.geom, p.text_categories, "
        f"p.text_category_source, p.text_confidence FROM posts p WHERE {where} ORDER BY p.fid LIMIT :page_limit",
        {**params, "after_fid": int(after_fid), "page_limit": int(limit)},
    )


def text_only_count(store: Store, terms: list[str], params: dict) -> int:
    where = " AND ".join(f"({t})" for t in terms) or "1 = 1"
    return int(store.query(f"SELECT count(*) FROM posts p WHERE {where}", params)[0][0])


def posts_only(store: Store) -> bool:
    """Posts, and not one photo among them (a posts-only collection); no full count of either."""
    return bool(store.query("SELECT EXISTS (SELECT 1 FROM posts) AND NOT EXISTS (SELECT 1 FROM media)")[0][0])


def category_state(store: Store, post_fid: int) -> tuple[list[tuple[str, str | None]], tuple]:
    """A post's analyst categories (category, analyst) and its summary fields, to restore on undo."""
    rows = store.query("SELECT category, analyst FROM post_categories WHERE post_fid = ? AND source = 'analyst' "
                       "ORDER BY fid", (post_fid,))
    summary = store.query("SELECT text_categories, text_category_source, text_confidence FROM posts WHERE fid = ?",
                          (post_fid,))
    return [(r[0], r[1]) for r in rows], (tuple(summary[0]) if summary else (None, None, None))


def restore_category_state(conn: sqlite3.Connection, post_fid: int, rows: Sequence[tuple[str, str | None]],
                           summary: tuple) -> None:
    """Put back what `category_state` read (the analyst rows and the summary fields)."""
    conn.execute("DELETE FROM post_categories WHERE post_fid = ? AND source = 'analyst'", (post_fid,))
    conn.executemany(
        "INSERT INTO post_categories (post_fid, category, source, score, analyst) VALUES (?, ?, 'analyst', 1.0, ?)",
        [(post_fid, c, a) for c, a in rows],
    )
    conn.execute("UPDATE posts SET text_categories = ?, text_category_source = ?, text_confidence = ? WHERE fid = ?",
                 (*summary, post_fid))
