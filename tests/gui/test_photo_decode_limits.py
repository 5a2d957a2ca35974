"""The photo pane decodes with Qt, under the safe opener's one pixel cap (read from the header)."""

from __future__ import annotations

from qgis.PyQt.QtCore import QSize

from mist_qgis.core.images.safe_decode import DEFAULT_LIMITS
from mist_qgis.gui.prefetch import decode_scaled
from tests.media_fixtures import jpeg_bytes, photo, png_declaring


def test_an_oversized_image_is_refused_before_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_declaring(30_000, 30_000))
    image, reason = decode_scaled(str(bomb), QSize(800, 600))
    assert image is None and "30000 × 30000" in reason


def test_the_cap_is_the_openers(tmp_path):
    side = int(DEFAULT_LIMITS.max_pixels ** 0.5) + 1  # just above the cap, below Qt's and the old 200 MP
    bomb = tmp_path / "over.png"
    bomb.write_bytes(png_declaring(side, side))
    image, reason = decode_scaled(str(bomb), QSize(800, 600))
    assert image is None and f"{side} × {side}" in reason
    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg_bytes(photo("coffee", 400)))
    image, reason = decode_scaled(str(good), QSize(200, 200))
    assert reason == "" and max(image.width(), image.height()) == 200
