"""SQL of the field loop: the photos and rasters a field package carries out, and the photos that
come back (known by sha256, cached in place of a fetch)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from ..stage import MediaStatus, Status
from .store import Store, utc_now


def photos_of_posts(store: Store, post_fids: Iterable[int]) -> list[sqlite3.Row]:
    """Cached, distinct photos of the given posts, newest verification first (what a package
    keeps first when the size budget runs out)."""
    fids = sorted(set(int(f) for f in post_fids))
    if not fids:
        return []
    return store.query(
        "SELECT m.fid, m.post_fid, m.sha256, m.cache_path, p.post_id FROM media m JOIN posts p "
        "ON p.fid = m.post_fid WHERE m.post_fid IN (SELECT CAST(value AS INTEGER) FROM json_each(?)) "
        "AND m.status = ? AND m.kind = 'photo' "
        "AND m.cache_path IS NOT NULL AND m.sha256 IS NOT NULL AND m.duplicate_of IS NULL "
        "ORDER BY p.verified_at DESC, m.post_fid, m.position",
        (json.dumps(fids), MediaStatus.OK),
    )


def latest_inundation(store: Store) -> tuple[Path | None, Path | None]:
    """(depth GeoTIFF, extent GeoPackage) written by the latest finished inundation run, when
    they are still on disk."""
    rows = store.query("SELECT parameters FROM runs WHERE kind = 'inundation' AND status = ? ORDER BY fid DESC",
                       (Status.DONE,))
    for row in rows:
        try:
            out = Path(json.loads(row[0]).get("out") or "")
        except (ValueError, AttributeError):
            continue
        if not out.is_dir():
            continue
        depth = sorted(out.glob("*_depth.tif"), key=lambda p: p.stat().st_mtime)
        extent = sorted(out.glob("*_extent.gpkg"), key=lambda p: p.stat().st_mtime)
        if depth or extent:
            return (depth[-1] if depth else None), (extent[-1] if extent else None)
    return None, None


def known_sha256(store: Store, digests: Iterable[str]) -> set[str]:
    """The digests among `digests` that a cached photo of the store already has."""
    wanted = sorted(set(digests))
    if not wanted:
        return set()
    return {r[0] for r in store.query("SELECT DISTINCT sha256 FROM media WHERE sha256 IN "
                                      "(SELECT value FROM json_each(?))", (json.dumps(wanted),))}


def has_post(store: Store, platform: str, post_id: str) -> bool:
    return bool(store.scalar("SELECT count(*) FROM posts WHERE platform = ? AND post_id = ?", (platform, post_id)))


def post_fid(conn: sqlite3.Connection, platform: str, post_id: str) -> int | None:
    row = conn.execute("SELECT fid FROM posts WHERE platform = ? AND post_id = ?", (platform, post_id)).fetchone()
    return None if row is None else int(row[0])


def mark_media_cached(conn: sqlite3.Connection, post_fid: int, cache_path: str, sha256: str, width: int,
                      height: int, size: int, content_type: str, exif_json: str | None) -> int:
    """Record a returned photo as fetched (it is already in the cache); returns its media fid."""
    conn.execute(
        "UPDATE media SET cache_path = ?, sha256 = ?, status = ?, width = ?, height = ?, bytes = ?, "
        "content_type = ?, fetched_at = ?, exif = ? WHERE post_fid = ? AND position = 0",
        (cache_path, sha256, MediaStatus.OK, width, height, size, content_type, utc_now(), exif_json, post_fid),
    )
    return int(conn.execute("SELECT fid FROM media WHERE post_fid = ? AND position = 0", (post_fid,)).fetchone()[0])
