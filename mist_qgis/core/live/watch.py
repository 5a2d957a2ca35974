"""The live watch: sources polled in a loop, each arriving batch through the existing stages.

Per batch: the source's items become post rows exactly as the batch importer counts them
(`posts.batches.collect`), and the rows, their issues and the source's new cursor go into the store
in ONE transaction, so a crash leaves both or neither and a restart reads on from the last batch
that committed. Then the stages that already exist run over what is new: fetch media (pending rows
only, including photos whose last failure was transient and whose backoff has passed), screen with
the active head (photos it has not scored), place the new posts without coordinates from the place
names in their text (a gazetteer, `geoloc.candidates.geocode_posts`), and the alert rule. Every
`learn_every` new verdicts the head is retrained (`learning.HeadLearner`) and replaced only if it is
not worse. A stop (cancel, SIGINT/SIGTERM through `is_cancelled`, `until`, `max_posts`) is honoured
between batches. Each source's state (last poll, errors, backoff) is written for the dock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import options as choices
from ..images.pipeline import FetchOptions, run_fetch_media
from ..images.urlguard import UrlPolicy
from ..posts.batches import collect
from ..stage import IsCancelled, Progress, Status, run_stage
from ..store import live_sql
from ..store import media as media_sql
from ..store.post_import import add_post_batch, set_photo_fields
from .alerts import AlertRule, raise_alerts
from .learning import HeadDecision, HeadLearner
from .sources import FeedOptions, LiveSource, SourceState, open_source

if TYPE_CHECKING:
    from ..geoloc.gazetteer import Gazetteer

STAGE = "watch"
DEFAULT_INTERVAL_S = 2.0
STATE_WRITE_S = 5.0  # an idle source's state is written at most this often
DOWNSTREAM_KEY = "watch:stages"  # in live_cursors: the last post every per-batch stage has seen


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
    learn_every: int = choices.LIVE_LEARN_EVERY  # new verdicts between retrainings of a head (0: never)
    heads_dir: Path | None = None  # where head versions go (a model-registry folder); None: `<store>.heads`
    resolve_model: Callable[[str], Path] | None = None  # a head's backbone by tag, for missing embeddings
    gazetteer: Gazetteer | None = None  # posts without coordinates placed from the place names in their text
    photo_retries: int = choices.LIVE_PHOTO_RETRIES
    retry_backoff_s: float = choices.LIVE_RETRY_BACKOFF_S

    def parameters(self) -> dict[str, Any]:
        return {"sources": self.sources, "head": self.head, "rule": self.rule.describe(),
                "interval_s": self.interval_s, "until": self.until, "max_posts": self.max_posts,
                "fetch_media": self.fetch_media, "allow_private_hosts": self.policy.allow_private_hosts,
                "learn_every": self.learn_every if self.head else 0, "photo_retries": self.photo_retries,
                "gazetteer_names": len(self.gazetteer) if self.gazetteer is not None else 0}


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
    retried: int = 0  # photos put back in the fetch queue after a transient failure
    classified: int = 0
    placed: int = 0  # posts without coordinates placed from a place name in their text
    alerts: int = 0
    heads_trained: int = 0
    heads_rejected: int = 0
    new_alerts: list[int] = field(default_factory=list)  # post fids of this batch's new alerts
    sources: list[SourceState] = field(default_factory=list)
    last_batch_at: float | None = None
    head: str = ""  # the active head's tag
    head_note: str = ""  # which version is active and why; why the last candidate was rejected

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
    # posts up to this one went through every per-batch stage: kept in the store, so after a crash
    # the posts of the batch in flight are placed and checked for alerts when the watch restarts
    mark = live_sql.get_cursor(store, DOWNSTREAM_KEY)
    since_fid = int(mark["fid"]) if mark else _last_fid(store)
    if mark is None:  # the first watch of this store: what was there before is not its business
        with store.batch() as conn:
            live_sql.put_cursor(conn, DOWNSTREAM_KEY, {"fid": since_fid})
    done_fid = since_fid
    learner: HeadLearner | None = None
    try:
        with run_stage(store, STAGE, options.parameters(), progress, is_cancelled) as run:
            run.counts = status.counts()
            cursors = {s.key: live_sql.get_cursor(store, s.key) for s in sources}
            learner = _learner(store, options, run.run_id, status)
            written: dict[str, tuple[str, float]] = {}

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
                    new_rows += _one_batch(store, source, cursors, run.run_id, status, written)
                _write_states(store, sources, written)
                head_changed = learner is not None and _learn(learner.step(store, run.run_id), learner, status)
                retried = _requeue(store, options, status)
                if retried or head_changed or _last_fid(store) > done_fid:
                    done_fid = _downstream(store, options, status, since_fid, done_fid, run.run_id, run.cancelled,
                                           learner)
                run.counts = status.counts()
                if on_batch is not None:
                    on_batch(status)
                if not new_rows:
                    _sleep(options.interval_s, stop)
            if learner is not None:  # a version in training is decided on, not lost
                decision = learner.finish(store, run.run_id)
                _learn(decision, learner, status)
                if decision is not None and on_batch is not None:
                    on_batch(status)
            run.counts = status.counts()
            run.status = Status.CANCELLED if run.cancelled() else Status.DONE
            run.message = run_message = (
                f"{status.records_read} records read in {status.batches} batches: {status.imported} imported, "
                f"{status.unlocated} unlocated, {status.duplicates} duplicates, {status.skipped} skipped; "
                f"{status.placed} placed from their text; {status.alerts} alerts"
                + (f"; {status.head_note}" if status.head_note else ""))
    finally:
        for source in sources:
            source.close()
        if learner is not None:
            learner.close()
    return WatchSummary(run.run_id, run.status.value, status.counts(), run_message)


def _learner(store, options: WatchOptions, run_id: int, status: WatchStatus) -> HeadLearner | None:
    """The head line the watch screens with and retrains, continuing the version left active."""
    if not options.head:
        return None
    folder = options.heads_dir or store.media_dir.with_suffix(".heads")
    learner = HeadLearner(store, Path(options.head), options.learn_every, folder, run_id)
    status.head, status.head_note = learner.tag, learner.note
    return learner


def _learn(decision: HeadDecision | None, learner: HeadLearner, status: WatchStatus) -> bool:
    """Count a retraining's decision; True if a new version became active."""
    if decision is None:
        return False
    status.heads_trained += 1
    status.heads_rejected += 0 if decision.accepted else 1
    status.head, status.head_note = learner.tag, learner.note
    return decision.accepted


