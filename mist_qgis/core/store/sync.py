"""Field stores and the team store: push one store into another, check part of one out.

Both are one copy, from a source store to a destination store, of the posts a filter selects:

- posts merge by (platform, post_id): a post the destination has is not added again;
- photos merge by content: a fetched photo (its sha256 and the cached file) fills the
  destination's row of the same post and position when that row has no photo yet, and the
  file and its thumbnail (what the Verify dock's table shows) are copied into the
  destination's cache only when that content is not there;
- verdicts keep their analyst and time: a verdict the destination already has (same post,
  photo, analyst, time and verdict) is not added again, and each touched post's verdict fields
  are recomputed from all its verdicts.

So pushing again adds nothing twice, and the verdicts made on a checked-out GeoPackage merge
back on the next push next to the ones that came from the team store.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MistError
from ..stage import IsCancelled, MediaStatus, Progress, Status, run_stage
from .post_rows import PostRow
from .store import Store, StoreError

BATCH = 2000

_POST_COLUMNS = (
    "p.fid, p.post_id, p.platform, p.author_hash, p.text, p.lang, p.url, p.media_url, p.timestamp, "
    "p.geo_source, p.geo_accuracy_m, p.photo, p.direction, p.altitude, p.is_repost, p.source_file, "
    "p.source_line, p.attributes, ST_MinX(p.geom) AS lon, ST_MinY(p.geom) AS lat"
)
_MEDIA_COLUMNS = (
    "m.post_fid, m.position, m.kind, m.url, m.source_path, m.status, m.error, m.sha256, m.cache_path, m.width, "
    "m.height, m.bytes, m.content_type, m.fetched_at, m.phash, m.exif"
)
_RESULT_FIELDS = ("status", "error", "sha256", "cache_path", "width", "height", "bytes", "content_type",
                  "fetched_at", "phash", "exif")


class SelectionError(StoreError, MistError):
    """An extent or a time that cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Selection:
    """Which posts a copy takes: all, or those in an extent (lon/lat) and a time window
    (ISO UTC; `until` excluded)."""

    extent: tuple[float, float, float, float] | None = None
    since: str | None = None
    until: str | None = None

    @classmethod
    def parse(cls, extent: str | None = None, since: str | None = None, until: str | None = None) -> Selection:
        """From the CLI's and Processing's text: 'XMIN,YMIN,XMAX,YMAX' (lon/lat) and ISO times
        (UTC unless they carry an offset)."""
        box = None
        if extent and extent.strip():
            try:
                box = tuple(float(v) for v in extent.replace(" ", "").split(",")[:4])
            except ValueError:
                box = ()
            if len(box) != 4 or not (box[0] <= box[2] and box[1] <= box[3]):
                raise SelectionError(f"--extent takes XMIN,YMIN,XMAX,YMAX in degrees, not {extent!r}")
        return cls(box, _iso(since, "--since"), _iso(until, "--until"))  # type: ignore[arg-type]

    def where(self) -> tuple[str, list]:
        terms, params = ["1 = 1"], []
        if self.extent is not None:
            x0, y0, x1, y1 = self.extent
            terms.append("p.fid IN (SELECT r.id FROM rtree_posts_geom r "
                         "WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?)")
            params += [x1, x0, y1, y0]
        if self.since is not None:
            terms.append("p.timestamp >= ?")
            params.append(self.since)
        if self.until is not None:
            terms.append("p.timestamp < ?")
            params.append(self.until)
        return " AND ".join(terms), params


def _iso(value: str | None, what: str) -> str | None:
    from ..posts.issues import SkipRecord
    from ..posts.timeparse import parse_time
    from ..verify.records import iso_utc

    if not value or not value.strip():
        return None
    try:
        when = parse_time(value.strip())
    except SkipRecord:
        when = None
    if when is None:
        raise SelectionError(f"{what} takes a time such as 2021-07-20T09:30Z, not {value!r}")
    return iso_utc(when)


@dataclass
class CopySummary:
    posts_added: int = 0
    posts_known: int = 0
    photos_filled: int = 0
    files_copied: int = 0
    thumbnails_copied: int = 0
    verdicts_added: int = 0
    verdicts_known: int = 0
    run_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def as_counts(self) -> dict[str, int]:
        return {"posts_added": self.posts_added, "posts_known": self.posts_known,
                "photos_filled": self.photos_filled, "files_copied": self.files_copied,
                "thumbnails_copied": self.thumbnails_copied,
                "verdicts_added": self.verdicts_added, "verdicts_known": self.verdicts_known}


