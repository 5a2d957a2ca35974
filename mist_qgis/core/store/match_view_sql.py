"""SQL behind the verification dock's match view: which geolocation placed a post, with which
photo, reference, matcher and run options."""

from __future__ import annotations

import json

from ..geoloc.match_view import MatchSource
from ..stage import LocateStatus
from .store import Store, StoreError


def match_source(store: Store, post_fid: int) -> MatchSource | None:
    """The post's geolocation with a reference (the one that placed it when several runs did),
    or None when image matching never placed it."""
    row = next(iter(store.query(
        "SELECT g.fid, g.post_fid, g.media_fid, g.ref_uid, g.matcher, g.mode, g.confidence, g.inliers, g.run_fid, "
        "m.cache_path, r.image_path, ru.parameters FROM geolocations g "
        "JOIN posts p ON p.fid = g.post_fid LEFT JOIN media m ON m.fid = g.media_fid "
        'LEFT JOIN "references" r ON r.ref_uid = g.ref_uid LEFT JOIN runs ru ON ru.fid = g.run_fid '
        "WHERE g.post_fid = ? AND g.ref_uid IS NOT NULL AND g.media_fid IS NOT NULL "
        "ORDER BY (g.ref_uid = p.match_ref) DESC, (g.status = ?) DESC, g.fid DESC LIMIT 1",
        (int(post_fid), LocateStatus.MOVED),
    )), None)
    if row is None:
        return None
    match_fid = store.scalar(
        "SELECT fid FROM matches WHERE media_fid = ? AND ref_id = ? AND matcher = ? "
        "ORDER BY (coalesce(run_fid, -1) = coalesce(?, -1)) DESC, fid DESC LIMIT 1",  # PostgreSQL has no `IS ?`
        (row["media_fid"], row["ref_uid"], row["matcher"], row["run_fid"]),
    )
    query_path = None
    query_error = ""
    if row["cache_path"]:
        try:
            query_path = str(store.media_file(row["cache_path"]))
        except StoreError as exc:
            query_error = str(exc)
    else:
        query_error = "the photo that located the post has no cached file"
    try:
        params = json.loads(row["parameters"]) if row["parameters"] else {}
    except ValueError:
        params = {}
    return MatchSource(
        post_fid=row["post_fid"], media_fid=row["media_fid"], ref_uid=row["ref_uid"], matcher=row["matcher"],
        mode=row["mode"], match_fid=match_fid, query_path=query_path, query_error=query_error,
        ref_path=row["image_path"], confidence=row["confidence"], inliers=row["inliers"],
        run_params=params if isinstance(params, dict) else {},
    )


def geolocation_note(store: Store, post_fid: int) -> tuple[str, str] | None:
    """(status, reason) of the post's latest geolocation attempt, None when it never had one:
    the dock says why a post has no match view."""
    row = next(iter(store.query(
        "SELECT status, reason FROM geolocations WHERE post_fid = ? ORDER BY fid DESC LIMIT 1", (int(post_fid),))),
        None)
    return (row["status"], row["reason"] or "") if row is not None else None
