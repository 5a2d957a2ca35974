"""Safe decoding, EXIF and the content-addressed cache, on real photos and hostile files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mist_qgis.core.images.cache import MediaCache, make_thumbnail
from mist_qgis.core.images.safe_decode import DecodeError, ExifInfo, ImageLimits, decode_file, decode_image
from tests.media_fixtures import (
    exif_jpeg,
    jpeg_bytes,
    phone_photo,
    photo,
    png_bomb,
    png_bytes,
    png_declaring,
    png_rgb16,
)


def test_good_jpeg_and_png_decode_to_rgb():
    img = photo("coffee", 160)
    for data, fmt, ctype, ext in ((jpeg_bytes(img), "JPEG", "image/jpeg", ".jpg"),
                                  (png_bytes(img), "PNG", "image/png", ".png")):
        decoded = decode_image(data)
        assert (decoded.format, decoded.content_type, decoded.extension) == (fmt, ctype, ext)
        assert decoded.image.mode == "RGB" and decoded.image.size == img.size


def test_exif_orientation_applied_and_position_time_direction_read():
    img = photo("astronaut", 128).resize((120, 80))
    decoded = decode_image(exif_jpeg(img, orientation=6))
    assert (decoded.width, decoded.height) == (80, 120)  # rotated upright
    # orientation 6 = rotate 90 clockwise: the stored top-left corner ends at the top-right
    stored = np.asarray(img, dtype=int)
    upright = np.asarray(decoded.image, dtype=int)
    assert np.abs(upright[0, -1] - stored[0, 0]).sum() < 40
    exif = decoded.exif
    assert exif.orientation == 6
    assert exif.lat == pytest.approx(29.7604, abs=1e-4) and exif.lon == pytest.approx(-95.3698, abs=1e-4)
    assert exif.altitude == pytest.approx(12.5) and exif.direction == pytest.approx(135.5)
    assert exif.direction_ref == "T" and exif.taken_at == "2024-05-01T14:30:05-05:00"
    assert ExifInfo.from_json(exif.to_json()) == exif


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_phone_formats_decode_and_are_cached_as_jpeg_with_their_exif(fmt, tmp_path):
    """HEIC (and AVIF) photos decode upright with their position; the cache keeps a JPEG that
    Qt's map tips, the attribute form and every later stage can read."""
    img = photo("astronaut", 128).resize((120, 80))
    data = phone_photo(img, fmt, orientation=6)
    decoded = decode_image(data)
    assert decoded.format == fmt and (decoded.width, decoded.height) == (80, 120)
    assert decoded.exif.lat == pytest.approx(29.7604, abs=1e-4) and decoded.exif.direction == pytest.approx(135.5)
    assert (decoded.content_type, decoded.extension) == ("image/jpeg", ".jpg")
    cached = MediaCache(tmp_path).put(decoded.cache_bytes(data), decoded.extension)
    again = decode_file(cached.path)
    assert again.format == "JPEG" and (again.width, again.height) == (80, 120)  # upright, orientation reset
    assert again.exif.orientation == 1 and again.exif.lat == pytest.approx(29.7604, abs=1e-4)
    assert again.exif.taken_at == "2024-05-01T14:30:05-05:00"
    difference = np.abs(np.asarray(again.image, dtype=int) - np.asarray(decoded.image, dtype=int)).mean()
    assert difference < 8  # the same picture, not a placeholder
    plain = decode_image(jpeg_bytes(img))
    assert plain.cache_bytes(jpeg_bytes(img)) == jpeg_bytes(img)  # other formats are kept as they came


def test_southern_western_hemisphere_and_missing_exif():
    decoded = decode_image(exif_jpeg(photo(size=64), lat=-33.8688, lon=151.2093))
    assert decoded.exif.lat == pytest.approx(-33.8688, abs=1e-4) and decoded.exif.lon > 0
    assert decode_image(jpeg_bytes(photo(size=64))).exif == ExifInfo()
    assert ExifInfo().to_json() is None


def test_null_island_gps_is_not_a_position():
    decoded = decode_image(exif_jpeg(photo(size=64), lat=0.0, lon=0.0))
    assert not decoded.exif.has_position


@pytest.mark.parametrize("mode", ["CMYK", "L", "P", "LA", "RGBA", "1"])
def test_colour_modes_become_rgb(mode):
    img = photo("chelsea", 96)
    converted = img.convert("RGBA" if mode in ("LA", "RGBA") else mode)
    if mode == "LA":
        converted = img.convert("LA")
    data = jpeg_bytes(converted) if mode in ("CMYK", "L") else png_bytes(converted)
    decoded = decode_image(data)
    assert decoded.image.mode == "RGB" and decoded.image.size == img.size
    if mode == "CMYK":  # colours survive the round trip through CMYK
        diff = np.abs(np.asarray(decoded.image, int) - np.asarray(img, int)).mean()
        assert diff < 25


