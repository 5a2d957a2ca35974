"""SeLo window layouts and the per-pixel heat map held at cell resolution.

Every window edge is a cell boundary, so each window covers whole cells and the per-pixel mean
of the covering windows is constant on each cell. Accumulating on the cell grid therefore gives,
pixel for pixel, the same sums and counts (same additions in the same order) as full-size
arrays, at a fraction of the memory: a 10,000 x 10,000 map with windows {256, 512, 768} has about
80 x 80 cells. Full-size pixels only exist tile by tile when the map is smoothed and written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

V1_SIZES = (256, 512, 768)
V2_TILE = 512
V2_TOP_FRACTION = 0.15
V2_BOX_SIZES = (64, 128)


def grid_spans(dim: int, size: int, origin: int) -> list[tuple[int, int]]:
    """Starts origin, origin + size, ... < dim; a window reaching the edge is snapped to [dim - size, dim]."""
    spans = []
    for start in range(origin, dim, size):
        end = start + size
        if end >= dim:
            start, end = max(dim - size, 0), dim
        spans.append((start, end))
    return spans


def _unique_rows(boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    seen: dict[tuple[int, int, int, int], None] = dict.fromkeys(boxes)
    return np.array(list(seen), dtype=np.int64).reshape(-1, 4)


def v1_windows(height: int, width: int, sizes: Sequence[int] = V1_SIZES) -> np.ndarray:
    """(r0, r1, c0, c1) of every SeLo v1 window: per size an aligned and a half-shifted grid."""
    boxes = []
    for s in sizes:
        if s < 1:
            raise ValueError(f"window size must be positive, got {s}")
        for origin in (0, s // 2):
            for r0, r1 in grid_spans(height, s, origin):
                for c0, c1 in grid_spans(width, s, origin):
                    boxes.append((r0, r1, c0, c1))
    return _unique_rows(boxes)


def v2_tiles(height: int, width: int, tile: int = V2_TILE) -> np.ndarray:
    """SeLo v2 stage 1: one aligned, edge-snapped grid of tile x tile windows."""
    return _unique_rows([(r0, r1, c0, c1) for r0, r1 in grid_spans(height, tile, 0)
                         for c0, c1 in grid_spans(width, tile, 0)])


def v2_keep_count(n_tiles: int) -> int:
    return min(int(V2_TOP_FRACTION * n_tiles) + 1, n_tiles)


def _box_span(anchor: int, size: int, dim: int) -> tuple[int, int]:
    start = anchor - size if anchor - size > 0 else 0
    return start, min(start + 2 * size, dim)


def v2_anchor_boxes(tile_box: Sequence[int], height: int, width: int, tile: int = V2_TILE,
                    sizes: Sequence[int] = V2_BOX_SIZES) -> list[tuple[int, int, int, int]]:
    """The 9 anchors of a kept tile (corners, quarter points, centre) x box sizes {64, 128}."""
    h0, w0 = int(tile_box[0]), int(tile_box[2])
    q = tile // 4
    anchors = [(h0, w0), (h0, w0 + tile), (h0 + tile, w0), (h0 + tile, w0 + tile),
               (h0 + q, w0 + q), (h0 + q, w0 + 3 * q), (h0 + 3 * q, w0 + q), (h0 + 3 * q, w0 + 3 * q),
               (h0 + tile // 2, w0 + tile // 2)]
    boxes = []
    for ah, aw in anchors:
        for size in sizes:
            r0, r1 = _box_span(ah, size, height)
            c0, c1 = _box_span(aw, size, width)
            boxes.append((r0, r1, c0, c1))
    return boxes


@dataclass
class CellMap:
    """A per-pixel map that is constant on the cells between `row_edges` x `col_edges`."""

    row_edges: np.ndarray
    col_edges: np.ndarray
    values: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.row_edges[-1]), int(self.col_edges[-1])

    def block(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Pixels r0:r1 x c0:c1 at full resolution (outside the map: edge cells replicated)."""
        h, w = self.shape
        rows = np.searchsorted(self.row_edges, np.clip(np.arange(r0, r1), 0, h - 1), side="right") - 1
        cols = np.searchsorted(self.col_edges, np.clip(np.arange(c0, c1), 0, w - 1), side="right") - 1
        return self.values[np.ix_(rows, cols)]

    def full(self) -> np.ndarray:
        h, w = self.shape
        return self.block(0, h, 0, w)


def accumulate(boxes: np.ndarray, scores: np.ndarray, height: int, width: int) -> tuple[CellMap, np.ndarray]:
    """Per-pixel mean of the scores of the boxes covering each pixel; (map, covered cells mask).

    Uncovered cells get 0, as SeLo v2 leaves them. Boxes may repeat; each occurrence counts.
    """
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    row_edges = np.unique(np.concatenate([[0, height], boxes[:, 0], boxes[:, 1]]))
    col_edges = np.unique(np.concatenate([[0, width], boxes[:, 2], boxes[:, 3]]))
    ri = np.searchsorted(row_edges, boxes[:, :2])
    ci = np.searchsorted(col_edges, boxes[:, 2:])
    heat = np.zeros((len(row_edges) - 1, len(col_edges) - 1), np.float64)
    count = np.zeros_like(heat)
    for (a, b), (c, d), s in zip(ri, ci, np.asarray(scores, np.float64), strict=True):
        heat[a:b, c:d] += s
        count[a:b, c:d] += 1
    covered = count > 0
    mean = np.zeros_like(heat)
    np.divide(heat, count, out=mean, where=covered)
    return CellMap(row_edges, col_edges, mean), covered


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Min-max normalise and truncate: uint8(255 * (v - min) / (max - min)). A flat map is all 0."""
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        return np.zeros(values.shape, np.uint8)
    p = (values - lo) / (hi - lo)
    return (255 * p).astype(np.uint8)
