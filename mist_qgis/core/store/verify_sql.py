"""SQL of the verification step: verdict rows and their mirror on posts, the paged queue behind
the verification table, and the reads behind agreement, quality and export.

The queue pages with keysets on indexed columns (media fid, post time, screening score per model
and label), so the cost of a page does not grow with the number of rows already seen or with the
size of the store.

Which verdict counts (one rule, used by the queue, the posts mirror, agreement, quality and
training): a verdict given without a photo is a verdict on each photo of its post. A photo's
current verdict is the latest recorded verdict that covers it, by any analyst. Agreement compares
each analyst's own latest verdict covering each photo. A post without photos is judged as itself.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..verify.records import (
    UNVERIFIED,
    VERDICTS,
    PostVerification,
    QueueFilter,
    QueueRow,
    Verdict,
    aggregate,
    iso_utc,
)
from . import gpkg
from .pipeline import submit

if TYPE_CHECKING:
    from .store import Store

# -- verdicts and the posts mirror -------------------------------------------------------------

# Whether verification `v` covers photo `m`: given to the photo itself or to its whole post.
COVERS = "(v.post_fid = m.post_fid AND (v.media_fid = m.fid OR v.media_fid IS NULL))"
# The fid of a photo's current verification: the latest recorded one that covers it.
LATEST_VERIFICATION = (
    "(SELECT max(v2.fid) FROM verifications v2 WHERE v2.post_fid = m.post_fid "
    "AND (v2.media_fid = m.fid OR v2.media_fid IS NULL))"
)


_MIRROR = "SELECT verified, verified_by, verified_at, water_depth_m FROM posts WHERE fid = ?"
# The current verification of each photo of post :p (a post without photos: its latest verdict).
_CURRENT_VERDICTS = f"""
    SELECT fid, verdict, water_depth_m, analyst, verified_at FROM verifications
    WHERE fid IN (
        SELECT {LATEST_VERIFICATION} FROM media m WHERE m.post_fid = :p
        UNION SELECT max(fid) FROM verifications
        WHERE post_fid = :p AND NOT EXISTS (SELECT 1 FROM media WHERE post_fid = :p))
    ORDER BY fid
