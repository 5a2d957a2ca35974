"""The SLM region mask is the reference's (OpenCV <= 4.7 `fillPoly`) whatever OpenCV is installed.

Checked against small cases computed by hand and against an independent rasteriser written here
from the rule's definition: a pixel is inside when an odd number of edge crossings of its row lie
strictly left of its centre or one lies on it (crossings in 16.16 fixed point from each edge's
upper vertex, rows y0 <= y < y1), or when OpenCV's 8-connected line iterator visits it on an edge.
"""

from __future__ import annotations

import numpy as np
import pytest

from mist_qgis.core.rasters import slm_metrics as slm

ONE = 1 << 16


def _reference_line(x1, y1, x2, y2):
    """OpenCV's LineIterator (8-connected, left to right) step by step, with its error term."""
    if x2 < x1:
        x1, y1, x2, y2 = x2, y2, x1, y1
    dx, dy = x2 - x1, abs(y2 - y1)
    step_y = 1 if y2 >= y1 else -1
    x_major = dy <= dx
    a, b = (dx, dy) if x_major else (dy, dx)
    err = a - 2 * b
    x, y = x1, y1
    out = []
    for _ in range(a + 1):
        out.append((x, y))
        diagonal = err < 0
        err += -2 * b + (2 * a if diagonal else 0)
        if x_major:
            x += 1
            y += step_y if diagonal else 0
        else:
            y += step_y
            x += 1 if diagonal else 0
    return out


def _reference_mask(shape, polygons):
    """Per pixel, from the definition (polygons inside the image, integer vertices)."""
    h, w = shape
    mask = np.zeros(shape, bool)
    crossings = []  # (y0, y1, x at y0 in 16.16, step per row)
    for poly in polygons:
        for (x0, y0), (x1, y1) in zip(poly[-1:] + poly[:-1], poly, strict=True):
            for x, y in _reference_line(x0, y0, x1, y1):
                mask[y, x] = True
            if y0 != y1:
                q = int(((x1 - x0) * ONE) / (y1 - y0))  # truncation towards zero, as C does
                top = (x0, y0) if y0 < y1 else (x1, y1)
                crossings.append((min(y0, y1), max(y0, y1), top[0] * ONE, q))
    if len(crossings) < 2:  # OpenCV fills nothing with fewer than two non-horizontal edges
        return mask
    for row in range(h):
        xs = [x + (row - y0) * q for y0, y1, x, q in crossings if y0 <= row < y1]
        for col in range(w):
            left = sum(1 for x in xs if x < col * ONE)
            on = any(x == col * ONE for x in xs)
            if left % 2 == 1 or on:
                mask[row, col] = True
    return mask


def _mask(shape, polygons):
    return slm.region_mask(shape, [np.asarray(p, float) for p in polygons]).astype(bool)


def _pixels(mask):
    return {(int(r), int(c)) for r, c in np.argwhere(mask)}


def test_hand_computed_small_cases():
    # a thin triangle: the crossings of row 3 are 0.5 and 0.75 (no pixel centre between them), so
    # row 3 holds only the two edges' own pixels; OpenCV 4.8-4.10 also fill (row 2, column 1)
    assert _pixels(_mask((7, 7), [[[0, 0], [0, 2], [1, 4]]])) == {(0, 0), (1, 0), (2, 0), (3, 0), (3, 1), (4, 1)}
    # a right triangle: rows 0-3 from column 0 to the hypotenuse, row 4 its end pixel
    expected = {(r, c) for r in range(5) for c in range(5 - r)}
    assert _pixels(_mask((6, 6), [[[0, 0], [4, 0], [0, 4]]])) == expected
    # a slanted strip one pixel wide at the top: edges step 21845/65536 px per row (3/9 truncated),
    # every row holds two pixels, shifting right by one every third row
    got = _pixels(_mask((10, 8), [[[2, 0], [3, 0], [6, 9], [5, 9]]]))
    assert got == {(r, c) for r in range(10) for c in (2 + (r + 1) // 3, 3 + (r + 1) // 3)}
    # float vertices truncate towards zero, as the reference's int32 cast
    truncated = _mask((6, 6), [[[0.9, 0.2], [4.99, 0.7], [0.3, 4.8]]])
    assert np.array_equal(truncated, _mask((6, 6), [[[0, 0], [4, 0], [0, 4]]]))


def _narrow_slanted(rng, shape):
    h, w = shape
    polys = []
    for _ in range(int(rng.integers(1, 4))):
        kind = rng.integers(0, 3)
        if kind == 0:  # a strip a few pixels wide, slanted
            x0, width, slope = rng.uniform(2, w - 20), rng.uniform(0.5, 4), rng.uniform(-0.4, 0.4)
            top, bottom = rng.uniform(0, h / 3), rng.uniform(2 * h / 3, h - 1)
            poly = [[x0, top], [x0 + width, top], [x0 + width + slope * (bottom - top), bottom],
                    [x0 + slope * (bottom - top), bottom]]
        elif kind == 1:  # a sliver triangle
            poly = rng.uniform([0, 0], [w - 1, h - 1], (3, 2)).tolist()
        else:  # a general polygon with repeated vertices
            pts = rng.uniform([0, 0], [w - 1, h - 1], (int(rng.integers(4, 10)), 2))
            poly = np.vstack([pts, pts[:1]]).tolist()
        polys.append([[int(np.clip(x, 0, w - 1)), int(np.clip(y, 0, h - 1))] for x, y in poly])
    return polys


@pytest.mark.parametrize("seed", range(6))
def test_narrow_and_slanted_polygons_match_the_independent_rasteriser(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        shape = (int(rng.integers(12, 60)), int(rng.integers(30, 90)))
        polys = _narrow_slanted(rng, shape)
        assert np.array_equal(_mask(shape, polys), _reference_mask(shape, polys)), polys


def test_rsu_of_a_narrow_map_with_slanted_regions_follows_the_reference_rule():
    """A 24 x 160 map with a slanted five-vertex region: Rsu with the reference's mask, whatever
    cv2 draws (OpenCV 4.8-4.10 fill 6 more pixels here and move Rsu by 1.3e-2)."""
    import cv2

    h, w = 24, 160
    region = [[117, 20], [118, 20], [123, 13], [135, 17], [141, 5]]
    cc = np.mgrid[:h, :w][1]
    prob = np.clip(1.0 - np.abs(cc - 118) / 12.0, 0.1, 1.0)
    reference = _reference_mask((h, w), [region])
    assert reference.sum() == 99
    got = slm.evaluate(prob, [region])["Rsu"]
    assert got == slm.rsu(prob, reference.astype(np.float64))
    assert got == pytest.approx(0.669618, abs=1e-6)
    installed = np.zeros((h, w))
    cv2.fillPoly(installed, [np.array(region, np.int32)], 1)
    version = tuple(int(v) for v in cv2.__version__.split(".")[:2])
    if (4, 8) <= version <= (4, 10):
        assert installed.sum() == 105 and abs(slm.rsu(prob, installed) - got) > 1e-2
