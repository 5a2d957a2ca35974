"""The Verify dock's team side: several analysts on one store at once.

- One post at a time under a lease (`core.verify.team.next_post`), so two analysts never get
  the same post; the lease is renewed while the dock holds it and given back when the analyst
  stops.
- What the analyst had in view of each post shown (`seen_of_post`): a colleague's verdict that
  lands after that is never silently overwritten; `write_verdicts` refuses and the dock shows
  both verdicts.
- Disagreements among analysts on the photo in view (double verification, overrides).
- The other analysts' verdicts as they land: LISTEN/NOTIFY on a team store, on a thread of its
  own; a GeoPackage has no notifications and is polled by the dock's change check.
"""

from __future__ import annotations

import sqlite3

from qgis.PyQt.QtCore import QObject, QThread, QTimer, pyqtSignal

from ..core.store import Store, StoreError
from ..core.verify import team
from ..core.verify.records import Verdict, VerdictConflict
from ..core.verify.team import LeasedPost, TeamConflict

RENEW_MS = int(team.LEASE_SECONDS * 1000 / 3)  # well before the lease runs out


class _Listener(QThread):
    """Iterates a `watch_verdicts` watch (already listening) and hands each event to the GUI."""

    arrived = pyqtSignal(object)  # VerdictEvent
    lost = pyqtSignal(str)

    def __init__(self, events: team.VerdictWatch, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.events = events  # its own watch: closing one listener never touches a newer one

    def run(self) -> None:
        try:
            for event in self.events:
                self.arrived.emit(event)
        except Exception as exc:  # noqa: BLE001 - the server went away: the dock's poll carries on
            self.lost.emit(str(exc))


class TeamDesk(QObject):
    """Leases, what the analyst saw, disagreements and notifications for one open store."""

    verdict_arrived = pyqtSignal(object)  # VerdictEvent of any analyst, on the GUI thread
    watch_lost = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store: Store | None = None
        self.lease: LeasedPost | None = None
        self.seen: dict[tuple[int, int | None], int] = {}
        self._listener: _Listener | None = None
        self._renew = QTimer(self)
        self._renew.setInterval(RENEW_MS)
        self._renew.timeout.connect(self._renew_lease)

    # -- the store -----------------------------------------------------------------------------

    def set_store(self, store: Store | None) -> None:
        """Follow a newly opened store (None: closed); listens at once on a team store, so no
        verdict written after this returns is missed."""
        self.stop()
        self.store = store
        self.seen.clear()
        if store is not None and getattr(store, "dialect", "sqlite") == "postgresql":
            try:
                watch = team.watch_verdicts(store)
            except StoreError as exc:  # the store opened, its listening connection did not
                self.watch_lost.emit(str(exc))
                return
            self._listener = _Listener(watch, self)
            self._listener.arrived.connect(self.verdict_arrived)
            self._listener.lost.connect(self.watch_lost)
            self._listener.start()

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.isRunning()

    def stop(self) -> None:
        """Give back the lease and stop listening (the store is closing): the listening thread
        is woken at once and has ended, its connection closed, when this returns."""
        self.release()
        if self._listener is not None:
            self._listener.events.close()
            self._listener.wait(5000)
            self._listener = None

    # -- leases --------------------------------------------------------------------------------

    def take_next(self, analyst: str) -> LeasedPost | None:
        """The next post for this analyst, leased (None when none is left); its items as seen."""
        if self.store is None:
            return None
        self.lease = team.next_post(self.store, analyst)
        self._renew.start()
        if self.lease is not None:
            self.seen.update(self.lease.seen)
        return self.lease

    def judged(self, verdicts: list[Verdict]) -> None:
        """A verdict on the leased post ends the lease (core drops it with the verdict)."""
        if self.lease is not None and any(v.post_fid == self.lease.post_fid for v in verdicts):
            self.lease = None

    def release(self) -> None:
        """Stop taking posts; a post still leased goes back to the others."""
        self._renew.stop()
        lease, self.lease = self.lease, None
        if lease is not None and self.store is not None and not self.store.read_only:
            try:
                team.release(self.store, lease)
            except (StoreError, sqlite3.Error):
                pass  # the lease runs out by itself

    def _renew_lease(self) -> None:
        if self.lease is None or self.store is None:
            return
        try:
            renewed = team.next_post(self.store, self.lease.analyst)
        except (StoreError, sqlite3.Error):
            return  # the next tick tries again; the lease is still good for a while
        if renewed is not None and renewed.post_fid == self.lease.post_fid:
            self.lease = renewed

    # -- what the analyst saw, and disagreements --------------------------------------------------

    def remember(self, post_fid: int) -> None:
        """Record what the analyst sees of a post now (the dock shows it)."""
        if self.store is None or self.store.read_only:
            return
        try:
            now = team.seen_of_post(self.store, post_fid)
        except (StoreError, sqlite3.Error):
            return
        for key in [k for k in self.seen if k[0] == post_fid]:
            del self.seen[key]
        self.seen.update(now)

    def seen_for(self, verdicts: list[Verdict]) -> dict[tuple[int, int | None], int]:
        posts = {v.post_fid for v in verdicts}
        return {k: v for k, v in self.seen.items() if k[0] in posts}

    def acknowledge(self, conflict: VerdictConflict) -> None:
        """The analyst has now seen the colleagues' verdicts of a conflict."""
        for c in conflict.conflicts:
            self.seen[(c.post_fid, c.media_fid)] = c.verification_fid

    def disagreements(self, post_fid: int, media_fid: int | None) -> list[TeamConflict]:
        """Analysts' differing latest verdicts on this photo (or on its post as a whole)."""
        if self.store is None:
            return []
        try:
            found = team.post_conflicts(self.store, post_fid)
        except (StoreError, sqlite3.Error):
            return []
        return [c for c in found if c.media_fid in (media_fid, None)]
