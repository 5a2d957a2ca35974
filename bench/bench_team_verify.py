"""Eight analysts verifying one store at once, each on its own connection in its own process:
"write a verdict, then get the next post" (the two calls an analyst's dock makes per post),
on a team store (PostgreSQL + PostGIS) against the same work on one GeoPackage shared by the
eight processes (SQLite WAL, busy timeout).

The store holds `--posts` posts (100,000 by default); each analyst judges `--per-analyst`
posts. Reported per backend: p50/p95/max of one verdict + next post, and the check that no
verdict was lost or duplicated (every post judged exactly once, as many verdicts as judgements,
no lease left). Last line: `speed ratio: X` with X = GeoPackage p95 / team store p95.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import time

from common import command_line, scratch, speed_ratio, team_server


def build(target: str, n: int) -> None:
    from mist_qgis.core.posts import PostRecord
    from mist_qgis.core.store import open_store

    with open_store(target) as store, store.deferred_spatial_index():  # as an import does
        for start in range(0, n, 20_000):
            with store.batch() as conn:
                store.add_posts(conn, [
                    PostRecord(f"b{i}", "twitter", 113.5 + (i % 1000) / 2000, 34.6 + i / n / 2, text=f"road {i}")
                    for i in range(start, min(n, start + 20_000))])


def analyst(target: str, name: str, count: int, start, queue) -> None:
    from mist_qgis.core.store import open_store
    from mist_qgis.core.verify.records import Verdict
    from mist_qgis.core.verify.team import next_post
    from mist_qgis.core.verify.verdicts import write_verdict

    try:
        with open_store(target) as store:
            post = next_post(store, name)
            start.wait()
            times, judged = [], []
            for _ in range(count):
                if post is None:
                    break
                t = time.perf_counter()
                write_verdict(store, Verdict(post.post_fid, "flood", name), seen=post.seen)
                judged.append(post.post_fid)
                post = next_post(store, name)
                times.append(time.perf_counter() - t)
            if post is not None:
                from mist_qgis.core.verify.team import release

                release(store, post)
        queue.put(("ok", name, times, judged))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the run
        queue.put(("error", name, repr(exc), []))


def run(target: str, analysts: int, per_analyst: int) -> dict:
    from mist_qgis.core.store import open_store

    ctx = multiprocessing.get_context("spawn")
    queue, start = ctx.Queue(), ctx.Barrier(analysts + 1)
    procs = [ctx.Process(target=analyst, args=(target, f"analyst{i}", per_analyst, start, queue))
             for i in range(analysts)]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    results = [queue.get(timeout=1800) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=60)
    errors = [r for r in results if r[0] != "ok"]
    if errors:
        raise SystemExit(f"analyst failed: {errors}")
    times = sorted(t for r in results for t in r[2])
    judged = [f for r in results for f in r[3]]
    with open_store(target) as store:
        verdicts = store.count("verifications")
        distinct = int(store.scalar("SELECT count(DISTINCT post_fid) FROM verifications"))
        leases = store.count("leases")
    return {
        "ops": len(times), "wall_s": wall, "p50_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))], "max_ms": 1000 * times[-1],
        "lost": len(judged) - verdicts, "duplicated": len(judged) - len(set(judged)) + (verdicts - distinct),
        "leases_left": leases,
    }


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--analysts", type=int, default=8)
    parser.add_argument("--per-analyst", type=int, default=200)
    args = parser.parse_args()
    with scratch("mist-bench-team-verify-") as work, team_server() as cluster:
        out = {}
        for backend, target in (("team store (PostgreSQL)", cluster.url()), ("GeoPackage", str(work / "shared.gpkg"))):
            t = time.perf_counter()
            build(target, args.posts)
            print(f"{backend}: {args.posts:,} posts in {time.perf_counter() - t:.1f} s")
            out[backend] = r = run(target, args.analysts, args.per_analyst)
            print(f"{backend}: {args.analysts} analysts, {r['ops']:,} verdict + next post in {r['wall_s']:.1f} s; "
                  f"p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, max {r['max_ms']:.1f} ms; "
                  f"lost {r['lost']}, duplicated {r['duplicated']}, leases left {r['leases_left']}")
        print(json.dumps(out))
        pg, gp = out["team store (PostgreSQL)"], out["GeoPackage"]
        speed_ratio(gp["p95_ms"], pg["p95_ms"])


if __name__ == "__main__":
    main()
