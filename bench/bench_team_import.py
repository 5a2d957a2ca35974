"""Post import into a team store: MIST streaming Twitter v1.1 JSON lines into PostgreSQL + PostGIS
vs GDAL's `ogr2ogr -f PostgreSQL` loading the same points (the located tweets, as a GeoJSON
sequence) into the same server.

The tweets and the GeoJSON sequence are the ones `bench_import.py` generates. MIST also imports
the unlocated tweets, pseudonymises authors, writes media rows and the import report, keeps its
unique (platform, post_id) index up to date as it goes and builds its other indexes (the GiST one
among them) at the end, as it does for any load into a store that is still empty; ogr2ogr uses
COPY and builds its spatial index. Both write into one throwaway cluster (Unix socket), one
after the other; wall time and the peak resident memory of each importing process (with its
children; the server's own memory is the same for both and not counted) are measured. Last line:
`speed ratio: X` with X = ogr2ogr time / MIST time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench_import import make_inputs
from common import command_line, need_tool, run_measured, scratch, speed_ratio, team_server


def child_import(tweets: str, target: str) -> None:
    """Runs in the measured child process: the same core import the CLI and the dock use."""
    from mist_qgis.core.posts.importer import import_posts
    from mist_qgis.core.store import open_store

    with open_store(target) as store:
        summary = import_posts(store, [tweets])
    print(json.dumps(summary.counts()))


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="tweets to generate (default 1,000,000)")
    parser.add_argument("--child", nargs=2, metavar=("TWEETS", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_import(*args.child)
        return
    from tests.helpers.pgcluster import PORT

    ogr2ogr = need_tool("ogr2ogr", "gdal-bin")
    with scratch("mist-bench-team-import-") as work, team_server() as cluster:
        tweets, seq = work / "tweets.jsonl", work / "points.geojsonl"
        t = time.perf_counter()
        located = make_inputs(args.n, tweets, seq)
        print(f"generated {args.n:,} tweets ({tweets.stat().st_size / 1e6:,.0f} MB, {located:,} with a point) "
              f"in {time.perf_counter() - t:.1f} s; server: PostgreSQL 15 + PostGIS on a Unix socket")
        cluster.psql("CREATE SCHEMA mist_bench; CREATE SCHEMA ogr_bench")
        target = cluster.url(options="-csearch_path%3Dmist_bench,public")
        t_mist, rss_mist, cpu_mist, out = run_measured([sys.executable, __file__, "--child", str(tweets), target])
        counts = json.loads(out.strip().splitlines()[-1])
        pg = f"PG:dbname=mist host={cluster.socket_dir} port={PORT} user={cluster.user} active_schema=ogr_bench"
        t_ogr, rss_ogr, cpu_ogr, _ = run_measured(
            [ogr2ogr, "-f", "PostgreSQL", pg, f"GeoJSONSeq:{seq}", "-nln", "posts", "-lco", "SCHEMA=ogr_bench"])
        rows = int(cluster.psql("SELECT count(*) FROM ogr_bench.posts").strip())
        print(f"MIST import into PostGIS: {args.n:,} tweets in {t_mist:.2f} s, {args.n / t_mist:,.0f} posts/s, "
              f"CPU {cpu_mist:.2f} s, peak memory {rss_mist:,.0f} MB ({counts['imported']:,} located, "
              f"{counts['unlocated']:,} unlocated, {counts['reposts']:,} reposts, {counts['skipped']} skipped)")
        print(f"ogr2ogr GeoJSONSeq -> PostgreSQL: {rows:,} points in {t_ogr:.2f} s, {rows / t_ogr:,.0f} features/s, "
              f"CPU {cpu_ogr:.2f} s, peak memory {rss_ogr:,.0f} MB")
        speed_ratio(t_ogr, t_mist)


if __name__ == "__main__":
    main()
