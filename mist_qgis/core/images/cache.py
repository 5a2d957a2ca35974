"""The content-addressed photo cache of a store, and its thumbnails.

A file is named by the sha256 of its bytes (`ab/abcdef....jpg` under `store.media_dir`), so the
same photo posted a hundred times is one file, a half-written file never has a valid name
(writes go to a temporary name and are renamed), and any stage can check a file against its
name. Thumbnails (`thumbs/<sha256>.jpg`, longest side 256 px, no EXIF) are made once per photo.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

THUMB_SIZE = 256
THUMB_DIR = "thumbs"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CachedFile:
    sha256: str
    cache_path: str  # relative to the media folder, POSIX separators: what `media.cache_path` holds
    path: Path
    bytes: int
    created: bool  # False when the same content was already cached


class MediaCache:
    """Files under `media_dir`, written atomically and never twice."""

    def __init__(self, media_dir: Path) -> None:
        self.media_dir = Path(media_dir)

    def relative_path(self, sha256: str, extension: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        if not extension.startswith(".") or "/" in extension or "\\" in extension or len(extension) > 6:
            raise ValueError(f"bad extension {extension!r}")
        return f"{sha256[:2]}/{sha256}{extension.lower()}"

    def put(self, data: bytes, extension: str, sha256: str | None = None) -> CachedFile:
        """Store `data` under its hash; return the existing file when the content is known."""
        digest = sha256 or sha256_hex(data)
        rel = self.relative_path(digest, extension)
        target = self.media_dir / rel
        if target.is_file() and target.stat().st_size == len(data):
            return CachedFile(digest, rel, target, len(data), created=False)
        _atomic_write(target, data)
        return CachedFile(digest, rel, target, len(data), created=True)

    def put_file(self, source: Path, extension: str, sha256: str) -> CachedFile:
        """Move a file already on disk (a video streamed to a temporary file) into the cache."""
        rel = self.relative_path(sha256, extension)
        target = self.media_dir / rel
        size = source.stat().st_size
        if target.is_file() and target.stat().st_size == size:
            source.unlink(missing_ok=True)
            return CachedFile(sha256, rel, target, size, created=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        return CachedFile(sha256, rel, target, size, created=True)

    def temp_file(self, suffix: str = "") -> Path:
        """A temporary file on the cache's own file system (so `put_file` is a rename)."""
        tmp_dir = self.media_dir / ".tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir, suffix=suffix)
        os.close(fd)
        return Path(name)

    def thumbnail_path(self, sha256: str) -> Path:
        self.relative_path(sha256, ".jpg")  # validates the digest
        return self.media_dir / THUMB_DIR / f"{sha256}.jpg"

    def ensure_thumbnail(self, sha256: str, image: Any) -> Path:
        """Write the 256 px JPEG thumbnail of an upright RGB image unless it exists already."""
        path = self.thumbnail_path(sha256)
        if not path.is_file():
            self.save_thumbnail(sha256, make_thumbnail(image))
        return path

    def save_thumbnail(self, sha256: str, thumbnail: Any) -> Path:
        """Write a thumbnail from `make_thumbnail` unless this photo has one already."""
        path = self.thumbnail_path(sha256)
        if not path.is_file():
            _atomic_write(path, _encode_jpeg(thumbnail, quality=85))
        return path


def make_thumbnail(image: Any, in_place: bool = False) -> Any:
    """Longest side 256 px, RGB, re-made from pixels only: no EXIF (GPS!), ICC or comments.

    `in_place` shrinks `image` itself (an RGB image the caller no longer needs at full size)
    instead of copying it first: one full-size copy less at the peak of every decode."""
    from PIL import Image

    if image.mode != "RGB":
        thumb = image.convert("RGB")
    else:
        thumb = image if in_place else image.copy()
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
    return Image.frombytes("RGB", thumb.size, thumb.tobytes())


def _encode_jpeg(image: Any, quality: int) -> bytes:
    import io

    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def encode_jpeg(image: Any, quality: int = 92) -> bytes:
    """JPEG bytes of an RGB image with no metadata (used for video frames)."""
    return _encode_jpeg(image, quality)


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
