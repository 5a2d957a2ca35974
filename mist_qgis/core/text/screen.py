"""Text screening of every post, photo or not, and text-head training from analysts' categories.

`screen_texts` walks the posts in fid order, page by page (one transaction per page, so a cancel
or a crash loses at most the page in flight). Per post:
- no text left after normalisation (empty, only a URL, mentions or emoji): "no text", no
  category, counted apart and never a negative;
- otherwise its feature vector is stored under the post, and its categories come from the text
  heads where a head exists for a category, from the keyword rules elsewhere ("keyword rule");
- the confidence shown is the head's probability (1.0 for a keyword hit) times the share of the
  post written in one script the features know: mixed-language or unknown-script posts show a
  lower confidence, never an error.
Texts are cut to `MAX_MODEL_CHARS` for the models; the store keeps them whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..store import text_sql as sql
from .categories import Category, keyword_labels, load_categories
from .features import DEFAULT_FEATURE_SET, dense, entry_tag, featurize, head_input, resolve_encoder
from .normalize import normalize

if TYPE_CHECKING:
    from ..stage import IsCancelled, Progress
    from ..store import Store
    from .heads import LoadedTextHeads

STAGE = "screen_text"
PAGE = 2000
KEYWORD_SOURCE = sql.SOURCE_LABELS["keyword"]


@dataclass
class TextScreenResult:
    run_id: int
    status: str
    feature_model: str
    counts: dict[str, int] = field(default_factory=dict)
    per_category: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _page_rows(ids, norms, heads: LoadedTextHeads | None, probs, categories: Sequence[Category]):
    """Per post: (keyword categories, head categories with scores, summary)."""
    keyword_rows, head_rows, summaries = [], [], []
    covered = set(heads.categories) if heads else set()
    for i, (fid, norm) in enumerate(zip(ids, norms, strict=True)):
        kw = [c for c in keyword_labels(norm, categories) if c not in covered]
        keyword_rows.append((fid, [(c, 1.0) for c in keyword_labels(norm, categories)]))
        scored: list[tuple[str, float]] = []
        if heads is not None:
            scored = [(cat, float(probs[i, k])) for k, (cat, thr) in enumerate(zip(heads.categories, heads.thresholds,
                                                                                    strict=True))
                      if probs[i, k] >= thr]
            head_rows.append((fid, scored))
        cats = [c for c, _ in scored] + kw
        base = max((s for _, s in scored), default=1.0)
        if heads is None or not scored:
            source = KEYWORD_SOURCE if kw else sql.SOURCE_LABELS["head"]
        else:
            source = sql.SOURCE_LABELS["head"] + (f" + {KEYWORD_SOURCE}" if kw else "")
        summaries.append((fid, ",".join(cats), source, round(base * norm.script_confidence, 4)))
    return keyword_rows, head_rows, summaries


def score_texts(
    texts: Sequence[str], heads: LoadedTextHeads | None, feature_set: str = DEFAULT_FEATURE_SET,
    encoder: str | Path | None = None,
):
    """Normalise texts, featurise those with text, run the heads on them.

    Returns (normalised texts, indices of the texts with text, their feature rows or None, head
    probabilities N_kept x categories or None)."""
    norms = [normalize(t) for t in texts]
    keep = [i for i, n in enumerate(norms) if n.has_text]
    if not keep:
        return norms, keep, None, None
    rows = featurize([norms[i] for i in keep], feature_set, encoder)
    probs = heads.probabilities(dense(rows)) if heads is not None else None
    return norms, keep, rows, probs


def screen_texts(
    store: Store, feature_set: str = DEFAULT_FEATURE_SET, heads_dir: str | Path | None = None,
    encoder: str | Path | None = None, is_cancelled: IsCancelled | None = None, progress: Progress | None = None,
    page: int = PAGE, allow_no_skill: bool = False,
) -> TextScreenResult:
    """Screen the text of every post of a store (resumable: a rerun recomputes and replaces).

    A text head marked "no skill" by its training is refused, as photo heads are, unless
    `allow_no_skill`; then the result carries the warning."""
    from ..stage import Status, run_stage
    from .heads import load_text_heads

    encoder, tag = _encoder(feature_set, encoder)
    heads = load_text_heads(heads_dir, tag, allow_no_skill) if heads_dir else None
    warnings = [f"screened with a head without skill: {r}" for r in heads.no_skill] if heads else []
    categories = load_categories(store)
    params: dict = {"features": tag, "heads": str(heads_dir) if heads_dir else None}
    if warnings:
        params["allow_no_skill"] = True
    counts = {"posts": 0, "no_text": 0, "screened": 0, "truncated": 0, "low_confidence": 0, "with_photo": 0,
              "text_only": 0}
    per_category: dict[str, int] = {}
    total = store.count("posts")
    with run_stage(store, STAGE, params, progress, is_cancelled) as run:
        run_id = run.run_id
        run.counts = counts
        for posts in sql.iter_post_texts(store, limit=page):
            if run.cancelled():
                run.status = Status.CANCELLED
                break
            norms, keep, rows, probs = score_texts([p.text for p in posts], heads, feature_set, encoder)
            ids = [posts[i].post_fid for i in keep]
            kept = [norms[i] for i in keep]
            kw_rows, head_rows, summaries = _page_rows(ids, kept, heads, probs, categories)
            no_text = [p.post_fid for p, n in zip(posts, norms, strict=True) if not n.has_text]
            with store.batch() as conn:
                if kept:
                    sql.write_features(conn, tag, rows.shape[1], _blobs(ids, rows))
                sql.replace_categories(conn, "keyword", run_id, None, kw_rows)
                if heads is not None:
                    sql.replace_categories(conn, "head", run_id, heads.feature_model, head_rows)
                # a post with no text loses stale labels of an earlier run and is shown as such
                sql.replace_categories(conn, "keyword", run_id, None, [(f, []) for f in no_text])
                sql.replace_categories(conn, "head", run_id, None, [(f, []) for f in no_text])
                sql.set_summaries(conn, summaries + [(f, None, sql.NO_TEXT, None) for f in no_text])
                truncated = [(posts[i].post_fid, "text", "text longer than the models read; "
                              "screened on its start, kept whole in the store") for i in keep if norms[i].truncated]
                if truncated:
                    store.record_issues(conn, run_id, STAGE, [(f"post {f}", None, r) for f, _, r in truncated])
            counts["posts"] += len(posts)
            counts["no_text"] += len(no_text)
            counts["screened"] += len(kept)
            counts["truncated"] += sum(1 for n in kept if n.truncated)
            counts["low_confidence"] += sum(1 for s in summaries if s[3] is not None and s[3] < 0.8)
            counts["with_photo"] += sum(1 for i in keep if posts[i].has_media)
            counts["text_only"] += sum(1 for i in keep if not posts[i].has_media)
            for _, cats, _, _ in summaries:
                for c in filter(None, (cats or "").split(",")):
                    per_category[c] = per_category.get(c, 0) + 1
            run.show(counts["posts"] / total if total else 1.0)
        run.counts = {**counts, **{f"category:{k}": v for k, v in per_category.items()}}
        if warnings:
            run.message = "; ".join(warnings)
    return TextScreenResult(run_id, str(run.status), tag, counts, per_category, warnings)


def _encoder(feature_set: str, encoder: str | Path | None) -> tuple[Path | None, str]:
    """The encoder file a run reads (looked up once per run) and the tag its features go under."""
    entry = resolve_encoder(feature_set, encoder)
    return (entry.path if entry is not None else None), entry_tag(entry)


def _blobs(ids: Sequence[int], rows):
    if hasattr(rows, "tocsr"):
        rows = rows.tocsr()
        for k, fid in enumerate(ids):
            a, b = rows.indptr[k], rows.indptr[k + 1]
            yield fid, "sparse", sql.sparse_blob(rows.indices[a:b], rows.data[a:b])
    else:
        for fid, vector in zip(ids, rows, strict=True):
            yield fid, "dense", sql.dense_blob(vector)


def compute_post_features(store: Store, feature_set: str = DEFAULT_FEATURE_SET,
                          encoder: str | Path | None = None) -> int:
    """Text features for posts with text that have none of this set yet (categories untouched);
    returns how many were written."""
    encoder, tag = _encoder(feature_set, encoder)
    done = 0
    for posts in sql.iter_post_texts(store):
        have = sql.feature_post_fids(store, tag, posts[0].post_fid, posts[-1].post_fid)
        todo = [p for p in posts if p.post_fid not in have]
        norms = [normalize(p.text) for p in todo]
        keep = [i for i, n in enumerate(norms) if n.has_text]
        if not keep:
            continue
        rows = featurize([norms[i] for i in keep], feature_set, encoder)
        with store.batch() as conn:
            sql.write_features(conn, tag, rows.shape[1], _blobs([todo[i].post_fid for i in keep], rows))
        done += len(keep)
    return done


# -- training and "most useful next" ---------------------------------------------------------------


@dataclass
class TextHeadsResult:
    run_id: int
    paths: list[Path]
    feature_model: str
    metrics: dict[str, dict]
    macro_f1: float
    skipped: dict[str, str]
    labelled_posts: int
    without_features: int
    without_skill: list[str] = field(default_factory=list)  # categories whose head showed no skill


def train_text_heads(
    store: Store, out_dir: str | Path, feature_set: str = DEFAULT_FEATURE_SET, encoder: str | Path | None = None,
    kind: str = "logreg", folds: int | None = None, seed: int = 0,
) -> TextHeadsResult:
    """Train one head per category from the analysts' post categories and export them.

    Posts need text features of the chosen set (screen the store's text with that set first)."""
    from ..stage import run_stage
    from .heads import category_metrics, export_category_heads, macro_f1, train_category_heads

    encoder, tag = _encoder(feature_set, encoder)
    with run_stage(store, "train_text_head", {"features": tag, "kind": kind}) as run:
        labels = sql.analyst_labels(store)
        fids, matrix = sql.load_features(store, tag, list(labels))
        categories = load_categories(store)
        from ..models.heads import HeadTrainingError

        if not len(fids):
            raise HeadTrainingError(f"no analyst-labelled post has {tag} text features ({len(labels)} labelled); "
                                    "screen the posts' text first")
        label_sets = [labels[int(f)] for f in fids]
        heads, skipped = train_category_heads(head_input(matrix, feature_set), label_sets,
                                              [c.name for c in categories], kind, folds, seed)
        paths = export_category_heads(heads, out_dir, tag, categories)
        no_skill = [cat for cat, h in heads.items() if not h.head.metrics.usable]
        run.counts = {"labelled_posts": len(labels), "examples": len(fids), "heads": len(heads),
                      "skipped_categories": len(skipped), "heads_without_skill": len(no_skill)}
    metrics = {k: m.as_dict() for k, m in category_metrics(heads).items()}
    macro = macro_f1(heads)
    return TextHeadsResult(run.run_id, paths, tag, metrics, macro, skipped, len(labels), len(labels) - len(fids),
                           no_skill)


@dataclass(frozen=True)
class TextSuggestion:
    post_fid: int
    reason: str  # "uncertain" or "random"
    category: str  # the category the head is least sure about
    score: float
    uncertainty: float


def next_posts_to_label(
    store: Store, heads_dir: str | Path, n: int = 20, random_share: float = 0.25, seed: int | None = None,
) -> list[TextSuggestion]:
    """Posts an analyst should categorise next: the ones some category head is least sure about,
    mixed with a random sample (the same rule as photos)."""
    import numpy as np

    from ..models.heads import pick_next, threshold_uncertainty
    from .heads import load_text_heads

    heads = load_text_heads(heads_dir, allow_no_skill=True)  # labelling more is how a head gains skill
    fids, matrix = sql.load_features(store, heads.feature_model)
    done = sql.analyst_labelled_posts(store)
    keep = np.array([int(f) not in done for f in fids], dtype=bool)
    fids = fids[keep]
    if not len(fids) or n <= 0:
        return []
    probs = heads.probabilities(dense(matrix[np.flatnonzero(keep)]))
    per_cat = np.stack([threshold_uncertainty(probs[:, k], t) for k, t in enumerate(heads.thresholds)], axis=1)
    worst = per_cat.argmax(axis=1)
    uncertainty = per_cat[np.arange(len(fids)), worst]
    out = []
    for reason, picks in pick_next(uncertainty, n, random_share, seed):
        for i in picks:
            k = int(worst[i])
            out.append(TextSuggestion(int(fids[i]), reason, heads.categories[k], float(probs[i, k]),
                                      float(uncertainty[i])))
    return out
