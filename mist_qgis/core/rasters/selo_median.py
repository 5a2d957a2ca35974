"""Exact median filter of a map that is constant on cells: SeLo v1's median-251 smoothing, fast.

Why: cv2.medianBlur(ksize=251) costs ~20 ns per pixel whatever the image (2 s of CPU on a
10,000 x 10,000 map), most of a second query on cached embeddings. A SeLo v1 map is constant on
cells of >= 64 px (every window edge is a cell edge), which makes the median computable from
cell counts, bit for bit equal to cv2.medianBlur (edges replicated, as OpenCV does for ksize > 5).

How: the k x k window at (y, x) holds a_i(y) * b_j(x) pixels of cell (i, j). Along each axis the
positions split into segments on which the window covers the same cells and the counts are
affine: a(y0 + t) = a0 + t * da. Over a rectangle (row segment x column segment), the number of
window pixels <= v, C_v(t, s), is therefore bilinear in (t, s), and the median is
u_1 + sum_k (u_{k+1} - u_k) [C_{u_k} < half] over the sorted values u of the covered cells
(half = (k^2 + 1) / 2). A bilinear function takes its extremes at the rectangle's corners, so
most terms are constant on the whole rectangle; the others are solved row by row as a half-line
in s and added through a difference array. Work scales with the number of cells, not pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .selo_grid import CellMap

MAX_CELLS_PER_WINDOW = 36  # measured: at 49 cells (128 px windows) cv2.medianBlur costs the same, beyond it less


@dataclass
class AxisSegments:
    """Positions along one axis grouped into segments where the window's cell counts are affine."""

    starts: np.ndarray  # (S,) first position of each segment
    lengths: np.ndarray  # (S,)
    cells: np.ndarray  # (S, n) indices of the n consecutive cells the segment's windows may cover
    w0: np.ndarray  # (S, n) window pixels in each of those cells at the segment's first position
    dw: np.ndarray  # (S, n) their change per position along the segment


def axis_segments(edges: np.ndarray, radius: int) -> AxisSegments:
    """Segments of one axis for a window of 2 * radius + 1 pixels with replicated borders."""
    edges = np.asarray(edges, dtype=np.int64)
    size, k = int(edges[-1]), 2 * radius + 1

    def counts(pos: np.ndarray) -> np.ndarray:
        # window positions p - r .. p + r whose (border-clamped) index is below each edge
        below = np.clip(edges[None, :] - pos[:, None] + radius, 0, k)
        below[:, 0], below[:, -1] = 0, k
        return np.diff(below, axis=1)

    inner = edges[1:-1]
    kinks = np.concatenate([[0], inner - radius - 1, inner + radius])  # where a count stops being affine
    starts = np.unique(kinks[(kinks >= 0) & (kinks < size)])
    lengths = np.diff(np.append(starts, size))
    w0 = counts(starts)
    dw = np.where((lengths > 1)[:, None], counts(np.minimum(starts + 1, size - 1)) - w0, 0)
    covered = (w0 > 0) | (w0 + (lengths - 1)[:, None] * dw > 0)
    first, last = covered.argmax(axis=1), covered.shape[1] - 1 - covered[:, ::-1].argmax(axis=1)
    n = int((last - first).max()) + 1
    first = np.minimum(first, covered.shape[1] - n)  # n consecutive real cells; extra ones weigh 0
    cells = first[:, None] + np.arange(n)
    return AxisSegments(starts, lengths, cells, np.take_along_axis(w0, cells, 1), np.take_along_axis(dw, cells, 1))


