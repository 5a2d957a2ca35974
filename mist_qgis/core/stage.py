"""The one way a stage runs: a run record in the store, progress, cancellation and the outcome.

Every stage (import, fetch, classify, geolocate, inundation, ...) opens its run with
`run_stage(store, kind, parameters, progress, is_cancelled)` and does its work inside the `with`
block. Leaving the block closes the run exactly once:

- normally: with `run.status` (DONE unless the stage set CANCELLED), `run.counts`, `run.message`;
- by `Cancelled`: as CANCELLED, with what was counted, and the exception goes on;
- by any other exception: as FAILED with the exception's one-line message, and it goes on.

So a stage that crashes can never leave its run marked "running". Progress has one shape,
`progress(percent)` with 0-100 (what QgsFeedback.setProgress takes); cancellation is polled
through one name, `is_cancelled()`, and stops work by raising `mist_qgis.core.errors.Cancelled`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from .errors import Cancelled, MistError

Progress = Callable[[float], None]
"""Progress in percent (0-100)."""
IsCancelled = Callable[[], bool]
"""True once the user asked the job to stop."""


class _Text(str, Enum):
    """An enum whose members are the texts the store keeps (and compare equal to them)."""

    def __str__(self) -> str:
        return self.value


class Status(_Text):
    """The status of a run (the `runs.status` column) and of a stage's result."""

    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class MediaStatus(_Text):
    """The status of one media row after the media stage (the `media.status` column)."""

    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class LocateStatus(_Text):
    """The outcome of geolocating one post (the `geolocations.status` column)."""

    MOVED = "moved"
    UNMATCHED = "unmatched"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass
class StageResult:
    """What one run did (a stage's result, and a row of the store's run report); `counts` is
    free-form per stage (imported, skipped, ...)."""

    run_id: int
    kind: str
    status: Status
    counts: dict[str, int] = field(default_factory=dict)
    message: str = ""


class RunStore(Protocol):
    """The part of the store a stage run needs (the Store's runs API)."""

    def start_run(self, kind: str, parameters: Mapping[str, Any] | None = None) -> int: ...

    def finish_run(self, run_id: int, status: str, counts: Mapping[str, int] | None = None,
                   message: str = "") -> Any: ...


def error_message(exc: BaseException) -> str:
    """The one line a failed run records: a user's mistake as its message, a bug with its type."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, MistError) and text:
        return text[:500]
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__


@dataclass
class Monitor:
    """Progress and cancellation for a part of a job: `report(fraction)` maps 0-1 of this part
    onto [start, start + span] percent and raises `Cancelled` once `is_cancelled()` is true."""

    progress: Progress | None = None
    is_cancelled: IsCancelled | None = None
    start: float = 0.0
    span: float = 100.0

    def cancelled(self) -> bool:
        return self.is_cancelled is not None and bool(self.is_cancelled())

    def check(self) -> None:
        """Raise `Cancelled` when the user asked to stop."""
        if self.cancelled():
            raise Cancelled()

    def report(self, fraction: float) -> None:
        """Report `fraction` (0-1) of this monitor's span; raise Cancelled when asked to stop."""
        self.check()
        self.show(fraction)

    def show(self, fraction: float) -> None:
        """Report `fraction` (0-1) of this monitor's span (for loops that stop on `cancelled()`)."""
        if self.progress is not None:
            self.progress(self.start + self.span * min(max(fraction, 0.0), 1.0))

    def sub(self, begin: float, end: float) -> Monitor:
        """A monitor for the part [begin, end] (fractions) of this one."""
        return Monitor(self.progress, self.is_cancelled, self.start + self.span * begin, self.span * (end - begin))


class StageRun(Monitor):
    """One open run: its id, the counts and message it will be closed with, and its monitor."""

    def __init__(self, store: RunStore, kind: str, run_id: int, progress: Progress | None,
                 is_cancelled: IsCancelled | None) -> None:
        super().__init__(progress, is_cancelled)
        self.store = store
        self.kind = kind
        self.run_id = run_id
        self.status = Status.DONE
        self.counts: dict[str, int] = {}
        self.message = ""
        self.result: StageResult | None = None

    def close(self, status: Status, message: str | None = None) -> StageResult:
        if message is not None:
            self.message = message
        self.status = status
        self.store.finish_run(self.run_id, status.value, self.counts, self.message)
        self.result = StageResult(self.run_id, self.kind, status, dict(self.counts), self.message)
        return self.result


@contextmanager
def run_stage(store: RunStore, kind: str, parameters: Mapping[str, Any] | None = None,
              progress: Progress | None = None, is_cancelled: IsCancelled | None = None) -> Iterator[StageRun]:
    """Open a run of `kind`, yield it, and close it however the block ends (module docstring)."""
    run = StageRun(store, kind, store.start_run(kind, parameters), progress, is_cancelled)
    try:
        yield run
    except Cancelled:
        run.close(Status.CANCELLED)
        raise
    except BaseException as exc:
        run.close(Status.FAILED, error_message(exc))
        raise
    run.close(run.status)
