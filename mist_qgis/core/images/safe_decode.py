"""The one safe image opener: every image from a stranger (a downloaded post photo, a field
team's folder, a reference photo, a cached file) is opened here, with one set of limits.

Decoding is the only proof that bytes are an image: a server's Content-Type and a file's
extension are claims by strangers. The opener
- accepts only the formats in `FORMATS` (every extra decoder is extra attack surface);
- reads the header first and refuses an image above `ImageLimits.max_pixels` before a single
  pixel is decompressed (a decompression bomb costs nothing); Pillow's own
  `DecompressionBombError` becomes the same `ImageTooLarge`;
- decodes within a pixel budget shared by every thread of the process (`DECODE_BUDGET`), so
  eight workers decoding photos just under the cap at once cannot take gigabytes: a decode that
  would pass the budget waits (cancellably) for others to finish;
- returns an upright 8-bit RGB image (EXIF orientation applied; CMYK, greyscale, palette, alpha
  and 16-bit data brought to 8-bit RGB) and what EXIF says about position, time and direction.

Problems are `DecodeError`s (a `MistError`): a reader or a stage counts the file as an explained
skip and goes on.
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..errors import Cancelled, MistError
from ..stage import IsCancelled

DEFAULT_MAX_PIXELS = 50_000_000  # a 50 MP photo is 150 MB decoded; more is a bomb or not a post photo
DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # a file larger than this is not a post photo
DEFAULT_DECODE_BUDGET = 2 * DEFAULT_MAX_PIXELS  # pixels being decoded at once in the whole process

# Pillow format -> (content type, cache file extension). Anything else is refused even if Pillow
# can read it: post photos come in these, and every extra decoder is extra attack surface.
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", ".jpg"),
    "MPO": ("image/jpeg", ".jpg"),  # phone JPEGs with a second (depth/preview) image
    "PNG": ("image/png", ".png"),
    "GIF": ("image/gif", ".gif"),
    "WEBP": ("image/webp", ".webp"),
    "TIFF": ("image/tiff", ".tif"),
    "BMP": ("image/bmp", ".bmp"),
    # Phone formats that Qt (map tips, the attribute form) and the later stages cannot read: the
    # cache keeps a JPEG of the upright photo, with its EXIF, instead of the bytes as they came.
    "HEIF": ("image/jpeg", ".jpg"),
    "AVIF": ("image/jpeg", ".jpg"),
}
TRANSCODED = ("HEIF", "AVIF")
TRANSCODE_QUALITY = 95
DRAFT_FORMATS = ("JPEG", "MPO")  # libjpeg decodes these straight at 1/2, 1/4 or 1/8 size

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_ORIENTATION = 0x0112
_DATETIME = 0x0132
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011

class DecodeError(MistError, ValueError):
    """The bytes are not an acceptable photo; `str(exc)` is the reason stored on the media row
    or in the run's issues."""


class ImageTooLarge(DecodeError):
    """The image declares more pixels (or the file has more bytes) than the limits allow."""


class DecodeCancelled(Cancelled):
    """The user cancelled while this decode waited for the budget; the item stays to do."""


