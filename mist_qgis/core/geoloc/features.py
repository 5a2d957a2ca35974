"""Local features of one image, and their compact serialisation for the store's cache.

A reference is extracted once; its keypoints, descriptors and global embedding are stored as one
blob (an `.npz` without pickles) and read back for every later query, so matching a query
against k references costs k matcher calls, not 2k extractions.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..errors import MistError

FORMAT_VERSION = 1


class FeatureBlobError(MistError, ValueError):
    """A cached feature blob is unreadable or inconsistent (corrupt or from another format)."""


@dataclass
class Features:
    """Keypoints in the image's own pixel coordinates (N x 2, x then y), descriptors (N x D,
    stored as float16 to halve the cache: LightGlue's result does not change measurably), a
    score per keypoint, the original (width, height), and an L2-normalised global embedding used
    to rank references before matching."""

    keypoints: np.ndarray
    descriptors: np.ndarray
    scores: np.ndarray
    image_size: tuple[int, int]
    embedding: np.ndarray

    @property
    def n(self) -> int:
        return int(self.keypoints.shape[0])

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            version=np.array([FORMAT_VERSION], dtype=np.int32),
            keypoints=self.keypoints.astype(np.float32),
            descriptors=self.descriptors.astype(np.float16),
            scores=self.scores.astype(np.float32),
            image_size=np.array(self.image_size, dtype=np.int32),
            embedding=self.embedding.astype(np.float32),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Features:
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as data:
                version = int(data["version"][0])
                if version != FORMAT_VERSION:
                    raise FeatureBlobError(f"feature cache format {version}, expected {FORMAT_VERSION}")
                kp = data["keypoints"]
                desc = data["descriptors"]
                scores = data["scores"]
                size = data["image_size"]
                emb = data["embedding"]
        except FeatureBlobError:
            raise
        except Exception as exc:  # zip, key or dtype errors all mean the same to the caller
            raise FeatureBlobError(f"unreadable feature blob: {exc}") from exc
        if kp.ndim != 2 or kp.shape[1] != 2 or desc.shape[0] != kp.shape[0] or scores.shape[0] != kp.shape[0]:
            raise FeatureBlobError("feature blob has inconsistent shapes")
        return cls(kp, desc, scores, (int(size[0]), int(size[1])), emb)


def pooled_embedding(descriptors: np.ndarray) -> np.ndarray:
    """A global embedding from local descriptors: the mean of the L2-normalised descriptors,
    signed-square-rooted and L2-normalised (power normalisation tames bursty texture).

    Why this and not a separate network: it costs nothing beyond the extraction that the matcher
    needs anyway, and crops, warps and re-shoots of one facade share their local descriptors.
    """
    if descriptors.size == 0:
        return np.zeros((descriptors.shape[1] if descriptors.ndim == 2 else 0,), dtype=np.float32)
    d = descriptors.astype(np.float32)
    d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-12
    g = d.mean(axis=0)
    g = np.sign(g) * np.sqrt(np.abs(g))
    norm = np.linalg.norm(g)
    return (g / norm if norm > 0 else g).astype(np.float32)
