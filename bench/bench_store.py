"""Store write path: MIST's batched GeoPackage writes vs GDAL/OGR writing the same posts.

Both write the same points with the same attributes into a fresh GeoPackage with an R-tree, in
transactions of the same size. Prints posts/s for each and, last, `speed ratio: X` where
X = OGR time / MIST time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import speed_ratio  # noqa: E402  (puts the repository on the import path)

from mist_qgis.core.posts import MediaRef, PostRecord  # noqa: E402
from mist_qgis.core.store import open_store  # noqa: E402

BATCH = 5000


def make_posts(n: int) -> list[PostRecord]:
    return [
        PostRecord(
            post_id=str(10**15 + i), platform="twitter",
            lon=-95.5 + (i % 1000) * 1e-3, lat=29.7 + (i // 1000 % 1000) * 1e-3,
            text=f"Water rising on street {i} #flood", author=f"user{i % 5000}", lang="en",
            geo_source="gps", geo_accuracy_m=10.0,
            media=[MediaRef(url=f"https://pbs.example.org/media/{i}.jpg")],
        )
        for i in range(n)
    ]


def bench_mist(posts: list[PostRecord], path: Path) -> float:
    start = time.perf_counter()
    with open_store(path) as store:
        for i in range(0, len(posts), BATCH):
            with store.batch() as conn:
                store.add_posts(conn, posts[i:i + BATCH])
        store.refresh_extents()
    return time.perf_counter() - start


def bench_ogr(posts: list[PostRecord], path: Path) -> float:
    from osgeo import ogr, osr

    start = time.perf_counter()
    driver = ogr.GetDriverByName("GPKG")
    ds = driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    layer = ds.CreateLayer("posts", srs, ogr.wkbPoint)
    for name, kind in (("post_id", ogr.OFTString), ("platform", ogr.OFTString),
                       ("author", ogr.OFTString), ("text", ogr.OFTString), ("lang", ogr.OFTString),
                       ("geo_source", ogr.OFTString), ("geo_accuracy_m", ogr.OFTReal),
                       ("media_url", ogr.OFTString)):
        layer.CreateField(ogr.FieldDefn(name, kind))
    defn = layer.GetLayerDefn()
    for i in range(0, len(posts), BATCH):
        layer.StartTransaction()
        for p in posts[i:i + BATCH]:
            f = ogr.Feature(defn)
            f["post_id"], f["platform"], f["author"] = p.post_id, p.platform, p.author
            f["text"], f["lang"], f["geo_source"] = p.text, p.lang, p.geo_source
            f["geo_accuracy_m"], f["media_url"] = p.geo_accuracy_m, p.media[0].url
            point = ogr.Geometry(ogr.wkbPoint)
            point.AddPoint_2D(p.lon, p.lat)
            f.SetGeometryDirectly(point)
            layer.CreateFeature(f)
        layer.CommitTransaction()
    ds = None
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000, help="posts to write")
    args = parser.parse_args()
    posts = make_posts(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        t_mist = bench_mist(posts, Path(tmp) / "mist.gpkg")
        t_ogr = bench_ogr(posts, Path(tmp) / "ogr.gpkg")
    print(f"posts: {args.n}")
    print(f"MIST store (posts + media rows, pseudonymised authors): {t_mist:.2f} s, {args.n / t_mist:,.0f} posts/s")
    print(f"GDAL/OGR Python API (posts only): {t_ogr:.2f} s, {args.n / t_ogr:,.0f} posts/s")
    speed_ratio(t_ogr, t_mist)


if __name__ == "__main__":
    main()
