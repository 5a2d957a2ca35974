"""Write the demo sample under resources/sample/ (committed output; rerun only to change it).

    .venv/bin/python scripts/make_sample.py [--out resources/sample]

Deterministic: the same packages give the same files. Everything is built from real photos that
ship inside installed packages (scikit-image, scikit-learn) and from numbers in this file:

- posts.jsonl: Twitter/X v1.1 JSON lines written for the demo around a fictional neighbourhood
  (lon 113.66, lat 34.75; local UTM 49N). GPS points, place boxes, text naming a road only, a
  retweet, an exact and a near-duplicate photo, a repeated record, a missing photo and malformed
  records, so every stage of the demo has work;
- media/: the photos the posts link to (https URLs whose file names are in this folder);
- roads.geojson: the gazetteer (named road lines, Chinese and English names);
- references/ + references.csv: ground-level reference photos at known positions;
- truth.csv, truth.geojson: where the posts without a location really were (table and point layer);
- verifications.csv: the demo analyst's example verdicts (with water depths);
- dem.tif: a 240 x 240 DEM of 2.5 m cells (EPSG:32649): a street valley, a ridge, a basin;
- SOURCES.md: source and licence of every photo; SHA256SUMS: checksums of the data files.

README.md in the output folder is written by hand (it explains the sample) and is not rewritten.

The photos show no flood: see README.md in the output folder for what the labels mean.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
EPSG = 32649
X0, Y0 = 743200.0, 3848250.0  # south-west corner of the DEM (UTM 49N metres)
CELL = 2.5
SIZE = 240  # cells per side: 600 m x 600 m
NODATA = -9999.0
WATER_LEVEL = 99.0  # metres: the one water surface the verified depths agree on
MEDIA_HOST = "https://pbs.twimg.com/media/"
START = datetime(2024, 7, 20, 10, 5, tzinfo=UTC)  # 18:05 local time (UTC+8)
PLACE_NAME = "Lotus Garden 荷花园社区"

# -- terrain --------------------------------------------------------------------------------------


def valley_floor(u: np.ndarray | float) -> np.ndarray | float:
    """Street-valley floor along Lotus Street: 98.6 m in the west falling to 97.4 m in the east."""
    return 98.6 - 0.002 * np.asarray(u)


def elevation(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Ground elevation (m) at local coordinates u (east) and v (north), metres from the SW corner.

    A street valley along v = 250 (Lotus Street), 102.5 m plateau around it, a ridge at v = 420
    (106 m) and behind it a closed basin at (380, 530) whose floor (96.5 m) lies below the water
    level: it must stay dry because no water can reach it over the ridge.
    """
    floor = valley_floor(u)
    plateau = 102.5
    z = floor + (plateau - floor) * (1.0 - np.exp(-((v - 250.0) / 55.0) ** 2))
    z = z + 3.5 * np.exp(-((v - 420.0) / 28.0) ** 2)
    z = z - 6.0 * np.exp(-((u - 380.0) ** 2 + (v - 530.0) ** 2) / 45.0 ** 2)
    z = z + 0.08 * np.sin(u / 37.0) * np.cos(v / 53.0)  # a little relief, smooth
    return z


def depth_at(u: float, v: float) -> float:
    """Water depth a witness at (u, v) would report, to 5 cm."""
    ground = float(elevation(np.array([u]), np.array([v]))[0])
    return round(round((WATER_LEVEL - ground) / 0.05) * 0.05, 2)


# -- coordinates ----------------------------------------------------------------------------------


class Geo:
    """Local metres <-> lon/lat through the UTM zone."""

    def __init__(self) -> None:
        from pyproj import Transformer

        self._inv = Transformer.from_crs(EPSG, 4326, always_xy=True)

    def lonlat(self, u: float, v: float) -> tuple[float, float]:
        lon, lat = self._inv.transform(X0 + u, Y0 + v)
        return round(lon, 7), round(lat, 7)


# -- photos ---------------------------------------------------------------------------------------

