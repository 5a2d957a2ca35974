"""The per-post geolocation driver: coarse place -> candidate references -> match -> move.

For each located post (geotag, place or text-derived coarse point) with cached photos:
1. candidates = references within the uncertainty radius (the post's `geo_accuracy_m`, or the
   `radius_m` option, default 500 m); after a road match from text, only those near the road's
   100 m sample points;
2. MIST mode ranks them by global-embedding similarity to the photo (the retrieval idea of
   Img2Loc) and matches only the top k; paper mode (LSGL) matches every candidate;
3. each pair gets both scores (paper S/E/rate and MIST's verified confidence), stored in
   `matches`; the query's segmentation mask (if weights are configured) drops matches first;
4. the post moves to the winning reference's own coordinates (not a sample point's):
   geo_source 'image_match', accuracy, match_ref, match_score; the location before the move is
   kept (orig_lon/orig_lat and the `geolocations` line old -> new).
MIST mode picks the highest confidence and moves only above `min_confidence`; paper mode picks
the highest rate. The confidence is the store's refit from analysts' verdicts when one was
accepted (`calibration.py`), else the shipped calibration. Reference features are extracted
once and cached in the store.

With a retrieval model (`retrieval_model`, an image embedding tag), candidates come from the
retrieval index (`retrieval.py`) instead: for an unlocated post, references near its nearest
geotagged neighbours (the post starts at the retrieval estimate); for a post placed from its text,
the neighbours inside the place's radius re-ranked by similarity, else the place itself. These
candidates are matched in retrieval order, not re-ranked by pooled local descriptors.

With a first pass (`first_pass`, e.g. "xfeat-lighterglue"), a fast matcher first matches the top
k candidates and only the `first_pass_keep` with the most verified inliers go to the chosen
matcher (paper mode, which matches every candidate, has none).

Resumable: a post with an outcome for this matcher and mode is not redone (failed outcomes,
e.g. missing weights, are retried). Bad input never stops the run: each post or reference that
cannot be used gets a reason in the run's issue report.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..errors import Cancelled
from ..geodesy import haversine_m
from ..options import FIRST_PASS
from ..stage import LocateStatus, Status, error_message, run_stage
from ..store import geoloc_sql
from ..store.calibration_sql import active_constants
from .features import FeatureBlobError, Features
from .masks import filter_matches, load_masker
from .matchers import DEFAULT_MATCHER, Matcher, MatcherUnavailable, create
from .photos import load_photo
from .records import DEFAULT_ACCURACY_M, PostToLocate, ReferenceRow
from .scoring import PairScore, PaperScore, best_heading, paper_rates, score_pair

DEFAULT_RADIUS_M = 500.0
MIN_RADIUS_M = 20.0
MAX_RADIUS_M = 50_000.0
SAMPLE_CORRIDOR_M = 100.0  # references this close to a road sample point are candidates
VIEW_DISTANCE_M = 20.0  # added to the reference's accuracy: the camera stands back from what it sees


@dataclass
class GeolocateOptions:
    matcher: str = DEFAULT_MATCHER
    paper_faithful: bool = False
    top_k: int = 10
    radius_m: float | None = None
    min_confidence: float = 0.5
    mask_model: str | None = None
    mask_optional_classes: bool = False
    loftr_weights: str | None = None
    models_dir: str | None = None  # a folder with the matcher's ONNX files (default: model_folders, models/build)
    model_folders: tuple[str, ...] = ()
    max_side: int = 640
    max_keypoints: int = 1024
    geometry: str = "fundamental"
    redo: bool = False
    retrieval_model: str | None = None  # an image embedding tag: retrieval supplies candidates (see below)
    retrieval_k: int = 10
    post_fids: tuple[int, ...] | None = None  # only these posts (default: every pending one)
    first_pass: str = FIRST_PASS.default  # a fast matcher ranking the top k first ("none": off)
    first_pass_keep: int = 3  # candidates the first pass hands to the matcher

    @property
    def mode(self) -> str:
        return "paper" if self.paper_faithful else "mist"

    def matcher_options(self) -> dict:
        if self.matcher == "loftr":
            return {"weights_path": self.loftr_weights, "models_dir": self.models_dir,
                    "model_folders": tuple(self.model_folders)}
        if self.matcher == "sift":
            return {"max_side": self.max_side, "max_keypoints": self.max_keypoints}
        return {"models_dir": self.models_dir, "model_folders": tuple(self.model_folders), "max_side": self.max_side,
                "max_keypoints": self.max_keypoints}


@dataclass
class GeolocateSummary:
    run_id: int
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    mask_note: str = ""
    message: str = ""
    provider: str = ""  # where the matcher ran: an onnxruntime execution provider, or "cpu" (SIFT)


class ReferenceCache:
    """Reference embeddings and features: from the store when cached and the file unchanged,
    else extracted once and saved. Recent features are also kept in memory (LRU)."""

    def __init__(self, store, matcher: Matcher, memory_items: int = 256) -> None:
        self.store = store
        self.matcher = matcher
        self.key = matcher.cache_key
        self._features: OrderedDict[int, Features] = OrderedDict()
        self._memory_items = memory_items
        self.extracted = 0

    @staticmethod
    def _stamp(path: str) -> tuple[int, float] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_size, st.st_mtime

    def _remember(self, fid: int, f: Features) -> None:
        self._features[fid] = f
        self._features.move_to_end(fid)
        while len(self._features) > self._memory_items:
            self._features.popitem(last=False)

    def _extract(self, ref: ReferenceRow) -> tuple[Features | None, str]:
        stamp = self._stamp(ref.image_path)
        if stamp is None:
            return None, f"reference image missing: {ref.image_path}"
        photo = load_photo(ref.image_path)
        if not photo.ok:
            return None, f"reference image unusable: {photo.reason}"
        f = self.matcher.extract(photo.image)
        with self.store.batch() as conn:
            geoloc_sql.save_features(conn, ref.fid, self.key, f.n, f.embedding, f.to_bytes(), stamp[0], stamp[1])
        self.extracted += 1
        self._remember(ref.fid, f)
        return f, ""

    def embeddings(self, refs: list[ReferenceRow]) -> tuple[dict[int, np.ndarray], dict[int, str]]:
        """fid -> embedding for usable references, and fid -> reason for the others."""
        cached = geoloc_sql.cached_embeddings(self.store, [r.fid for r in refs], self.key)
        out: dict[int, np.ndarray] = {}
        failed: dict[int, str] = {}
        for ref in refs:
            stamp = self._stamp(ref.image_path)
            if stamp is None:
                failed[ref.fid] = f"reference image missing: {ref.image_path}"
                continue
            hit = cached.get(ref.fid)
            if hit is not None and hit[1] == stamp[0] and hit[2] == stamp[1]:
                out[ref.fid] = hit[0]
                continue
            f, reason = self._extract(ref)
            if f is None:
                failed[ref.fid] = reason
            else:
                out[ref.fid] = f.embedding
        return out, failed

    def features(self, ref: ReferenceRow) -> tuple[Features | None, str]:
        f = self._features.get(ref.fid)
        if f is not None:
            self._features.move_to_end(ref.fid)
            return f, ""
        blob = geoloc_sql.cached_feature_blob(self.store, ref.fid, self.key)
        if blob is not None:
            try:
                f = Features.from_bytes(blob)
            except FeatureBlobError:
                f = None
            if f is not None:
                self._remember(ref.fid, f)
                return f, ""
        return self._extract(ref)


def rank_by_embedding(query: np.ndarray, embeddings: dict[int, np.ndarray], top_k: int) -> list[int]:
    """Reference fids by cosine similarity to the query embedding, best first, at most top_k."""
    if not embeddings:
        return []
    fids = list(embeddings)
    matrix = np.stack([embeddings[f] for f in fids])
    sims = matrix @ query.astype(np.float32)
    order = np.argsort(-sims, kind="stable")[: max(1, top_k)]
    return [fids[i] for i in order]


def assign_paper_rates(scores: list[PairScore], refs: dict[str, ReferenceRow]) -> None:
    """Paper steps 9-10: best heading per location by S, then the rate across locations; the
    rate is written on each location's best heading (others keep 0)."""
    groups: dict[str, list[PairScore]] = {}
    for s in scores:
        ref = refs[s.ref_uid]
        groups.setdefault(ref.location_id or ref.ref_uid, []).append(s)
    best: list[PairScore | None] = []
    for members in groups.values():
        i = best_heading([PaperScore(m.score_sum, m.error_indicator, m.n_matches) for m in members])
        best.append(members[i] if i is not None else None)
    rates = paper_rates([PaperScore(b.score_sum, b.error_indicator, b.n_matches) if b else None for b in best])
    for b, rate in zip(best, rates, strict=True):
        if b is not None:
            b.paper_rate = rate


