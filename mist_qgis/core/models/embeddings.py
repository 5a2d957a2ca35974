"""Photo embeddings, computed once per photo and model and kept in the store's `embeddings`
table (and, for the same model, of every reference image in `reference_embeddings`, which
retrieval geolocation indexes beside the geotagged photos), and the feature matrices few-shot
heads train and run on.

A head reads image embeddings, post-text embeddings or both side by side. Each block is
L2-normalised before concatenation so neither side dominates by scale; training and inference
both go through `feature_matrix`, so they always see the same features.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..stage import IsCancelled, Progress, Status, run_stage
from ..store import models_sql
from .card import ModelCardError
from .pipeline import Batch, run_batches
from .runtime import load_model
from .vectors import l2_rows

if TYPE_CHECKING:
    import numpy as np

    from ..images.safe_decode import ImageLimits
    from ..store import Store

STAGE = "embed"


@dataclass
class EmbedResult:
    run_id: int
    model: str
    status: str
    embedded: int
    skipped: int
    provider: str
    references: int = 0  # reference images embedded


def embed_photos(
    store: Store, model_path: str | Path, batch_size: int = 32, workers: int | None = None,
    is_cancelled: IsCancelled | None = None, progress: Progress | None = None, limits: ImageLimits | None = None,
) -> EmbedResult:
    """Compute the embedding of every fetched photo that has none yet for this model (resumable)."""
    model = load_model(model_path)
    card = model.card
    if not card.has_embedding or card.input_kind != "image":
        raise ModelCardError(f"{model.path}: model {card.tag} has no image embedding output ('mist.outputs')")
    with run_stage(store, STAGE, {"model": card.tag, "path": str(model.path), "batch_size": batch_size}) as run:
        counts = run.counts = {"embedded": 0, "skipped": 0}

        def write(batch: Batch) -> None:
            with store.batch() as conn:
                if batch.items:
                    vectors = batch.outputs["embedding"]
                    fids = (i.media_fid for i in batch.items)
                    models_sql.write_embeddings(conn, card.tag, zip(fids, vectors, strict=True))
                _record_skips(store, conn, run.run_id, STAGE, batch)
            counts["embedded"] += len(batch.items)
            counts["skipped"] += len(batch.skipped)

        _, cancelled = run_batches(store, model, "embeddings", card.tag, write, batch_size, workers, is_cancelled,
                                   progress, limits)
        if not cancelled:
            counts["references"], counts["references_skipped"], cancelled = _embed_references(
                store, model, run.run_id, batch_size, is_cancelled, limits)
        run.status = Status.CANCELLED if cancelled else Status.DONE
    if counts["embedded"] or counts.get("references"):
        _refresh_retrieval_index(store, card.tag)
    return EmbedResult(run.run_id, card.tag, run.status.value, counts["embedded"], counts["skipped"], model.provider,
                       counts.get("references", 0))


def _embed_references(store: Store, model, run_id: int, batch_size: int, is_cancelled: IsCancelled | None,
                      limits: ImageLimits | None) -> tuple[int, int, bool]:
    """Embed every located reference image that has no vector of this model yet (resumable, one
    transaction per batch); an unusable image is a recorded skip. Returns (embedded, skipped,
    cancelled)."""
    import numpy as np

    from ..images.safe_decode import DecodeError
    from .preprocess import load_for_model, normalise

    card = model.card
    todo = models_sql.references_without_embedding(store, card.tag)
    embedded = skipped = 0
    for start in range(0, len(todo), batch_size):
        if is_cancelled is not None and is_cancelled():
            return embedded, skipped, True
        fids, pixels, issues = [], [], []
        for fid, path, uid in todo[start:start + batch_size]:
            try:
                pixels.append(load_for_model(path, card, limits, is_cancelled))
                fids.append(fid)
            except (DecodeError, OSError) as exc:
                issues.append((f"reference {uid}: {path}", None, str(exc) or type(exc).__name__))
        vectors = model.run(normalise(np.stack(pixels), card))["embedding"] if pixels else []
        with store.batch() as conn:
            models_sql.write_reference_embeddings(conn, card.tag, zip(fids, vectors, strict=True))
            if issues:
                store.record_issues(conn, run_id, STAGE, issues)
        embedded += len(fids)
        skipped += len(issues)
    return embedded, skipped, False


def _refresh_retrieval_index(store: Store, model_tag: str) -> None:
    """New embeddings of the indexed model join the store's retrieval index right away (a store
    without an index, or indexing another model, is left alone)."""
    from ..geoloc.retrieval import index_base, index_paths

    if not index_paths(index_base(store))[1].is_file():
        return
    from ..geoloc.retrieval import RetrievalIndex

    index = RetrievalIndex(index_base(store))
    if index.model == model_tag:
        index.sync(store, model_tag)


def _record_skips(store: Store, conn, run_id: int, stage: str, batch: Batch) -> None:
    if batch.skipped:
        store.record_issues(
            conn, run_id, stage, [(f"media {item.media_fid}: {item.cache_path}", None, reason)
                                  for item, reason in batch.skipped],
        )


def feature_matrix(
    store: Store, features: str, image_model: str | None, text_model: str | None,
    media_fids: list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(media fids, features) for photos that have every block the feature set needs.

    `features` is "image", "text" or "image+text"; the models are the tags the blocks were
    computed with.
    """
    import numpy as np

    blocks: list[tuple[np.ndarray, np.ndarray]] = []
    if features in ("image", "image+text"):
        if not image_model:
            raise ValueError("an image embedding model is needed for image features")
        blocks.append(models_sql.load_embeddings(store, image_model, media_fids))
    if features in ("text", "image+text"):
        if not text_model:
            raise ValueError("a text embedding model is needed for text features")
        block = models_sql.load_embeddings(store, text_model, media_fids)
        if not len(block[0]):  # text features computed once per post (text screening)
            from ..store.text_sql import media_text_features

            block = media_text_features(store, text_model, media_fids)
        blocks.append(block)
    if not blocks:
        raise ValueError(f"unknown feature set {features!r} (image, text or image+text)")
    common = blocks[0][0]
    for fids, _ in blocks[1:]:
        common = np.intersect1d(common, fids)
    parts = []
    for fids, matrix in blocks:
        if not len(common):
            break
        index = np.searchsorted(fids, common)
        parts.append(l2_rows(matrix[index]))
    if not len(common):
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    return common, np.hstack(parts).astype(np.float32)