SKIMAGE = "scikit-image {version}, skimage.data.{name}()"
PHOTO_SOURCES = {
    "astronaut": ("Eileen Collins, NASA Great Images database (https://flic.kr/p/r9qvLn)",
                  "public domain (no known copyright restrictions)"),
    "coffee": ("Pikolo Espresso Bar, photographer Rachel Michetti", "CC0"),
    "chelsea": ("Chelsea the cat, photographer Stefan van der Walt", "CC0"),
    "rocket": ("DSCOVR launch on Falcon 9, SpaceX (https://www.flickr.com/photos/spacexphotos/16511594820/)",
               "public domain (released by SpaceX)"),
    "grass": ("Grass-01 by linolafett, DeviantArt (https://www.deviantart.com/linolafett/art/Grass-01-434853879)",
              "CC0"),
    "gravel": ("Gravel04, CC0Textures (https://cc0textures.com/view.php?tex=Gravel04)", "CC0"),
    "brick": ("Bricks25, CC0Textures (https://cc0textures.com/view.php?tex=Bricks25)", "CC0"),
    "camera": ("photographer Lav Varshney", "CC0"),
    "horse": ("horse silhouette by Andreas Preuss (marauder), openclipart "
              "(http://openclipart.org/detail/158377/horse-by-marauder)", "CC0"),
    "clock": ("motion-blurred wall clock, photographer Stefan van der Walt", "public domain"),
    "coins": ("Greek coins from Pompeii, Brooklyn Museum Collection", "no known copyright restrictions"),
    "text": ("Corner.png, Wikipedia (https://en.wikipedia.org/wiki/File:Corner.png)",
             "public domain (no known copyright restrictions)"),
    "hubble_deep_field": ("Hubble eXtreme Deep Field, NASA (HubbleSite, release 2012-37)",
                          "public domain (NASA media guidelines)"),
    "moon": ("surface of the moon, scikit-image sample data",
             "no licence stated in its scikit-image docstring (shipped in the BSD-3-Clause package)"),
    "page": ("scanned page of printed text, scikit-image sample data",
             "no licence stated in its scikit-image docstring (shipped in the BSD-3-Clause package)"),
    "motorcycle_left": ("Middlebury 2014 stereo benchmark, scene Motorcycle, left view, down-sampled 4x "
                        "(Scharstein et al., GCPR 2014; https://vision.middlebury.edu/stereo/data/scenes2014/)",
                        "no licence stated in its scikit-image docstring; the Middlebury stereo pages ask users "
                        "of the datasets to cite Scharstein et al., GCPR 2014"),
    "motorcycle_right": ("Middlebury 2014 stereo benchmark, scene Motorcycle, right view, down-sampled 4x "
                         "(Scharstein et al., GCPR 2014; https://vision.middlebury.edu/stereo/data/scenes2014/)",
                         "no licence stated in its scikit-image docstring; the Middlebury stereo pages ask users "
                         "of the datasets to cite Scharstein et al., GCPR 2014"),
    "china": ("china.jpg: Some rights reserved by danielbuechele, Flickr "
              "(https://www.flickr.com/photos/danielbuechele/6061409035/), shipped by scikit-learn "
              "(sklearn/datasets/images/README.txt)", "CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/)"),
    "flower": ("flower.jpg: Some rights reserved by vultilion, Flickr "
               "(https://www.flickr.com/photos/vultilion/6056698931/), shipped by scikit-learn "
               "(sklearn/datasets/images/README.txt)", "CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/)"),
}


