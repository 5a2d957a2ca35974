"""Load a photo for matching and say clearly why one cannot be used.

Photos are decoded by the one safe opener (`core/images/safe_decode.py`, with its limits).
Rejected, with a reason: missing or undecodable files, decompression bombs, tiny photos,
panoramas (a 360-degree or stitched strip does not fit a perspective reference view), and images
without texture (uniform or nearly so: nothing to match). Accepted with a note: greyscale,
palette, 16-bit and CMYK images are converted to 8-bit RGB; EXIF orientation is applied so a
phone photo is matched upright.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MIN_SIDE = 64
PANORAMA_ASPECT = 2.0
MIN_TEXTURE = 2.0  # mean absolute Laplacian of the 256-px grey image, in grey levels


@dataclass
class Photo:
    image: np.ndarray | None
    reason: str = ""  # why it cannot be used (image is None)
    note: str = ""  # what was done to make it usable

    @property
    def ok(self) -> bool:
        return self.image is not None


def texture_level(rgb: np.ndarray) -> float:
    """Mean absolute Laplacian at 256 px: near 0 for blank, blurred or uniform images."""
    import cv2

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = 256.0 / max(gray.shape)
    if scale < 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return float(np.abs(cv2.Laplacian(gray.astype(np.float32), cv2.CV_32F)).mean())


def check_array(rgb: np.ndarray) -> str:
    """The reason an RGB array cannot be matched, or '' when it can."""
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        return f"photo is {w} x {h} px; at least {MIN_SIDE} px on each side is needed"
    aspect = max(w, h) / max(1, min(w, h))
    if aspect >= PANORAMA_ASPECT:
        return (f"panorama or strip ({aspect:.1f}:1); split it into perspective views to match it "
                "against street-level references")
    if texture_level(rgb) < MIN_TEXTURE:
        return "photo has no texture (uniform or blurred); nothing to match"
    return ""


def load_photo(path: str | os.PathLike[str]) -> Photo:
    """Decode a photo to RGB uint8, or give the reason it cannot be matched."""
    from ..images.safe_decode import DecodeError, decode_file

    path = Path(path)
    if not path.is_file():
        return Photo(None, f"file not found: {path.name}")
    try:
        with decode_file(path) as decoded:
            mode = decoded.source_mode
            rgb = np.asarray(decoded.image, dtype=np.uint8)
    except DecodeError as exc:
        return Photo(None, f"cannot decode image: {exc}")
    notes = []
    if mode == "CMYK":
        notes.append("CMYK converted to RGB")
    elif mode in ("L", "LA", "1", "I", "I;16", "I;16B", "I;16L", "F"):
        notes.append(f"greyscale ({mode}) matched as grey RGB")
    elif mode in ("P", "PA"):
        notes.append("palette image converted to RGB")
    reason = check_array(rgb)
    if reason:
        return Photo(None, reason)
    return Photo(np.ascontiguousarray(rgb), note="; ".join(notes))
