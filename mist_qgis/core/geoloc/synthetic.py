"""Reference sets with known answers, made from the real photos scikit-image ships.

Tests, the confidence calibration script and the geolocation benchmark need query photos whose
true reference is known. A "scene" is one real photo; a "view" of it is a crop seen under a
random homography with a brightness change, the way two street-level photos of one facade differ.
The homography of each view is returned so a test can check keypoints against the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Real photos bundled with scikit-image (no download). motorcycle_right is left out: it shows
# the same scene as motorcycle_left, which would make "different scene" pairs the same scene.
SCENES = (
    "astronaut", "coffee", "chelsea", "rocket", "motorcycle_left", "hubble_deep_field",
    "immunohistochemistry", "camera", "coins", "moon", "brick", "gravel", "page", "retina",
)


def photo(name: str) -> np.ndarray:
    """A scikit-image photo as RGB uint8 (grey photos are stacked to three channels)."""
    import skimage.data

    if name == "motorcycle_left":
        image = skimage.data.stereo_motorcycle()[0]
    elif name == "motorcycle_right":
        image = skimage.data.stereo_motorcycle()[1]
    else:
        image = getattr(skimage.data, name)()
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.shape[2] == 4:
        image = image[:, :, :3]
    if image.dtype != np.uint8:
        image = (255 * (image.astype(np.float64) / max(float(image.max()), 1e-9))).astype(np.uint8)
    return np.ascontiguousarray(image)


@dataclass
class View:
    image: np.ndarray
    to_source: np.ndarray  # 3 x 3 homography: view pixel -> source photo pixel
    scene: str
    center: tuple[float, float]  # centre of the view in source pixels


def _crop_quad(rng: np.random.Generator, w: int, h: int, frac: float, jitter: float,
               center: tuple[float, float] | None) -> np.ndarray:
    cw, ch = w * frac, h * frac
    if center is None:
        cx = rng.uniform(cw / 2, w - cw / 2)
        cy = rng.uniform(ch / 2, h - ch / 2)
    else:
        cx = float(np.clip(center[0], cw / 2, w - cw / 2))
        cy = float(np.clip(center[1], ch / 2, h - ch / 2))
    quad = np.array([[cx - cw / 2, cy - ch / 2], [cx + cw / 2, cy - ch / 2],
                     [cx + cw / 2, cy + ch / 2], [cx - cw / 2, cy + ch / 2]], dtype=np.float64)
    quad += rng.uniform(-jitter, jitter, size=quad.shape) * np.array([cw, ch])
    quad[:, 0] = np.clip(quad[:, 0], 0, w - 1)
    quad[:, 1] = np.clip(quad[:, 1], 0, h - 1)
    return quad


def make_view(source: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (320, 240),
              frac: float = 0.7, jitter: float = 0.08, center: tuple[float, float] | None = None,
              scene: str = "", photometric: bool = True) -> View:
    """A `size` (W x H) view of a region of `source` covering about `frac` of it, corners
    jittered by `jitter` of the crop size (a perspective change)."""
    import cv2

    h, w = source.shape[:2]
    quad = _crop_quad(rng, w, h, frac, jitter, center)
    out_w, out_h = size
    target = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], dtype=np.float64)
    to_source = cv2.getPerspectiveTransform(target.astype(np.float32), quad.astype(np.float32))
    image = cv2.warpPerspective(source, to_source, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REFLECT)
    if photometric:
        gain = rng.uniform(0.8, 1.2)
        bias = rng.uniform(-15, 15)
        image = np.clip(image.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
    return View(np.ascontiguousarray(image), to_source, scene, (float(quad[:, 0].mean()), float(quad[:, 1].mean())))


def map_points(h: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Apply a 3 x 3 homography to N x 2 points."""
    pts = np.hstack([xy.astype(np.float64), np.ones((len(xy), 1))]) @ h.T
    return pts[:, :2] / pts[:, 2:3]
