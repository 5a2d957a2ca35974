"""The import: any number of post collections -> one store, streamed, accounted for, resumable.

Records are read in batches (`batches.BatchReader`, or a reader process for large inputs while
this one writes) and each batch goes into the store in one transaction together with its issues,
inside one store run. Totals are exact: imported + duplicates + unlocated + skipped = records
read. A cancelled import keeps every committed batch; importing again completes it (what is
already there counts as duplicates).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..stage import IsCancelled, Progress, StageRun, Status, run_stage
from .batches import ReadBatch
from .issues import NotAPostCollection, Skip, skip_reason
from .reader_process import open_reader
from .stream import ImportOptions

__all__ = ["ImportOptions", "ImportSummary", "import_posts"]

STAGE = "import"
# what binding one bad row raises; a full disk or a lock is not a row's fault and still stops the run
ROW_ERRORS = (UnicodeError, OverflowError, ValueError, TypeError, sqlite3.InterfaceError, sqlite3.IntegrityError)


@dataclass
class ImportSummary:
    """What the import did, as the CLI prints it and the dock shows it."""

    run_id: int | None = None
    status: str = Status.RUNNING.value
    records_read: int = 0
    imported: int = 0
    duplicates: int = 0
    unlocated: int = 0
    skipped: int = 0
    reposts: int = 0
    notes: int = 0
    files: list[dict[str, str]] = field(default_factory=list)
    files_skipped: list[dict[str, str]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    message: str = ""

    def counts(self) -> dict[str, int]:
        return {
            "records_read": self.records_read, "imported": self.imported, "duplicates": self.duplicates,
            "unlocated": self.unlocated, "skipped": self.skipped, "reposts": self.reposts,
            "files": len(self.files), "files_skipped": len(self.files_skipped), "notes": self.notes,
        }

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["posts_per_s"] = round(self.records_read / self.seconds) if self.seconds else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportSummary:
        """The summary back from `as_dict` (the algorithm's SUMMARY output, read by the dock)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def import_posts(
    store, paths: Iterable[str | Path], options: ImportOptions | None = None,
    progress: Progress | None = None, is_cancelled: IsCancelled | None = None,
) -> ImportSummary:
    """Import every input into `store` in one run and return the summary.

    `progress(percent)` and `is_cancelled()` are polled every few hundred records (Processing
    passes its feedback's). Raises NotAPostCollection, after recording a failed run, when no input is a
    post collection at all.
    """
    from ..store.post_import import restore_tuning, tune_for_bulk

    job = _ImportJob(store, [Path(p) for p in paths], options or ImportOptions())
    tuning = tune_for_bulk(store)
    try:
        return job.run(progress, is_cancelled)
    finally:
        restore_tuning(store, tuning)


