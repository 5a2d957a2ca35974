"""Encoders for semantic localization maps: RGB crops -> embeddings, captions -> query vectors.

The map code only needs two small protocols, so any embedding model can drive it. ONNX-backed
encoders are loaded here directly with onnxruntime from local files; their preprocessing is read
from the `mist.*` metadata inside the file, so a model carries its own input contract:

- image encoders: `mist.task` in {"image_embedding", "clip_image"}, `mist.input_size` (224 or
  [224, 224]), `mist.mean` and `mist.std` (three floats on the 0-1 scale); input NCHW float32.
- text encoders: `mist.task` = "clip_text", `mist.tokenizer` (a tokenizer.json file name beside
  the model), `mist.context_length` (default 77); input `input_ids` int64 [N, L], optionally
  `attention_mask`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import MistError

CROP_SIZE = 256
IMAGE_TASKS = ("image_embedding", "clip_image")
TEXT_TASK = "clip_text"


class EncoderError(MistError, ValueError):
    """An encoder file is missing, malformed or does not fit the task; the message says why."""


@runtime_checkable
class ImageEncoder(Protocol):
    """Maps N x 256 x 256 x 3 RGB uint8 crops to N x D float32 embeddings."""

    id: str

    def __call__(self, crops: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class TextEncoder(Protocol):
    """Maps captions to N x D float32 embeddings in the image encoder's space."""

    id: str

    def encode_text(self, texts: Sequence[str]) -> np.ndarray: ...


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero rather than becoming NaN)."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norms > 0, norms, 1.0)


