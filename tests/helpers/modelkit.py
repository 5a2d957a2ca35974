"""Tiny real ONNX models and real-photo stores for the model tests.

`make_colour_model` builds an image classifier whose behaviour is known in closed form: its
embedding is the mean of each normalised colour channel and its logits are `gain * embedding`,
so the predicted label is the photo's dominant channel ("red", "green", "blue").
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np

from mist_qgis.core.models.card import ModelCard, embed_card

PHOTO_NAMES = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "motorcycle")


def colour_card(**overrides) -> ModelCard:
    card = ModelCard(
        id="colour", version="1", task="classify", licence="CC0-1.0", source="tests/modelkit.py",
        labels=("red", "green", "blue"), input_size=(32, 32), layout="NCHW", color_order="RGB",
        mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), outputs={"scores": "logits", "embedding": "embedding"},
        embedding_dim=3,
    )
    return replace(card, **overrides)


def make_colour_model(path: Path, card: ModelCard | None = None, gain: float = 4.0,
                      input_shape: list | None = None) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    card = card or colour_card()
    h, w = card.input_size
    n = len(card.labels)
    shape = input_shape or (["batch", 3, h, w] if card.layout == "NCHW" else ["batch", h, w, 3])
    nodes = []
    x = "image"
    if card.layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2]))
        x = "nchw"
    nodes += [
        helper.make_node("GlobalAveragePool", [x], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["embedding"], axis=1),
        helper.make_node("Gemm", ["embedding", "W", "B"], ["logits"], transB=1),
    ]
    weight = np.zeros((n, 3), dtype=np.float32)
    for i in range(min(n, 3)):
        weight[i, i] = gain
    graph = helper.make_graph(
        nodes, "colour",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", n]),
         helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(weight, "W"), numpy_helper.from_array(np.zeros(n, np.float32), "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    embed_card(model, card)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


@functools.cache
def _photo(name: str) -> np.ndarray:
    import skimage.data

    image = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
    image.setflags(write=False)
    return image


def photo(name: str) -> np.ndarray:
    """A scikit-image sample photo (decoded once per process; each call gets its own copy)."""
    return _photo(name).copy()


def crops(n: int, size: int = 96, seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """`n` random square crops of the sample photos, as (name, array) for `add_photo_posts`."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = photo(PHOTO_NAMES[i % len(PHOTO_NAMES)])
        y0 = rng.integers(0, img.shape[0] - size)
        x0 = rng.integers(0, img.shape[1] - size)
        out.append((f"crop{i}", np.ascontiguousarray(img[y0:y0 + size, x0:x0 + size])))
    return out


def save_photo(array: np.ndarray, path: Path, quality: int = 90) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, quality=quality) if path.suffix == ".jpg" else Image.fromarray(array).save(path)
    return path


def add_photo_posts(store, photos: list[tuple[str, bytes | np.ndarray | None]], platform: str = "test",
                    texts: list[str] | None = None) -> list[int]:
    """Add one post per photo and a media row with status 'ok' whose cache file is the photo.

    `photos` holds (name, content): an array is saved as JPEG, bytes are written as they are
    (corrupt or non-image files), None leaves the file missing. Returns the media fids.
    """
    from mist_qgis.core.posts.record import MediaRef, PostRecord

    records = [
        PostRecord(post_id=f"p{i}", platform=platform, lon=10.0 + i * 0.01, lat=50.0,
                   text=(texts[i] if texts else f"post {i}"), media=[MediaRef(url=f"https://example.org/{i}.jpg")])
        for i in range(len(photos))
    ]
    with store.batch() as conn:
        store.add_posts(conn, records)
    fids = []
    for i, (name, content) in enumerate(photos):
        rel = f"ab/{i:04d}_{name}.jpg"
        target = store.media_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, np.ndarray):
            save_photo(content, target)
        elif content is not None:
            target.write_bytes(content)
        post_fid = store.scalar("SELECT fid FROM posts WHERE platform = ? AND post_id = ?", (platform, f"p{i}"))
        with store.batch() as conn:
            conn.execute(
                "UPDATE media SET status = 'ok', cache_path = ?, sha256 = ? WHERE post_fid = ? AND position = 0",
                (rel, f"{i:064x}", post_fid),
            )
        fids.append(store.scalar("SELECT fid FROM media WHERE post_fid = ?", (post_fid,)))
    return fids


