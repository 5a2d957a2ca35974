"""Photo geolocation: MIST (cached reference features + embedding retrieval top-k + LightGlue)
against the exhaustive way of the LSGL code (every query against every reference, features of
both images recomputed for every pair), same matcher (DISK + LightGlue, same settings) and the
same selection score (MIST's verified confidence), in one run.

Data: real photos shipped by scikit-image, each in four orientations (original, mirrored, flipped,
rotated 180 degrees: DISK is not invariant to these, so they act as different scenes). References
are perspective views of random regions at random zoom; each query is another view (other crop,
perspective and light) of the region of one reference, its true reference.

MIST is measured in full, through the store: building the reference feature cache once (timed
separately and amortised over the queries) and geolocating every query post. The exhaustive way
is measured on a random subset of (query, reference) pairs and extrapolated to
(number of references) pairs per query. Its top-1 is computed for every query over all the
references of the query's scene with the same features (extraction is deterministic, checked on a
few pairs), and over a random sample of references of other scenes; any reference outside both
sets is assumed not to beat the winner (the printed cross-scene maximum shows the margin).

Prints seconds per query for both, `speed ratio: X` (exhaustive / MIST) and the top-1 agreement.
    .venv/bin/python bench/bench_geoloc.py [--queries 100] [--references 1000] [--top-k 10]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import command_line, speed_ratio  # noqa: E402  (puts the repository on the import path)

from mist_qgis.core.geoloc import locate, matchers, scoring, synthetic  # noqa: E402
from mist_qgis.core.geoloc.features import Features  # noqa: E402
from mist_qgis.core.geoloc.photos import check_array, load_photo  # noqa: E402
from mist_qgis.core.geoloc.references import import_references  # noqa: E402
from mist_qgis.core.store import (
    geoloc_sql,  # noqa: E402
    open_store,  # noqa: E402
)

VARIANTS = ("orig", "mirror", "flip", "rot180")


def variant(image: np.ndarray, name: str) -> np.ndarray:
    if name == "mirror":
        image = image[:, ::-1]
    elif name == "flip":
        image = image[::-1]
    elif name == "rot180":
        image = image[::-1, ::-1]
    return np.ascontiguousarray(image)


def lonlat(i: int) -> tuple[float, float]:
    """References on a 40 m grid east of a point in Zhengzhou (all within one search radius)."""
    east, north = (i % 40) * 8.0, (i // 40) * 8.0
    return 113.68 + east / (111_320.0 * np.cos(np.radians(34.7))), 34.70 + north / 111_320.0


def build(folder: Path, n_refs: int, n_queries: int, seed: int):
    from PIL import Image

    rng = np.random.default_rng(seed)
    scenes = [(name, v) for name in synthetic.SCENES for v in VARIANTS]
    sources = {(name, v): variant(synthetic.photo(name), v) for name, v in scenes}
    lines = ["id,lon,lat,heading,path"]
    refs = []  # (ref_id, scene, center, frac)
    for i in range(n_refs):
        scene = scenes[i % len(scenes)]
        src = sources[scene]
        while True:  # a view of a blank region (night sky, page margin) is no reference: draw another
            frac = float(rng.uniform(0.3, 0.6))
            view = synthetic.make_view(src, rng, (320, 240), frac=frac, jitter=0.06, scene=f"{scene[0]}/{scene[1]}")
            if not check_array(view.image):
                break
        ref_id = f"r{i:04d}"
        Image.fromarray(view.image).save(folder / f"{ref_id}.jpg", quality=92)
        lon, lat = lonlat(i)
        lines.append(f"{ref_id},{lon:.7f},{lat:.7f},{(i * 37) % 360},{ref_id}.jpg")
        refs.append((ref_id, scene, view.center, frac))
    (folder / "refs.csv").write_text("\n".join(lines) + "\n")
    queries = []  # (query image, true ref_id, scene)
    for q in range(n_queries):
        while True:
            ref_id, scene, center, frac = refs[int(rng.integers(len(refs)))]
            view = synthetic.make_view(sources[scene], rng, (400, 300), frac=frac * float(rng.uniform(0.9, 1.1)),
                                       jitter=0.1, center=center, scene=str(q))
            if not check_array(view.image):
                break
        queries.append((view.image, ref_id, scene))
    return refs, queries


def add_query_posts(store, queries) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))
    from geoloc_helpers import add_post_with_photos

    for q, (image, _ref, _scene) in enumerate(queries):
        add_post_with_photos(store, f"q{q:03d}", lonlat(0), 2000.0, [image], fmt="PNG")


def selection_key(match) -> tuple[float, int]:
    g = scoring.verify(match)
    return scoring.mist_confidence(g.inliers, g.inlier_ratio), g.inliers


def main() -> int:
    parser = command_line(__doc__)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--references", type=int, default=1000)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--exhaustive-pairs", type=int, default=40, help="pairs timed for the exhaustive way")
    parser.add_argument("--cross-sample", type=int, default=5, help="other-scene references matched per query")
    parser.add_argument("--max-side", type=int, default=320)
    parser.add_argument("--max-keypoints", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    options = locate.GeolocateOptions(matcher="disk-lightglue", top_k=args.top_k, radius_m=2000.0,
                                      min_confidence=0.0, max_side=args.max_side, max_keypoints=args.max_keypoints)
    matcher = matchers.create("disk-lightglue", max_side=args.max_side, max_keypoints=args.max_keypoints)
    with tempfile.TemporaryDirectory(prefix="mist-bench-geoloc-") as tmp:
        tmp = Path(tmp)
        (tmp / "refs").mkdir()
        t0 = time.perf_counter()
        refs, queries = build(tmp / "refs", args.references, args.queries, args.seed)
        print(f"data: {len(refs)} references (320x240), {len(queries)} queries (400x300) from "
              f"{len(synthetic.SCENES)} real photos x {len(VARIANTS)} orientations, built in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        with open_store(tmp / "bench.gpkg") as store:
            import_references(store, tmp / "refs" / "refs.csv", collection="bench")
            add_query_posts(store, queries)
            all_refs = geoloc_sql.references(store)
            # -- MIST: cache build (once), then every query through the geolocation driver
            geolocator = locate.Geolocator(store, options)
            t0 = time.perf_counter()
            embeddings, failed = geolocator.cache.embeddings(all_refs)
            t_cache = time.perf_counter() - t0
            assert not failed, failed
            print(f"MIST reference cache: {len(embeddings)} references extracted once in {t_cache:.1f} s "
                  f"({t_cache / len(all_refs):.3f} s each)", flush=True)
            t0 = time.perf_counter()
            summary = geolocator.run()
            t_queries = time.perf_counter() - t0
            if summary.counts["skipped"] or summary.counts["failed"]:  # counted below as disagreements
                print(f"MIST gave no answer for {summary.counts['skipped'] + summary.counts['failed']} queries: "
                      + "; ".join(r["reason"] for r in store.issues_for_run(summary.run_id)), flush=True)
            mist_top1 = {r["post_id"]: r["match_ref"] for r in store.query(
                "SELECT post_id, match_ref FROM posts WHERE post_id LIKE 'q%'")}
            mist_per_query = (t_queries + t_cache) / len(queries)
            print(f"MIST: {t_queries / len(queries):.2f} s per query (extract query, rank {len(all_refs)} "
                  f"embeddings, LightGlue on top {args.top_k}) + {t_cache / len(queries):.2f} s amortised cache "
                  f"build = {mist_per_query:.2f} s per query", flush=True)

            # -- exhaustive: time recomputed-feature pairs on a random subset, extrapolate
            rnd = random.Random(args.seed)
            by_id = {r.ref_uid.split("/", 1)[1]: r for r in all_refs}
            pairs = [(rnd.randrange(len(queries)), rnd.choice(all_refs)) for _ in range(args.exhaustive_pairs)]
            t0 = time.perf_counter()
            for q, ref in pairs:
                image = queries[q][0]
                ref_image = load_photo(ref.image_path).image  # the paper's code reads both images per pair
                selection_key(matcher.match(image, ref_image))
            t_pair = (time.perf_counter() - t0) / len(pairs)
            exhaustive_per_query = t_pair * len(all_refs)
            print(f"exhaustive (LSGL code's way): {t_pair:.3f} s per pair measured on {len(pairs)} random pairs; "
                  f"x {len(all_refs)} references = {exhaustive_per_query:.1f} s per query (extrapolated)", flush=True)

            # -- determinism: fresh features equal cached ones, so the exhaustive ranking can use them
            for _q, ref in pairs[:3]:
                fresh = matcher.extract(load_photo(ref.image_path).image)
                cached = Features.from_bytes(geoloc_sql.cached_feature_blob(store, ref.fid, matcher.cache_key))
                assert np.array_equal(fresh.keypoints, cached.keypoints)
                assert np.array_equal(fresh.descriptors, cached.descriptors)

            # -- exhaustive top-1 per query: all references of its scene + a sample of the others
            scene_of = {ref_id: scene for ref_id, scene, _c, _f in refs}
            members: dict[tuple, list[str]] = {}
            for ref_id, scene, _c, _f in refs:
                members.setdefault(scene, []).append(ref_id)
            agree = mist_right = exh_right = 0
            cross_best = 0.0
            t0 = time.perf_counter()
            for q, (image, true_ref, scene) in enumerate(queries):
                qf = matcher.extract(image)
                others = [r for r in by_id if scene_of[r] != scene]
                candidates = members[scene] + rnd.sample(others, min(args.cross_sample, len(others)))
                best_id, best_key = None, (-1.0, -1)
                for ref_id in candidates:
                    f = Features.from_bytes(geoloc_sql.cached_feature_blob(store, by_id[ref_id].fid, matcher.cache_key))
                    key = selection_key(matcher.match_features(qf, f))
                    if scene_of[ref_id] != scene:
                        cross_best = max(cross_best, key[0])
                    if key > best_key:
                        best_id, best_key = ref_id, key
                mist = (mist_top1.get(f"q{q:03d}") or "/").split("/", 1)[1]
                agree += mist == best_id
                mist_right += mist == true_ref
                exh_right += best_id == true_ref
            t_agree = time.perf_counter() - t0
    n = len(queries)
    print(f"exhaustive ranking for agreement: {n} queries x ({len(refs) // len(members)} same-scene + "
          f"{args.cross_sample} other-scene references) in {t_agree:.0f} s; highest other-scene confidence "
          f"{cross_best:.3f}")
    print(f"top-1 = designed true reference: MIST {mist_right}/{n}, exhaustive {exh_right}/{n}")
    print(f"seconds per query: MIST {mist_per_query:.2f}, exhaustive {exhaustive_per_query:.1f}")
    print(f"top-1 agreement: {agree}/{n} = {100.0 * agree / n:.1f}%")
    speed_ratio(exhaustive_per_query, mist_per_query, 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
