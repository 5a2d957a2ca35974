"""SQL of several analysts working at once: "next post" leases, the latest verdict of an item
(conflict checks), and verdicts newer than a given one (what changed since).

The same statements run on both backends. A GeoPackage serialises writers (a batch holds the
file's write lock); PostgreSQL does not, so `look_for_post` takes a per-post advisory lock
there before a post is handed out, and `lease_if_open`, a statement of its own after it, sees
every lease committed before. The statements of one hand-out are submitted before their answers
are read (`pipeline`), so a team store answers them in two round trips.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from .dialect import SQLITE_NOW
from .pipeline import submit

LEASE_LOCK = 0x4C454153  # "LEAS": the advisory-lock class of per-post leases
CANDIDATES = 32  # open posts looked at per statement


def later(iso: str, seconds: float) -> str:
    when = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# a post is open to an analyst who has not judged it while fewer than `k` analysts have judged it
# or hold a live lease on it (`now` and `k`: SQL expressions)
def _open(now: str, k: str) -> str:
    return (
        "NOT EXISTS (SELECT 1 FROM verifications v WHERE v.post_fid = p.fid AND v.analyst = :me) "
        "AND (SELECT count(DISTINCT v.analyst) FROM verifications v WHERE v.post_fid = p.fid) "
        f"+ (SELECT count(*) FROM leases l WHERE l.post_fid = p.fid AND l.expires_at > {now} AND l.analyst <> :me) "
        f"< {k}"
    )


def look_for_post(conn, analyst: str, per_post_key: str, after: int = 0) -> tuple:
    """One statement: (the database's clock, which times every analyst's lease; the setting
    `per_post_key`; the post this analyst holds a live lease on; and when there is none, the
    first of the next CANDIDATES posts by fid after `after` open to the analyst and held by no
    other analyst's transaction, held now for this one). With single verification, an unverified
    post (its mirror still empty, on a partial index) is the only kind that can be open. Whether
    the post is still open once held is for `lease_if_open`, a statement of its own."""
    k = "CAST(coalesce(t.setting, '1') AS INTEGER)"

    def first_open(unverified: str) -> str:
        candidates = (f"SELECT p.fid FROM posts p WHERE {unverified}p.fid > :after AND {_open('t.now', k)} "
                      "ORDER BY p.fid")
        if getattr(conn, "dialect", "sqlite") != "postgresql":
            return f"({candidates} LIMIT 1)"
        # the inner LIMIT keeps the candidates in order and the lock is tried on one row after
        # another until one is taken, so no other post is locked
        return (f"(SELECT c.fid FROM ({candidates} LIMIT :limit) c "
                "WHERE pg_try_advisory_xact_lock(:lock, CAST(c.fid AS integer)) LIMIT 1)")

    return tuple(conn.execute(
        f"WITH t AS (SELECT {SQLITE_NOW} AS now, (SELECT value FROM mist_meta WHERE key = :key) AS setting), "
        "mine AS (SELECT l.post_fid FROM leases l, t WHERE l.analyst = :me AND l.expires_at > t.now "
        "ORDER BY l.leased_at, l.post_fid LIMIT 1) "
        "SELECT t.now, t.setting, (SELECT post_fid FROM mine), "
        f"CASE WHEN EXISTS (SELECT 1 FROM mine) THEN NULL WHEN {k} = 1 THEN {first_open('p.verified IS NULL AND ')} "
        f"ELSE {first_open('')} END FROM t",
        {"key": per_post_key, "me": analyst, "after": int(after), "limit": CANDIDATES, "lock": LEASE_LOCK},
    ).fetchone())


def lease_if_open(conn, post_fid: int, analyst: str, now: str, expires_at: str, k: int):
    """Submit: lease the post to the analyst if it is still open to them (rowcount 1), else
    nothing (rowcount 0)."""
    return submit(
        conn,
        "INSERT OR REPLACE INTO leases (post_fid, analyst, leased_at, expires_at) "
        f"SELECT p.fid, :me, :now, :expires FROM posts p WHERE p.fid = :fid AND {_open(':now', ':k')}",
        {"fid": int(post_fid), "me": analyst, "now": now, "expires": expires_at, "k": int(k)})


def put_lease(conn, post_fid: int, analyst: str, now: str, expires_at: str):
    """Submit: lease (or renew) the post to the analyst."""
    return submit(
        conn, "INSERT OR REPLACE INTO leases (post_fid, analyst, leased_at, expires_at) VALUES (?, ?, ?, ?)",
        (int(post_fid), analyst, now, expires_at))


def drop_lease(conn, post_fid: int, analyst: str):
    """Submit: end the analyst's lease on the post (rowcount: whether there was one)."""
    return submit(conn, "DELETE FROM leases WHERE post_fid = ? AND analyst = ?", (int(post_fid), analyst))


def drop_expired(conn, now: str) -> int:
    return conn.execute("DELETE FROM leases WHERE expires_at <= ?", (now,)).rowcount


def latest_of_item(conn, post_fid: int, media_fid: int | None):
    """Submit the read of (fid, analyst, verdict) of the latest verification of one photo, or of
    the post itself when `media_fid` is None; its row is None when nobody judged it yet."""
    return submit(
        conn,
        "SELECT fid, analyst, verdict FROM verifications WHERE post_fid = ? AND coalesce(media_fid, -1) = ? "
        "ORDER BY fid DESC LIMIT 1",
        (int(post_fid), -1 if media_fid is None else int(media_fid)))


# the latest verification fid per item of one post: each photo with 0, then each judged item
# (None: the post itself) with its latest fid; `_items` keeps the larger of the two
_ITEMS_OF_POST = (
    "SELECT fid, 0 FROM media WHERE post_fid = ? "
    "UNION ALL SELECT media_fid, max(fid) FROM verifications WHERE post_fid = ? GROUP BY media_fid"
)


def _items(rows) -> dict[int | None, int]:
    items: dict[int | None, int] = {None: 0}
    for media, fid in rows:
        key = None if media is None else int(media)
        items[key] = max(items.get(key, 0), int(fid))
    return items


def latest_of_post(conn, post_fid: int) -> Callable[[], dict[int | None, int]]:
    """Submit the read of the latest verification fid per item of one post (None: the post
    itself, else each photo; 0 for an item nobody judged yet); returns what reads it."""
    read = submit(conn, _ITEMS_OF_POST, (int(post_fid), int(post_fid)))
    return lambda: _items(read.fetchall())


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
    return _items(store.query(_ITEMS_OF_POST, (int(post_fid), int(post_fid))))


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
