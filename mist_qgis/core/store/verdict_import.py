"""SQL behind importing verdicts from a table: find the posts a file names, and an analyst's
latest post-level verdict (so importing the same file twice writes nothing twice)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from .store import Store

_CHUNK = 500


def post_fids_by_id(store: Store, post_ids: Iterable[str], platform: str | None = None
                    ) -> dict[str, list[tuple[int, str]]]:
    """post_id -> (fid, platform) of the posts with that id (one per platform unless `platform` is given)."""
    ids = sorted({str(p) for p in post_ids})
    out: dict[str, list[tuple[int, str]]] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i:i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT post_id, fid, platform FROM posts WHERE post_id IN ({marks})"
        params: list = list(chunk)
        if platform:
            sql += " AND platform = ?"
            params.append(platform)
        for row in store.query(sql + " ORDER BY fid", params):
            out.setdefault(row["post_id"], []).append((int(row["fid"]), row["platform"]))
    return out


def latest_post_level(store: Store, post_fid: int, analyst: str) -> sqlite3.Row | None:
    """The analyst's latest verdict on the whole post (no photo), or None."""
    rows = store.query(
        "SELECT verdict, water_depth_m, note FROM verifications WHERE post_fid = ? AND media_fid IS NULL "
        "AND analyst = ? ORDER BY fid DESC LIMIT 1",
        (post_fid, analyst),
    )
    return rows[0] if rows else None
