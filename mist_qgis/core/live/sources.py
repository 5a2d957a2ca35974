"""Sources a live watch reads: a growing JSON-lines file, a drop folder, a polled HTTP(S) feed.

Each `poll(cursor)` reads what arrived since `cursor` (plain JSON data kept in the store) and
returns the items (PostRecord, Skip, Note, FileSkip, as the batch importer reads them) together
with the cursor after them; nothing is consumed until the watcher commits that cursor with the
posts. A source keeps no position of its own, so a restart from the stored cursor goes on exactly
where the last committed batch stopped.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MistError
from ..images.fetcher import FetchError, FetchLimits, HttpFetcher
from ..images.urlguard import UrlPolicy, UrlRefused
from ..posts.issues import FileSkip, Note, Skip
from ..posts.photos import PHOTO_SUFFIXES
from ..posts.stream import ImportOptions, iter_records
from ..posts.textio import OVERLONG, json_lines
from ..posts.tweets import tweets_from_values

LIVE_MAX_LINE_BYTES = 1 << 20  # a tweet is a few KiB; a longer line is skipped unread
MAX_BATCH_LINES = 2000
MAX_BATCH_BYTES = 16 << 20
FEED_MAX_BYTES = 32 << 20
FEED_MAX_BACKOFF_S = 300.0


class LiveSourceError(MistError):
    """A source that cannot be watched (not a file, folder or http(s) URL)."""


@dataclass
class Pending:
    """What one poll read: the items, the cursor after them, and where photo paths resolve."""

    items: list[Any]
    cursor: dict[str, Any]
    media_root: Path
    lines: int = 0


@dataclass
class SourceState:
    """What the dock shows for a source."""

    key: str
    kind: str
    state: str = "waiting"
    failures: int = 0
    last_error: str | None = None
    polled_at: float | None = None  # epoch seconds of the last poll
    next_poll_at: float | None = None  # epoch seconds; a feed backing off says when it tries again


class LiveSource:
    kind = "source"

    def __init__(self, key: str) -> None:
        self.key = key
        self.status = SourceState(key, self.kind)

    def poll(self, cursor: dict[str, Any] | None) -> Pending | None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


# -- a growing JSON-lines file ---------------------------------------------------------------------

class _Lines:
    """The duck type `json_lines` reads: complete lines already cut from the file."""

    line_encoding = "utf-8"

    def __init__(self, name: str, lines: list[bytes]) -> None:
        self.name = name
        self.lines = lines

    def byte_lines(self, limit: int | None = None) -> Iterator[bytes]:
        yield from self.lines


class JsonLinesFile(LiveSource):
    """A file a collector appends tweets to, one JSON value per line (v1.1 and v2 mixed).

    Only complete lines (ending in a newline) are consumed: a line written in two steps is read
    once it is whole. The cursor holds the file's inode, the byte offset and the line number.
    Rotation (the file renamed, a new one started) is seen as a new inode: the renamed file is
    found by its inode in the same folder and read to its end first. Truncation (same inode,
    smaller than the offset) starts again from the top, with a note."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        super().__init__(str(path.resolve()))
        self.path = path.resolve()

    def poll(self, cursor: dict[str, Any] | None) -> Pending | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            st = None
        notes: list[Any] = []
        if cursor is not None and (st is None or st.st_ino != cursor["inode"]):
            old = _find_inode(self.path.parent, cursor["inode"], cursor.get("dev"))
            if old is not None:
                pending = self._read(old, cursor)
                if pending.lines or pending.cursor != cursor:
                    return pending
                if old.stat().st_size > cursor["offset"] and not cursor.get("skipping"):
                    notes.append(Skip(str(old), cursor["line"] + 1, "incomplete last line of a rotated file"))
            if st is None:
                if notes:  # the old file is done and no new one yet
                    return Pending(notes, {**cursor, "offset": old.stat().st_size} if old else cursor, self.path.parent)
                self.status.state = "waiting for the file"
                return None
            notes.append(Note(self.key, None, "the file was rotated; reading the new file from its start"))
            cursor = None
        if st is None:
            self.status.state = "waiting for the file"
            return None
        if cursor is not None and st.st_size < cursor["offset"]:
            notes.append(Note(self.key, None, f"the file was truncated ({st.st_size} bytes, was read to "
                                               f"{cursor['offset']}); reading again from its start"))
            cursor = None
        if cursor is None:
            cursor = {"inode": st.st_ino, "dev": st.st_dev, "offset": 0, "line": 0, "skipping": False}
        pending = self._read(self.path, cursor)
        pending.items[:0] = notes
        if not pending.items and pending.cursor == cursor:
            self.status.state = f"up to date (line {cursor['line']})"
            return None
        self.status.state = f"reading (line {pending.cursor['line']})"
        return pending

    def _read(self, path: Path, cursor: dict[str, Any]) -> Pending:
        offset, line, skipping = cursor["offset"], cursor["line"], cursor.get("skipping", False)
        lines: list[bytes] = []
        size = 0
        with open(path, "rb") as fh:
            fh.seek(offset)
            while len(lines) < MAX_BATCH_LINES and size < MAX_BATCH_BYTES:
                raw = fh.readline(LIVE_MAX_LINE_BYTES)
                if not raw:
                    break
                if skipping or (len(raw) >= LIVE_MAX_LINE_BYTES and not raw.endswith(b"\n")):
                    skipping = True  # an overlong line: skip to its end without holding it
                    offset += len(raw)
                    if raw.endswith(b"\n"):
                        skipping = False
                        lines.append(OVERLONG)
                    continue
                if not raw.endswith(b"\n"):
                    break  # a partial line: read when its writer has finished it
                offset += len(raw)
                size += len(raw)
                lines.append(raw)
        items = list(tweets_from_values(
            json_lines(_Lines(str(path), lines), line + 1, LIVE_MAX_LINE_BYTES), str(path)))
        new = {**cursor, "offset": offset, "line": line + len(lines), "skipping": skipping}
        return Pending(items, new, path.parent, len(lines))