"""


@dataclass(frozen=True)
class VerdictWrite:
    """What the statements of one verdict found and did (`submit_verdict`)."""

    post_found: bool
    photo_post: int | None  # the post of the verdict's photo; None: no such photo, or none given
    previous: PostVerification | None  # the post's mirror before the verdict
    fid: int | None  # the verification written; None when its post, or its photo on that post, is missing
    current: list  # the post's current verdicts, this one among them


def submit_verdict(conn: sqlite3.Connection, verdict: Verdict, verified_at: str) -> Callable[[], VerdictWrite]:
    """Submit the statements of one verdict (`pipeline`): read its post's mirror and its photo's
    post, insert the verification (only onto a post that exists, and a photo of that post), read
    the post's current verdicts with it. Returns what reads their answers; the caller decides
    (conflicts, errors) and a raised error rolls the row back with the batch."""
    mirror = submit(conn, _MIRROR, (verdict.post_fid,))
    photo = None if verdict.media_fid is None else submit(
        conn, "SELECT post_fid FROM media WHERE fid = ?", (verdict.media_fid,))
    on_photo = "" if verdict.media_fid is None else \
        " AND EXISTS (SELECT 1 FROM media m WHERE m.fid = :media AND m.post_fid = p.fid)"
    inserted = submit(
        conn,
        "INSERT INTO verifications (post_fid, media_fid, verdict, water_depth_m, note, analyst, verified_at) "
        f"SELECT p.fid, :media, :verdict, :depth, :note, :analyst, :at FROM posts p WHERE p.fid = :post{on_photo}",
        {"post": verdict.post_fid, "media": verdict.media_fid, "verdict": verdict.verdict,
         "depth": verdict.water_depth_m, "note": verdict.note, "analyst": verdict.analyst, "at": verified_at})
    current = submit(conn, _CURRENT_VERDICTS, {"p": verdict.post_fid})

    def read() -> VerdictWrite:
        row = mirror.fetchone()
        owner = None if photo is None else photo.fetchone()
        written = inserted.rowcount == 1  # (SQLite's lastrowid stays the previous one otherwise)
        return VerdictWrite(
            row is not None, None if owner is None else int(owner[0]),
            None if row is None else PostVerification(*row),
            int(inserted.lastrowid) if written else None, current.fetchall())

    return read


def delete_verification(conn: sqlite3.Connection, verification_fid: int) -> bool:
    return conn.execute("DELETE FROM verifications WHERE fid = ?", (verification_fid,)).rowcount == 1


def read_mirror(conn: sqlite3.Connection, post_fid: int) -> PostVerification:
    row = conn.execute(_MIRROR, (post_fid,)).fetchone()
    if row is None:
        raise KeyError(post_fid)
    return PostVerification(*row)


def write_mirror(conn: sqlite3.Connection, post_fid: int, state: PostVerification) -> None:
    """Submitted (`pipeline`): nothing reads its result."""
    submit(
        conn, "UPDATE posts SET verified = ?, verified_by = ?, verified_at = ?, water_depth_m = ? WHERE fid = ?",
        (*state.as_tuple(), post_fid),
    )


def current_verdicts_of_post(conn: sqlite3.Connection, post_fid: int) -> list[sqlite3.Row]:
    """The current verification of each photo of a post (a post without photos: its latest
    verdict), each row once, oldest first."""
    return conn.execute(_CURRENT_VERDICTS, {"p": post_fid}).fetchall()


def judged_post_fids(conn: sqlite3.Connection) -> list[int]:
    """Posts with at least one verification (the posts whose mirror the verdicts decide)."""
    return [int(r[0]) for r in conn.execute("SELECT DISTINCT post_fid FROM verifications ORDER BY post_fid")]


def refresh_mirrors(conn: sqlite3.Connection, post_fids: list[int] | None = None) -> int:
    """Recompute the mirrored verdict of posts (all judged posts by default) from their current
    verdicts; returns how many posts changed."""
    changed = 0
    for post_fid in judged_post_fids(conn) if post_fids is None else post_fids:
        state = aggregate(current_verdicts_of_post(conn, post_fid))
        if read_mirror(conn, post_fid) != state:
            write_mirror(conn, post_fid, state)
            changed += 1
    return changed


# -- the queue ---------------------------------------------------------------------------------

_COLUMNS = """
    m.fid AS media_fid, p.fid AS post_fid, p.post_id, p.platform, p.timestamp, p.text, p.url,
    m.url AS media_url, m.kind, m.status, m.error, m.cache_path, m.sha256, m.width, m.height, m.exif,
    m.duplicate_of, p.geom, p.geo_source, p.geo_accuracy_m,
    (SELECT s.score FROM predictions s WHERE s.media_fid = m.fid AND s.model = :model AND s.label = :label
     ORDER BY s.fid DESC LIMIT 1) AS score,
    (SELECT max(g.confidence) FROM matches g WHERE g.media_fid = m.fid) AS geo_confidence,
    (SELECT g.ref_id FROM matches g WHERE g.media_fid = m.fid ORDER BY g.confidence DESC, g.fid DESC LIMIT 1)
        AS match_ref,
    v.verdict, v.water_depth_m, v.analyst AS verified_by, v.verified_at, v.note
