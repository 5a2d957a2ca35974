"""The streaming driver: every record of every input, one at a time.

`iter_records` detects each input's format (unless given), opens the reader and yields
PostRecords, Skips (file, line, reason), Notes and FileSkips one at a time, so memory does not grow
with the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path

from .columns import Reading
from .crisismmd import read_crisismmd
from .detect import FORMATS, detect_format
from .generic_csv import read_csv
from .geojson import read_geojson
from .issues import FileSkip, NotAPostCollection, Note, Records, Skip
from .photos import PhotoFolder, read_photos
from .record import PostRecord
from .tables import XLSX_SUFFIXES
from .textio import Source, require_text, sniff
from .tweets import read_tweets
from .weibo import read_weibo

BATCH_SIZE = 5000


@dataclass
class ImportOptions:
    """What the user chose; plain data, so it crosses to a worker thread or the reader process."""

    format: str | None = None
    media_root: str | None = None
    keep_author_names: bool = False
    mapping: dict[str, str] = field(default_factory=dict)
    crs: str | None = None  # of x/y columns in tables (and legacy GeoJSON); None: WGS 84 lon/lat
    naive_tz: str | None = None  # zone of times without one; None: UTC (China time for Weibo)
    batch_size: int = BATCH_SIZE
    # read in a second process while this one writes: None decides by input size, False never
    parallel: bool | None = None

    def __post_init__(self) -> None:
        if self.format in ("", "auto"):
            self.format = None
        if self.format is not None and self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}; choose one of: auto, {', '.join(FORMATS)}")
        self.reading()  # a CRS or time zone that does not exist is refused before anything is read

    def reading(self) -> Reading:
        return Reading(self.crs, self.naive_tz)


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

    def _open(self, path: Path, fmt: str) -> tuple[Source | PhotoFolder, Records]:
        """The input's handle and its records. Every reader hands out `Records`, so each record
        is parsed under the one per-record guard (`issues.Records`)."""
        if fmt == "photos":
            folder = PhotoFolder(path)
            return folder, _checked(read_photos(folder, self.options.reading()))
        if path.is_dir():
            raise NotAPostCollection(f"{path.name} is a folder; only the photos format reads folders")
        info = sniff(path)
        if path.suffix.lower() not in XLSX_SUFFIXES:
            require_text(info)
        src = Source(path, info)
        mapping = self.options.mapping
        reading = self.options.reading()
        forced = self.options.format is not None
        readers: dict[str, Callable[[], Records]] = {
            "twitter_v1": lambda: read_tweets(src, "v1" if forced else "any"),
            "twitter_v2": lambda: read_tweets(src, "v2" if forced else "any"),
            "weibo": lambda: read_weibo(src, mapping, reading),
            "crisismmd": lambda: read_crisismmd(src),
            "csv": lambda: read_csv(src, mapping, reading),
            "geojson": lambda: read_geojson(src, mapping, reading),
        }
        try:
            records = _checked(readers[fmt]())
        except BaseException:
            src.close()
            raise
        notes = [Note(str(path), None, n) for n in info.notes]
        return src, replace(records, items=chain(notes, records.items)) if notes else records


def _checked(records: Records) -> Records:
    if not isinstance(records, Records):  # a reader that bypasses the guard is a bug, found at once
        raise TypeError(f"a post reader must return issues.Records, not {type(records).__name__}")
    return records


def iter_records(paths: Iterable[str | Path], options: ImportOptions | None = None) -> RecordStream:
    """The streaming driver: PostRecord, Skip, Note or FileSkip, one at a time, for all inputs."""
    return RecordStream(paths, options or ImportOptions())