class _ImportJob:
    """One import run: read batches, write each in one transaction, account for every record.

    (A writer thread was measured and dropped: SQLite's per-row GIL hand-over in executemany cost
    as much as the overlap gained. Reading in another process overlaps without that cost.)"""

    def __init__(self, store, paths: list[Path], options: ImportOptions) -> None:
        self.store = store
        self.paths = paths
        self.options = options
        self.summary = ImportSummary()
        self.parameters = {"paths": [str(p) for p in paths],
                           **{k: v for k, v in asdict(options).items() if k not in ("batch_size", "parallel")}}
        self.run_id: int | None = None
        self.reader = None
        self.deferred = None

    def write(self, batch: ReadBatch) -> None:
        """One batch, its photo fields and its issues in one transaction. A row the database
        refuses (text that is not valid Unicode, a value it cannot bind) does not lose the batch:
        the batch is written again row by row and that row becomes a counted skip."""
        try:
            counts = self._write_rows(batch.rows, batch.photos, batch.issues)
        except ROW_ERRORS:
            counts = self._write_isolated(batch)
        s = self.summary
        s.imported += counts[0]  # counted once the transaction has committed
        s.unlocated += counts[1]
        s.duplicates += counts[2]
        s.records_read += batch.records_read
        s.skipped += batch.skipped
        s.reposts += batch.reposts
        s.notes += batch.notes
        s.issues.extend(batch.kept)

    def _write_rows(self, rows: list, photos: list, issues: list) -> tuple[int, int, int]:
        from ..store.post_import import add_post_batch, set_photo_fields

        store = self.store
        counts = (0, 0, 0)
        with store.batch() as conn:
            if rows:
                counts = add_post_batch(store, conn, rows, self.run_id, self.options.keep_author_names, self.deferred)
            if photos:
                set_photo_fields(conn, self.run_id, photos)
            if issues:
                store.record_issues(conn, self.run_id, STAGE, issues)
        return counts

    def _write_isolated(self, batch: ReadBatch) -> tuple[int, int, int]:
        from ..store.post_rows import PLATFORM, POST_ID, SOURCE_FILE, SOURCE_LINE

        totals = [0, 0, 0]
        issues = list(batch.issues)
        photos: dict[tuple, list] = {}
        for photo in batch.photos:  # (photo, filename, directory, platform, post_id)
            photos.setdefault((photo[3], photo[4]), []).append(photo)
        for row in batch.rows:
            try:
                counts = self._write_rows([row], photos.get((row[PLATFORM], row[POST_ID]), []), [])
            except ROW_ERRORS as exc:
                batch.skipped += 1
                reason = "the store refused the record: " + skip_reason(exc)
                skip = Skip(row[SOURCE_FILE] or "", row[SOURCE_LINE], reason)
                issues.append((skip.source, skip.line, skip.reason))
                batch.kept.append({"kind": "skipped", "source": skip.source, "line": skip.line, "reason": skip.reason})
                continue
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
        self._write_rows([], [], issues)
        return totals[0], totals[1], totals[2]

    def run(self, progress: Progress | None, is_cancelled: IsCancelled | None) -> ImportSummary:
        started = time.perf_counter()
        percent = 0.0
        s = self.summary

        def poll(done: float) -> bool:
            nonlocal percent
            percent = 100.0 * done
            if run.cancelled():
                return True
            if progress is not None:
                progress(percent)
            return False

        run: StageRun | None = None
        try:
            with run_stage(self.store, STAGE, self.parameters, progress, is_cancelled) as run:
                self.run_id = s.run_id = run.run_id
                try:
                    self._read_all(poll)
                finally:
                    self._account(run, started)
                reader = self.reader
                if not reader.files and reader.files_skipped:
                    raise NotAPostCollection("; ".join(f["reason"] for f in reader.files_skipped))
                self.store.refresh_extents()
                run.status = Status.CANCELLED if reader.cancelled else Status.DONE
                s.status = run.status.value
                s.message = run.message = _message(s)
        except BaseException:
            s.status = Status.FAILED.value
            if run is not None:
                s.message = run.message
            raise
        if progress is not None:
            progress(100.0 if s.status == Status.DONE else percent)
        return s

    def _read_all(self, poll: Callable[[float], bool]) -> None:
        self.reader = reader = open_reader(self.paths, self.options)
        try:
            with self.store.deferred_spatial_index() as self.deferred:
                for batch in reader.batches(poll):
                    self.write(batch)
        finally:
            reader.close()

    def _account(self, run: StageRun, started: float) -> None:
        """Put what was committed so far on the summary and on the run that closes next."""
        s = self.summary
        if self.reader is not None:
            s.files, s.files_skipped = self.reader.files, self.reader.files_skipped
        s.seconds = round(time.perf_counter() - started, 3)
        run.counts = s.counts()


def _message(s: ImportSummary) -> str:
    text = (f"{s.records_read} {'record' if s.records_read == 1 else 'records'} read: {s.imported} imported, "
            f"{s.unlocated} unlocated, {s.duplicates} {'duplicate' if s.duplicates == 1 else 'duplicates'}, "
            f"{s.skipped} skipped")
    if s.files_skipped:
        text += f"; {len(s.files_skipped)} file(s) not imported"
    if s.status == Status.CANCELLED:
        text += "; cancelled (import again to complete)"
    return text