def _requeue(store, options: WatchOptions, status: WatchStatus) -> int:
    """Photos whose transient failure's backoff has passed go back to the fetch queue."""
    if not options.fetch_media or options.photo_retries <= 0:
        return 0
    requeued, _ = media_sql.requeue_transient(store, options.photo_retries, options.retry_backoff_s)
    status.retried += requeued
    return requeued


def _write_states(store, sources: list[LiveSource], written: dict[str, tuple[str, float]]) -> None:
    """Each source's state for the dock: when it changed, else at most every `STATE_WRITE_S`."""
    now = time.monotonic()
    due = [s for s in sources if s.status.polled_at is not None and (
        written.get(s.key, ("", 0.0))[0] != s.status.state or now - written[s.key][1] >= STATE_WRITE_S)]
    if not due:
        return
    with store.batch() as conn:
        for source in due:
            _put_state(conn, source)
            written[source.key] = (source.status.state, now)


def _put_state(conn, source: LiveSource) -> None:
    """Write a polled source's state (its callers write only sources whose `polled_at` is set)."""
    st = source.status
    live_sql.put_source_state(conn, st.key, st.kind, st.state, st.failures, st.last_error,
                              _iso(st.next_poll_at) if st.failures else None, _iso(st.polled_at))


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def _one_batch(store, source: LiveSource, cursors: dict[str, Any], run_id: int, status: WatchStatus,
               written: dict[str, tuple[str, float]]) -> int:
    """Read what `source` has and commit it with its cursor (and its state); returns the post rows
    it held."""
    source.status.polled_at = time.time()
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
        _put_state(conn, source)
    written[source.key] = (source.status.state, time.monotonic())
    cursors[source.key] = pending.cursor  # counted once the transaction has committed
    status.records_read += batch.records_read
    status.imported += imported
    status.unlocated += unlocated
    status.duplicates += duplicates
    status.skipped += batch.skipped
    status.batches += 1
    status.last_batch_at = time.time()
    return len(batch.rows)


def _last_fid(store) -> int:
    return int(store.scalar("SELECT COALESCE(MAX(fid), 0) FROM posts"))


def _downstream(store, options: WatchOptions, status: WatchStatus, since_fid: int, done_fid: int, run_id: int,
                is_cancelled: IsCancelled, learner: HeadLearner | None) -> int:
    """The existing stages over what is new: each takes only the rows still waiting for it (fetch
    and screening by the rows' state, placing from text the posts after `done_fid`). Returns the
    last post done, which is stored unless the stages were cancelled part-way."""
    top = _last_fid(store)
    if options.fetch_media:
        fetched = run_fetch_media(store, FetchOptions(policy=options.policy, workers=4), is_cancelled=is_cancelled)
        status.fetched += fetched.counts.get("ok", 0)
    if learner is not None:
        from ..models.classify import classify_store

        screened = classify_store(store, learner.path, is_cancelled=is_cancelled,
                                  resolve_model=options.resolve_model).classified
        status.classified += screened
        if screened and not learner.disabled:
            with store.batch() as conn:
                live_sql.count_scored(conn, learner.tag, screened)
    if options.gazetteer is not None:
        from ..geoloc.candidates import geocode_posts

        status.placed += geocode_posts(store, options.gazetteer, is_cancelled=is_cancelled, after_fid=done_fid).placed
    new = raise_alerts(store, options.rule, since_fid, run_id)
    status.alerts += len(new)
    status.new_alerts = new
    if is_cancelled():
        return done_fid
    if top > done_fid:
        with store.batch() as conn:
            live_sql.put_cursor(conn, DOWNSTREAM_KEY, {"fid": top})
    return top


def _sleep(seconds: float, stop: Callable[[], bool]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop():
        time.sleep(min(0.1, max(0.0, end - time.monotonic())))
