"""One item of the media stage: get the bytes of one media row (from the web or a local
folder), vet them and put them in the cache. Thread-safe; used by the worker pool in
`pipeline.py`. Returns a `MediaResult` (ok, failed, skipped) or `Deferred` (stays pending)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..stage import MediaStatus
from ..store.media import MediaResult, MediaTask
from ..store.store import utc_now
from .cache import MediaCache, make_thumbnail
from .dedup import perceptual_hash
from .fetcher import FetchError, HttpFetcher
from .paths import MediaFileMissing, OfflineFolder, PathRefused, resolve_media_path
from .safe_decode import DEFAULT_LIMITS, DecodeError, ImageLimits, decode_image
from .urlguard import UrlRefused
from .video import probe_video, sniff_video


@dataclass(frozen=True)
class Deferred:
    """The row stays pending: the user cancelled, the run's byte budget ran out, or the file
    can only be found later (offline, no local copy yet). `reason` is noted on the row."""

    fid: int
    reason: str | None = None


@dataclass(frozen=True)
class Source:
    data: bytes
    origin: str  # URL or local path, for messages
    content_type: str | None = None  # what the server claimed (never trusted)


class Acquirer:
    """Turns a `MediaTask` into a result. `fetcher` is None offline: then nothing here can reach
    the network, whatever the row says."""

    def __init__(
        self, cache: MediaCache, fetcher: HttpFetcher | None, local_root: Path | None,
        max_bytes: int, image_limits: ImageLimits = DEFAULT_LIMITS,
    ) -> None:
        self.cache = cache
        self.fetcher = fetcher
        self.local_root = Path(local_root) if local_root else None
        self.folder = OfflineFolder(self.local_root) if self.local_root else None
        self.max_bytes = max_bytes
        self.image_limits = ImageLimits(image_limits.max_pixels, max_bytes)

    @property
    def offline(self) -> bool:
        return self.fetcher is None

    def acquire(self, task: MediaTask, is_cancelled: Callable[[], bool]) -> MediaResult | Deferred:
        source = self._source(task, is_cancelled)
        if not isinstance(source, Source):
            return source
        return self.vet(task.fid, task.kind, source, is_cancelled)

    # -- finding the bytes ------------------------------------------------------------------

    def _source(self, task: MediaTask, is_cancelled: Callable[[], bool]) -> Source | MediaResult | Deferred:
        refusal: str | None = None
        if self.folder is not None:
            local = self._local(task)
            if isinstance(local, Path):
                return self._read_local(local)
            refusal = local
        elif task.source_path and not task.url:
            return Deferred(task.fid, "local path but no media folder given")
        if self.offline:
            if refusal and refusal.startswith("refused:"):
                return MediaResult(task.fid, MediaStatus.SKIPPED, error=refusal)
            return Deferred(task.fid, f"offline: {refusal or 'no local file found'}")
        if task.url:
            try:
                download = self.fetcher.fetch(task.url, is_cancelled)
            except UrlRefused as exc:
                return MediaResult(task.fid, MediaStatus.SKIPPED, error=f"refused: {exc}")
            except FetchError as exc:
                return MediaResult(task.fid, MediaStatus.FAILED, error=str(exc), transient=exc.transient)
            return Source(download.data, download.final_url, download.content_type)
        if refusal and refusal.startswith("refused:"):
            return MediaResult(task.fid, MediaStatus.SKIPPED, error=refusal)
        if task.source_path:
            return MediaResult(task.fid, MediaStatus.FAILED, error=refusal or "file not found")
        return MediaResult(task.fid, MediaStatus.SKIPPED, error="the post gives no URL or path for this media")

    def _local(self, task: MediaTask) -> Path | str:
        """The local file for a row, trying its path, the mapping column, the file name (from
        the path or URL) and the post id; a string says why none was found."""
        folder = self.folder
        refused: str | None = None
        attempts = []
        for label, lookup in (
            ("path", (lambda: resolve_media_path(folder.root, task.source_path)) if task.source_path else None),
            ("mapping", (lambda: _by_path_or_name(folder, task.mapped)) if task.mapped else None),
            ("name", (lambda: folder.by_name(_file_name(task), _name_hint(task))) if _file_name(task) else None),
            ("post id", lambda: folder.by_post_id(task.post_id, task.position)),
        ):
            if lookup is None:
                continue
            try:
                return lookup()
            except PathRefused as exc:
                refused = refused or f"refused: {exc}"
            except MediaFileMissing:
                attempts.append(label)
        return refused or f"no local file (tried {', '.join(attempts)})"

    def _read_local(self, path: Path) -> Source | MediaResult:
        size = path.stat().st_size
        if size > self.max_bytes:
            return MediaResult(0, MediaStatus.FAILED,
                               error=f"file is {size} bytes, more than the limit of {self.max_bytes}")
        return Source(path.read_bytes(), str(path))

    # -- vetting ----------------------------------------------------------------------------

    def vet(self, fid: int, kind: str, source: Source | MediaResult,
            is_cancelled: Callable[[], bool] | None = None) -> MediaResult:
        """Decode, cache, thumbnail and hash; a file that does not decode is failed with why.

        The full-size image is held (and counted against the process's decode budget) only
        until the cached copy and the thumbnail are made."""
        if isinstance(source, MediaResult):
            source.fid = fid
            return source
        data = source.data
        video = sniff_video(data)
        if video is not None:
            return self._vet_video(fid, data, video)
        try:
            decoded = decode_image(data, self.image_limits, is_cancelled=is_cancelled)
        except DecodeError as exc:
            claim = f" (server said {source.content_type})" if source.content_type else ""
            return MediaResult(fid, MediaStatus.FAILED, error=f"{exc}{claim}")
        with decoded:
            width, height = decoded.width, decoded.height
            cached = self.cache.put(decoded.cache_bytes(data), decoded.extension)
            thumb = make_thumbnail(decoded.image, in_place=True)  # the full-size image is done with
        self.cache.save_thumbnail(cached.sha256, thumb)
        return MediaResult(
            fid, MediaStatus.OK, None, cached.sha256, cached.cache_path, width, height, len(data),
            decoded.content_type, utc_now(), perceptual_hash(thumb), decoded.exif.to_json(),
        )

    def _vet_video(self, fid: int, data: bytes, video: tuple[str, str]) -> MediaResult:
        content_type, extension = video
        cached = self.cache.put(data, extension)
        try:
            info = probe_video(cached.path, self.image_limits)
        except DecodeError as exc:
            if cached.created:
                cached.path.unlink(missing_ok=True)
            return MediaResult(fid, MediaStatus.FAILED, error=str(exc))
        return MediaResult(fid, MediaStatus.OK, None, cached.sha256, cached.cache_path, info.width, info.height,
                           len(data), content_type, utc_now())


def _file_name(task: MediaTask) -> str | None:
    """The base name a field team's folder would use: from the export path, else from the URL."""
    if task.source_path:
        name = task.source_path.replace("\\", "/").rsplit("/", 1)[-1]
        if name:
            return name
    if task.url:
        from urllib.parse import unquote, urlsplit

        try:
            path = urlsplit(task.url).path
        except ValueError:
            return None
        name = unquote(path).rsplit("/", 1)[-1]
        return name or None
    return None


def _name_hint(task: MediaTask) -> str | None:
    """Where the post says its file was: the export path, else the URL's path (which tells two
    `IMG_0001.jpg` apart by their folders)."""
    if task.source_path:
        return task.source_path
    if task.url:
        from urllib.parse import unquote, urlsplit

        try:
            return unquote(urlsplit(task.url).path)
        except ValueError:
            return None
    return None


def _by_path_or_name(folder: OfflineFolder, value: str) -> Path:
    """A mapping value is a path relative to the folder or, failing that (an absolute path from
    the machine that made the export), a file name looked up inside the folder."""
    try:
        return folder.by_path(value)
    except (MediaFileMissing, PathRefused):
        return folder.by_name(value, value)
