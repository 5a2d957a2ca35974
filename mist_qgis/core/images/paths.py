"""Local media paths from posts, and finding photos in a field team's folder.

An export's `source_path` is text a stranger wrote: `../../.ssh/id_rsa`, `/etc/passwd`,
`C:\\Windows\\...` or a harmless-looking name that is a symlink pointing out of the folder. A path
is only used once it resolves, symlinks followed, to a regular file inside the media root.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MistError

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".3gp", ".mpg", ".mpeg"})
MEDIA_SUFFIXES = PHOTO_SUFFIXES | VIDEO_SUFFIXES

_DRIVE = re.compile(r"^[A-Za-z]:")


class PathRefused(MistError, ValueError):
    """The path would leave the media root (or is not a path at all); never opened."""


class MediaFileMissing(MistError, FileNotFoundError):
    """The path is acceptable but nothing is there."""


def resolve_media_path(root: Path, untrusted: str) -> Path:
    """The real file `untrusted` names under `root`, or raise `PathRefused` / `MediaFileMissing`.

    Refused before touching the disk: absolute paths (POSIX, drive letters, UNC), any `..`
    component, NUL bytes. After resolving symlinks, the file must still lie inside `root`.
    """
    if not isinstance(untrusted, str) or not untrusted.strip():
        raise PathRefused("empty path")
    if "\x00" in untrusted:
        raise PathRefused("path contains a NUL byte")
    text = untrusted.strip().replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        raise PathRefused(f"absolute path {untrusted!r} is not allowed; paths are relative to the media folder")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise PathRefused(f"path {untrusted!r} climbs out of the media folder ('..')")
    if not parts:
        raise PathRefused(f"path {untrusted!r} names no file")
    real_root = Path(root).resolve()
    candidate = real_root.joinpath(*parts)
    try:
        resolved = candidate.resolve(strict=True)
    except FileNotFoundError as exc:
        raise MediaFileMissing(f"no file {untrusted!r} in the media folder") from exc
    except (OSError, RuntimeError) as exc:  # symlink loops and the like
        raise PathRefused(f"path {untrusted!r} cannot be resolved: {exc}") from exc
    if resolved == real_root or not resolved.is_relative_to(real_root):
        raise PathRefused(f"path {untrusted!r} leads outside the media folder (symlink)")
    if not resolved.is_file():
        raise PathRefused(f"path {untrusted!r} is not a regular file")
    return resolved


def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name.lower())]


@dataclass
class OfflineFolder:
    """A folder of photos brought on a drive, indexed once by file name and by stem.

    Lookups never build paths from post text: they only pick among files found by walking the
    folder, and every pick is re-checked with `resolve_media_path`.
    """

    root: Path
    _by_name: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False)
    _stems: list[tuple[str, str]] = field(default_factory=list, init=False, repr=False)
    _indexed: bool = field(default=False, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _index(self) -> None:
        with self._lock:  # fetch workers look up concurrently; index once, not once per thread
            if not self._indexed:
                self._build_index()

    def _build_index(self) -> None:
        root = Path(self.root)
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            rel_dir = Path(dirpath).relative_to(root)
            for name in sorted(filenames):
                if Path(name).suffix.lower() not in MEDIA_SUFFIXES:
                    continue
                rel = (rel_dir / name).as_posix()
                self._by_name.setdefault(name.lower(), []).append(rel)
                self._stems.append((Path(name).stem.lower(), rel))
        for paths in self._by_name.values():
            paths.sort(key=lambda p: (p.count("/"), p))
        self._indexed = True

    def by_path(self, untrusted: str) -> Path:
        return resolve_media_path(self.root, untrusted)

    def by_name(self, name: str) -> Path:
        """A file with this base name anywhere in the folder (the shallowest wins)."""
        self._index()
        base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
        hits = self._by_name.get(base.lower())
        if not hits:
            raise MediaFileMissing(f"no file named {base!r} in {self.root}")
        return resolve_media_path(self.root, hits[0])

    def by_post_id(self, post_id: str, position: int) -> Path:
        """The `position`-th file (natural order) named `<post_id>.*`, `<post_id>_N.*` or
        `<post_id>-N.*`, so both 0- and 1-based numbering of a post's photos work."""
        self._index()
        key = str(post_id).strip().lower()
        if not key:
            raise MediaFileMissing("post has no id")
        hits = sorted(
            (rel for stem, rel in self._stems
             if stem == key or (stem.startswith(key) and stem[len(key):len(key) + 1] in ("_", "-")
                                and stem[len(key) + 1:].isdigit())),
            key=lambda rel: _natural_key(Path(rel).stem),
        )
        if position >= len(hits):
            raise MediaFileMissing(f"no file for post {post_id} photo {position + 1} in {self.root}")
        return resolve_media_path(self.root, hits[position])