def verify_by_colour(store, model_tag: str, n: int = 16, analyst: str = "ann") -> None:
    """Verdicts on the first `n` embedded photos: flood when the colour model's embedding is
    bluer than it is red (the colour models' stand-in for water), else not flood."""
    from mist_qgis.core.store import models_sql as sql

    fids, emb = sql.load_embeddings(store, model_tag)
    rows = [(store.scalar("SELECT post_fid FROM media WHERE fid = ?", (int(f),)), int(f),
             "flood" if e[2] > e[0] else "not_flood", analyst) for f, e in zip(fids[:n], emb[:n], strict=True)]
    with store.batch() as conn:
        conn.executemany("INSERT INTO verifications (post_fid, media_fid, verdict, analyst, verified_at) "
                         "VALUES (?, ?, ?, ?, '2024-01-01T00:00:00Z')", rows)


def screening_store(folder: Path, extra: list[tuple[str, bytes | np.ndarray | None]] = ()) -> tuple[Path, Path]:
    """A store of 24 photo posts (four crops of each sample photo, plus `extra`) and the colour
    model beside it: (store path, model path), for screening through Processing."""
    from mist_qgis.core.models import runtime
    from mist_qgis.core.store import open_store

    runtime.clear_sessions()
    model = make_colour_model(folder / "models" / "colour.onnx")
    path = folder / "s.gpkg"
    with open_store(path) as store:
        photos = [(f"{n}{i}", photo(n)[i * 20:i * 20 + 200, i * 30:i * 30 + 200]) for i in range(4)
                  for n in PHOTO_NAMES]
        add_photo_posts(store, photos + list(extra))
    return path, model


def verdicts_by_blueness(store, media_fids, flip=(), day: int = 1) -> None:
    """Analyst verdicts: flood when the photo's colour embedding is bluer than the store's median
    (learnable from those embeddings), with the photos in `flip` called the other way (a careless
    or disputed verdict); dated `day` so later verdicts replace earlier ones."""
    from mist_qgis.core.store import models_sql as sql

    _, every = sql.load_embeddings(store, "colour@1")
    unit = every / np.linalg.norm(every, axis=1, keepdims=True)
    cut = float(np.median(unit[:, 2] - unit[:, 0]))
    fids, emb = sql.load_embeddings(store, "colour@1", media_fids)
    rows = []
    for fid, e in zip(fids, emb, strict=True):
        u = e / np.linalg.norm(e)
        flood = bool(u[2] - u[0] > cut) != (int(fid) in flip)
        post = store.scalar("SELECT post_fid FROM media WHERE fid = ?", (int(fid),))
        rows.append((post, int(fid), "flood" if flood else "not_flood", "ann", f"2024-01-{day:02d}T00:00:00Z"))
    with store.batch() as conn:
        conn.executemany("INSERT INTO verifications (post_fid, media_fid, verdict, analyst, verified_at) "
                         "VALUES (?, ?, ?, ?, ?)", rows)


def learning_store(store, folder: Path):
    """60 photo posts with cached colour embeddings and a first flood head trained on 40 verdicts
    (4 of them wrong), for the learning watch: (colour model path, media fids, training result)."""
    from mist_qgis.core.models import runtime
    from mist_qgis.core.models.classify import classify_store
    from mist_qgis.core.models.heads import train_head_from_store

    runtime.clear_sessions()
    colour = make_colour_model(folder / "colour.onnx")
    fids = add_photo_posts(store, crops(60))
    classify_store(store, colour)  # the backbone's embeddings, cached
    verdicts_by_blueness(store, fids[:40], flip=set(fids[:40:10]))
    first = train_head_from_store(store, folder / "start" / "flood-head.onnx", image_model="colour@1", version="1")
    assert first.usable, first.summary()
    return colour, fids, first
