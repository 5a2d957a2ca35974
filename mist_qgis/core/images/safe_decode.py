"""Decide whether bytes are a photo by decoding every pixel, within a pixel budget.

A server's Content-Type and a file's extension are claims by strangers; the only proof that
bytes are an image is that Pillow decodes them completely. Decoding also yields what later
stages need: an upright RGB image (EXIF orientation applied, CMYK, greyscale, palette, alpha and
16-bit data brought to 8-bit RGB) and the EXIF position, time and direction, which can place a
post that came without coordinates.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..errors import MistError

DEFAULT_MAX_PIXELS = 50_000_000  # a 50 MP photo is 150 MB decoded; more is a bomb or not a post photo

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

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_ORIENTATION = 0x0112
_DATETIME = 0x0132
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011


class DecodeError(MistError, ValueError):
    """The bytes are not an acceptable photo; `str(exc)` is the reason stored on the media row."""


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
    """An upright 8-bit RGB photo and what was learnt while decoding it."""

    image: Any  # PIL.Image.Image in mode RGB
    format: str
    content_type: str
    extension: str
    exif: ExifInfo
    exif_bytes: bytes | None = None  # kept for a transcoded format's JPEG

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


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode `data` completely or raise `DecodeError` with a reason a user can read.

    The pixel count is checked from the header before any pixel is decompressed, so a small file
    that declares a gigantic canvas (a decompression bomb) costs nothing.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    from .heif import enable_heif

    enable_heif()
    if not data:
        raise DecodeError("empty file")
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"decompression bomb: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise DecodeError("not an image (content does not decode as a photo)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DecodeError(f"corrupt image: {exc}") from exc
    if img.format not in FORMATS:
        raise DecodeError(f"unsupported image format {img.format}")
    width, height = img.size
    if width <= 0 or height <= 0:
        raise DecodeError("image has no pixels")
    if width * height > max_pixels:
        raise DecodeError(
            f"decompression bomb: {width}x{height} = {width * height} pixels exceeds the limit of {max_pixels}"
        )
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"decompression bomb: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = str(exc) or type(exc).__name__
        if "truncated" in reason.lower() or isinstance(exc, EOFError):
            raise DecodeError(f"truncated image: {reason}") from exc
        raise DecodeError(f"corrupt image: {reason}") from exc
    exif = read_exif(img)
    try:
        upright = ImageOps.exif_transpose(img)
    except Exception:  # a malformed EXIF block must not cost the photo; keep it as stored
        upright = img
    content_type, extension = FORMATS[img.format]
    exif_bytes = img.info.get("exif") if img.format in TRANSCODED else None
    return DecodedImage(to_rgb(upright), img.format, content_type, extension, exif, exif_bytes)


def decode_file(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int | None = None) -> DecodedImage:
    """Decode a file (a cached photo, a photo from a field team's drive) with the same checks."""
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise DecodeError(f"file is {size} bytes, more than the limit of {max_bytes}")
    return decode_image(path.read_bytes(), max_pixels)


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
