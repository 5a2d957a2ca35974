"""Read RGB crops of any GDAL raster (aerial or satellite, any size, any data type) block-wise.

Windows that share rows are read as one strip, so a large GeoTIFF is decoded a few times in big
sequential reads rather than once per window.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .georaster import RasterInputError, open_raster


class ImageSource:
    """RGB uint8 access to a raster; non-8-bit bands are stretched linearly over their min-max."""

    def __init__(self, path: str | Path, bands: Sequence[int] | None = None) -> None:
        self.path = Path(path).resolve()
        self.ds = open_raster(self.path)
        self.width, self.height = self.ds.RasterXSize, self.ds.RasterYSize
        count = self.ds.RasterCount
        if bands:
            bad = [b for b in bands if not 1 <= int(b) <= count]
            if bad or len(bands) not in (1, 3):
                raise RasterInputError(f"{path}: choose 1 or 3 bands among 1..{count}, got {list(bands)}")
            self.bands = [int(b) for b in bands]
        else:
            self.bands = [1, 2, 3] if count >= 3 else [1]
        self.stretch: list[tuple[float, float]] | None = None
        band1 = self.ds.GetRasterBand(self.bands[0])
        if band1.DataType != 1:  # GDT_Byte
            self.stretch = []
            for b in self.bands:
                lo, hi = self.ds.GetRasterBand(b).ComputeRasterMinMax(False)
                self.stretch.append((float(lo), float(hi) if hi > lo else float(lo) + 1.0))

    @property
    def geotransform(self) -> tuple[float, ...]:
        return tuple(self.ds.GetGeoTransform())

    @property
    def projection(self) -> str:
        return self.ds.GetProjection()

    def key(self) -> str:
        """What identifies these pixels: path, file size and mtime, bands and stretch."""
        st = os.stat(self.path)
        return json.dumps({
            "path": str(self.path), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns,
            "size": [self.width, self.height], "bands": self.bands, "stretch": self.stretch,
        }, sort_keys=True)

    def read(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Rows r0:r1, columns c0:c1 as an (r1-r0) x (c1-c0) x 3 RGB uint8 array."""
        arr = self.ds.ReadAsArray(int(c0), int(r0), int(c1 - c0), int(r1 - r0), band_list=self.bands)
        if arr is None:
            raise RasterInputError(f"cannot read rows {r0}:{r1}, columns {c0}:{c1} of {self.path}")
        arr = arr.reshape(len(self.bands), r1 - r0, c1 - c0)
        if self.stretch is not None:
            out = np.empty(arr.shape, np.uint8)
            for i, (lo, hi) in enumerate(self.stretch):
                out[i] = np.clip((arr[i].astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
            arr = out
        if len(self.bands) == 1:
            arr = np.repeat(arr, 3, axis=0)
        return np.ascontiguousarray(arr.transpose(1, 2, 0))

    def crops(self, boxes: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """(index, crop) for every box (r0, r1, c0, c1), reading each row band once."""
        order = np.lexsort((boxes[:, 2], boxes[:, 1], boxes[:, 0]))
        i = 0
        while i < len(order):
            r0, r1 = boxes[order[i], 0], boxes[order[i], 1]
            j = i
            while j < len(order) and boxes[order[j], 0] == r0 and boxes[order[j], 1] == r1:
                j += 1
            group = order[i:j]
            c_lo, c_hi = int(boxes[group, 2].min()), int(boxes[group, 3].max())
            strip = self.read(int(r0), int(r1), c_lo, c_hi)
            for k in group:
                yield int(k), strip[:, boxes[k, 2] - c_lo:boxes[k, 3] - c_lo]
            i = j