def copy_posts(
    source: Store, dest: Store, selection: Selection | None = None, kind: str = "push",
    progress: Progress | None = None, is_cancelled: IsCancelled | None = None,
) -> CopySummary:
    """Copy the selected posts with their photos and verdicts from `source` into `dest`, one
    transaction per batch of posts (a stopped copy resumes: the next one skips what landed).
    The copy is a run of `dest`; `progress(percent)`, and a cancel stops between batches."""
    summary = CopySummary()
    selection = selection or Selection()
    where, params = selection.where()
    total = max(1, _count(source, where, params))
    parameters = {"from": source.target, "extent": selection.extent, "since": selection.since,
                  "until": selection.until}
    with run_stage(dest, kind, parameters, progress, is_cancelled) as run:
        summary.run_id = run.run_id
        after, done = 0, 0
        while True:
            if run.cancelled():
                run.status = Status.CANCELLED
                break
            posts = source.query(f"SELECT {_POST_COLUMNS} FROM posts p WHERE {where} AND p.fid > ? "
                                 f"ORDER BY p.fid LIMIT ?", (*params, after, BATCH))
            if not posts:
                break
            after = int(posts[-1]["fid"])
            try:
                _copy_batch(source, dest, posts, summary)
            finally:
                run.counts = summary.as_counts()
            done += len(posts)
            run.show(done / total)
        run.counts = summary.as_counts()
    return summary


def _count(store: Store, where: str, params: list) -> int:
    return int(store.scalar(f"SELECT count(*) FROM posts p WHERE {where}", params))


