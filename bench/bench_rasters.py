"""Raster benchmarks: SeLo v1 on a 10,000 x 10,000 px image, and inundation on a 5,000 x 5,000 DEM.

SeLo: windows {256, 512, 768} on a synthetic georeferenced RGB GeoTIFF, encoded by a small real
ONNX conv net built here (Conv 3->16 k8 s8, ReLU, Conv 16->32 k4 s4, ReLU, global average pool,
MatMul 32->64; random weights), on this CPU. MIST's first query (read + encode every window,
cache, map, smooth, write) and second query (cached embeddings: similarity pass, cell-grid
accumulation, exact median-251 smoothing, GeoTIFF write) are measured on the full raster. The
peer is the naive procedure: crop every window and re-encode it for every query, accumulate in
full-size float64 sum/count arrays, normalise, median-blur. It is measured on a 2,500 x 2,500
crop of the same image (a full-size run needs 1.6 GB of float64 arrays per query) and scaled to
10,000 x 10,000: its window work by the window-count ratio, its per-pixel work by the pixel ratio.
Each measured phase runs in its own process, so its peak RSS is its own.

Inundation: 500 points with water depths over a synthetic 5,000 x 5,000 DEM (tilted plane with
hills and a ridge), IDW, maximum distance 800 m; time and peak RSS.

The last line is `speed ratio: X` = naive second-query time (scaled) / MIST second-query time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import speed_ratio  # puts the repository on the import path

from tests.helpers.raster_testkit import conv_encoder  # the same small real encoder as the tests

SIZES = (256, 512, 768)


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM starts afresh at exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build_image(path: Path, size: int, seed: int = 0) -> Path:
    """A synthetic aerial-like RGB image (smooth land/water fields plus texture), written by strips."""
    import cv2
    from osgeo import gdal, osr

    rng = np.random.default_rng(seed)
    coarse = rng.random((size // 250 + 2, size // 250 + 2)).astype(np.float32)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 3, gdal.GDT_Byte, ["TILED=YES"])
    ds.SetGeoTransform((500000.0, 0.3, 0, 4000000.0, 0, -0.3))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    strip = 1000
    field = cv2.resize(coarse, (coarse.shape[1] * 250, coarse.shape[0] * 250), interpolation=cv2.INTER_CUBIC)
    for r0 in range(0, size, strip):
        f = field[r0:min(r0 + strip, size), :size]
        water = f > 0.6
        noise = rng.integers(0, 40, (f.shape[0], size, 3), dtype=np.uint8)
        rgb = np.empty((f.shape[0], size, 3), np.uint8)
        rgb[..., 0] = np.where(water, 40, 90 + 80 * f).astype(np.uint8)
        rgb[..., 1] = np.where(water, 70, 120 + 60 * f).astype(np.uint8)
        rgb[..., 2] = np.where(water, 150, 60).astype(np.uint8)
        rgb = np.clip(rgb.astype(np.int16) + noise - 20, 0, 255).astype(np.uint8)
        for b in range(3):
            ds.GetRasterBand(b + 1).WriteArray(rgb[..., b], 0, r0)
    ds = None
    return path


def phase_mist(image: str, model: str, cache: str, out: str, seed: int) -> dict:
    from mist_qgis.core.rasters import selo
    from mist_qgis.core.rasters.encoders import OnnxImageEncoder
    from mist_qgis.core.rasters.selo_queries import VectorQuery

    encoder = OnnxImageEncoder(model)
    query = VectorQuery(np.random.default_rng(seed).normal(size=64).astype(np.float32))
    t = time.perf_counter()
    res = selo.selo_map(image, out, encoder, query, "v1", SIZES, cache)
    total = time.perf_counter() - t
    return {"seconds": total, "embed_s": res.seconds_embed, "map_s": res.seconds_map, "windows": res.windows,
            "encoded": res.encoded, "peak_rss_mb": peak_rss_mb()}


def phase_naive(image: str, model: str, seed: int) -> dict:
    """Crop every window, encode, full-size float64 accumulation, normalise, median blur."""
    import cv2
    from osgeo import gdal

    from mist_qgis.core.rasters.encoders import OnnxImageEncoder, resize_crop
    from mist_qgis.core.rasters.selo_grid import v1_windows

    encoder = OnnxImageEncoder(model)
    q = np.random.default_rng(seed).normal(size=64)
    q /= np.linalg.norm(q)
    t0 = time.perf_counter()
    ds = gdal.Open(image)
    h, w = ds.RasterYSize, ds.RasterXSize
    boxes = v1_windows(h, w, SIZES)
    sims = []
    for i in range(0, len(boxes), 64):
        crops = []
        for r0, r1, c0, c1 in boxes[i:i + 64]:
            crop = ds.ReadAsArray(int(c0), int(r0), int(c1 - c0), int(r1 - r0)).transpose(1, 2, 0)
            crops.append(resize_crop(np.ascontiguousarray(crop)))
        emb = encoder(np.stack(crops))
        sims.append((emb / np.linalg.norm(emb, axis=1, keepdims=True)) @ q)
    sims = np.concatenate(sims)
    t1 = time.perf_counter()
    heat = np.zeros((h, w))
    cnt = np.zeros((h, w))
    for (r0, r1, c0, c1), s in zip(boxes, sims, strict=True):
        heat[r0:r1, c0:c1] += s
        cnt[r0:r1, c0:c1] += 1
    heat /= cnt
    p = (heat - heat.min()) / (heat.max() - heat.min())
    prob = cv2.medianBlur((255 * p).astype(np.uint8), 251)
    t2 = time.perf_counter()
    assert prob.shape == (h, w)
    return {"window_s": t1 - t0, "pixel_s": t2 - t1, "windows": len(boxes), "pixels": h * w,
            "peak_rss_mb": peak_rss_mb()}


def phase_inundation(size: int, n_points: int, out: str) -> dict:
    from osgeo import gdal, osr

    from mist_qgis.core.rasters.inundation import DepthPoint, InundationParams, inundation

    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dem = 0.002 * xx + 1.5 * np.sin(xx / 300) * np.cos(yy / 400)
    dem[:, size // 2:size // 2 + 20] += 12.0  # a ridge
    del yy
    path = Path(out) / "dem.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 1, gdal.GDT_Float32, ["TILED=YES"])
    ds.SetGeoTransform((500000.0, 1.0, 0, 4000000.0, 0, -1.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).WriteArray(dem)
    ds = None
    cols = rng.integers(0, size // 2 - 50, n_points)
    rows = rng.integers(0, size, n_points)
    level = 6.0
    points = [DepthPoint(str(i), 500000.0 + c + 0.5, 4000000.0 - r - 0.5, float(max(level - dem[r, c], 0.05)))
              for i, (r, c) in enumerate(zip(rows, cols, strict=True))]
    del dem, xx
    t = time.perf_counter()
    res = inundation(path, points, out, "EPSG:32633", InundationParams(max_distance_m=800))
    return {"seconds": time.perf_counter() - t, "points": res.points_used, "area_km2": res.flooded_area_m2 / 1e6,
            "components": res.components, "step": res.step, "peak_rss_mb": peak_rss_mb()}


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=10_000, help="SeLo image side (px)")
    parser.add_argument("--naive-size", type=int, default=2_500, help="side of the image the naive peer runs on")
    parser.add_argument("--dem-size", type=int, default=5_000)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        kind, *rest = args.phase
        if kind == "mist":
            result = phase_mist(rest[0], rest[1], rest[2], rest[3], int(rest[4]))
        elif kind == "naive":
            result = phase_naive(rest[0], rest[1], int(rest[2]))
        else:
            result = phase_inundation(int(rest[0]), int(rest[1]), rest[2])
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="mist-bench-rasters-") as tmp:
        tmp = Path(tmp)
        model = str(conv_encoder(tmp / "conv.onnx", dim=64))
        t = time.perf_counter()
        image = str(build_image(tmp / "big.tif", args.size))
        print(f"synthetic image {args.size} x {args.size} x 3 written in {time.perf_counter() - t:.1f} s")
        from osgeo import gdal

        small = str(tmp / "small.tif")
        gdal.Translate(small, image, srcWin=[0, 0, args.naive_size, args.naive_size], creationOptions=["TILED=YES"])
        cache = str(tmp / "cache")
        first = _child("mist", image, model, cache, str(tmp / "q1.tif"), "1")
        second = _child("mist", image, model, cache, str(tmp / "q2.tif"), "2")
        naive = _child("naive", small, model, "2")
        from mist_qgis.core.rasters.selo_grid import v1_windows

        big_windows = len(v1_windows(args.size, args.size, SIZES))
        win_ratio = big_windows / naive["windows"]
        pix_ratio = args.size * args.size / naive["pixels"]
        naive_scaled = naive["window_s"] * win_ratio + naive["pixel_s"] * pix_ratio
        print(f"SeLo v1, {args.size} x {args.size} px, windows {SIZES}: {first['windows']} windows; "
              "encoder: 2-layer conv ONNX (64-D), onnxruntime CPU")
        print(f"MIST first query: {first['seconds']:.2f} s (read+encode {first['embed_s']:.2f} s, "
              f"map+smooth+write {first['map_s']:.2f} s), peak RSS {first['peak_rss_mb']:.0f} MB")
        print(f"MIST second query (cached embeddings, {second['encoded']} windows re-encoded): "
              f"{second['seconds']:.2f} s (cache read + similarity {second['embed_s']:.2f} s, "
              f"median-251 smoothing + GeoTIFF write {second['map_s']:.2f} s), peak RSS {second['peak_rss_mb']:.0f} MB")
        print(f"naive per query, measured on {args.naive_size} x {args.naive_size} ({naive['windows']} windows): "
              f"windows {naive['window_s']:.2f} s + per-pixel {naive['pixel_s']:.2f} s, "
              f"peak RSS {naive['peak_rss_mb']:.0f} MB")
        print(f"naive per query scaled to {args.size} x {args.size} (windows x{win_ratio:.1f}, pixels "
              f"x{pix_ratio:.0f}): {naive_scaled:.1f} s")
        inund = _child("inundation", str(args.dem_size), str(args.points), str(tmp))
        print(f"inundation {args.dem_size} x {args.dem_size} DEM, {inund['points']} points, IDW "
              f"(surface nodes every {inund['step']} cells): {inund['seconds']:.2f} s, peak RSS "
              f"{inund['peak_rss_mb']:.0f} MB, {inund['area_km2']:.2f} km2 flooded in {inund['components']} "
              "connected components")
        speed_ratio(naive_scaled, second['seconds'])


if __name__ == "__main__":
    main()
