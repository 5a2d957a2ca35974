"""SQL of several analysts working at once: "next post" leases, the latest verdict of an item
(conflict checks), and verdicts newer than a given one (what changed since).

The same statements run on both backends. A GeoPackage serialises writers (a batch holds the
file's write lock); PostgreSQL does not, so `try_lock` takes a per-post advisory lock there
before a post is handed out, and the check after it sees every lease committed before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

LEASE_LOCK = 0x4C454153  # "LEAS": the advisory-lock class of per-post leases

NOW = "SELECT strftime('%Y-%m-%dT%H:%M:%fZ','now')"


def db_now(conn) -> str:
    """The database's clock (every analyst's lease is timed by the same clock)."""
    return conn.execute(NOW).fetchone()[0]


def later(iso: str, seconds: float) -> str:
    when = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def try_lock(conn, post_fid: int) -> bool:
    """Hold `post_fid` for this transaction; False when another analyst's transaction holds it."""
    if getattr(conn, "dialect", "sqlite") != "postgresql":
        return True
    return bool(conn.execute("SELECT pg_try_advisory_xact_lock(?, ?)", (LEASE_LOCK, int(post_fid))).fetchone()[0])


def my_lease(conn, analyst: str, now: str) -> int | None:
    row = conn.execute(
        "SELECT post_fid FROM leases WHERE analyst = ? AND expires_at > ? ORDER BY leased_at, post_fid LIMIT 1",
        (analyst, now)).fetchone()
    return None if row is None else int(row[0])


# a post is open to an analyst who has not judged it while fewer than `k` analysts have judged it
# or hold a live lease on it
_OPEN = (
    "NOT EXISTS (SELECT 1 FROM verifications v WHERE v.post_fid = p.fid AND v.analyst = :me) "
    "AND (SELECT count(DISTINCT v.analyst) FROM verifications v WHERE v.post_fid = p.fid) "
    "+ (SELECT count(*) FROM leases l WHERE l.post_fid = p.fid AND l.expires_at > :now AND l.analyst <> :me) < :k"
)


def candidates(conn, analyst: str, now: str, k: int, limit: int = 32) -> list[int]:
    """Posts open to the analyst, oldest first. With single verification, an unverified post
    (its mirror still empty, on a partial index) is the only kind that can be open."""
    unverified = "p.verified IS NULL AND " if k == 1 else ""
    rows = conn.execute(
        f"SELECT p.fid FROM posts p WHERE {unverified}{_OPEN} ORDER BY p.fid LIMIT :limit",
        {"me": analyst, "now": now, "k": int(k), "limit": int(limit)}).fetchall()
    return [int(r[0]) for r in rows]


def still_open(conn, post_fid: int, analyst: str, now: str, k: int) -> bool:
    return conn.execute(
        f"SELECT 1 FROM posts p WHERE p.fid = :fid AND {_OPEN}",
        {"fid": int(post_fid), "me": analyst, "now": now, "k": int(k)}).fetchone() is not None


def put_lease(conn, post_fid: int, analyst: str, now: str, expires_at: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO leases (post_fid, analyst, leased_at, expires_at) VALUES (?, ?, ?, ?)",
        (int(post_fid), analyst, now, expires_at))


def drop_lease(conn, post_fid: int, analyst: str) -> int:
    return conn.execute("DELETE FROM leases WHERE post_fid = ? AND analyst = ?", (int(post_fid), analyst)).rowcount


def drop_expired(conn, now: str) -> int:
    return conn.execute("DELETE FROM leases WHERE expires_at <= ?", (now,)).rowcount


def latest_of_item(conn, post_fid: int, media_fid: int | None):
    """(fid, analyst, verdict) of the latest verification of one photo, or of the post itself
    when `media_fid` is None; None when nobody judged it yet."""
    return conn.execute(
        "SELECT fid, analyst, verdict FROM verifications WHERE post_fid = ? AND coalesce(media_fid, -1) = ? "
        "ORDER BY fid DESC LIMIT 1",
        (int(post_fid), -1 if media_fid is None else int(media_fid))).fetchone()


def latest_of_post(conn, post_fid: int) -> dict[int | None, int]:
    """Latest verification fid per item of one post (None: the post itself, else each photo),
    0 for an item nobody judged yet."""
    items: dict[int | None, int] = {None: 0}
    items.update((int(r[0]), 0) for r in conn.execute("SELECT fid FROM media WHERE post_fid = ?", (int(post_fid),)))
    rows = conn.execute(
        "SELECT media_fid, max(fid) FROM verifications WHERE post_fid = ? GROUP BY media_fid", (int(post_fid),)
    ).fetchall()
    items.update((r[0], int(r[1])) for r in rows)
    return items


def verdicts_after(store, after_fid: int, limit: int = 1000) -> list:
    """Verdict rows written after `after_fid`, oldest first (polling where there is no LISTEN)."""
    return store.query(
        "SELECT fid, post_fid, media_fid, analyst, verdict, verified_at FROM verifications WHERE fid > ? "
        "ORDER BY fid LIMIT ?", (int(after_fid), int(limit)))


def max_verification_fid(store) -> int:
    return int(store.scalar("SELECT coalesce(max(fid), 0) FROM verifications"))


def items_of_post(store, post_fid: int) -> dict[int | None, int]:
    """`latest_of_post` read through the store, outside any batch: what an analyst's dock has in
    view of a post (a read-only store has no batch)."""
    items: dict[int | None, int] = {None: 0}
    items.update((int(r[0]), 0) for r in store.query("SELECT fid FROM media WHERE post_fid = ?", (int(post_fid),)))
    items.update((r[0], int(r[1])) for r in store.query(
        "SELECT media_fid, max(fid) FROM verifications WHERE post_fid = ? GROUP BY media_fid", (int(post_fid),)))
    return items


def latest_by_analyst_of_post(store, post_fid: int) -> list:
    """Every analyst's latest verdict per item of one post (what the dock shows beside it)."""
    return store.query(
        "SELECT v.post_fid, v.media_fid, v.analyst, v.verdict, v.water_depth_m FROM verifications v "
        "WHERE v.fid IN (SELECT max(fid) FROM verifications WHERE post_fid = ? "
        "GROUP BY analyst, coalesce(media_fid, -1)) ORDER BY v.media_fid, v.analyst", (int(post_fid),))


def all_latest_by_analyst(store) -> list:
    """Every analyst's latest verdict per item (photo, or post for post-level verdicts)."""
    return store.query(
        "SELECT v.post_fid, v.media_fid, v.analyst, v.verdict, v.water_depth_m FROM verifications v "
        "WHERE v.fid IN (SELECT max(fid) FROM verifications GROUP BY analyst, post_fid, coalesce(media_fid, -1)) "
        "ORDER BY v.post_fid, v.media_fid, v.analyst")
