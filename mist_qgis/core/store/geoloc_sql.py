"""SQL of photo geolocation: reference imagery and its feature cache, posts to locate, pair
scores, coarse locations from text and the old -> new lines. Reads take a `Store`; writes take
the `conn` of a `store.batch()`."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Sequence

import numpy as np

from ..geodesy import haversine_m
from ..geoloc.records import CoarseLocation, PostToLocate, ReferenceRecord, ReferenceRow
from ..stage import LocateStatus, MediaStatus
from . import gpkg
from .store import Store

_REF_COLUMNS = "fid, ref_uid, geom, image_path, location_id, heading, accuracy_m"


# -- references ---------------------------------------------------------------------------------


def insert_references(conn: sqlite3.Connection, refs: Iterable[ReferenceRecord], run_id: int | None
                      ) -> tuple[int, int]:
    """Insert references; one whose uid (collection/ref_id) exists already is a duplicate."""
    inserted = duplicates = 0
    for r in refs:
        cur = conn.execute(
            'INSERT OR IGNORE INTO "references" (geom, ref_uid, ref_id, collection, location_id, heading, '
            "view_offset, image_path, accuracy_m, position_note, captured_at, source_format, source_file, "
            "source_line, import_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (gpkg.point_blob(r.lon, r.lat), r.ref_uid, r.ref_id, r.collection, r.location_id, r.heading,
             r.view_offset, r.image_path, r.accuracy_m, r.position_note, r.captured_at, r.source_format,
             r.source_file, r.source_line, run_id),
        )
        if cur.rowcount == 1:
            inserted += 1
        else:
            duplicates += 1
    if inserted:
        gpkg.update_extent(conn, "references")
    return inserted, duplicates


def _ref_row(row: sqlite3.Row) -> ReferenceRow:
    lon, lat = gpkg.point_xy(row["geom"])
    return ReferenceRow(row["fid"], row["ref_uid"], lon, lat, row["image_path"], row["location_id"],
                        row["heading"], row["accuracy_m"])


def references(store: Store, fids: Sequence[int] | None = None) -> list[ReferenceRow]:
    if fids is None:
        rows = store.query(f'SELECT {_REF_COLUMNS} FROM "references" WHERE geom IS NOT NULL ORDER BY fid')
        return [_ref_row(r) for r in rows]
    out: list[ReferenceRow] = []
    for i in range(0, len(fids), 500):
        chunk = list(fids[i:i + 500])
        marks = ",".join("?" * len(chunk))
        out += [_ref_row(r) for r in store.query(
            f'SELECT {_REF_COLUMNS} FROM "references" WHERE fid IN ({marks})', chunk)]
    return out


def references_near(store: Store, lon: float, lat: float, radius_m: float) -> list[tuple[ReferenceRow, float]]:
    """References within `radius_m` of a point (R-tree box, then exact distance), nearest first."""
    dlat = radius_m / 111_320.0
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 1e-6))
    rows = store.query(
        f'SELECT {_REF_COLUMNS} FROM "references" WHERE fid IN (SELECT id FROM "rtree_references_geom" '
        "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)",
        (lon - dlon, lon + dlon, lat - dlat, lat + dlat),
    )
    refs = [_ref_row(r) for r in rows]
    if not refs:
        return []
    dist = haversine_m(lon, lat, np.array([r.lon for r in refs]), np.array([r.lat for r in refs]))
    pairs = [(r, float(d)) for r, d in zip(refs, dist, strict=True) if d <= radius_m]
    return sorted(pairs, key=lambda p: p[1])


# -- feature cache ------------------------------------------------------------------------------


def cached_embeddings(store: Store, fids: Sequence[int], matcher_key: str) -> dict[int, tuple[np.ndarray, int, float]]:
    """fid -> (embedding, image_bytes, image_mtime) of references already extracted."""
    out: dict[int, tuple[np.ndarray, int, float]] = {}
    for i in range(0, len(fids), 500):
        chunk = list(fids[i:i + 500])
        marks = ",".join("?" * len(chunk))
        for r in store.query(
            f"SELECT ref_fid, embedding, image_bytes, image_mtime FROM reference_features "
            f"WHERE matcher = ? AND ref_fid IN ({marks})", [matcher_key, *chunk],
        ):
            out[r["ref_fid"]] = (np.frombuffer(r["embedding"], dtype=np.float32), r["image_bytes"], r["image_mtime"])
    return out


def cached_feature_blob(store: Store, fid: int, matcher_key: str) -> bytes | None:
    return store.scalar("SELECT features FROM reference_features WHERE ref_fid = ? AND matcher = ?",
                        (fid, matcher_key))


def save_features(conn: sqlite3.Connection, fid: int, matcher_key: str, n_keypoints: int, embedding: np.ndarray,
                  blob: bytes, image_bytes: int | None, image_mtime: float | None) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO reference_features (ref_fid, matcher, n_keypoints, dim, embedding, features, "
        "image_bytes, image_mtime) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (fid, matcher_key, n_keypoints, int(embedding.shape[0]), embedding.astype(np.float32).tobytes(), blob,
         image_bytes, image_mtime),
    )


# -- posts --------------------------------------------------------------------------------------


def posts_to_locate(store: Store, matcher: str, mode: str, redo: bool = False,
                    post_fids: Sequence[int] | None = None, unlocated: bool = False) -> list[PostToLocate]:
    """Located posts with at least one cached photo that this matcher/mode has not handled yet
    (all of them with `redo`), so a cancelled run resumes where it stopped. With `unlocated`,
    the posts without a location instead (lon/lat None: retrieval places them first)."""
    sql = (
        "SELECT p.fid, p.post_id, p.geom, p.geo_accuracy_m, p.orig_lon, p.orig_lat, m.fid AS media_fid, "
        "m.cache_path FROM posts p JOIN media m ON m.post_fid = p.fid "
        f"WHERE p.geom IS {'' if unlocated else 'NOT '}NULL AND m.status = ? AND m.cache_path IS NOT NULL "
        "AND m.kind = 'photo'"
    )
    params: list = [MediaStatus.OK]
    if not redo:
        sql += (" AND NOT EXISTS (SELECT 1 FROM geolocations g WHERE g.post_fid = p.fid AND g.matcher = ? "
                "AND g.mode = ? AND g.status != ?)")
        params += [matcher, mode, LocateStatus.FAILED]
    if post_fids is not None:
        sql += f" AND p.fid IN ({','.join(str(int(f)) for f in post_fids) or 'NULL'})"
    sql += " ORDER BY p.fid, m.position"
    posts: dict[int, PostToLocate] = {}
    for r in store.query(sql, params):
        post = posts.get(r["fid"])
        if post is None:
            lon, lat = gpkg.point_xy(r["geom"]) if r["geom"] is not None else (None, None)
            post = posts[r["fid"]] = PostToLocate(r["fid"], r["post_id"], lon, lat, r["geo_accuracy_m"],
                                                  orig_lon=r["orig_lon"], orig_lat=r["orig_lat"])
        post.media.append((r["media_fid"], r["cache_path"]))
    return list(posts.values())


def record_pair_scores(conn: sqlite3.Connection, media_fid: int, matcher: str, scores: Iterable,
                       run_id: int | None) -> None:
    """One `matches` row per query photo / reference pair: both the paper's and MIST's scores."""
    conn.executemany(
        "INSERT INTO matches (media_fid, ref_id, matcher, n_matches, score_sum, error_indicator, paper_rate, "
        "inliers, inlier_ratio, confidence, run_fid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(media_fid, s.ref_uid, matcher, s.n_matches, s.score_sum, s.error_indicator, s.paper_rate, s.inliers,
          s.inlier_ratio, s.confidence, run_id) for s in scores],
    )


def record_outcome(conn: sqlite3.Connection, post: PostToLocate, matcher: str, mode: str, status: str,
                   reason: str | None, run_id: int | None, media_fid: int | None = None,
                   ref: ReferenceRow | None = None, confidence: float | None = None,
                   paper_rate: float | None = None, inliers: int | None = None,
                   accuracy_m: float | None = None) -> None:
    """The post's geolocation outcome (one row per post, matcher and mode; the resume key). A
    'moved' outcome also moves the post: geometry, geo_source 'image_match', accuracy, match
    fields; the location before the first move stays in orig_lon / orig_lat."""
    geom = shift = None
    to_lon = to_lat = None
    if status == LocateStatus.MOVED and ref is not None:
        to_lon, to_lat = ref.lon, ref.lat
        geom = gpkg.linestring_blob([(post.lon, post.lat), (to_lon, to_lat)])
        shift = float(haversine_m(post.lon, post.lat, to_lon, to_lat))
        conn.execute(
            "UPDATE posts SET geom = ?, geo_source = 'image_match', geo_accuracy_m = ?, match_ref = ?, "
            "match_score = ?, orig_lon = COALESCE(orig_lon, ?), orig_lat = COALESCE(orig_lat, ?) WHERE fid = ?",
            (gpkg.point_blob(to_lon, to_lat), accuracy_m, ref.ref_uid, confidence if mode == "mist" else paper_rate,
             post.lon, post.lat, post.fid),
        )
    conn.execute(
        "INSERT OR REPLACE INTO geolocations (geom, post_fid, media_fid, matcher, mode, status, reason, ref_uid, "
        "from_lon, from_lat, to_lon, to_lat, shift_m, confidence, paper_rate, inliers, accuracy_m, run_fid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (geom, post.fid, media_fid, matcher, mode, status, reason, ref.ref_uid if ref else None, post.lon, post.lat,
         to_lon, to_lat, shift, confidence, paper_rate, inliers, accuracy_m, run_id),
    )


# -- coarse locations ---------------------------------------------------------------------------


def posts_with_text(store: Store, only_unlocated: bool = True,
                    after_fid: int = 0) -> list[tuple[int, str, float | None, float | None]]:
    """(fid, text, lon, lat) of posts to geocode from text: the unlocated ones by default; only
    posts after `after_fid` (a live watch places each batch's new posts)."""
    sql = "SELECT fid, text, geom FROM posts WHERE text IS NOT NULL AND text != '' AND fid > ?"
    if only_unlocated:
        sql += " AND geom IS NULL"
    out = []
    for r in store.query(sql + " ORDER BY fid", (after_fid,)):
        lon = lat = None
        if r["geom"] is not None and not gpkg.is_empty(r["geom"]):
            lon, lat = gpkg.point_xy(r["geom"])
        out.append((r["fid"], r["text"], lon, lat))
    return out


def record_coarse(conn: sqlite3.Connection, loc: CoarseLocation, run_id: int | None, move_post: bool) -> None:
    """Store a coarse location; with `move_post` an unlocated post gets it (geo_source 'geocoded',
    accuracy = the uncertainty radius), which makes it locatable by image matching."""
    conn.execute(
        "INSERT INTO coarse_locations (geom, post_fid, toponym, gazetteer_name, kind, confidence, radius_m, samples, "
        "run_fid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (gpkg.point_blob(loc.lon, loc.lat), loc.post_fid, loc.toponym, loc.name, loc.kind, loc.confidence,
         loc.radius_m, json.dumps([[round(x, 7), round(y, 7)] for x, y in loc.samples]), run_id),
    )
    if move_post:
        conn.execute(
            "UPDATE posts SET geom = ?, geo_source = 'geocoded', geo_accuracy_m = ? WHERE fid = ? AND geom IS NULL",
            (gpkg.point_blob(loc.lon, loc.lat), loc.radius_m, loc.post_fid),
        )