def _candidates(store, post: PostToLocate, radius: float) -> list[ReferenceRow]:
    near = geoloc_sql.references_near(store, post.lon, post.lat, radius)
    samples = geoloc_sql.coarse_samples(store, post.fid)
    refs = [r for r, _ in near]
    if samples and refs:
        sx = np.array([s[0] for s in samples])
        sy = np.array([s[1] for s in samples])
        refs = [r for r in refs if float(np.min(haversine_m(r.lon, r.lat, sx, sy))) <= SAMPLE_CORRIDOR_M]
    return refs


class Geolocator:
    """One run over a store; `run()` returns the summary. Build it once per run: the matcher
    and the segmentation model are loaded once, not per photo."""

    def __init__(self, store, options: GeolocateOptions) -> None:
        self.store = store
        self.options = options
        self._is_cancelled: Callable[[], bool] | None = None
        self.pruned = 0  # candidates the first pass kept from the matcher
        self.matcher: Matcher | None = None
        self.matcher_error = ""
        try:
            self.matcher = create(options.matcher, **options.matcher_options())
        except MatcherUnavailable as exc:
            self.matcher_error = str(exc)
        self.masker, self.mask_note = load_masker(options.mask_model, options.mask_optional_classes)
        self.cache = ReferenceCache(store, self.matcher) if self.matcher else None
        self.first_pass: Matcher | None = None
        self.first_cache: ReferenceCache | None = None
        FIRST_PASS.check(options.first_pass)
        if options.first_pass != "none" and self.matcher is not None and not options.paper_faithful:
            if options.first_pass_keep < 1:
                raise ValueError("the first pass must keep at least one candidate")
            try:
                self.first_pass = create(options.first_pass,
                                         **replace(options, matcher=options.first_pass).matcher_options())
                self.first_cache = ReferenceCache(store, self.first_pass)
            except MatcherUnavailable as exc:
                self.matcher_error = f"first pass {options.first_pass} unavailable, every candidate matched: {exc}"
        # a confidence refitted from this store's placement verdicts replaces the shipped one
        self.constants = active_constants(store, self.matcher.name) if self.matcher else None
        self.retrieval = None
        if options.retrieval_model:
            from .retrieval import RetrievalIndex, image_model_tag, index_base

            self.retrieval = RetrievalIndex(index_base(store))
            self.retrieval.sync(store, image_model_tag(store, options.retrieval_model))

    def run(self, progress: Callable[[float], None] | None = None,
            is_cancelled: Callable[[], bool] | None = None) -> GeolocateSummary:
        o = self.options
        params = asdict(o)
        with run_stage(self.store, "geolocate", params, progress, is_cancelled) as run:
            run_id = run.run_id
            counts = run.counts = {"posts": 0, "moved": 0, "unmatched": 0, "skipped": 0, "failed": 0, "pairs": 0,
                                   "references_extracted": 0, "references_unusable": 0}
            run.message = self.mask_note or self.matcher_error
            posts = geoloc_sql.posts_to_locate(self.store, o.matcher, o.mode, o.redo, o.post_fids)
            if self.retrieval is not None:
                posts += geoloc_sql.posts_to_locate(self.store, o.matcher, o.mode, o.redo, o.post_fids, unlocated=True)
            counts["posts"] = len(posts)
            self._is_cancelled = is_cancelled
            for i, post in enumerate(posts):
                if run.cancelled():
                    run.status = Status.CANCELLED
                    break
                try:
                    self._locate(post, run_id, counts)
                except Cancelled:  # mid-post: the post is left for the next run
                    run.status = Status.CANCELLED
                    break
                except Exception as exc:  # one post's failure never ends the run
                    reason = error_message(exc)
                    with self.store.batch() as conn:
                        geoloc_sql.record_outcome(conn, post, o.matcher, o.mode, LocateStatus.FAILED, reason, run_id)
                        self.store.record_issues(conn, run_id, "geolocate",
                                                 [(f"post {post.post_id}", None, f"failed: {reason}")])
                    counts["failed"] += 1
                run.show((i + 1) / max(1, len(posts)))
            if self.cache:
                counts["references_extracted"] = self.cache.extracted
            if self.first_pass is not None:
                counts["first_pass_pruned"] = self.pruned
            counts["mask_applied"] = int(self.masker is not None)
            self.store.refresh_extents()
        provider = getattr(self.matcher, "provider", "cpu") if self.matcher else ""
        return GeolocateSummary(run_id, run.status.value, dict(counts), self.mask_note, self.matcher_error, provider)

    def _finish(self, post: PostToLocate, run_id: int, counts: dict, status: str, reason: str,
                issues: list[tuple[str | None, int | None, str]], scores: dict[int, list[PairScore]] | None = None,
                **outcome) -> None:
        with self.store.batch() as conn:
            for media_fid, media_scores in (scores or {}).items():
                matcher = self.matcher.name if self.matcher else self.options.matcher
                geoloc_sql.record_pair_scores(conn, media_fid, matcher, media_scores, run_id)
            geoloc_sql.record_outcome(conn, post, self.options.matcher, self.options.mode, status, reason or None,
                                      run_id, **outcome)
            if status != LocateStatus.MOVED and reason:
                issues = [*issues, (f"post {post.post_id}", None, reason)]
            if issues:
                self.store.record_issues(conn, run_id, "geolocate", issues)
        counts[status] += 1
        counts["pairs"] += sum(len(v) for v in (scores or {}).values())

    def _locate(self, post: PostToLocate, run_id: int, counts: dict) -> None:
        o = self.options
        if self.matcher is None:
            self._finish(post, run_id, counts, LocateStatus.FAILED,
                         f"matcher {o.matcher} unavailable: {self.matcher_error}", [])
            return
        ranked = False
        if self.retrieval is not None and (
                post.lon is None or geoloc_sql.coarse_place(self.store, post.fid) is not None):
            refs, why = self._retrieval_candidates(post)
            ranked = True
            if not refs:
                status = LocateStatus.UNMATCHED if post.lon is not None else LocateStatus.SKIPPED
                self._finish(post, run_id, counts, status, why, [])
                return
        else:
            radius = o.radius_m or post.accuracy_m or DEFAULT_RADIUS_M
            radius = float(min(MAX_RADIUS_M, max(MIN_RADIUS_M, radius)))
            refs = _candidates(self.store, post, radius)
            if not refs:
                self._finish(post, run_id, counts, LocateStatus.UNMATCHED, f"no reference within {radius:.0f} m", [])
                return
        by_uid = {r.ref_uid: r for r in refs}
        issues: list[tuple[str | None, int | None, str]] = []
        embeddings: dict[int, np.ndarray] = {}
        if self.matcher.caches_features or not o.paper_faithful:
            embeddings, failed = self.cache.embeddings(refs)
            for fid, reason in failed.items():
                uid = next(r.ref_uid for r in refs if r.fid == fid)
                issues.append((f"reference {uid}", None, reason))
            counts["references_unusable"] += len(failed)
            refs = [r for r in refs if r.fid in embeddings]
        if not refs:
            self._finish(post, run_id, counts, LocateStatus.FAILED, "no usable reference image near the post", issues)
            return
        scores: dict[int, list[PairScore]] = {}
        photo_reasons: list[str] = []
        for media_fid, cache_path in post.media:
            try:
                path = self.store.media_file(cache_path)
            except Exception as exc:
                photo_reasons.append(str(exc))
                continue
            photo = load_photo(path)
            if not photo.ok:
                photo_reasons.append(photo.reason)
                continue
            if photo.note:
                issues.append((f"post {post.post_id}", None, f"photo {media_fid}: {photo.note}"))
            scores[media_fid] = self._score_photo(photo.image, refs, embeddings, issues, ranked)
        if not scores:
            self._finish(post, run_id, counts, LocateStatus.SKIPPED, "; ".join(dict.fromkeys(photo_reasons)), issues)
            return
        for media_scores in scores.values():
            assign_paper_rates(media_scores, by_uid)
        flat = [(m, s) for m, ss in scores.items() for s in ss]
        if o.paper_faithful:
            media_fid, best = max(flat, key=lambda p: (p[1].paper_rate, p[1].score_sum))
            ok = best.paper_rate > 0
            why = "no candidate has a positive paper rate"
        else:
            media_fid, best = max(flat, key=lambda p: (p[1].confidence, p[1].inliers))
            ok = best.confidence >= o.min_confidence
            why = f"best confidence {best.confidence:.2f} (ref {best.ref_uid}) below {o.min_confidence:.2f}"
        ref = by_uid[best.ref_uid]
        detail = dict(media_fid=media_fid, confidence=best.confidence, paper_rate=best.paper_rate,
                      inliers=best.inliers)
        if not ok:
            self._finish(post, run_id, counts, LocateStatus.UNMATCHED, why, issues, scores, **detail)
            return
        accuracy = (ref.accuracy_m if ref.accuracy_m is not None else DEFAULT_ACCURACY_M) + VIEW_DISTANCE_M
        self._finish(post, run_id, counts, LocateStatus.MOVED, "", issues, scores, ref=ref, accuracy_m=accuracy,
                     **detail)

    def _retrieval_candidates(self, post: PostToLocate) -> tuple[list[ReferenceRow], str]:
        """References near the post's retrieval neighbours, combined with its text place
        (`retrieval.combine_with_text`), in retrieval order. An unlocated post first gets the
        retrieval estimate as its starting location."""
        from .retrieval import (
            RetrievalError,
            candidate_references,
            combine_with_text,
            estimate_location,
            neighbours_for_photo,
        )

        o = self.options
        near = []
        for media_fid, _ in post.media:
            try:
                near = neighbours_for_photo(self.store, self.retrieval, media_fid, o.retrieval_k)
            except RetrievalError:
                continue
            if near:
                break
        coarse = geoloc_sql.coarse_place(self.store, post.fid)
        if post.lon is None:
            if not near:
                return [], "no retrieval neighbours (no image embedding, or no geotagged photo indexed)"
            estimate = estimate_location(near)
            post.lon, post.lat, post.accuracy_m = estimate.lon, estimate.lat, estimate.radius_m
        areas = combine_with_text(near, coarse)
        refs = candidate_references(self.store, areas, max(o.top_k, 1) * 4)
        return refs, "no reference near the retrieval neighbours or the text's place"

    def _first_pass(self, image: np.ndarray, refs: list[ReferenceRow], issues: list) -> list[ReferenceRow]:
        """The candidates the fast matcher finds most likely (most geometrically verified inliers,
        then the highest inlier ratio), at most `first_pass_keep`; the chosen matcher verifies only
        these."""
        from .scoring import verify

        query = self.first_pass.extract(image)
        scores = []
        for i, ref in enumerate(refs):
            if self._is_cancelled is not None and self._is_cancelled():
                raise Cancelled
            f = _features_or_issue(self.first_cache, ref, issues)
            if f is None:
                continue
            geometry = verify(self.first_pass.match_features(query, f), self.options.geometry)
            scores.append((i, geometry.inliers, geometry.inlier_ratio))
        keep = _first_pass_order(scores)[: self.options.first_pass_keep]
        self.pruned += len(refs) - len(keep)
        return [refs[i] for i in keep]

    def _score_photo(self, image: np.ndarray, refs: list[ReferenceRow], embeddings: dict[int, np.ndarray],
                     issues: list, ranked: bool = False) -> list[PairScore]:
        o = self.options
        mask = self.masker.mask(image) if self.masker else None
        query = self.matcher.extract(image) if (self.matcher.caches_features or not o.paper_faithful) else None
        if o.paper_faithful:
            selected = refs
        elif ranked:  # already in retrieval order: the neighbours' similarity replaces pooled descriptors
            selected = refs[:o.top_k]
        else:
            order = rank_by_embedding(query.embedding, embeddings, o.top_k)
            by_fid = {r.fid: r for r in refs}
            selected = [by_fid[f] for f in order]
        if self.first_pass is not None and len(selected) > o.first_pass_keep:
            selected = self._first_pass(image, selected, issues)
        out: list[PairScore] = []
        for ref in selected:
            if self._is_cancelled is not None and self._is_cancelled():
                raise Cancelled  # within one pair's matching time, not after the post's whole list
            if self.matcher.caches_features:
                f = _features_or_issue(self.cache, ref, issues)
                if f is None:
                    continue
                match = self.matcher.match_features(query, f)
            else:
                photo = load_photo(ref.image_path)
                if not photo.ok:
                    issues.append((f"reference {ref.ref_uid}", None, photo.reason))
                    continue
                match = self.matcher.match(image, photo.image)
            dropped = 0
            if mask is not None:
                match, dropped = filter_matches(match, mask)
            out.append(score_pair(ref.ref_uid, match, o.geometry, dropped, self.constants))
        return out


def _features_or_issue(cache: ReferenceCache, ref: ReferenceRow, issues: list) -> Features | None:
    """A reference's features from a matcher's cache, or None with why recorded among the issues."""
    f, reason = cache.features(ref)
    if f is None:
        issues.append((f"reference {ref.ref_uid}", None, reason))
    return f


def _first_pass_order(scores: list[tuple[int, int, float]]) -> list[int]:
    """Positions of the candidates by first-pass inliers, then inlier ratio (ties: the earlier)."""
    return [i for i, _, _ in sorted(scores, key=lambda s: (-s[1], -s[2], s[0]))]


def geolocate(store, options: GeolocateOptions | None = None, progress: Callable[[float], None] | None = None,
              is_cancelled: Callable[[], bool] | None = None) -> GeolocateSummary:
    """Geolocate every pending post of a store (see the module docstring)."""
    return Geolocator(store, options or GeolocateOptions()).run(progress, is_cancelled)
