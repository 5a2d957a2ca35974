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


def newest_post_time(store: Store) -> str | None:
    """The newest post time (ISO 8601 text), for the temporal controller following "now"."""
    value = store.scalar("SELECT MAX(timestamp) FROM posts")
    return None if value is None else str(value)


def alerts_after(store: Store, fid: int) -> list[tuple[int, str | None, float | None, float | None]]:
    """Alerts raised after `fid`: (fid, text, lon, lat), oldest first."""
    return [tuple(r) for r in store.query(
        "SELECT fid, text, ST_MinX(geom), ST_MinY(geom) FROM alerts WHERE fid > ? ORDER BY fid", (fid,))]


def alert_rows(store: Store) -> list:
    """Every alert with its point, for a field package: fid, rule, label, score, text, posts,
    status, created_at, geom."""
    return store.query("SELECT fid, rule, label, score, text, posts, status, created_at, geom FROM alerts "
                       "ORDER BY fid")


# -- the head's versions while a watch learns --------------------------------------------------------

HeadVersionRow = tuple[int, str, str | None, int, float | None, str, str | None]


def head_versions(store: Store, lineage: str) -> list[HeadVersionRow]:
    """Every version of a head line, oldest first: (fid, model tag, path, verdicts, F1, status, reason)."""
    return [tuple(r) for r in store.query(
        "SELECT fid, model, path, verdicts, f1, status, reason FROM head_versions WHERE lineage = ? ORDER BY fid",
        (lineage,))]


def add_head_version(conn: sqlite3.Connection, model: str, path: str | None, lineage: str, verdicts: int,
                     f1: float | None, skill: str | None, status: str, reason: str, run_id: int | None) -> None:
    """Record a version; an active one retires the version that was active before it. A version
    recorded before (a head chosen again when a watch starts) is updated, not added twice."""
    if status == "active":
        conn.execute("UPDATE head_versions SET status = 'retired' WHERE lineage = ? AND status = 'active'",
                     (lineage,))
    conn.execute(  # on conflict only where it is and why: what it learnt from and scored stays
        "INSERT INTO head_versions (model, path, lineage, verdicts, f1, skill, status, reason, run_fid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model) DO UPDATE SET path = excluded.path, "
        "status = excluded.status, reason = excluded.reason, run_fid = excluded.run_fid",
        (model, path, lineage, verdicts, f1, skill, status, reason, run_id))


def verdict_count(store: Store) -> int:
    """Verdicts recorded (flood, not flood or unsure, on photos or whole posts)."""
    return int(store.scalar("SELECT count(*) FROM verifications"))


def count_scored(conn: sqlite3.Connection, model: str, scored: int) -> None:
    """Add to the number of photos a version scored (its predictions carry its tag too)."""
    conn.execute("UPDATE head_versions SET scored = scored + ? WHERE model = ?", (scored, model))


def head_state(store: Store) -> tuple[HeadVersionRow | None, HeadVersionRow | None]:
    """What the dock shows: the active version and the latest rejected one (newest lineage)."""
    rows = [tuple(r) for r in store.query(
        "SELECT fid, model, path, verdicts, f1, status, reason FROM head_versions "
        "WHERE status IN ('active', 'rejected') ORDER BY fid DESC LIMIT 50")]
    active = next((r for r in rows if r[5] == "active"), None)
    rejected = next((r for r in rows if r[5] == "rejected" and (active is None or r[0] > active[0])), None)
    return active, rejected


# -- each source's last poll, for the dock -----------------------------------------------------------

def put_source_state(conn: sqlite3.Connection, source: str, kind: str, state: str, failures: int,
                     last_error: str | None, next_poll_at: str | None, polled_at: str) -> None:
    conn.execute(
        "INSERT INTO live_sources (source, kind, state, failures, last_error, next_poll_at, polled_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET kind = excluded.kind, "
        "state = excluded.state, failures = excluded.failures, last_error = excluded.last_error, "
        "next_poll_at = excluded.next_poll_at, polled_at = excluded.polled_at",
        (source, kind, state, failures, last_error, next_poll_at, polled_at))


def source_states(store: Store) -> list[tuple[str, str, str, int, str | None, str | None, str, str | None]]:
    """(source, kind, state, failures, last error, next poll, last poll, cursor JSON) of every source."""
    return [tuple(r) for r in store.query(
        "SELECT s.source, s.kind, s.state, s.failures, s.last_error, s.next_poll_at, s.polled_at, c.state "
        "FROM live_sources s LEFT JOIN live_cursors c ON c.source = s.source ORDER BY s.source")]
