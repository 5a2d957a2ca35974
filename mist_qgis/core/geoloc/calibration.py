"""Geolocation confidence learned from analysts: verdicts on placements, reliability, the refit.

The shipped confidence (`scoring.CALIBRATION`) is a logistic on the match evidence fitted on
synthetic pairs that separate completely, so its probabilities are not frequencies. Analysts
judge real placements in the verify dock's match view (right place / wrong place); each verdict
keeps the evidence it judged (inliers, inlier ratio). From the current verdicts of one matcher
`refit_confidence` fits the same logistic again and measures, on the same verdicts:
- before: the expected calibration error (ECE) of the model in use (the store's last accepted
  refit, else the shipped constants);
- after: the ECE of the refit's out-of-fold probabilities (stratified k-fold, k = min(5, the
  smaller class)), so the refit is judged on verdicts it did not see.
ECE = sum over equal-width confidence bins of (bin share) * |accuracy - mean confidence|, with
10 bins on [0, 1]. The refit is stored with the next version number either way; it is accepted
(and then used by geolocation runs) only when its out-of-fold ECE is lower. Below
`MIN_VERDICTS` verdicts, or `MIN_PER_CLASS` of either kind, nothing is fitted: the run says how
many more are needed and the model in use stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import MistError
from ..stage import run_stage
from ..store import calibration_sql
from ..store import match_view_sql as store_match
from ..store.calibration_sql import active_constants
from ..store.store import utc_now
from .scoring import DEFAULT_CALIBRATION, constants_for, evidence_features

MIN_VERDICTS = 30
MIN_PER_CLASS = 5
RELIABILITY_BINS = 10
MAX_FOLDS = 5
PLACEMENT_VERDICTS = ("correct", "wrong")


class TooFewVerdicts(MistError):
    """Not enough verdicts to refit; the message says how many more of which kind."""


class PlacementVerdictError(MistError):
    """A placement verdict that cannot be recorded (no image-matching placement, no evidence)."""


@dataclass
class Reliability:
    """Reliability diagram data: per bin its bounds, count, mean confidence and accuracy (None
    for an empty bin), and the expected calibration error over all of them."""

    edges: list[float]
    counts: list[int]
    confidence: list[float | None]
    accuracy: list[float | None]
    ece: float


@dataclass
class Refit:
    """One refit: the constants, how it did against the model in use, and whether it is used."""

    matcher: str
    constants: tuple[float, float, float]
    previous: tuple[float, float, float]
    verdicts: int
    correct: int
    before: Reliability
    after: Reliability
    folds: int
    accepted: bool
    version: int = 0
    note: str = ""
    run_id: int | None = None

    @property
    def ece_before(self) -> float:
        return self.before.ece

    @property
    def ece_after(self) -> float:
        return self.after.ece


def reliability(confidence: np.ndarray, outcome: np.ndarray, n_bins: int = RELIABILITY_BINS) -> Reliability:
    """Equal-width bins on [0, 1] (the last one closed); ECE weights each bin by its share."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(outcome, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(conf, edges[1:-1], right=False), 0, n_bins - 1)
    counts, mean_conf, accuracy = [], [], []
    ece = 0.0
    for b in range(n_bins):
        sel = index == b
        n = int(sel.sum())
        counts.append(n)
        if n == 0:
            mean_conf.append(None)
            accuracy.append(None)
            continue
        c, a = float(conf[sel].mean()), float(hit[sel].mean())
        mean_conf.append(c)
        accuracy.append(a)
        ece += n / max(1, conf.size) * abs(a - c)
    return Reliability([float(e) for e in edges], counts, mean_conf, accuracy, float(ece))


def _design(evidence: list[tuple[int, float]]) -> np.ndarray:
    return np.array([evidence_features(i, r) for i, r in evidence], dtype=np.float64).reshape(-1, 2)


def _predict(constants: tuple[float, float, float], x: np.ndarray) -> np.ndarray:
    a, b, c = constants
    return 1.0 / (1.0 + np.exp(-(a + x @ np.array([b, c]))))


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0).fit(x, y)
    return float(model.intercept_[0]), float(model.coef_[0][0]), float(model.coef_[0][1])


def shortfall(n: int, n_correct: int) -> str:
    """'' when there are enough verdicts, else what is missing, in words."""
    n_wrong = n - n_correct
    needs = []
    if n < MIN_VERDICTS:
        needs.append(f"{MIN_VERDICTS - n} more verdicts")
    if n_correct < MIN_PER_CLASS:
        needs.append(f"{MIN_PER_CLASS - n_correct} more 'right place'")
    if n_wrong < MIN_PER_CLASS:
        needs.append(f"{MIN_PER_CLASS - n_wrong} more 'wrong place'")
    if not needs:
        return ""
    return (f"{n} placement verdicts ({n_correct} right place, {n_wrong} wrong place); a refit needs at least "
            f"{MIN_VERDICTS} with {MIN_PER_CLASS} of each kind: {', '.join(needs)}. The confidence model in use stays")


