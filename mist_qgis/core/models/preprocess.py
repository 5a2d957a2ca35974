"""Photo decoding and the per-card preprocessing a model expects (resize, colour order, scale,
mean/std, layout).

Photos come from strangers: decoding refuses non-images, files above a byte cap and images above
a pixel cap (decompression bombs) before the pixels are decoded, and says why. JPEGs are decoded
at reduced scale when the model needs far fewer pixels (libjpeg's DCT scaling), which is what lets
decoding keep pace with inference; that is why screening does not reuse the fetch stage's full
decode (core/images/safe_decode.py), whose limits it shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MistError

if TYPE_CHECKING:
    import numpy as np

    from .card import ModelCard

MAX_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 50_000_000  # as the fetch stage's safe decode
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO")
CENTER_CROP_RATIO = 0.875  # the classic ImageNet "resize 256, crop 224"


class ImageDecodeError(MistError, ValueError):
    """A photo that cannot be used; the message is the reason recorded in the issue report."""


@dataclass(frozen=True)
class DecodeLimits:
    max_bytes: int = MAX_BYTES
    max_pixels: int = MAX_PIXELS


def decode_image(
    path: str | Path, target: tuple[int, int] | None = None, limits: DecodeLimits | None = None
) -> np.ndarray:
    """Decode a photo to an RGB uint8 array (H, W, 3), upright per its EXIF orientation.

    `target` (height, width) lets JPEG decoding skip pixels the model will not see.
    """
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    limits = limits or DecodeLimits()
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageDecodeError(f"file missing or unreadable: {exc.strerror or exc}") from None
    if size == 0:
        raise ImageDecodeError("empty file")
    if size > limits.max_bytes:
        raise ImageDecodeError(f"file too large: {size} bytes > {limits.max_bytes}")
    try:
        with Image.open(path) as img:
            if img.format not in ALLOWED_FORMATS:
                raise ImageDecodeError(f"not a supported photo format: {img.format}")
            width, height = img.size
            if width <= 0 or height <= 0:
                raise ImageDecodeError(f"invalid image size {width}x{height}")
            if width * height > limits.max_pixels:
                raise ImageDecodeError(
                    f"image too large: {width}x{height} pixels > {limits.max_pixels} (possible decompression bomb)"
                )
            if target and img.format in ("JPEG", "MPO"):
                # DCT scaling keeps at least the requested size; ask for the larger of the sides
                # a center crop needs, so the later resize only ever shrinks.
                need = int(max(target) / CENTER_CROP_RATIO) + 1
                img.draft("RGB", (need, need))
            img = ImageOps.exif_transpose(img)
            rgb = img.convert("RGB")
            array = np.asarray(rgb, dtype=np.uint8)
    except ImageDecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"image too large (decompression bomb): {exc}") from None
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image (cannot identify the file's format)") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageDecodeError(f"corrupt image: {exc}") from None
    if array.ndim != 3 or array.shape[2] != 3:
        raise ImageDecodeError(f"unexpected decoded shape {array.shape}")
    return array


def resize_for(image: np.ndarray, card: ModelCard) -> np.ndarray:
    """Resize (and crop, for "center_crop" cards) an RGB uint8 image to the card's input size."""
    import cv2

    assert card.input_size is not None
    out_h, out_w = card.input_size
    h, w = image.shape[:2]
    if card.resize == "center_crop":
        scale = max(out_h, out_w) / CENTER_CROP_RATIO / min(h, w)
        rh, rw = max(out_h, round(h * scale)), max(out_w, round(w * scale))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image, (rw, rh), interpolation=interp)
        top, left = (rh - out_h) // 2, (rw - out_w) // 2
        return resized[top:top + out_h, left:left + out_w]
    interp = cv2.INTER_AREA if out_h * out_w < h * w else cv2.INTER_LINEAR
    return cv2.resize(image, (out_w, out_h), interpolation=interp)


def normalise(images: np.ndarray, card: ModelCard) -> np.ndarray:
    """A float32 batch in the card's colour order, scale, mean/std and layout.

    `images` is (N, H, W, 3) RGB uint8 already at the input size.
    """
    import numpy as np

    x = images.astype(np.float32)
    if card.color_order == "BGR":
        x = x[..., ::-1]
    mean = np.asarray(card.mean, dtype=np.float32)
    std = np.asarray(card.std, dtype=np.float32)
    x = (x / np.float32(card.pixel_scale) - mean) / std
    if card.layout == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, dtype=np.float32)


def prepare_batch(images: list[np.ndarray], card: ModelCard) -> np.ndarray:
    """Resize every image for the card and stack them into one normalised model input."""
    import numpy as np

    return normalise(np.stack([resize_for(img, card) for img in images]), card)


def load_for_model(path: str | Path, card: ModelCard, limits: DecodeLimits | None = None) -> np.ndarray:
    """Decode one photo and resize it for the card: (H, W, 3) uint8, ready for `normalise`."""
    return resize_for(decode_image(path, card.input_size, limits), card)