def load_photo(name: str) -> np.ndarray:
    """A packaged photo as RGB uint8."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        image = load_sample_image(f"{name}.jpg")
    else:
        import skimage.data

        if name.startswith("motorcycle_"):
            image = skimage.data.stereo_motorcycle()[0 if name.endswith("left") else 1]
        else:
            image = getattr(skimage.data, name)()
    image = np.asarray(image)
    if image.dtype == bool:
        image = np.where(image, 255, 0).astype(np.uint8)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[:, :, :3].astype(np.uint8))


def package_of(name: str) -> str:
    if name in ("china", "flower"):
        import sklearn

        return f"scikit-learn {sklearn.__version__}, sklearn.datasets.load_sample_image('{name}.jpg')"
    import skimage

    fn = "stereo_motorcycle" if name.startswith("motorcycle_") else name
    return SKIMAGE.format(version=skimage.__version__, name=fn)


def jpeg(image: np.ndarray, quality: int = 85, max_side: int = 640) -> bytes:
    from PIL import Image

    img = Image.fromarray(image)
    scale = max_side / max(img.size)
    if scale < 1:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def warped_view(image: np.ndarray, seed: int, size: tuple[int, int] = (480, 360), frac: float = 0.72) -> np.ndarray:
    """A perspective-warped crop with a brightness change: the same place seen by another camera."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    cw, ch = w * frac, h * frac
    cx, cy = w * 0.5, h * 0.55
    quad = np.array([[cx - cw / 2, cy - ch / 2], [cx + cw / 2, cy - ch / 2], [cx + cw / 2, cy + ch / 2],
                     [cx - cw / 2, cy + ch / 2]])
    quad += rng.uniform(-0.07, 0.07, size=quad.shape) * np.array([cw, ch])
    out_w, out_h = size
    target = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(target, quad.astype(np.float32))
    view = cv2.warpPerspective(image, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT)
    return np.clip(view.astype(np.float32) * 0.9 + 12, 0, 255).astype(np.uint8)


# -- the story ------------------------------------------------------------------------------------


@dataclass
class Road:
    road_id: str
    names: tuple[str, str]  # (Chinese, English)
    points: list[tuple[float, float]]  # local metres


ROADS = [
    Road("lotus", ("荷花街", "Lotus Street"), [(0, 250), (600, 250)]),
    Road("willow", ("柳荫路", "Willow Lane"), [(180, 0), (180, 600)]),
    Road("mulberry", ("桑园路", "Mulberry Road"), [(460, 0), (460, 400)]),
    Road("ridge", ("岭上路", "Ridge Road"), [(0, 432), (600, 432)]),
    Road("lakeside", ("湖畔路", "Lakeside Road"), [(250, 585), (520, 585)]),
]


@dataclass
class Post:
    key: str
    text: str
    lang: str
    photo: str | None = None  # media file name
    gps: tuple[float, float] | None = None  # local metres
    place: bool = False
    truth: tuple[float, float] | None = None  # local metres, for posts without a location
    verdict: tuple[str, float | None, str] | None = None  # (verdict, depth, note)
    extra: dict = field(default_factory=dict)


# Photo files in media/: name -> (packaged photo, how it is derived)
MEDIA = {
    "GTq4rKbWsAA1xR7.jpg": "camera",
    "GTq5Lm2XgAEa0Yb.jpg": "grass",
    "GTq5Zc0WIAAp3Dk.jpg": "gravel",
    "GTq6Ab1XsAIh9Qe.jpg": "astronaut",
    "GTq6Tt4WEAAm2Lc.jpg": "coffee",
    "GTq7Bn8WQAAs5Fh.jpg": "chelsea",
    "GTq7Yy3XIAAd7Ku.jpg": "horse",
    "GTq8Kp2XMAA0vNc.jpg": "flower",
    "GTq8Wr6WgAAq1Ti.jpg": "grass",  # the same photo, saved by someone else (identical bytes)
    "GTq9Ce5XoAAb3Pz.jpg": "camera@near-duplicate",  # re-encoded, resized copy
    "GTr0Hs7WMAA4gJx.jpg": "rocket",
    "GTr0Uv1XkAAc8Mw.jpg": "brick",
    "GTr1Dq9WAAAe6Ry.jpg": "motorcycle_left",
    "GTr1Pf3XYAAk2Sn.jpg": "china",
    "GTr2Gz5WwAAr7Lb.jpg": "clock",
    "GTr2Xa0XQAAt4Vh.jpg": "coins",
}

