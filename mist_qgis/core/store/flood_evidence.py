"""Reads behind the raster products: flood evidence points and verified flood photos.

A post's verdict and water depth are read from its mirror columns on `posts` (`verified`,
`water_depth_m`), which the verification step keeps equal to the current verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import options
from ..stage import MediaStatus
from .store import Store

DENSITY_KINDS = options.DENSITY_KINDS.names


@dataclass(frozen=True)
class EvidencePoint:
    """One located post as density or inundation input (lon/lat WGS 84)."""

    fid: int
    post_id: str
    lon: float
    lat: float
    weight: float
    timestamp: str | None
    water_depth_m: float | None


def density_points(store: Store, kind: str = "all", flood_label: str = "flood") -> list[EvidencePoint]:
    """Located posts for a density surface: all (weight 1), predicted flood (weight = cls_score),
    or verified flood (weight 1)."""
    if kind not in DENSITY_KINDS:
        raise ValueError(f"kind must be one of {DENSITY_KINDS}, not {kind!r}")
    where = {
        "all": "1 = 1",
        "predicted": "p.cls_label = :label AND p.cls_score > 0",
        "verified": "p.verified = 'flood'",
    }[kind]
    weight = "p.cls_score" if kind == "predicted" else "1.0"
    rows = store.query(
        f"SELECT p.fid, p.post_id, ST_MinX(p.geom) AS lon, ST_MinY(p.geom) AS lat, {weight} AS w, p.timestamp, "
        f"p.water_depth_m FROM posts p WHERE p.geom IS NOT NULL AND {where} ORDER BY p.fid",
        {"label": flood_label},
    )
    return [EvidencePoint(r[0], r[1], r[2], r[3], float(r[4]), r[5], r[6]) for r in rows]


def count_verified_without_depth(store: Store) -> int:
    return store.count("posts", "verified = 'flood' AND geom IS NOT NULL AND water_depth_m IS NULL")


def depth_points(store: Store) -> list[EvidencePoint]:
    """Verified flood posts that carry a water depth (the inundation evidence)."""
    return [p for p in density_points(store, "verified") if p.water_depth_m is not None]


def verified_flood_photos(store: Store, limit: int = 200) -> list[Path]:
    """Cached files of photos of verified flood posts, newest verification first."""
    rows = store.query(
        "SELECT m.cache_path FROM media m JOIN posts p ON p.fid = m.post_fid "
        "WHERE p.verified = 'flood' AND m.status = ? AND m.kind = 'photo' AND m.cache_path IS NOT NULL "
        "AND m.duplicate_of IS NULL ORDER BY p.verified_at DESC, m.fid LIMIT ?",
        (MediaStatus.OK, int(limit)),
    )
    return [store.media_file(r[0]) for r in rows]


def post_labels(store: Store, post_ids: list[str], text_chars: int = 40) -> dict[str, str]:
    """Readable names for posts in messages: the layer's feature id, the time and the start of the
    text, instead of a 19-digit platform id nobody can find on the map."""
    ids = sorted(set(post_ids))
    labels: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        rows = store.query(
            f"SELECT post_id, fid, timestamp, text FROM posts WHERE post_id IN ({','.join('?' * len(part))})", part)
        for post_id, fid, timestamp, text in rows:
            words = " ".join((text or "").split())
            snippet = words[:text_chars] + ("…" if len(words) > text_chars else "")
            when = f" {timestamp[:16].replace('T', ' ')}" if timestamp else ""
            labels[post_id] = f"post fid {fid}{when}" + (f" “{snippet}”" if snippet else "")
    return labels
