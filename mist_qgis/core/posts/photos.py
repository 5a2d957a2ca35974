"""A folder of geotagged photos (a field team's own pictures) as posts, with the fields of QGIS's
`native:importphotos` (photo, filename, directory, altitude, direction, timestamp).

Only the header is read, through the safe opener (no pixel decoding; a header declaring a canvas
above the pixel cap is a decompression bomb and an explained skip). The post id is the
SHA-256 of the file, so the same photo imported twice, or copied to another folder, is one post.
Times: DateTimeOriginal with OffsetTimeOriginal when present; else the GPS date/time (UTC); a
camera time with no offset at all is taken in the zone the user names for local times (UTC unless
named), and the report says so once per folder.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, BinaryIO

from ..images.paths import open_regular
from .columns import Reading, RowContext
from .geo import as_float, checked_point, is_null_island
from .issues import NotAPostCollection, Records, SkipRecord
from .record import MediaRef, PostRecord
from .timeparse import Naive, parse_time

PLATFORM = "photo"
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".png", ".webp", ".heic", ".heif", ".avif")
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
DATETIME, DATETIME_ORIGINAL, OFFSET_ORIGINAL, MAKE, MODEL = 0x0132, 0x9003, 0x9011, 0x010F, 0x0110


class PhotoFolder:
    """The photos under a folder (recursively; a symlink that leaves it, or loops, is reported and
    not followed)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.name = str(root)
        self.files = list(_walk(self.root)) if self.root.is_dir() else [self.root]
        self.done = 0

    def fraction(self) -> float:
        return self.done / len(self.files) if self.files else 1.0

    def close(self) -> None:
        pass


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or not name.lower().endswith(PHOTO_SUFFIXES):
                continue
            yield Path(folder) / name  # symlinks are checked when read (`photo_record`)


def has_photos(folder: Path) -> bool:
    return any(True for _ in _walk(folder.resolve()))


def read_photos(folder: PhotoFolder, reading: Reading | None = None) -> Records:
    if not folder.files:
        raise NotAPostCollection(f"{folder.name} holds no photos ({', '.join(PHOTO_SUFFIXES[:4])}, ...)")
    base = folder.root if folder.root.is_dir() else folder.root.parent

    def files() -> Iterator[tuple[None, Path]]:
        for path in folder.files:
            yield None, path
            folder.done += 1

    ctx = Reading(naive_tz=(reading or Reading()).naive_tz).context(PLATFORM)  # EXIF positions are WGS 84
    return Records(folder.name, files(), lambda _, path: ctx.noted(photo_record(path, base, ctx)), where=str)


def _sha256(fh: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _dms(value: Any, ref: Any, name: str) -> float:
    try:
        d, m, s = (as_float(float(v), name) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise SkipRecord(f"EXIF GPS {name} is malformed") from None
    degrees = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -degrees if isinstance(ref, str) and ref.strip().upper() in ("S", "W") else degrees


def read_exif(path: Path | BinaryIO, default_tz: tzinfo = UTC, naive: Naive = None) -> dict[str, Any]:
    """lon, lat, altitude, direction, timestamp and camera from the EXIF header (missing -> absent).
    A camera time without an offset or a GPS time is read in `default_tz` (`naive()` is told)."""
    from ..images.safe_decode import DecodeError, read_header

    try:
        exif = read_header(path).exif
    except DecodeError as exc:  # not an image, a format MIST does not read, a decompression bomb
        raise SkipRecord(str(exc)) from None
    out: dict[str, Any] = {}
    gps = exif.get_ifd(GPS_IFD)
    if 2 in gps and 4 in gps:
        lat = _dms(gps[2], gps.get(1), "latitude")
        lon = _dms(gps[4], gps.get(3), "longitude")
        out["lon"], out["lat"] = checked_point(lon, lat)
    if 6 in gps:
        try:
            alt = as_float(float(gps[6]), "altitude")
            out["altitude"] = -alt if gps.get(5) in (1, b"\x01") else alt
        except (TypeError, ValueError, ZeroDivisionError, SkipRecord):
            pass
    if 17 in gps:
        try:
            direction = as_float(float(gps[17]), "direction")
            if 0 <= direction <= 360:
                out["direction"] = direction
        except (TypeError, ValueError, ZeroDivisionError, SkipRecord):
            pass
    sub = exif.get_ifd(EXIF_IFD)
    original = sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    offset = sub.get(OFFSET_ORIGINAL)
    if isinstance(original, str) and original.strip(" \x00:"):
        text = original.strip().replace(":", "-", 2)
        if isinstance(offset, str) and offset.strip():
            text += offset.strip()
            out["timestamp"] = parse_time(text)
        elif 29 in gps and 7 in gps:
            out["timestamp"] = _gps_time(gps[29], gps[7]) or parse_time(text, default_tz, naive)
        else:
            out["timestamp"] = parse_time(text, default_tz, naive)
    camera = " ".join(str(exif.get(t, "")).strip("\x00 ") for t in (MAKE, MODEL)).strip()
    if camera:
        out["camera"] = camera[:80]
    return out


def _gps_time(date: Any, hms: Any) -> datetime | None:
    try:
        y, mo, d = (int(p) for p in str(date).strip("\x00 ").split(":"))
        h, mi, s = (float(v) for v in hms)
        return datetime(y, mo, d, int(h), int(mi), int(s), tzinfo=UTC)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):  # an infinite double, too
        return None


def photo_record(path: Path, base: Path, ctx: RowContext | None = None) -> PostRecord:
    """One photo as a post; only a regular file is opened (`open_regular`), and only once."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # a dangling link, a symlink loop
        raise SkipRecord(f"cannot follow {path.name}: {getattr(exc, 'strerror', None) or exc}") from None
    if path.is_symlink() and base not in real.parents:
        raise SkipRecord(f"{path.name} is a link to a file outside the folder; not read")
    with open_regular(real) as fh:
        digest = _sha256(fh)
        fh.seek(0)
        info = read_exif(fh, ctx.default_tz, ctx.count_naive) if ctx is not None else read_exif(fh)
    rel = real.relative_to(base).as_posix() if base in real.parents else path.name
    lon, lat = info.get("lon"), info.get("lat")
    if lon is not None and is_null_island(lon, lat):
        lon = lat = None
    attributes = {"camera": info["camera"]} if "camera" in info else {}
    return PostRecord(
        post_id=digest, platform=PLATFORM, lon=lon, lat=lat, timestamp=info.get("timestamp"),
        geo_source="exif" if lon is not None else "none", media=[MediaRef(path=rel)],
        direction=info.get("direction"), altitude=info.get("altitude"), source_file=str(path),
        attributes=attributes,
    )
