"""Photo decoding refuses hostile files with a reason; preprocessing follows the card."""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from mist_qgis.core.images.safe_decode import DecodeError, ImageTooLarge
from mist_qgis.core.images.safe_decode import load_rgb as decode_image
from mist_qgis.core.models.preprocess import load_for_model, normalise, resize_for
from tests.helpers.modelkit import colour_card, photo, save_photo


def _png_header_only(path, width, height):
    """A tiny PNG whose header claims a huge image: a decompression bomb's calling card."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
                     + chunk(b"IEND", b""))
    return path


def test_real_photo_decodes_rgb(tmp_path):
    path = save_photo(photo("coffee"), tmp_path / "c.jpg")
    img = decode_image(path)
    assert img.shape == (400, 600, 3) and img.dtype == np.uint8
    assert abs(float(img.mean()) - float(photo("coffee").mean())) < 3


def test_jpeg_decodes_at_reduced_scale_when_the_model_is_small(tmp_path):
    path = save_photo(photo("astronaut"), tmp_path / "a.jpg")
    small = decode_image(path, target=(32, 32))
    assert 37 <= min(small.shape[:2]) < 512  # DCT scaling, never below what the model needs


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty file"),
        (b"GIF89a but not really", "corrupt image|not an image"),
        (b"hello, this is a text file\n" * 10, "not an image"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "x.jpg"
    path.write_bytes(content)
    with pytest.raises(DecodeError, match=reason):
        decode_image(path)


def test_truncated_jpeg_is_corrupt(tmp_path):
    path = save_photo(photo("chelsea"), tmp_path / "c.jpg")
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(DecodeError, match="truncated|corrupt"):
        decode_image(path)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = _png_header_only(tmp_path / "bomb.png", 100_000, 100_000)
    with pytest.raises(ImageTooLarge, match="decompression bomb"):
        decode_image(path)
    path = _png_header_only(tmp_path / "bomb.png", 30_000, 30_000)
    with pytest.raises(ImageTooLarge, match="decompression bomb"):
        load_for_model(path, colour_card())


def test_unsupported_format_is_refused(tmp_path):
    path = tmp_path / "x.ico"
    Image.fromarray(photo("coffee")[:64, :64]).save(path, format="ICO")
    with pytest.raises(DecodeError, match="not an image"):  # only the allowed formats' parsers run
        decode_image(path)


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "rot.jpg"
    img = Image.fromarray(photo("coffee"))  # 600 wide, 400 high
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    img.save(path, exif=exif)
    assert decode_image(path).shape[:2] == (600, 400)


def test_grey_and_alpha_images_become_rgb(tmp_path):
    grey = tmp_path / "g.png"
    Image.fromarray(photo("coffee")[..., 0]).save(grey)
    rgba = tmp_path / "a.png"
    Image.fromarray(np.dstack([photo("coffee"), np.full((400, 600), 128, np.uint8)])).save(rgba)
    assert decode_image(grey).shape == (400, 600, 3)
    assert decode_image(rgba).shape == (400, 600, 3)


def test_stretch_and_center_crop_sizes():
    img = photo("coffee")
    assert resize_for(img, colour_card(input_size=(32, 48))).shape == (32, 48, 3)
    crop = resize_for(img, colour_card(input_size=(32, 32), resize="center_crop"))
    assert crop.shape == (32, 32, 3)


def test_normalise_follows_mean_std_colour_order_and_layout():
    img = np.zeros((1, 2, 2, 3), np.uint8)
    img[..., 0] = 255  # pure red
    card = colour_card(input_size=(2, 2))
    nchw = normalise(img, card)
    assert nchw.shape == (1, 3, 2, 2) and nchw.dtype == np.float32
    assert np.allclose(nchw[0, 0], 2.0) and np.allclose(nchw[0, 1], -2.0)  # (1 - .5)/.25, (0 - .5)/.25
    bgr = normalise(img, replace(card, color_order="BGR", layout="NHWC"))
    assert bgr.shape == (1, 2, 2, 3)
    assert np.allclose(bgr[0, ..., 2], 2.0) and np.allclose(bgr[0, ..., 0], -2.0)


def test_load_for_model(tmp_path):
    path = save_photo(photo("rocket"), tmp_path / "r.jpg")
    assert load_for_model(path, colour_card()).shape == (32, 32, 3)
