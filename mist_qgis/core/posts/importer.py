"""The import: any number of post collections -> one store, streamed, accounted for, resumable.

`iter_records` is the streaming driver: it detects each input's format (unless given), opens the
reader and yields PostRecords, Skips (file, line, reason) and Notes one at a time, so memory does
not grow with the file. `import_posts` writes them through `Store.add_posts` in batches, each in
one transaction together with its issues, inside one store run. Totals are exact:
imported + duplicates + unlocated + skipped = records read. A cancelled import keeps every
committed batch; importing again completes it (what is already there counts as duplicates).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .crisismmd import read_crisismmd
from .detect import FORMATS, detect_format
from .generic_csv import read_csv
from .geojson import read_geojson
from .issues import FileSkip, NotAPostCollection, Note, Skip
from .photos import PhotoFolder, read_photos
from .record import PostRecord
from .textio import Source, require_text, sniff
from .tweets import read_tweets
from .weibo import read_weibo

STAGE = "import"
BATCH_SIZE = 5000
CHECK_EVERY = 500
REPORT_ISSUES = 50


@dataclass
class ImportOptions:
    """What the user chose; plain data, so a QgsTask can carry it to its thread."""

    format: str | None = None
    media_root: str | None = None
    keep_author_names: bool = False
    mapping: dict[str, str] = field(default_factory=dict)
    batch_size: int = BATCH_SIZE

    def __post_init__(self) -> None:
        if self.format in ("", "auto"):
            self.format = None
        if self.format is not None and self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}; choose one of: auto, {', '.join(FORMATS)}")


@dataclass
class ImportSummary:
    """What the import did, as the CLI prints it and the dock shows it."""

    run_id: int | None = None
    status: str = "running"
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


class RecordStream:
    """Iterates over every record of every input; `fraction()` says how far it got."""

    def __init__(self, paths: Iterable[str | Path], options: ImportOptions) -> None:
        self.paths = [Path(p) for p in paths]
        self.options = options
        self.files: list[dict[str, str]] = []
        self.files_skipped: list[dict[str, str]] = []
        self._index = 0
        self._handle: Source | PhotoFolder | None = None
        self.current_root = Path.cwd()

    def fraction(self) -> float:
        if not self.paths:
            return 1.0
        inner = self._handle.fraction() if self._handle is not None else 0.0
        return min(1.0, (self._index + inner) / len(self.paths))

    def media_root(self, path: Path) -> Path:
        if self.options.media_root:
            return Path(self.options.media_root).expanduser().resolve()
        path = path.resolve()
        return path if path.is_dir() else path.parent

    def __iter__(self) -> Iterator[PostRecord | Skip | Note | FileSkip]:
        for index, path in enumerate(self.paths):
            self._index = index
            try:
                fmt = self.options.format or detect_format(path)
                self._handle, reader = self._open(path, fmt)
            except NotAPostCollection as exc:
                self.files_skipped.append({"path": str(path), "reason": str(exc)})
                yield FileSkip(str(path), str(exc))
                continue
            except OSError as exc:
                reason = f"cannot read {path.name}: {exc.strerror or exc}"
                self.files_skipped.append({"path": str(path), "reason": reason})
                yield FileSkip(str(path), reason)
                continue
            # photo paths are relative to the folder being imported, whatever the media root says
            self.current_root = self._handle.root if fmt == "photos" and path.is_dir() else self.media_root(path)
            self.files.append({"path": str(path), "format": fmt, "media_root": str(self.current_root)})
            try:
                yield from reader
            except NotAPostCollection as exc:
                self.files.pop()
                self.files_skipped.append({"path": str(path), "reason": str(exc)})
                yield FileSkip(str(path), str(exc))
            finally:
                self._handle.close()
                self._handle = None
        self._index = len(self.paths)

    def _open(self, path: Path, fmt: str) -> tuple[Source | PhotoFolder, Iterator]:
        if fmt == "photos":
            folder = PhotoFolder(path)
            return folder, read_photos(folder)
        if path.is_dir():
            raise NotAPostCollection(f"{path.name} is a folder; only the photos format reads folders")
        info = sniff(path)
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            require_text(info)
        src = Source(path, info)
        mapping = self.options.mapping
        forced = self.options.format is not None
        readers: dict[str, Callable[[], Iterator]] = {
            "twitter_v1": lambda: read_tweets(src, "v1" if forced else "any"),
            "twitter_v2": lambda: read_tweets(src, "v2" if forced else "any"),
            "weibo": lambda: read_weibo(src, mapping),
            "crisismmd": lambda: read_crisismmd(src),
            "csv": lambda: read_csv(src, mapping),
            "geojson": lambda: read_geojson(src, mapping),
        }
        notes = [Note(str(path), None, n) for n in info.notes]
        return src, _prepend(notes, readers[fmt]())


def _prepend(items: list, rest: Iterator) -> Iterator:
    yield from items
    yield from rest


def iter_records(paths: Iterable[str | Path], options: ImportOptions | None = None) -> RecordStream:
    """The streaming driver: PostRecord, Skip, Note or FileSkip, one at a time, for all inputs."""
    return RecordStream(paths, options or ImportOptions())


def photo_fields(rec: PostRecord, root: Path) -> tuple[str | None, str | None, str | None] | None:
    """(photo, filename, directory) for a post's first local photo, resolved under the media
    root; None if it has none. A path that leaves the root (`../`, absolute) is not linked."""
    if not rec.media or not rec.media[0].path:
        return None
    raw = rec.media[0].path.replace("\\", "/")
    rel = PurePosixPath(raw)
    if rel.is_absolute() or (len(raw) > 1 and raw[1] == ":"):
        return (None, None, None)
    resolved = (root / Path(*rel.parts)).resolve() if rel.parts else root
    if root not in resolved.parents:
        return (None, None, None)
    return str(resolved), resolved.name, str(resolved.parent)


class Cancelled(Exception):
    pass


def import_posts(
    store, paths: Iterable[str | Path], options: ImportOptions | None = None,
    progress: Callable[[float], None] | None = None, is_canceled: Callable[[], bool] | None = None,
) -> ImportSummary:
    """Import every input into `store` in one run and return the summary.

    `progress(fraction)` and `is_canceled()` are polled every few hundred records (a QgsTask
    passes its own). Raises NotAPostCollection, after recording a failed run, when no input is a
    post collection at all.
    """
    from ..store.post_import import restore_tuning, tune_for_bulk

    job = _ImportJob(store, [Path(p) for p in paths], options or ImportOptions())
    tuning = tune_for_bulk(store)
    try:
        return job.run(progress, is_canceled)
    finally:
        restore_tuning(store, tuning)


class _ImportJob:
    """One import run: read records, write them in batches, account for every one.

    (A writer thread was measured and dropped: SQLite's per-row GIL hand-over in executemany cost
    as much as the overlap gained.)"""

    def __init__(self, store, paths: list[Path], options: ImportOptions) -> None:
        self.store = store
        self.options = options
        self.stream = iter_records(paths, options)
        self.summary = ImportSummary()
        params = {"paths": [str(p) for p in paths],
                  **{k: v for k, v in asdict(options).items() if k != "batch_size"}}
        self.run_id = store.start_run(STAGE, params)
        self.summary.run_id = self.run_id
        self.written = {"imported": 0, "unlocated": 0, "duplicates": 0}

    def write(self, records: list[PostRecord], found: list, photo_rows: list) -> None:
        """One batch, its photo fields and its issues in one transaction."""
        from ..store.post_import import add_post_batch, set_photo_fields

        store = self.store
        with store.batch() as conn:
            if records:
                imported, unlocated, duplicates = add_post_batch(
                    store, conn, records, self.run_id, self.options.keep_author_names)
                self.written["imported"] += imported
                self.written["unlocated"] += unlocated
                self.written["duplicates"] += duplicates
            if photo_rows:
                set_photo_fields(conn, self.run_id, photo_rows)
            if found:
                store.record_issues(conn, self.run_id, STAGE, found)

    def run(self, progress, is_canceled) -> ImportSummary:
        summary, stream, store = self.summary, self.stream, self.store
        started = time.perf_counter()
        size = max(1, self.options.batch_size)
        batch: list[PostRecord] = []
        issues: list[tuple[str | None, int | None, str]] = []
        photos: list[tuple] = []
        status = "done"
        countdown = 1  # a task cancelled before it started stops at the first record
        try:
            try:
                for item in stream:
                    kind = type(item)
                    if kind is PostRecord:
                        summary.records_read += 1
                        if item.is_repost:
                            summary.reposts += 1
                        batch.append(item)
                        if item.media and item.media[0].path:
                            self._photo(item, photos, issues)
                        if len(batch) >= size:
                            self.write(batch, issues, photos)
                            batch, issues, photos = [], [], []
                    elif kind is Skip:
                        summary.records_read += 1
                        summary.skipped += 1
                        issues.append((item.source, item.line, item.reason))
                        _keep_issue(summary, item, "skipped")
                    elif kind is Note:
                        self._note(item, issues)
                    else:  # FileSkip
                        issues.append((item.source, None, "file skipped: " + item.reason))
                        _keep_issue(summary, Skip(item.source, None, item.reason), "file skipped")
                    countdown -= 1
                    if countdown <= 0:
                        countdown = CHECK_EVERY
                        if is_canceled is not None and is_canceled():
                            raise Cancelled
                        if progress is not None:
                            progress(stream.fraction())
            except Cancelled:
                status = "cancelled"  # what was read so far is still written: the counts stay exact
            if batch or issues:
                self.write(batch, issues, photos)
        except BaseException as exc:
            self._finish("failed", started, f"{type(exc).__name__}: {exc}")
            raise
        if not stream.files and stream.files_skipped:
            reasons = "; ".join(f["reason"] for f in stream.files_skipped)
            self._finish("failed", started, reasons)
            raise NotAPostCollection(reasons)
        store.refresh_extents()
        self._finish(status, started, None)
        if progress is not None:
            progress(1.0 if status == "done" else stream.fraction())
        return summary

    def _photo(self, rec: PostRecord, photos: list, issues: list) -> None:
        fields = photo_fields(rec, self.stream.current_root)
        if fields is None:
            return
        photos.append((*fields, rec.platform, rec.post_id))
        if fields[0] is None:
            self._note(Note(rec.source_file or "", rec.source_line,
                            f"photo path {rec.media[0].path[:80]!r} leaves the media folder; not linked"), issues)

    def _note(self, note: Note, issues: list) -> None:
        self.summary.notes += 1
        issues.append((note.source, note.line, "note: " + note.reason))
        _keep_issue(self.summary, note, "note")

    def _finish(self, status: str, started: float, message: str | None) -> None:
        s = self.summary
        s.imported, s.unlocated, s.duplicates = (self.written[k] for k in ("imported", "unlocated", "duplicates"))
        s.files, s.files_skipped = self.stream.files, self.stream.files_skipped
        s.seconds = round(time.perf_counter() - started, 3)
        s.status = status
        s.message = message if message is not None else _message(s)
        self.store.finish_run(self.run_id, status, s.counts(), s.message)


def _keep_issue(summary: ImportSummary, item: Skip | Note, kind: str) -> None:
    if len(summary.issues) < REPORT_ISSUES:
        summary.issues.append({"kind": kind, "source": item.source, "line": item.line, "reason": item.reason})


def _message(s: ImportSummary) -> str:
    text = (f"{s.records_read} records read: {s.imported} imported, {s.unlocated} unlocated, "
            f"{s.duplicates} duplicates, {s.skipped} skipped")
    if s.files_skipped:
        text += f"; {len(s.files_skipped)} file(s) not imported"
    if s.status == "cancelled":
        text += "; cancelled (import again to complete)"
    return text