def coarse_place(store: Store, post_fid: int) -> CoarseLocation | None:
    """The post's latest place from its text (point and radius), or None."""
    rows = store.query("SELECT toponym, gazetteer_name, kind, geom, confidence, radius_m FROM coarse_locations "
                       "WHERE post_fid = ? ORDER BY fid DESC LIMIT 1", (post_fid,))
    if not rows or rows[0]["geom"] is None or gpkg.is_empty(rows[0]["geom"]):
        return None
    r = rows[0]
    lon, lat = gpkg.point_xy(r["geom"])
    return CoarseLocation(post_fid, r["toponym"], r["gazetteer_name"] or "", r["kind"] or "point", lon, lat,
                          int(r["confidence"] or 30), float(r["radius_m"] or 5000.0))


def coarse_samples(store: Store, post_fid: int) -> list[tuple[float, float]]:
    """Road sample points of the post's latest coarse location (empty when not a road match)."""
    value = store.scalar("SELECT samples FROM coarse_locations WHERE post_fid = ? ORDER BY fid DESC LIMIT 1",
                         (post_fid,))
    if not value:
        return []
    try:
        return [(float(x), float(y)) for x, y in json.loads(value)]
    except (ValueError, TypeError):
        return []


def geolocation_rows(store: Store, matcher: str | None = None) -> list[sqlite3.Row]:
    sql = "SELECT * FROM geolocations"
    return store.query(sql + (" WHERE matcher = ?" if matcher else "") + " ORDER BY fid", (matcher,) if matcher else ())


def post_locations(store: Store) -> dict[str, tuple[float | None, float | None, float | None, float | None, str]]:
    """post_id -> (lon, lat, orig_lon, orig_lat, geo_source) for evaluation."""
    out = {}
    for r in store.query("SELECT post_id, geom, orig_lon, orig_lat, geo_source FROM posts"):
        lon = lat = None
        if r["geom"] is not None and not gpkg.is_empty(r["geom"]):
            lon, lat = gpkg.point_xy(r["geom"])
        out[r["post_id"]] = (lon, lat, r["orig_lon"], r["orig_lat"], r["geo_source"])
    return out
