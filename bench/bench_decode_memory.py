"""Memory of the media stage decoding large photos on many workers: with and without the decode budget.

The case from the field: a collection whose photos are all just under the 50-megapixel cap
(8000 x 6000, smooth enough to be a few hundred kilobytes each as JPEG), vetted by the media stage
with 8 workers. Every worker decodes a full photo (150 MB of RGB, plus Pillow's working copies),
makes the cache entry, the thumbnail and the pHash.

- MIST: `run_fetch_media` (offline, from a folder) with the process-wide decode budget as shipped
  (`DEFAULT_DECODE_BUDGET` pixels in flight).
- Peer: the same stage as it was before the budget: no budget, and Pillow's default 16 MiB
  allocation blocks (glibc keeps those in per-thread heaps after the first photo, so memory
  freed by one worker is not given back). Only the in-place thumbnail is shared by both.

Each runs in a fresh process; the figure is that process's peak resident set size (VmHWM)
minus its peak just before the run. Prints both, `memory ratio: X` (peer peak / MIST peak) and,
last, `speed ratio: X` (peer time / MIST time: what the bound costs in time).
"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

from common import command_line, speed_ratio  # noqa: E402  (puts the repository on the import path)


def make_photos(folder: Path, n: int, width: int, height: int) -> int:
    """N distinct smooth JPEGs of width x height; returns their total size in bytes."""
    import numpy as np
    from PIL import Image

    yy, xx = np.mgrid[0:height, 0:width]
    total = 0
    for i in range(n):
        rgb = np.empty((height, width, 3), np.uint8)
        rgb[..., 0] = (xx * 255 // width + i * 29) % 256
        rgb[..., 1] = (yy * 255 // height + i * 53) % 256
        rgb[..., 2] = ((xx + yy) * 255 // (width + height) + i * 97) % 256
        rgb[height // 4: height // 2, width // 4: width // 4 + width // (i + 3)] = (255, 255, 255)
        path = folder / f"photo_{i}.jpg"
        Image.fromarray(rgb).save(path, format="JPEG", quality=80)
        total += path.stat().st_size
        del rgb
    return total


def _peak_kb() -> int:
    """This process's peak resident set (VmHWM, KiB). Not ru_maxrss: Linux carries that across
    exec, so a spawned child would start from its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_stage(folder: str, store_path: str, workers: int, bounded: bool, out) -> None:
    """Child process: vet every photo of `folder` with `workers` threads; report memory and time."""
    import numpy as np  # noqa: F401 (imported before the baseline, as the stage would)
    from PIL import Image

    from mist_qgis.core.images import safe_decode
    from mist_qgis.core.images.pipeline import FetchOptions, run_fetch_media
    from mist_qgis.core.posts import MediaRef, PostRecord
    from mist_qgis.core.store import open_store

    if not bounded:  # the stage as it was: no budget, Pillow's default 16 MiB blocks
        safe_decode.DECODE_BUDGET.capacity = 10**15
        safe_decode._return_freed_pixels_to_the_system()
        Image.core.set_block_size(16 * 1024 * 1024)
    names = sorted(p.name for p in Path(folder).glob("*.jpg"))
    with open_store(Path(store_path)) as store:
        with store.batch() as conn:
            store.add_posts(conn, [PostRecord(str(i), "bench", 1.0, 2.0, media=[MediaRef(path=name)])
                                   for i, name in enumerate(names)])
        options = FetchOptions(offline=True, media_dir=Path(folder), workers=workers, dedup=False,
                               locate_from_exif=False)
        baseline = _peak_kb()
        start = time.perf_counter()
        summary = run_fetch_media(store, options)
        seconds = time.perf_counter() - start
    out.put({"ok": summary.counts["ok"], "seconds": seconds, "baseline_kb": baseline, "peak_kb": _peak_kb(),
             "budget_peak": safe_decode.DECODE_BUDGET.peak, "capacity": safe_decode.DECODE_BUDGET.capacity})


def measure(folder: Path, store_path: Path, workers: int, bounded: bool) -> dict:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=run_stage, args=(str(folder), str(store_path), workers, bounded, out))
    child.start()
    result = out.get(timeout=1800)
    child.join(60)
    return result


def main() -> int:
    parser = command_line(__doc__)
    parser.add_argument("--n", type=int, default=8, help="photos (default 8)")
    parser.add_argument("--width", type=int, default=8000)
    parser.add_argument("--height", type=int, default=6000)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    from mist_qgis.core.images.safe_decode import DEFAULT_DECODE_BUDGET, DEFAULT_MAX_PIXELS

    with tempfile.TemporaryDirectory(prefix="mist-bench-decode-") as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        size = make_photos(folder, args.n, args.width, args.height)
        mp = args.width * args.height / 1e6
        print(f"{args.n} JPEGs of {args.width}x{args.height} ({mp:.1f} MP; cap {DEFAULT_MAX_PIXELS / 1e6:g} MP), "
              f"{size / 1e6:.2f} MB on disk, {args.workers} workers")
        peer = measure(folder, Path(tmp) / "peer.gpkg", args.workers, bounded=False)
        mist = measure(folder, Path(tmp) / "mist.gpkg", args.workers, bounded=True)
    for name, r in (("peer", peer), ("mist", mist)):
        if r["ok"] != args.n:
            print(f"{name}: only {r['ok']} of {args.n} photos vetted")
            return 1
    peer_mb = (peer["peak_kb"] - peer["baseline_kb"]) / 1024
    mist_mb = (mist["peak_kb"] - mist["baseline_kb"]) / 1024
    print(f"peer (no decode budget): peak RSS {peer['peak_kb'] / 1024:.0f} MB "
          f"(+{peer_mb:.0f} MB over the {peer['baseline_kb'] / 1024:.0f} MB before the run), "
          f"{peer['seconds']:.2f} s, {peer['budget_peak'] / 1e6:.0f} MP decoding at once")
    print(f"MIST (decode budget {DEFAULT_DECODE_BUDGET / 1e6:g} MP): peak RSS {mist['peak_kb'] / 1024:.0f} MB "
          f"(+{mist_mb:.0f} MB over the {mist['baseline_kb'] / 1024:.0f} MB before the run), "
          f"{mist['seconds']:.2f} s, {mist['budget_peak'] / 1e6:.0f} MP decoding at once")
    print(f"memory ratio: {peer_mb / max(mist_mb, 1.0):.2f}")
    speed_ratio(peer['seconds'], mist['seconds'])
    return 0


if __name__ == "__main__":
    sys.exit(main())
