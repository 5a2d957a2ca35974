"""Measure MIST's geolocation confidence constants (core/geoloc/scoring.py CONFIDENCE_*).

Pairs with known truth from real photos (core/geoloc/synthetic.py): a positive is two views of
one scene whose centres are close (two photos of one facade), a negative is two views of
different scenes. For each pair the matcher runs, a fundamental matrix is fitted with MAGSAC++,
and a logistic regression on [ln(1 + max(0, inliers - 7)), inlier_ratio] is fitted (7 matches
always fit a fundamental matrix exactly, so they are no evidence). Prints the constants, the
inlier statistics of both classes and the accuracy at confidence 0.5. `--rows-out` saves the
measured pairs as CSV (label, scene_a, scene_b, matches, inliers, ratio); `--rows-in` refits
from such a file without matching again.

    .venv/bin/python scripts/calibrate_geoloc_confidence.py [--matcher disk-lightglue] [--seed 0]
    .venv/bin/python scripts/calibrate_geoloc_confidence.py --rows-in scripts/geoloc_calibration_pairs.csv

The committed constants come from scripts/geoloc_calibration_pairs.csv (seed 0, 3 pairs per scene;
its ratios are rounded to 2 decimals): accuracy 1.000 at 0.5, A = -8.23, B = 2.11, C = 0.32.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mist_qgis.core.geoloc import matchers, scoring, synthetic  # noqa: E402


def pairs(rng: np.random.Generator, per_scene: int, size: tuple[int, int]):
    photos = {name: synthetic.photo(name) for name in synthetic.SCENES}
    names = list(photos)
    for i, name in enumerate(names):
        src = photos[name]
        h, w = src.shape[:2]
        for _ in range(per_scene):
            a = synthetic.make_view(src, rng, size, frac=rng.uniform(0.4, 0.8), jitter=0.15, scene=name)
            # hard positives: up to 35 % shift, scale change, strong perspective (partial overlap)
            shift = rng.uniform(-0.35, 0.35, 2) * np.array([w, h]) * 0.6
            b = synthetic.make_view(src, rng, size, frac=rng.uniform(0.4, 0.8), jitter=0.15,
                                    center=(a.center[0] + shift[0], a.center[1] + shift[1]), scene=name)
            yield a, b, 1
            for _ in range(2):
                other = names[(i + rng.integers(1, len(names))) % len(names)]
                c = synthetic.make_view(photos[other], rng, size, frac=0.6, scene=other)
                yield a, c, 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matcher", default="disk-lightglue")
    parser.add_argument("--per-scene", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows-out", help="save the measured pairs to this CSV")
    parser.add_argument("--rows-in", help="refit from a CSV saved by --rows-out (no matching)")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    if args.rows_in:
        rows = [(float(r[4]), float(r[5]), float(r[3]), int(r[0])) for r in
                (line.split(",") for line in Path(args.rows_in).read_text().splitlines()[1:] if line.strip())]
        return fit(rows, LogisticRegression)
    import torch

    torch.set_num_threads(1)

    matcher = matchers.create(args.matcher)
    rng = np.random.default_rng(args.seed)
    rows = []
    saved = ["label,scene_a,scene_b,matches,inliers,ratio"]
    left, right = synthetic.photo("motorcycle_left"), synthetic.photo("motorcycle_right")
    stereo = []
    for _ in range(args.per_scene * 2):  # real parallax: the Middlebury stereo pair, cropped differently
        a = synthetic.make_view(left, rng, (480, 360), frac=rng.uniform(0.5, 0.8), jitter=0.1, scene="moto")
        b = synthetic.make_view(right, rng, (480, 360), frac=rng.uniform(0.5, 0.8), jitter=0.1, center=a.center,
                                scene="moto")
        stereo.append((a, b, 1))
    for a, b, label in [*pairs(rng, args.per_scene, (480, 360)), *stereo]:
        m = matcher.match(a.image, b.image)
        g = scoring.verify(m)
        rows.append((g.inliers, g.inlier_ratio, m.n, label))
        print(label, a.scene, b.scene, m.n, g.inliers, round(g.inlier_ratio, 2), flush=True)
        saved.append(f"{label},{a.scene},{b.scene},{m.n},{g.inliers},{g.inlier_ratio:.4f}")
    if args.rows_out:
        Path(args.rows_out).write_text("\n".join(saved) + "\n")
    return fit(rows, LogisticRegression)


def fit(rows, logistic_regression) -> int:
    data = np.array(rows, dtype=np.float64)
    x = np.column_stack([np.log1p(np.maximum(0.0, data[:, 0] - 7.0)), data[:, 1]])
    y = data[:, 3].astype(int)
    model = logistic_regression(C=1.0).fit(x, y)
    a = float(model.intercept_[0])
    b, c = (float(v) for v in model.coef_[0])
    for label, name in ((1, "same scene"), (0, "different scenes")):
        sel = data[y == label]
        print(f"{name}: n={len(sel)} inliers median {np.median(sel[:, 0]):.0f} "
              f"[{sel[:, 0].min():.0f}, {sel[:, 0].max():.0f}], ratio median {np.median(sel[:, 1]):.2f}, "
              f"matches median {np.median(sel[:, 2]):.0f}")
    conf = 1 / (1 + np.exp(-(a + b * x[:, 0] + c * x[:, 1])))
    print(f"accuracy at 0.5: {np.mean((conf >= 0.5) == (y == 1)):.3f}")
    print(f"CONFIDENCE_A = {a:.2f}\nCONFIDENCE_B = {b:.2f}\nCONFIDENCE_C = {c:.2f}")
    for inliers, ratio in ((10, 0.8), (25, 0.5), (50, 0.8), (100, 0.9)):
        z = a + b * math.log1p(max(0, inliers - 7)) + c * ratio
        print(f"confidence at {inliers} inliers, ratio {ratio}: {1 / (1 + math.exp(-z)):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