def _copy_batch(source: Store, dest: Store, posts: list, summary: CopySummary) -> None:
    from ..verify.verdicts import aggregate
    from . import verify_sql

    src_fids = [int(p["fid"]) for p in posts]
    marks = ",".join("?" * len(src_fids))
    media = source.query(f"SELECT {_MEDIA_COLUMNS} FROM media m WHERE m.post_fid IN ({marks}) "
                         "ORDER BY m.post_fid, m.position", src_fids)
    verdicts = source.query(
        "SELECT v.post_fid, m.position, v.verdict, v.water_depth_m, v.note, v.analyst, v.verified_at "
        f"FROM verifications v LEFT JOIN media m ON m.fid = v.media_fid WHERE v.post_fid IN ({marks}) "
        "ORDER BY v.fid", src_fids)
    by_post: dict[int, list] = {}
    for m in media:
        by_post.setdefault(int(m["post_fid"]), []).append(m)
    rows = [_post_row(p, by_post.get(int(p["fid"]), [])) for p in posts]
    files: list[tuple[str, str]] = []
    with dest.batch() as conn:
        added, known = dest.add_post_rows(conn, rows, summary.run_id, keep_author_names=True)
        summary.posts_added += added
        summary.posts_known += known
        key_of = {int(p["fid"]): (p["platform"], p["post_id"]) for p in posts}
        dest_fid = _dest_fids(conn, list(key_of.values()))
        fid_map = {src: dest_fid[key] for src, key in key_of.items() if key in dest_fid}
        for m in media:
            post = fid_map.get(int(m["post_fid"]))
            if post is None:
                continue
            conn.execute("INSERT OR IGNORE INTO media (post_fid, position, kind, url, source_path) "
                         "VALUES (?, ?, ?, ?, ?)", (post, m["position"], m["kind"], m["url"], m["source_path"]))
            if m["sha256"] is None or m["status"] != MediaStatus.OK:
                continue
            cur = conn.execute(
                f"UPDATE media SET {', '.join(f'{c} = ?' for c in _RESULT_FIELDS)} "
                "WHERE post_fid = ? AND position = ? AND sha256 IS NULL",
                (*[m[c] for c in _RESULT_FIELDS], post, m["position"]))
            if cur.rowcount and m["cache_path"]:
                summary.photos_filled += cur.rowcount
            if m["cache_path"] and (cur.rowcount or _holds(conn, post, m["position"], m["sha256"])):
                files.append((m["cache_path"], m["sha256"]))  # a file or thumbnail an earlier push missed too
        touched: set[int] = set()
        for v in verdicts:
            post = fid_map.get(int(v["post_fid"]))
            if post is None:
                continue
            media_fid = None
            if v["position"] is not None:
                row = conn.execute("SELECT fid FROM media WHERE post_fid = ? AND position = ?",
                                   (post, v["position"])).fetchone()
                media_fid = None if row is None else int(row[0])
            exists = conn.execute(
                "SELECT 1 FROM verifications WHERE post_fid = ? AND coalesce(media_fid, -1) = ? AND analyst = ? "
                "AND verified_at = ? AND verdict = ?",
                (post, -1 if media_fid is None else media_fid, v["analyst"], v["verified_at"], v["verdict"]),
            ).fetchone()
            if exists:
                summary.verdicts_known += 1
                continue
            conn.execute(
                "INSERT INTO verifications (post_fid, media_fid, verdict, water_depth_m, note, analyst, verified_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (post, media_fid, v["verdict"], v["water_depth_m"], v["note"], v["analyst"], v["verified_at"]))
            summary.verdicts_added += 1
            touched.add(post)
        for post in touched:
            verify_sql.write_mirror(conn, post, aggregate(verify_sql.current_verdicts_of_post(conn, post)))
    for cache_path, sha in files:
        copied, thumb = _copy_file(source, dest, cache_path, sha)
        summary.files_copied += copied
        summary.thumbnails_copied += thumb


def _post_row(p, media: list) -> PostRow:
    return (
        p["post_id"], p["platform"], p["author_hash"], p["text"], p["lang"], p["url"], p["media_url"],
        p["timestamp"], p["geo_source"], p["geo_accuracy_m"], p["photo"], p["direction"], p["altitude"],
        bool(p["is_repost"]), p["source_file"], p["source_line"], p["attributes"], p["lon"], p["lat"],
        tuple((m["kind"], m["url"], m["source_path"]) for m in media if m["kind"] != "frame"),
    )


def _dest_fids(conn, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, post_id in keys:
        by_platform.setdefault(platform, []).append(post_id)
    for platform, ids in by_platform.items():
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = conn.execute(
                f"SELECT fid, post_id FROM posts WHERE platform = ? AND post_id IN ({','.join('?' * len(chunk))})",
                (platform, *chunk)).fetchall()
            out.update(((platform, r[1]), int(r[0])) for r in rows)
    return out


def _holds(conn, post_fid: int, position: int, sha: str) -> bool:
    """Whether the destination's photo of this post and position is this content already."""
    return conn.execute("SELECT 1 FROM media WHERE post_fid = ? AND position = ? AND sha256 = ?",
                        (post_fid, position, sha)).fetchone() is not None


def _copy_file(source: Store, dest: Store, cache_path: str, sha: str) -> tuple[bool, bool]:
    """Copy a cached photo and its thumbnail, each unless the destination's cache has it
    already; (photo copied, thumbnail copied)."""
    from ..images.cache import MediaCache

    try:
        pairs = [(source.media_file(cache_path), dest.media_file(cache_path)),
                 (MediaCache(source.media_dir).thumbnail_path(sha), MediaCache(dest.media_dir).thumbnail_path(sha))]
    except (StoreError, ValueError):  # a path outside the cache, a sha256 that is not one
        return False, False
    return tuple(_copy_missing(src, dst) for src, dst in pairs)  # type: ignore[return-value]


def _copy_missing(src: Path, dst: Path) -> bool:
    if dst.exists() or not src.is_file():
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part")
    shutil.copyfile(src, tmp)
    tmp.replace(dst)
    return True


def push(field_store: Store, team: Store, **kwargs) -> CopySummary:
    """Push a field store (or an earlier single-analyst event) into a team store."""
    return copy_posts(field_store, team, Selection(), "push", **kwargs)


def checkout(team: Store, out: str | Path, selection: Selection | None = None, **kwargs) -> CopySummary:
    """A new GeoPackage with the selected part of a team store, for a laptop that goes offline."""
    from .store import open_gpkg_store as open_store

    out = Path(out).expanduser().resolve()
    if out.exists():
        raise StoreError(f"{out} exists already: check out into a new file (verdicts made on an existing "
                         "checkout go back with push)")
    with open_store(out) as field_store:
        summary = copy_posts(team, field_store, selection, "checkout", **kwargs)
        field_store.set_meta("checked_out_from", team.target)
        field_store.refresh_extents()
    return summary
