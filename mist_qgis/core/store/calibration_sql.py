"""SQL behind the geolocation confidence refit: analysts' verdicts on placements (with the match
evidence they judged) and the refitted confidence models, versioned per matcher."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .store import Store


def match_evidence(store: Store, match_fid: int) -> tuple[int, float, float | None] | None:
    """(inliers, inlier ratio, confidence) of a recorded photo/reference pair."""
    row = next(iter(store.query(
        "SELECT inliers, inlier_ratio, confidence FROM matches WHERE fid = ?", (int(match_fid),))), None)
    if row is None or row["inliers"] is None or row["inlier_ratio"] is None:
        return None
    return int(row["inliers"]), float(row["inlier_ratio"]), row["confidence"]


def insert_placement_verdict(conn: sqlite3.Connection, post_fid: int, media_fid: int | None, ref_uid: str,
                             matcher: str, verdict: str, inliers: int, inlier_ratio: float,
                             confidence: float | None, analyst: str, verified_at: str) -> int:
    cur = conn.execute(
        "INSERT INTO placement_verdicts (post_fid, media_fid, ref_uid, matcher, verdict, inliers, inlier_ratio, "
        "confidence, analyst, verified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (int(post_fid), media_fid, ref_uid, matcher, verdict, int(inliers), float(inlier_ratio), confidence,
         analyst, verified_at),
    )
    return int(cur.lastrowid)


def latest_placement_verdict(store: Store, post_fid: int, ref_uid: str, matcher: str) -> str | None:
    """The current verdict on one placement (the latest by anyone), None when nobody judged it."""
    return store.scalar(
        "SELECT verdict FROM placement_verdicts WHERE post_fid = ? AND ref_uid = ? AND matcher = ? "
        "ORDER BY fid DESC LIMIT 1", (int(post_fid), ref_uid, matcher))


def current_placement_verdicts(store: Store, matcher: str) -> list[tuple[int, float, bool]]:
    """(inliers, inlier ratio, correct) of each judged placement of a matcher: the latest verdict
    per post and reference counts (an analyst who changes their mind, or a colleague's override,
    replaces the earlier one)."""
    rows = store.query(
        "SELECT v.inliers, v.inlier_ratio, v.verdict FROM placement_verdicts v "
        "WHERE v.matcher = ? AND v.fid = (SELECT max(w.fid) FROM placement_verdicts w "
        "WHERE w.post_fid = v.post_fid AND w.ref_uid = v.ref_uid AND w.matcher = v.matcher) ORDER BY v.fid",
        (matcher,))
    return [(int(r["inliers"]), float(r["inlier_ratio"]), r["verdict"] == "correct") for r in rows]


def judged_matchers(store: Store) -> list[str]:
    return [r["matcher"] for r in store.query("SELECT DISTINCT matcher FROM placement_verdicts ORDER BY matcher")]


def next_model_version(conn: sqlite3.Connection, matcher: str) -> int:
    row = conn.execute("SELECT max(version) FROM confidence_models WHERE matcher = ?", (matcher,)).fetchone()
    return int(row[0] or 0) + 1


def insert_confidence_model(conn: sqlite3.Connection, matcher: str, version: int, constants: tuple[float, ...],
                            verdicts: int, correct: int, ece_before: float | None, ece_after: float | None,
                            reliability: dict[str, Any], accepted: bool, note: str, run_fid: int | None) -> int:
    a, b, c = (float(v) for v in constants)
    cur = conn.execute(
        "INSERT INTO confidence_models (matcher, version, a, b, c, verdicts, correct, ece_before, ece_after, "
        "reliability, accepted, note, run_fid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (matcher, int(version), a, b, c, int(verdicts), int(correct), ece_before, ece_after,
         json.dumps(reliability), bool(accepted), note, run_fid),
    )
    return int(cur.lastrowid)


def confidence_models(store: Store, matcher: str | None = None, accepted_only: bool = False) -> list[dict[str, Any]]:
    """Stored refits, newest first; the reliability bins decoded (empty when unreadable)."""
    where, params = [], []
    if matcher is not None:
        where.append("matcher = ?")
        params.append(matcher)
    if accepted_only:
        where.append("accepted")
    sql = ("SELECT fid, matcher, version, a, b, c, verdicts, correct, ece_before, ece_after, reliability, accepted, "
           "note, created_at FROM confidence_models" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY fid DESC")
    out = []
    for r in store.query(sql, tuple(params)):
        row = dict(r)
        try:
            row["reliability"] = json.loads(row["reliability"] or "{}")
        except ValueError:
            row["reliability"] = {}
        row["accepted"] = bool(row["accepted"])
        out.append(row)
    return out


def active_constants(store: Store, matcher: str) -> tuple[float, float, float] | None:
    """The store's last accepted refit for a matcher, None when it has none (shipped constants)."""
    rows = store.query("SELECT a, b, c FROM confidence_models WHERE matcher = ? AND accepted "
                       "ORDER BY fid DESC LIMIT 1", (matcher,))
    return (float(rows[0]["a"]), float(rows[0]["b"]), float(rows[0]["c"])) if rows else None