def test_transparent_palette_flattened_on_white():
    img = Image.new("P", (8, 8), 0)
    img.putpalette([255, 0, 0] + [0, 0, 0] * 255)
    img.info["transparency"] = 0
    decoded = decode_image(png_bytes(img, transparency=0))
    assert decoded.image.getpixel((0, 0)) == (255, 255, 255)


def test_sixteen_bit_grey_and_rgb_scaled_not_clipped():
    ramp = (np.linspace(0, 65535, 64 * 16).reshape(16, 64)).astype(np.uint16)
    decoded = decode_image(png_bytes(Image.fromarray(ramp)))
    grey = np.asarray(decoded.image)[..., 0]
    assert grey.min() == 0 and grey.max() == 255 and len(np.unique(grey)) > 200
    rgb = decode_image(png_rgb16())
    assert rgb.image.mode == "RGB"
    r, g, b = rgb.image.getpixel((0, 0))
    assert r == 0 and b == 255 and g in (116, 117)  # 30000 / 65535 of full scale
    assert rgb.image.getpixel((63, 0))[0] == 255


def test_html_served_as_a_photo_is_refused():
    with pytest.raises(DecodeError, match="not an image"):
        decode_image(b"<!doctype html><html><body>login</body></html>")
    with pytest.raises(DecodeError, match="empty"):
        decode_image(b"")


def test_truncated_jpeg_and_png_fail_with_reason():
    with pytest.raises(DecodeError, match="truncated"):
        decode_image(jpeg_bytes(photo())[:3000])
    with pytest.raises(DecodeError, match="truncated|corrupt"):
        decode_image(png_bytes(photo())[:5000])


def test_corrupt_bytes_inside_a_jpeg_fail():
    data = bytearray(jpeg_bytes(photo()))
    data[200:400] = b"\xff\xd9" * 100  # end-of-image markers in the middle of the scan
    with pytest.raises(DecodeError):
        decode_image(bytes(data))


def test_decompression_bomb_refused_before_decoding():
    bomb = png_bomb(3000)
    assert len(bomb) < 100_000  # 9 megapixels in a few kilobytes
    with pytest.raises(DecodeError, match="decompression bomb"):
        decode_image(bomb, ImageLimits(max_pixels=1_000_000))
    with pytest.raises(DecodeError, match="decompression bomb"):
        decode_image(png_declaring(100_000, 100_000))
    with pytest.raises(DecodeError, match="decompression bomb"):
        decode_image(png_declaring(20_000, 20_000))  # below Pillow's own limit, above ours


def test_unsupported_format_refused():
    out = __import__("io").BytesIO()
    photo(size=32).save(out, format="PPM")  # Pillow reads it, but only the allowed formats' parsers run
    with pytest.raises(DecodeError, match="not an image"):
        decode_image(out.getvalue())


def test_decode_file_respects_size_limit(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(jpeg_bytes(photo()))
    assert decode_file(path).width > 0
    with pytest.raises(DecodeError, match="limit"):
        decode_file(path, ImageLimits(max_bytes=100))


def test_cache_stores_same_content_once_and_names_by_sha(tmp_path):
    cache = MediaCache(tmp_path / "media")
    data = jpeg_bytes(photo())
    first = cache.put(data, ".jpg")
    second = cache.put(data, ".jpg")
    assert first.created and not second.created and first.cache_path == second.cache_path
    import hashlib

    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert first.cache_path == f"{first.sha256[:2]}/{first.sha256}.jpg"
    assert (tmp_path / "media" / first.cache_path).read_bytes() == data
    assert not list((tmp_path / "media").rglob(".part-*"))
    with pytest.raises(ValueError):
        cache.relative_path("../../etc/passwd", ".jpg")
    with pytest.raises(ValueError):
        cache.put(data, "/../x")


def test_thumbnail_longest_side_256_no_exif_made_once(tmp_path):
    cache = MediaCache(tmp_path / "media")
    big = photo("astronaut", size=None)  # 512 x 512
    data = exif_jpeg(big.resize((600, 400)))
    decoded = decode_image(data)
    cached = cache.put(data, decoded.extension)
    path = cache.ensure_thumbnail(cached.sha256, decoded.image)
    assert path == tmp_path / "media" / "thumbs" / f"{cached.sha256}.jpg"
    with Image.open(path) as thumb:
        assert max(thumb.size) == 256 and thumb.size == (171, 256)  # upright: EXIF rotation applied
        assert thumb.format == "JPEG"
        assert not thumb.getexif() and "exif" not in thumb.info
    assert b"Exif" not in path.read_bytes()
    mtime = path.stat().st_mtime_ns
    cache.ensure_thumbnail(cached.sha256, decoded.image)
    assert path.stat().st_mtime_ns == mtime
    small = make_thumbnail(photo(size=100))
    assert max(small.size) == 100  # never enlarged
