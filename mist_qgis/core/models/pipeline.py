"""The photo pipeline every image model stage shares: page through a store's photos that still
lack a result, decode and resize them in worker threads while the model runs on the previous
batch, and hand each finished batch to a writer. For image+text models each photo travels with
its post's text, tokenized in the same worker.

Decoding (PIL/libjpeg, OpenCV) releases the GIL, so one or two decode threads hide it behind
inference: the next batches are already being decoded while ONNX Runtime works on this one.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..images.safe_decode import DecodeCancelled, DecodeError, ImageLimits
from ..stage import IsCancelled, Progress
from ..store import models_sql
from .preprocess import load_for_model, normalise
from .runtime import LoadedModel, cpu_cores
from .tokenizer import TokenizerError

if TYPE_CHECKING:
    from ..store import Store
    from .tokenizer import ModelTokenizer



@dataclass
class Batch:
    """One model batch: the photos that decoded, the model's outputs, and the photos skipped."""

    items: list[models_sql.MediaItem]
    outputs: dict[str, Any]
    skipped: list[tuple[models_sql.MediaItem, str]] = field(default_factory=list)


def decode_workers(requested: int | None = None) -> int:
    """Decode threads: one per spare core (the model keeps one), at least one."""
    if requested and requested > 0:
        return requested
    return max(1, cpu_cores() - 1)


def _pages(store: Store, table: str, model_tag: str, page: int) -> Iterator[models_sql.MediaItem]:
    after = 0
    while True:
        items = models_sql.photos_without(store, table, model_tag, after_fid=after, limit=page)
        if not items:
            return
        yield from items
        after = items[-1].media_fid


def _chunks(items: Iterator[models_sql.MediaItem], size: int) -> Iterator[list[models_sql.MediaItem]]:
    chunk: list[models_sql.MediaItem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _decode(store: Store, item: models_sql.MediaItem, model: LoadedModel, limits: ImageLimits | None,
            tokenizer: ModelTokenizer | None = None, text: str | None = None,
            is_cancelled: IsCancelled | None = None) -> Any:
    """A photo ready for the model; with a tokenizer, (photo, its text's token ids)."""
    try:
        path = store.media_file(item.cache_path)
    except Exception as exc:  # a cache path that escapes the media folder is hostile input
        raise DecodeError(str(exc)) from None
    pixels = load_for_model(path, model.card, limits, is_cancelled)
    if tokenizer is None:
        return pixels
    return pixels, tokenizer.encode(text)


def _feeds(model: LoadedModel, samples: list[Any], tokenizer: ModelTokenizer | None) -> dict[str, Any]:
    import numpy as np

    if tokenizer is None:
        return {model.input_name: normalise(np.stack(samples), model.card)}
    feeds = tokenizer.collate([ids for _, ids in samples])
    feeds[model.input_name] = normalise(np.stack([pixels for pixels, _ in samples]), model.card)
    return feeds


def run_batches(
    store: Store,
    model: LoadedModel,
    table: str,
    model_tag: str,
    on_batch: Callable[[Batch], None],
    batch_size: int = 32,
    workers: int | None = None,
    is_cancelled: IsCancelled | None = None,
    progress: Progress | None = None,
    limits: ImageLimits | None = None,
    prefetch: int = 2,
    tokenizer: ModelTokenizer | None = None,
) -> tuple[int, bool]:
    """Run `model` over every fetched photo without a `table` row for `model_tag`.

    `on_batch` writes each batch (one transaction). Returns (photos seen, cancelled). An
    image+text model needs its `tokenizer`; each photo is paired with its post's text.
    """
    if batch_size <= 0:
        raise ValueError("batch size must be positive")
    if (model.card.input_kind == "image+text") != (tokenizer is not None):
        raise ValueError(f"{model.card.tag}: a tokenizer goes with image+text models, and only with them")
    total = models_sql.count_photos_without(store, table, model_tag)
    done = 0
    if progress:
        progress(0.0)
    chunks = _chunks(_pages(store, table, model_tag, page=max(batch_size * 4, 256)), batch_size)
    with cf.ThreadPoolExecutor(max_workers=decode_workers(workers), thread_name_prefix="mist-decode") as pool:
        queue: deque[tuple[list[models_sql.MediaItem], list[cf.Future]]] = deque()

        def submit_next() -> bool:
            chunk = next(chunks, None)
            if chunk is None:
                return False
            texts = models_sql.post_texts(store, [it.post_fid for it in chunk]) if tokenizer else {}
            queue.append((chunk, [pool.submit(_decode, store, it, model, limits, tokenizer, texts.get(it.post_fid),
                                              is_cancelled)
                                  for it in chunk]))
            return True

        for _ in range(prefetch):
            if not submit_next():
                break
        while queue:
            if is_cancelled and is_cancelled():
                for _, futures in queue:
                    for f in futures:
                        f.cancel()
                return done, True
            chunk, futures = queue.popleft()
            submit_next()  # keep the decoders busy while this batch runs
            good: list[models_sql.MediaItem] = []
            samples: list[Any] = []
            skipped: list[tuple[models_sql.MediaItem, str]] = []
            for item, future in zip(chunk, futures, strict=True):
                try:
                    samples.append(future.result())
                    good.append(item)
                except (DecodeError, TokenizerError) as exc:
                    skipped.append((item, str(exc)))
                except DecodeCancelled:  # cancelled while waiting for the decode budget
                    for _, futures_left in queue:
                        for f in futures_left:
                            f.cancel()
                    return done, True
            outputs: dict[str, Any] = {}
            if good:
                outputs = model.run_feeds(_feeds(model, samples, tokenizer))
            on_batch(Batch(good, outputs, skipped))
            done += len(chunk)
            if progress:
                progress(100.0 * done / total if total else 100.0)
    return done, False
