"""The reading half of an import: records grouped into batches of post rows, issues and counts.

A batch is plain data, so it can come from this process (`BatchReader`) or from a reader process
(`reader_process.ProcessReader`) while this one writes. Every record read is counted in exactly
one batch: as a post row or as a skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any

from ..store.post_rows import post_row
from .issues import FileSkip, Note, Skip, skip_reason
from .record import PostRecord
from .stream import ImportOptions, iter_records

CHECK_EVERY = 500
REPORT_ISSUES = 50

Poll = Callable[[float], bool]
"""Called with the fraction read so far; returning True stops reading (cancel)."""


@dataclass
class ReadBatch:
    rows: list[tuple] = field(default_factory=list)
    issues: list[tuple[str | None, int | None, str]] = field(default_factory=list)  # for the store's report
    photos: list[tuple] = field(default_factory=list)  # (photo, filename, directory, platform, post_id)
    kept: list[dict[str, Any]] = field(default_factory=list)  # the summary's first REPORT_ISSUES issues
    records_read: int = 0
    skipped: int = 0
    reposts: int = 0
    notes: int = 0
    fraction: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.records_read or self.issues)

    def as_tuple(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))  # shallow, unlike astuple

    @classmethod
    def from_tuple(cls, values: tuple) -> ReadBatch:
        return cls(*values)


class BatchReader:
    """Reads the inputs in this process."""

    def __init__(self, paths: Iterable[str | Path], options: ImportOptions) -> None:
        self.stream = iter_records(paths, options)
        self.batch_size = max(1, options.batch_size)
        self.cancelled = False
        self._kept = 0

    @property
    def files(self) -> list[dict[str, str]]:
        return self.stream.files

    @property
    def files_skipped(self) -> list[dict[str, str]]:
        return self.stream.files_skipped

    def close(self) -> None:
        pass

    def batches(self, poll: Poll | None = None) -> Iterator[ReadBatch]:
        """Full batches, then the rest. `poll` runs every CHECK_EVERY records (and at the first);
        when it says stop, what was read so far still comes out, so the counts stay exact."""
        stream = self.stream
        size = self.batch_size
        batch = ReadBatch()
        countdown = 1
        items = iter(stream)
        try:
            for item in items:
                if self.add(batch, item) and len(batch.rows) >= size:
                    batch.fraction = stream.fraction()
                    yield batch
                    batch = ReadBatch()
                countdown -= 1
                if countdown <= 0:
                    countdown = CHECK_EVERY
                    if poll is not None and poll(stream.fraction()):
                        self.cancelled = True
                        break
        finally:
            items.close()
        if batch:
            batch.fraction = stream.fraction()
            yield batch

    def add(self, batch: ReadBatch, item: PostRecord | Skip | Note | FileSkip) -> bool:
        """Account for one item of the stream in `batch`; True if it became a post row."""
        kind = type(item)
        if kind is PostRecord:
            try:
                row = post_row(item)
            except Exception as exc:  # noqa: BLE001 (the per-record guard, for the row too)
                item = Skip(item.source_file or "", item.source_line, skip_reason(exc))
                kind = Skip
        if kind is PostRecord:
            batch.records_read += 1
            if item.is_repost:
                batch.reposts += 1
            batch.rows.append(row)
            if item.media and item.media[0].path:
                self._photo(item, batch)
            return True
        if kind is Skip:
            batch.records_read += 1
            batch.skipped += 1
            batch.issues.append((item.source, item.line, item.reason))
            self._keep(batch, item, "skipped")
        elif kind is Note:
            self._note(batch, item)
        else:  # FileSkip
            batch.issues.append((item.source, None, "file skipped: " + item.reason))
            self._keep(batch, Skip(item.source, None, item.reason), "file skipped")
        return False

    def _photo(self, rec: PostRecord, batch: ReadBatch) -> None:
        fields = photo_fields(rec, self.stream.current_root)
        if fields is None:
            return
        batch.photos.append((*fields, rec.platform, rec.post_id))
        if fields[0] is None:
            path = rec.media[0].path
            why = "contains a NUL byte" if "\x00" in path else "leaves the media folder"
            self._note(batch, Note(rec.source_file or "", rec.source_line,
                                   f"photo path {path[:80]!r} {why}; not linked"))

    def _note(self, batch: ReadBatch, note: Note) -> None:
        batch.notes += 1
        batch.issues.append((note.source, note.line, "note: " + note.reason))
        self._keep(batch, note, "note")

    def _keep(self, batch: ReadBatch, item: Skip | Note, kind: str) -> None:
        if self._kept < REPORT_ISSUES:
            self._kept += 1
            batch.kept.append({"kind": kind, "source": item.source, "line": item.line, "reason": item.reason})


def collect(items: Iterable[PostRecord | Skip | Note | FileSkip], media_root: Path,
            options: ImportOptions | None = None) -> ReadBatch:
    """One batch of items read elsewhere (a tailed file, a polled feed), counted as an import
    counts them; photo paths resolve under `media_root`."""
    reader = BatchReader([], options or ImportOptions())
    reader.stream.current_root = media_root
    batch = ReadBatch()
    for item in items:
        reader.add(batch, item)
    batch.fraction = 1.0
    return batch


def photo_fields(rec: PostRecord, root: Path) -> tuple[str | None, str | None, str | None] | None:
    """(photo, filename, directory) for a post's first local photo, resolved under the media
    root; None if it has none. A path that leaves the root (`../`, absolute) is not linked."""
    if not rec.media or not rec.media[0].path:
        return None
    raw = rec.media[0].path.replace("\\", "/")
    if "\x00" in raw:  # no file system path holds one; resolving it would raise
        return (None, None, None)
    rel = PurePosixPath(raw)
    if rel.is_absolute() or (len(raw) > 1 and raw[1] == ":"):
        return (None, None, None)
    resolved = (root / Path(*rel.parts)).resolve() if rel.parts else root
    if root not in resolved.parents:
        return (None, None, None)
    return str(resolved), resolved.name, str(resolved.parent)
