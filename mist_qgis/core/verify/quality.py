"""How good the screening model is against what analysts verified.

Ground truth is each photo's current verdict: flood is positive, not flood negative; unsure photos
are left out. The precision-recall curve walks every distinct score as a threshold (a photo is
called flood when score >= threshold), the way scikit-learn's `precision_recall_curve` does, and
average precision is the step-wise area under it. Counts over time show the analysts' pace.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..store import Store, verify_sql


@dataclass(frozen=True)
class PRCurve:
    thresholds: np.ndarray   # ascending distinct scores
    precision: np.ndarray    # at each threshold
    recall: np.ndarray
    average_precision: float
    n_positive: int
    n_negative: int


@dataclass(frozen=True)
class Confusion:
    threshold: float
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)

    @property
    def accuracy(self) -> float | None:
        n = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / n if n else None


@dataclass(frozen=True)
class Evaluation:
    """Scores and verified truth of one model, ready for curves and matrices."""

    model: str
    label: str
    scores: np.ndarray
    truth: np.ndarray  # bool: verified flood

    def pr_curve(self) -> PRCurve | None:
        """None without both a verified flood and a verified non-flood photo."""
        return pr_curve(self.scores, self.truth)

    def confusion(self, threshold: float) -> Confusion:
        return confusion(self.scores, self.truth, threshold)


def evaluate(store: Store, model: str, label: str = "flood") -> Evaluation:
    rows = [r for r in verify_sql.scored_verdicts(store, model, label) if r["verdict"] in ("flood", "not_flood")]
    scores = np.array([r["score"] for r in rows], dtype=np.float64)
    truth = np.array([r["verdict"] == "flood" for r in rows], dtype=bool)
    return Evaluation(model, label, scores, truth)


def pr_curve(scores: np.ndarray, truth: np.ndarray) -> PRCurve | None:
    n_pos = int(truth.sum())
    n_neg = int(len(truth) - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(-scores, kind="mergesort")
    s, t = scores[order], truth[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # descending distinct scores
    tp = np.cumsum(t)[last_of_each]
    fp = (last_of_each + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / n_pos
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return PRCurve(s[last_of_each][::-1], precision[::-1], recall[::-1], ap, n_pos, n_neg)


def confusion(scores: np.ndarray, truth: np.ndarray, threshold: float) -> Confusion:
    called = scores >= threshold
    return Confusion(
        float(threshold),
        tp=int(np.sum(called & truth)), fp=int(np.sum(called & ~truth)),
        fn=int(np.sum(~called & truth)), tn=int(np.sum(~called & ~truth)),
    )


BUCKETS = {"day": 10, "hour": 13, "month": 7}


def counts_over_time(store: Store, bucket: str = "day") -> dict[str, dict[str, int]]:
    """{bucket start (ISO prefix): {verdict: n}} of verdicts given, oldest bucket first."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
    out: dict[str, dict[str, int]] = {}
    for row in verify_sql.verdict_counts(store, BUCKETS[bucket]):
        out.setdefault(row["bucket"], {})[row["verdict"]] = row["n"]
    return out