# Reference photos: file -> (packaged photo or derived view, local position, heading, role)
REFERENCES = [
    ("ref_willow_330.jpg", "motorcycle_right", (186.0, 331.0), 90.0, "the place of the Willow Lane post"),
    ("ref_lotus_418.jpg", "china@view", (418.0, 256.0), 10.0, "the place of the Lotus Street post"),
    ("ref_willow_150.jpg", "text", (176.0, 150.0), 270.0, "distractor"),
    ("ref_willow_470.jpg", "moon", (186.0, 470.0), 90.0, "distractor"),
    ("ref_lotus_300.jpg", "page", (300.0, 244.0), 180.0, "distractor"),
    ("ref_lotus_520.jpg", "coins@view", (520.0, 257.0), 0.0, "distractor"),
    ("ref_mulberry_200.jpg", "hubble_deep_field@view", (466.0, 200.0), 270.0, "distractor"),
]


def posts() -> list[Post]:
    lotus_a, lotus_b, lotus_c = (60.0, 248.0), (150.0, 262.0), (262.0, 244.0)
    return [
        Post("p01", "Our street is a river now 🌊 water to my knees, cars stuck #rainstorm", "en",
             "GTq4rKbWsAA1xR7.jpg", gps=lotus_a, verdict=("flood", depth_at(*lotus_a), "knee-deep, west end")),
        Post("p02", "荷花街积水严重，已经没过膝盖了 😱 大家绕行！", "zh", "GTq5Lm2XgAEa0Yb.jpg", gps=lotus_b,
             verdict=("flood", depth_at(*lotus_b), "knee-deep by the bakery")),
        Post("p03", "荷花街 Lotus St. — gravel and mud washed across the road, water still rising 💧", "zh",
             "GTq5Zc0WIAAp3Dk.jpg", gps=lotus_c, verdict=("flood", depth_at(*lotus_c), "thigh-deep")),
        Post("p04", "东头积水一米多深 water over 1 m at the east end of 荷花街, don't drive in!", "zh",
             None, gps=(525.0, 251.0), verdict=("flood", depth_at(525.0, 251.0), "text only, east end")),
        Post("p05", "Safe at home, power is out 🕯️ #rainstorm", "en", "GTq6Ab1XsAIh9Qe.jpg", gps=(100.0, 480.0),
             verdict=("not_flood", None, "indoors")),
        Post("p06", "Café on the hill still open ☕ dry up here", "en", "GTq6Tt4WEAAm2Lc.jpg", gps=(300.0, 120.0),
             verdict=("not_flood", None, "")),
        Post("p07", "猫咪很安全 🐱 our cat is fine, no water upstairs", "zh", "GTq7Bn8WQAAs5Fh.jpg",
             gps=(520.0, 100.0), verdict=("not_flood", None, "")),
        Post("p08", "Riding school by the pond: all dry, horses calm 🐴", "en", "GTq7Yy3XIAAd7Ku.jpg",
             gps=(330.0, 520.0)),
        Post("p09", "花园挺过了暴雨 🌸 the garden survived", "zh", "GTq8Kp2XMAA0vNc.jpg", gps=(450.0, 350.0),
             verdict=("not_flood", None, "")),
        Post("p10", "My friend sent this from Lotus Street 🌊😨", "en", "GTq8Wr6WgAAq1Ti.jpg", gps=(212.0, 252.0)),
        Post("p11", "same street an hour ago", "en", "GTq9Ce5XoAAb3Pz.jpg", gps=(92.0, 258.0)),
        Post("p12", "", "en", None, extra={"retweet_of": "p01"}),
        Post("p13", "对岸工厂的灯还亮着，我们这边停电了 🌃 lights still on across the river", "zh",
             "GTr0Hs7WMAA4gJx.jpg", place=True),
        Post("p14", "Wall came down near our block, water came through 🧱 #rainstorm", "en", "GTr0Uv1XkAAc8Mw.jpg",
             place=True, verdict=("flood", None, "flood damage, no depth visible")),
        Post("p15", "Heavy rain tonight, stay safe 大家注意安全 🙏", "zh", None, place=True),
        Post("p16", "柳荫路上的摩托车被淹了一半 motorbikes half under water on Willow Lane", "zh",
             "GTr1Dq9WAAAe6Ry.jpg", truth=(186.0, 331.0)),
        Post("p17", "Waist-deep water on Lotus Street near the market!! Stay away 🙏", "en",
             "GTr1Pf3XYAAk2Sn.jpg", truth=(418.0, 256.0),
             verdict=("flood", depth_at(418.0, 256.0), "waist-deep, placed by photo matching")),
        Post("p18", "桑园路 trees down, the clock at the corner stopped 🕐", "zh", "GTr2Gz5WwAAr7Lb.jpg",
             truth=(460.0, 150.0), verdict=("not_flood", None, "no water in the photo")),
        Post("p19", "Found these in the mud after the water went down 🪙", "en", "GTr2Xa0XQAAt4Vh.jpg",
             truth=(300.0, 300.0)),
        Post("p20", "The road outside is closed, police everywhere 🚓", "en", None),
        Post("p21", "Shop on the corner is pumping water out all night", "en", "GTr9Zz0XXAAmiss.jpg",
             gps=(500.0, 300.0)),
        Post("p22", "水退了一点 water going down a bit on 荷花街", "zh", None, gps=(352.0, 247.0)),
        # text-only posts: screened by their text alone (categories on the demo map)
        Post("p23", "救命！我们被困在二楼，水还在涨，老人走不了 #荷花街暴雨#", "zh", None, gps=(240.0, 262.0)),
        Post("p24", "Rescue team with boats at the Lotus St bakery, shelter open in the school gym #rainstorm", "en",
             None, gps=(170.0, 236.0)),
        Post("p25", "柳荫路的桥塌了，道路封闭，请绕行 ⚠️", "zh", None, gps=(190.0, 400.0)),
        Post("p26", "That 'dam burst' video going round is FAKE, it's an old clip. Please don't share", "en", None,
             gps=(380.0, 180.0)),
        Post("p27", "🙏🙏🌊 https://t.co/demo27", "en", None, gps=(430.0, 262.0)),
    ]


