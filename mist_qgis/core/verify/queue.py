"""The verification queue: a lazy, paged, filtered and ordered view over the store's photos.

Nothing is materialised: a reader pulls keyset pages from indexed streams as the table scrolls,
so setting up the table costs one page whatever the store holds. "Most useful next" is the
active-learning order: photos the screening model is least sure about first (|score - threshold|
ascending, merged from two index scans that walk away from the threshold in both directions),
mixed with a seeded random sample of the filtered photos (exploration, so the verified set also
covers confident mistakes). It works with any classifier's rows in `predictions`.
"""

from __future__ import annotations

import random
import sqlite3
from collections import deque
from dataclasses import replace
from typing import Any

from ..store import Store, verify_sql
from .records import Ordering, QueueFilter, QueueRow

MIN_CHUNK = 16
RANDOM_RETRIES = 4
RANDOM_GIVE_UP = 32  # consecutive misses after which the random stream is exhausted


class _Stream:
    """Rows of one or more keyset phases, one after another, fetched in chunks."""

    def __init__(self, store: Store, phases: list[tuple[verify_sql.QueuePhase, dict[str, Any]]], chunk: int) -> None:
        self._store = store
        self._phases = [p for p in phases if p[0] is not None]
        self._chunk = max(chunk, MIN_CHUNK)
        self._after: tuple[Any, Any] | None = None
        self._buffer: deque[sqlite3.Row] = deque()

    def peek(self) -> sqlite3.Row | None:
        while not self._buffer and self._phases:
            phase, params = self._phases[0]
            rows = verify_sql.queue_page(self._store, phase, params, self._after, self._chunk)
            if rows:
                self._buffer.extend(rows)
                self._after = (rows[-1]["_key"], rows[-1]["_tie"])
            if len(rows) < self._chunk:
                self._phases.pop(0)
                self._after = None
        return self._buffer[0] if self._buffer else None

    def pop(self) -> sqlite3.Row | None:
        row = self.peek()
        if row is not None:
            self._buffer.popleft()
        return row


class Queue:
    """A filtered, ordered queue of photos to verify. Cheap to create; `reader()` pages it."""

    def __init__(
        self, store: Store, filt: QueueFilter | None = None, ordering: Ordering = Ordering.IMPORT,
        threshold: float = 0.5, explore: float = 0.2, seed: int = 0,
    ) -> None:
        if not 0.0 <= explore <= 1.0:
            raise ValueError("explore must be between 0 and 1")
        self.store = store
        filt = filt or QueueFilter()
        model = filt.model or verify_sql.latest_model(store) or ""
        labels = verify_sql.model_labels(store, model) if model else []
        label = filt.label or ("flood" if "flood" in labels or not labels else labels[0])
        self.filter = replace(filt, model=model, label=label)
        self.ordering = ordering
        self.threshold = float(threshold)
        self.explore = float(explore)
        self.seed = seed

    @property
    def model(self) -> str:
        return self.filter.model or ""

    @property
    def label(self) -> str:
        return self.filter.label or ""

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(params, model=self.model, label=self.label, threshold=self.threshold)

    def count(self) -> int:
        """How many photos pass the filter (a full count: call it off the GUI thread on big stores)."""
        return verify_sql.queue_count(self.store, self.filter, self.model, self.label)

    def rows(self, media_fids: list[int]) -> dict[int, QueueRow]:
        """Fresh rows for given photos, e.g. after a verdict."""
        rows = verify_sql.rows_by_media(self.store, media_fids, self.model, self.label)
        return {r["media_fid"]: verify_sql.to_queue_row(r) for r in rows}

    def reader(self, page_size: int = 100) -> QueueReader:
        return QueueReader(self, page_size)

    def _streams(self, page_size: int) -> list[_Stream]:
        f = self.filter
        o = self.ordering

        def stream(*phases: tuple[verify_sql.QueuePhase | None, dict[str, Any]]) -> _Stream:
            return _Stream(self.store, [(p, self._params(a)) for p, a in phases], page_size)

        if o is Ordering.IMPORT:
            return [stream(verify_sql.media_phase(f))]
        if o in (Ordering.NEWEST, Ordering.OLDEST):
            phases, params = verify_sql.time_phases(f, descending=o is Ordering.NEWEST)
            return [stream(*[(p, params) for p in phases])]
        if o in (Ordering.SCORE_HIGH, Ordering.SCORE_LOW):
            high = o is Ordering.SCORE_HIGH
            return [stream(verify_sql.score_phase(f, descending=high), verify_sql.unscored_phase(f))]
        # MOST_USEFUL: above the threshold walking up, below it walking down, then the unscored.
        return [
            stream(verify_sql.score_phase(f, descending=False, extra="pr.score >= :threshold")),
            stream(verify_sql.score_phase(f, descending=True, extra="pr.score < :threshold")),
            stream(verify_sql.unscored_phase(f)),
        ]


class QueueReader:
    """Pages through a queue once, front to back; `fetch(n)` returns the next rows."""

    def __init__(self, queue: Queue, page_size: int = 100) -> None:
        self.queue = queue
        self._streams = queue._streams(page_size)
        self._seen: set[int] = set()
        self._rng = random.Random(queue.seed)
        self._random_on = queue.ordering is Ordering.MOST_USEFUL and queue.explore > 0
        self._fid_range = verify_sql.media_fid_range(queue.store) if self._random_on else None
        self._random_misses = 0
        self.exhausted = False

    def fetch(self, n: int) -> list[QueueRow]:
        out: list[QueueRow] = []
        while len(out) < n and not self.exhausted:
            row = self._next()
            if row is None:
                self.exhausted = True
            else:
                out.append(verify_sql.to_queue_row(row))
        return out

    def _next(self) -> sqlite3.Row | None:
        if self.queue.ordering is not Ordering.MOST_USEFUL:
            return self._streams[0].pop()
        if self._random_on and self._rng.random() < self.queue.explore:
            row = self._random_pick()
            if row is not None:
                return row
        while True:
            row = self._pop_least_certain()
            if row is None:
                return None
            if row["media_fid"] not in self._seen:
                self._seen.add(row["media_fid"])
                return row

    def _pop_least_certain(self) -> sqlite3.Row | None:
        above, below, unscored = self._streams
        a, b = above.peek(), below.peek()
        if a is None and b is None:
            return unscored.pop()
        t = self.queue.threshold
        if b is None or (a is not None and abs(a["_key"] - t) <= abs(b["_key"] - t)):
            return above.pop()
        return below.pop()

    def _random_pick(self) -> sqlite3.Row | None:
        if self._fid_range is None:
            self._random_on = False
            return None
        lo, hi = self._fid_range
        params = self.queue._params(verify_sql.filter_sql(self.queue.filter)[1])
        for _ in range(RANDOM_RETRIES):
            start = self._rng.randint(lo, hi)
            row = verify_sql.first_media_from(self.queue.store, self.queue.filter, params, start)
            if row is None:
                row = verify_sql.first_media_from(self.queue.store, self.queue.filter, params, lo)
            if row is None:  # nothing passes the filter
                self._random_on = False
                return None
            if row["media_fid"] not in self._seen:
                self._seen.add(row["media_fid"])
                self._random_misses = 0
                return row
        self._random_misses += 1
        if self._random_misses >= RANDOM_GIVE_UP:
            self._random_on = False
        return None