def refit(evidence: list[tuple[int, float]], correct: list[bool], matcher: str = DEFAULT_CALIBRATION,
          previous: tuple[float, float, float] | None = None, seed: int = 0) -> Refit:
    """Refit the logistic on verdicts (see the module docstring); raises `TooFewVerdicts`."""
    y = np.asarray(correct, dtype=bool)
    n, n_correct = int(y.size), int(y.sum())
    missing = shortfall(n, n_correct)
    if missing:
        raise TooFewVerdicts(missing)
    from sklearn.model_selection import StratifiedKFold

    x = _design(evidence)
    previous = tuple(previous or constants_for(matcher))
    folds = min(MAX_FOLDS, n_correct, n - n_correct)
    out_of_fold = np.zeros(n)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        out_of_fold[test] = _predict(_fit(x[train], y[train]), x[test])
    before = reliability(_predict(previous, x), y)
    after = reliability(out_of_fold, y)
    accepted = after.ece < before.ece
    note = (f"ECE {before.ece:.3f} -> {after.ece:.3f} (out of fold, {folds} folds); "
            + ("the refit is used from now on" if accepted else "no better than the model in use, which stays"))
    return Refit(matcher, _fit(x, y), previous, n, n_correct, before, after, folds, accepted, note=note)


@dataclass
class CalibrationState:
    """What the Quality tab shows for a matcher: the current verdicts, how the model in use does on
    them, what is still missing for a refit, and the latest stored refit (None: never refitted)."""

    matcher: str
    verdicts: int
    correct: int
    in_use: Reliability | None
    shortfall: str
    latest: dict | None


def calibration_state(store, matcher: str) -> CalibrationState:
    rows = calibration_sql.current_placement_verdicts(store, matcher)
    n_correct = sum(1 for r in rows if r[2])
    in_use = None
    if rows:
        constants = active_constants(store, matcher) or constants_for(matcher)
        in_use = reliability(_predict(tuple(constants), _design([(r[0], r[1]) for r in rows])),
                             np.array([r[2] for r in rows]))
    models = calibration_sql.confidence_models(store, matcher)
    return CalibrationState(matcher, len(rows), n_correct, in_use, shortfall(len(rows), n_correct),
                            models[0] if models else None)


def refit_confidence(store, matcher: str = DEFAULT_CALIBRATION, progress: Callable[[float], None] | None = None,
                     is_cancelled: Callable[[], bool] | None = None) -> Refit:
    """Refit a matcher's confidence from the store's current placement verdicts, as a run; the
    refit is stored with the next version (accepted or not). Too few verdicts: `TooFewVerdicts`
    (the run is recorded as failed with that message)."""
    with run_stage(store, "refit_confidence", {"matcher": matcher}, progress, is_cancelled) as run:
        rows = calibration_sql.current_placement_verdicts(store, matcher)
        run.counts = {"verdicts": len(rows), "correct": sum(1 for r in rows if r[2])}
        result = refit([(r[0], r[1]) for r in rows], [r[2] for r in rows], matcher, active_constants(store, matcher))
        with store.batch() as conn:
            result.version = calibration_sql.next_model_version(conn, matcher)
            calibration_sql.insert_confidence_model(
                conn, matcher, result.version, result.constants, result.verdicts, result.correct, result.ece_before,
                result.ece_after, {"before": asdict(result.before), "after": asdict(result.after),
                                   "folds": result.folds, "previous": list(result.previous)},
                result.accepted, result.note, run.run_id)
        result.run_id = run.run_id
        run.counts.update(version=result.version, accepted=int(result.accepted))
        run.message = f"version {result.version}: {result.note}"
    return result


def record_placement(store, post_fid: int, verdict: str, analyst: str) -> int:
    """An analyst's verdict on where image matching placed a post, with the evidence judged (the
    winning pair's inliers and inlier ratio). Returns the verdict's fid."""
    if verdict not in PLACEMENT_VERDICTS:
        raise PlacementVerdictError(f"unknown placement verdict {verdict!r}; expected one of {PLACEMENT_VERDICTS}")
    if not analyst.strip():
        raise PlacementVerdictError("a placement verdict needs the analyst's name")
    source = store_match.match_source(store, post_fid)
    if source is None:
        raise PlacementVerdictError(f"post {post_fid} was not placed by image matching")
    evidence = calibration_sql.match_evidence(store, source.match_fid) if source.match_fid is not None else None
    if evidence is None:
        raise PlacementVerdictError(
            f"post {post_fid}: the match of photo {source.media_fid} with reference {source.ref_uid} was not recorded")
    inliers, ratio, confidence = evidence
    with store.batch() as conn:
        return calibration_sql.insert_placement_verdict(
            conn, post_fid, source.media_fid, source.ref_uid, source.matcher, verdict, inliers, ratio,
            confidence if confidence is not None else source.confidence, analyst.strip(), utc_now())
