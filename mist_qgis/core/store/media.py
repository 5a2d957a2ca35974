"""SQL of the media stage: which rows to fetch, their results, duplicate links, video frames and
posts located from EXIF. Reads take a `Store`; writes take the `conn` of a `store.batch()`."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..stage import MediaStatus
from . import gpkg
from .photos_sql import set_post_photos
from .schema import POST_COLUMNS
from .store import Store, utc_now

FETCHABLE_KINDS = ("photo", "video")
_POST_COLUMN_NAMES = frozenset(
    m.group(1) for m in re.finditer(r"^\s*([a-z_]+)\s+[A-Z]", POST_COLUMNS, re.MULTILINE)
) - {"geom", "fid"}


@dataclass(frozen=True)
class MediaTask:
    """A media row waiting to be fetched, with the post fields offline lookups use."""

    fid: int
    post_fid: int
    position: int
    kind: str
    url: str | None
    source_path: str | None
    post_id: str
    platform: str
    mapped: str | None = None  # value of the user's mapping column, if one was named


@dataclass
class MediaResult:
    """The outcome for one media row (status ok, failed or skipped)."""

    fid: int
    status: str
    error: str | None = None
    sha256: str | None = None
    cache_path: str | None = None
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    content_type: str | None = None
    fetched_at: str | None = None
    phash: str | None = None
    exif: str | None = None
    transient: bool = False  # a failure that may pass (timeout, 5xx, refused connection): retried later

    def for_row(self, fid: int) -> MediaResult:
        """The same outcome for another row with the same source (a repost of one URL)."""
        return MediaResult(fid, self.status, self.error, self.sha256, self.cache_path, self.width,
                           self.height, self.bytes, self.content_type, self.fetched_at, self.phash, self.exif,
                           self.transient)


@dataclass(frozen=True)
class FrameRow:
    position: int
    sha256: str
    cache_path: str
    width: int
    height: int
    bytes: int
    fetched_at: str
    phash: str
    origin: str  # JSON: {"frame_of": video fid, "frame_index": n, "time_s": t}


def mapping_expression(column: str | None) -> tuple[str, tuple]:
    """SQL for the mapping column: a posts column by name, else a key of `posts.attributes`."""
    if not column:
        return "NULL", ()
    if column in _POST_COLUMN_NAMES:
        return f'p."{column}"', ()
    return "json_extract(p.attributes, ?)", ('$."' + column.replace('"', "") + '"',)


def reset_for_retry(conn: sqlite3.Connection,
                    statuses: Sequence[str] = (MediaStatus.FAILED, MediaStatus.SKIPPED)) -> int:
    """Put failed/skipped rows back to pending, so a run retries them (after a network outage,
    or with private hosts now allowed)."""
    marks = ",".join("?" * len(statuses))
    cur = conn.execute(
        f"UPDATE media SET status = ?, error = NULL WHERE status IN ({marks}) "
        f"AND kind IN ({','.join('?' * len(FETCHABLE_KINDS))})",
        (MediaStatus.PENDING, *statuses, *FETCHABLE_KINDS),
    )
    return cur.rowcount


def requeue_transient(store: Store, max_retries: int, backoff_s: float,
                      now: datetime | None = None) -> tuple[int, int]:
    """Put photos whose last failure was transient back to pending once their backoff has passed
    (`backoff_s` doubled for each earlier retry), up to `max_retries` retries each; permanent
    failures (404, refused URL, not an image) are never chosen. Returns (requeued, given up):
    rows past the limit lose their retry mark and stay failed. Writes only when a row is due."""
    now = now or datetime.now(UTC)
    rows = store.query(
        "SELECT fid, retries, retry_failed_at FROM media WHERE status = 'failed' AND retry_failed_at IS NOT NULL")
    due, given_up = [], []
    for fid, retries, failed_at in rows:
        if retries >= max_retries:
            given_up.append((fid,))
            continue
        when = datetime.fromisoformat(str(failed_at).replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if now >= when + timedelta(seconds=backoff_s * 2 ** retries):
            due.append((fid,))
    if due or given_up:
        with store.batch() as conn:
            conn.executemany("UPDATE media SET status = 'pending', retries = retries + 1, retry_failed_at = NULL "
                             "WHERE fid = ? AND status = 'failed'", due)
            conn.executemany("UPDATE media SET retry_failed_at = NULL WHERE fid = ?", given_up)
    return len(due), len(given_up)


def count_pending(store: Store) -> int:
    return store.count("media", f"status = ? AND kind IN {FETCHABLE_KINDS!r}", (MediaStatus.PENDING,))


def pending_media(store: Store, after_fid: int, limit: int, mapping_column: str | None = None) -> list[MediaTask]:
    """Pending photo/video rows after `after_fid`, in fid order (a cursor, so a run never sees a
    row twice even while it writes results)."""
    expr, params = mapping_expression(mapping_column)
    rows = store.query(
        f"SELECT m.fid, m.post_fid, m.position, m.kind, m.url, m.source_path, p.post_id, p.platform, "
        f"{expr} AS mapped FROM media m JOIN posts p ON p.fid = m.post_fid "
        f"WHERE m.status = ? AND m.kind IN {FETCHABLE_KINDS!r} AND m.fid > ? ORDER BY m.fid LIMIT ?",
        (*params, MediaStatus.PENDING, after_fid, limit),
    )
    return [
        MediaTask(r["fid"], r["post_fid"], r["position"], r["kind"], r["url"], r["source_path"],
                  r["post_id"], r["platform"], None if r["mapped"] is None else str(r["mapped"]))
        for r in rows
    ]


def fetched_by_url(store: Store, urls: Iterable[str]) -> dict[str, MediaResult]:
    """Results of rows already fetched from these URLs (a repost is not downloaded again)."""
    urls = sorted({u for u in urls if u})
    found: dict[str, MediaResult] = {}
    for i in range(0, len(urls), 500):
        chunk = urls[i:i + 500]
        rows = store.query(
            "SELECT url, sha256, cache_path, width, height, bytes, content_type, fetched_at, phash, exif "
            f"FROM media WHERE status = ? AND cache_path IS NOT NULL AND url IN ({','.join('?' * len(chunk))})",
            (MediaStatus.OK, *chunk),
        )
        for r in rows:
            found.setdefault(r["url"], MediaResult(
                0, MediaStatus.OK, None, r["sha256"], r["cache_path"], r["width"], r["height"], r["bytes"],
                r["content_type"], r["fetched_at"], r["phash"], r["exif"]))
    return found


def write_results(conn: sqlite3.Connection, results: Sequence[MediaResult]) -> None:
    """Each row's outcome; a transient failure also records when it happened (`retry_failed_at`),
    which is what makes it a candidate for `requeue_transient`."""
    now = utc_now()
    conn.executemany(
        "UPDATE media SET status = ?, error = ?, sha256 = ?, cache_path = ?, width = ?, height = ?, bytes = ?, "
        "content_type = ?, fetched_at = ?, phash = ?, exif = ?, retry_failed_at = ? WHERE fid = ?",
        [(r.status, r.error, r.sha256, r.cache_path, r.width, r.height, r.bytes, r.content_type,
          r.fetched_at, r.phash, r.exif, now if r.transient and r.status == MediaStatus.FAILED else None, r.fid)
         for r in results],
    )
    set_post_photos(conn, [r.fid for r in results if r.status == MediaStatus.OK])


def note_pending(conn: sqlite3.Connection, notes: Sequence[tuple[int, str]]) -> None:
    """Say why a row is still pending (e.g. no local file in offline mode) without failing it."""
    conn.executemany("UPDATE media SET error = ? WHERE fid = ? AND status = ?",
                     [(reason, fid, MediaStatus.PENDING) for fid, reason in notes])


def status_counts(store: Store) -> dict[str, int]:
    counts = {s.value: 0 for s in MediaStatus}
    for r in store.query("SELECT status, count(*) AS n FROM media GROUP BY status"):
        counts[r["status"]] = r["n"]
    return counts


# -- near duplicates ---------------------------------------------------------------------


def dedup_rows(store: Store) -> list[sqlite3.Row]:
    """Fetched photos and frames with a hash, in posting order (post time, then row)."""
    return store.query(
        "SELECT m.fid, m.phash, m.sha256, m.cache_path, m.duplicate_of FROM media m JOIN posts p ON p.fid = m.post_fid "
        "WHERE m.status = ? AND m.kind IN ('photo', 'frame') AND m.phash IS NOT NULL "
        "ORDER BY p.timestamp IS NULL, p.timestamp, m.fid", (MediaStatus.OK,)
    )


def set_duplicate_links(conn: sqlite3.Connection, links: Sequence[tuple[int, int | None]]) -> None:
    """(fid, original fid or None): link duplicates to their original, unlink the others."""
    conn.executemany("UPDATE media SET duplicate_of = ? WHERE fid = ?", [(orig, fid) for fid, orig in links])


# -- video frames --------------------------------------------------------------------------


def videos_without_frames(store: Store) -> list[sqlite3.Row]:
    """Fetched videos whose frames have not been extracted yet (also a 'photo' that turned out
    to be a video when its bytes were sniffed)."""
    return store.query(
        "SELECT fid, post_fid, cache_path FROM media WHERE status = ? "
        "AND (kind = 'video' OR (kind = 'photo' AND content_type LIKE 'video/%')) "
        "AND cache_path IS NOT NULL AND (exif IS NULL OR json_extract(exif, '$.frames') IS NULL) ORDER BY fid",
        (MediaStatus.OK,),
    )


def add_frames(conn: sqlite3.Connection, video_fid: int, post_fid: int, frames: Sequence[FrameRow],
               video_info: dict) -> list[int]:
    """Insert the frames as extra media rows (kind 'frame') of the post, after its last row, and
    mark the video done (its `exif` JSON records how many frames it gave)."""
    start = conn.execute(
        "SELECT coalesce(max(position), -1) + 1 FROM media WHERE post_fid = ?", (post_fid,)
    ).fetchone()[0]
    fids = []
    for offset, f in enumerate(frames):
        cur = conn.execute(
            "INSERT INTO media (post_fid, position, kind, status, sha256, cache_path, width, height, bytes, "
            "content_type, fetched_at, phash, exif) VALUES (?, ?, 'frame', ?, ?, ?, ?, ?, ?, 'image/jpeg', ?, ?, ?)",
            (post_fid, start + offset, MediaStatus.OK, f.sha256, f.cache_path, f.width, f.height, f.bytes,
             f.fetched_at, f.phash, f.origin),
        )
        fids.append(int(cur.lastrowid))
    conn.execute("UPDATE media SET exif = ? WHERE fid = ?",
                 (json.dumps({**video_info, "frames": len(frames)}, sort_keys=True), video_fid))
    set_post_photos(conn, fids)
    return fids


# -- locating posts from EXIF -------------------------------------------------------------


def unlocated_exif_positions(store: Store) -> list[sqlite3.Row]:
    """For posts without geometry: the EXIF JSON of their fetched photos that carry a position,
    first photo first."""
    return store.query(
        "SELECT m.post_fid, m.exif FROM media m JOIN posts p ON p.fid = m.post_fid "
        "WHERE p.geom IS NULL AND m.status = ? AND m.kind = 'photo' AND m.exif IS NOT NULL "
        "AND json_extract(m.exif, '$.lat') IS NOT NULL AND json_extract(m.exif, '$.lon') IS NOT NULL "
        "ORDER BY m.post_fid, m.position", (MediaStatus.OK,)
    )


def locate_posts(
    conn: sqlite3.Connection, points: Sequence[tuple[int, float, float, float | None, float | None]],
) -> int:
    """(post fid, lon, lat, direction, altitude): place posts that have no geometry yet, with
    geo_source 'exif'. A post that has a geometry is never moved."""
    located = 0
    for post_fid, lon, lat, direction, altitude in points:
        cur = conn.execute(
            "UPDATE posts SET geom = ?, geo_source = 'exif', direction = coalesce(direction, ?), "
            "altitude = coalesce(altitude, ?) WHERE fid = ? AND geom IS NULL",
            (gpkg.point_blob(lon, lat), direction, altitude, post_fid),
        )
        located += cur.rowcount
    return located