"""
_FROM_MEDIA = (
    f"media m JOIN posts p ON p.fid = m.post_fid LEFT JOIN verifications v ON v.fid = {LATEST_VERIFICATION}"
)
# CROSS JOIN pins posts as the outer loop, so the time index serves ORDER BY even for the first page.
_FROM_POSTS_BY_TIME = (
    "posts p CROSS JOIN media m ON m.post_fid = p.fid "
    f"LEFT JOIN verifications v ON v.fid = {LATEST_VERIFICATION}"
)
_FROM_PREDICTIONS = (
    "predictions pr JOIN media m ON m.fid = pr.media_fid JOIN posts p ON p.fid = m.post_fid "
    f"LEFT JOIN verifications v ON v.fid = {LATEST_VERIFICATION}"
)
_CURRENT_PREDICTION = (
    "pr.model = :model AND pr.label = :label AND pr.fid = (SELECT max(x.fid) FROM predictions x "
    "WHERE x.media_fid = pr.media_fid AND x.model = :model AND x.label = :label)"
)
_SCORE = (
    "(SELECT s.score FROM predictions s WHERE s.media_fid = m.fid AND s.model = :model AND s.label = :label "
    "ORDER BY s.fid DESC LIMIT 1)"
)
_UNSCORED = (
    "NOT EXISTS (SELECT 1 FROM predictions u WHERE u.media_fid = m.fid AND u.model = :model AND u.label = :label)"
)


@dataclass(frozen=True)
class QueuePhase:
    """One keyset-paged stream of queue rows: FROM/WHERE, a sort key (None: the tie only) and a
    unique tie-breaker, ascending or descending. NULL keys are left to a separate phase."""

    from_sql: str
    where: str
    key: str | None
    tie: str
    descending: bool = False


def filter_sql(filt: QueueFilter, score_column: str | None = None) -> tuple[list[str], dict[str, Any]]:
    """WHERE terms and named parameters for a filter. `score_column` is the prediction's score
    column when the phase drives from predictions (so the range uses the index)."""
    terms: list[str] = []
    params: dict[str, Any] = {}
    if filt.hide_duplicates:
        terms.append("m.duplicate_of IS NULL")
    if filt.verdicts is not None:
        wanted = sorted(set(filt.verdicts) & (set(VERDICTS) | {UNVERIFIED}))
        if not wanted:
            terms.append("1 = 0")
        else:
            names = []
            for i, name in enumerate(wanted):
                params[f"verdict{i}"] = name
                names.append(f":verdict{i}")
            terms.append(f"coalesce(v.verdict, '{UNVERIFIED}') IN ({', '.join(names)})")
    if filt.not_verified_by:
        params["not_by"] = filt.not_verified_by
        terms.append("NOT EXISTS (SELECT 1 FROM verifications w WHERE w.media_fid = m.fid AND w.analyst = :not_by)")
    score = score_column or _SCORE
    if filt.score_min is not None:
        params["score_min"] = float(filt.score_min)
        terms.append(f"{score} >= :score_min")
    if filt.score_max is not None:
        params["score_max"] = float(filt.score_max)
        terms.append(f"{score} <= :score_max")
    if filt.time_from is not None:
        params["time_from"] = iso_utc(filt.time_from)
        terms.append("p.timestamp >= :time_from")
    if filt.time_to is not None:
        params["time_to"] = iso_utc(filt.time_to)
        terms.append("p.timestamp < :time_to")
    if filt.bbox is not None:
        boxes = []
        for i, (x0, y0, x1, y1) in enumerate(filt.bbox.boxes()):
            params.update({f"bx0_{i}": x0, f"by0_{i}": y0, f"bx1_{i}": x1, f"by1_{i}": y1})
            boxes.append(f"(r.minx <= :bx1_{i} AND r.maxx >= :bx0_{i} AND r.miny <= :by1_{i} AND r.maxy >= :by0_{i})")
        terms.append(f"p.fid IN (SELECT r.id FROM rtree_posts_geom r WHERE {' OR '.join(boxes)})")
    for i, word in enumerate(filt.text.split()):
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params[f"word{i}"] = f"%{escaped}%"
        terms.append(f"p.text LIKE :word{i} ESCAPE '\\'")
    if filt.post_fids is not None:
        params["post_fids"] = json.dumps(sorted(int(f) for f in filt.post_fids))
        terms.append("p.fid IN (SELECT CAST(value AS INTEGER) FROM json_each(:post_fids))")
    return terms, params


def _where(*terms: Iterable[str] | str) -> str:
    flat: list[str] = []
    for t in terms:
        flat.extend([t] if isinstance(t, str) else t)
    return " AND ".join(f"({t})" for t in flat) or "1 = 1"


def media_phase(filt: QueueFilter, extra: str = "1 = 1") -> tuple[QueuePhase, dict[str, Any]]:
    terms, params = filter_sql(filt)
    return QueuePhase(_FROM_MEDIA, _where(terms, extra), None, "m.fid"), params


def time_phases(filt: QueueFilter, descending: bool) -> tuple[list[QueuePhase], dict[str, Any]]:
    """Dated photos in post time order (driven by the posts' time index), then the undated."""
    terms, params = filter_sql(filt)
    dated = QueuePhase(
        _FROM_POSTS_BY_TIME, _where(terms, "p.timestamp IS NOT NULL"), "p.timestamp", "m.fid", descending
    )
    # "+" keeps SQLite off the time index here: walk photos in fid order and skip the dated ones.
    undated = QueuePhase(_FROM_MEDIA, _where(terms, "+p.timestamp IS NULL"), None, "m.fid")
    return [dated, undated], params


def score_phase(filt: QueueFilter, descending: bool, extra: str = "1 = 1") -> tuple[QueuePhase, dict[str, Any]]:
    """Scored photos in score order, driven by the (model, label, score) index."""
    terms, params = filter_sql(filt, score_column="pr.score")
    where = _where(_CURRENT_PREDICTION, terms, extra)
    return QueuePhase(_FROM_PREDICTIONS, where, "pr.score", "pr.fid", descending), params


def unscored_phase(filt: QueueFilter) -> tuple[QueuePhase | None, dict[str, Any]]:
    """Photos without a score from the model; none when the filter asks for a score range."""
    if filt.score_min is not None or filt.score_max is not None:
        return None, {}
    return media_phase(filt, _UNSCORED)


def queue_page(
    store: Store, phase: QueuePhase, params: dict[str, Any], after: tuple[Any, Any] | None, limit: int,
) -> list[sqlite3.Row]:
    """Up to `limit` rows of a phase after the keyset position `after` = (key, tie)."""
    direction = "DESC" if phase.descending else "ASC"
    cmp = "<" if phase.descending else ">"
    terms = [phase.where]
    args = dict(params, limit=int(limit))
    if after is not None:
        args["after_key"], args["after_tie"] = after
        if phase.key is None:
            terms.append(f"{phase.tie} {cmp} :after_tie")
        else:
            terms.append(
                f"{phase.key} {cmp}= :after_key AND ({phase.key} {cmp} :after_key OR {phase.tie} {cmp} :after_tie)"
            )
    key = phase.key or "NULL"
    order = f"{phase.key} {direction}, {phase.tie} {direction}" if phase.key else f"{phase.tie} {direction}"
    sql = (
        f"SELECT {_COLUMNS}, {key} AS _key, {phase.tie} AS _tie FROM {phase.from_sql} "
        f"WHERE {_where(terms)} ORDER BY {order} LIMIT :limit"
    )
    return store.query(sql, args)


def queue_count(store: Store, filt: QueueFilter, model: str, label: str) -> int:
    terms, params = filter_sql(filt)
    source = _FROM_MEDIA if filt.verdicts is not None else "media m JOIN posts p ON p.fid = m.post_fid"
    return int(store.scalar(f"SELECT count(*) FROM {source} WHERE {_where(terms)}",
                            dict(params, model=model, label=label)))


def media_fid_range(store: Store) -> tuple[int, int] | None:
    # two queries: SQLite answers a lone min() or max() from the index, both together by a scan
    lo = store.scalar("SELECT min(fid) FROM media")
    hi = store.scalar("SELECT max(fid) FROM media")
    return None if lo is None else (int(lo), int(hi))


def first_media_from(store: Store, filt: QueueFilter, params: dict[str, Any], start_fid: int) -> sqlite3.Row | None:
    """The first photo at or after `start_fid` that passes the filter (a random pick's landing)."""
    phase, _ = media_phase(filt, "m.fid >= :start_fid")
    rows = queue_page(store, phase, dict(params, start_fid=int(start_fid)), None, 1)
    return rows[0] if rows else None


def rows_by_media(store: Store, media_fids: list[int], model: str, label: str) -> list[sqlite3.Row]:
    """Fresh rows for given photos (after a verdict or a refresh), in no particular order."""
    if not media_fids:
        return []
    return store.query(
        f"SELECT {_COLUMNS} FROM {_FROM_MEDIA} WHERE m.fid IN (SELECT CAST(value AS INTEGER) FROM json_each(:ids))",
        {"ids": json.dumps([int(f) for f in media_fids]), "model": model, "label": label},
    )


def to_queue_row(row: sqlite3.Row) -> QueueRow:
    lon = lat = None
    geom = row["geom"]
    if geom is not None and not gpkg.is_empty(geom):
        try:
            lon, lat = gpkg.point_xy(geom)
        except ValueError:  # a geometry edited into something that is not a point
            lon = lat = None
    return QueueRow(
        media_fid=row["media_fid"], post_fid=row["post_fid"], post_id=row["post_id"], platform=row["platform"],
        timestamp=row["timestamp"], text=row["text"] or "", url=row["url"], media_url=row["media_url"],
        kind=row["kind"], status=row["status"], error=row["error"], cache_path=row["cache_path"],
        sha256=row["sha256"], width=row["width"], height=row["height"], exif=row["exif"],
        duplicate_of=row["duplicate_of"], lon=lon, lat=lat, geo_source=row["geo_source"],
        geo_accuracy_m=row["geo_accuracy_m"], score=row["score"], geo_confidence=row["geo_confidence"],
        match_ref=row["match_ref"], verdict=row["verdict"], water_depth_m=row["water_depth_m"],
        verified_by=row["verified_by"], verified_at=row["verified_at"], note=row["note"],
    )


def latest_model(store: Store) -> str | None:
    return store.scalar("SELECT model FROM predictions ORDER BY fid DESC LIMIT 1")


def model_labels(store: Store, model: str) -> list[str]:
    return [r[0] for r in store.query(
        "SELECT DISTINCT label FROM predictions WHERE model = ? ORDER BY label", (model,))]


def models(store: Store) -> list[str]:
    """Screening models with predictions in the store, the most recent first."""
    return [r[0] for r in store.query("SELECT model FROM predictions GROUP BY model ORDER BY max(fid) DESC")]


def data_version(store: Store) -> int:
    """Changes whenever another connection commits to the file (SQLite's PRAGMA data_version)."""
    return int(store.scalar("PRAGMA data_version"))


# -- agreement, quality, export reads ----------------------------------------------------------


def analysts(store: Store) -> list[tuple[str, int]]:
    """Analysts with their number of verdicts, most active first."""
    return [(r[0], r[1]) for r in store.query(
        "SELECT analyst, count(*) FROM verifications GROUP BY analyst ORDER BY count(*) DESC, analyst")]


def latest_by_analyst(store: Store, analyst_names: list[str]) -> list[sqlite3.Row]:
    """Each named analyst's latest verdict covering each photo (a post without photos: the
    post, media_fid NULL). A verdict on a whole post counts for each of its photos."""
    if not analyst_names:
        return []
    return store.query(
        f"""
        WITH named AS (SELECT * FROM verifications WHERE analyst IN (SELECT value FROM json_each(:names))),
        covered AS (
            SELECT v.fid, v.analyst, m.post_fid, m.fid AS media_fid FROM named v JOIN media m ON {COVERS}
            UNION ALL
            SELECT v.fid, v.analyst, v.post_fid, NULL FROM named v
            WHERE NOT EXISTS (SELECT 1 FROM media m WHERE m.post_fid = v.post_fid)),
        ranked AS (
            SELECT c.*, row_number() OVER (
                PARTITION BY c.analyst, c.post_fid, coalesce(c.media_fid, -1) ORDER BY c.fid DESC) AS k
            FROM covered c)
        SELECT r.post_fid, r.media_fid, r.analyst, v.verdict, v.water_depth_m, v.verified_at
        FROM ranked r JOIN verifications v ON v.fid = r.fid
        WHERE r.k = 1
        ORDER BY r.post_fid, r.media_fid
        """,
        {"names": json.dumps(analyst_names)},
    )


def scored_verdicts(store: Store, model: str, label: str) -> list[sqlite3.Row]:
    """(media_fid, score, verdict) for every verified photo the model scored."""
    return store.query(
        f"""
        SELECT m.fid AS media_fid, {_SCORE} AS score, v.verdict FROM media m
        JOIN verifications v ON v.fid = {LATEST_VERIFICATION}
        WHERE m.post_fid IN (SELECT post_fid FROM verifications) AND {_SCORE} IS NOT NULL
        ORDER BY m.fid
        """,
        {"model": model, "label": label},
    )


def verdict_counts(store: Store, bucket_chars: int) -> list[sqlite3.Row]:
    """(bucket, verdict, n) of verdict events, bucketed by a prefix of the ISO time."""
    return store.query(
        "SELECT substr(verified_at, 1, :n) AS bucket, verdict, count(*) AS n FROM verifications "
        "GROUP BY bucket, verdict ORDER BY bucket, verdict",
        {"n": int(bucket_chars)},
    )


def verified_posts(store: Store, verdicts: list[str], include_unlocated: bool) -> list[sqlite3.Row]:
    """Posts whose mirrored verdict is one of `verdicts`, with the latest note and photo count."""
    return store.query(
        f"""
        SELECT p.fid, p.geom, p.post_id, p.platform, p.timestamp, p.url, p.text, p.geo_source,
               p.geo_accuracy_m, p.verified, p.verified_by, p.verified_at, p.water_depth_m,
               p.text_categories, p.text_category_source,
               (SELECT v.note FROM verifications v WHERE v.post_fid = p.fid AND v.note IS NOT NULL
                ORDER BY v.fid DESC LIMIT 1) AS note,
               (SELECT count(DISTINCT v.analyst) FROM verifications v WHERE v.post_fid = p.fid) AS n_analysts,
               (SELECT m.sha256 FROM media m WHERE m.post_fid = p.fid AND m.sha256 IS NOT NULL
                ORDER BY m.position LIMIT 1) AS photo_sha256
        FROM posts p
        WHERE p.verified IN (SELECT value FROM json_each(:verdicts))
          {'' if include_unlocated else 'AND p.geom IS NOT NULL'}
        ORDER BY p.timestamp, p.fid
        """,
        {"verdicts": json.dumps(verdicts)},
    )


def count_unlocated_verified(store: Store, verdicts: list[str]) -> int:
    return int(store.scalar(
        "SELECT count(*) FROM posts WHERE geom IS NULL AND verified IN (SELECT value FROM json_each(?))",
        (json.dumps(verdicts),)))


def verified_photos(store: Store) -> list[sqlite3.Row]:
    """Every judged photo with its current verdict and how many distinct current verdicts the
    analysts gave it (more than one = a conflict)."""
    return store.query(
        f"""
        SELECT m.fid AS media_fid, m.status, m.cache_path, m.sha256, m.content_type, p.post_id, p.platform,
               v.verdict, v.water_depth_m, v.analyst, v.verified_at,
               (SELECT count(DISTINCT w.verdict) FROM verifications w WHERE w.fid IN (
                    SELECT max(v.fid) FROM verifications v WHERE {COVERS} GROUP BY v.analyst)) AS n_verdicts
        FROM media m JOIN posts p ON p.fid = m.post_fid
        JOIN verifications v ON v.fid = {LATEST_VERIFICATION}
        WHERE m.post_fid IN (SELECT post_fid FROM verifications)
        ORDER BY m.fid
        """
    )