def _find_inode(folder: Path, inode: int, dev: int | None) -> Path | None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return None
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_ino == inode and (dev is None or st.st_dev == dev) and entry.is_file(follow_symlinks=False):
            return Path(entry.path)
    return None


# -- a drop folder ---------------------------------------------------------------------------------

class DropFolder(LiveSource):
    """A folder partners drop post files (any importable format) and photos into.

    Only regular files count (no links, no hidden files, no subfolders); a file is read once its
    size and modification time have not changed between two polls, so a copy still in progress is
    not read half-way. The cursor lists the files done (name -> [size, mtime_ns]); a file replaced
    by a new version is read again (its posts already in the store count as duplicates)."""

    kind = "folder"

    def __init__(self, path: Path) -> None:
        super().__init__(str(path.resolve()))
        self.path = path.resolve()
        self._last: dict[str, tuple[int, int]] = {}

    def poll(self, cursor: dict[str, Any] | None) -> Pending | None:
        done: dict[str, list[int]] = dict((cursor or {}).get("done", {}))
        seen: dict[str, tuple[int, int]] = {}
        ready: list[tuple[str, tuple[int, int]]] = []
        for entry in sorted(os.scandir(self.path), key=lambda e: e.name):
            if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                continue
            st = entry.stat(follow_symlinks=False)
            sig = (st.st_size, st.st_mtime_ns)
            seen[entry.name] = sig
            if done.get(entry.name) == list(sig):
                continue
            if self._last.get(entry.name) == sig and st.st_size > 0:
                ready.append((entry.name, sig))
        self._last = seen
        waiting = sum(1 for name, sig in seen.items() if done.get(name) != list(sig)) - len(ready)
        self.status.state = f"{len(done)} files read, {waiting} being written"
        if not ready:
            return None
        name, sig = ready[0]  # one file per batch: its posts and its place in `done` commit together
        path = self.path / name
        fmt = "photos" if name.lower().endswith(PHOTO_SUFFIXES) else None
        items = list(iter_records([path], ImportOptions(format=fmt)))
        done[name] = list(sig)
        return Pending(items, {"done": done}, self.path)