def resize_crop(image: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Any RGB crop to size x size with bicubic interpolation (SeLo's crop resize)."""
    import cv2

    if image.shape[0] == size and image.shape[1] == size:
        return np.ascontiguousarray(image)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC)


_HASHES: dict[tuple[str, int, int], str] = {}


def file_digest(path: Path) -> str:
    """sha256 of a model file, memoised per (path, size, mtime): the encoder's cache identity."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def _session(path: Path, providers: Sequence[str] | None):
    import onnxruntime as ort

    if not path.is_file():
        raise EncoderError(f"model file {path} does not exist")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    from ..models.runtime import CPU, preferred_providers, preload_cuda

    available = ort.get_available_providers()
    chosen = [p for p in (providers or preferred_providers()) if p in available] or [CPU]
    preload_cuda(chosen)
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=chosen)
    except Exception as exc:  # onnxruntime raises its own hierarchy; the user needs one message
        raise EncoderError(f"{path} is not a loadable ONNX model: {exc}") from exc


def _meta(session, path: Path) -> dict[str, object]:
    raw = session.get_modelmeta().custom_metadata_map
    meta: dict[str, object] = {}
    for key, value in raw.items():
        if key.startswith("mist."):
            try:
                meta[key] = json.loads(value)
            except ValueError:
                meta[key] = value
    if "mist.task" not in meta:
        raise EncoderError(f"{path} has no mist.task metadata; export it with MIST's model scripts")
    return meta


def _floats3(meta: dict[str, object], key: str, default: list[float], path: Path) -> np.ndarray:
    value = meta.get(key, default)
    try:
        arr = np.asarray(value, dtype=np.float32).reshape(3)
    except (TypeError, ValueError) as exc:
        raise EncoderError(f"{path}: {key} must be three numbers, got {value!r}") from exc
    if key == "mist.std" and (arr <= 0).any():
        raise EncoderError(f"{path}: mist.std must be positive")
    return arr


class OnnxImageEncoder:
    """An image (or CLIP image-side) embedding model in a local ONNX file."""

    def __init__(self, path: str | Path, providers: Sequence[str] | None = None, batch_size: int = 32) -> None:
        self.path = Path(path)
        self.session = _session(self.path, providers)
        meta = _meta(self.session, self.path)
        if meta["mist.task"] not in IMAGE_TASKS:
            raise EncoderError(f"{self.path} is a {meta['mist.task']!r} model, not an image encoder")
        size = meta.get("mist.input_size", CROP_SIZE)
        sizes = size if isinstance(size, list) else [size, size]
        try:
            self.input_hw = (int(sizes[0]), int(sizes[1]))
        except (TypeError, ValueError, IndexError) as exc:
            raise EncoderError(f"{self.path}: bad mist.input_size {size!r}") from exc
        if not (8 <= min(self.input_hw) and max(self.input_hw) <= 4096):
            raise EncoderError(f"{self.path}: mist.input_size {size!r} out of range")
        self.mean = _floats3(meta, "mist.mean", [0.485, 0.456, 0.406], self.path)
        self.std = _floats3(meta, "mist.std", [0.229, 0.224, 0.225], self.path)
        self.input_name = self.session.get_inputs()[0].name
        self.batch_size = max(1, int(batch_size))
        self.id = f"onnx-image:{file_digest(self.path)[:20]}"

    def _prepare(self, crops: np.ndarray) -> np.ndarray:
        import cv2

        h, w = self.input_hw
        if crops.shape[1:3] != (h, w):
            crops = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_CUBIC) for c in crops])
        x = crops.astype(np.float32) / 255.0
        x = (x - self.mean) / self.std
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        crops = np.asarray(crops)
        if crops.ndim != 4 or crops.shape[3] != 3 or crops.dtype != np.uint8:
            raise EncoderError(f"expected N x H x W x 3 uint8 crops, got {crops.shape} {crops.dtype}")
        out = []
        for i in range(0, len(crops), self.batch_size):
            (emb,) = self.session.run(None, {self.input_name: self._prepare(crops[i:i + self.batch_size])})[:1]
            out.append(np.asarray(emb, dtype=np.float32).reshape(len(emb), -1))
        if not out:
            return np.zeros((0, 0), np.float32)
        return np.concatenate(out)


class OnnxTextEncoder:
    """The text side of a CLIP-style model: a local ONNX file plus its tokenizer.json."""

    def __init__(self, path: str | Path, providers: Sequence[str] | None = None) -> None:
        from tokenizers import Tokenizer

        self.path = Path(path)
        self.session = _session(self.path, providers)
        meta = _meta(self.session, self.path)
        if meta["mist.task"] != TEXT_TASK:
            raise EncoderError(f"{self.path} is a {meta['mist.task']!r} model, not a CLIP text encoder")
        name = str(meta.get("mist.tokenizer", ""))
        if not name or Path(name).name != name:
            raise EncoderError(f"{self.path}: mist.tokenizer must name a file beside the model, got {name!r}")
        tok_path = self.path.with_name(name)
        if not tok_path.is_file():
            raise EncoderError(f"tokenizer {tok_path} for {self.path.name} does not exist")
        try:
            self.tokenizer = Tokenizer.from_file(str(tok_path))
        except Exception as exc:  # the tokenizers library raises plain Exceptions on bad files
            raise EncoderError(f"{tok_path} is not a tokenizer.json: {exc}") from exc
        self.context_length = int(meta.get("mist.context_length", 77))
        if not 1 <= self.context_length <= 4096:
            raise EncoderError(f"{self.path}: mist.context_length out of range")
        self.pad_id = int(meta.get("mist.pad_id", 0))
        self.inputs = [i.name for i in self.session.get_inputs()]
        if "input_ids" not in self.inputs:
            raise EncoderError(f"{self.path} has no input_ids input")
        self.id = f"onnx-text:{file_digest(self.path)[:20]}:{file_digest(tok_path)[:12]}"

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        n, length = len(texts), self.context_length
        ids = np.full((n, length), self.pad_id, dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.int64)
        for i, enc in enumerate(self.tokenizer.encode_batch([str(t) for t in texts])):
            tokens = enc.ids[:length]
            ids[i, :len(tokens)] = tokens
            mask[i, :len(tokens)] = 1
        feeds = {"input_ids": ids}
        if "attention_mask" in self.inputs:
            feeds["attention_mask"] = mask
        (emb,) = self.session.run(None, feeds)[:1]
        return np.asarray(emb, dtype=np.float32).reshape(n, -1)


def embed_photos(encoder: ImageEncoder, images: Sequence[np.ndarray]) -> np.ndarray:
    """Embeddings of whole photos (RGB uint8), each resized to 256 x 256 like a SeLo crop."""
    if not images:
        raise EncoderError("no photo to embed")
    crops = np.stack([resize_crop(np.asarray(img, dtype=np.uint8)[..., :3]) for img in images])
    return encoder(crops)


def exemplar_vector(embeddings: np.ndarray) -> np.ndarray:
    """One query from several exemplars: the normalised mean of their normalised embeddings."""
    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or len(emb) == 0:
        raise EncoderError("an exemplar query needs at least one embedding")
    return l2_normalize(l2_normalize(emb).mean(axis=0))


def embed_photo_files(encoder: ImageEncoder, paths: Sequence[str | Path]) -> np.ndarray:
    """Embeddings of exemplar photo files, decoded one at a time by the safe opener (its limits,
    its decode budget) and cut to a SeLo crop at once, so only one full-size photo is in memory."""
    from ..images.safe_decode import DecodeError, load_rgb

    crops = []
    for path in paths:
        try:
            crops.append(resize_crop(load_rgb(path)))
        except DecodeError as exc:
            raise EncoderError(f"cannot use photo {path}: {exc}") from exc
    return embed_photos(encoder, crops)
