"""Stores for the verification tests: posts with real photos (scikit-image's sample photos) in the
content-addressed cache, 256 px thumbnails, screening predictions and geolocation matches, all
written the way the fetch, model and geolocation stages write them."""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from mist_qgis.core.posts.record import MediaRef, PostRecord
from mist_qgis.core.store import Store
from mist_qgis.core.store.photos_sql import set_post_photos

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle_left")
MODEL = "screen-v1"
T0 = datetime(2021, 7, 20, 8, 0, tzinfo=UTC)


@functools.cache
def _scene(name: str) -> np.ndarray:
    """A sample photo as RGB, decoded from scikit-image's files once per process (read-only)."""
    from skimage import data

    image = data.stereo_motorcycle()[0] if name == "motorcycle_left" else getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = np.ascontiguousarray(image[..., :3])
    image.setflags(write=False)
    return image


@functools.cache
def _sample(index: int, size: int | None) -> np.ndarray:
    image = _scene(PHOTOS[index % len(PHOTOS)])
    shift = (index // len(PHOTOS)) % 40
    image = image[shift:, shift:]
    if size:
        from PIL import Image

        pil = Image.fromarray(image)
        pil.thumbnail((size, size))
        image = np.asarray(pil)
    image = np.ascontiguousarray(image)
    image.setflags(write=False)
    return image


def sample_photo(index: int, size: int | None = None) -> np.ndarray:
    """A real photo, cropped differently per index so every index has distinct content (a copy
    of the one made per process, so a test may change it)."""
    return _sample(index, size).copy()


def jpeg_bytes(image: np.ndarray, quality: int = 85) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def thumbnail_bytes(image: np.ndarray) -> bytes:
    """The 256 px JPEG thumbnail the fetch stage writes beside a cached photo."""
    from PIL import Image

    pil = Image.fromarray(image)
    pil.thumbnail((256, 256))
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


@functools.cache
def _encoded_sample(index: int, size: int | None) -> tuple[bytes, bytes, int, int]:
    """`sample_photo(index, size)` encoded once per process: (JPEG, thumbnail JPEG, width, height)."""
    image = _sample(index, size)
    return jpeg_bytes(image), thumbnail_bytes(image), image.shape[1], image.shape[0]


def cache_photo(store: Store, payload: bytes, suffix: str = ".jpg") -> tuple[str, str]:
    """Write a photo into the cache as the fetch stage does; returns (cache_path, sha256)."""
    sha = hashlib.sha256(payload).hexdigest()
    rel = f"{sha[:2]}/{sha}{suffix}"
    path = store.media_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return rel, sha


def write_thumbnail(store: Store, sha: str, image: np.ndarray | bytes) -> Path:
    """The photo's thumbnail where the fetch stage keeps it (`image`: pixels, or its encoded
    thumbnail)."""
    thumbs = store.media_dir / "thumbs"
    thumbs.mkdir(parents=True, exist_ok=True)
    path = thumbs / f"{sha}.jpg"
    path.write_bytes(image if isinstance(image, bytes) else thumbnail_bytes(image))
    return path


@dataclass
class VerifyData:
    post_fids: list[int] = field(default_factory=list)
    media_fids: list[int] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)  # media fid -> score
    sha: dict[int, str] = field(default_factory=dict)


def build_store(
    store: Store, n: int = 12, scores: list[float] | None = None, photo_size: int = 320,
    texts: list[str] | None = None, unlocated: tuple[int, ...] = (), untimed: tuple[int, ...] = (),
) -> VerifyData:
    """`n` posts around Zhengzhou, one cached photo each (with thumbnail), a prediction per photo
    from MODEL (label flood) and a geolocation match for every third photo."""
    records = []
    for i in range(n):
        records.append(PostRecord(
            post_id=f"p{i:03d}", platform="weibo",
            lon=None if i in unlocated else 113.60 + 0.01 * i, lat=None if i in unlocated else 34.70 + 0.005 * i,
            text=(texts[i] if texts else f"post {i} water on the road"),
            timestamp=None if i in untimed else T0 + timedelta(minutes=7 * i),
            geo_source="none" if i in unlocated else "gps",
            url=f"https://weibo.example/p{i}", media=[MediaRef(url=f"https://img.example/{i}.jpg")],
        ))
    with store.batch() as conn:
        store.add_posts(conn, records)
    data = VerifyData()
    rows = store.query("SELECT p.fid AS post_fid, m.fid AS media_fid FROM posts p JOIN media m ON m.post_fid = p.fid "
                       "ORDER BY p.fid")
    with store.batch() as conn:
        for i, row in enumerate(rows):
            payload, thumbnail, width, height = _encoded_sample(i, photo_size)
            rel, sha = cache_photo(store, payload)
            write_thumbnail(store, sha, thumbnail)
            conn.execute(
                "UPDATE media SET status = 'ok', cache_path = ?, sha256 = ?, width = ?, height = ?, bytes = ?, "
                "content_type = 'image/jpeg', exif = ? WHERE fid = ?",
                (rel, sha, width, height, len(payload),
                 '{"Make": "TestCam", "DateTimeOriginal": "2021:07:20 08:00:00"}', row["media_fid"]),
            )
            score = scores[i] if scores is not None else round((i * 37 % 100) / 100, 2)
            if score is not None:
                conn.execute("INSERT INTO predictions (media_fid, model, label, score) VALUES (?, ?, 'flood', ?)",
                             (row["media_fid"], MODEL, score))
                data.scores[row["media_fid"]] = score
            if i % 3 == 0:
                conn.execute(
                    "INSERT INTO matches (media_fid, ref_id, matcher, n_matches, confidence) "
                    "VALUES (?, ?, 'lsgl', 40, ?)",
                    (row["media_fid"], f"ref{i}", 0.5 + i / (4 * n)),
                )
            data.post_fids.append(row["post_fid"])
            data.media_fids.append(row["media_fid"])
            data.sha[row["media_fid"]] = sha
        set_post_photos(conn)
    store.refresh_extents()
    return data
