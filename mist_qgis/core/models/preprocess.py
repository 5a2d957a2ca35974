"""The per-card preprocessing a model expects (resize, colour order, scale, mean/std, layout).

Photos are decoded by the one safe opener (`core/images/safe_decode.py`: format allow-list, byte
and pixel caps, EXIF orientation, the process-wide decode budget). JPEGs are decoded there at
reduced scale when the model needs far fewer pixels (libjpeg's DCT scaling), which is what lets
decoding keep pace with inference.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..images.safe_decode import ImageLimits, decode_file
from ..stage import IsCancelled

if TYPE_CHECKING:
    import numpy as np

    from .card import ModelCard

CENTER_CROP_RATIO = 0.875  # the classic ImageNet "resize 256, crop 224"


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


def load_for_model(
    path: str | Path, card: ModelCard, limits: ImageLimits | None = None, is_cancelled: IsCancelled | None = None,
) -> np.ndarray:
    """Decode one photo and resize it for the card: (H, W, 3) uint8, ready for `normalise`.

    Raises `DecodeError` (a file that is not a usable photo) or `DecodeCancelled`."""
    import numpy as np

    with decode_file(path, limits, target=card.input_size, is_cancelled=is_cancelled) as decoded:
        return resize_for(np.asarray(decoded.image, dtype=np.uint8), card)
