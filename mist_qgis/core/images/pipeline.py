"""The media stage of a store: fetch every pending photo and video, then extract video frames,
link near-duplicates and place unlocated posts from EXIF.

Resumable by construction: only `pending` rows are selected, results are committed per batch,
and a cancelled or interrupted run leaves the rest pending for the next run. A worker pool of
`workers` threads runs the downloads and decoding; the calling thread alone writes to the store.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import Cancelled
from ..stage import IsCancelled, MediaStatus, Progress, Status, run_stage
from ..store import Store
from ..store import media as media_sql
from ..store.media import FrameRow, MediaResult, MediaTask
from ..store.store import utc_now
from .acquire import Acquirer, Deferred
from .cache import MediaCache, encode_jpeg, make_thumbnail
from .dedup import DedupItem, find_duplicates, grey_histogram, perceptual_hash
from .fetcher import BudgetExhausted, ByteBudget, FetchLimits, HttpFetcher
from .safe_decode import DEFAULT_LIMITS, DecodeCancelled, DecodeError, ExifInfo, ImageLimits, decode_file
from .urlguard import UrlPolicy
from .video import VideoLimits, extract_stable_frames, probe_video

log = logging.getLogger("mist.media")

RUN_KIND = "fetchmedia"
STAGE = "fetchmedia"


@dataclass
class FetchOptions:
    """What the user chose; defaults are what a field team gets without asking."""

    offline: bool = False
    media_dir: Path | None = None  # local media root (export folder, or the drive offline)
    mapping_column: str | None = None  # posts column or attributes key naming each post's file
    policy: UrlPolicy = field(default_factory=UrlPolicy)
    limits: FetchLimits = field(default_factory=FetchLimits)
    max_run_bytes: int | None = None
    workers: int = 16
    image_limits: ImageLimits = DEFAULT_LIMITS  # per photo and per video frame (the byte cap is `limits`)
    retry: bool = False  # failed and skipped rows go back to pending first
    video_frames: bool = True
    dedup: bool = True
    locate_from_exif: bool = True
    video_limits: VideoLimits = field(default_factory=VideoLimits)
    chunk: int = 256  # rows selected per query
    flush_every: int = 100  # results per write transaction
    flush_seconds: float = 2.0

    def parameters(self) -> dict:
        """What the run records about itself (no resolver functions, paths as text)."""
        return {
            "offline": self.offline, "media_dir": str(self.media_dir) if self.media_dir else None,
            "mapping_column": self.mapping_column, "allow_private_hosts": self.policy.allow_private_hosts,
            "max_bytes": self.limits.max_bytes, "max_run_bytes": self.max_run_bytes, "workers": self.workers,
            "retry": self.retry,
        }


@dataclass
class FetchProgress:
    done: int
    total: int
    ok: int
    bytes: int
    elapsed: float
    stage: str = "fetch"

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0


@dataclass
class FetchSummary:
    run_id: int
    status: str  # done, cancelled, failed
    offline: bool
    counts: dict[str, int]  # this run: ok, failed, skipped, reused, left_pending
    media_status: dict[str, int]  # the whole store after the run
    bytes: int
    seconds: float
    images_per_s: float
    duplicates: int
    frames: int
    located_from_exif: int
    message: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["images_per_s"] = round(self.images_per_s, 2)
        return data


def run_fetch_media(
    store: Store, options: FetchOptions | None = None,
    progress: Progress | None = None, is_cancelled: IsCancelled | None = None,
    on_status: Callable[[FetchProgress], None] | None = None,
) -> FetchSummary:
    """Run the media stage on `store`; see the module docstring. `progress(percent)` as every
    stage; `on_status` also gets the counts, bytes and rate behind it (for a progress text)."""
    options = options or FetchOptions()
    is_cancelled = is_cancelled or (lambda: False)
    if options.offline and options.media_dir is None:
        raise ValueError("offline mode needs a media folder (the local copy of the photos)")
    if options.media_dir is not None and not Path(options.media_dir).is_dir():
        raise ValueError(f"media folder {options.media_dir} does not exist")
    with run_stage(store, RUN_KIND, options.parameters(), is_cancelled=is_cancelled) as run:
        def report(status: FetchProgress) -> None:
            if progress is not None:
                progress(status.percent)
            if on_status is not None:
                on_status(status)

        runner = _FetchRun(store, options, run.run_id, report, is_cancelled)
        run.counts = runner.counts
        try:
            runner.fetch_all()
            if not runner.stopped:
                runner.post_process()
        except Exception:
            runner.flush(force=True)
            raise
        run.status = Status.CANCELLED if is_cancelled() else Status.DONE
        summary = runner.summary(run.status.value)
        run.counts = runner.counts | {"bytes": summary.bytes}
        run.message = summary.message
    return summary


class _FetchRun:
    def __init__(self, store: Store, options: FetchOptions, run_id: int,
                 progress: Callable[[FetchProgress], None], is_cancelled: IsCancelled) -> None:
        self.store = store
        self.options = options
        self.run_id = run_id
        self.progress = progress
        self.is_cancelled = is_cancelled
        self.cache = MediaCache(store.media_dir)
        self.budget = ByteBudget(options.max_run_bytes)
        self.counts = {"ok": 0, "failed": 0, "skipped": 0, "reused": 0, "left_pending": 0}
        self.bytes = 0
        self.total = 0
        self.done = 0
        self.started = time.monotonic()
        self.fetch_seconds = 0.0
        self.stopped = False
        self.message = ""
        self.duplicates = 0
        self.frames = 0
        self.located = 0
        self._results: list[MediaResult] = []
        self._notes: list[tuple[int, str]] = []
        self._issues: list[tuple[str | None, int | None, str]] = []
        self._last_flush = time.monotonic()
        self._tasks: dict[int, MediaTask] = {}

    # -- fetching ---------------------------------------------------------------------------

    def fetch_all(self) -> None:
        opts = self.options
        if opts.retry:
            with self.store.batch() as conn:
                media_sql.reset_for_retry(conn)
        self.total = media_sql.count_pending(self.store)
        fetcher = None if opts.offline else HttpFetcher(opts.policy, opts.limits, opts.workers, self.budget)
        acquirer = Acquirer(self.cache, fetcher, opts.media_dir, opts.limits.max_bytes, opts.image_limits)
        inflight: dict[Future, tuple] = {}  # download in progress -> its source key
        waiting: dict[tuple, list[MediaTask]] = {}  # source key -> rows sharing that download
        finished: dict[tuple, MediaResult | Deferred] = {}  # recent outcomes by source key (bounded)
        cursor = 0
        try:
            with ThreadPoolExecutor(max_workers=max(1, opts.workers), thread_name_prefix="mist-fetch") as pool:
                while not self._should_stop():
                    tasks = media_sql.pending_media(self.store, cursor, opts.chunk, opts.mapping_column)
                    if not tasks:
                        break
                    cursor = tasks[-1].fid
                    reusable = {} if opts.offline else media_sql.fetched_by_url(self.store, (t.url for t in tasks))
                    for task in tasks:
                        self._tasks[task.fid] = task
                        if task.url in reusable and not task.source_path:
                            self._accept(reusable[task.url].for_row(task.fid), reused=True)
                            continue
                        key = _source_key(task, opts.offline)
                        if key in waiting:
                            waiting[key].append(task)
                            continue
                        if key in finished:
                            self._settle([task], finished[key])
                            continue
                        inflight[pool.submit(self._work, acquirer, task)] = key
                        waiting[key] = [task]
                        while len(inflight) >= opts.workers * 2:
                            self._collect(inflight, waiting, finished)
                        if self._should_stop():
                            break
                    self.flush()
                while inflight:
                    self._collect(inflight, waiting, finished)
        finally:
            if fetcher is not None:
                fetcher.close()
        self.flush(force=True)
        self.fetch_seconds = time.monotonic() - self.started

    def _should_stop(self) -> bool:
        if self.is_cancelled():
            self.stopped = True
            self.message = "cancelled; the rest stays pending and the next run continues"
        elif self.budget.exhausted:
            self.stopped = True
            self.message = f"stopped at the run's limit of {self.options.max_run_bytes} bytes; the rest stays pending"
        return self.stopped

    def _work(self, acquirer: Acquirer, task: MediaTask) -> MediaResult | Deferred:
        if self.is_cancelled() or self.budget.exhausted:
            return Deferred(task.fid)
        try:
            return acquirer.acquire(task, self.is_cancelled)
        except Cancelled:
            return Deferred(task.fid)
        except BudgetExhausted:
            return Deferred(task.fid)
        except OSError:
            raise  # the cache's disk: stop the run rather than fail every row
        except Exception as exc:  # one hostile file must not end the run
            log.exception("media %s: unexpected error", task.fid)
            return MediaResult(task.fid, MediaStatus.FAILED, error=f"internal error: {type(exc).__name__}: {exc}")

    def _collect(self, inflight: dict[Future, tuple], waiting: dict[tuple, list[MediaTask]],
                 finished: dict[tuple, MediaResult | Deferred]) -> None:
        """Settle the downloads that have finished (waiting at most 0.5 s for one)."""
        done, _ = wait(list(inflight), timeout=0.5, return_when=FIRST_COMPLETED)
        for future in done:
            key = inflight.pop(future)
            outcome = future.result()  # re-raises OSError from a worker
            self._settle(waiting.pop(key), outcome)
            if len(finished) >= 50_000:  # reposts of older rows are found in the store instead
                finished.clear()
            finished[key] = outcome
        self.flush()

    def _settle(self, tasks: list[MediaTask], outcome: MediaResult | Deferred) -> None:
        """Give every row that shares a source the outcome of its one download."""
        for task in tasks:
            if isinstance(outcome, Deferred):
                self._tasks.pop(task.fid, None)
                self.counts["left_pending"] += 1
                if outcome.reason:
                    self._notes.append((task.fid, outcome.reason))
                    self._issues.append((task.url or task.source_path, None,
                                         f"media {task.fid} of post {task.post_id} left pending: {outcome.reason}"))
                self.done += 1
            elif outcome.fid == task.fid:
                self._accept(outcome)
            else:
                self._accept(outcome.for_row(task.fid), reused=True)

    def _accept(self, result: MediaResult, reused: bool = False) -> None:
        task = self._tasks.get(result.fid)
        self.done += 1
        self.counts[result.status] += 1
        if reused and result.status == MediaStatus.OK:
            self.counts["reused"] += 1
        elif result.status == MediaStatus.OK:
            self.bytes += result.bytes or 0
        if result.status != MediaStatus.OK and task is not None:
            self._issues.append((task.url or task.source_path, None,
                                 f"media {task.fid} of post {task.post_id} {result.status}: {result.error}"))
        self._results.append(result)
        self.progress(FetchProgress(self.done, self.total, self.counts["ok"], self.bytes,
                                    time.monotonic() - self.started))

    def flush(self, force: bool = False) -> None:
        """Commit the results gathered so far in one transaction."""
        due = len(self._results) >= self.options.flush_every or \
            time.monotonic() - self._last_flush >= self.options.flush_seconds
        if not (force or due) or not (self._results or self._notes or self._issues):
            return
        with self.store.batch() as conn:
            media_sql.write_results(conn, self._results)
            media_sql.note_pending(conn, self._notes)
            self.store.record_issues(conn, self.run_id, STAGE, self._issues)
        for result in self._results:
            self._tasks.pop(result.fid, None)
        self._results, self._notes, self._issues = [], [], []
        self._last_flush = time.monotonic()

    # -- after fetching ---------------------------------------------------------------------

    def post_process(self) -> None:
        opts = self.options
        if opts.video_frames and not self.is_cancelled():
            self.frames = self._extract_frames()
        if opts.dedup and not self.is_cancelled():
            self.duplicates = link_duplicates(self.store)
        if opts.locate_from_exif and not self.is_cancelled():
            self.located = locate_from_exif(self.store)

    def _extract_frames(self) -> int:
        videos = media_sql.videos_without_frames(self.store)
        added = 0
        for i, row in enumerate(videos):
            if self.is_cancelled():
                break
            self.progress(FetchProgress(i, len(videos), added, self.bytes, time.monotonic() - self.started, "frames"))
            try:
                frames = extract_video_frames(self.store, self.cache, row["fid"], row["cache_path"],
                                              self.options.video_limits, self.is_cancelled)
            except DecodeCancelled:
                break
            except (DecodeError, ValueError) as exc:
                with self.store.batch() as conn:
                    self.store.record_issues(conn, self.run_id, STAGE, [(row["cache_path"], None,
                                             f"media {row['fid']}: no frames: {exc}")])
                    media_sql.add_frames(conn, row["fid"], row["post_fid"], [], {"frame_error": str(exc)})
                continue
            if self.is_cancelled():
                break
            frame_rows, info = frames
            with self.store.batch() as conn:
                media_sql.add_frames(conn, row["fid"], row["post_fid"], frame_rows, info)
            added += len(frame_rows)
        return added

    def summary(self, status: str) -> FetchSummary:
        seconds = self.fetch_seconds or (time.monotonic() - self.started)
        fetched = self.counts["ok"] - self.counts["reused"]
        return FetchSummary(
            self.run_id, status, self.options.offline, dict(self.counts), media_sql.status_counts(self.store),
            self.bytes, time.monotonic() - self.started, fetched / seconds if seconds > 0 else 0.0,
            self.duplicates, self.frames, self.located, self.message,
        )


def _source_key(task: MediaTask, offline: bool) -> tuple:
    """Rows with the same key get the same bytes: one download serves every repost in a run."""
    if offline or (task.url is None and task.source_path is None):
        return ("row", task.fid)
    return ("src", task.url, task.source_path, task.mapped)


def extract_video_frames(
    store: Store, cache: MediaCache, video_fid: int, cache_path: str, limits: VideoLimits,
    is_cancelled: IsCancelled,
) -> tuple[list[FrameRow], dict]:
    """Stable frames of one cached video as cached JPEGs, ready for `media_sql.add_frames`."""
    from PIL import Image

    path = store.media_file(cache_path)
    info = probe_video(path, limits.image_limits)
    frames = extract_stable_frames(path, limits, is_cancelled)
    rows = []
    for frame in frames:
        image = Image.fromarray(frame.rgb)
        data = encode_jpeg(image)
        cached = cache.put(data, ".jpg")
        thumb = make_thumbnail(image)
        cache.save_thumbnail(cached.sha256, thumb)
        origin = json.dumps({"frame_of": video_fid, "frame_index": frame.index, "time_s": round(frame.time_s, 3),
                             "mean_flow_px": round(frame.mean_flow_px, 4)}, sort_keys=True)
        rows.append(FrameRow(0, cached.sha256, cached.cache_path, image.width, image.height, len(data),
                             utc_now(), perceptual_hash(thumb), origin))
    video_info = {"fps": round(info.fps, 3), "frame_count": info.frame_count,
                  "duration_s": round(info.frame_count / info.fps, 3) if info.fps else None}
    return rows, {k: v for k, v in video_info.items() if v is not None}


def link_duplicates(store: Store) -> int:
    """Recompute near-duplicate links over every fetched photo and frame; return how many
    rows are duplicates. Only changed links are written."""
    rows = media_sql.dedup_rows(store)
    cache = MediaCache(store.media_dir)
    paths = {r["fid"]: (r["sha256"], r["cache_path"]) for r in rows}

    def histogram(item: DedupItem):
        sha, cache_path = paths[item.fid]
        thumb = cache.thumbnail_path(sha)
        try:
            if not thumb.is_file():
                with decode_file(store.media_file(cache_path)) as decoded:
                    cache.ensure_thumbnail(sha, decoded.image)
            with decode_file(thumb) as decoded:
                return grey_histogram(decoded.image)
        except (DecodeError, ValueError) as exc:  # a cached file gone bad: no histogram, no link
            log.warning("media %s: no duplicate check: %s", item.fid, exc)
            return None

    items = [DedupItem(r["fid"], r["phash"], r["sha256"]) for r in rows]
    duplicates = find_duplicates(items, histogram)
    changes = [(r["fid"], duplicates.get(r["fid"])) for r in rows if r["duplicate_of"] != duplicates.get(r["fid"])]
    if changes:
        with store.batch() as conn:
            media_sql.set_duplicate_links(conn, changes)
    return len(duplicates)


def locate_from_exif(store: Store) -> int:
    """Place posts that have no geometry at the EXIF GPS position of their first photo that has
    one (geo_source 'exif'); located posts are never moved."""
    points = []
    seen = set()
    for row in media_sql.unlocated_exif_positions(store):
        if row["post_fid"] in seen:
            continue
        exif = ExifInfo.from_json(row["exif"])
        if exif.has_position:
            seen.add(row["post_fid"])
            points.append((row["post_fid"], exif.lon, exif.lat, exif.direction, exif.altitude))
    if not points:
        return 0
    with store.batch() as conn:
        located = media_sql.locate_posts(conn, points)
    if located:
        store.refresh_extents()
    return located