def cells_per_window(cells: CellMap, ksize: int) -> int:
    """How many cells the rectangles of `median_strips` hold (its work grows with the square)."""
    return axis_segments(cells.row_edges, ksize // 2).cells.shape[1] * axis_segments(
        cells.col_edges, ksize // 2).cells.shape[1]


def median_strips(cells: CellMap, ksize: int) -> Iterator[tuple[int, np.ndarray]]:
    """cv2.medianBlur(cells.full(), ksize) as consecutive (first row, uint8 rows) strips."""
    import cv2

    if cells.values.dtype != np.uint8 or ksize % 2 == 0:
        raise ValueError("the exact cell median needs a uint8 map and an odd kernel size")
    radius, half = ksize // 2, (ksize * ksize + 1) // 2
    rows, cols = axis_segments(cells.row_edges, radius), axis_segments(cells.col_edges, radius)
    width = int(cells.col_edges[-1])
    # 2-D differences, summed by cv2.integral: float32 is exact, as every partial sum is a pixel
    # value or the difference of two. Both buffers are reused: fresh pages for every strip cost
    # more than the arithmetic (~300,000 page faults on a 10,000 x 10,000 map).
    max_rows = int(rows.lengths.max())
    diff_buf = np.empty((max_rows + 1, width + 1), np.float32)
    sum_buf = np.empty((max_rows + 2, width + 2), np.float32)
    for p, y0 in enumerate(rows.starts):
        n_rows = int(rows.lengths[p])
        u, (c00, c01, c10, c11) = _threshold_counts(cells.values, rows, cols, p)
        t1, s1 = n_rows - 1, cols.lengths[:, None] - 1
        corners = np.stack([c00, c00 + t1 * c10, c00 + s1 * c01, c00 + t1 * c10 + s1 * (c01 + t1 * c11)]) < half
        step = np.diff(u, axis=1)  # the median gains step_k wherever C_{u_k} < half
        below = corners.all(axis=0)[:, :-1]
        mixed = corners.any(axis=0)[:, :-1] & ~below & (step > 0)
        diff, summed = diff_buf[:n_rows + 1], sum_buf[:n_rows + 2]
        diff.fill(0)
        diff[0, cols.starts] = np.diff(u[:, 0] + (step * below).sum(axis=1), prepend=0)
        q, k = np.nonzero(mixed)
        if len(q):
            t = np.arange(n_rows)[:, None]
            _add_half_lines(diff, cols, q, step[q, k], half - (c00[q, k] + t * c10[q, k]), c01[q, k] + t * c11[q, k])
        summed = cv2.integral(diff, sum=summed, sdepth=cv2.CV_32F)
        yield int(y0), summed[1:n_rows + 1, 1:width + 1].astype(np.uint8)


def _threshold_counts(values: np.ndarray, rows: AxisSegments, cols: AxisSegments,
                      p: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """For row segment p and every column segment q: the sorted values u (q, k) of the covered
    cells and the coefficients of C_{u_k}(t, s) = c00 + t * c10 + s * (c01 + t * c11)."""
    n_q, nr, nc = len(cols.starts), rows.cells.shape[1], cols.cells.shape[1]
    vals = values[np.ix_(rows.cells[p], cols.cells.ravel())].reshape(nr, n_q, nc).transpose(1, 0, 2)
    u = np.sort(vals.reshape(n_q, nr * nc), axis=1)
    le = (vals[:, None] <= u[:, :, None, None]).astype(np.int64)  # (q, threshold k, row cell, col cell)
    by_a0 = np.einsum("qkrc,r->qkc", le, rows.w0[p])
    by_da = np.einsum("qkrc,r->qkc", le, rows.dw[p])
    coefs = tuple(np.einsum("qkc,qc->qk", a, b) for a in (by_a0, by_da) for b in (cols.w0, cols.dw))
    return u.astype(np.int64), coefs


def _add_half_lines(diff: np.ndarray, cols: AxisSegments, q: np.ndarray, weight: np.ndarray, gap: np.ndarray,
                    slope: np.ndarray) -> None:
    """Add `weight` on the pixels s of column segment q (one column per term, one row per t) where
    s * slope < gap, i.e. where C_{u_k} < half: an interval at the start or the end of the segment."""
    div = np.where(slope == 0, 1, slope)
    seg_len = cols.lengths[q]
    hi = np.where(slope > 0, -(-gap // div), np.where((slope < 0) | (gap > 0), seg_len, 0))
    lo = np.where(slope < 0, gap // div + 1, 0)
    x = cols.starts[q] + np.clip(np.stack([lo, hi]), 0, seg_len)  # [lo, hi) per row and term
    # as 2-D differences only the rows where an interval end moves add entries
    prev = np.concatenate([x[:, :1], x[:, :-1]], axis=1)
    moved = x != prev
    placed = moved.copy()
    placed[:, 0] = True
    row = np.arange(x.shape[1])[:, None] * diff.shape[1]
    w = np.broadcast_to(np.stack([weight, -weight])[:, None, :], x.shape).astype(np.float32)
    # flat indices: numpy's fast path for ufunc.at (a tuple of index arrays is ~30x slower)
    np.add.at(diff.reshape(-1), np.concatenate([(row + x)[placed], (row + prev)[moved]]),
              np.concatenate([w[placed], -w[moved]]))