@dataclass(frozen=True)
class ImageLimits:
    """The one set of limits for images from strangers. Sizes in pixels and bytes."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES

    def check_pixels(self, width: int, height: int, what: str = "image") -> None:
        """Raise `ImageTooLarge` for a canvas above the pixel cap (`what` names it in the message)."""
        if width * height > self.max_pixels:
            raise ImageTooLarge(
                f"decompression bomb: {what} of {width}x{height} = {width * height} pixels exceeds "
                f"the limit of {self.max_pixels}")

    def check_bytes(self, size: int) -> None:
        if size > self.max_bytes:
            raise ImageTooLarge(f"file is {size} bytes, more than the limit of {self.max_bytes}")


DEFAULT_LIMITS = ImageLimits()


class DecodeBudget:
    """Pixels being decoded at once, shared by every thread that decodes.

    `hold(n)` waits until `n` more pixels fit (a request larger than the whole budget waits until
    nothing else is in flight, then runs alone), checks `is_cancelled` while it waits, and gives the
    pixels back on exit. `peak` is the most ever held at once (for tests and benchmarks).
    """

    def __init__(self, pixels: int) -> None:
        if pixels <= 0:
            raise ValueError("a decode budget must be positive")
        self.capacity = pixels
        self.in_flight = 0
        self.peak = 0
        self._cond = threading.Condition()

    def acquire(self, pixels: int, is_cancelled: IsCancelled | None = None) -> int:
        """Take `pixels` (clamped to the capacity) once they fit; return what was taken."""
        want = max(1, min(int(pixels), self.capacity))
        with self._cond:
            while self.in_flight + want > self.capacity:
                if is_cancelled is not None and is_cancelled():
                    raise DecodeCancelled("cancelled while waiting to decode")
                self._cond.wait(0.1)
            self.in_flight += want
            self.peak = max(self.peak, self.in_flight)
        return want

    def release(self, taken: int) -> None:
        with self._cond:
            self.in_flight -= taken
            self._cond.notify_all()

    @contextmanager
    def hold(self, pixels: int, is_cancelled: IsCancelled | None = None) -> Iterator[int]:
        taken = self.acquire(pixels, is_cancelled)
        try:
            yield taken
        finally:
            self.release(taken)

    def reset_peak(self) -> None:
        with self._cond:
            self.peak = self.in_flight


DECODE_BUDGET = DecodeBudget(DEFAULT_DECODE_BUDGET)


@dataclass(frozen=True)
class ExifInfo:
    """What EXIF says about where, when and which way a photo was taken (None when absent)."""

    orientation: int | None = None
    lat: float | None = None
    lon: float | None = None
    altitude: float | None = None
    direction: float | None = None
    direction_ref: str | None = None  # "T" true north, "M" magnetic north
    taken_at: str | None = None  # ISO 8601; with an offset only when the camera recorded one
    gps_time_utc: str | None = None

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None

    def to_json(self) -> str | None:
        values = {k: v for k, v in asdict(self).items() if v is not None}
        return json.dumps(values, sort_keys=True) if values else None

    @classmethod
    def from_json(cls, text: str | None) -> ExifInfo:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class DecodedImage:
    """An upright 8-bit RGB photo and what was learnt while decoding it.

    Its pixels count against the decode budget until `close()` (or the end of a `with` block, or
    garbage collection): keep it only as long as the full-size image is needed, and do not
    decode another image while holding one (two threads doing that could wait on each other).
    """

    image: Any  # PIL.Image.Image in mode RGB
    format: str
    content_type: str
    extension: str
    exif: ExifInfo
    exif_bytes: bytes | None = None  # kept for a transcoded format's JPEG
    source_mode: str = "RGB"  # the pixel mode as stored (CMYK, L, P, I;16, ...)
    _release: Any = field(default=None, repr=False, compare=False)

    def close(self) -> None:
        """Give the pixels back to the decode budget (idempotent)."""
        if self._release is not None:
            self._release()

    def __enter__(self) -> DecodedImage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cache_bytes(self, data: bytes) -> bytes:
        """What the cache keeps: the bytes as they came, or a JPEG for a transcoded format."""
        if self.format not in TRANSCODED:
            return data
        from PIL import Image

        out = io.BytesIO()
        exif = Image.Exif()
        if self.exif_bytes:
            try:
                exif.load(self.exif_bytes)
            except Exception:  # noqa: BLE001 (a malformed EXIF block must not cost the photo)
                exif = Image.Exif()
        exif[_ORIENTATION] = 1  # the pixels are upright now
        self.image.save(out, "JPEG", quality=TRANSCODE_QUALITY, exif=exif.tobytes())
        return out.getvalue()

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


@contextmanager
def open_image(source: bytes | str | Path, limits: ImageLimits | None = None) -> Iterator[Any]:
    """A Pillow image opened lazily (header read, no pixels decoded) after every check that needs
    no pixels: size of the file, format allow-list, pixel cap. Raises `DecodeError`."""
    from PIL import Image, UnidentifiedImageError

    from .heif import enable_heif

    limits = limits or DEFAULT_LIMITS
    enable_heif()
    if isinstance(source, bytes | bytearray):
        if not source:
            raise DecodeError("empty file")
        limits.check_bytes(len(source))
        stream: Any = io.BytesIO(source)
    else:
        path = Path(source)
        try:
            info = path.stat()
        except OSError as exc:
            raise DecodeError(f"file missing or unreadable: {exc.strerror or exc}") from None
        import stat

        if not stat.S_ISREG(info.st_mode):
            raise DecodeError("not a regular file")
        if info.st_size == 0:
            raise DecodeError("empty file")
        limits.check_bytes(info.st_size)
        stream = path
    try:
        img = Image.open(stream, formats=_open_formats())
    except Image.DecompressionBombError as exc:  # Pillow's own, far higher limit: say ours
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{declared.group(1)} pixels" if declared else "more pixels than that"
        raise ImageTooLarge(f"decompression bomb: image of {size} exceeds the limit of {limits.max_pixels}") from None
    except UnidentifiedImageError:
        raise DecodeError("not an image (content does not decode as a photo)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise DecodeError(f"corrupt image: {exc}") from None
    try:
        if img.format not in FORMATS:
            raise DecodeError(f"unsupported image format {img.format}")
        width, height = img.size
        if width <= 0 or height <= 0:
            raise DecodeError("image has no pixels")
        limits.check_pixels(width, height)
        yield img
    finally:
        img.close()


PILLOW_BLOCK_SIZE = 64 * 1024 * 1024  # above glibc's largest dynamic mmap threshold (32 MiB)


@functools.cache
def _return_freed_pixels_to_the_system() -> None:
    """Let the memory of a decoded image go back to the system when the image is freed.

    Pillow allocates pixels in 16 MiB blocks. glibc raises its mmap threshold to the size of
    the last freed mmapped block (up to 32 MiB), so after the first photo every block comes from
    per-thread heaps that keep freed memory: eight workers would each keep the peak of their own
    photos, whatever the decode budget says. Blocks above 32 MiB are always mmapped and unmapped
    on free. Only Pillow's allocator is affected.
    """
    from PIL import Image

    if Image.core.get_block_size() < PILLOW_BLOCK_SIZE:
        Image.core.set_block_size(PILLOW_BLOCK_SIZE)


def _open_formats() -> list[str]:
    """The allowed formats Pillow can open here (MPO opens as JPEG; AVIF needs its plugin)."""
    from PIL import Image

    Image.init()
    _return_freed_pixels_to_the_system()
    return [name for name in FORMATS if name in Image.OPEN]


@dataclass(frozen=True)
class ImageHeader:
    """What an image's header says, read without decoding its pixels."""

    format: str
    width: int
    height: int
    exif: Any  # PIL.Image.Exif (empty when absent or unreadable)