# -- writers --------------------------------------------------------------------------------------


def tweet_id(i: int) -> str:
    return str(1814600000000000000 + i * 7919)


def twitter_time(t: datetime) -> str:
    return t.strftime("%a %b %d %H:%M:%S +0000 %Y")


def place_box(geo: Geo) -> dict:
    corners = [geo.lonlat(u, v) for u, v in ((0, 0), (0, 600), (600, 600), (600, 0))]
    return {"id": "0d1e5c2a7f3b4c11", "place_type": "neighborhood", "name": "Lotus Garden", "full_name": PLACE_NAME,
            "country_code": "CN", "bounding_box": {"type": "Polygon", "coordinates": [[list(c) for c in corners]]}}


def media_entity(name: str, i: int) -> dict:
    return {"id_str": tweet_id(900 + i), "type": "photo", "media_url_https": MEDIA_HOST + name,
            "url": "https://t.co/demo" + str(i), "display_url": "pic.twitter.com/demo" + str(i)}


def tweet(post: Post, i: int, geo: Geo, by_key: dict[str, dict]) -> dict:
    t = START + timedelta(minutes=11 * i + (i * i) % 7)
    obj: dict = {
        "created_at": twitter_time(t), "id": int(tweet_id(i)), "id_str": tweet_id(i), "full_text": post.text,
        "truncated": False, "lang": post.lang,
        "user": {"id_str": str(4200 + i % 9), "screen_name": f"resident_{i % 9:02d}", "name": f"Resident {i % 9}"},
        "coordinates": None, "geo": None, "place": None, "entities": {"hashtags": [], "urls": []},
    }
    if post.gps is not None:
        lon, lat = geo.lonlat(*post.gps)
        obj["coordinates"] = {"type": "Point", "coordinates": [lon, lat]}
        obj["geo"] = {"type": "Point", "coordinates": [lat, lon]}
    if post.place or post.gps is not None:
        obj["place"] = place_box(geo)
    if post.photo:
        entity = media_entity(post.photo, i)
        obj["entities"]["media"] = [entity]
        obj["extended_entities"] = {"media": [entity]}
    if "retweet_of" in post.extra:
        original = by_key[post.extra["retweet_of"]]
        obj["retweeted_status"] = original
        obj["full_text"] = "RT @" + original["user"]["screen_name"] + ": " + original["full_text"]
        obj["entities"] = original["entities"]
        obj["extended_entities"] = original.get("extended_entities")
    return obj


