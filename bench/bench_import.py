"""Post import: MIST streaming Twitter v1.1 JSON lines into a fresh store vs GDAL's `ogr2ogr`
loading the same points from the equivalent GeoJSON sequence into a GeoPackage.

Synthetic tweets look like real v1.1 objects (user object, entities, ~60% with a GPS point,
~25% with a photo, ~8% retweets); the GeoJSON sequence holds only the located tweets with the
fields MIST keeps (id, platform, author, text, lang, url, media_url, timestamp, geo_source,
is_repost). MIST additionally imports the unlocated tweets, pseudonymises authors, writes media
rows and the import report. MIST runs as it does for a user: an input this large is parsed in a
second process while the first writes, and the R-tree is packed once at the end (ogr2ogr also
builds its spatial index after the rows). Each importer runs as its own process; the wall time
and the peak resident memory of that process and its children are measured (os.wait4). Last line: `speed ratio: X` with
X = ogr2ogr time / MIST time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import command_line, need_tool, run_measured, scratch, speed_ratio

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WORDS = ("water", "flood", "street", "rising", "help", "rain", "暴雨", "积水", "郑州", "地铁", "被困", "救援",
         "car", "bridge", "road", "closed", "#flood", "#郑州暴雨", "🌧️", "🚗", "now", "near", "station")


def make_inputs(n: int, tweets: Path, seq: Path, seed: int = 7) -> int:
    """Write n synthetic tweets (JSON lines) and the GeoJSON sequence of the located ones."""
    rng = random.Random(seed)
    t0 = datetime(2021, 7, 20, tzinfo=UTC)
    located = 0
    with open(tweets, "w", encoding="utf-8") as ft, open(seq, "w", encoding="utf-8") as fg:
        for i in range(n):
            tid = 1417000000000000000 + i * 7919
            ts = t0 + timedelta(seconds=i * 2)
            uid = 100000 + rng.randrange(50000)
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(6, 16)))
            tweet = {
                "created_at": f"{DAYS[ts.weekday()]} {MONTHS[ts.month - 1]} {ts.day:02d} {ts:%H:%M:%S} +0000 {ts.year}",
                "id": tid, "id_str": str(tid), "text": text, "truncated": False,
                "source": '<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>',
                "in_reply_to_status_id": None, "in_reply_to_user_id": None,
                "user": {"id": uid, "id_str": str(uid), "name": f"User {uid}", "screen_name": f"user{uid}",
                         "location": "Zhengzhou", "followers_count": rng.randrange(5000),
                         "friends_count": rng.randrange(900), "verified": False, "lang": None},
                "geo": None, "coordinates": None, "place": None, "retweet_count": rng.randrange(20),
                "favorite_count": rng.randrange(50), "is_quote_status": False,
                "entities": {"hashtags": [{"text": "flood", "indices": [0, 6]}], "urls": [], "user_mentions": [],
                             "symbols": []},
                "favorited": False, "retweeted": False, "filter_level": "low", "lang": rng.choice(("en", "zh")),
                "timestamp_ms": str(int(ts.timestamp() * 1000)),
            }
            media_url = None
            if rng.random() < 0.25:
                media_url = f"https://pbs.twimg.com/media/E{tid:x}.jpg"
                media = [{"id": tid, "id_str": str(tid), "media_url": media_url.replace("https", "http"),
                          "media_url_https": media_url, "type": "photo", "url": "https://t.co/abc",
                          "sizes": {"large": {"w": 2048, "h": 1536, "resize": "fit"}}}]
                tweet["entities"]["media"] = media
                tweet["extended_entities"] = {"media": media}
            repost = rng.random() < 0.08
            if repost:
                tweet["retweeted_status"] = {"id": tid - 1, "id_str": str(tid - 1), "text": text,
                                             "user": {"id": 1, "id_str": "1", "screen_name": "origin"}}
            if rng.random() < 0.6:
                lon, lat = 113.45 + rng.random() * 0.5, 34.55 + rng.random() * 0.4
                tweet["coordinates"] = {"type": "Point", "coordinates": [lon, lat]}
                tweet["geo"] = {"type": "Point", "coordinates": [lat, lon]}
                located += 1
                props = {"post_id": str(tid), "platform": "twitter", "author": f"user{uid}",
                         "text": ("RT @origin: " + text) if repost else text, "lang": tweet["lang"],
                         "url": f"https://twitter.com/i/web/status/{tid}", "media_url": media_url,
                         "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "geo_source": "gps",
                         "is_repost": repost}
                fg.write(json.dumps({"type": "Feature", "geometry": tweet["coordinates"], "properties": props},
                                    ensure_ascii=False) + "\n")
            ft.write(json.dumps(tweet, ensure_ascii=False) + "\n")
    return located


READERS = {"auto": None, "process": True, "this": False}


def child_import(tweets: str, store: str, reader: str) -> None:
    """Runs in the measured child process: the same core import the CLI and the dock use."""
    from mist_qgis.core.posts.importer import ImportOptions, import_posts
    from mist_qgis.core.store import open_store

    with open_store(store) as s:
        summary = import_posts(s, [tweets], ImportOptions(parallel=READERS[reader]))
    print(json.dumps(summary.counts()))


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="tweets to generate (default 1,000,000)")
    parser.add_argument("--keep", metavar="DIR", help="keep the generated inputs and outputs in DIR")
    parser.add_argument("--reader", choices=READERS, default="auto",
                        help="where MIST parses: as a user's import decides (auto), in a second process, "
                             "or in the importing process (this)")
    parser.add_argument("--child", nargs=3, metavar=("TWEETS", "STORE", "READER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_import(*args.child)
        return
    ogr2ogr = need_tool("ogr2ogr", "gdal-bin")
    with scratch("mist-bench-import-", args.keep) as work:
        tweets, seq = work / "tweets.jsonl", work / "points.geojsonl"
        t = time.perf_counter()
        located = make_inputs(args.n, tweets, seq)
        print(f"generated {args.n:,} tweets ({tweets.stat().st_size / 1e6:,.0f} MB, {located:,} with a point) "
              f"and the GeoJSON sequence ({seq.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.1f} s")
        for f in work.glob("*.gpkg*"):
            f.unlink()
        t_mist, rss_mist, cpu_mist, out = run_measured(
            [sys.executable, __file__, "--child", str(tweets), str(work / "mist.gpkg"), args.reader])
        counts = json.loads(out.strip().splitlines()[-1])
        t_ogr, rss_ogr, cpu_ogr, _ = run_measured(
            [ogr2ogr, "-f", "GPKG", str(work / "ogr.gpkg"), f"GeoJSONSeq:{seq}", "-nln", "posts"])
        print(f"MIST import (reader: {args.reader}): {args.n:,} tweets in {t_mist:.2f} s, "
              f"{args.n / t_mist:,.0f} posts/s, "
              f"CPU {cpu_mist:.2f} s, peak memory {rss_mist:,.0f} MB ({counts['imported']:,} located, "
              f"{counts['unlocated']:,} unlocated, {counts['reposts']:,} reposts, {counts['skipped']} skipped)")
        print(f"ogr2ogr GeoJSONSeq -> GPKG: {located:,} points in {t_ogr:.2f} s, {located / t_ogr:,.0f} features/s, "
              f"CPU {cpu_ogr:.2f} s, peak memory {rss_ogr:,.0f} MB")
        print(f"CPU-time ratio (less sensitive to a busy machine): {cpu_ogr / cpu_mist:.2f}")
        speed_ratio(t_ogr, t_mist)


if __name__ == "__main__":
    main()