def read_header(source: bytes | str | Path, limits: ImageLimits | None = None) -> ImageHeader:
    """Format, size and the raw EXIF of an image, with the opener's checks; no pixel decoding."""
    with open_image(source, limits) as img:
        try:
            exif = img.getexif()
        except Exception:  # noqa: BLE001 (EXIF blocks are attacker-controlled; a broken one is absent)
            from PIL import Image

            exif = Image.Exif()
        return ImageHeader(img.format, img.width, img.height, exif)


def decode_image(
    data: bytes | str | Path, limits: ImageLimits | None = None, *, target: tuple[int, int] | None = None,
    is_cancelled: IsCancelled | None = None, budget: DecodeBudget | None = None,
) -> DecodedImage:
    """Decode bytes (or a file) completely or raise `DecodeError` with a reason a user can read.

    The pixel count is checked from the header before any pixel is decompressed. `target`
    (height, width) lets a JPEG decode at a reduced scale that still covers it (libjpeg's DCT
    scaling; what model preprocessing needs). The decode waits for room in `budget` (the
    process's `DECODE_BUDGET` by default); the result holds its pixels until it is closed.
    """
    from PIL import Image, ImageOps

    budget = budget or DECODE_BUDGET
    with open_image(data, limits) as img:
        if target and img.format in DRAFT_FORMATS:
            # DCT scaling keeps at least the requested size; ask for the larger of the sides a
            # centre crop (ratio 0.875) needs, so a later resize only ever shrinks.
            need = int(max(target) / 0.875) + 1
            img.draft("RGB", (need, need))
        width, height = img.size
        taken = budget.acquire(width * height, is_cancelled)
        try:
            try:
                img.load()
            except Image.DecompressionBombError as exc:
                raise ImageTooLarge(f"decompression bomb: {exc}") from None
            except (OSError, SyntaxError, ValueError, EOFError) as exc:
                reason = str(exc) or type(exc).__name__
                if "truncated" in reason.lower() or isinstance(exc, EOFError):
                    raise DecodeError(f"truncated image: {reason}") from None
                raise DecodeError(f"corrupt image: {reason}") from None
            exif = read_exif(img)
            try:
                upright = ImageOps.exif_transpose(img)
            except Exception:  # noqa: BLE001 (a malformed EXIF block must not cost the photo)
                upright = img
            content_type, extension = FORMATS[img.format]
            exif_bytes = img.info.get("exif") if img.format in TRANSCODED else None
            decoded = DecodedImage(to_rgb(upright), img.format, content_type, extension, exif, exif_bytes,
                                   source_mode=img.mode)
        except BaseException:
            budget.release(taken)
            raise
    decoded._release = weakref.finalize(decoded, budget.release, taken)
    return decoded