def write_posts(out: Path, geo: Geo) -> list[tuple[Post, dict]]:
    lines: list[str] = []
    by_key: dict[str, dict] = {}
    written: list[tuple[Post, dict]] = []
    for i, post in enumerate(posts(), start=1):
        obj = tweet(post, i, geo, by_key)
        by_key[post.key] = obj
        written.append((post, obj))
        lines.append(json.dumps(obj, ensure_ascii=False))
    # Work for the import report: the same tweet harvested twice, a line cut off mid-record, a
    # latitude of 123 and a record without an id.
    lines.insert(9, lines[4])
    lines.insert(14, lines[14][: len(lines[14]) // 2])
    bad = json.loads(lines[6])
    bad["id"] = int(tweet_id(97))
    bad["id_str"] = tweet_id(97)
    bad["coordinates"]["coordinates"][1] = 123.0
    bad["geo"] = None
    lines.insert(18, json.dumps(bad, ensure_ascii=False))
    no_id = {"created_at": twitter_time(START), "full_text": "record without an id", "user": {"screen_name": "x"}}
    lines.append(json.dumps(no_id, ensure_ascii=False))
    (out / "posts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


def write_media(out: Path) -> dict[str, str]:
    """media/*.jpg; returns file name -> packaged photo for SOURCES.md."""
    from PIL import Image

    folder = out / "media"
    folder.mkdir(parents=True, exist_ok=True)
    origins: dict[str, str] = {}
    for name, how in MEDIA.items():
        base = how.split("@")[0]
        data = jpeg(load_photo(base))
        if how.endswith("@near-duplicate"):
            img = Image.open(io.BytesIO(data)).convert("RGB")
            img = img.resize((round(img.width * 0.62), round(img.height * 0.62)), Image.Resampling.BILINEAR)
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=58)
            data = buf.getvalue()
        (folder / name).write_bytes(data)
        origins[name] = how
    return origins


def write_references(out: Path, geo: Geo) -> None:
    folder = out / "references"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (name, how, (u, v), heading, role) in enumerate(REFERENCES):
        base, _, derive = how.partition("@")
        image = load_photo(base)
        if derive == "view":
            image = warped_view(image, seed=31 + i)
        (folder / name).write_bytes(jpeg(image, quality=85))
        lon, lat = geo.lonlat(u, v)
        rows.append({"id": Path(name).stem, "lon": lon, "lat": lat, "heading": heading,
                     "path": f"references/{name}", "role": role})
    with open(out / "references.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_roads(out: Path, geo: Geo) -> None:
    features = []
    for road in ROADS:
        coords = [list(geo.lonlat(u, v)) for u, v in road.points]
        for lang, name in zip(("zh", "en"), road.names, strict=True):
            features.append({"type": "Feature", "properties": {"name": name, "lang": lang, "road_id": road.road_id},
                             "geometry": {"type": "LineString", "coordinates": coords}})
    data = {"type": "FeatureCollection", "name": "roads",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": features}
    (out / "roads.geojson").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_truth_and_verifications(out: Path, written: list[tuple[Post, dict]], geo: Geo) -> None:
    with open(out / "truth.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["post_id", "lon", "lat", "note"])
        for post, obj in written:
            if post.truth is not None:
                lon, lat = geo.lonlat(*post.truth)
                writer.writerow([obj["id_str"], lon, lat, post.text[:40]])
    features = []
    for post, obj in written:
        if post.truth is not None:
            lon, lat = geo.lonlat(*post.truth)
            features.append({"type": "Feature", "properties": {"post_id": obj["id_str"]},
                             "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    truth = {"type": "FeatureCollection", "name": "truth", "features": features}
    (out / "truth.geojson").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    with open(out / "verifications.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["post_id", "verdict", "water_depth_m", "analyst", "note"])
        for post, obj in written:
            if post.verdict is not None:
                verdict, depth, note = post.verdict
                writer.writerow([obj["id_str"], verdict, "" if depth is None else f"{depth:.2f}", "demo-analyst",
                                 note])


def write_dem(out: Path) -> None:
    from osgeo import gdal, osr

    centres = (np.arange(SIZE) + 0.5) * CELL
    u, v = np.meshgrid(centres, centres[::-1])  # row 0 is the north edge
    z = elevation(u, v).astype(np.float32)
    z[:2, :6] = NODATA  # a corner without data, as real DEM tiles have
    driver = gdal.GetDriverByName("GTiff")
    path = out / "dem.tif"
    ds = driver.Create(str(path), SIZE, SIZE, 1, gdal.GDT_Float32,
                       options=["COMPRESS=DEFLATE", "PREDICTOR=3", "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"])
    ds.SetGeoTransform((X0, CELL, 0.0, Y0 + SIZE * CELL, 0.0, -CELL))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    ds.SetProjection(srs.ExportToWkt())
    band = ds.GetRasterBand(1)
    band.SetNoDataValue(NODATA)
    band.SetDescription("ground elevation (m)")
    band.WriteArray(z)
    ds.SetMetadata({"MIST_SAMPLE": "synthetic DEM written by scripts/make_sample.py"})
    ds = None


def write_sources(out: Path, origins: dict[str, str]) -> None:
    lines = ["# Sources and licences of the sample files", "",
             "Every photo is a real photo shipped inside an installed Python package; nothing was downloaded.",
             "Derived files (resized, re-encoded, perspective-warped crops) keep the licence of their source.", "",
             "| file | made from | package | source | licence |", "|---|---|---|---|---|"]

    def row(path: str, how: str) -> str:
        base, _, derive = how.partition("@")
        made = {"": "longest side at most 640 px, JPEG q85",
                "view": "perspective-warped crop, brightness change, JPEG q85",
                "near-duplicate": "resized to 62 %, re-encoded JPEG q58"}[derive]
        source, licence = PHOTO_SOURCES[base]
        return f"| `{path}` | {base} ({made}) | {package_of(base)} | {source} | {licence} |"

    for name, how in origins.items():
        lines.append(row(f"media/{name}", how))
    for name, how, *_ in REFERENCES:
        lines.append(row(f"references/{name}", how))
    lines += ["", "Files written by `scripts/make_sample.py` from numbers in the script (no third-party content):",
              "`posts.jsonl` (posts written for the demo), `roads.geojson`, `references.csv`, `truth.csv`, "
              "`truth.geojson`, "
              "`verifications.csv`, `dem.tif` (a synthetic terrain). They are part of MIST (GPL-2.0-or-later).", ""]
    (out / "SOURCES.md").write_text("\n".join(lines), encoding="utf-8")


def write_checksums(out: Path) -> None:
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name not in ("SHA256SUMS", "README.md"))
    text = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out).as_posix()}\n" for p in files)
    (out / "SHA256SUMS").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "resources" / "sample"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    geo = Geo()
    origins = write_media(out)
    written = write_posts(out, geo)
    write_references(out, geo)
    write_roads(out, geo)
    write_truth_and_verifications(out, written, geo)
    write_dem(out)
    write_sources(out, origins)
    write_checksums(out)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"sample written to {out}: {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