# -- an HTTP(S) feed -------------------------------------------------------------------------------

@dataclass
class FeedOptions:
    interval_s: float = 60.0
    policy: UrlPolicy = field(default_factory=UrlPolicy)
    limits: FetchLimits = field(default_factory=lambda: FetchLimits(
        connect_timeout=5.0, read_timeout=15.0, total_timeout=30.0, max_bytes=FEED_MAX_BYTES, retries=0))


class HttpFeed(LiveSource):
    """A JSON or GeoJSON feed polled every `interval_s` through the guarded fetcher (public hosts
    only unless the policy allows more; time- and size-bounded), with If-None-Match /
    If-Modified-Since from the stored cursor. A failure waits twice as long each time (up to
    five minutes) before the next try. Posts seen in an earlier answer count as duplicates."""

    kind = "feed"

    def __init__(self, url: str, options: FeedOptions | None = None) -> None:
        super().__init__(url)
        self.url = url
        self.options = options or FeedOptions()
        self.fetcher = HttpFetcher(self.options.policy, self.options.limits, pool_size=1)
        self.next_poll = 0.0
        self.requested_at: float | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="mist-feed-")

    def close(self) -> None:
        self.fetcher.close()
        self._tmp.cleanup()

    def poll(self, cursor: dict[str, Any] | None) -> Pending | None:
        now = time.monotonic()
        if now < self.next_poll:  # waiting (interval or backoff): the last poll is the last request
            self.status.polled_at = self.requested_at
            return None
        self.requested_at = time.time()
        headers = {}
        if cursor and cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor and cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        try:
            download = self.fetcher.fetch(self.url, headers=headers or None)
        except (FetchError, UrlRefused) as exc:
            self.status.failures += 1
            wait = min(FEED_MAX_BACKOFF_S, self.options.interval_s * 2 ** self.status.failures)
            self.next_poll = now + wait
            self.status.next_poll_at = time.time() + wait
            self.status.last_error = str(exc)
            self.status.state = f"failing ({exc}); next try in {wait:.0f} s"
            return None
        self.status.failures = 0
        self.status.last_error = None
        self.next_poll = now + self.options.interval_s
        self.status.next_poll_at = time.time() + self.options.interval_s
        if download.status == 304:
            self.status.state = "not modified"
            return None
        path = Path(self._tmp.name) / "feed.json"
        path.write_bytes(download.data)
        items = [_renamed(item, str(path), self.url) for item in iter_records([path])]
        self.status.state = f"read {len(download.data)} bytes"
        return Pending(items, {"etag": download.etag, "last_modified": download.last_modified}, path.parent)


def _renamed(item: Any, tmp: str, url: str) -> Any:
    """Issues name the feed, not the temporary copy of its answer."""
    if isinstance(item, (Skip, Note, FileSkip)) and item.source == tmp:
        return dataclasses.replace(item, source=url)
    return item


def open_source(spec: str, feed: FeedOptions | None = None) -> LiveSource:
    """A file, a folder or an http(s) URL, as the user named it."""
    if spec.lower().startswith(("http://", "https://")):
        return HttpFeed(spec, feed)
    path = Path(spec).expanduser()
    if path.is_dir():
        return DropFolder(path)
    if path.is_file() or path.parent.is_dir():
        return JsonLinesFile(path)  # a file that does not exist yet is waited for
    raise LiveSourceError(f"cannot watch {spec}: not a file, a folder or an http(s) URL")