def decode_file(
    path: str | Path, limits: ImageLimits | None = None, *, target: tuple[int, int] | None = None,
    is_cancelled: IsCancelled | None = None, budget: DecodeBudget | None = None,
) -> DecodedImage:
    """Decode a file (a cached photo, a photo from a field team's drive) with the same checks."""
    return decode_image(Path(path), limits, target=target, is_cancelled=is_cancelled, budget=budget)


def load_rgb(
    path: str | Path, limits: ImageLimits | None = None, *, target: tuple[int, int] | None = None,
    is_cancelled: IsCancelled | None = None,
) -> Any:
    """A photo file as an upright RGB uint8 array (H, W, 3); raises `DecodeError`."""
    import numpy as np

    with decode_file(path, limits, target=target, is_cancelled=is_cancelled) as decoded:
        return np.asarray(decoded.image, dtype=np.uint8)


def to_rgb(img: Any) -> Any:
    """8-bit RGB from any mode a photo arrives in; transparency is flattened onto white."""
    from PIL import Image

    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_to_uint8(img)).convert("RGB")
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
        if mode == "RGB":
            return img
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode == "1":
        img = img.convert("L")
    return img.convert("RGB")


def _to_uint8(img: Any) -> Any:
    """Scale 16/32-bit integer or float greyscale into 0..255 without clipping it to white."""
    import numpy as np

    arr = np.asarray(img)
    if img.mode.startswith("I;16"):
        return (arr.astype(np.uint32) // 257).astype(np.uint8)
    arr = arr.astype(np.float64)
    finite = arr[np.isfinite(arr)]
    if img.mode == "I" and finite.size and finite.min() >= 0 and finite.max() <= 65535:
        return np.clip(arr // 257, 0, 255).astype(np.uint8)
    if not finite.size:
        return np.zeros(arr.shape, np.uint8)
    low, high = float(finite.min()), float(finite.max())
    scaled = (np.nan_to_num(arr, nan=low) - low) / (high - low) * 255 if high > low else np.zeros(arr.shape)
    return np.clip(scaled, 0, 255).astype(np.uint8)


# -- EXIF ----------------------------------------------------------------------------------


def read_exif(img: Any) -> ExifInfo:
    """EXIF orientation, GPS position, altitude, direction and time; malformed values are None."""
    try:
        exif = img.getexif()
    except Exception:  # EXIF blocks are attacker-controlled; a broken one is just absent
        return ExifInfo()
    if not exif:
        return ExifInfo()
    orientation = _int_or_none(exif.get(_ORIENTATION))
    if orientation is not None and not 1 <= orientation <= 8:
        orientation = None
    try:
        gps = exif.get_ifd(_GPS_IFD) or {}
    except Exception:
        gps = {}
    try:
        sub = exif.get_ifd(_EXIF_IFD) or {}
    except Exception:
        sub = {}
    lat = _coordinate(gps.get(2), gps.get(1), 90.0, ("N", "S"))
    lon = _coordinate(gps.get(4), gps.get(3), 180.0, ("E", "W"))
    if lat is None or lon is None or (lat == 0.0 and lon == 0.0):  # 0,0 is a missing fix, not a place
        lat = lon = None
    altitude = _float_or_none(gps.get(6))
    if altitude is not None and gps.get(5) in (1, b"\x01", "\x01", "1"):
        altitude = -altitude
    direction = _float_or_none(gps.get(17))
    if direction is not None and not 0.0 <= direction <= 360.0:
        direction = None
    direction_ref = _text(gps.get(16))
    direction_ref = direction_ref.upper() if direction_ref and direction_ref.upper() in ("T", "M") else None
    taken_at = _exif_time(sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME), sub.get(_OFFSET_TIME_ORIGINAL))
    return ExifInfo(
        orientation=orientation, lat=lat, lon=lon, altitude=altitude,
        direction=direction, direction_ref=direction_ref if direction is not None else None,
        taken_at=taken_at, gps_time_utc=_gps_time(gps.get(29), gps.get(7)),
    )


def _float_or_none(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return result if math.isfinite(result) else None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ") or None


def _coordinate(dms: Any, ref: Any, limit: float, refs: tuple[str, str]) -> float | None:
    """Degrees/minutes/seconds rationals and an N/S or E/W reference to signed decimal degrees."""
    if dms is None:
        return None
    try:
        parts = [float(p) for p in dms] if isinstance(dms, tuple | list) else [float(dms)]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or len(parts) > 3 or not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    parts += [0.0] * (3 - len(parts))
    value = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0
    ref_text = (_text(ref) or "").upper()
    if ref_text and ref_text not in refs:
        return None
    if ref_text == refs[1]:
        value = -value
    return value if -limit <= value <= limit else None


def _exif_time(value: Any, offset: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    try:
        moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset_text = _text(offset)
    if offset_text and len(offset_text) == 6 and offset_text[0] in "+-" and offset_text[3] == ":":
        try:
            delta = timedelta(hours=int(offset_text[1:3]), minutes=int(offset_text[4:6]))
        except ValueError:
            delta = None
        if delta is not None and delta <= timedelta(hours=14):
            tz = timezone(-delta if offset_text[0] == "-" else delta)
            return moment.replace(tzinfo=tz).isoformat()
    return moment.isoformat()


def _gps_time(date: Any, time_parts: Any) -> str | None:
    """GPS date and time are UTC by definition: the one EXIF time that needs no guessing."""
    date_text = _text(date)
    if not date_text or time_parts is None:
        return None
    try:
        day = datetime.strptime(date_text[:10], "%Y:%m:%d")
        h, m, s = (float(p) for p in time_parts)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(math.isfinite(v) for v in (h, m, s)) or not (0 <= h < 24 and 0 <= m < 60 and 0 <= s < 61):
        return None
    moment = day.replace(tzinfo=UTC) + timedelta(hours=h, minutes=m, seconds=s)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
