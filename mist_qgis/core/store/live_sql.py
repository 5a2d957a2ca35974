"""SQL of live monitoring: each watched source's cursor and the alerts raised.

A cursor is written in the same transaction as the posts its batch produced, so after a crash the
store holds either both or neither: a restart reads exactly the lines that were not imported."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..stage import MediaStatus
from .store import Store


def get_cursor(store: Store, source: str) -> dict[str, Any] | None:
    """Where `source` stopped, or None if it was never read."""
    rows = store.query("SELECT state FROM live_cursors WHERE source = ?", (source,))
    return json.loads(rows[0][0]) if rows else None


def put_cursor(conn: sqlite3.Connection, source: str, state: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO live_cursors (source, state) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET "
        "state = excluded.state, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
        (source, json.dumps(state, sort_keys=True)),
    )


AlertCandidate = tuple[int, str | None, str | None, float | None, str | None, float | None, float | None]


def alert_candidates(store: Store, since_fid: int, label: str | None,
                     threshold: float | None) -> list[AlertCandidate]:
    """Posts after `since_fid` not yet in an alert that pass the score part of a rule:
    (fid, text, cls_label, cls_score, group key, lon, lat). The group key is the post's first
    photo, or the photo it duplicates (the media stage's dedup links), so near-duplicates share it."""
    where = ["p.fid > ?", "p.fid NOT IN (SELECT post_fid FROM alert_posts)"]
    args: list[Any] = [since_fid]
    if threshold is not None:
        where += ["p.cls_score IS NOT NULL", "p.cls_score >= ?"]
        args.append(threshold)
        if label:
            where.append("p.cls_label = ?")
            args.append(label)
    sql = (
        "SELECT p.fid, p.text, p.cls_label, p.cls_score, "
        "(SELECT 'photo:' || COALESCE(m.duplicate_of, m.fid) FROM media m WHERE m.post_fid = p.fid "
        " ORDER BY m.position LIMIT 1), ST_MinX(p.geom), ST_MinY(p.geom) "
        f"FROM posts p WHERE {' AND '.join(where)} ORDER BY p.fid"
    )
    return [tuple(r) for r in store.query(sql, args)]


def add_alert(conn: sqlite3.Connection, post_fid: int, group_key: str, rule: str, score: float | None,
              label: str | None, text: str | None, run_id: int | None) -> bool:
    """Raise an alert for `post_fid`, or add the post to the open alert of its group; True if new."""
    row = conn.execute("SELECT fid FROM alerts WHERE group_key = ?", (group_key,)).fetchone()
    new = row is None
    if new:
        conn.execute(
            "INSERT INTO alerts (geom, post_fid, group_key, rule, score, label, text, run_fid) "
            "SELECT geom, fid, ?, ?, ?, ?, ?, ? FROM posts WHERE fid = ?",
            (group_key, rule, score, label, (text or "")[:280], run_id, post_fid),
        )
        # by its unique group key: an INSERT ... SELECT reports no row id on every backend
        alert_fid = conn.execute("SELECT fid FROM alerts WHERE group_key = ?", (group_key,)).fetchone()[0]
    else:
        alert_fid = row[0]
        conn.execute("UPDATE alerts SET posts = posts + 1 WHERE fid = ?", (alert_fid,))
    conn.execute("INSERT INTO alert_posts (post_fid, alert_fid) VALUES (?, ?)", (post_fid, alert_fid))
    return new


def open_alerts(store: Store) -> int:
    return int(store.scalar("SELECT COUNT(*) FROM alerts WHERE status = 'open'"))


def live_counts(store: Store, flood_label: str) -> dict[str, int]:
    """What the live dock shows: posts, screened posts and those screened as `flood_label`, open
    alerts, and the queue of each stage (photos waiting to be fetched, fetched posts not screened)."""
    row = store.query(
        "SELECT (SELECT count(*) FROM posts), "
        "(SELECT count(*) FROM posts WHERE cls_label IS NOT NULL), "
        "(SELECT count(*) FROM posts WHERE cls_label = ?), "
        "(SELECT count(*) FROM alerts WHERE status = 'open'), "
        "(SELECT count(*) FROM media WHERE status = ?), "
        "(SELECT count(DISTINCT m.post_fid) FROM media m JOIN posts p ON p.fid = m.post_fid "
        " WHERE m.status = ? AND p.cls_label IS NULL)", (flood_label, MediaStatus.PENDING, MediaStatus.OK))[0]
    keys = ("posts", "screened", "flood", "open_alerts", "to_fetch", "to_screen")
    return dict(zip(keys, (int(v) for v in row), strict=True))


def alerts_after(store: Store, fid: int) -> list[tuple[int, str | None, float | None, float | None]]:
    """Alerts raised after `fid`: (fid, text, lon, lat), oldest first."""
    return [tuple(r) for r in store.query(
        "SELECT fid, text, ST_MinX(geom), ST_MinY(geom) FROM alerts WHERE fid > ? ORDER BY fid", (fid,))]


def alert_rows(store: Store) -> list:
    """Every alert with its point, for a field package: fid, rule, label, score, text, posts,
    status, created_at, geom."""
    return store.query("SELECT fid, rule, label, score, text, posts, status, created_at, geom FROM alerts "
                       "ORDER BY fid")
