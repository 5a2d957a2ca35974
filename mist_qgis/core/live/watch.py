"""The live watch: sources polled in a loop, each arriving batch through the existing stages.

Per batch: the source's items become post rows exactly as the batch importer counts them
(`posts.batches.collect`), and the rows, their issues and the source's new cursor go into the store
in ONE transaction, so a crash leaves both or neither and a restart reads on from the last batch
that committed. Then the stages that already exist run over what is new: fetch media (pending rows
only), classify with the current head (photos it has not scored), and the alert rule. A stop
(cancel, SIGINT/SIGTERM through `is_cancelled`, `until`, `max_posts`) is honoured between batches.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..images.pipeline import FetchOptions, run_fetch_media
from ..images.urlguard import UrlPolicy
from ..posts.batches import collect
from ..stage import IsCancelled, Progress, Status, run_stage
from ..store import live_sql
from ..store.post_import import add_post_batch, set_photo_fields
from .alerts import AlertRule, raise_alerts
from .sources import FeedOptions, LiveSource, SourceState, open_source

STAGE = "watch"
DEFAULT_INTERVAL_S = 2.0


@dataclass
class WatchOptions:
    """What the user chose for one watch."""

    sources: list[str]
    head: str | None = None  # a classifier or head model (.onnx); None: no screening
    rule: AlertRule = field(default_factory=AlertRule)
    interval_s: float = DEFAULT_INTERVAL_S
    until: float | None = None  # epoch seconds
    max_posts: int | None = None  # stop after this many records read
    fetch_media: bool = True
    policy: UrlPolicy = field(default_factory=UrlPolicy)

    def parameters(self) -> dict[str, Any]:
        return {"sources": self.sources, "head": self.head, "rule": self.rule.describe(),
                "interval_s": self.interval_s, "until": self.until, "max_posts": self.max_posts,
                "fetch_media": self.fetch_media, "allow_private_hosts": self.policy.allow_private_hosts}


@dataclass
class WatchStatus:
    """After each batch: what the dock and the CLI show."""

    records_read: int = 0
    imported: int = 0
    unlocated: int = 0
    duplicates: int = 0
    skipped: int = 0
    batches: int = 0
    fetched: int = 0
    classified: int = 0
    alerts: int = 0
    new_alerts: list[int] = field(default_factory=list)  # post fids of this batch's new alerts
    sources: list[SourceState] = field(default_factory=list)
    last_batch_at: float | None = None

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


@dataclass
class WatchSummary:
    run_id: int
    status: str
    counts: dict[str, int]
    message: str


def watch(store, options: WatchOptions, progress: Progress | None = None, is_cancelled: IsCancelled | None = None,
          on_batch: Callable[[WatchStatus], None] | None = None) -> WatchSummary:
    """Watch `options.sources` until cancelled, `until` or `max_posts`; one store run."""
    sources = [open_source(s, FeedOptions(interval_s=max(options.interval_s, 1.0), policy=options.policy))
               for s in options.sources]
    status = WatchStatus(sources=[s.status for s in sources])
    since_fid = int(store.scalar("SELECT COALESCE(MAX(fid), 0) FROM posts"))
    try:
        with run_stage(store, STAGE, options.parameters(), progress, is_cancelled) as run:
            run.counts = status.counts()
            cursors = {s.key: live_sql.get_cursor(store, s.key) for s in sources}

            def stop() -> bool:
                if run.cancelled():
                    return True
                if options.until is not None and time.time() >= options.until:
                    return True
                return options.max_posts is not None and status.records_read >= options.max_posts

            while not stop():
                new_rows = 0
                for source in sources:
                    if stop():
                        break
                    new_rows += _one_batch(store, source, cursors, run.run_id, status)
                if new_rows:
                    _downstream(store, options, status, since_fid, run.run_id, run.cancelled)
                run.counts = status.counts()
                if on_batch is not None:
                    on_batch(status)
                if not new_rows:
                    _sleep(options.interval_s, stop)
            run.status = Status.CANCELLED if run.cancelled() else Status.DONE
            run.message = run_message = (
                f"{status.records_read} records read in {status.batches} batches: {status.imported} imported, "
                f"{status.unlocated} unlocated, {status.duplicates} duplicates, {status.skipped} skipped; "
                f"{status.alerts} alerts")
    finally:
        for source in sources:
            source.close()
    return WatchSummary(run.run_id, run.status.value, status.counts(), run_message)


def _one_batch(store, source: LiveSource, cursors: dict[str, Any], run_id: int, status: WatchStatus) -> int:
    """Read what `source` has and commit it with its cursor; returns the post rows it held."""
    pending = source.poll(cursors[source.key])
    if pending is None:
        return 0
    batch = collect(pending.items, pending.media_root)
    imported = unlocated = duplicates = 0
    with store.batch() as conn:
        if batch.rows:
            imported, unlocated, duplicates = add_post_batch(store, conn, batch.rows, run_id)
        if batch.photos:
            set_photo_fields(conn, run_id, batch.photos)
        if batch.issues:
            store.record_issues(conn, run_id, STAGE, batch.issues)
        live_sql.put_cursor(conn, source.key, pending.cursor)
    cursors[source.key] = pending.cursor  # counted once the transaction has committed
    status.records_read += batch.records_read
    status.imported += imported
    status.unlocated += unlocated
    status.duplicates += duplicates
    status.skipped += batch.skipped
    status.batches += 1
    status.last_batch_at = time.time()
    return len(batch.rows)


def _downstream(store, options: WatchOptions, status: WatchStatus, since_fid: int, run_id: int,
                is_cancelled: IsCancelled) -> None:
    """The existing stages over what is new: each takes only the rows still waiting for it."""
    if options.fetch_media:
        fetched = run_fetch_media(store, FetchOptions(policy=options.policy, workers=4), is_cancelled=is_cancelled)
        status.fetched += fetched.counts.get("ok", 0)
    if options.head:
        from ..models.classify import classify_store

        status.classified += classify_store(store, Path(options.head), is_cancelled=is_cancelled).classified
    new = raise_alerts(store, options.rule, since_fid, run_id)
    status.alerts += len(new)
    status.new_alerts = new


def _sleep(seconds: float, stop: Callable[[], bool]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop():
        time.sleep(min(0.1, max(0.0, end - time.monotonic())))
