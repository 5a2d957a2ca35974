"""Several analysts verifying one store at once.

- `next_post` hands each analyst a different post under a lease that expires when the analyst
  goes away (`LEASE_SECONDS`, renewed by asking again). With `set_verifications_per_post(store,
  2)` a lead asks for double verification: each post then goes to two different analysts,
  which is what agreement needs.
- A verdict on an item someone else judged since it was handed out comes back as a
  `VerdictConflict` (`write_verdicts(..., seen=post.seen)`).
- `watch_verdicts` yields the other analysts' verdicts as they land: PostgreSQL's LISTEN/NOTIFY
  on a team store, polling a GeoPackage.
- `team_agreement` and `team_conflicts`: Cohen's kappa for every pair of analysts, and every
  item on which the analysts' latest verdicts differ, however many analysts judged it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..errors import MistError
from ..store import Store
from ..store import team as sql
from .agreement import Agreement, agreement

LEASE_SECONDS = 300
PER_POST_KEY = "verifications_per_post"
MAX_PER_POST = 5


@dataclass(frozen=True)
class LeasedPost:
    """A post handed to one analyst until `expires_at` (the database's clock, ISO UTC).
    `seen`: the latest verification fid per item at hand-out (0: none), for
    `write_verdicts(seen=...)`; empty under double verification."""

    post_fid: int
    analyst: str
    expires_at: str
    seen: dict[tuple[int, int | None], int] = field(default_factory=dict)


def verifications_per_post(store: Store) -> int:
    return _per_post(store.get_meta(PER_POST_KEY))


def _per_post(setting: str | None) -> int:
    return int(setting or 1)


def set_verifications_per_post(store: Store, n: int) -> None:
    """How many different analysts judge each post (1, or more for agreement). A lead's setting:
    on a team store an analyst's role may not change it."""
    if not 1 <= int(n) <= MAX_PER_POST:
        raise MistError(f"verifications per post must be between 1 and {MAX_PER_POST}")
    store.set_meta(PER_POST_KEY, str(int(n)))


def next_post(store: Store, analyst: str, lease_seconds: float = LEASE_SECONDS) -> LeasedPost | None:
    """The post this analyst should judge next, leased to them; None when nothing is left.

    An analyst who still holds a live lease gets the same post again (lease renewed), so a
    reload or a second click never hands out a second post. On a team store this is two round
    trips: the analyst's lease or the first open post nobody else is taking, then its lease
    with what was judged on it so far (sent with the COMMIT)."""
    analyst = (analyst or "").strip()
    if not analyst:
        raise MistError("an analyst name is required to hand out posts")
    after = 0
    while True:
        with store.batch(pipeline=True) as conn:
            now, setting, fid, found = sql.look_for_post(conn, analyst, PER_POST_KEY, after)
            k = _per_post(setting)
            expires = sql.later(now, lease_seconds)
            if fid is not None:
                leased = sql.put_lease(conn, fid, analyst, now, expires)
            elif found is not None:
                fid = found
                leased = sql.lease_if_open(conn, fid, analyst, now, expires, k)
            else:
                return None
            # with double verification the other analyst's verdict is expected, not a conflict: the
            # disagreements are `team_conflicts`
            judged = sql.latest_of_post(conn, fid) if k == 1 else None
        if leased.rowcount:
            seen = {(fid, media): vfid for media, vfid in judged().items()} if judged else {}
            return LeasedPost(int(fid), analyst, expires, seen)
        after = fid  # someone took it between the look and the lock: the next one


def release(store: Store, post: LeasedPost) -> bool:
    """Give a post back without judging it (it goes to the next analyst who asks)."""
    with store.batch() as conn:
        return sql.drop_lease(conn, post.post_fid, post.analyst).rowcount > 0


# -- the other analysts' verdicts as they land ----------------------------------------------------


@dataclass(frozen=True)
class VerdictEvent:
    """A verdict written (op 'insert') or taken back (op 'delete') by any analyst."""

    op: str
    verification_fid: int
    post_fid: int
    media_fid: int | None
    analyst: str
    verdict: str
    verified_at: str


class VerdictWatch:
    """Verdict events as they land (iterate it, on a thread of its own); `close()`, from any
    thread, ends the iteration at once, never after a poll tick."""

    def __init__(self, events: Iterator[VerdictEvent], close: Callable[[], None]) -> None:
        self._events = events
        self._close = close

    def __iter__(self) -> Iterator[VerdictEvent]:
        return self

    def __next__(self) -> VerdictEvent:
        return next(self._events)

    def close(self) -> None:
        self._close()


def watch_verdicts(store: Store, timeout: float | None = None, poll_seconds: float = 1.0) -> VerdictWatch:
    """Verdicts written by anyone from this call on, as they land, until `timeout` seconds pass
    or the watch is closed. A team store pushes them (LISTEN/NOTIFY, on a connection of its own,
    listening before this returns); a GeoPackage is polled every `poll_seconds`."""
    deadline = None if timeout is None else time.monotonic() + timeout
    if getattr(store, "dialect", "sqlite") == "postgresql":
        from ..store.pg import VerdictListener

        listener = VerdictListener(store, deadline)
        return VerdictWatch((VerdictEvent(**e) for e in listener), listener.close)
    closing = threading.Event()
    events = _poll_verdicts(store, sql.max_verification_fid(store), deadline, poll_seconds, closing)
    return VerdictWatch(events, closing.set)


def _poll_verdicts(store: Store, last: int, deadline: float | None, poll_seconds: float,
                   closing: threading.Event) -> Iterator[VerdictEvent]:
    while not closing.is_set():
        for row in sql.verdicts_after(store, last):
            last = int(row["fid"])
            yield VerdictEvent("insert", last, int(row["post_fid"]), row["media_fid"], row["analyst"],
                               row["verdict"], row["verified_at"])
        if deadline is not None and time.monotonic() >= deadline:
            return
        wait = poll_seconds if deadline is None else min(poll_seconds, deadline - time.monotonic())
        closing.wait(max(0.0, wait))


# -- agreement among N analysts ---------------------------------------------------------------------


@dataclass(frozen=True)
class TeamConflict:
    """An item (photo, or post for post-level verdicts) on which analysts' latest verdicts differ."""

    post_fid: int
    media_fid: int | None
    verdicts: dict[str, str]  # analyst -> latest verdict


def team_agreement(store: Store) -> list[Agreement]:
    """Cohen's kappa, confusion and conflicts for every pair of analysts who judged common items."""
    rows = sql.all_latest_by_analyst(store)
    names = sorted({r["analyst"] for r in rows})
    items: dict[str, set] = {n: set() for n in names}
    for r in rows:
        items[r["analyst"]].add((r["post_fid"], r["media_fid"]))
    return [agreement(store, a, b) for a, b in itertools.combinations(names, 2) if items[a] & items[b]]


def team_conflicts(store: Store) -> list[TeamConflict]:
    """Every item whose analysts' latest verdicts are not all the same, by post and photo."""
    return _conflicts(sql.all_latest_by_analyst(store))


def post_conflicts(store: Store, post_fid: int) -> list[TeamConflict]:
    """The items of one post on which analysts disagree (one indexed read, for the dock)."""
    return _conflicts(sql.latest_by_analyst_of_post(store, post_fid))


def _conflicts(rows: list) -> list[TeamConflict]:
    by_item: dict[tuple[int, int | None], dict[str, str]] = {}
    for r in rows:
        by_item.setdefault((r["post_fid"], r["media_fid"]), {})[r["analyst"]] = r["verdict"]
    return [TeamConflict(post, media, verdicts) for (post, media), verdicts in
            sorted(by_item.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))
            if len(set(verdicts.values())) > 1]


def seen_of_post(store: Store, post_fid: int) -> dict[tuple[int, int | None], int]:
    """What an analyst has in view of a post now, for `write_verdicts(seen=...)`: the latest
    verification fid per item (0: none), as `next_post` hands out. Empty under double
    verification, where the other analyst's verdict is expected."""
    if verifications_per_post(store) > 1:
        return {}
    return {(post_fid, media): vfid for media, vfid in sql.items_of_post(store, post_fid).items()}
