"""Shared builders for geolocation tests: posts with cached photos and a reference collection
of real photos at known coordinates (no dependency on the import or fetch stages' code)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
from pathlib import Path

import numpy as np
from PIL import Image

from mist_qgis.core.geoloc import references, synthetic
from mist_qgis.core.posts import MediaRef, PostRecord

ORIGIN = (113.6800, 34.7000)
SCENES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "brick")


def offset(east_m: float, north_m: float, origin=ORIGIN) -> tuple[float, float]:
    lat = origin[1] + north_m / 111_320.0
    lon = origin[0] + east_m / (111_320.0 * np.cos(np.radians(origin[1])))
    return float(lon), float(lat)


_ENCODED: dict[tuple, bytes] = {}


def encoded(image: Image.Image, fmt: str) -> bytes:
    """`image` saved as `fmt`, encoded once per process for each distinct picture (the same
    query photo is added by many tests, on each store backend)."""
    key = (image.mode, image.size, fmt, repr(sorted(image.info.items())),
           hashlib.blake2b(image.tobytes(), digest_size=16).digest())
    if key not in _ENCODED:
        out = io.BytesIO()
        image.save(out, format=fmt)
        _ENCODED[key] = out.getvalue()
    return _ENCODED[key]


def add_post_with_photos(store, post_id: str, lonlat, accuracy_m, images: list[Image.Image | np.ndarray],
                         fmt: str = "PNG") -> int:
    """A post whose photos are already in the media cache (status ok, cache_path set)."""
    rec = PostRecord(post_id, "test", lon=lonlat[0] if lonlat else None, lat=lonlat[1] if lonlat else None,
                     geo_source="gps" if lonlat else "none", geo_accuracy_m=accuracy_m, text="flood",
                     media=[MediaRef(url=f"https://example.org/{post_id}/{i}.jpg") for i in range(len(images))])
    with store.batch() as conn:
        store.add_posts(conn, [rec])
    fid = store.scalar("SELECT fid FROM posts WHERE post_id = ?", (post_id,))
    for position, image in enumerate(images):
        payload = encoded(image if isinstance(image, Image.Image) else Image.fromarray(image), fmt)
        digest = hashlib.sha256(payload).hexdigest()
        rel = f"{digest[:2]}/{digest}.{fmt.lower()}"
        (store.media_dir / digest[:2]).mkdir(parents=True, exist_ok=True)
        (store.media_dir / rel).write_bytes(payload)
        with store.batch() as conn:
            conn.execute("UPDATE media SET status = 'ok', cache_path = ?, sha256 = ? "
                         "WHERE post_fid = ? AND position = ?", (rel, digest, fid, position))
    return fid


@functools.cache
def scene_photo(name: str) -> np.ndarray:
    """`synthetic.photo(name)`, decoded once per process (read-only: views are made from it)."""
    image = synthetic.photo(name)
    image.setflags(write=False)
    return image


@functools.cache
def _reference_views(seed: int, size: tuple[int, int], per_scene: int) -> tuple:
    """The views of `reference_collection` and their PNG files, made once per process:
    ((ref_id, lon, lat, heading, view, png bytes), ...)."""
    rng = np.random.default_rng(seed)
    out = []
    i = 0
    for scene in SCENES:
        src = scene_photo(scene)
        h, w = src.shape[:2]
        for k in range(per_scene):
            center = (w * (0.3 + 0.4 * k), h * 0.5)
            view = synthetic.make_view(src, rng, size, frac=0.55, center=center, scene=scene)
            view.image.setflags(write=False)
            view.to_source.setflags(write=False)
            lon, lat = offset(40.0 * i, 10.0 * (i % 3))
            png = io.BytesIO()
            Image.fromarray(view.image).save(png, format="PNG")
            out.append((f"{scene}_{k}", lon, lat, (90 * i) % 360, view, png.getvalue()))
            i += 1
    return tuple(out)


def reference_collection(folder: Path, store, seed: int = 0, size=(320, 240), per_scene: int = 2,
                         import_csv: bool = True):
    """Views of real photos as references ~40 m apart east of ORIGIN; returns
    {ref_id: (lon, lat, view)} and imports them through the CSV reader."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,lon,lat,heading,path"]
    refs = {}
    for ref_id, lon, lat, heading, view, png in _reference_views(seed, tuple(size), per_scene):
        (folder / f"{ref_id}.png").write_bytes(png)
        lines.append(f"{ref_id},{lon},{lat},{heading},{ref_id}.png")
        refs[ref_id] = (lon, lat, dataclasses.replace(view, image=view.image.copy(), to_source=view.to_source.copy()))
    (folder / "refs.csv").write_text("\n".join(lines) + "\n")
    if import_csv:
        references.import_references(store, folder / "refs.csv", collection="street")
    return refs


def query_of(ref_view, seed: int, size=(400, 300)) -> np.ndarray:
    """Another photo of the same place as a reference view: other crop, perspective, light."""
    rng = np.random.default_rng(seed)
    src = scene_photo(ref_view.scene)
    return synthetic.make_view(src, rng, size, frac=0.5, jitter=0.1, center=ref_view.center,
                               scene=ref_view.scene).image


def add_embedded_post(store, post_id: str, lonlat, geo_source: str, vector: np.ndarray, model: str = "emb-a") -> int:
    """A post with one photo whose image embedding is already stored; returns the media fid."""
    from mist_qgis.core.store import models_sql as sql

    rec = PostRecord(post_id, "test", lon=lonlat[0] if lonlat else None, lat=lonlat[1] if lonlat else None,
                     geo_source=geo_source, geo_accuracy_m=10.0, text="flood",
                     media=[MediaRef(url=f"https://example.org/{post_id}.jpg")])
    with store.batch() as conn:
        store.add_posts(conn, [rec])
    media = store.scalar("SELECT m.fid FROM media m JOIN posts p ON p.fid = m.post_fid WHERE p.post_id = ?",
                         (post_id,))
    with store.batch() as conn:
        sql.write_embeddings(conn, model, [(media, vector)])
    return media
