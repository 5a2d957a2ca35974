"""Near-duplicate photos: the same picture reposted, recompressed or resized.

Two signals, both cheap on the 256 px thumbnails:
- a 64-bit perceptual hash (imagehash's DCT pHash) finds candidates: photos whose hashes differ
  in at most `max_distance` bits;
- the MIST-SMMD rule confirms them: the grey-level 256-bin histograms correlate above 0.9
  (OpenCV HISTCMP_CORREL), and then the later photo is the duplicate.

The histogram alone is the MIST-SMMD rule for frames of one video; across posts it is too weak
(two different overcast street photos share a histogram), so for photos a candidate must pass
both. Duplicates are linked to the earliest photo of their group, never deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

HIST_CORRELATION = 0.9  # MIST-SMMD: correlation above this makes the later image a duplicate
PHASH_MAX_DISTANCE = 10  # of 64 bits

_POPCOUNT = None


def perceptual_hash(image: Any) -> str:
    """64-bit pHash as 16 hex digits (what `media.phash` holds)."""
    import imagehash

    return str(imagehash.phash(image))


def grey_histogram(image: Any):
    """256-bin grey histogram (float32, as OpenCV's calcHist gives it) of a PIL image or an
    RGB uint8 array."""
    import cv2
    import numpy as np

    if isinstance(image, np.ndarray):
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    else:
        grey = np.asarray(image.convert("L"))
    return cv2.calcHist([np.ascontiguousarray(grey)], [0], None, [256], [0, 256])


def histogram_correlation(a, b) -> float:
    import cv2

    return float(cv2.compareHist(a, b, cv2.HISTCMP_CORREL))


def hamming_distances(hashes, value: int):
    """Bit distance of one 64-bit hash to each of an array of uint64 hashes."""
    import numpy as np

    global _POPCOUNT
    if _POPCOUNT is None:
        _POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    x = np.bitwise_xor(hashes, np.uint64(value))
    return _POPCOUNT[x.view(np.uint8)].reshape(-1, 8).sum(axis=1, dtype=np.int32)


@dataclass(frozen=True)
class DedupItem:
    """One photo in posting order: earlier items are the originals."""

    fid: int
    phash: str
    sha256: str | None = None


def find_duplicates(
    items: Sequence[DedupItem],
    histogram: Callable[[DedupItem], Any],
    max_distance: int = PHASH_MAX_DISTANCE,
    threshold: float = HIST_CORRELATION,
) -> dict[int, int]:
    """Map each duplicate's fid to the fid of the earliest photo it repeats.

    `items` must be in posting order. Identical content (same sha256) is a duplicate outright;
    otherwise the candidates within `max_distance` hash bits are tried nearest first and the
    first whose histogram correlates above `threshold` wins (`histogram` returns None for a photo
    that cannot be read: it is linked to nothing). `histogram` is only called for
    items that have a candidate, so photos without look-alikes cost one vector XOR each.
    """
    import numpy as np

    kept = np.zeros(len(items), dtype=np.uint64)
    kept_items: list[DedupItem] = []
    by_sha: dict[str, int] = {}
    hist_cache: dict[int, Any] = {}

    def hist(item: DedupItem):
        if item.fid not in hist_cache:
            hist_cache[item.fid] = histogram(item)
        return hist_cache[item.fid]

    duplicates: dict[int, int] = {}
    for item in items:
        if item.sha256 and item.sha256 in by_sha:
            duplicates[item.fid] = by_sha[item.sha256]
            continue
        try:
            value = int(item.phash, 16)
        except (TypeError, ValueError):
            continue
        original = None
        if kept_items:
            distances = hamming_distances(kept[: len(kept_items)], value)
            candidates = np.flatnonzero(distances <= max_distance)
            for index in candidates[np.argsort(distances[candidates], kind="stable")]:
                other = kept_items[int(index)]
                mine, theirs = hist(item), hist(other)
                if mine is None or theirs is None:  # a photo that no longer decodes links to nothing
                    continue
                if histogram_correlation(mine, theirs) > threshold:
                    original = other.fid
                    break
        if original is not None:
            duplicates[item.fid] = original
            continue
        kept[len(kept_items)] = value
        kept_items.append(item)
        if item.sha256:
            by_sha[item.sha256] = item.fid
    return duplicates


def distinct_by_histogram(
    keys: Sequence[Hashable], histograms: Sequence[Any], threshold: float = HIST_CORRELATION,
) -> list[Hashable]:
    """The MIST-SMMD frame rule: walk in order, drop an item whose grey histogram correlates
    above `threshold` with one already kept."""
    kept: list[tuple[Hashable, Any]] = []
    for key, hist in zip(keys, histograms, strict=True):
        if all(histogram_correlation(hist, other) <= threshold for _, other in kept):
            kept.append((key, hist))
    return [key for key, _ in kept]
