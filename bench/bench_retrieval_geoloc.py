"""Geolocation accuracy on a held-out geotagged set, the field's protocol: the share of photos
placed within 25 m, 100 m and 1 km, and the median error, for three ways side by side:
- retrieval alone: the kernel estimate from the k nearest geotagged photos (Img2Loc without an
  LLM), and the top-1 neighbour's position;
- retrieval + LSGL: the neighbours' areas are the candidate references (DISK + LightGlue); a photo
  that LSGL does not place keeps the retrieval estimate;
- text + LSGL as before: the post has a place from its text (a point up to `--text-offset` m from
  the truth, with the paper's 500 m radius) and LSGL matches the references inside it; a photo
  LSGL does not place keeps the text's point.

Data, built the way bench_geoloc.py builds scenes: real photos shipped by scikit-image, in four
orientations, with regions of them as places scattered over a `--area` m square. Each place has
one reference view (the street-level imagery), `--geotagged` other views posted with a GPS
location a few metres off (the store's geotagged photos), and one held-out query view whose true
position is the place. `--distractors` more reference views of other regions stand at random
places, so a text place's radius holds tens of candidates, as in a real street network. Image
embeddings are EfficientNet-Lite0 run through ONNX Runtime (models/build), like the store's
embedding step. Numbers are for this synthetic city: one scene
per place, so retrieval is easier than among real, repetitive streets.
    .venv/bin/python bench/bench_retrieval_geoloc.py [--places 40] [--top-k 5]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import command_line  # noqa: E402  (puts the repository on the import path)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))

from bench_geoloc import VARIANTS, variant  # noqa: E402
from geoloc_helpers import add_post_with_photos  # noqa: E402

from mist_qgis.core.geodesy import haversine_m  # noqa: E402
from mist_qgis.core.geoloc import locate, retrieval, synthetic  # noqa: E402
from mist_qgis.core.geoloc.photos import check_array  # noqa: E402
from mist_qgis.core.geoloc.records import CoarseLocation  # noqa: E402
from mist_qgis.core.geoloc.references import import_references  # noqa: E402
from mist_qgis.core.models.embeddings import embed_photos  # noqa: E402
from mist_qgis.core.store import geoloc_sql as sql  # noqa: E402
from mist_qgis.core.store import gpkg, open_store  # noqa: E402

ORIGIN = (113.62, 34.72)
THRESHOLDS = (25.0, 100.0, 1000.0)


def lonlat(east: float, north: float) -> tuple[float, float]:
    return (ORIGIN[0] + east / (111_320.0 * np.cos(np.radians(ORIGIN[1]))), ORIGIN[1] + north / 111_320.0)


def view(rng, src, size, frac, center, jitter, tag):
    """A usable view around `center`, or None when 20 draws all show a blank region."""
    for _ in range(20):
        v = synthetic.make_view(src, rng, size, frac=frac, jitter=jitter, center=center, scene=tag)
        if not check_array(v.image):
            return v
    return None


def build(folder: Path, store, args) -> dict[str, tuple[float, float]]:
    """References, geotagged posts and unlocated query posts; returns query post_id -> truth."""
    from PIL import Image

    rng = np.random.default_rng(args.seed)
    scenes = [(name, v) for name in synthetic.SCENES for v in VARIANTS]
    sources = {s: variant(synthetic.photo(s[0]), s[1]) for s in scenes}
    lines = ["id,lon,lat,heading,path"]
    truth = {}
    for p in range(args.places):
        scene = scenes[p % len(scenes)]
        src = sources[scene]
        h, w = src.shape[:2]
        ref = None
        while ref is None:  # a blank region (night sky, page margin) is no place: draw another
            center = (w * float(rng.uniform(0.3, 0.7)), h * float(rng.uniform(0.3, 0.7)))
            frac = float(rng.uniform(0.35, 0.55))
            ref = view(rng, src, (320, 240), frac, center, 0.06, f"ref{p}")
        pos = lonlat(*rng.uniform(0, args.area, 2))
        Image.fromarray(ref.image).save(folder / f"r{p:03d}.jpg", quality=92)
        lines.append(f"r{p:03d},{pos[0]:.7f},{pos[1]:.7f},0,r{p:03d}.jpg")
        for g in range(args.geotagged):
            gv = view(rng, src, (400, 300), frac * float(rng.uniform(0.8, 1.2)), center, 0.1, f"g{p}_{g}")
            if gv is None:
                continue
            gpos = lonlat(*(np.array(rng.uniform(-10, 10, 2)) + 0))
            at = (pos[0] + gpos[0] - ORIGIN[0], pos[1] + gpos[1] - ORIGIN[1])
            add_post_with_photos(store, f"g{p:03d}_{g}", at, 10.0, [gv.image], fmt="PNG")
        q = view(rng, src, (400, 300), frac * float(rng.uniform(0.9, 1.1)), center, 0.1, f"q{p}")
        if q is None:
            continue
        add_post_with_photos(store, f"q{p:03d}", None, None, [q.image], fmt="PNG")
        truth[f"q{p:03d}"] = pos
    for i in range(args.distractors):  # the rest of the street-level imagery: other views, other places
        while True:  # a blank region (night sky, page margin) is drawn again elsewhere
            src = sources[scenes[int(rng.integers(len(scenes)))]]
            h, w = src.shape[:2]
            center = (w * float(rng.uniform(0.2, 0.8)), h * float(rng.uniform(0.2, 0.8)))
            d = synthetic.make_view(src, rng, (320, 240), frac=float(rng.uniform(0.3, 0.6)), jitter=0.06,
                                    center=center, scene=f"d{i}")
            if not check_array(d.image):
                break
        Image.fromarray(d.image).save(folder / f"d{i:04d}.jpg", quality=92)
        pos = lonlat(*rng.uniform(0, args.area, 2))
        lines.append(f"d{i:04d},{pos[0]:.7f},{pos[1]:.7f},0,d{i:04d}.jpg")
    (folder / "refs.csv").write_text("\n".join(lines) + "\n")
    import_references(store, folder / "refs.csv", collection="bench")
    return truth


def row(name: str, errors: list[float]) -> str:
    e = np.array(errors)
    shares = " ".join(f"{100.0 * float(np.mean(e <= t)):8.1f}" for t in THRESHOLDS)
    return f"| {name:<32} | {shares} | {float(np.median(e)):9.0f} |"


def post_points(store) -> dict[str, tuple[float, float, str]]:
    out = {}
    for r in store.query("SELECT post_id, geom, geo_source FROM posts WHERE post_id LIKE 'q%'"):
        if r["geom"] is not None and not gpkg.is_empty(r["geom"]):
            out[r["post_id"]] = (*gpkg.point_xy(r["geom"]), r["geo_source"])
    return out


def main() -> int:
    ap = command_line(__doc__)
    ap.add_argument("--places", type=int, default=40)
    ap.add_argument("--geotagged", type=int, default=2, help="geotagged posts per place")
    ap.add_argument("--distractors", type=int, default=400, help="references at other places")
    ap.add_argument("--area", type=float, default=3000.0, help="side of the city square (m)")
    ap.add_argument("--k", type=int, default=5, help="retrieval neighbours")
    ap.add_argument("--top-k", type=int, default=5, help="references matched per photo")
    ap.add_argument("--text-offset", type=float, default=300.0, help="largest text-place error (m)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models", default=str(Path(__file__).resolve().parents[1] / "models" / "build"))
    args = ap.parse_args()
    models = Path(args.models)
    options = dict(matcher="disk-lightglue", top_k=args.top_k, min_confidence=0.5, max_side=320,
                   max_keypoints=512)
    with tempfile.TemporaryDirectory(prefix="mist-bench-retrieval-") as tmp:
        tmp = Path(tmp)
        (tmp / "refs").mkdir()
        t0 = time.perf_counter()
        with open_store(tmp / "a.gpkg") as store:
            truth = build(tmp / "refs", store, args)
            emb = embed_photos(store, models / "efficientnet-lite0.onnx")
        side = f"{args.area / 1000:.0f} km"
        print(f"data: {args.places} places + {args.distractors} other references over {side} x {side}, "
              f"{args.places * args.geotagged} geotagged photos, {len(truth)} held-out queries; "
              f"{emb.embedded} embeddings ({emb.model}); built in {time.perf_counter() - t0:.0f} s", flush=True)
        shutil.copy(tmp / "a.gpkg", tmp / "c.gpkg")
        shutil.copytree(tmp / "a.gpkg.media", tmp / "c.gpkg.media")
        errors: dict[str, list[float]] = {}
        with open_store(tmp / "a.gpkg") as store:
            run = retrieval.locate_by_retrieval(store, emb.model, k=args.k)
            post_of = {r["fid"]: r["post_id"] for r in store.query(
                "SELECT m.fid, p.post_id FROM media m JOIN posts p ON p.fid = m.post_fid")}
            estimate = {post_of[f]: e for f, e in run.estimates.items() if post_of[f] in truth}
            radii = [e.radius_m for e in estimate.values()]
            errors["retrieval (kernel estimate)"] = [
                float(haversine_m(*truth[q], e.lon, e.lat)) for q, e in estimate.items()]
            errors["retrieval (top-1 neighbour)"] = [
                float(haversine_m(*truth[q], e.neighbours[0].lon, e.neighbours[0].lat))
                for q, e in estimate.items()]
            inside = np.mean([float(haversine_m(*truth[q], e.lon, e.lat)) <= e.radius_m
                              for q, e in estimate.items()])
            queries = tuple(r[0] for r in store.query("SELECT fid FROM posts WHERE post_id LIKE 'q%'"))
            t0 = time.perf_counter()
            summary = locate.geolocate(store, locate.GeolocateOptions(**options, retrieval_model=emb.model,
                                                                      retrieval_k=args.k, post_fids=queries))
            t_b = time.perf_counter() - t0
            placed = post_points(store)
            errors["retrieval + LSGL"] = [
                float(haversine_m(*truth[q], *(placed[q][:2] if q in placed and placed[q][2] == "image_match"
                                                    else (estimate[q].lon, estimate[q].lat)))) for q in estimate]
            moved_b = summary.counts["moved"]
        with open_store(tmp / "c.gpkg") as store:
            rng = np.random.default_rng(args.seed + 1)
            fids = {r["post_id"]: r["fid"] for r in store.query("SELECT fid, post_id FROM posts")}
            with store.batch() as conn:
                for q, (lon, lat) in truth.items():
                    d, a = float(rng.uniform(0, args.text_offset)), float(rng.uniform(0, 2 * np.pi))
                    at = (lon + d * np.cos(a) / (111_320.0 * np.cos(np.radians(lat))), lat + d * np.sin(a) / 111_320.0)
                    sql.record_coarse(conn, CoarseLocation(fids[q], "place", "place", "point", *at, 60, 500.0),
                                      None, True)
            text_points = post_points(store)
            t0 = time.perf_counter()
            summary_c = locate.geolocate(store, locate.GeolocateOptions(**options, post_fids=queries))
            t_c = time.perf_counter() - t0
            placed = post_points(store)
            errors["text + LSGL"] = [float(haversine_m(*truth[q], *placed.get(q, text_points[q])[:2]))
                                     for q in truth]
            errors["text place alone"] = [float(haversine_m(*truth[q], *text_points[q][:2])) for q in truth]
    print(f"retrieval: k={args.k}, median 68% radius {np.median(radii):.0f} m, truth inside the radius for "
          f"{100 * inside:.0f}% of queries")
    print(f"LSGL (DISK+LightGlue, top {args.top_k}): retrieval candidates moved {moved_b}/{len(truth)} in "
          f"{t_b:.0f} s; text candidates moved {summary_c.counts['moved']}/{len(truth)} in {t_c:.0f} s")
    print(f"| {'method':<32} | {'<=25 m':>8} {'<=100 m':>8} {'<=1 km':>8} | median m  |")
    print(f"|{'-' * 34}|{'-' * 28}|{'-' * 11}|")
    for name, errs in errors.items():
        print(row(name, errs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
