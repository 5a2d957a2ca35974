"""Batch screening of a store's photos with an ONNX classifier or a few-shot head.

Every fetched photo without a prediction from this model (id@version) is classified; each batch
is one transaction holding its predictions (top-k labels with probabilities, the run id), the
embeddings the model also produced, its skipped photos with the reason, and the posts' `cls_*`
fields. A cancelled or crashed run loses at most the batch in flight, and running again resumes
where it stopped. Heads (models that read embeddings) run on the cached embeddings, computing
any that are missing first. Image+text models (the multimodal crisis classifier) read each photo
together with its post's text, tokenized by the tokenizer exported beside the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..stage import IsCancelled, Progress, Status, run_stage
from ..store import models_sql
from .card import SCORE_TASKS, ModelCard, ModelCardError
from .embeddings import _record_skips, embed_photos, feature_matrix
from .heads import NoSkillError, head_feature_models, no_skill_reason
from .pipeline import Batch, run_batches
from .runtime import LoadedModel, load_model
from .scores import NOT_FINITE, decide, finite_rows, probabilities, top_k
from .tokenizer import load_tokenizer

if TYPE_CHECKING:
    import sqlite3

    from ..images.safe_decode import ImageLimits
    from ..store import Store

STAGE = "classify"
ModelResolver = Callable[[str], Path]  # model tag or id -> ONNX file


@dataclass
class ClassifyResult:
    run_id: int
    model: str
    status: str
    classified: int
    skipped: int
    embeddings: int
    provider: str
    notice: str
    label_counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)


def classify_store(
    store: Store,
    model_path: str | Path,
    batch_size: int = 32,
    k: int = 5,
    workers: int | None = None,
    is_cancelled: IsCancelled | None = None,
    progress: Progress | None = None,
    limits: ImageLimits | None = None,
    resolve_model: ModelResolver | None = None,
    keep_embeddings: bool = True,
    allow_no_skill: bool = False,
) -> ClassifyResult:
    """Classify every fetched photo of the store that has no prediction from this model yet.

    The model is loaded and its card checked against its graph (and an image+text model's
    tokenizer against both) before the run starts. A head marked "no skill" by its training is
    refused unless `allow_no_skill`; then the result carries the warning.
    """
    model = load_model(model_path)
    card = model.card
    if not card.has_scores:
        raise ModelCardError(f"{model.path}: {card.tag} has no 'scores' output, so it cannot classify")
    warnings = []
    no_skill = no_skill_reason(card)
    if no_skill and not allow_no_skill:
        raise NoSkillError(f"{no_skill} (or allow screening with a head without skill explicitly)")
    if no_skill:
        warnings.append(f"screened with a head without skill: {no_skill}")
    tokenizer = load_tokenizer(model) if card.input_kind == "image+text" else None
    if card.input_kind == "embedding":
        _prepare_head_features(store, card, resolve_model, batch_size, workers, is_cancelled, limits)
    params: dict[str, Any] = {"model": card.tag, "path": str(model.path), "batch_size": batch_size, "k": k}
    if no_skill:
        params["allow_no_skill"] = True
    if tokenizer is not None:
        params.update(text="post text", tokenizer=str(tokenizer.info.source), max_length=tokenizer.info.max_length)
    label_counts: dict[str, int] = {}
    with run_stage(store, STAGE, params) as run:
        counts = run.counts = {"classified": 0, "skipped": 0, "embeddings": 0}

        def write(batch: Batch) -> None:
            batch = _without_non_finite(batch)
            with store.batch() as conn:
                if batch.items:
                    _write_batch(conn, card, run.run_id, batch, k, keep_embeddings, counts, label_counts)
                _record_skips(store, conn, run.run_id, STAGE, batch)
            counts["classified"] += len(batch.items)
            counts["skipped"] += len(batch.skipped)

        if card.input_kind == "embedding":
            cancelled = _run_head(store, model, write, batch_size, is_cancelled, progress)
        else:
            _, cancelled = run_batches(store, model, "predictions", card.tag, write, batch_size, workers,
                                       is_cancelled, progress, limits, tokenizer=tokenizer)
        run.status = Status.CANCELLED if cancelled else Status.DONE
        run.message = "; ".join(warnings)
    return ClassifyResult(run.run_id, card.tag, run.status.value, counts["classified"], counts["skipped"],
                          counts["embeddings"], model.provider, model.notice, label_counts, warnings)


def _without_non_finite(batch: Batch) -> Batch:
    """The batch without photos whose scores are not finite; those become skips with the reason."""
    scores = batch.outputs.get("scores")
    if scores is None or not batch.items:
        return batch
    ok = finite_rows(scores)
    if ok.all():
        return batch
    items = [i for i, good in zip(batch.items, ok, strict=True) if good]
    outputs = {name: value[ok] for name, value in batch.outputs.items()}
    skipped = batch.skipped + [(i, NOT_FINITE) for i, good in zip(batch.items, ok, strict=True) if not good]
    return Batch(items, outputs, skipped)


def _write_batch(
    conn: sqlite3.Connection, card: ModelCard, run_id: int, batch: Batch, k: int, keep_embeddings: bool,
    counts: dict[str, int], label_counts: dict[str, int],
) -> None:
    probs = probabilities(batch.outputs["scores"], card)
    rows = []
    post_rows = []
    for item, row, best in zip(batch.items, probs, top_k(probs, card.labels, k), strict=True):
        rows.extend((item.media_fid, card.tag, label, score, run_id) for label, score in best)
        label, score = decide(row, card.labels, card.thresholds)
        post_rows.append((item.post_fid, label, score, card.tag))
        label_counts[label] = label_counts.get(label, 0) + 1
    models_sql.write_predictions(conn, rows)
    models_sql.set_post_labels(conn, post_rows)
    if keep_embeddings and "embedding" in batch.outputs and card.input_kind == "image":
        counts["embeddings"] += models_sql.write_embeddings(
            conn, card.tag, zip((i.media_fid for i in batch.items), batch.outputs["embedding"], strict=True)
        )


def _prepare_head_features(
    store: Store, card: ModelCard, resolve_model: ModelResolver | None, batch_size: int,
    workers: int | None, is_cancelled: IsCancelled | None, limits: ImageLimits | None,
) -> None:
    """Compute the embeddings a head reads for photos that lack them (image and/or text)."""
    image_tag, text_tag = head_feature_models(card)
    missing = models_sql.count_photos_without(store, "embeddings", image_tag) if image_tag else 0
    if missing:
        backbone = None
        if resolve_model is not None:
            try:
                backbone = resolve_model(image_tag)
            except LookupError:
                backbone = None
        if backbone is not None:
            embed_photos(store, backbone, batch_size, workers, is_cancelled, None, limits)
        elif missing == models_sql.count_photos_without(store, "predictions", card.tag):
            raise ModelCardError(
                f"{card.path}: {missing} photos have no embedding from {image_tag}; add that model to the "
                "registry or compute embeddings first"
            )
        # else: only photos the backbone could not read lack embeddings; they are reported as skipped
    if text_tag and models_sql.post_texts_without_embedding(store, text_tag):
        from ..text.features import CHAR_NGRAM_TAG
        from .text import TEXT_MODEL_TAG, embed_post_texts

        if text_tag == CHAR_NGRAM_TAG:  # text features kept per post (text screening): fill the gaps
            from ..text.screen import compute_post_features

            compute_post_features(store, "char-ngram")
        elif text_tag != TEXT_MODEL_TAG:
            raise ModelCardError(f"{card.path}: text features from {text_tag} are not available in this MIST")
        else:
            embed_post_texts(store)


def _run_head(
    store: Store, model: LoadedModel, write: Callable[[Batch], None], batch_size: int,
    is_cancelled: IsCancelled | None, progress: Progress | None,
) -> bool:
    card = model.card
    image_tag, text_tag = head_feature_models(card)
    pending = [i for i in _all_pending(store, card.tag)]
    by_fid = {i.media_fid: i for i in pending}
    fids, features = feature_matrix(store, card.features or "image", image_tag, text_tag, list(by_fid))
    if len(fids) and features.shape[1] != card.embedding_dim:  # nothing pending: an empty matrix
        raise ModelCardError(
            f"{model.path}: {card.tag} reads {card.embedding_dim} features, but the store's "
            f"{card.features} features have {features.shape[1]}"
        )
    covered = set(int(f) for f in fids)
    missing = [i for i in pending if i.media_fid not in covered]
    total = len(pending)
    done = 0
    if progress:
        progress(0.0)
    if missing:  # photos whose embedding could not be computed (skipped when embedding)
        write(Batch([], {}, [(i, f"no {card.features} features for this photo") for i in missing]))
        done += len(missing)
    for start in range(0, len(fids), batch_size):
        if is_cancelled and is_cancelled():
            return True
        chunk = fids[start:start + batch_size]
        outputs = model.run(features[start:start + batch_size])
        write(Batch([by_fid[int(f)] for f in chunk], outputs))
        done += len(chunk)
        if progress:
            progress(100.0 * done / total if total else 100.0)
    return False


def _all_pending(store: Store, model_tag: str) -> list[models_sql.MediaItem]:
    items: list[models_sql.MediaItem] = []
    after = 0
    while True:
        page = models_sql.photos_without(store, "predictions", model_tag, after_fid=after, limit=5000)
        if not page:
            return items
        items.extend(page)
        after = page[-1].media_fid


def predict_images(model_path: str | Path, images: list[str | Path], k: int = 5,
                   limits: ImageLimits | None = None, text: str | None = None) -> list[dict[str, Any]]:
    """Top-k labels for image files (the CLI's quick check); unreadable files carry an error.

    An image+text model reads `text` with every image (no text: the empty text); an image model
    refuses a text rather than silently ignoring it.
    """
    import numpy as np

    from ..images.safe_decode import DecodeError
    from .preprocess import load_for_model, normalise

    model = load_model(model_path)
    card = model.card
    if card.input_kind not in ("image", "image+text") or not card.has_scores or card.task not in SCORE_TASKS:
        raise ModelCardError(f"{model.path}: {card.tag} is not an image classifier (task {card.task})")
    if text is not None and card.input_kind == "image":
        raise ModelCardError(f"{model.path}: {card.tag} is an image model and reads no text; leave the text out")
    tokenizer = load_tokenizer(model) if card.input_kind == "image+text" else None
    text_feeds = tokenizer.collate([tokenizer.encode(text or "")]) if tokenizer else {}
    results: list[dict[str, Any]] = []
    for path in images:
        try:
            pixels = load_for_model(path, card, limits)
        except DecodeError as exc:
            results.append({"image": str(path), "error": str(exc)})
            continue
        feeds = {model.input_name: normalise(np.stack([pixels]), card), **text_feeds}
        probs = probabilities(model.run_feeds(feeds)["scores"], card)
        if not finite_rows(probs)[0]:
            results.append({"image": str(path), "error": NOT_FINITE})
            continue
        label, score = decide(probs[0], card.labels, card.thresholds)
        results.append({
            "image": str(path), "label": label, "score": score,
            "top": [{"label": lab, "score": s} for lab, s in top_k(probs, card.labels, k)[0]],
        })
    return results
