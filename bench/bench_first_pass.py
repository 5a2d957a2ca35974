"""Geolocation with a fast first pass: XFeat + LighterGlue rank the top k candidates and DISK +
LightGlue verifies only the `--keep` best, against DISK + LightGlue alone on the same top k
candidates, in one run, on the same store.

Data: bench_geoloc.py's scenes (real photos shipped by scikit-image in four orientations, views of
random regions as references, another view of one reference's region as each query). Both ways
geolocate every query through the geolocation driver with the same candidates (the top k by
pooled-descriptor similarity); reference features of both matchers are extracted once first
(timed apart, not in the per-query figure). Prints seconds per query for both, `speed ratio: X`
(DISK + LightGlue alone / with the first pass) and the top-1 agreement (same winning reference).
Targets: ratio >= 3 with top-1 agreement >= 97 %.

The XFeat files come from `python models/export_matchers.py --only xfeat --out DIR` (`--xfeat DIR`).
    .venv/bin/python bench/bench_first_pass.py --xfeat DIR [--queries 40] [--references 400] [--top-k 10]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench_geoloc import add_query_posts, build
from common import command_line, speed_ratio  # puts the repository on the import path

from mist_qgis.core.geoloc import locate
from mist_qgis.core.geoloc.references import import_references
from mist_qgis.core.store import geoloc_sql, open_store


def top1(store) -> dict[str, str]:
    return {r["post_id"]: r["match_ref"] for r in store.query("SELECT post_id, match_ref FROM posts "
                                                               "WHERE post_id LIKE 'q%'")}


def main() -> int:
    ap = command_line(__doc__)
    ap.add_argument("--xfeat", required=True, help="folder with xfeat.onnx and lightglue-xfeat.onnx")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--references", type=int, default=400)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--keep", type=int, default=3, help="candidates the first pass hands to DISK + LightGlue")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    common = dict(top_k=args.top_k, radius_m=2000.0, min_confidence=0.0, max_side=320, max_keypoints=512,
                  model_folders=(str(Path(args.xfeat).resolve()),), redo=True)
    with tempfile.TemporaryDirectory(prefix="mist-bench-first-pass-") as tmp:
        tmp = Path(tmp)
        (tmp / "refs").mkdir()
        refs, queries = build(tmp / "refs", args.references, args.queries, args.seed)
        with open_store(tmp / "bench.gpkg") as store:
            import_references(store, tmp / "refs" / "refs.csv", collection="bench")
            add_query_posts(store, queries)
            all_refs = geoloc_sql.references(store)
            alone = locate.Geolocator(store, locate.GeolocateOptions(matcher="disk-lightglue", **common))
            cascade = locate.Geolocator(store, locate.GeolocateOptions(
                matcher="disk-lightglue", first_pass="xfeat-lighterglue", first_pass_keep=args.keep, **common))
            assert cascade.first_pass is not None, cascade.matcher_error
            t0 = time.perf_counter()
            alone.cache.embeddings(all_refs)
            for ref in all_refs:
                alone.cache.features(ref)
                cascade.first_cache.features(ref)
            print(f"data: {len(all_refs)} references, {len(queries)} queries; reference features of both matchers "
                  f"extracted once in {time.perf_counter() - t0:.0f} s", flush=True)
            t0 = time.perf_counter()
            summary_a = alone.run()
            t_alone = (time.perf_counter() - t0) / len(queries)
            want = top1(store)
            t0 = time.perf_counter()
            summary_c = cascade.run()
            t_cascade = (time.perf_counter() - t0) / len(queries)
            got = top1(store)
    agree = sum(1 for q in want if want[q] is not None and got.get(q) == want[q]) / len(want)
    truth = {f"q{i:03d}": ref for i, (_, ref, _) in enumerate(queries)}
    print(f"DISK + LightGlue alone: {t_alone:.2f} s per query ({summary_a.counts['pairs']} pairs)")
    print(f"XFeat + LighterGlue first pass, DISK + LightGlue on the best {args.keep}: {t_cascade:.2f} s per query "
          f"({summary_c.counts['pairs']} DISK pairs, {summary_c.counts.get('first_pass_pruned', 0)} pruned)")
    print(f"top-1 right: alone {sum(want.get(q) == f'bench/{r}' for q, r in truth.items())}/{len(truth)}, "
          f"with first pass {sum(got.get(q) == f'bench/{r}' for q, r in truth.items())}/{len(truth)}")
    print(f"top-1 agreement: {100 * agree:.1f} % (target 97 %); speed ratio target 3")
    speed_ratio(t_alone, t_cascade)
    return 0


if __name__ == "__main__":
    sys.exit(main())
